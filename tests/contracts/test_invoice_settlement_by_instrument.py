"""Invoices settled through an instrument: the lien-holding instrument records in the invoice registry what
was paid through it (`IInvoiceLiens.recordSettlement`), so the invoice reads `Paid`, never `Defaulted`.

- Payable certificates record the tree's amount when its last piece is paid, before releasing the lien.
- A letter of credit records the amount of each paid presentation carrying the invoice before releasing the
  presentation's lien. While the invoice is presented, the buyer's direct payments may take only what the
  presentation does not cover, and they go to the seller: the bank's lien only reserves the invoice (audit H2).
- Only the instrument holding the lien may record, and only an amount between one minor unit and what is
  outstanding. The registry's rules are exercised with `LienInstrumentDouble`, a conforming lien instrument
  (payment hook, `Instrument` participant) whose lien calls the test makes directly.
"""

from __future__ import annotations

from typing import Any

import ape
import pytest
from _reverts import reverts_with
from lc_world import AMOUNT, FULL_DOCUMENTS, MAX_ALLOWANCE, Credits, at_noon, next_monday
from receivables_helpers import ZERO_ADDRESS, confirmed_invoice, deploy_lien_double

from app.core.enums import Availability, InvoiceState
from scripts._common import INVOICE_GRACE_PERIOD, text_hash
from scripts._letters_of_credit import DAY
from scripts._payments import certificate_world

FACE = 1_200_000_00  # a commercial invoice of USD 1,200,000.00


@pytest.fixture(scope="module", autouse=True)
def _resolve_world_early(project, platform, registry, operator, regulator, outsider, supplier1, supplier2):
    """Resolve wider-scoped fixtures before Ape's per-test isolation snapshot."""


@pytest.fixture(scope="module")
def invoices(platform):
    return platform["InvoiceRegistry"]


@pytest.fixture(scope="module")
def desk(platform, usd, importer):
    """Payable certificates over the invoice registry; the core enterprise (importer) approves them."""
    world = certificate_world(platform)
    usd.approve(world.certificates.address, MAX_ALLOWANCE, sender=importer)
    return world


@pytest.fixture(scope="module")
def lc(platform, usd, importer, bank_us):
    credit = platform["LetterOfCredit"]
    usd.approve(credit.address, MAX_ALLOWANCE, sender=importer)
    usd.approve(credit.address, MAX_ALLOWANCE, sender=bank_us)
    return credit


@pytest.fixture(scope="module", autouse=True)
def lien_instrument(invoices, registry, operator):
    """A conforming lien instrument the operator registered (deployed before the per-test snapshots)."""
    return deploy_lien_double(operator, registry, invoices)


@pytest.fixture(scope="module", autouse=True)
def other_instrument(invoices, registry, operator):
    """A second registered lien instrument, holding no lien."""
    return deploy_lien_double(operator, registry, invoices)


@pytest.fixture(scope="module", autouse=True)
def _instruments_ready(desk, lc):
    """Deploy-time approvals happen once, before the per-test snapshots."""


def issue_certificate(certs, invoice_id: int, amount: int, maturity: int, buyer, seller) -> int:
    """The buyer offers a certificate on its invoice and the seller accepts it (taking the lien); its id."""
    certs.offer(invoice_id, amount, maturity, sender=buyer)
    [issued] = certs.CertificateIssued.from_receipt(certs.acceptOffer(invoice_id, sender=seller))
    return issued.certificateId


@pytest.fixture
def credits(chain, lc, importer, exporter, bank_us, bank_cn, usd) -> Credits:
    return Credits(chain, lc, importer, exporter, bank_us, bank_cn, usd, next_monday(chain))


def settlements(invoices: Any, receipt: Any) -> list[tuple[int, str, int, int]]:
    """(invoiceId, instrument, amount, paidAmount) of every `InvoiceSettledByInstrument` in `receipt`."""
    return [(e.invoiceId, e.instrument, e.amount, e.paidAmount)
            for e in invoices.InvoiceSettledByInstrument.from_receipt(receipt)]


def mine_past_default(chain: Any, invoices: Any, invoice_id: int) -> None:
    """Mine a block a day after the invoice's due date plus the registry's grace period."""
    chain.mine(timestamp=invoices.invoice(invoice_id).dueDate + invoices.gracePeriod() + DAY)


# ───────────────────────────── Payable certificates ─────────────────────────────


def test_invoice_reads_paid_after_its_certificate_tree_is_paid_and_never_defaults(
    chain, desk, invoices, usd, importer, exporter, supplier1
):
    maturity = chain.pending_timestamp + 60 * DAY
    invoice_id = desk.confirmed(exporter, importer, usd, FACE, maturity)
    certs = desk.certificates
    root = issue_certificate(certs, invoice_id, FACE, maturity, importer, exporter)
    receipt = certs.split(root, [400_000_00, 800_000_00], [supplier1.address, exporter.address], sender=exporter)
    children = [e.certificateId for e in certs.CertificateCreated.from_receipt(receipt)]
    chain.mine(timestamp=maturity)

    first = certs.settle([children[0]], sender=importer)
    assert settlements(invoices, first) == []  # nothing is recorded until the whole tree is paid
    assert invoices.invoice(invoice_id).paidAmount == 0
    last = certs.settle([children[1]], sender=importer)

    assert settlements(invoices, last) == [(invoice_id, certs.address, FACE, FACE)]
    invoice = invoices.invoice(invoice_id)
    assert (invoice.state, invoice.paidAmount, invoice.lienFinancier) == (InvoiceState.Paid, FACE, ZERO_ADDRESS)
    assert invoice.state != InvoiceState.Defaulted
    mine_past_default(chain, invoices, invoice_id)
    assert invoices.state(invoice_id) == InvoiceState.Paid


def test_certificate_covering_part_of_an_invoice_records_its_amount_and_the_rest_is_paid_in_the_registry(
    chain, desk, invoices, usd, importer, exporter
):
    maturity = chain.pending_timestamp + 60 * DAY
    invoice_id = desk.confirmed(exporter, importer, usd, FACE, maturity)
    certs = desk.certificates
    root = issue_certificate(certs, invoice_id, 1_000_000_00, maturity, importer, exporter)
    chain.mine(timestamp=maturity)

    receipt = certs.settle([root], sender=importer)

    assert settlements(invoices, receipt) == [(invoice_id, certs.address, 1_000_000_00, 1_000_000_00)]
    invoice = invoices.invoice(invoice_id)
    assert (invoice.state, invoice.paidAmount, invoice.lienInstrument) == (
        InvoiceState.Confirmed, 1_000_000_00, ZERO_ADDRESS)
    usd.approve(invoices.address, 200_000_00, sender=importer)
    before = usd.balanceOf(exporter.address)
    invoices.pay(invoice_id, 200_000_00, sender=importer)
    assert usd.balanceOf(exporter.address) - before == 200_000_00
    assert invoices.state(invoice_id) == InvoiceState.Paid


def test_while_a_certificate_tree_holds_the_lien_the_buyer_pays_directly_only_what_it_does_not_cover(
    chain, desk, invoices, usd, importer, exporter
):
    """The tree's amount is paid through `settle`; a direct payment in the registry may take only the rest,
    which goes to the seller, and is recorded as paid before the tree's own settlement."""
    maturity = chain.pending_timestamp + 60 * DAY
    invoice_id = desk.confirmed(exporter, importer, usd, FACE, maturity)
    certs = desk.certificates
    root = issue_certificate(certs, invoice_id, 1_000_000_00, maturity, importer, exporter)
    usd.approve(invoices.address, FACE, sender=importer)
    with reverts_with(certs.PayableCertificatesPayThroughCertificates, invoiceId=invoice_id, rootId=root,
                      payableDirectly=200_000_00):
        invoices.pay(invoice_id, 200_000_01, sender=importer)
    before = usd.balanceOf(exporter.address)
    receipt = invoices.pay(invoice_id, 200_000_00, sender=importer)
    assert invoices.InvoicePaid.from_receipt(receipt)[0].toFinancier == 0
    assert usd.balanceOf(exporter.address) - before == 200_000_00
    assert (invoices.state(invoice_id), invoices.invoice(invoice_id).paidAmount) == (InvoiceState.Financed, 200_000_00)

    chain.mine(timestamp=maturity)
    receipt = certs.settle([root], sender=importer)

    assert settlements(invoices, receipt) == [(invoice_id, certs.address, 1_000_000_00, FACE)]
    assert invoices.state(invoice_id) == InvoiceState.Paid


# ───────────────────────────── Letters of credit ─────────────────────────────


def present_with_invoice(credits: Credits, lc_id: int, invoice_id: int, *, day: int = 12, amount: int = AMOUNT,
                         shipment_day: int = 3) -> int:
    credits.at(at_noon(credits.base + day))
    receipt = credits.lc.presentWithInvoice(lc_id, FULL_DOCUMENTS, (credits.base + shipment_day) * DAY, amount,
                                            invoice_id, sender=credits.exporter)
    return receipt.events.filter(credits.lc.DocumentsPresented)[0].presentationId


def test_sight_payment_records_the_presentation_on_the_invoice_which_never_defaults(
    chain, credits, lc, invoices, usd, exporter, importer, bank_us
):
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, "CI-SIGHT-1", AMOUNT, due_in=30 * DAY)
    lc_id = credits.open()
    presentation_id = present_with_invoice(credits, lc_id, invoice_id)
    lc.examine(lc_id, presentation_id, 0, sender=bank_us)

    receipt = lc.honour(lc_id, presentation_id, sender=bank_us)

    assert settlements(invoices, receipt) == [(invoice_id, lc.address, AMOUNT, AMOUNT)]
    invoice = invoices.invoice(invoice_id)
    assert (invoice.state, invoice.paidAmount, invoice.lienFinancier) == (InvoiceState.Paid, AMOUNT, ZERO_ADDRESS)
    mine_past_default(chain, invoices, invoice_id)
    assert invoices.state(invoice_id) == InvoiceState.Paid


def test_partial_presentations_each_record_their_amount(chain, credits, lc, invoices, usd, exporter, importer,
                                                        bank_us):
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, "CI-PART-1", AMOUNT, due_in=120 * DAY)
    lc_id = credits.open()
    first = present_with_invoice(credits, lc_id, invoice_id, day=12, amount=AMOUNT // 2)
    lc.examine(lc_id, first, 0, sender=bank_us)
    lc.honour(lc_id, first, sender=bank_us)
    invoice = invoices.invoice(invoice_id)
    assert (invoice.state, invoice.paidAmount) == (InvoiceState.Confirmed, AMOUNT // 2)

    second = present_with_invoice(credits, lc_id, invoice_id, day=13, amount=AMOUNT - AMOUNT // 2, shipment_day=4)
    lc.examine(lc_id, second, 0, sender=bank_us)
    receipt = lc.honour(lc_id, second, sender=bank_us)

    assert settlements(invoices, receipt) == [(invoice_id, lc.address, AMOUNT - AMOUNT // 2, AMOUNT)]
    assert invoices.state(invoice_id) == InvoiceState.Paid


def test_deferred_payment_records_on_the_invoice_at_maturity_only(chain, credits, lc, invoices, usd, exporter,
                                                                  importer, bank_us, supplier1):
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, "CI-DEF-1", AMOUNT, due_in=120 * DAY)
    lc_id = credits.open(availability=int(Availability.DeferredPayment), deferredPaymentDays=45)
    presentation_id = present_with_invoice(credits, lc_id, invoice_id)
    lc.examine(lc_id, presentation_id, 0, sender=bank_us)
    accepted = lc.honour(lc_id, presentation_id, sender=bank_us)
    assert settlements(invoices, accepted) == []
    assert invoices.invoice(invoice_id).state == InvoiceState.Financed

    credits.at((credits.base + 3 + 45) * DAY)
    receipt = lc.payAtMaturity(lc_id, presentation_id, sender=supplier1)  # any active participant may pay it

    assert settlements(invoices, receipt) == [(invoice_id, lc.address, AMOUNT, AMOUNT)]
    assert invoices.state(invoice_id) == InvoiceState.Paid


def test_H2_while_an_invoice_is_presented_the_buyer_pays_the_seller_only_what_the_presentation_leaves(
    chain, credits, lc, invoices, usd, exporter, importer, bank_us
):
    """Audit H2: the bank's lien taken at presentation advanced nothing. The buyer's direct payment of the part
    not presented goes to the seller (never to the bank), the presented part is paid through the credit, and
    the credit records its whole amount."""
    face = AMOUNT + 30_000_00
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, "CI-CAP-1", face, due_in=120 * DAY)
    lc_id = credits.open()
    presentation_id = present_with_invoice(credits, lc_id, invoice_id)
    usd.approve(invoices.address, face, sender=importer)
    bank_before, seller_before = usd.balanceOf(bank_us.address), usd.balanceOf(exporter.address)
    with reverts_with(lc.LetterOfCreditInvoiceUnderPresentation, lcId=lc_id, presentationId=presentation_id,
                      invoiceId=invoice_id, payableDirectly=30_000_00):
        invoices.pay(invoice_id, 30_000_01, sender=importer)
    receipt = invoices.pay(invoice_id, 30_000_00, sender=importer)
    [paid] = invoices.InvoicePaid.from_receipt(receipt)
    assert (paid.toFinancier, paid.toSeller) == (0, 30_000_00)
    assert usd.balanceOf(bank_us.address) == bank_before
    assert usd.balanceOf(exporter.address) == seller_before + 30_000_00
    lc.examine(lc_id, presentation_id, 0, sender=bank_us)

    receipt = lc.honour(lc_id, presentation_id, sender=bank_us)

    assert settlements(invoices, receipt) == [(invoice_id, lc.address, AMOUNT, face)]
    assert invoices.state(invoice_id) == InvoiceState.Paid
    assert usd.balanceOf(exporter.address) == seller_before + face


def test_H2_the_buyer_cannot_pay_a_presented_invoice_around_the_credit(
    chain, credits, lc, invoices, usd, exporter, importer, bank_us
):
    """The buyer paying the whole presented invoice in the registry used to send it all to the bank, which
    could then refuse the documents and keep it; the payment is now refused, and the credit's payment is
    recorded in full."""
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, "CI-CAP-2", AMOUNT, due_in=120 * DAY)
    lc_id = credits.open()
    presentation_id = present_with_invoice(credits, lc_id, invoice_id)
    assert invoices.invoice(invoice_id).state == InvoiceState.Financed
    usd.approve(invoices.address, AMOUNT, sender=importer)
    for amount in (AMOUNT, 1):
        with reverts_with(lc.LetterOfCreditInvoiceUnderPresentation, presentationId=presentation_id,
                          invoiceId=invoice_id, payableDirectly=0):
            invoices.pay(invoice_id, amount, sender=importer)
    assert invoices.invoice(invoice_id).paidAmount == 0
    lc.examine(lc_id, presentation_id, 0, sender=bank_us)

    receipt = lc.honour(lc_id, presentation_id, sender=bank_us)

    assert settlements(invoices, receipt) == [(invoice_id, lc.address, AMOUNT, AMOUNT)]
    invoice = invoices.invoice(invoice_id)
    assert (invoice.state, invoice.paidAmount, invoice.lienFinancier) == (InvoiceState.Paid, AMOUNT, ZERO_ADDRESS)


# ───────────────────────────── The registry's rules ─────────────────────────────


@pytest.fixture
def liened(chain, invoices, usd, exporter, importer, bank_us, lien_instrument) -> int:
    """A confirmed invoice whose lien `lien_instrument` holds for bank_us, with the exporter's consent."""
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, "CI-LIEN-1", FACE)
    lien_instrument.takeLien(invoice_id, exporter.address, bank_us.address, sender=bank_us)
    return invoice_id


def test_lien_holder_records_settlements_until_the_invoice_is_paid(invoices, liened, lien_instrument, bank_us):
    receipt = lien_instrument.recordSettlement(liened, 500_000_00, sender=bank_us)
    assert settlements(invoices, receipt) == [(liened, lien_instrument.address, 500_000_00, 500_000_00)]
    assert (invoices.state(liened), invoices.invoice(liened).paidAmount) == (InvoiceState.Financed, 500_000_00)

    lien_instrument.recordSettlement(liened, FACE - 500_000_00, sender=bank_us)

    invoice = invoices.invoice(liened)
    assert (invoice.state, invoice.paidAmount, invoice.lienInstrument) == (
        InvoiceState.Paid, FACE, lien_instrument.address)
    lien_instrument.releaseLien(liened, sender=bank_us)
    assert invoices.state(liened) == InvoiceState.Paid


def test_an_invoice_settled_through_its_instrument_never_defaults(chain, invoices, liened, lien_instrument, bank_us):
    lien_instrument.recordSettlement(liened, FACE, sender=bank_us)
    chain.mine(timestamp=invoices.invoice(liened).dueDate + INVOICE_GRACE_PERIOD + DAY)
    assert invoices.state(liened) == InvoiceState.Paid


def test_record_settlement_fails_unless_the_caller_holds_the_lien(chain, invoices, usd, liened, exporter, importer,
                                                                  outsider, bank_us, lien_instrument,
                                                                  other_instrument):
    with ape.reverts(invoices.InvoiceRegistryNoLien, invoiceId=liened, caller=outsider.address):
        invoices.recordSettlement(liened, 1_00, sender=outsider)
    # A registered instrument that does not hold this invoice's lien may not record either.
    with reverts_with(invoices.InvoiceRegistryNoLien, invoiceId=liened, caller=other_instrument.address):
        other_instrument.recordSettlement(liened, 1_00, sender=bank_us)
    no_lien = confirmed_invoice(chain, invoices, exporter, importer, usd, "CI-NOLIEN", FACE)
    with reverts_with(invoices.InvoiceRegistryNoLien, invoiceId=no_lien, caller=lien_instrument.address):
        lien_instrument.recordSettlement(no_lien, 1_00, sender=bank_us)
    with reverts_with(invoices.InvoiceRegistryUnknownInvoice, invoiceId=12345):
        lien_instrument.recordSettlement(12345, 1_00, sender=bank_us)
    assert invoices.invoice(liened).paidAmount == 0
    assert invoices.invoice(no_lien).paidAmount == 0


def test_record_settlement_fails_if_amount_zero_or_above_what_is_outstanding(invoices, liened, lien_instrument,
                                                                             bank_us):
    with reverts_with(invoices.InvoiceRegistryInvalidSettlement, invoiceId=liened, amount=0, outstanding=FACE):
        lien_instrument.recordSettlement(liened, 0, sender=bank_us)
    with reverts_with(invoices.InvoiceRegistryInvalidSettlement, invoiceId=liened, amount=FACE + 1,
                      outstanding=FACE):
        lien_instrument.recordSettlement(liened, FACE + 1, sender=bank_us)
    lien_instrument.recordSettlement(liened, FACE, sender=bank_us)
    with reverts_with(invoices.InvoiceRegistryInvalidSettlement, invoiceId=liened, amount=1, outstanding=0):
        lien_instrument.recordSettlement(liened, 1, sender=bank_us)


def test_record_settlement_counts_what_the_buyer_already_paid(invoices, usd, importer, liened, lien_instrument,
                                                              bank_us):
    """What the buyer paid in the registry is no longer outstanding: the instrument may record only the rest."""
    usd.approve(invoices.address, 200_000_00, sender=importer)
    invoices.pay(liened, 200_000_00, sender=importer)  # the lien only reserves: nothing is owed to bank_us
    with reverts_with(invoices.InvoiceRegistryInvalidSettlement, amount=FACE, outstanding=FACE - 200_000_00):
        lien_instrument.recordSettlement(liened, FACE, sender=bank_us)
    receipt = lien_instrument.recordSettlement(liened, FACE - 200_000_00, sender=bank_us)
    assert settlements(invoices, receipt) == [(liened, lien_instrument.address, FACE - 200_000_00, FACE)]
    assert invoices.state(liened) == InvoiceState.Paid


def test_record_settlement_fails_while_the_invoice_is_frozen(invoices, registry, regulator, liened,
                                                             lien_instrument, bank_us):
    registry.freezeInstrument(invoices.address, liened, text_hash("AML"), sender=regulator)
    with reverts_with(invoices.InvoiceRegistryFrozen, invoiceId=liened):
        lien_instrument.recordSettlement(liened, 1_00, sender=bank_us)
    registry.unfreezeInstrument(invoices.address, liened, text_hash("cleared"), sender=regulator)
    lien_instrument.recordSettlement(liened, 1_00, sender=bank_us)
    assert invoices.invoice(liened).paidAmount == 1_00


def test_deregistered_instrument_still_records_on_the_liens_it_holds(invoices, operator, liened, lien_instrument,
                                                                     bank_us):
    invoices.setInstrument(lien_instrument.address, False, sender=operator)
    assert not invoices.isInstrument(lien_instrument.address)
    lien_instrument.recordSettlement(liened, FACE, sender=bank_us)
    assert invoices.state(liened) == InvoiceState.Paid
