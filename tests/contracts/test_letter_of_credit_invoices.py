"""Presentations that carry a registered invoice: the lien is the issuing bank's while the presentation is
open, released on refusal or payment, and a second financing of the same invoice is impossible."""

from __future__ import annotations

import ape
import pytest

from lc_world import AMOUNT, FULL_DOCUMENTS, LATEST_SHIPMENT, MAX_ALLOWANCE, Credits, at_noon, next_monday
from receivables_helpers import CONFIRMED, FINANCED, confirmed_invoice
from scripts._letters_of_credit import DAY, Availability, PresentationState


@pytest.fixture(scope="module", autouse=True)
def _resolve_world_early(project, platform, registry, operator, regulator, outsider, supplier1, eur):
    """Resolve wider-scoped fixtures before Ape's per-test isolation snapshot."""


@pytest.fixture(scope="module")
def lc(platform):
    return platform["LetterOfCredit"]


@pytest.fixture(scope="module")
def invoices(platform):
    return platform["InvoiceRegistry"]


@pytest.fixture(scope="module")
def approvals(lc, usd, importer, bank_us):
    usd.approve(lc.address, MAX_ALLOWANCE, sender=importer)
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
    assert invoice.state == FINANCED
    assert (invoice.lienInstrument, invoice.lienFinancier) == (lc.address, bank_us.address)


def test_refusal_releases_the_lien(credits, lc, invoices, invoice_id, bank_us):
    lc_id = credits.open()
    presentation_id = present_with_invoice(credits, lc_id, invoice_id, shipment_day=LATEST_SHIPMENT + 1)
    lc.examine(lc_id, presentation_id, 0, sender=bank_us)
    lc.refuse(lc_id, presentation_id, sender=bank_us)

    invoice = invoices.invoice(invoice_id)
    assert invoice.state == CONFIRMED and invoice.lienFinancier == "0x0000000000000000000000000000000000000000"


def test_sight_payment_releases_the_lien(credits, lc, invoices, invoice_id, bank_us):
    lc_id = credits.open()
    presentation_id = present_with_invoice(credits, lc_id, invoice_id)
    lc.examine(lc_id, presentation_id, 0, sender=bank_us)
    lc.honour(lc_id, presentation_id, sender=bank_us)

    assert lc.presentationState(lc_id, presentation_id) == PresentationState.PAID
    assert invoices.invoice(invoice_id).lienFinancier == "0x0000000000000000000000000000000000000000"


def test_deferred_acceptance_keeps_the_lien_until_paid_at_maturity(credits, lc, invoices, invoice_id, bank_us,
                                                                   outsider):
    lc_id = credits.open(availability=int(Availability.DEFERRED_PAYMENT), deferredPaymentDays=45)
    presentation_id = present_with_invoice(credits, lc_id, invoice_id)
    lc.examine(lc_id, presentation_id, 0, sender=bank_us)
    lc.honour(lc_id, presentation_id, sender=bank_us)
    assert invoices.invoice(invoice_id).lienFinancier == bank_us.address

    credits.at((credits.base + 3 + 45) * DAY)
    lc.payAtMaturity(lc_id, presentation_id, sender=outsider)

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
