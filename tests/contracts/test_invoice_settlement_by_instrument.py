"""Invoices settled through an instrument: the lien-holding instrument records in the invoice registry what
was paid through it (`IInvoiceLiens.recordSettlement`), so the invoice reads `Paid`, never `Defaulted`.

- Payable certificates record the tree's amount when its last piece is paid, before releasing the lien.
- A letter of credit records the amount of each paid presentation carrying the invoice, capped at what is
  still outstanding, before releasing the presentation's lien.
- Only the instrument holding the lien may record, and only an amount between one minor unit and what is
  outstanding.
"""

from __future__ import annotations

from typing import Any

import ape
import pytest

from lc_world import AMOUNT, FULL_DOCUMENTS, MAX_ALLOWANCE, Credits, at_noon, next_monday
from receivables_helpers import CONFIRMED, DEFAULTED, FINANCED, PAID, confirmed_invoice
from scripts._common import text_hash
from scripts._letters_of_credit import DAY, Availability
from scripts._payments import certificate_world

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
FACE = 1_200_000_00  # a commercial invoice of USD 1,200,000.00
INVOICE_GRACE = 7 * DAY  # the invoice registry's grace period in the test world


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
def _instruments_ready(desk, lc):
    """Deploy-time approvals happen once, before the per-test snapshots."""


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
    [issued] = certs.CertificateIssued.from_receipt(certs.issue(invoice_id, FACE, maturity, sender=importer))
    receipt = certs.split(issued.certificateId, [400_000_00, 800_000_00], [supplier1.address, exporter.address],
                          sender=exporter)
    children = [e.certificateId for e in certs.CertificateCreated.from_receipt(receipt)]
    chain.mine(timestamp=maturity)

    first = certs.settle([children[0]], sender=importer)
    assert settlements(invoices, first) == []  # nothing is recorded until the whole tree is paid
    assert invoices.invoice(invoice_id).paidAmount == 0
    last = certs.settle([children[1]], sender=importer)

    assert settlements(invoices, last) == [(invoice_id, certs.address, FACE, FACE)]
    invoice = invoices.invoice(invoice_id)
    assert (invoice.state, invoice.paidAmount, invoice.lienFinancier) == (PAID, FACE, ZERO_ADDRESS)
    assert invoice.state != DEFAULTED
    mine_past_default(chain, invoices, invoice_id)
    assert invoices.state(invoice_id) == PAID


def test_certificate_covering_part_of_an_invoice_records_its_amount_and_the_rest_is_paid_in_the_registry(
    chain, desk, invoices, usd, importer, exporter
):
    maturity = chain.pending_timestamp + 60 * DAY
    invoice_id = desk.confirmed(exporter, importer, usd, FACE, maturity)
    certs = desk.certificates
    [issued] = certs.CertificateIssued.from_receipt(certs.issue(invoice_id, 1_000_000_00, maturity, sender=importer))
    chain.mine(timestamp=maturity)

    receipt = certs.settle([issued.certificateId], sender=importer)

    assert settlements(invoices, receipt) == [(invoice_id, certs.address, 1_000_000_00, 1_000_000_00)]
    invoice = invoices.invoice(invoice_id)
    assert (invoice.state, invoice.paidAmount, invoice.lienInstrument) == (CONFIRMED, 1_000_000_00, ZERO_ADDRESS)
    usd.approve(invoices.address, 200_000_00, sender=importer)
    before = usd.balanceOf(exporter.address)
    invoices.pay(invoice_id, 200_000_00, sender=importer)
    assert usd.balanceOf(exporter.address) - before == 200_000_00
    assert invoices.state(invoice_id) == PAID


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
    assert (invoice.state, invoice.paidAmount, invoice.lienFinancier) == (PAID, AMOUNT, ZERO_ADDRESS)
    mine_past_default(chain, invoices, invoice_id)
    assert invoices.state(invoice_id) == PAID


def test_partial_presentations_each_record_their_amount(chain, credits, lc, invoices, usd, exporter, importer,
                                                        bank_us):
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, "CI-PART-1", AMOUNT, due_in=120 * DAY)
    lc_id = credits.open()
    first = present_with_invoice(credits, lc_id, invoice_id, day=12, amount=AMOUNT // 2)
    lc.examine(lc_id, first, 0, sender=bank_us)
    lc.honour(lc_id, first, sender=bank_us)
    invoice = invoices.invoice(invoice_id)
    assert (invoice.state, invoice.paidAmount) == (CONFIRMED, AMOUNT // 2)

    second = present_with_invoice(credits, lc_id, invoice_id, day=13, amount=AMOUNT - AMOUNT // 2, shipment_day=4)
    lc.examine(lc_id, second, 0, sender=bank_us)
    receipt = lc.honour(lc_id, second, sender=bank_us)

    assert settlements(invoices, receipt) == [(invoice_id, lc.address, AMOUNT - AMOUNT // 2, AMOUNT)]
    assert invoices.state(invoice_id) == PAID


def test_deferred_payment_records_on_the_invoice_at_maturity_only(chain, credits, lc, invoices, usd, exporter,
                                                                  importer, bank_us, outsider):
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, "CI-DEF-1", AMOUNT, due_in=120 * DAY)
    lc_id = credits.open(availability=int(Availability.DEFERRED_PAYMENT), deferredPaymentDays=45)
    presentation_id = present_with_invoice(credits, lc_id, invoice_id)
    lc.examine(lc_id, presentation_id, 0, sender=bank_us)
    accepted = lc.honour(lc_id, presentation_id, sender=bank_us)
    assert settlements(invoices, accepted) == []
    assert invoices.invoice(invoice_id).state == FINANCED

    credits.at((credits.base + 3 + 45) * DAY)
    receipt = lc.payAtMaturity(lc_id, presentation_id, sender=outsider)

    assert settlements(invoices, receipt) == [(invoice_id, lc.address, AMOUNT, AMOUNT)]
    assert invoices.state(invoice_id) == PAID


def test_credit_payment_is_recorded_only_up_to_what_the_buyer_left_outstanding(
    chain, credits, lc, invoices, usd, exporter, importer, bank_us
):
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, "CI-CAP-1", AMOUNT, due_in=120 * DAY)
    lc_id = credits.open()
    presentation_id = present_with_invoice(credits, lc_id, invoice_id)
    # The buyer pays part of the invoice in the registry meanwhile: the lien's financier (the bank) gets it.
    usd.approve(invoices.address, 30_000_00, sender=importer)
    invoices.pay(invoice_id, 30_000_00, sender=importer)
    lc.examine(lc_id, presentation_id, 0, sender=bank_us)

    receipt = lc.honour(lc_id, presentation_id, sender=bank_us)

    assert settlements(invoices, receipt) == [(invoice_id, lc.address, AMOUNT - 30_000_00, AMOUNT)]
    assert invoices.state(invoice_id) == PAID


def test_credit_payment_records_nothing_on_an_invoice_the_buyer_already_paid(
    chain, credits, lc, invoices, usd, exporter, importer, bank_us
):
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, "CI-CAP-2", AMOUNT, due_in=120 * DAY)
    lc_id = credits.open()
    presentation_id = present_with_invoice(credits, lc_id, invoice_id)
    usd.approve(invoices.address, AMOUNT, sender=importer)
    invoices.pay(invoice_id, AMOUNT, sender=importer)
    lc.examine(lc_id, presentation_id, 0, sender=bank_us)

    receipt = lc.honour(lc_id, presentation_id, sender=bank_us)

    assert settlements(invoices, receipt) == []
    invoice = invoices.invoice(invoice_id)
    assert (invoice.state, invoice.paidAmount, invoice.lienFinancier) == (PAID, AMOUNT, ZERO_ADDRESS)


# ───────────────────────────── The registry's rules ─────────────────────────────


@pytest.fixture
def liened(chain, invoices, usd, operator, exporter, importer, bank_us, supplier2) -> int:
    """A confirmed invoice whose lien `supplier2` holds for bank_us, as an instrument the operator registered
    (an account stands in for an instrument contract, so the test can call the registry directly)."""
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, "CI-LIEN-1", FACE)
    invoices.setInstrument(supplier2.address, True, sender=operator)
    invoices.takeLien(invoice_id, bank_us.address, sender=supplier2)
    return invoice_id


def test_lien_holder_records_settlements_until_the_invoice_is_paid(invoices, liened, supplier2):
    receipt = invoices.recordSettlement(liened, 500_000_00, sender=supplier2)
    assert settlements(invoices, receipt) == [(liened, supplier2.address, 500_000_00, 500_000_00)]
    assert (invoices.state(liened), invoices.invoice(liened).paidAmount) == (FINANCED, 500_000_00)

    invoices.recordSettlement(liened, FACE - 500_000_00, sender=supplier2)

    invoice = invoices.invoice(liened)
    assert (invoice.state, invoice.paidAmount, invoice.lienInstrument) == (PAID, FACE, supplier2.address)
    invoices.releaseLien(liened, sender=supplier2)
    assert invoices.state(liened) == PAID


def test_record_settlement_fails_unless_the_caller_holds_the_lien(chain, invoices, usd, liened, exporter, importer,
                                                                  outsider, supplier2):
    with ape.reverts(invoices.InvoiceRegistryNoLien, invoiceId=liened, caller=outsider.address):
        invoices.recordSettlement(liened, 1_00, sender=outsider)
    # A registered instrument that does not hold this invoice's lien may not record either.
    no_lien = confirmed_invoice(chain, invoices, exporter, importer, usd, "CI-NOLIEN", FACE)
    with ape.reverts(invoices.InvoiceRegistryNoLien, invoiceId=no_lien, caller=supplier2.address):
        invoices.recordSettlement(no_lien, 1_00, sender=supplier2)
    with ape.reverts(invoices.InvoiceRegistryUnknownInvoice, invoiceId=12345):
        invoices.recordSettlement(12345, 1_00, sender=supplier2)
    assert invoices.invoice(liened).paidAmount == 0


def test_record_settlement_fails_if_amount_zero_or_above_what_is_outstanding(invoices, liened, supplier2):
    with ape.reverts(invoices.InvoiceRegistryInvalidSettlement, invoiceId=liened, amount=0, outstanding=FACE):
        invoices.recordSettlement(liened, 0, sender=supplier2)
    with ape.reverts(invoices.InvoiceRegistryInvalidSettlement, invoiceId=liened, amount=FACE + 1,
                     outstanding=FACE):
        invoices.recordSettlement(liened, FACE + 1, sender=supplier2)
    invoices.recordSettlement(liened, FACE, sender=supplier2)
    with ape.reverts(invoices.InvoiceRegistryInvalidSettlement, invoiceId=liened, amount=1, outstanding=0):
        invoices.recordSettlement(liened, 1, sender=supplier2)


def test_record_settlement_fails_while_the_invoice_is_frozen(invoices, registry, regulator, liened, supplier2):
    registry.freezeInstrument(invoices.address, liened, text_hash("AML"), sender=regulator)
    with ape.reverts(invoices.InvoiceRegistryFrozen, invoiceId=liened):
        invoices.recordSettlement(liened, 1_00, sender=supplier2)
    registry.unfreezeInstrument(invoices.address, liened, text_hash("cleared"), sender=regulator)
    invoices.recordSettlement(liened, 1_00, sender=supplier2)
    assert invoices.invoice(liened).paidAmount == 1_00


def test_deregistered_instrument_still_records_on_the_liens_it_holds(invoices, operator, liened, supplier2):
    invoices.setInstrument(supplier2.address, False, sender=operator)
    invoices.recordSettlement(liened, FACE, sender=supplier2)
    assert invoices.state(liened) == PAID
