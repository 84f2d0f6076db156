"""InvoiceRegistry (DESIGN §4): registration once per legal invoice, confirmation, customs, cancellation,
payments routed through liens, derived default. Liens are exercised here with an operator-registered EOA
standing in for an instrument contract (no payment hook: the financier is owed every payment)."""

from __future__ import annotations

import ape
import pytest
from eth_utils import keccak

from receivables_helpers import (
    CANCELLED, CONFIRMED, DAY, DEFAULTED, FINANCED, NONE, PAID, REGISTERED,
    advance_to, confirmed_invoice, document_hash, invoice_number, now, register_invoice,
)
from scripts._common import (
    KIND_ATTESTER, KIND_BANK, KIND_CORPORATE, KIND_OPERATOR, KYC_APPROVED, ONE_YEAR,
    identity_hash, jurisdiction, text_hash,
)
from scripts._receivables import DEFAULT_GRACE_PERIOD

FACE = 125_000_00  # USD 125,000.00


@pytest.fixture(scope="module", autouse=True)
def invoices(platform, operator, regulator, bank_cn, bank_us, exporter, importer, attester, supplier1, exporter2,
             outsider):
    """The registry; every role is resolved here, before Ape's per-test snapshots start."""
    return platform["InvoiceRegistry"]


@pytest.fixture
def lien_instrument(invoices, operator, outsider):
    """An EOA registered by the operator as a lien instrument (no payment hook)."""
    invoices.setInstrument(outsider.address, True, sender=operator)
    return outsider


def _bit(*states: int) -> bytes:
    value = 0
    for s in states:
        value |= 1 << s
    return value.to_bytes(32, "big")


def _register_second_wallet(chain, registry, operator, bank_cn, wallet, legal_id: str) -> None:
    """Register `wallet` as a further wallet of the legal entity `legal_id` (same identity hash)."""
    registry.registerParticipant(wallet.address, KIND_CORPORATE, jurisdiction("CN"), identity_hash(legal_id),
                                 sender=operator)
    registry.attestKyc(wallet.address, KYC_APPROVED, now(chain) + ONE_YEAR,
                       text_hash("kyc:second-wallet"), sender=bank_cn)


# ───────────────────────────── Registration ─────────────────────────────

def test_register_mints_the_invoice_to_the_seller_with_the_duplicate_key_as_id(chain, invoices, exporter,
                                                                                importer, usd):
    due = now(chain) + 90 * DAY
    receipt = invoices.register(importer.address, usd.address, invoice_number("INV-1"), FACE, now(chain), due,
                                document_hash("INV-1"), sender=exporter)
    [event] = invoices.InvoiceRegistered.from_receipt(receipt)
    expected_key = keccak(identity_hash("USCC-91310000EXPORTER") + identity_hash("LEI-IMPORTER-US-0001")
                          + invoice_number("INV-1"))
    assert event.invoiceId == int.from_bytes(expected_key, "big")
    assert invoices.invoiceKey(exporter.address, importer.address, invoice_number("INV-1")) == expected_key
    assert event.documentHash == document_hash("INV-1")
    assert invoices.ownerOf(event.invoiceId) == exporter.address
    view = invoices.invoice(event.invoiceId)
    assert (view.seller, view.buyer, view.currency) == (exporter.address, importer.address, usd.address)
    assert (view.faceAmount, view.paidAmount, view.dueDate, view.state) == (FACE, 0, due, REGISTERED)
    assert view.lienFinancier == "0x" + "00" * 20


def test_register_fails_for_the_same_invoice_twice(chain, invoices, exporter, importer, usd):
    invoice_id = register_invoice(chain, invoices, exporter, importer, usd, "INV-2", FACE)
    with ape.reverts(invoices.InvoiceRegistryAlreadyRegistered, existingInvoiceId=invoice_id):
        register_invoice(chain, invoices, exporter, importer, usd, "INV-2", FACE)


def test_register_fails_from_a_second_wallet_of_the_same_legal_seller(chain, invoices, registry, operator,
                                                                       bank_cn, exporter, importer, usd, outsider):
    invoice_id = register_invoice(chain, invoices, exporter, importer, usd, "INV-3", FACE)
    _register_second_wallet(chain, registry, operator, bank_cn, outsider, "USCC-91310000EXPORTER")
    with ape.reverts(invoices.InvoiceRegistryAlreadyRegistered, existingInvoiceId=invoice_id):
        register_invoice(chain, invoices, outsider, importer, usd, "INV-3", FACE)


def test_register_fails_when_the_same_invoice_is_presented_again_for_a_second_bank(chain, invoices, exporter,
                                                                                    importer, usd, eur):
    """Whatever else differs (amount, currency, document sent to another bank), the raw invoice's key is
    taken."""
    invoice_id = register_invoice(chain, invoices, exporter, importer, usd, "INV-4", FACE)
    with ape.reverts(invoices.InvoiceRegistryAlreadyRegistered, existingInvoiceId=invoice_id):
        invoices.register(importer.address, eur.address, invoice_number("INV-4"), FACE - 1, now(chain),
                          now(chain) + 30 * DAY, document_hash("INV-4 for bank_us"), sender=exporter)


def test_register_accepts_the_same_number_for_another_buyer(chain, invoices, exporter, importer, exporter2, usd):
    first = register_invoice(chain, invoices, exporter, importer, usd, "INV-5", FACE)
    second = register_invoice(chain, invoices, exporter, exporter2, usd, "INV-5", FACE)
    assert first != second


def test_register_fails_if_buyer_is_not_a_participant(chain, invoices, registry, exporter, outsider, usd):
    with ape.reverts(registry.ParticipantRegistryUnknownParticipant, account=outsider.address):
        register_invoice(chain, invoices, exporter, outsider, usd, "INV-6", FACE)


def test_register_fails_if_seller_and_buyer_are_one_legal_identity(chain, invoices, registry, operator, bank_cn,
                                                                    exporter, outsider, usd):
    _register_second_wallet(chain, registry, operator, bank_cn, outsider, "USCC-91310000EXPORTER")
    with ape.reverts(invoices.InvoiceRegistrySameParty, identityHash=identity_hash("USCC-91310000EXPORTER")):
        register_invoice(chain, invoices, exporter, outsider, usd, "INV-7", FACE)


def test_register_fails_for_an_unaccepted_currency(chain, invoices, operator, exporter, importer, usd):
    invoices.setCurrency(usd.address, False, sender=operator)
    with ape.reverts(invoices.InvoiceRegistryUnsupportedCurrency, token=usd.address):
        register_invoice(chain, invoices, exporter, importer, usd, "INV-8", FACE)


@pytest.mark.parametrize("face", [0, 2**48])
def test_register_fails_for_a_face_amount_out_of_range(chain, invoices, exporter, importer, usd, face):
    with ape.reverts(invoices.InvoiceRegistryInvalidAmount, amount=face):
        register_invoice(chain, invoices, exporter, importer, usd, "INV-9", face)


def test_register_fails_if_due_date_is_not_in_the_future(chain, invoices, exporter, importer, usd):
    with ape.reverts(invoices.InvoiceRegistryInvalidDueDate):
        invoices.register(importer.address, usd.address, invoice_number("INV-10"), FACE, 0, 1,
                          document_hash("x"), sender=exporter)
    with ape.reverts(invoices.InvoiceRegistryInvalidDueDate, dueDate=2**32):
        invoices.register(importer.address, usd.address, invoice_number("INV-10"), FACE, 0, 2**32,
                          document_hash("x"), sender=exporter)


def test_register_batch_registers_every_invoice_and_rejects_a_duplicate_in_the_batch(chain, invoices, exporter,
                                                                                     importer, exporter2, usd):
    due = now(chain) + 60 * DAY
    batch = [(importer.address if i % 2 else exporter2.address, usd.address, invoice_number(f"B-{i}"),
              1_000_00 + i, now(chain), due, document_hash(f"B-{i}")) for i in range(6)]
    receipt = invoices.registerBatch(batch, sender=exporter)
    events = invoices.InvoiceRegistered.from_receipt(receipt)
    assert [e.faceAmount for e in events] == [1_000_00 + i for i in range(6)]
    assert invoices.balanceOf(exporter.address) == 6
    assert all(invoices.state(e.invoiceId) == REGISTERED for e in events)
    with ape.reverts(invoices.InvoiceRegistryAlreadyRegistered, existingInvoiceId=events[0].invoiceId):
        invoices.registerBatch([batch[0]], sender=exporter)


# ───────────────────────────── Confirmation and customs ─────────────────────────────

def test_confirm_by_the_buyer_moves_registered_to_confirmed(chain, invoices, exporter, importer, usd):
    invoice_id = register_invoice(chain, invoices, exporter, importer, usd, "INV-20", FACE)
    receipt = invoices.confirm(invoice_id, sender=importer)
    assert invoices.InvoiceConfirmed.from_receipt(receipt)[0].buyer == importer.address
    assert invoices.state(invoice_id) == CONFIRMED


def test_confirm_fails_unless_the_buyer_confirms_once(chain, invoices, exporter, importer, usd):
    invoice_id = register_invoice(chain, invoices, exporter, importer, usd, "INV-21", FACE)
    with ape.reverts(invoices.InvoiceRegistryNotBuyer, caller=exporter.address):
        invoices.confirm(invoice_id, sender=exporter)
    invoices.confirm(invoice_id, sender=importer)
    with ape.reverts(invoices.InvoiceRegistryUnexpectedState, current=CONFIRMED, expectedStates=_bit(REGISTERED)):
        invoices.confirm(invoice_id, sender=importer)


def test_confirm_fails_for_an_unknown_invoice(invoices, importer):
    with ape.reverts(invoices.InvoiceRegistryUnknownInvoice, invoiceId=42):
        invoices.confirm(42, sender=importer)
    assert invoices.state(42) == NONE


def test_customs_attestation_records_a_match_and_a_mismatch(chain, invoices, exporter, importer, attester, usd):
    invoice_id = register_invoice(chain, invoices, exporter, importer, usd, "INV-22", FACE)
    assert invoices.customsOf(invoice_id) == (False, False)
    receipt = invoices.attestCustoms(invoice_id, text_hash("decl-1"), FACE - 1, sender=attester)
    [event] = invoices.CustomsAttested.from_receipt(receipt)
    assert (event.declaredAmount, event.faceAmount, event.matched) == (FACE - 1, FACE, False)
    assert invoices.customsOf(invoice_id) == (True, False)
    invoices.attestCustoms(invoice_id, text_hash("decl-1-corrected"), FACE, sender=attester)
    assert invoices.customsOf(invoice_id) == (True, True)


def test_customs_attestation_fails_for_a_non_attester(chain, invoices, registry, exporter, importer, bank_cn, usd):
    invoice_id = register_invoice(chain, invoices, exporter, importer, usd, "INV-23", FACE)
    with ape.reverts(registry.ParticipantRegistryUnexpectedKind, account=bank_cn.address, actual=KIND_BANK,
                     expected=KIND_ATTESTER):
        invoices.attestCustoms(invoice_id, text_hash("decl"), FACE, sender=bank_cn)


def test_customs_attestation_fails_after_financing(chain, invoices, exporter, importer, attester, bank_cn, usd,
                                                   lien_instrument):
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, "INV-24", FACE)
    invoices.takeLien(invoice_id, bank_cn.address, sender=lien_instrument)
    with ape.reverts(invoices.InvoiceRegistryUnexpectedState, current=FINANCED):
        invoices.attestCustoms(invoice_id, text_hash("decl"), FACE, sender=attester)


# ───────────────────────────── Cancellation ─────────────────────────────

def test_cancel_by_the_seller_before_financing(chain, invoices, exporter, importer, usd):
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, "INV-30", FACE)
    receipt = invoices.cancel(invoice_id, text_hash("wrong buyer"), sender=exporter)
    assert invoices.InvoiceCancelled.from_receipt(receipt)[0].reasonCode == text_hash("wrong buyer")
    assert invoices.state(invoice_id) == CANCELLED
    with ape.reverts(invoices.InvoiceRegistryAlreadyRegistered):
        register_invoice(chain, invoices, exporter, importer, usd, "INV-30", FACE)


def test_cancel_fails_for_anyone_but_the_seller(chain, invoices, exporter, importer, usd):
    invoice_id = register_invoice(chain, invoices, exporter, importer, usd, "INV-31", FACE)
    with ape.reverts(invoices.InvoiceRegistryNotSeller, caller=importer.address):
        invoices.cancel(invoice_id, text_hash("x"), sender=importer)


def test_cancel_fails_once_financed_or_partly_paid(chain, invoices, exporter, importer, bank_cn, usd,
                                                   lien_instrument):
    financed = confirmed_invoice(chain, invoices, exporter, importer, usd, "INV-32", FACE)
    invoices.takeLien(financed, bank_cn.address, sender=lien_instrument)
    with ape.reverts(invoices.InvoiceRegistryUnexpectedState, current=FINANCED):
        invoices.cancel(financed, text_hash("x"), sender=exporter)
    partly_paid = confirmed_invoice(chain, invoices, exporter, importer, usd, "INV-33", FACE)
    usd.approve(invoices.address, 1_00, sender=importer)
    invoices.pay(partly_paid, 1_00, sender=importer)
    with ape.reverts(invoices.InvoiceRegistryPaymentsReceived, paidAmount=1_00):
        invoices.cancel(partly_paid, text_hash("x"), sender=exporter)


# ───────────────────────────── Payment ─────────────────────────────

def test_partial_payments_go_to_the_seller_until_paid(chain, invoices, exporter, importer, usd):
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, "INV-40", FACE)
    usd.approve(invoices.address, FACE, sender=importer)
    seller_before, buyer_before = usd.balanceOf(exporter.address), usd.balanceOf(importer.address)
    receipt = invoices.pay(invoice_id, 25_000_00, sender=importer)
    [event] = invoices.InvoicePaid.from_receipt(receipt)
    assert (event.toFinancier, event.toSeller, event.paidAmount) == (0, 25_000_00, 25_000_00)
    assert invoices.state(invoice_id) == CONFIRMED
    invoices.pay(invoice_id, FACE - 25_000_00, sender=importer)
    assert invoices.state(invoice_id) == PAID
    assert usd.balanceOf(exporter.address) == seller_before + FACE
    assert usd.balanceOf(importer.address) == buyer_before - FACE
    with ape.reverts(invoices.InvoiceRegistryUnexpectedState, current=PAID):
        invoices.pay(invoice_id, 1, sender=importer)


def test_pay_fails_above_the_outstanding_amount_or_for_zero(chain, invoices, exporter, importer, usd):
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, "INV-41", FACE)
    usd.approve(invoices.address, FACE + 1, sender=importer)
    with ape.reverts(invoices.InvoiceRegistryOverpayment, amount=FACE + 1, outstanding=FACE):
        invoices.pay(invoice_id, FACE + 1, sender=importer)
    with ape.reverts(invoices.InvoiceRegistryInvalidAmount, amount=0):
        invoices.pay(invoice_id, 0, sender=importer)


def test_pay_fails_for_anyone_but_the_buyer(chain, invoices, exporter, importer, usd):
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, "INV-42", FACE)
    with ape.reverts(invoices.InvoiceRegistryNotBuyer, caller=exporter.address):
        invoices.pay(invoice_id, 1, sender=exporter)


def test_pay_fails_for_a_cancelled_invoice(chain, invoices, exporter, importer, usd):
    invoice_id = register_invoice(chain, invoices, exporter, importer, usd, "INV-43", FACE)
    invoices.cancel(invoice_id, text_hash("x"), sender=exporter)
    with ape.reverts(invoices.InvoiceRegistryUnexpectedState, current=CANCELLED):
        invoices.pay(invoice_id, 1, sender=importer)


# ───────────────────────────── Liens ─────────────────────────────

def test_take_lien_fails_for_an_unregistered_instrument(chain, invoices, exporter, importer, bank_cn, usd,
                                                         outsider):
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, "INV-50", FACE)
    with ape.reverts(invoices.InvoiceRegistryUnauthorizedInstrument, caller=outsider.address):
        invoices.takeLien(invoice_id, bank_cn.address, sender=outsider)


def test_only_one_lien_at_a_time_across_financiers(chain, invoices, exporter, importer, bank_cn, bank_us, usd,
                                                   lien_instrument):
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, "INV-51", FACE)
    receipt = invoices.takeLien(invoice_id, bank_cn.address, sender=lien_instrument)
    assert invoices.LienTaken.from_receipt(receipt)[0].financier == bank_cn.address
    view = invoices.invoice(invoice_id)
    assert (view.state, view.lienInstrument, view.lienFinancier) == (FINANCED, lien_instrument.address,
                                                                      bank_cn.address)
    with ape.reverts(invoices.InvoiceRegistryLienAlreadyHeld, instrument=lien_instrument.address,
                     financier=bank_cn.address):
        invoices.takeLien(invoice_id, bank_us.address, sender=lien_instrument)
    with ape.reverts(invoices.InvoiceRegistryUnexpectedState, current=FINANCED):
        invoices.transferFrom(exporter.address, importer.address, invoice_id, sender=exporter)


def test_release_lien_only_by_the_holding_instrument(chain, invoices, operator, exporter, importer, bank_cn,
                                                     attester, usd, lien_instrument):
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, "INV-52", FACE)
    with ape.reverts(invoices.InvoiceRegistryNoLien, caller=lien_instrument.address):
        invoices.releaseLien(invoice_id, sender=lien_instrument)
    invoices.takeLien(invoice_id, bank_cn.address, sender=lien_instrument)
    invoices.setInstrument(attester.address, True, sender=operator)
    with ape.reverts(invoices.InvoiceRegistryNoLien, caller=attester.address):
        invoices.releaseLien(invoice_id, sender=attester)
    invoices.setInstrument(lien_instrument.address, False, sender=operator)
    assert not invoices.isInstrument(lien_instrument.address)
    receipt = invoices.releaseLien(invoice_id, sender=lien_instrument)  # deregistered: can still release
    assert invoices.LienReleased.from_receipt(receipt)[0].financier == bank_cn.address
    assert invoices.state(invoice_id) == CONFIRMED
    with ape.reverts(invoices.InvoiceRegistryUnauthorizedInstrument):
        invoices.takeLien(invoice_id, bank_cn.address, sender=lien_instrument)


def test_payment_of_a_liened_invoice_goes_to_the_financier_when_the_instrument_has_no_hook(
        chain, invoices, exporter, importer, bank_cn, usd, lien_instrument):
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, "INV-53", FACE)
    invoices.takeLien(invoice_id, bank_cn.address, sender=lien_instrument)
    usd.approve(invoices.address, FACE, sender=importer)
    bank_before = usd.balanceOf(bank_cn.address)
    receipt = invoices.pay(invoice_id, 40_000_00, sender=importer)
    assert invoices.InvoicePaid.from_receipt(receipt)[0].toFinancier == 40_000_00
    assert usd.balanceOf(bank_cn.address) == bank_before + 40_000_00
    invoices.releaseLien(invoice_id, sender=lien_instrument)
    seller_before = usd.balanceOf(exporter.address)
    invoices.pay(invoice_id, FACE - 40_000_00, sender=importer)
    assert usd.balanceOf(exporter.address) == seller_before + FACE - 40_000_00
    assert invoices.state(invoice_id) == PAID


def test_take_lien_fails_on_a_paid_or_cancelled_invoice(chain, invoices, exporter, importer, bank_cn, usd,
                                                        lien_instrument):
    cancelled = register_invoice(chain, invoices, exporter, importer, usd, "INV-54", FACE)
    invoices.cancel(cancelled, text_hash("x"), sender=exporter)
    with ape.reverts(invoices.InvoiceRegistryUnexpectedState, current=CANCELLED):
        invoices.takeLien(cancelled, bank_cn.address, sender=lien_instrument)
    paid = confirmed_invoice(chain, invoices, exporter, importer, usd, "INV-55", 10_00)
    usd.approve(invoices.address, 10_00, sender=importer)
    invoices.pay(paid, 10_00, sender=importer)
    with ape.reverts(invoices.InvoiceRegistryUnexpectedState, current=PAID):
        invoices.takeLien(paid, bank_cn.address, sender=lien_instrument)


# ───────────────────────────── Default, freeze, assignment ─────────────────────────────

def test_invoice_defaults_after_due_date_plus_grace_and_can_still_be_paid(chain, invoices, exporter, importer,
                                                                          usd):
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, "INV-60", FACE, due_in=30 * DAY)
    due = invoices.invoice(invoice_id).dueDate
    advance_to(chain, due + DEFAULT_GRACE_PERIOD)
    assert invoices.state(invoice_id) == CONFIRMED  # the last second of grace
    advance_to(chain, due + DEFAULT_GRACE_PERIOD + 1)
    assert invoices.state(invoice_id) == DEFAULTED
    usd.approve(invoices.address, FACE, sender=importer)
    invoices.pay(invoice_id, FACE, sender=importer)
    assert invoices.state(invoice_id) == PAID


def test_a_frozen_invoice_refuses_every_transition(chain, invoices, registry, regulator, exporter, importer, usd):
    invoice_id = register_invoice(chain, invoices, exporter, importer, usd, "INV-61", FACE)
    registry.freezeInstrument(invoices.address, invoice_id, text_hash("AML-HOLD"), sender=regulator)
    with ape.reverts(invoices.InvoiceRegistryFrozen, invoiceId=invoice_id):
        invoices.confirm(invoice_id, sender=importer)
    with ape.reverts(invoices.InvoiceRegistryFrozen, invoiceId=invoice_id):
        invoices.cancel(invoice_id, text_hash("x"), sender=exporter)
    registry.unfreezeInstrument(invoices.address, invoice_id, text_hash("AML-CLEAR"), sender=regulator)
    invoices.confirm(invoice_id, sender=importer)
    assert invoices.state(invoice_id) == CONFIRMED


def test_assignment_of_a_confirmed_invoice_redirects_payment_to_the_new_owner(chain, invoices, exporter,
                                                                             importer, supplier1, usd):
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, "INV-62", FACE)
    invoices.transferFrom(exporter.address, supplier1.address, invoice_id, sender=exporter)
    usd.approve(invoices.address, FACE, sender=importer)
    before = usd.balanceOf(supplier1.address)
    invoices.pay(invoice_id, FACE, sender=importer)
    assert usd.balanceOf(supplier1.address) == before + FACE


# ───────────────────────────── Operator ─────────────────────────────

def test_operator_settings_are_refused_to_others(invoices, registry, exporter, usd):
    not_operator = dict(account=exporter.address, actual=KIND_CORPORATE, expected=KIND_OPERATOR)
    with ape.reverts(registry.ParticipantRegistryUnexpectedKind, **not_operator):
        invoices.setInstrument(exporter.address, True, sender=exporter)
    with ape.reverts(registry.ParticipantRegistryUnexpectedKind, **not_operator):
        invoices.setCurrency(usd.address, False, sender=exporter)


def test_grace_period_is_fixed_at_deployment(invoices):
    assert invoices.gracePeriod() == DEFAULT_GRACE_PERIOD
