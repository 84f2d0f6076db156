"""ReceivableFinancing (DESIGN §5): application, approval with advance and lien in one transaction, rejection,
repayment from the buyer's payment with interest from chain time, default and recourse, reverse factoring,
and the issue's end-to-end story. Financing is capped by what is still unpaid (audit L2), a closed programme
approves nothing (L6), a frozen financing is not repaid by the buyer's payment (L1), and a second bank is told
where the invoice is liened."""

from __future__ import annotations

import itertools

import ape
import pytest
from _reverts import reverts_with
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from receivables_helpers import (
    DAY,
    YEAR,
    ZERO_ADDRESS,
    advance_to,
    confirmed_invoice,
    now,
    register_invoice,
    states_bitmap,
)

from app.core.enums import FinancingState, InvoiceState, ParticipantKind, ProgrammeState
from scripts._common import INVOICE_GRACE_PERIOD, identity_hash, jurisdiction, text_hash

FACE = 200_000_00  # USD 200,000.00
ADVANCE = 160_000_00
RATE_BPS = 850  # 8.50% a year
_numbers = itertools.count(1)


@pytest.fixture(scope="module", autouse=True)
def invoices(platform, operator, regulator, bank_cn, bank_us, exporter, importer, attester, supplier1, supplier2,
             exporter2, outsider):
    """The registry; every role is resolved here, before Ape's per-test snapshots start."""
    return platform["InvoiceRegistry"]


@pytest.fixture(scope="module")
def financing(platform):
    return platform["ReceivableFinancing"]


@pytest.fixture(scope="module", autouse=True)
def allowances(financing, invoices, usd, bank_cn, bank_us, exporter, importer, supplier1, supplier2):
    """Banks fund advances and sellers accept recourse through the financing contract; buyers pay through the
    registry."""
    for party in (bank_cn, bank_us, exporter, supplier1, supplier2):
        usd.approve(financing.address, 2**255, sender=party)
    for buyer in (importer, exporter):
        usd.approve(invoices.address, 2**255, sender=buyer)


def _invoice(chain, invoices, seller, buyer, usd, face=FACE, due_in=90 * DAY) -> int:
    return confirmed_invoice(chain, invoices, seller, buyer, usd, f"F-{next(_numbers)}", face, due_in)


def _apply(financing, invoice_id, seller, bank, requested=ADVANCE) -> int:
    receipt = financing.applyForFinancing(invoice_id, bank.address, requested, sender=seller)
    return int(financing.FinancingApplied.from_receipt(receipt)[0].financingId)


def _approve(chain, financing, financing_id, bank, advance=ADVANCE, rate=RATE_BPS, maturity_in=90 * DAY):
    return financing.approve(financing_id, advance, rate, now(chain) + maturity_in, text_hash("terms"), sender=bank)


def _financed(chain, invoices, financing, usd, seller, buyer, bank, face=FACE, advance=ADVANCE, rate=RATE_BPS,
              due_in=90 * DAY) -> tuple[int, int]:
    invoice_id = _invoice(chain, invoices, seller, buyer, usd, face, due_in)
    financing_id = _apply(financing, invoice_id, seller, bank, advance)
    _approve(chain, financing, financing_id, bank, advance, rate, due_in)
    return invoice_id, financing_id


def _block_time(chain, receipt) -> int:
    return chain.blocks[receipt.block_number].timestamp


def _interest(advance: int, rate_bps: int, elapsed: int) -> int:
    """The contract's rule, in exact integers: rounded down."""
    return advance * rate_bps * elapsed // (10_000 * YEAR)


# ───────────────────────────── Application ─────────────────────────────

def test_apply_records_the_request_to_one_bank(chain, invoices, financing, usd, exporter, importer, bank_cn):
    invoice_id = _invoice(chain, invoices, exporter, importer, usd)
    receipt = financing.applyForFinancing(invoice_id, bank_cn.address, ADVANCE, sender=exporter)
    [event] = financing.FinancingApplied.from_receipt(receipt)
    assert (event.invoiceId, event.seller, event.bank, event.requestedAmount, event.programmeId) == (
        invoice_id, exporter.address, bank_cn.address, ADVANCE, 0)
    stored = financing.financing(event.financingId)
    assert (stored.state, stored.amount, stored.bank) == (FinancingState.Applied, ADVANCE, bank_cn.address)
    assert financing.financingCount() == event.financingId


def test_apply_fails_for_anyone_but_the_seller(chain, invoices, financing, usd, exporter, importer, bank_cn):
    invoice_id = _invoice(chain, invoices, exporter, importer, usd)
    with ape.reverts(financing.ReceivableFinancingNotSeller, caller=importer.address):
        financing.applyForFinancing(invoice_id, bank_cn.address, ADVANCE, sender=importer)


def test_apply_fails_for_an_unconfirmed_invoice(chain, invoices, financing, usd, exporter, importer, bank_cn):
    invoice_id = register_invoice(chain, invoices, exporter, importer, usd, f"F-{next(_numbers)}", FACE)
    with ape.reverts(financing.ReceivableFinancingInvoiceNotConfirmed, invoiceState=InvoiceState.Registered):
        financing.applyForFinancing(invoice_id, bank_cn.address, ADVANCE, sender=exporter)


def test_apply_fails_for_zero_or_more_than_face(chain, invoices, financing, usd, exporter, importer, bank_cn):
    invoice_id = _invoice(chain, invoices, exporter, importer, usd)
    with ape.reverts(financing.ReceivableFinancingInvalidAmount, amount=0):
        financing.applyForFinancing(invoice_id, bank_cn.address, 0, sender=exporter)
    with ape.reverts(financing.ReceivableFinancingAboveOutstanding, invoiceId=invoice_id, amount=FACE + 1,
                     outstanding=FACE):
        financing.applyForFinancing(invoice_id, bank_cn.address, FACE + 1, sender=exporter)


def test_L2_apply_is_capped_by_what_is_still_unpaid(chain, invoices, financing, usd, exporter, importer, bank_cn):
    """Audit L2: 100k advanced against 10k outstanding. The cap is what the buyer has not paid yet."""
    invoice_id = _invoice(chain, invoices, exporter, importer, usd)
    invoices.pay(invoice_id, FACE - 10_000_00, sender=importer)
    assert invoices.state(invoice_id) == InvoiceState.Confirmed
    with ape.reverts(financing.ReceivableFinancingAboveOutstanding, invoiceId=invoice_id, amount=10_000_01,
                     outstanding=10_000_00):
        financing.applyForFinancing(invoice_id, bank_cn.address, 10_000_01, sender=exporter)
    financing_id = _apply(financing, invoice_id, exporter, bank_cn, requested=10_000_00)
    assert financing.financing(financing_id).amount == 10_000_00


def test_L2_approve_is_capped_by_what_the_buyer_left_unpaid_since_the_application(chain, invoices, financing, usd,
                                                                              exporter, importer, bank_cn):
    invoice_id = _invoice(chain, invoices, exporter, importer, usd)
    financing_id = _apply(financing, invoice_id, exporter, bank_cn)  # ADVANCE requested against FACE unpaid
    invoices.pay(invoice_id, 100_000_00, sender=importer)  # meanwhile the buyer pays half, to the seller
    with ape.reverts(financing.ReceivableFinancingAboveOutstanding, invoiceId=invoice_id, amount=ADVANCE,
                     outstanding=FACE - 100_000_00):
        _approve(chain, financing, financing_id, bank_cn)
    assert financing.financing(financing_id).state == FinancingState.Applied
    seller_before = usd.balanceOf(exporter.address)
    _approve(chain, financing, financing_id, bank_cn, advance=FACE - 100_000_00)
    assert usd.balanceOf(exporter.address) == seller_before + FACE - 100_000_00
    assert (financing.financing(financing_id).amount, invoices.state(invoice_id)) == (
        FACE - 100_000_00, InvoiceState.Financed)


def test_apply_fails_to_a_party_that_is_not_a_bank(chain, invoices, financing, registry, usd, exporter, importer,
                                                   supplier1):
    invoice_id = _invoice(chain, invoices, exporter, importer, usd)
    with reverts_with(registry.AccessControlUnauthorizedAccount, account=supplier1.address,
                      neededRole=registry.BANK_ROLE()):
        financing.applyForFinancing(invoice_id, supplier1.address, ADVANCE, sender=exporter)


def test_M4_a_bank_whose_role_was_revoked_can_no_longer_approve(chain, invoices, financing, registry, operator, usd,
                                                             exporter, importer, bank_cn):
    """Audit M4: authority is the role, not the kind. Revoking BANK_ROLE removes every power of a bank."""
    financing_id = _apply(financing, _invoice(chain, invoices, exporter, importer, usd), exporter, bank_cn)
    registry.revokeRole(registry.BANK_ROLE(), bank_cn.address, sender=operator)
    with reverts_with(registry.AccessControlUnauthorizedAccount, account=bank_cn.address,
                      neededRole=registry.BANK_ROLE()):
        _approve(chain, financing, financing_id, bank_cn)
    with reverts_with(registry.AccessControlUnauthorizedAccount, account=bank_cn.address,
                      neededRole=registry.BANK_ROLE()):
        financing.reject(financing_id, text_hash("x"), sender=bank_cn)
    assert financing.financing(financing_id).state == FinancingState.Applied


def test_withdraw_by_the_seller_ends_the_application(chain, invoices, financing, usd, exporter, importer, bank_cn):
    financing_id = _apply(financing, _invoice(chain, invoices, exporter, importer, usd), exporter, bank_cn)
    with ape.reverts(financing.ReceivableFinancingNotSeller, caller=bank_cn.address):
        financing.withdraw(financing_id, sender=bank_cn)
    financing.withdraw(financing_id, sender=exporter)
    assert financing.financing(financing_id).state == FinancingState.Withdrawn
    with ape.reverts(financing.ReceivableFinancingUnexpectedState, current=FinancingState.Withdrawn):
        _approve(chain, financing, financing_id, bank_cn)


# ───────────────────────────── Decision ─────────────────────────────

def test_approve_pays_the_advance_and_takes_the_lien_in_one_transaction(chain, invoices, financing, usd,
                                                                          exporter, importer, bank_cn):
    invoice_id = _invoice(chain, invoices, exporter, importer, usd)
    financing_id = _apply(financing, invoice_id, exporter, bank_cn)
    seller_before, bank_before = usd.balanceOf(exporter.address), usd.balanceOf(bank_cn.address)
    receipt = _approve(chain, financing, financing_id, bank_cn)
    assert financing.FinancingApproved.from_receipt(receipt)[0].advanceAmount == ADVANCE
    assert invoices.LienTaken.from_receipt(receipt)[0].financier == bank_cn.address
    assert usd.balanceOf(exporter.address) == seller_before + ADVANCE
    assert usd.balanceOf(bank_cn.address) == bank_before - ADVANCE
    view = invoices.invoice(invoice_id)
    assert (view.state, view.lienInstrument, view.lienFinancier) == (
        InvoiceState.Financed, financing.address, bank_cn.address)
    stored = financing.financing(financing_id)
    assert (stored.state, stored.disbursedAt) == (FinancingState.Active, _block_time(chain, receipt))
    assert financing.activeFinancingOf(invoice_id) == financing_id


def test_financing_the_same_invoice_at_a_second_bank_fails(chain, invoices, financing, usd, exporter, importer,
                                                            bank_cn, bank_us):
    invoice_id = _invoice(chain, invoices, exporter, importer, usd)
    at_cn = _apply(financing, invoice_id, exporter, bank_cn)
    at_us = _apply(financing, invoice_id, exporter, bank_us)
    _approve(chain, financing, at_cn, bank_cn)
    liened = {"invoiceId": invoice_id, "instrument": financing.address, "financier": bank_cn.address}
    with ape.reverts(financing.ReceivableFinancingInvoiceLiened, **liened):
        _approve(chain, financing, at_us, bank_us)
    with ape.reverts(financing.ReceivableFinancingInvoiceLiened, **liened):
        financing.applyForFinancing(invoice_id, bank_us.address, ADVANCE, sender=exporter)
    assert financing.financing(at_us).state == FinancingState.Applied


def test_an_invoice_liened_by_another_instrument_is_named_as_such(chain, invoices, financing, platform, usd,
                                                                  exporter, importer, bank_cn):
    """The seller accepted a payable certificate on the invoice: the certificate tree holds the lien, and the
    bank is told so rather than that the invoice is "not confirmed"."""
    certificates = platform["PayableCertificates"]
    invoice_id = _invoice(chain, invoices, exporter, importer, usd)
    financing_id = _apply(financing, invoice_id, exporter, bank_cn)
    certificates.offer(invoice_id, FACE, invoices.invoice(invoice_id).dueDate, sender=importer)
    certificates.acceptOffer(invoice_id, sender=exporter)
    liened = {"invoiceId": invoice_id, "instrument": certificates.address, "financier": exporter.address}
    with ape.reverts(financing.ReceivableFinancingInvoiceLiened, **liened):
        _approve(chain, financing, financing_id, bank_cn)
    with ape.reverts(financing.ReceivableFinancingInvoiceLiened, **liened):
        financing.applyForFinancing(invoice_id, bank_cn.address, ADVANCE, sender=exporter)


def test_apply_to_an_invoice_that_is_not_confirmed_names_its_state(chain, invoices, financing, usd, exporter,
                                                                   importer, bank_cn):
    invoice_id = _invoice(chain, invoices, exporter, importer, usd, face=10_00)
    invoices.pay(invoice_id, 10_00, sender=importer)
    with ape.reverts(financing.ReceivableFinancingInvoiceNotConfirmed, invoiceId=invoice_id,
                     invoiceState=InvoiceState.Paid):
        financing.applyForFinancing(invoice_id, bank_cn.address, 10_00, sender=exporter)


def test_approve_fails_for_another_bank_or_twice(chain, invoices, financing, usd, exporter, importer, bank_cn,
                                                bank_us):
    financing_id = _apply(financing, _invoice(chain, invoices, exporter, importer, usd), exporter, bank_cn)
    with ape.reverts(financing.ReceivableFinancingNotBank, caller=bank_us.address):
        _approve(chain, financing, financing_id, bank_us)
    _approve(chain, financing, financing_id, bank_cn)
    with ape.reverts(financing.ReceivableFinancingUnexpectedState, current=FinancingState.Active):
        _approve(chain, financing, financing_id, bank_cn)


def test_approve_fails_for_bad_terms(chain, invoices, financing, usd, exporter, importer, bank_cn):
    financing_id = _apply(financing, _invoice(chain, invoices, exporter, importer, usd), exporter, bank_cn)
    with ape.reverts(financing.ReceivableFinancingInvalidAdvance, advanceAmount=ADVANCE + 1):
        _approve(chain, financing, financing_id, bank_cn, advance=ADVANCE + 1)
    with ape.reverts(financing.ReceivableFinancingInvalidAdvance, advanceAmount=0):
        _approve(chain, financing, financing_id, bank_cn, advance=0)
    with ape.reverts(financing.ReceivableFinancingInvalidRate, rateBps=10_001):
        _approve(chain, financing, financing_id, bank_cn, rate=10_001)
    with ape.reverts(financing.ReceivableFinancingInvalidMaturity):
        financing.approve(financing_id, ADVANCE, RATE_BPS, 1, text_hash("terms"), sender=bank_cn)


def test_approve_fails_when_the_seller_sold_the_invoice_meanwhile(chain, invoices, financing, usd, exporter,
                                                                  importer, supplier1, bank_cn):
    invoice_id = _invoice(chain, invoices, exporter, importer, usd)
    financing_id = _apply(financing, invoice_id, exporter, bank_cn)
    invoices.transferFrom(exporter.address, supplier1.address, invoice_id, sender=exporter)
    with ape.reverts(financing.ReceivableFinancingNotSeller, caller=exporter.address):
        _approve(chain, financing, financing_id, bank_cn)


def test_a_bank_requiring_a_customs_match_refuses_until_customs_attest_it(chain, invoices, financing, usd,
                                                                          exporter, importer, bank_cn, attester):
    receipt = financing.setCustomsMatchRequired(True, sender=bank_cn)
    assert financing.CustomsPolicySet.from_receipt(receipt)[0].customsMatchRequired
    invoice_id = _invoice(chain, invoices, exporter, importer, usd)
    financing_id = _apply(financing, invoice_id, exporter, bank_cn)
    with ape.reverts(financing.ReceivableFinancingCustomsMatchRequired, invoiceId=invoice_id):
        _approve(chain, financing, financing_id, bank_cn)
    invoices.attestCustoms(invoice_id, text_hash("decl"), FACE - 1, sender=attester)
    with ape.reverts(financing.ReceivableFinancingCustomsMatchRequired, invoiceId=invoice_id):
        _approve(chain, financing, financing_id, bank_cn)
    invoices.attestCustoms(invoice_id, text_hash("decl-2"), FACE, sender=attester)
    _approve(chain, financing, financing_id, bank_cn)
    assert financing.financing(financing_id).state == FinancingState.Active


def test_L7_a_bank_requiring_a_customs_match_sees_the_latest_declaration(chain, invoices, financing, registry,
                                                                      operator, usd, exporter, importer, bank_cn,
                                                                      attester, outsider):
    """Audit L7: a carrier's matching declaration does not hide the customs authority's later mismatch, and
    the carrier cannot overwrite that mismatch again."""
    registry.registerParticipant(outsider.address, ParticipantKind.Attester, jurisdiction("CN"),
                                 identity_hash("CARRIER-2"),
                                 sender=operator)
    carrier = outsider
    financing.setCustomsMatchRequired(True, sender=bank_cn)
    invoice_id = _invoice(chain, invoices, exporter, importer, usd)
    invoices.attestCustoms(invoice_id, text_hash("bill-of-lading"), FACE, sender=carrier)
    financing_id = _apply(financing, invoice_id, exporter, bank_cn)
    invoices.attestCustoms(invoice_id, text_hash("customs-declaration"), FACE // 2, sender=attester)
    with ape.reverts(financing.ReceivableFinancingCustomsMatchRequired, invoiceId=invoice_id):
        _approve(chain, financing, financing_id, bank_cn)
    with reverts_with(invoices.InvoiceRegistryNotCustomsAttester, attester=attester.address, caller=carrier.address):
        invoices.attestCustoms(invoice_id, text_hash("carrier-again"), FACE, sender=carrier)
    with ape.reverts(financing.ReceivableFinancingCustomsMatchRequired, invoiceId=invoice_id):
        _approve(chain, financing, financing_id, bank_cn)
    invoices.attestCustoms(invoice_id, text_hash("customs-declaration-amended"), FACE, sender=attester)
    _approve(chain, financing, financing_id, bank_cn)
    assert financing.financing(financing_id).state == FinancingState.Active


def test_reject_records_the_reason(chain, invoices, financing, usd, exporter, importer, bank_cn, bank_us):
    financing_id = _apply(financing, _invoice(chain, invoices, exporter, importer, usd), exporter, bank_cn)
    with ape.reverts(financing.ReceivableFinancingNotBank, caller=bank_us.address):
        financing.reject(financing_id, text_hash("x"), sender=bank_us)
    receipt = financing.reject(financing_id, text_hash("CREDIT-LIMIT"), sender=bank_cn)
    assert financing.FinancingRejected.from_receipt(receipt)[0].reasonCode == text_hash("CREDIT-LIMIT")
    assert financing.financing(financing_id).state == FinancingState.Rejected


def test_a_frozen_financing_refuses_its_transitions(chain, invoices, financing, registry, regulator, usd, exporter,
                                                    importer, bank_cn):
    financing_id = _apply(financing, _invoice(chain, invoices, exporter, importer, usd), exporter, bank_cn)
    registry.freezeInstrument(financing.address, financing_id, text_hash("SANCTIONS"), sender=regulator)
    with ape.reverts(financing.ReceivableFinancingFrozen, financingId=financing_id):
        _approve(chain, financing, financing_id, bank_cn)
    with ape.reverts(financing.ReceivableFinancingFrozen, financingId=financing_id):
        financing.withdraw(financing_id, sender=exporter)


def test_a_frozen_seller_cannot_withdraw_its_application(chain, invoices, financing, registry, regulator, usd,
                                                         exporter, importer, bank_cn):
    financing_id = _apply(financing, _invoice(chain, invoices, exporter, importer, usd), exporter, bank_cn)
    registry.freezeParticipant(exporter.address, text_hash("SANCTIONS"), sender=regulator)
    with reverts_with(registry.ParticipantRegistryParticipantFrozen, account=exporter.address):
        financing.withdraw(financing_id, sender=exporter)
    assert financing.financing(financing_id).state == FinancingState.Applied


def test_unknown_financing_is_refused(financing, bank_cn):
    with ape.reverts(financing.ReceivableFinancingUnknownFinancing, financingId=999):
        financing.reject(999, text_hash("x"), sender=bank_cn)


# ───────────────────────────── Repayment ─────────────────────────────

def test_buyer_payment_repays_principal_and_interest_to_the_bank_and_the_rest_to_the_seller(
        chain, invoices, financing, usd, exporter, importer, bank_cn):
    invoice_id, financing_id = _financed(chain, invoices, financing, usd, exporter, importer, bank_cn)
    disbursed_at = financing.financing(financing_id).disbursedAt
    advance_to(chain, disbursed_at + 61 * DAY)
    bank_before, seller_before = usd.balanceOf(bank_cn.address), usd.balanceOf(exporter.address)
    receipt = invoices.pay(invoice_id, FACE, sender=importer)
    owed = ADVANCE + _interest(ADVANCE, RATE_BPS, _block_time(chain, receipt) - disbursed_at)
    assert usd.balanceOf(bank_cn.address) == bank_before + owed
    assert usd.balanceOf(exporter.address) == seller_before + FACE - owed
    [closed] = financing.FinancingClosed.from_receipt(receipt)
    assert closed.totalRepaid == owed
    assert invoices.LienReleased.from_receipt(receipt)[0].financier == bank_cn.address
    assert invoices.state(invoice_id) == InvoiceState.Paid
    assert financing.financing(financing_id).state == FinancingState.Closed
    assert financing.activeFinancingOf(invoice_id) == 0


def test_partial_buyer_payments_go_to_the_bank_until_it_is_repaid(chain, invoices, financing, usd, exporter,
                                                                   importer, bank_cn):
    invoice_id, financing_id = _financed(chain, invoices, financing, usd, exporter, importer, bank_cn)
    bank_before, seller_before = usd.balanceOf(bank_cn.address), usd.balanceOf(exporter.address)
    invoices.pay(invoice_id, 100_000_00, sender=importer)
    assert usd.balanceOf(bank_cn.address) == bank_before + 100_000_00
    assert financing.financing(financing_id).repaidAmount == 100_000_00
    assert invoices.state(invoice_id) == InvoiceState.Financed
    receipt = invoices.pay(invoice_id, 100_000_00, sender=importer)
    disbursed_at = financing.financing(financing_id).disbursedAt
    owed = ADVANCE + _interest(ADVANCE, RATE_BPS, _block_time(chain, receipt) - disbursed_at)
    assert usd.balanceOf(bank_cn.address) == bank_before + owed
    assert usd.balanceOf(exporter.address) == seller_before + FACE - owed
    assert financing.financing(financing_id).state == FinancingState.Closed


def test_seller_repays_directly_and_the_lien_is_released(chain, invoices, financing, usd, exporter, importer,
                                                         bank_cn):
    invoice_id, financing_id = _financed(chain, invoices, financing, usd, exporter, importer, bank_cn)
    with ape.reverts(financing.ReceivableFinancingInvalidAmount, amount=0):
        financing.repay(financing_id, 0, sender=exporter)
    owed_soon = financing.owed(financing_id) + 10_000_00
    with ape.reverts(financing.ReceivableFinancingOverpayment, amount=owed_soon):
        financing.repay(financing_id, owed_soon, sender=exporter)
    disbursed_at = financing.financing(financing_id).disbursedAt
    chain.pending_timestamp = disbursed_at + 30 * DAY
    financing.repay(financing_id, 50_000_00, sender=exporter)
    settle_at = disbursed_at + 45 * DAY
    remaining = ADVANCE + _interest(ADVANCE, RATE_BPS, 45 * DAY) - 50_000_00
    chain.pending_timestamp = settle_at
    receipt = financing.repay(financing_id, remaining, sender=exporter)
    assert _block_time(chain, receipt) == settle_at
    assert invoices.LienReleased.from_receipt(receipt)[0].instrument == financing.address
    assert invoices.state(invoice_id) == InvoiceState.Confirmed
    assert financing.financing(financing_id).state == FinancingState.Closed


def test_bank_records_a_repayment_received_off_chain(chain, invoices, financing, usd, exporter, importer, bank_cn,
                                                     bank_us):
    _invoice_id, financing_id = _financed(chain, invoices, financing, usd, exporter, importer, bank_cn)
    with ape.reverts(financing.ReceivableFinancingNotBank, caller=bank_us.address):
        financing.recordRepayment(financing_id, 1_00, text_hash("wire"), sender=bank_us)
    receipt = financing.recordRepayment(financing_id, 60_000_00, text_hash("MT103-REF-1"), sender=bank_cn)
    [event] = financing.FinancingRepaid.from_receipt(receipt)
    assert (event.payer, event.amount, event.paymentReference) == (bank_cn.address, 60_000_00,
                                                                   text_hash("MT103-REF-1"))
    assert financing.financing(financing_id).repaidAmount == 60_000_00


def test_payment_hook_answers_only_the_invoice_registry(financing, exporter):
    with ape.reverts(financing.ReceivableFinancingNotInvoiceRegistry, caller=exporter.address):
        financing.onInvoicePayment(1, 1, 1, sender=exporter)


def test_L1_a_frozen_financing_is_not_repaid_by_the_buyers_payment(chain, invoices, financing, registry, regulator,
                                                                usd, exporter, importer, bank_cn):
    """Audit L1: the regulator froze the financing; the buyer's payment used to repay and close it anyway.
    The payment now reverts as a whole, and nothing moves until the financing is unfrozen."""
    invoice_id, financing_id = _financed(chain, invoices, financing, usd, exporter, importer, bank_cn)
    registry.freezeInstrument(financing.address, financing_id, text_hash("AML-HOLD"), sender=regulator)
    balances = [usd.balanceOf(a.address) for a in (bank_cn, exporter, importer)]
    with reverts_with(financing.ReceivableFinancingFrozen, financingId=financing_id):
        invoices.pay(invoice_id, FACE, sender=importer)
    with reverts_with(financing.ReceivableFinancingFrozen, financingId=financing_id):
        invoices.pay(invoice_id, 1_00, sender=importer)
    with ape.reverts(financing.ReceivableFinancingFrozen, financingId=financing_id):
        financing.repay(financing_id, 1_00, sender=exporter)
    assert [usd.balanceOf(a.address) for a in (bank_cn, exporter, importer)] == balances
    assert (invoices.invoice(invoice_id).paidAmount, invoices.state(invoice_id)) == (0, InvoiceState.Financed)
    stored = financing.financing(financing_id)
    assert (stored.state, stored.repaidAmount) == (FinancingState.Active, 0)

    registry.unfreezeInstrument(financing.address, financing_id, text_hash("AML-CLEAR"), sender=regulator)
    receipt = invoices.pay(invoice_id, FACE, sender=importer)
    assert financing.FinancingClosed.from_receipt(receipt)[0].financingId == financing_id
    assert invoices.state(invoice_id) == InvoiceState.Paid


def test_owed_at_quotes_the_payoff_on_a_date(chain, invoices, financing, usd, exporter, importer, bank_cn):
    invoice_id, financing_id = _financed(chain, invoices, financing, usd, exporter, importer, bank_cn)
    disbursed_at = financing.financing(financing_id).disbursedAt
    payoff_day = disbursed_at + 40 * DAY
    assert financing.owedAt(financing_id, payoff_day) == ADVANCE + _interest(ADVANCE, RATE_BPS, 40 * DAY)
    assert financing.owedAt(financing_id, 2 * YEAR + disbursed_at) == ADVANCE + _interest(ADVANCE, RATE_BPS,
                                                                                           2 * YEAR)
    # A date already past counts as now.
    assert financing.owedAt(financing_id, 0) == financing.owed(financing_id)
    assert financing.owedAt(financing_id, disbursed_at - DAY) == financing.owed(financing_id)

    chain.pending_timestamp = disbursed_at + 10 * DAY
    financing.repay(financing_id, 50_000_00, sender=exporter)
    quoted = financing.owedAt(financing_id, payoff_day)
    assert quoted == ADVANCE + _interest(ADVANCE, RATE_BPS, 40 * DAY) - 50_000_00
    chain.pending_timestamp = payoff_day
    receipt = financing.repay(financing_id, quoted, sender=exporter)  # the quote is exactly the payoff
    assert financing.FinancingClosed.from_receipt(receipt)[0].totalRepaid == quoted + 50_000_00
    assert financing.owedAt(financing_id, payoff_day + YEAR) == 0  # closed: nothing owed at any date
    assert invoices.state(invoice_id) == InvoiceState.Confirmed


def test_owed_at_is_zero_for_a_financing_that_was_never_approved(chain, invoices, financing, usd, exporter,
                                                                 importer, bank_cn):
    financing_id = _apply(financing, _invoice(chain, invoices, exporter, importer, usd), exporter, bank_cn)
    assert financing.owedAt(financing_id, now(chain) + YEAR) == 0
    assert financing.owedAt(999, now(chain) + YEAR) == 0


def test_the_debt_is_capped_so_that_every_financing_can_close(chain, invoices, financing, usd, exporter, importer,
                                                             bank_cn):
    """Advance plus interest never exceeds 2**48 - 1 minor units (`repaidAmount` is 48 bits)."""
    cap = 2**48 - 1
    advance = cap - 1_000_00
    usd.mint(bank_cn.address, advance, text_hash("reserve:large-advance"), sender=bank_cn)
    invoice_id, financing_id = _financed(chain, invoices, financing, usd, exporter, importer, bank_cn, face=cap,
                                         advance=advance, rate=10_000, due_in=3 * YEAR)
    disbursed_at = financing.financing(financing_id).disbursedAt
    assert financing.owedAt(financing_id, disbursed_at + 2 * YEAR) == cap
    advance_to(chain, disbursed_at + YEAR)
    assert financing.owed(financing_id) == cap
    receipt = financing.recordRepayment(financing_id, cap, text_hash("MT103-LARGE"), sender=bank_cn)
    assert financing.FinancingClosed.from_receipt(receipt)[0].totalRepaid == cap
    assert (financing.financing(financing_id).state, invoices.state(invoice_id)) == (
        FinancingState.Closed, InvoiceState.Confirmed)


# ───────────────────────────── Default and recourse ─────────────────────────────

def test_default_and_recourse_to_the_seller(chain, invoices, financing, usd, exporter, importer, bank_cn):
    invoice_id, financing_id = _financed(chain, invoices, financing, usd, exporter, importer, bank_cn,
                                         due_in=30 * DAY)
    with ape.reverts(financing.ReceivableFinancingUnexpectedState, current=FinancingState.Active):
        financing.claimRecourse(financing_id, sender=bank_cn)
    due = invoices.invoice(invoice_id).dueDate
    with ape.reverts(financing.ReceivableFinancingNotOverdue):
        financing.markDefault(financing_id, sender=bank_cn)
    invoices.pay(invoice_id, 20_000_00, sender=importer)  # the buyer pays a little, then nothing
    advance_to(chain, due + INVOICE_GRACE_PERIOD + 1)
    assert invoices.state(invoice_id) == InvoiceState.Defaulted
    receipt = financing.markDefault(financing_id, sender=bank_cn)
    assert financing.FinancingDefaulted.from_receipt(receipt)[0].outstanding > 0
    assert financing.financing(financing_id).state == FinancingState.Defaulted

    seller_before, bank_before = usd.balanceOf(exporter.address), usd.balanceOf(bank_cn.address)
    receipt = financing.claimRecourse(financing_id, sender=bank_cn)
    disbursed_at = financing.financing(financing_id).disbursedAt
    owed_total = ADVANCE + _interest(ADVANCE, RATE_BPS, _block_time(chain, receipt) - disbursed_at)
    recovered = owed_total - 20_000_00
    assert financing.RecourseClaimed.from_receipt(receipt)[0].amount == recovered
    assert usd.balanceOf(exporter.address) == seller_before - recovered
    assert usd.balanceOf(bank_cn.address) == bank_before + recovered
    assert financing.financing(financing_id).state == FinancingState.Closed
    view = invoices.invoice(invoice_id)
    assert (view.state, view.lienFinancier) == (InvoiceState.Defaulted, ZERO_ADDRESS)
    # The late buyer now pays the seller, who carried the loss.
    before = usd.balanceOf(exporter.address)
    invoices.pay(invoice_id, FACE - 20_000_00, sender=importer)
    assert usd.balanceOf(exporter.address) == before + FACE - 20_000_00


def test_late_buyer_payment_after_default_still_repays_the_bank(chain, invoices, financing, usd, exporter, importer,
                                                                bank_cn):
    invoice_id, financing_id = _financed(chain, invoices, financing, usd, exporter, importer, bank_cn,
                                         due_in=10 * DAY)
    advance_to(chain, invoices.invoice(invoice_id).dueDate + INVOICE_GRACE_PERIOD + 1)
    financing.markDefault(financing_id, sender=bank_cn)
    invoices.pay(invoice_id, FACE, sender=importer)
    assert financing.financing(financing_id).state == FinancingState.Closed
    assert invoices.state(invoice_id) == InvoiceState.Paid


# ───────────────────────────── Reverse factoring ─────────────────────────────

def _open_programme(financing, buyer, bank, rate=400, limit=500_000_00) -> int:
    receipt = financing.proposeProgramme(bank.address, rate, limit, sender=buyer)
    programme_id = int(financing.ProgrammeProposed.from_receipt(receipt)[0].programmeId)
    financing.acceptProgramme(programme_id, sender=bank)
    return programme_id


def test_reverse_factoring_finances_suppliers_at_the_programme_rate_within_its_limit(
        chain, invoices, financing, usd, importer, bank_us, supplier1, supplier2):
    programme_id = _open_programme(financing, importer, bank_us, rate=400, limit=250_000_00)
    assert financing.programme(programme_id).state == ProgrammeState.Open
    first = _invoice(chain, invoices, supplier1, importer, usd)
    receipt = financing.applyUnderProgramme(first, programme_id, 150_000_00, sender=supplier1)
    first_financing = int(financing.FinancingApplied.from_receipt(receipt)[0].financingId)
    assert financing.programmeOf(first_financing) == programme_id
    with ape.reverts(financing.ReceivableFinancingProgrammeRateMismatch, expectedRateBps=400, rateBps=850):
        _approve(chain, financing, first_financing, bank_us, advance=150_000_00, rate=850)
    _approve(chain, financing, first_financing, bank_us, advance=150_000_00, rate=400)
    assert financing.programme(programme_id).used == 150_000_00

    second = _invoice(chain, invoices, supplier2, importer, usd)
    receipt = financing.applyUnderProgramme(second, programme_id, 150_000_00, sender=supplier2)
    second_financing = int(financing.FinancingApplied.from_receipt(receipt)[0].financingId)
    with ape.reverts(financing.ReceivableFinancingProgrammeLimitExceeded, used=150_000_00, limit=250_000_00):
        _approve(chain, financing, second_financing, bank_us, advance=150_000_00, rate=400)

    invoices.pay(first, FACE, sender=importer)  # the core enterprise pays: the programme line revolves
    assert financing.programme(programme_id).used == 0
    _approve(chain, financing, second_financing, bank_us, advance=150_000_00, rate=400)
    assert financing.programme(programme_id).used == 150_000_00


def test_programme_applications_need_an_open_programme_on_the_invoice_buyer(
        chain, invoices, financing, usd, importer, exporter, exporter2, bank_us, bank_cn, supplier1):
    receipt = financing.proposeProgramme(bank_us.address, 400, 100_000_00, sender=importer)
    programme_id = int(financing.ProgrammeProposed.from_receipt(receipt)[0].programmeId)
    invoice_id = _invoice(chain, invoices, supplier1, importer, usd)
    with ape.reverts(financing.ReceivableFinancingUnexpectedProgrammeState, current=ProgrammeState.Proposed):
        financing.applyUnderProgramme(invoice_id, programme_id, 50_000_00, sender=supplier1)
    with ape.reverts(financing.ReceivableFinancingNotProgrammeParty, caller=bank_cn.address):
        financing.acceptProgramme(programme_id, sender=bank_cn)
    financing.acceptProgramme(programme_id, sender=bank_us)
    other_buyer = _invoice(chain, invoices, supplier1, exporter2, usd)
    with ape.reverts(financing.ReceivableFinancingNotProgrammeBuyer, invoiceBuyer=exporter2.address):
        financing.applyUnderProgramme(other_buyer, programme_id, 50_000_00, sender=supplier1)
    with ape.reverts(financing.ReceivableFinancingUnknownProgramme, programmeId=77):
        financing.applyUnderProgramme(invoice_id, 77, 50_000_00, sender=supplier1)
    with ape.reverts(financing.ReceivableFinancingNotProgrammeParty, caller=exporter.address):
        financing.closeProgramme(programme_id, sender=exporter)
    receipt = financing.closeProgramme(programme_id, sender=importer)
    assert financing.ProgrammeClosed.from_receipt(receipt)[0].closedBy == importer.address
    with ape.reverts(financing.ReceivableFinancingUnexpectedProgrammeState, current=ProgrammeState.Closed):
        financing.applyUnderProgramme(invoice_id, programme_id, 50_000_00, sender=supplier1)


@pytest.mark.parametrize("closer", ["importer", "bank_us"])
def test_L6_a_closed_programme_approves_nothing(chain, invoices, financing, usd, importer, bank_us, supplier1, closer,
                                             request):
    """Audit L6: an application made while the programme was open is not approved after the buyer (or the
    bank) closed it; the bank may still reject it."""
    programme_id = _open_programme(financing, importer, bank_us, rate=400, limit=500_000_00)
    invoice_id = _invoice(chain, invoices, supplier1, importer, usd)
    receipt = financing.applyUnderProgramme(invoice_id, programme_id, 100_000_00, sender=supplier1)
    financing_id = int(financing.FinancingApplied.from_receipt(receipt)[0].financingId)
    financing.closeProgramme(programme_id, sender=request.getfixturevalue(closer))
    with ape.reverts(financing.ReceivableFinancingUnexpectedProgrammeState, programmeId=programme_id,
                     current=ProgrammeState.Closed, expectedStates=states_bitmap(ProgrammeState.Open)):
        _approve(chain, financing, financing_id, bank_us, advance=100_000_00, rate=400)
    assert financing.programme(programme_id).used == 0
    assert invoices.invoice(invoice_id).lienFinancier == ZERO_ADDRESS
    financing.reject(financing_id, text_hash("PROGRAMME-CLOSED"), sender=bank_us)
    assert financing.financing(financing_id).state == FinancingState.Rejected


def test_propose_programme_fails_for_bad_terms(financing, importer, bank_us):
    with ape.reverts(financing.ReceivableFinancingInvalidRate, rateBps=10_001):
        financing.proposeProgramme(bank_us.address, 10_001, 1_00, sender=importer)
    with ape.reverts(financing.ReceivableFinancingInvalidAmount, amount=0):
        financing.proposeProgramme(bank_us.address, 400, 0, sender=importer)


# ───────────────────────────── Properties ─────────────────────────────

@settings(max_examples=25, deadline=None, phases=[Phase.explicit, Phase.generate],  # no shrinking: each example is chain work
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(face=st.integers(min_value=1_00, max_value=10_000_000_00),
       advance_share=st.integers(min_value=1, max_value=100),
       rate=st.integers(min_value=0, max_value=10_000),
       elapsed=st.integers(min_value=1, max_value=2 * YEAR))
def test_buyer_payment_split_is_exact_for_any_amount_rate_and_date(chain, invoices, financing, usd, exporter,
                                                                   importer, bank_cn, face, advance_share, rate,
                                                                   elapsed):
    advance = max(1, face * advance_share // 100)
    snapshot = chain.snapshot()  # each example starts from the same chain time (KYC stays valid)
    try:
        invoice_id, financing_id = _financed(chain, invoices, financing, usd, exporter, importer, bank_cn,
                                             face=face, advance=advance, rate=rate, due_in=3 * YEAR)
        disbursed_at = financing.financing(financing_id).disbursedAt
        chain.pending_timestamp = disbursed_at + elapsed
        bank_before, seller_before = usd.balanceOf(bank_cn.address), usd.balanceOf(exporter.address)
        receipt = invoices.pay(invoice_id, face, sender=importer)
        assert _block_time(chain, receipt) == disbursed_at + elapsed
        owed = advance + _interest(advance, rate, elapsed)
        to_bank = min(face, owed)
        assert usd.balanceOf(bank_cn.address) - bank_before == to_bank
        assert usd.balanceOf(exporter.address) - seller_before == face - to_bank
        assert financing.owed(financing_id) == max(0, owed - face)
        assert financing.financing(financing_id).state == (
            FinancingState.Closed if owed <= face else FinancingState.Active)
    finally:
        chain.restore(snapshot)


# ───────────────────────────── The story ─────────────────────────────

def test_exporter_invoice_from_registration_to_settlement(chain, invoices, financing, usd, exporter, importer,
                                                          attester, bank_cn, bank_us):
    """Registration, buyer confirmation, customs match, financing at one bank, refused financing at a second
    bank, buyer payment and settlement (issue 3, "Done when")."""
    invoice_id = register_invoice(chain, invoices, exporter, importer, usd, "CN-EXP-2026-0042", FACE, 60 * DAY)
    invoices.confirm(invoice_id, sender=importer)
    invoices.attestCustoms(invoice_id, text_hash("CN customs declaration 2026-0042"), FACE, sender=attester)
    assert invoices.customsOf(invoice_id) == (True, True)
    financing.setCustomsMatchRequired(True, sender=bank_cn)

    at_cn = _apply(financing, invoice_id, exporter, bank_cn, 180_000_00)
    at_us = _apply(financing, invoice_id, exporter, bank_us, 180_000_00)
    seller_start, bank_start = usd.balanceOf(exporter.address), usd.balanceOf(bank_cn.address)
    _approve(chain, financing, at_cn, bank_cn, advance=180_000_00, rate=600, maturity_in=60 * DAY)
    assert usd.balanceOf(exporter.address) == seller_start + 180_000_00
    with ape.reverts(financing.ReceivableFinancingInvoiceLiened, instrument=financing.address,
                     financier=bank_cn.address):
        _approve(chain, financing, at_us, bank_us, advance=180_000_00, rate=500, maturity_in=60 * DAY)
    financing.reject(at_us, text_hash("ALREADY-FINANCED"), sender=bank_us)

    advance_to(chain, invoices.invoice(invoice_id).dueDate)
    receipt = invoices.pay(invoice_id, FACE, sender=importer)
    elapsed = _block_time(chain, receipt) - financing.financing(at_cn).disbursedAt
    owed = 180_000_00 + _interest(180_000_00, 600, elapsed)
    assert usd.balanceOf(bank_cn.address) == bank_start - 180_000_00 + owed
    assert usd.balanceOf(exporter.address) == seller_start + 180_000_00 + FACE - owed
    assert invoices.state(invoice_id) == InvoiceState.Paid
    assert (financing.financing(at_cn).state, financing.financing(at_us).state) == (
        FinancingState.Closed, FinancingState.Rejected)
    assert invoices.invoice(invoice_id).lienFinancier == ZERO_ADDRESS
