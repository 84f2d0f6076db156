"""Presentations that carry a registered invoice: the lien is taken for the issuing bank, with the
beneficiary's consent, while the presentation is open; it is released on refusal or payment, and a second
financing of the same invoice is impossible.

Audit M6: a commercial invoice is presented only with its registered invoice, so an invoice financed
elsewhere cannot be drawn against. Audit H2: the lien only reserves the invoice; the buyer's direct payments
route nothing to the issuing bank and may not eat into the presented amount.
"""

from __future__ import annotations

import ape
import pytest
from _reverts import reverts_with
from lc_world import (
    AMOUNT,
    FULL_DOCUMENTS,
    LATEST_SHIPMENT,
    MAX_ALLOWANCE,
    SHIPPING_DOCUMENTS,
    Credits,
    at_noon,
    next_monday,
)
from receivables_helpers import confirmed_invoice

from app.core.enums import Availability, InvoiceState, PresentationState
from scripts._common import text_hash
from scripts._letters_of_credit import DAY

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


@pytest.fixture(scope="module", autouse=True)
def _resolve_world_early(project, platform, registry, operator, regulator, outsider, supplier1, eur, bank_cn):
    """Resolve wider-scoped fixtures before Ape's per-test isolation snapshot."""


@pytest.fixture(scope="module")
def lc(platform):
    return platform["LetterOfCredit"]


@pytest.fixture(scope="module")
def invoices(platform):
    return platform["InvoiceRegistry"]


@pytest.fixture(scope="module")
def approvals(lc, invoices, usd, importer, bank_us):
    """The applicant approves the credit contract (margin) and the invoice registry (direct payments), the
    issuing bank the credit contract (honour)."""
    usd.approve(lc.address, MAX_ALLOWANCE, sender=importer)
    usd.approve(invoices.address, MAX_ALLOWANCE, sender=importer)
    usd.approve(lc.address, MAX_ALLOWANCE, sender=bank_us)


@pytest.fixture
def credits(chain, lc, importer, exporter, bank_us, bank_cn, usd, approvals) -> Credits:
    return Credits(chain, lc, importer, exporter, bank_us, bank_cn, usd, next_monday(chain))


@pytest.fixture
def invoice_id(chain, invoices, exporter, importer, usd) -> int:
    """The exporter's confirmed commercial invoice to the importer for the credit amount."""
    return confirmed_invoice(chain, invoices, exporter, importer, usd, "CI-2026-0001", AMOUNT, due_in=120 * DAY)


def present_with_invoice(credits: Credits, lc_id: int, invoice: int, *, day: int = 12, amount: int = AMOUNT,
                         shipment_day: int = 3) -> int:
    credits.at(at_noon(credits.base + day))
    receipt = credits.lc.presentWithInvoice(lc_id, FULL_DOCUMENTS, (credits.base + shipment_day) * DAY, amount,
                                            invoice, sender=credits.exporter)
    return receipt.events.filter(credits.lc.DocumentsPresented)[0].presentationId


def test_deployment_registers_the_credit_contract_as_a_lien_instrument(lc, invoices):
    assert invoices.isInstrument(lc.address)
    assert lc.invoiceRegistry() == invoices.address


def test_presentation_takes_the_lien_for_the_issuing_bank(credits, lc, invoices, invoice_id, bank_us):
    lc_id = credits.open()
    credits.at(at_noon(credits.base + 12))
    receipt = lc.presentWithInvoice(lc_id, FULL_DOCUMENTS, (credits.base + 3) * DAY, AMOUNT, invoice_id,
                                    sender=credits.exporter)

    presentation_id = receipt.events.filter(lc.DocumentsPresented)[0].presentationId
    assert receipt.events.filter(lc.PresentationInvoiceLinked)[0].invoiceId == invoice_id
    view = lc.presentation(lc_id, presentation_id)
    assert view.hasInvoice and view.invoiceId == invoice_id
    invoice = invoices.invoice(invoice_id)
    assert invoice.state == InvoiceState.Financed
    assert (invoice.lienInstrument, invoice.lienFinancier) == (lc.address, bank_us.address)


def test_refusal_releases_the_lien(credits, lc, invoices, invoice_id, bank_us):
    lc_id = credits.open()
    presentation_id = present_with_invoice(credits, lc_id, invoice_id, shipment_day=LATEST_SHIPMENT + 1)
    lc.examine(lc_id, presentation_id, 0, sender=bank_us)
    lc.refuse(lc_id, presentation_id, sender=bank_us)

    invoice = invoices.invoice(invoice_id)
    assert invoice.state == InvoiceState.Confirmed and invoice.lienFinancier == ZERO_ADDRESS


def test_sight_payment_releases_the_lien(credits, lc, invoices, invoice_id, bank_us):
    lc_id = credits.open()
    presentation_id = present_with_invoice(credits, lc_id, invoice_id)
    lc.examine(lc_id, presentation_id, 0, sender=bank_us)
    lc.honour(lc_id, presentation_id, sender=bank_us)

    assert lc.presentationState(lc_id, presentation_id) == PresentationState.Paid
    assert invoices.invoice(invoice_id).lienFinancier == "0x0000000000000000000000000000000000000000"


def test_deferred_acceptance_keeps_the_lien_until_paid_at_maturity(credits, lc, invoices, invoice_id, bank_us,
                                                                   supplier1):
    lc_id = credits.open(availability=int(Availability.DeferredPayment), deferredPaymentDays=45)
    presentation_id = present_with_invoice(credits, lc_id, invoice_id)
    lc.examine(lc_id, presentation_id, 0, sender=bank_us)
    lc.honour(lc_id, presentation_id, sender=bank_us)
    assert invoices.invoice(invoice_id).lienFinancier == bank_us.address

    credits.at((credits.base + 3 + 45) * DAY)
    lc.payAtMaturity(lc_id, presentation_id, sender=supplier1)

    assert invoices.invoice(invoice_id).lienFinancier == "0x0000000000000000000000000000000000000000"


def test_an_invoice_under_an_open_presentation_cannot_be_presented_again(credits, lc, invoices, invoice_id, bank_us):
    lc_id = credits.open()
    present_with_invoice(credits, lc_id, invoice_id, amount=AMOUNT // 2)
    with ape.reverts(invoices.InvoiceRegistryLienAlreadyHeld, invoiceId=invoice_id, instrument=lc.address,
                     financier=bank_us.address):
        present_with_invoice(credits, lc_id, invoice_id, amount=AMOUNT // 2)


def test_invoice_must_be_the_beneficiarys_to_the_applicant_in_the_credits_currency(
    chain, credits, lc, invoices, usd, eur, exporter, importer, supplier1
):
    lc_id = credits.open()
    other_seller = confirmed_invoice(chain, invoices, supplier1, importer, usd, "CI-S1-1", AMOUNT)
    other_buyer = confirmed_invoice(chain, invoices, exporter, supplier1, usd, "CI-EX-S1", AMOUNT)
    other_currency = confirmed_invoice(chain, invoices, exporter, importer, eur, "CI-EUR-1", AMOUNT)
    too_small = confirmed_invoice(chain, invoices, exporter, importer, usd, "CI-SMALL", AMOUNT // 2)
    for invoice in (other_seller, other_buyer, other_currency, too_small):
        with ape.reverts(lc.LetterOfCreditInvoiceMismatch, lcId=lc_id, invoiceId=invoice):
            present_with_invoice(credits, lc_id, invoice)


# ───────────────────────────── M6: the commercial invoice names its registered invoice ─────────────────────────────


@pytest.fixture(scope="module")
def financing(platform, usd, bank_cn):
    """Receivable financing; bank_cn funds advances through it."""
    contract = platform["ReceivableFinancing"]
    usd.approve(contract.address, MAX_ALLOWANCE, sender=bank_cn)
    return contract


@pytest.fixture(scope="module")
def certificates(platform):
    return platform["PayableCertificates"]


def factor(financing, invoice_id, exporter, bank, amount=AMOUNT) -> int:
    """The exporter factors the invoice at `bank`: applied and approved (advance paid, lien taken)."""
    receipt = financing.applyForFinancing(invoice_id, bank.address, amount, sender=exporter)
    financing_id = financing.FinancingApplied.from_receipt(receipt)[0].financingId
    maturity = financing.chain_manager.pending_timestamp + 60 * DAY
    financing.approve(financing_id, amount, 500, maturity, text_hash("factoring-terms"), sender=bank)
    return financing_id


def test_M6_documents_with_a_commercial_invoice_are_refused_without_the_registered_invoice(credits, lc, exporter):
    lc_id = credits.open()
    credits.at(at_noon(credits.base + 12))
    shipment = (credits.base + 3) * DAY
    for docs in (FULL_DOCUMENTS, list(reversed(FULL_DOCUMENTS)), FULL_DOCUMENTS[:1]):
        with ape.reverts(lc.LetterOfCreditInvoiceRequired, lcId=lc_id):
            lc.present(lc_id, docs, shipment, AMOUNT, sender=exporter)
    assert lc.presentationCounts(lc_id) == (0, 0) and lc.drawings(lc_id).reserved == 0

    # Without a commercial invoice the documents are presented alone, and the missing invoice is a discrepancy.
    receipt = lc.present(lc_id, SHIPPING_DOCUMENTS, shipment, AMOUNT, sender=exporter)
    presentation_id = receipt.events.filter(lc.DocumentsPresented)[0].presentationId
    view = lc.presentation(lc_id, presentation_id)
    assert view.discrepancies == lc.DISCREPANCY_MISSING_DOCUMENT() and not view.hasInvoice


def test_M6_an_invoice_is_named_only_with_a_commercial_invoice_document(credits, lc, invoices, invoice_id, exporter):
    lc_id = credits.open()
    credits.at(at_noon(credits.base + 12))
    with ape.reverts(lc.LetterOfCreditInvoiceDocumentRequired, lcId=lc_id, invoiceId=invoice_id):
        lc.presentWithInvoice(lc_id, SHIPPING_DOCUMENTS, (credits.base + 3) * DAY, AMOUNT, invoice_id,
                              sender=exporter)
    assert invoices.invoice(invoice_id).state == InvoiceState.Confirmed
    assert lc.presentationCounts(lc_id) == (0, 0)


def test_M6_an_invoice_factored_at_another_bank_cannot_be_drawn_against(credits, lc, invoices, financing, usd,
                                                                         invoice_id, exporter, bank_cn):
    """The audit's sequence: the invoice is factored at bank_cn, then drawn in full under bank_us's credit."""
    factor(financing, invoice_id, exporter, bank_cn)
    lc_id = credits.open()
    exporter_before = usd.balanceOf(exporter.address)

    with reverts_with(invoices.InvoiceRegistryLienAlreadyHeld, invoiceId=invoice_id, instrument=financing.address,
                      financier=bank_cn.address):
        present_with_invoice(credits, lc_id, invoice_id)

    assert lc.presentationCounts(lc_id) == (0, 0) and lc.drawings(lc_id).reserved == 0
    assert lc.presentationOfInvoice(invoice_id) == (0, 0)
    assert usd.balanceOf(exporter.address) == exporter_before
    assert invoices.invoice(invoice_id).lienInstrument == financing.address


def test_M6_an_invoice_pledged_to_certificates_cannot_be_drawn_against(credits, lc, invoices, certificates,
                                                                        invoice_id, importer, exporter):
    certificates.offer(invoice_id, AMOUNT, invoices.invoice(invoice_id).dueDate, sender=importer)
    certificates.acceptOffer(invoice_id, sender=exporter)
    lc_id = credits.open()
    with reverts_with(invoices.InvoiceRegistryLienAlreadyHeld, invoiceId=invoice_id,
                      instrument=certificates.address, financier=exporter.address):
        present_with_invoice(credits, lc_id, invoice_id)
    assert lc.presentationCounts(lc_id) == (0, 0)


def test_M6_a_presented_invoice_cannot_be_factored_and_the_bank_is_told_it_is_liened(
    credits, lc, financing, invoice_id, exporter, bank_us, bank_cn
):
    lc_id = credits.open()
    presentation_id = present_with_invoice(credits, lc_id, invoice_id)
    assert lc.presentationOfInvoice(invoice_id) == (lc_id, presentation_id)
    with reverts_with(financing.ReceivableFinancingInvoiceLiened, invoiceId=invoice_id, instrument=lc.address,
                      financier=bank_us.address):
        financing.applyForFinancing(invoice_id, bank_cn.address, AMOUNT, sender=exporter)


# ───────────────────────────── H2: the lien reserves, it routes nothing ─────────────────────────────


def test_H2_buyer_pays_only_the_unpresented_part_directly_and_it_reaches_the_seller(
    chain, credits, lc, invoices, usd, importer, exporter, bank_us
):
    face = AMOUNT + AMOUNT // 5  # USD 120,000.00; the credit draws 100,000.00 of it
    uncovered = face - AMOUNT
    invoice = confirmed_invoice(chain, invoices, exporter, importer, usd, "CI-2026-0120", face, due_in=120 * DAY)
    lc_id = credits.open()
    presentation_id = present_with_invoice(credits, lc_id, invoice, amount=AMOUNT)
    start = {a.address: usd.balanceOf(a.address) for a in (importer, exporter, bank_us)}

    with reverts_with(lc.LetterOfCreditInvoiceUnderPresentation, lcId=lc_id, presentationId=presentation_id,
                      invoiceId=invoice, payableDirectly=uncovered):
        invoices.pay(invoice, uncovered + 1, sender=importer)
    receipt = invoices.pay(invoice, uncovered, sender=importer)

    [paid] = invoices.InvoicePaid.from_receipt(receipt)
    assert (paid.amount, paid.toFinancier, paid.toSeller) == (uncovered, 0, uncovered)
    assert usd.balanceOf(exporter.address) == start[exporter.address] + uncovered
    assert usd.balanceOf(bank_us.address) == start[bank_us.address]
    assert invoices.invoice(invoice).lienFinancier == bank_us.address  # still reserved for the credit
    with reverts_with(lc.LetterOfCreditInvoiceUnderPresentation, lcId=lc_id, presentationId=presentation_id,
                      invoiceId=invoice, payableDirectly=0):
        invoices.pay(invoice, 1, sender=importer)

    # The presented amount is paid through the credit, once: the invoice is then paid in full.
    lc.examine(lc_id, presentation_id, 0, sender=bank_us)
    lc.honour(lc_id, presentation_id, sender=bank_us)
    invoice_view = invoices.invoice(invoice)
    assert (invoice_view.state, invoice_view.paidAmount, invoice_view.lienFinancier) == (
        InvoiceState.Paid, face, ZERO_ADDRESS)
    assert lc.presentationOfInvoice(invoice) == (0, 0)
    assert usd.balanceOf(importer.address) == start[importer.address] - uncovered  # never paid twice
    assert usd.balanceOf(exporter.address) == start[exporter.address] + face
    assert usd.balanceOf(bank_us.address) == start[bank_us.address] - AMOUNT


def test_H2_a_bank_that_refuses_never_holds_the_buyers_payment(credits, lc, invoices, usd, invoice_id, importer,
                                                                exporter, bank_us):
    """The audit's sequence: the bank takes the lien at presentation, the buyer pays the invoice, the bank
    refuses the drawing. Now the payment is refused while presented, and after the refusal it reaches the
    seller."""
    lc_id = credits.open()
    presentation_id = present_with_invoice(credits, lc_id, invoice_id)
    with reverts_with(lc.LetterOfCreditInvoiceUnderPresentation, lcId=lc_id, presentationId=presentation_id,
                      invoiceId=invoice_id, payableDirectly=0):
        invoices.pay(invoice_id, AMOUNT, sender=importer)

    lc.examine(lc_id, presentation_id, lc.DISCREPANCY_INCONSISTENT_DATA(), sender=bank_us)
    lc.refuse(lc_id, presentation_id, sender=bank_us)
    assert lc.presentationOfInvoice(invoice_id) == (0, 0)
    before = (usd.balanceOf(exporter.address), usd.balanceOf(bank_us.address))
    receipt = invoices.pay(invoice_id, AMOUNT, sender=importer)

    [paid] = invoices.InvoicePaid.from_receipt(receipt)
    assert (paid.toFinancier, paid.toSeller) == (0, AMOUNT)
    assert usd.balanceOf(exporter.address) == before[0] + AMOUNT
    assert usd.balanceOf(bank_us.address) == before[1]
    assert invoices.invoice(invoice_id).state == InvoiceState.Paid


def test_H2_an_accepted_deferred_drawing_still_reserves_the_presented_amount(credits, lc, invoices, invoice_id,
                                                                              importer, bank_us):
    lc_id = credits.open(availability=int(Availability.DeferredPayment), deferredPaymentDays=45)
    presentation_id = present_with_invoice(credits, lc_id, invoice_id)
    lc.examine(lc_id, presentation_id, 0, sender=bank_us)
    lc.honour(lc_id, presentation_id, sender=bank_us)
    assert lc.presentationState(lc_id, presentation_id) == PresentationState.Honoured
    with reverts_with(lc.LetterOfCreditInvoiceUnderPresentation, lcId=lc_id, presentationId=presentation_id,
                      invoiceId=invoice_id, payableDirectly=0):
        invoices.pay(invoice_id, 1, sender=importer)


def test_a_frozen_credit_refuses_the_payment_of_its_invoice(credits, lc, invoices, registry, regulator, usd,
                                                            importer, exporter):
    invoice = credits.invoice(AMOUNT * 2, credits.chain.pending_timestamp + 120 * DAY)
    lc_id = credits.open()
    present_with_invoice(credits, lc_id, invoice)
    registry.freezeInstrument(lc.address, lc_id, text_hash("sanctions-screening"), sender=regulator)
    before = usd.balanceOf(exporter.address)
    with reverts_with(lc.LetterOfCreditFrozen, lcId=lc_id):
        invoices.pay(invoice, AMOUNT, sender=importer)  # within the unpresented part, yet nothing moves
    assert usd.balanceOf(exporter.address) == before
    registry.unfreezeInstrument(lc.address, lc_id, text_hash("cleared"), sender=regulator)
    invoices.pay(invoice, AMOUNT, sender=importer)
    assert usd.balanceOf(exporter.address) == before + AMOUNT


def test_an_invoice_is_not_presented_while_the_issuing_bank_is_frozen(credits, lc, invoices, invoice_id, registry,
                                                                      regulator, bank_us):
    """A frozen bank receives no pledge (takeLien: the financier must be active): presenting against its
    credit with an invoice is refused whole, the invoice stays free, and works again once the bank is cleared."""
    lc_id = credits.open()
    registry.freezeParticipant(bank_us.address, text_hash("SANCTIONS"), sender=regulator)
    credits.at(at_noon(credits.base + 12))
    with reverts_with(registry.ParticipantRegistryParticipantFrozen, account=bank_us.address):
        lc.presentWithInvoice(lc_id, FULL_DOCUMENTS, (credits.base + 3) * DAY, AMOUNT, invoice_id,
                              sender=credits.exporter)
    assert invoices.state(invoice_id) == InvoiceState.Confirmed
    assert lc.presentationCounts(lc_id) == (0, 0)
    registry.unfreezeParticipant(bank_us.address, text_hash("CLEARED"), sender=regulator)
    present_with_invoice(credits, lc_id, invoice_id)
    assert invoices.state(invoice_id) == InvoiceState.Financed
