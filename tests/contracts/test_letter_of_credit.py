"""Letters of credit under UCP 600: discrepancies on their boundary days, examination, honour, margin.

Parties: importer (US, applicant), exporter (CN, beneficiary), bank_us (issuing), bank_cn (advising).
Days are relative to a Monday ahead of the chain's clock (see `lc_world`).
"""

from __future__ import annotations

import ape
import pytest
from _reverts import reverts_with
from lc_world import (
    AMOUNT,
    EXPIRY,
    FULL_DOCUMENTS,
    INVOICE_DUE_AFTER,
    LATEST_SHIPMENT,
    MAX_ALLOWANCE,
    REQUIRED_DOCUMENTS,
    REQUIRED_TYPES,
    SHIPPING_DOCUMENT_SET,
    SHIPPING_DOCUMENTS,
    Credits,
    at_noon,
    documents,
    next_monday,
)

from app.core.enums import Availability, CreditState, Discrepancy, DocumentType, InvoiceState, PresentationState
from scripts._common import text_hash
from scripts._letters_of_credit import DAY, UCP_ARTICLE

# The plain path (no invoice, no margin applied): a presentation with its invoice takes the lien (about
# 204,000 gas) and honouring it settles the invoice and releases the lien (about 144,000).
GAS_BUDGETS = {"apply": 200_000, "issue": 120_000, "present": 150_000, "honour_pay": 120_000}


@pytest.fixture(scope="module")
def lc(platform):
    return platform["LetterOfCredit"]


@pytest.fixture(scope="module", autouse=True)
def _resolve_world_early(project, platform, registry, operator, regulator, outsider, bank_cn):
    """Resolve wider-scoped fixtures before Ape's per-test isolation snapshot (no costly rebasing)."""


@pytest.fixture(scope="module")
def approvals(lc, usd, importer, bank_us):
    """The applicant approves the contract for its margin, the issuing bank for its payments."""
    usd.approve(lc.address, MAX_ALLOWANCE, sender=importer)
    usd.approve(lc.address, MAX_ALLOWANCE, sender=bank_us)


@pytest.fixture
def credits(chain, lc, importer, exporter, bank_us, bank_cn, usd, approvals) -> Credits:
    return Credits(chain, lc, importer, exporter, bank_us, bank_cn, usd, next_monday(chain))


# ───────────────────────────── Discrepancy codes on their boundary days ─────────────────────────────

# (code, terms changes, presentation facts that just pass, the same facts one step over)
# Facts: day (presentation), shipment_day, amount, docs. Defaults: day 12, shipment day 3, AMOUNT, all.
BOUNDARIES = [
    # Shipment on the latest shipment day passes; one day later fails.
    (Discrepancy.LATE_SHIPMENT, {}, {"shipment_day": LATEST_SHIPMENT}, {"shipment_day": LATEST_SHIPMENT + 1}),
    # Presentation on day 21 after shipment passes; day 22 fails.
    (Discrepancy.LATE_PRESENTATION, {}, {"shipment_day": 5, "day": 5 + 21}, {"shipment_day": 5, "day": 5 + 22}),
    # Presentation on the expiry day passes; the day after fails (a long period keeps Art. 14(c) quiet).
    (Discrepancy.EXPIRED, {"presentationPeriodDays": 60}, {"day": EXPIRY}, {"day": EXPIRY + 1}),
    # Exactly +10% on an "about" credit passes; one minor unit more fails.
    (Discrepancy.OVER_TOLERANCE, {}, {"amount": AMOUNT * 110 // 100}, {"amount": AMOUNT * 110 // 100 + 1}),
    # Partial shipments prohibited: a drawing of exactly -10% passes; one minor unit less fails.
    (
        Discrepancy.PARTIAL_NOT_ALLOWED,
        {"partialShipmentsAllowed": False},
        {"amount": AMOUNT * 90 // 100},
        {"amount": AMOUNT * 90 // 100 - 1},
    ),
    # Every required document passes; one missing fails.
    (Discrepancy.MISSING_DOCUMENT, {}, {"docs": FULL_DOCUMENTS}, {"docs": FULL_DOCUMENTS[:-1]}),
]


@pytest.mark.parametrize("outcome", ["passes", "fails"])
@pytest.mark.parametrize(
    "code, changes, passing, failing", BOUNDARIES, ids=[f"{b[0].name}-{UCP_ARTICLE[b[0]]}" for b in BOUNDARIES]
)
def test_discrepancy_code_on_its_boundary(credits, lc, code, changes, passing, failing, outcome):
    lc_id = credits.open(**changes)
    facts = {"day": 12, **(passing if outcome == "passes" else failing)}
    presentation_id = credits.present(lc_id, **facts)

    found = lc.presentation(lc_id, presentation_id).discrepancies
    assert found == (0 if outcome == "passes" else int(code))


def test_late_shipment_and_late_presentation_are_both_reported(credits, lc):
    lc_id = credits.open()
    presentation_id = credits.present(lc_id, shipment_day=LATEST_SHIPMENT + 1, day=LATEST_SHIPMENT + 23)
    found = lc.presentation(lc_id, presentation_id).discrepancies
    assert found == Discrepancy.LATE_SHIPMENT | Discrepancy.LATE_PRESENTATION


def test_second_drawing_is_partial_when_partial_shipments_are_prohibited(credits, lc, bank_us):
    lc_id = credits.open(partialShipmentsAllowed=False)
    first = credits.present(lc_id, day=12, amount=AMOUNT // 2 + AMOUNT // 2)
    second = credits.present(lc_id, day=13, amount=AMOUNT // 10)
    assert lc.presentation(lc_id, first).discrepancies == 0
    assert lc.presentation(lc_id, second).discrepancies == Discrepancy.PARTIAL_NOT_ALLOWED


def test_without_stated_tolerance_partial_prohibition_allows_five_percent_less(credits, lc):
    lc_id = credits.open(partialShipmentsAllowed=False, tolerancePercent=0)
    assert lc.previewDiscrepancies(lc_id, credits.base * DAY, AMOUNT * 95 // 100, REQUIRED_DOCUMENTS) == 0
    assert (
        lc.previewDiscrepancies(lc_id, credits.base * DAY, AMOUNT * 95 // 100 - 1, REQUIRED_DOCUMENTS)
        == Discrepancy.PARTIAL_NOT_ALLOWED
    )
    assert lc.previewDiscrepancies(lc_id, credits.base * DAY, AMOUNT + 1, REQUIRED_DOCUMENTS) == (
        Discrepancy.OVER_TOLERANCE
    )


def test_open_presentations_count_against_the_tolerance_ceiling(credits, lc):
    lc_id = credits.open()
    credits.present(lc_id, day=12, amount=AMOUNT)
    second = credits.present(lc_id, day=12, amount=AMOUNT // 10 + 1)
    assert lc.presentation(lc_id, second).discrepancies == Discrepancy.OVER_TOLERANCE
    assert lc.drawings(lc_id).reserved == AMOUNT


# ───────────────────────────── Application, issuance, advice ─────────────────────────────


def test_apply_records_mt700_terms_with_the_default_presentation_period(credits, lc, importer, bank_us):
    terms = credits.terms()
    receipt = lc.applyForCredit(terms.as_tuple(), sender=importer)
    event = receipt.events.filter(lc.CreditApplied)[0]
    lc_id = event.lcId

    assert lc_id == lc.creditCount()
    assert event.applicant == importer.address and event.issuingBank == bank_us.address
    stored = lc.terms(lc_id)
    assert stored.beneficiary == terms.beneficiary
    assert stored.amount == AMOUNT and stored.tolerancePercent == 10
    assert stored.presentationPeriodDays == 21
    assert stored.requiredDocuments == REQUIRED_DOCUMENTS
    assert lc.applicantOf(lc_id) == importer.address
    assert lc.state(lc_id) == CreditState.Applied


def test_issue_escrows_the_applicants_margin(credits, lc, usd, importer, bank_us):
    lc_id = credits.apply()
    before = usd.balanceOf(importer.address)
    receipt = lc.issue(lc_id, AMOUNT // 5, sender=bank_us)

    assert receipt.events.filter(lc.CreditIssued)[0].margin == AMOUNT // 5
    assert usd.balanceOf(importer.address) == before - AMOUNT // 5
    assert usd.balanceOf(lc.address) == AMOUNT // 5
    margin = lc.margin(lc_id)
    assert (margin.escrowed, margin.held, margin.applied, margin.released) == (AMOUNT // 5, AMOUNT // 5, 0, 0)
    assert lc.state(lc_id) == CreditState.Issued


def test_advise_by_the_advising_bank(credits, lc, bank_cn):
    lc_id = credits.apply()
    lc.issue(lc_id, 0, sender=credits.issuing_bank)
    receipt = lc.advise(lc_id, sender=bank_cn)
    assert receipt.events.filter(lc.CreditAdvised)[0].advisingBank == bank_cn.address
    assert lc.state(lc_id) == CreditState.Advised


def test_presentation_fails_before_the_credit_is_advised(credits, lc, exporter):
    lc_id = credits.apply()
    lc.issue(lc_id, 0, sender=credits.issuing_bank)
    with ape.reverts(lc.LetterOfCreditUnexpectedState, lcId=lc_id, current=int(CreditState.Issued)):
        lc.present(lc_id, SHIPPING_DOCUMENTS, credits.base * DAY, AMOUNT, sender=exporter)
    invoice_id = credits.invoice(AMOUNT, credits.chain.pending_timestamp + INVOICE_DUE_AFTER)
    with ape.reverts(lc.LetterOfCreditUnexpectedState, lcId=lc_id, current=int(CreditState.Issued)):
        lc.presentWithInvoice(lc_id, FULL_DOCUMENTS, credits.base * DAY, AMOUNT, invoice_id, sender=exporter)


@pytest.mark.parametrize("who", ["importer", "bank_us"])
def test_application_cancelled_by_applicant_or_declined_by_issuing_bank(credits, lc, who, request):
    lc_id = credits.apply()
    caller = request.getfixturevalue(who)
    receipt = lc.cancelApplication(lc_id, sender=caller)
    assert receipt.events.filter(lc.ApplicationCancelled)[0].by == caller.address
    assert lc.state(lc_id) == CreditState.Cancelled


def test_application_expires_when_not_issued_by_its_expiry_day(credits, lc, bank_us):
    lc_id = credits.apply()
    credits.at(at_noon(credits.base + EXPIRY + 1))
    with ape.reverts(lc.LetterOfCreditUnexpectedState, current=int(CreditState.Expired)):
        lc.issue(lc_id, 0, sender=bank_us)


# ───────────────────────────── Amendments (Art. 10) ─────────────────────────────


def test_amendment_takes_effect_only_when_the_beneficiary_accepts(credits, lc, bank_us, exporter):
    lc_id = credits.open()
    amendment = (AMOUNT * 2, (credits.base + EXPIRY + 30) * DAY, (credits.base + LATEST_SHIPMENT + 5) * DAY,
                 REQUIRED_DOCUMENTS)
    receipt = lc.proposeAmendment(lc_id, amendment, sender=bank_us)
    assert receipt.events.filter(lc.AmendmentProposed)[0].amendmentNumber == 1
    # Until accepted, the original terms stay in force (Art. 10(c)).
    assert lc.terms(lc_id).amount == AMOUNT
    assert lc.previewDiscrepancies(lc_id, credits.base * DAY, AMOUNT * 2, REQUIRED_DOCUMENTS) == (
        Discrepancy.OVER_TOLERANCE
    )

    receipt = lc.acceptAmendment(lc_id, sender=exporter)

    assert receipt.events.filter(lc.AmendmentAccepted)[0].amendmentNumber == 1
    terms = lc.terms(lc_id)
    assert terms.amount == AMOUNT * 2 and terms.expiryDate == amendment[1]
    assert terms.latestShipmentDate == amendment[2]
    assert lc.pendingAmendment(lc_id).pending is False
    assert lc.previewDiscrepancies(lc_id, credits.base * DAY, AMOUNT * 2, REQUIRED_DOCUMENTS) == 0


def test_rejected_amendment_leaves_the_terms_unchanged(credits, lc, bank_us, exporter):
    lc_id = credits.open()
    amendment = (AMOUNT // 2, (credits.base + EXPIRY) * DAY, (credits.base + LATEST_SHIPMENT) * DAY,
                 REQUIRED_DOCUMENTS | (1 << int(DocumentType.InsuranceDocument)))
    lc.proposeAmendment(lc_id, amendment, sender=bank_us)

    receipt = lc.rejectAmendment(lc_id, sender=exporter)

    assert receipt.events.filter(lc.AmendmentRejected)[0].amendmentNumber == 1
    assert lc.terms(lc_id).amount == AMOUNT
    assert lc.terms(lc_id).requiredDocuments == REQUIRED_DOCUMENTS
    pending, number, _ = lc.pendingAmendment(lc_id)
    assert pending is False and number == 1


def test_second_amendment_waits_for_the_answer_to_the_first(credits, lc, bank_us):
    lc_id = credits.open()
    amendment = (AMOUNT, (credits.base + EXPIRY) * DAY, (credits.base + LATEST_SHIPMENT) * DAY, REQUIRED_DOCUMENTS)
    lc.proposeAmendment(lc_id, amendment, sender=bank_us)
    with ape.reverts(lc.LetterOfCreditAmendmentPending, lcId=lc_id):
        lc.proposeAmendment(lc_id, amendment, sender=bank_us)


def test_answering_without_a_pending_amendment_fails(credits, lc, exporter):
    lc_id = credits.open()
    with ape.reverts(lc.LetterOfCreditNoPendingAmendment, lcId=lc_id):
        lc.acceptAmendment(lc_id, sender=exporter)


def test_amendment_cannot_cut_the_credit_below_what_is_drawn_and_reserved(credits, lc, bank_us):
    lc_id = credits.open()
    credits.present(lc_id, day=12, amount=AMOUNT // 2)
    amendment = (AMOUNT // 4, (credits.base + EXPIRY) * DAY, (credits.base + LATEST_SHIPMENT) * DAY,
                 REQUIRED_DOCUMENTS)
    with ape.reverts(lc.LetterOfCreditAmendmentBelowCommitted, lcId=lc_id, committed=AMOUNT // 2):
        lc.proposeAmendment(lc_id, amendment, sender=bank_us)


# ───────────────────────────── Cancellation (Art. 10(a)) ─────────────────────────────


def test_cancellation_needs_the_beneficiarys_consent_and_releases_the_margin(credits, lc, usd, importer, bank_us,
                                                                             exporter):
    lc_id = credits.open(margin=AMOUNT // 10)
    with ape.reverts(lc.LetterOfCreditNoCancellationRequest, lcId=lc_id):
        lc.consentToCancellation(lc_id, sender=exporter)
    lc.requestCancellation(lc_id, sender=bank_us)
    assert lc.cancellationRequested(lc_id).requested
    before = usd.balanceOf(importer.address)

    receipt = lc.consentToCancellation(lc_id, sender=exporter)

    assert receipt.events.filter(lc.CreditCancelled)[0].beneficiary == exporter.address
    assert receipt.events.filter(lc.MarginReleased)[0].amount == AMOUNT // 10
    assert usd.balanceOf(importer.address) == before + AMOUNT // 10
    assert lc.state(lc_id) == CreditState.Cancelled
    margin = lc.margin(lc_id)
    assert (margin.held, margin.released) == (0, AMOUNT // 10)


def test_cancellation_of_a_confirmed_credit_needs_the_confirming_banks_agreement(credits, lc, bank_us, bank_cn,
                                                                                exporter):
    lc_id = credits.open(confirmingBank=bank_cn.address)
    with ape.reverts(lc.LetterOfCreditNoCancellationRequest, lcId=lc_id):
        lc.agreeToCancellation(lc_id, sender=bank_cn)
    lc.requestCancellation(lc_id, sender=bank_us)
    with ape.reverts(lc.LetterOfCreditConfirmingBankAgreementMissing, lcId=lc_id, confirmingBank=bank_cn.address):
        lc.consentToCancellation(lc_id, sender=exporter)
    with ape.reverts(lc.LetterOfCreditUnauthorizedCaller, caller=bank_us.address, expected=bank_cn.address):
        lc.agreeToCancellation(lc_id, sender=bank_us)

    receipt = lc.agreeToCancellation(lc_id, sender=bank_cn)
    assert receipt.events.filter(lc.CancellationAgreedByConfirmingBank)[0].confirmingBank == bank_cn.address
    assert lc.cancellationRequested(lc_id) == (True, True)
    lc.consentToCancellation(lc_id, sender=exporter)

    assert lc.state(lc_id) == CreditState.Cancelled
    assert lc.terms(lc_id).confirmingBank == bank_cn.address


def test_cancellation_waits_for_open_presentations(credits, lc, bank_us, exporter):
    lc_id = credits.open()
    credits.present(lc_id, day=12)
    lc.requestCancellation(lc_id, sender=bank_us)
    with ape.reverts(lc.LetterOfCreditOpenPresentations, lcId=lc_id, open=1):
        lc.consentToCancellation(lc_id, sender=exporter)


# ───────────────────────────── Examination, waiver, refusal ─────────────────────────────


def test_compliant_presentation_is_honoured_at_sight_from_the_issuing_banks_funds(credits, lc, usd, bank_us,
                                                                                  exporter, importer):
    """The plain path, on a credit that asks for no commercial invoice (so no invoice lien), within the gas
    budgets of present and honour-and-pay."""
    lc_id = credits.open(requiredDocuments=SHIPPING_DOCUMENT_SET)
    credits.at(at_noon(credits.base + 12))
    receipt = lc.present(lc_id, SHIPPING_DOCUMENTS, (credits.base + 3) * DAY, AMOUNT, sender=exporter)
    assert receipt.gas_used <= GAS_BUDGETS["present"]
    presentation_id = receipt.events.filter(lc.DocumentsPresented)[0].presentationId
    assert lc.presentation(lc_id, presentation_id).discrepancies == 0
    lc.examine(lc_id, presentation_id, 0, sender=bank_us)
    assert lc.presentationState(lc_id, presentation_id) == PresentationState.Compliant
    # The applicant's balance plays no part: it has spent everything.
    usd.transfer(credits.advising_bank.address, usd.balanceOf(importer.address), sender=importer)
    bank_before, exporter_before = usd.balanceOf(bank_us.address), usd.balanceOf(exporter.address)

    receipt = lc.honour(lc_id, presentation_id, sender=bank_us)

    assert receipt.gas_used <= GAS_BUDGETS["honour_pay"]
    honoured = receipt.events.filter(lc.PresentationHonoured)[0]
    assert honoured["from"] == PresentationState.Compliant and honoured.maturityDate == 0
    assert receipt.events.filter(lc.PresentationPaid)[0].amount == AMOUNT
    assert usd.balanceOf(bank_us.address) == bank_before - AMOUNT
    assert usd.balanceOf(exporter.address) == exporter_before + AMOUNT
    assert lc.presentationState(lc_id, presentation_id) == PresentationState.Paid
    assert lc.state(lc_id) == CreditState.Exhausted


def test_bank_may_add_its_own_discrepancy_but_never_clear_an_onchain_one(credits, lc, bank_us):
    lc_id = credits.open()
    clean = credits.present(lc_id, day=12, amount=AMOUNT // 2)
    late = credits.present(lc_id, day=12, amount=AMOUNT // 2, shipment_day=LATEST_SHIPMENT + 1)

    lc.examine(lc_id, clean, Discrepancy.INCONSISTENT_DATA, sender=bank_us)
    lc.examine(lc_id, late, 0, sender=bank_us)

    assert lc.presentation(lc_id, clean).discrepancies == Discrepancy.INCONSISTENT_DATA
    assert lc.presentationState(lc_id, clean) == PresentationState.Discrepant
    assert lc.presentation(lc_id, late).discrepancies == Discrepancy.LATE_SHIPMENT
    assert lc.presentationState(lc_id, late) == PresentationState.Discrepant


def test_refusal_frees_the_reserved_amount(credits, lc, bank_us):
    lc_id = credits.open()
    presentation_id = credits.present(lc_id, day=12, docs=FULL_DOCUMENTS[:1])
    lc.examine(lc_id, presentation_id, 0, sender=bank_us)
    assert lc.drawings(lc_id).reserved == AMOUNT

    receipt = lc.refuse(lc_id, presentation_id, sender=bank_us)

    assert receipt.events.filter(lc.PresentationRefused)[0].discrepancies == Discrepancy.MISSING_DOCUMENT
    assert lc.presentationState(lc_id, presentation_id) == PresentationState.Refused
    assert lc.drawings(lc_id).reserved == 0 and lc.drawings(lc_id).available == AMOUNT * 110 // 100
    assert lc.presentationCounts(lc_id) == (1, 0)


def test_applicant_waiver_lets_the_bank_honour_a_discrepant_presentation(credits, lc, bank_us, importer):
    lc_id = credits.open()
    presentation_id = credits.present(lc_id, day=12, shipment_day=LATEST_SHIPMENT + 1)
    lc.examine(lc_id, presentation_id, 0, sender=bank_us)

    receipt = lc.waive(lc_id, presentation_id, sender=importer)
    assert receipt.events.filter(lc.DiscrepanciesWaived)[0].applicant == importer.address
    receipt = lc.honour(lc_id, presentation_id, sender=bank_us)

    assert receipt.events.filter(lc.PresentationHonoured)[0]["from"] == PresentationState.Waived
    assert lc.presentationState(lc_id, presentation_id) == PresentationState.Paid


def test_a_claim_beyond_the_ceiling_cannot_be_waived_nor_precluded(credits, lc, bank_us, importer):
    lc_id = credits.open()
    presentation_id = credits.present(lc_id, day=4, amount=AMOUNT * 2)
    credits.mine_at(at_noon(credits.base + 30))
    assert lc.presentationState(lc_id, presentation_id) == PresentationState.Presented
    lc.examine(lc_id, presentation_id, 0, sender=bank_us)
    with ape.reverts(lc.LetterOfCreditWaiverNotAllowed, lcId=lc_id, presentationId=presentation_id):
        lc.waive(lc_id, presentation_id, sender=importer)
    lc.refuse(lc_id, presentation_id, sender=bank_us)
    assert lc.drawings(lc_id).reserved == 0


# ───────────────────────────── Preclusion (Art. 14(b), 16(f)) ─────────────────────────────


def test_preclusion_after_five_banking_days_across_a_weekend(credits, lc, usd, bank_us, exporter):
    """Presented on a Thursday: Fri, Mon, Tue, Wed, Thu are the five banking days; Friday is too late."""
    lc_id = credits.open()
    thursday = 3
    examined_in_time = credits.present(lc_id, day=thursday, amount=AMOUNT // 2)
    left_unexamined = credits.present(lc_id, day=thursday, amount=AMOUNT // 2)
    deadline = lc.presentation(lc_id, left_unexamined).examinationDeadline
    assert deadline == (credits.base + thursday + 8) * DAY - 1  # last second of the next Thursday

    credits.at(at_noon(credits.base + thursday + 7))  # the fifth banking day
    lc.examine(lc_id, examined_in_time, 0, sender=bank_us)
    assert lc.presentationState(lc_id, left_unexamined) == PresentationState.Presented

    credits.at(at_noon(credits.base + thursday + 8))  # Friday: the bank has lost its right to refuse
    with ape.reverts(lc.LetterOfCreditUnexpectedPresentationState, presentationId=left_unexamined,
                     current=int(PresentationState.Precluded)):
        lc.examine(lc_id, left_unexamined, Discrepancy.INCONSISTENT_DATA, sender=bank_us)
    before = usd.balanceOf(exporter.address)
    receipt = lc.claimPreclusion(lc_id, left_unexamined, sender=exporter)

    assert receipt.events.filter(lc.PreclusionClaimed)[0].beneficiary == exporter.address
    assert receipt.events.filter(lc.PresentationHonoured)[0]["from"] == PresentationState.Precluded
    assert usd.balanceOf(exporter.address) == before + AMOUNT // 2


def test_examination_deadline_skips_only_the_weekend(credits, lc):
    lc_id = credits.open()
    monday = credits.present(lc_id, day=0, shipment_day=0, amount=AMOUNT // 4)
    friday = credits.present(lc_id, day=4, shipment_day=0, amount=AMOUNT // 4)
    assert lc.presentation(lc_id, monday).examinationDeadline == (credits.base + 8) * DAY - 1  # next Monday
    assert lc.presentation(lc_id, friday).examinationDeadline == (credits.base + 12) * DAY - 1  # next Friday


@pytest.mark.parametrize("weekend_day", [5, 6], ids=["saturday", "sunday"])
def test_L4_presentation_on_a_weekend_counts_from_monday(credits, lc, bank_us, weekend_day):
    """Documents received on a Saturday or Sunday count as received on Monday (Art. 33): the five banking
    days are Tue, Wed, Thu, Fri and the Monday after, not Mon to Fri."""
    lc_id = credits.open()
    presentation_id = credits.present(lc_id, day=weekend_day, shipment_day=0, amount=AMOUNT // 4)
    monday_after = credits.base + 14
    assert lc.presentation(lc_id, presentation_id).examinationDeadline == (monday_after + 1) * DAY - 1

    credits.mine_at(at_noon(credits.base + 12))  # past the Friday that counting from Saturday would end on
    assert lc.presentationState(lc_id, presentation_id) == PresentationState.Presented
    credits.mine_at((monday_after + 1) * DAY - 1)  # the last second of the fifth banking day
    assert lc.presentationState(lc_id, presentation_id) == PresentationState.Presented
    credits.at((monday_after + 1) * DAY)
    with ape.reverts(lc.LetterOfCreditUnexpectedPresentationState, presentationId=presentation_id,
                     current=int(PresentationState.Precluded)):
        lc.examine(lc_id, presentation_id, Discrepancy.INCONSISTENT_DATA, sender=bank_us)


# ───────────────────────────── Deferred payment, partial drawings, margin ─────────────────────────────


def test_deferred_payment_is_accepted_then_paid_by_any_active_participant_at_maturity(
    credits, lc, usd, registry, bank_us, exporter, supplier1, outsider
):
    lc_id = credits.open(availability=int(Availability.DeferredPayment), deferredPaymentDays=90)
    presentation_id = credits.present(lc_id, day=12, shipment_day=3)
    lc.examine(lc_id, presentation_id, 0, sender=bank_us)
    bank_before = usd.balanceOf(bank_us.address)

    receipt = lc.honour(lc_id, presentation_id, sender=bank_us)

    maturity = (credits.base + 3 + 90) * DAY
    assert receipt.events.filter(lc.PresentationHonoured)[0].maturityDate == maturity
    assert lc.presentationState(lc_id, presentation_id) == PresentationState.Honoured
    assert usd.balanceOf(bank_us.address) == bank_before
    credits.at(maturity - 3600)
    with ape.reverts(lc.LetterOfCreditNotMatured, lcId=lc_id, presentationId=presentation_id, maturityDate=maturity):
        lc.payAtMaturity(lc_id, presentation_id, sender=supplier1)

    credits.at(maturity)
    # Anyone with standing on the platform may send it; a stranger may not (every state change has an actor
    # the registry knows).
    with reverts_with(registry.ParticipantRegistryUnknownParticipant, account=outsider.address):
        lc.payAtMaturity(lc_id, presentation_id, sender=outsider)
    exporter_before = usd.balanceOf(exporter.address)
    receipt = lc.payAtMaturity(lc_id, presentation_id, sender=supplier1)

    assert receipt.events.filter(lc.PresentationPaid)[0].payer == bank_us.address
    assert usd.balanceOf(exporter.address) == exporter_before + AMOUNT
    assert lc.presentationState(lc_id, presentation_id) == PresentationState.Paid


def test_partial_presentations_until_the_credit_is_exhausted(credits, lc, usd, bank_us, importer, exporter):
    lc_id = credits.open(margin=AMOUNT // 10)
    bank_before = usd.balanceOf(bank_us.address)
    for day, share in ((5, 40), (6, 40), (7, 20)):
        presentation_id = credits.present(lc_id, day=day, amount=AMOUNT * share // 100)
        lc.examine(lc_id, presentation_id, 0, sender=bank_us)
        lc.honour(lc_id, presentation_id, sender=bank_us)
        margin = lc.margin(lc_id)
        assert margin.escrowed == margin.held + margin.applied + margin.released

    assert lc.state(lc_id) == CreditState.Exhausted
    assert lc.drawings(lc_id).drawn == AMOUNT
    margin = lc.margin(lc_id)
    assert (margin.applied, margin.held) == (AMOUNT // 10, 0)
    # Paid AMOUNT to the exporter, got the whole margin back from the applicant's escrow.
    assert usd.balanceOf(bank_us.address) == bank_before - AMOUNT + AMOUNT // 10
    with ape.reverts(lc.LetterOfCreditUnexpectedState, lcId=lc_id, current=int(CreditState.Exhausted)):
        lc.present(lc_id, SHIPPING_DOCUMENTS, credits.base * DAY, 1, sender=exporter)
    with ape.reverts(lc.LetterOfCreditNoMarginHeld, lcId=lc_id):
        lc.releaseMargin(lc_id, sender=importer)


def test_margin_is_applied_pro_rata_and_the_rest_released_after_expiry(credits, lc, usd, registry, bank_us,
                                                                       importer, supplier1, outsider):
    margin_amount = AMOUNT // 5
    lc_id = credits.open(margin=margin_amount)
    presentation_id = credits.present(lc_id, day=12, amount=AMOUNT * 30 // 100)
    lc.examine(lc_id, presentation_id, 0, sender=bank_us)

    receipt = lc.honour(lc_id, presentation_id, sender=bank_us)

    assert receipt.events.filter(lc.MarginApplied)[0].amount == margin_amount * 30 // 100
    with ape.reverts(lc.LetterOfCreditUnexpectedState, lcId=lc_id, current=int(CreditState.Advised)):
        lc.releaseMargin(lc_id, sender=supplier1)
    credits.at(at_noon(credits.base + EXPIRY + 1))
    with reverts_with(registry.ParticipantRegistryUnknownParticipant, account=outsider.address):
        lc.releaseMargin(lc_id, sender=outsider)
    importer_before = usd.balanceOf(importer.address)

    receipt = lc.releaseMargin(lc_id, sender=supplier1)

    released = margin_amount - margin_amount * 30 // 100
    assert receipt.events.filter(lc.MarginReleased)[0].amount == released
    assert usd.balanceOf(importer.address) == importer_before + released
    assert lc.state(lc_id) == CreditState.Expired
    margin = lc.margin(lc_id)
    assert (margin.escrowed, margin.held, margin.applied, margin.released) == (
        margin_amount, 0, margin_amount * 30 // 100, released)


def test_margin_waits_for_open_presentations_after_expiry(credits, lc, supplier1):
    lc_id = credits.open(margin=AMOUNT // 10)
    credits.present(lc_id, day=EXPIRY)
    credits.at(at_noon(credits.base + EXPIRY + 1))
    with ape.reverts(lc.LetterOfCreditOpenPresentations, lcId=lc_id, open=1):
        lc.releaseMargin(lc_id, sender=supplier1)


# ───────────────────────────── Done when: the CN exporter and the US importer ─────────────────────────────


def test_story_refused_then_waived_then_paid_at_maturity(chain, lc, usd, importer, exporter, bank_us, bank_cn,
                                                         approvals):
    """A US importer's credit for a CN exporter: one discrepant presentation refused, a second waived, a
    final one paid at maturity, within the gas budgets. Each shipment's commercial invoice is registered and
    presented with its documents; the credit's payments settle them in the invoice registry."""
    credits = Credits(chain, lc, importer, exporter, bank_us, bank_cn, usd, next_monday(chain))
    terms = credits.terms(availability=int(Availability.DeferredPayment), deferredPaymentDays=60,
                          requiredDocuments=REQUIRED_DOCUMENTS | (1 << int(DocumentType.CertificateOfOrigin)))
    receipt = lc.applyForCredit(terms.as_tuple(), sender=importer)
    assert receipt.gas_used <= GAS_BUDGETS["apply"]
    lc_id = receipt.events.filter(lc.CreditApplied)[0].lcId
    receipt = lc.issue(lc_id, AMOUNT // 10, sender=bank_us)
    assert receipt.gas_used <= GAS_BUDGETS["issue"]
    lc.advise(lc_id, sender=bank_cn)
    full = documents(*REQUIRED_TYPES, DocumentType.CertificateOfOrigin, tag="story")

    # 1. Shipped a day late: discrepant on chain, and the bank refuses (the invoice is free again).
    first_invoice = credits.invoice(AMOUNT // 2, at_noon(credits.base + 14) + INVOICE_DUE_AFTER)
    credits.at(at_noon(credits.base + 14))
    receipt = lc.presentWithInvoice(lc_id, full, (credits.base + LATEST_SHIPMENT + 1) * DAY, AMOUNT // 2,
                                    first_invoice, sender=exporter)
    first = receipt.events.filter(lc.DocumentsPresented)[0]
    assert first.discrepancies == Discrepancy.LATE_SHIPMENT
    lc.examine(lc_id, first.presentationId, 0, sender=bank_us)
    lc.refuse(lc_id, first.presentationId, sender=bank_us)

    # 2. The certificate of origin is missing: the importer waives, the bank accepts the draft.
    second = credits.present(lc_id, day=15, shipment_day=8, amount=AMOUNT // 2, docs=full[:-1])
    assert lc.presentation(lc_id, second).discrepancies == Discrepancy.MISSING_DOCUMENT
    lc.examine(lc_id, second, 0, sender=bank_us)
    lc.waive(lc_id, second, sender=importer)
    lc.honour(lc_id, second, sender=bank_us)

    # 3. A compliant final presentation, accepted and paid at maturity (60 days after shipment).
    final = credits.present(lc_id, day=16, shipment_day=9, amount=AMOUNT // 2, docs=full)
    lc.examine(lc_id, final, 0, sender=bank_us)
    lc.honour(lc_id, final, sender=bank_us)
    assert lc.state(lc_id) == CreditState.Exhausted
    exporter_before = usd.balanceOf(exporter.address)
    for presentation_id, shipment_day in ((second, 8), (final, 9)):
        credits.at((credits.base + shipment_day + 60) * DAY)
        receipt = lc.payAtMaturity(lc_id, presentation_id, sender=exporter)
        assert receipt.events.filter(usd.CrossBorderTransfer)[0].fromJurisdiction == b"US"

    assert usd.balanceOf(exporter.address) == exporter_before + AMOUNT
    assert [lc.presentationState(lc_id, p) for p in (first.presentationId, second, final)] == [
        PresentationState.Refused, PresentationState.Paid, PresentationState.Paid]
    margin = lc.margin(lc_id)
    assert (margin.applied, margin.held) == (AMOUNT // 10, 0)
    invoices = credits.invoices
    assert invoices.state(first_invoice) == InvoiceState.Confirmed  # refused: its lien released, nothing paid
    for presentation_id in (second, final):
        assert invoices.state(lc.presentation(lc_id, presentation_id).invoiceId) == InvoiceState.Paid


# ───────────────────────────── Guards: every custom error ─────────────────────────────


def test_unknown_credit_and_presentation(credits, lc):
    with ape.reverts(lc.LetterOfCreditNonexistent, lcId=999):
        lc.state(999)
    lc_id = credits.open()
    with ape.reverts(lc.LetterOfCreditNonexistentPresentation, lcId=lc_id, presentationId=7):
        lc.presentationState(lc_id, 7)


def test_transition_from_the_wrong_state_names_current_and_expected(credits, lc, bank_us):
    lc_id = credits.open()
    expected = (1 << int(CreditState.Applied)).to_bytes(32, "big")
    with ape.reverts(lc.LetterOfCreditUnexpectedState, lcId=lc_id, current=int(CreditState.Advised),
                     expectedStates=expected):
        lc.issue(lc_id, 0, sender=bank_us)
    presentation_id = credits.present(lc_id, day=12)
    with ape.reverts(lc.LetterOfCreditUnexpectedPresentationState, current=int(PresentationState.Presented)):
        lc.honour(lc_id, presentation_id, sender=bank_us)


def test_only_the_named_party_may_act(credits, lc, bank_cn, bank_us, importer, exporter, outsider):
    lc_id = credits.apply()
    with ape.reverts(lc.LetterOfCreditUnauthorizedCaller, caller=bank_cn.address, expected=bank_us.address):
        lc.issue(lc_id, 0, sender=bank_cn)
    with ape.reverts(lc.LetterOfCreditUnauthorizedCaller, caller=outsider.address):
        lc.cancelApplication(lc_id, sender=outsider)
    lc.issue(lc_id, 0, sender=bank_us)
    with ape.reverts(lc.LetterOfCreditUnauthorizedCaller, caller=bank_us.address, expected=bank_cn.address):
        lc.advise(lc_id, sender=bank_us)
    lc.advise(lc_id, sender=bank_cn)
    presentation_id = credits.present(lc_id, day=12, docs=FULL_DOCUMENTS[:1])
    lc.examine(lc_id, presentation_id, 0, sender=bank_us)
    with ape.reverts(lc.LetterOfCreditUnauthorizedCaller, caller=exporter.address, expected=importer.address):
        lc.waive(lc_id, presentation_id, sender=exporter)


def test_frozen_credit_refuses_every_transition_until_unfrozen(credits, lc, registry, regulator, exporter,
                                                              importer, bank_us):
    lc_id = credits.open(margin=AMOUNT // 10)
    presentation_id = credits.present(lc_id, day=12, docs=FULL_DOCUMENTS[:1])
    registry.freezeInstrument(lc.address, lc_id, text_hash("sanctions-screening"), sender=regulator)
    attempts = [
        (lambda: lc.present(lc_id, SHIPPING_DOCUMENTS, credits.base * DAY, AMOUNT, sender=exporter)),
        (lambda: lc.examine(lc_id, presentation_id, 0, sender=bank_us)),
        (lambda: lc.requestCancellation(lc_id, sender=bank_us)),
    ]
    for attempt in attempts:
        with ape.reverts(lc.LetterOfCreditFrozen, lcId=lc_id):
            attempt()

    registry.unfreezeInstrument(lc.address, lc_id, text_hash("cleared"), sender=regulator)
    lc.examine(lc_id, presentation_id, 0, sender=bank_us)
    registry.freezeInstrument(lc.address, lc_id, text_hash("sanctions-screening"), sender=regulator)
    for attempt in (lambda: lc.waive(lc_id, presentation_id, sender=importer),
                    lambda: lc.refuse(lc_id, presentation_id, sender=bank_us)):
        with ape.reverts(lc.LetterOfCreditFrozen, lcId=lc_id):
            attempt()
    assert lc.margin(lc_id).held == AMOUNT // 10  # nothing moved


def test_frozen_beneficiary_cannot_present(credits, lc, registry, regulator, exporter):
    lc_id = credits.open()
    invoice_id = credits.invoice(AMOUNT, credits.chain.pending_timestamp + INVOICE_DUE_AFTER)
    registry.freezeParticipant(exporter.address, text_hash("investigation"), sender=regulator)
    with reverts_with(registry.ParticipantRegistryParticipantFrozen, account=exporter.address):
        lc.present(lc_id, SHIPPING_DOCUMENTS, credits.base * DAY, AMOUNT, sender=exporter)
    with reverts_with(registry.ParticipantRegistryParticipantFrozen, account=exporter.address):
        lc.presentWithInvoice(lc_id, FULL_DOCUMENTS, credits.base * DAY, AMOUNT, invoice_id, sender=exporter)
    assert lc.presentationCounts(lc_id) == (0, 0)


def _bad_terms(credits, importer, exporter):
    base = credits.base
    return [
        (credits.terms(beneficiary=importer.address), "LetterOfCreditInvalidParties"),
        (credits.terms(currency="0x0000000000000000000000000000000000000000"), "LetterOfCreditInvalidCurrency"),
        (credits.terms(amount=0), "LetterOfCreditInvalidAmount"),
        (credits.terms(tolerancePercent=11), "LetterOfCreditInvalidTolerance"),
        (credits.terms(expiryDate=(base - 10) * DAY, latestShipmentDate=(base - 11) * DAY),
         "LetterOfCreditInvalidDates"),
        (credits.terms(latestShipmentDate=(base + EXPIRY + 1) * DAY), "LetterOfCreditInvalidDates"),
        (credits.terms(availability=int(Availability.DeferredPayment)), "LetterOfCreditInvalidAvailability"),
        (credits.terms(deferredPaymentDays=30), "LetterOfCreditInvalidAvailability"),
        (credits.terms(requiredDocuments=0), "LetterOfCreditInvalidDocumentSet"),
        (credits.terms(requiredDocuments=1 << 6), "LetterOfCreditInvalidDocumentSet"),
    ]


def test_malformed_terms_are_refused_at_application(credits, lc, importer, exporter):
    for terms, error in _bad_terms(credits, importer, exporter):
        with ape.reverts(getattr(lc, error)):
            lc.applyForCredit(terms.as_tuple(), sender=importer)


def test_margin_above_the_credit_amount_is_refused(credits, lc, bank_us):
    lc_id = credits.apply()
    with ape.reverts(lc.LetterOfCreditInvalidAmount, amount=AMOUNT + 1):
        lc.issue(lc_id, AMOUNT + 1, sender=bank_us)


def test_malformed_presentations_are_refused(credits, lc, exporter, bank_us):
    lc_id = credits.open()
    credits.at(at_noon(credits.base + 12))
    ship = (credits.base + 3) * DAY
    with ape.reverts(lc.LetterOfCreditInvalidDocument, index=0):
        lc.present(lc_id, [], ship, AMOUNT, sender=exporter)
    with ape.reverts(lc.LetterOfCreditInvalidDocument, index=1):
        lc.present(lc_id, [FULL_DOCUMENTS[0], (int(DocumentType.TransportDocument), b"\0" * 32)], ship, AMOUNT,
                   sender=exporter)
    with ape.reverts(lc.LetterOfCreditInvalidPresentationAmount, amount=0):
        lc.present(lc_id, SHIPPING_DOCUMENTS, ship, 0, sender=exporter)
    with ape.reverts(lc.LetterOfCreditInvalidShipmentDate):
        lc.present(lc_id, SHIPPING_DOCUMENTS, (credits.base + 13) * DAY, AMOUNT, sender=exporter)
    presentation_id = credits.present(lc_id, day=12)
    with ape.reverts(lc.LetterOfCreditInvalidDiscrepancies, discrepancies=1 << 7):
        lc.examine(lc_id, presentation_id, 1 << 7, sender=bank_us)


def test_credit_currency_must_be_a_settlement_token_the_invoice_registry_accepts(project, platform, credits, lc,
                                                                                 registry, operator, importer):
    """Audit note: the currency was never validated. A token the registry does not accept (here a fresh
    settlement token the operator never accepted) is refused like the zero address."""
    assert lc.invoiceRegistry() == platform["InvoiceRegistry"].address
    unaccepted = operator.deploy(project.SettlementToken, "tradefin GBP deposit", b"GBP", 2, registry.address,
                                 platform["Forwarder"].address)
    assert not platform["InvoiceRegistry"].isCurrency(unaccepted.address)
    for currency in (unaccepted.address, registry.address, "0x0000000000000000000000000000000000000000"):
        with ape.reverts(lc.LetterOfCreditInvalidCurrency, currency=currency):
            lc.applyForCredit(credits.terms(currency=currency).as_tuple(), sender=importer)
