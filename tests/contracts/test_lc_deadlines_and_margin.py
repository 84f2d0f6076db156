"""Letters of credit after the December 2026 audit: what the bank may declare, the deadlines a decision
must meet, and the per-credit margin account.

- M2: the bank declares only the documentary discrepancy (`INCONSISTENT_DATA`); the coded ones are the
  contract's.
- M1: a Compliant presentation not honoured within the five banking days reads Precluded, and a Waived one
  is due five banking days after the waiver; the beneficiary claims either as for the bank's silence.
- L5: a freeze of the credit during the examination extends the deadline by the time it was frozen.
- H1: margin is never applied after its release; the contract's balance of a currency always equals the sum
  of what it holds for each credit in it.
- Deferred payment and margin release are sent by active participants only.

Parties: importer (US, applicant), exporter (CN, beneficiary), bank_us (issuing), bank_cn (advising).
Days are relative to a Monday ahead of the chain's clock (see `lc_world`).
"""

from __future__ import annotations

import ape
import pytest
from _reverts import reverts_with
from lc_world import AMOUNT, EXPIRY, MAX_ALLOWANCE, SHIPPING_DOCUMENTS, Credits, at_noon, next_monday

from app.core.enums import Availability, CreditState, Discrepancy, PresentationState
from scripts._common import text_hash
from scripts._letters_of_credit import DAY

ALL_BANK_CODES = [1 << bit for bit in range(8)]


@pytest.fixture(scope="module", autouse=True)
def _resolve_world_early(project, platform, registry, operator, regulator, outsider, supplier1, supplier2):
    """Resolve wider-scoped fixtures before Ape's per-test isolation snapshot (no costly rebasing)."""


@pytest.fixture(scope="module")
def lc(platform):
    return platform["LetterOfCredit"]


@pytest.fixture(scope="module")
def invoices(platform):
    return platform["InvoiceRegistry"]


@pytest.fixture(scope="module")
def approvals(lc, usd, importer, bank_us):
    """The applicant approves the contract for its margin, the issuing bank for its payments."""
    usd.approve(lc.address, MAX_ALLOWANCE, sender=importer)
    usd.approve(lc.address, MAX_ALLOWANCE, sender=bank_us)


@pytest.fixture
def credits(chain, lc, importer, exporter, bank_us, bank_cn, usd, approvals) -> Credits:
    return Credits(chain, lc, importer, exporter, bank_us, bank_cn, usd, next_monday(chain))


def end_of(day: int) -> int:
    """The last second of UTC day number `day`."""
    return (day + 1) * DAY - 1


def assert_escrow_is_the_sum_held(lc, token) -> None:
    """The contract's balance of `token` is the sum of `margin(lcId).held` over the credits in `token`, and
    every credit's margin account balances."""
    held = 0
    for lc_id in range(1, lc.creditCount() + 1):
        margin = lc.margin(lc_id)
        assert margin.escrowed == margin.held + margin.applied + margin.released
        if lc.terms(lc_id).currency == token.address:
            held += margin.held
    assert token.balanceOf(lc.address) == held


# ───────────────────────────── M2: the bank declares only documentary discrepancies ─────────────────────────────


@pytest.mark.parametrize("code", [c for c in ALL_BANK_CODES if c != Discrepancy.INCONSISTENT_DATA],
                         ids=lambda c: Discrepancy(c).name if c < 1 << 7 else "UNKNOWN")
def test_M2_bank_may_not_declare_a_coded_discrepancy(credits, lc, bank_us, code):
    lc_id = credits.open()
    presentation_id = credits.present(lc_id, day=12)
    for declared in (code, code | Discrepancy.INCONSISTENT_DATA):
        with ape.reverts(lc.LetterOfCreditInvalidDiscrepancies, discrepancies=int(declared)):
            lc.examine(lc_id, presentation_id, declared, sender=bank_us)
    assert lc.presentationState(lc_id, presentation_id) == PresentationState.Presented


def test_M2_declaring_over_tolerance_can_no_longer_lock_the_credits_capacity(credits, lc, bank_us):
    """The audit's sequence: the bank marks a clean presentation OVER_TOLERANCE (unwaivable) and refuses it,
    and the refusal skipped releasing the reserve. Now only INCONSISTENT_DATA can be declared, and refusing
    frees the whole reserve."""
    lc_id = credits.open()
    presentation_id = credits.present(lc_id, day=12)
    with ape.reverts(lc.LetterOfCreditInvalidDiscrepancies, discrepancies=int(Discrepancy.OVER_TOLERANCE)):
        lc.examine(lc_id, presentation_id, Discrepancy.OVER_TOLERANCE, sender=bank_us)

    lc.examine(lc_id, presentation_id, Discrepancy.INCONSISTENT_DATA, sender=bank_us)
    lc.refuse(lc_id, presentation_id, sender=bank_us)

    drawings = lc.drawings(lc_id)
    assert (drawings.reserved, drawings.available) == (0, drawings.ceiling)


# ───────────────────────────── M1: a decision is honoured by the deadline ─────────────────────────────


def test_M1_compliant_presentation_not_honoured_in_five_banking_days_is_precluded(credits, lc, invoices, usd,
                                                                                   bank_us, exporter):
    """Presented on Monday (day 0): the five banking days end with the next Monday (day 7). The bank finds
    the documents compliant on day 2 and never honours."""
    lc_id = credits.open()
    presentation_id = credits.present(lc_id, day=0, shipment_day=0)
    deadline = end_of(credits.base + 7)
    assert lc.presentation(lc_id, presentation_id).examinationDeadline == deadline
    credits.at(at_noon(credits.base + 2))
    lc.examine(lc_id, presentation_id, 0, sender=bank_us)

    credits.at(at_noon(credits.base + 7))
    with ape.reverts(lc.LetterOfCreditUnexpectedPresentationState, presentationId=presentation_id,
                     current=int(PresentationState.Compliant)):
        lc.claimPreclusion(lc_id, presentation_id, sender=exporter)  # the fifth banking day is the bank's
    credits.mine_at(deadline)
    assert lc.presentationState(lc_id, presentation_id) == PresentationState.Compliant
    credits.mine_at(deadline + 1)
    assert lc.presentationState(lc_id, presentation_id) == PresentationState.Precluded
    before = usd.balanceOf(exporter.address)

    receipt = lc.claimPreclusion(lc_id, presentation_id, sender=exporter)

    assert receipt.events.filter(lc.PreclusionClaimed)[0].beneficiary == exporter.address
    assert receipt.events.filter(lc.PresentationHonoured)[0]["from"] == PresentationState.Precluded
    assert usd.balanceOf(exporter.address) == before + AMOUNT
    assert lc.presentationState(lc_id, presentation_id) == PresentationState.Paid
    invoice = invoices.invoice(lc.presentation(lc_id, presentation_id).invoiceId)
    assert invoice.paidAmount == AMOUNT and invoice.lienFinancier == ape.utils.ZERO_ADDRESS


def test_M1_waived_presentation_is_due_five_banking_days_after_the_waiver(credits, lc, usd, bank_us, importer,
                                                                          exporter):
    """Presented Monday (day 0) without a packing list; held discrepant on day 1; the importer waives on the
    Wednesday after the examination period (day 9). The bank then has Thu, Fri, Mon, Tue, Wed (day 16)."""
    lc_id = credits.open()
    presentation_id = credits.present(lc_id, day=0, shipment_day=0, docs=SHIPPING_DOCUMENTS)
    credits.at(at_noon(credits.base + 1))
    lc.examine(lc_id, presentation_id, 0, sender=bank_us)
    credits.mine_at(at_noon(credits.base + 9))
    assert lc.presentationState(lc_id, presentation_id) == PresentationState.Discrepant  # holding has no clock

    lc.waive(lc_id, presentation_id, sender=importer)

    deadline = end_of(credits.base + 16)
    assert lc.presentation(lc_id, presentation_id).examinationDeadline == deadline
    credits.mine_at(deadline)
    assert lc.presentationState(lc_id, presentation_id) == PresentationState.Waived
    credits.mine_at(deadline + 1)
    assert lc.presentationState(lc_id, presentation_id) == PresentationState.Precluded
    before = usd.balanceOf(exporter.address)

    receipt = lc.claimPreclusion(lc_id, presentation_id, sender=exporter)

    assert receipt.events.filter(lc.PresentationHonoured)[0]["from"] == PresentationState.Precluded
    assert usd.balanceOf(exporter.address) == before + AMOUNT


def test_M1_an_early_waiver_still_leaves_five_banking_days_after_it(credits, lc, bank_us, importer):
    """Presented Monday (day 0), waived on Friday (day 4): due the Friday after (day 11), later than the
    presentation's own deadline (day 7)."""
    lc_id = credits.open()
    presentation_id = credits.present(lc_id, day=0, shipment_day=0, docs=SHIPPING_DOCUMENTS)
    lc.examine(lc_id, presentation_id, 0, sender=bank_us)
    credits.at(at_noon(credits.base + 4))
    lc.waive(lc_id, presentation_id, sender=importer)

    assert lc.presentation(lc_id, presentation_id).examinationDeadline == end_of(credits.base + 11)
    credits.at(at_noon(credits.base + 10))
    lc.honour(lc_id, presentation_id, sender=bank_us)  # day 10: past day 7, within the waiver's period
    assert lc.presentationState(lc_id, presentation_id) == PresentationState.Paid


# ───────────────────────────── L5: a freeze extends the deadline ─────────────────────────────


def test_L5_a_freeze_during_the_examination_extends_the_deadline_by_the_frozen_time(credits, lc, registry,
                                                                                     regulator, bank_us):
    lc_id = credits.open()
    presentation_id = credits.present(lc_id, day=0, shipment_day=0)
    plain_deadline = end_of(credits.base + 7)
    credits.at(at_noon(credits.base + 2))
    registry.freezeInstrument(lc.address, lc_id, text_hash("sanctions-screening"), sender=regulator)
    credits.at(at_noon(credits.base + 4))
    registry.unfreezeInstrument(lc.address, lc_id, text_hash("cleared"), sender=regulator)
    frozen, frozen_time = registry.instrumentFreeze(lc.address, lc_id)
    assert not frozen and frozen_time == 2 * DAY

    deadline = plain_deadline + frozen_time
    assert lc.presentation(lc_id, presentation_id).examinationDeadline == deadline
    credits.mine_at(plain_deadline + 1)
    assert lc.presentationState(lc_id, presentation_id) == PresentationState.Presented
    credits.at(at_noon(credits.base + 9))  # past the plain deadline, within the extension
    lc.examine(lc_id, presentation_id, 0, sender=bank_us)
    assert lc.presentationState(lc_id, presentation_id) == PresentationState.Compliant
    credits.mine_at(deadline + 1)
    assert lc.presentationState(lc_id, presentation_id) == PresentationState.Precluded


def test_L5_the_deadline_grows_while_the_credit_is_frozen(credits, lc, registry, regulator):
    lc_id = credits.open()
    presentation_id = credits.present(lc_id, day=0, shipment_day=0)
    plain_deadline = end_of(credits.base + 7)
    credits.at(at_noon(credits.base + 6))
    registry.freezeInstrument(lc.address, lc_id, text_hash("sanctions-screening"), sender=regulator)

    credits.mine_at(at_noon(credits.base + 20))  # long after the plain deadline, still frozen
    view = lc.presentation(lc_id, presentation_id)
    assert view.state == PresentationState.Presented
    assert view.examinationDeadline == plain_deadline + 14 * DAY


def test_L5_a_freeze_before_the_presentation_does_not_extend_its_deadline(credits, lc, registry, regulator):
    lc_id = credits.open()
    credits.at(at_noon(credits.base))
    registry.freezeInstrument(lc.address, lc_id, text_hash("sanctions-screening"), sender=regulator)
    credits.at(at_noon(credits.base + 1))
    registry.unfreezeInstrument(lc.address, lc_id, text_hash("cleared"), sender=regulator)
    assert registry.instrumentFreeze(lc.address, lc_id).frozenTime == DAY

    presentation_id = credits.present(lc_id, day=2, shipment_day=0)  # Wednesday: due the next Wednesday

    assert lc.presentation(lc_id, presentation_id).examinationDeadline == end_of(credits.base + 9)


# ───────────────────────────── H1: one margin account per credit ─────────────────────────────


@pytest.mark.parametrize("path", ["precluded", "waived"])
def test_H1_margin_is_never_applied_after_its_release(credits, lc, usd, bank_us, importer, exporter, supplier1,
                                                      path):
    """The audit's sequence: credit A expires and its margin goes back to the importer; the exporter then
    presents late under A, and the presentation is honoured (the bank waived by the applicant, or precluded
    by its silence). Nothing may be applied: A holds nothing, and B's escrow is B's."""
    margin_a, margin_b = AMOUNT // 10, AMOUNT // 5
    credit_a = credits.open(margin=margin_a)
    credit_b = credits.open(margin=margin_b, expiryDate=(credits.base + EXPIRY + 30) * DAY)
    assert_escrow_is_the_sum_held(lc, usd)
    credits.at(at_noon(credits.base + EXPIRY + 1))
    lc.releaseMargin(credit_a, sender=supplier1)
    assert lc.state(credit_a) == CreditState.Expired
    assert_escrow_is_the_sum_held(lc, usd)

    late = credits.present(credit_a, day=EXPIRY + 1, shipment_day=EXPIRY - 10)
    assert lc.presentation(credit_a, late).discrepancies & Discrepancy.EXPIRED
    if path == "waived":
        lc.examine(credit_a, late, 0, sender=bank_us)
        lc.waive(credit_a, late, sender=importer)
        receipt = lc.honour(credit_a, late, sender=bank_us)
    else:
        credits.mine_at(lc.presentation(credit_a, late).examinationDeadline + 1)
        receipt = lc.claimPreclusion(credit_a, late, sender=exporter)

    assert receipt.events.filter(lc.PresentationPaid)[0].amount == AMOUNT
    assert not receipt.events.filter(lc.MarginApplied)
    margin = lc.margin(credit_a)
    assert (margin.escrowed, margin.held, margin.applied, margin.released) == (margin_a, 0, 0, margin_a)
    assert lc.margin(credit_b).held == margin_b
    assert usd.balanceOf(lc.address) == margin_b
    assert_escrow_is_the_sum_held(lc, usd)


def test_H1_escrow_equals_the_sum_held_across_credits_through_their_lives(credits, lc, usd, bank_us, exporter,
                                                                          supplier1):
    """Three credits with margins: one drawn in part, one cancelled, one drawn in full; after every step the
    contract holds exactly what the credits hold."""
    drawn = credits.open(margin=AMOUNT // 10)
    cancelled = credits.open(margin=AMOUNT // 4)
    exhausted = credits.open(margin=AMOUNT // 3, partialShipmentsAllowed=False)
    assert_escrow_is_the_sum_held(lc, usd)

    for lc_id, amount in ((drawn, AMOUNT * 30 // 100), (exhausted, AMOUNT)):
        presentation_id = credits.present(lc_id, day=12, amount=amount)
        lc.examine(lc_id, presentation_id, 0, sender=bank_us)
        lc.honour(lc_id, presentation_id, sender=bank_us)
        assert_escrow_is_the_sum_held(lc, usd)
    assert lc.margin(drawn).applied == (AMOUNT // 10) * 30 // 100
    assert (lc.state(exhausted), lc.margin(exhausted).held) == (CreditState.Exhausted, 0)

    lc.requestCancellation(cancelled, sender=bank_us)
    lc.consentToCancellation(cancelled, sender=exporter)
    assert lc.margin(cancelled).released == AMOUNT // 4
    assert_escrow_is_the_sum_held(lc, usd)

    credits.at(at_noon(credits.base + EXPIRY + 1))
    lc.releaseMargin(drawn, sender=supplier1)
    assert_escrow_is_the_sum_held(lc, usd)
    assert usd.balanceOf(lc.address) == 0


# ───────────────────────────── Active callers ─────────────────────────────


def test_payment_at_maturity_and_margin_release_need_an_active_caller(credits, lc, registry, regulator, usd,
                                                                       bank_us, supplier1, supplier2, outsider):
    lc_id = credits.open(margin=AMOUNT // 10, availability=int(Availability.DeferredPayment),
                         deferredPaymentDays=30)
    presentation_id = credits.present(lc_id, day=12, shipment_day=3, amount=AMOUNT // 2)
    lc.examine(lc_id, presentation_id, 0, sender=bank_us)
    lc.honour(lc_id, presentation_id, sender=bank_us)
    registry.freezeParticipant(supplier1.address, text_hash("investigation"), sender=regulator)
    credits.at((credits.base + EXPIRY + 1) * DAY)  # matured (day 33) and the credit expired (day 40)

    for attempt in (lambda who: lc.payAtMaturity(lc_id, presentation_id, sender=who),
                    lambda who: lc.releaseMargin(lc_id, sender=who)):
        with reverts_with(registry.ParticipantRegistryUnknownParticipant, account=outsider.address):
            attempt(outsider)
        with reverts_with(registry.ParticipantRegistryParticipantFrozen, account=supplier1.address):
            attempt(supplier1)
    assert lc.presentationState(lc_id, presentation_id) == PresentationState.Honoured
    assert lc.margin(lc_id).held == AMOUNT // 10 - (AMOUNT // 10) // 2

    lc.payAtMaturity(lc_id, presentation_id, sender=supplier2)
    lc.releaseMargin(lc_id, sender=supplier2)
    assert lc.presentationState(lc_id, presentation_id) == PresentationState.Paid
    assert lc.margin(lc_id).held == 0
    assert_escrow_is_the_sum_held(lc, usd)
