"""Letters of credit, their amendments and presentations: the write routes.

Reads are the index's: `/v1/instruments/letter_of_credit/{id}` and `/v1/instruments/presentation/{lc}-{p}`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from app.api.deps import GatewayDep, WriteContextDep
from app.api.routes._write import respond
from app.schemas.common import ERROR_RESPONSES
from app.schemas.letters_of_credit import (
    AmendmentCreate,
    CreditApplication,
    CreditIssue,
    Examination,
    PresentationCreate,
)
from app.services import letters_of_credit as service
from app.services.results import written

router = APIRouter(prefix="/letters-of-credit", tags=["letters of credit"], responses=ERROR_RESPONSES)

LcId = Annotated[int, Path(ge=1, lt=2**256, description="The credit's id (decimal)")]
PresentationId = Annotated[int, Path(ge=1, lt=2**256, description="The presentation's id under the credit")]
AmendmentNumber = Annotated[int, Path(ge=1, lt=2**256, description="The amendment's number under the credit")]


# ───────────────────────────── Application and issuance ─────────────────────────────

@router.post("", **written("lc.apply"),
             summary="Apply for a letter of credit (the applicant, a corporate)",
             description="The caller is the applicant. Malformed terms answer 422 `LetterOfCreditInvalid*`; a "
             "party of the wrong kind or an inactive one is refused by the participant registry.")
async def apply(body: CreditApplication, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.apply(gateway, ctx, body), ctx)


@router.post("/{lc_id}/cancel-application", **written("lc.cancel_application"),
             summary="Withdraw an application (the applicant) or decline it (the issuing bank)")
async def cancel_application(lc_id: LcId, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.cancel_application(gateway, ctx, lc_id), ctx)


@router.post("/{lc_id}/issue", **written("lc.issue"), summary="Issue the credit (the issuing bank)",
             description="Escrows `margin_amount` from the applicant, who must have approved `LetterOfCredit` "
             "for at least that amount in the credit's currency (`POST /v1/approvals`, spender `LetterOfCredit`); "
             "otherwise 409 `ERC20InsufficientAllowance`. From now on the bank is irrevocably bound "
             "(UCP 600 Art. 7(b)).")
async def issue(lc_id: LcId, body: CreditIssue, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.issue(gateway, ctx, lc_id, body), ctx)


@router.post("/{lc_id}/advise", **written("lc.advise"),
             summary="Advise the credit to the beneficiary (the advising bank)")
async def advise(lc_id: LcId, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.advise(gateway, ctx, lc_id), ctx)


# ───────────────────────────── Amendments ─────────────────────────────

@router.post("/{lc_id}/amendments", **written("lc.propose_amendment"),
             summary="Propose an amendment (the issuing bank)",
             description="Nothing changes until the beneficiary accepts (Art. 10). One amendment pending at a time "
             "(409 `LetterOfCreditAmendmentPending`); the amended ceiling may not fall below what is drawn and "
             "reserved (409 `LetterOfCreditAmendmentBelowCommitted`).")
async def propose_amendment(lc_id: LcId, body: AmendmentCreate, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.propose_amendment(gateway, ctx, lc_id, body), ctx)


@router.post("/{lc_id}/amendments/{amendment_number}/accept", **written("lc.decide_amendment"),
             summary="Accept the pending amendment in full (the beneficiary)",
             description="`amendment_number` must be the pending one, else 409 `LetterOfCreditAmendmentNotPending`.")
async def accept_amendment(lc_id: LcId, amendment_number: AmendmentNumber, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.decide_amendment(gateway, ctx, lc_id, amendment_number, accept=True), ctx)


@router.post("/{lc_id}/amendments/{amendment_number}/reject", **written("lc.decide_amendment"),
             summary="Reject the pending amendment (the beneficiary); the terms stay in force")
async def reject_amendment(lc_id: LcId, amendment_number: AmendmentNumber, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.decide_amendment(gateway, ctx, lc_id, amendment_number, accept=False), ctx)


# ───────────────────────────── Cancellation ─────────────────────────────

@router.post("/{lc_id}/cancellation/request", **written("lc.request_cancellation"),
             summary="Ask the beneficiary to agree to cancel the credit (the issuing bank)")
async def request_cancellation(lc_id: LcId, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.request_cancellation(gateway, ctx, lc_id), ctx)


@router.post("/{lc_id}/cancellation/agree", **written("lc.agree_to_cancellation"),
             summary="Agree to the requested cancellation (the confirming bank of a confirmed credit)")
async def agree_to_cancellation(lc_id: LcId, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.agree_to_cancellation(gateway, ctx, lc_id), ctx)


@router.post("/{lc_id}/cancellation/consent", **written("lc.consent_to_cancellation"),
             summary="Consent to the cancellation (the beneficiary): the credit is cancelled, the margin released",
             description="Needs no open presentation (409 `LetterOfCreditOpenPresentations`) and, for a confirmed "
             "credit, the confirming bank's agreement first (409 `LetterOfCreditConfirmingBankAgreementMissing`).")
async def consent_to_cancellation(lc_id: LcId, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.consent_to_cancellation(gateway, ctx, lc_id), ctx)


# ───────────────────────────── Presentations ─────────────────────────────

@router.post("/{lc_id}/presentations", **written("lc.present"),
             summary="Present documents (the beneficiary); a commercial invoice names its registered invoice",
             description="Upload the documents first (`POST /v1/documents`) and reference their SHA-256. Once "
             "presented, every party of the credit may download those of them the beneficiary may read. Documents "
             "that include a `CommercialInvoice` name its registered invoice (`invoice_id`, else 422 with the "
             "reason), and only they do. The presentation takes the invoice's lien with the beneficiary's consent "
             "while it is open: it reserves the invoice (nothing is routed to the bank) and the buyer may no longer "
             "pay directly the part it claims. 409 `LetterOfCreditInvoiceMismatch` when it is not the "
             "beneficiary's invoice to the applicant in the credit's currency with the amount unpaid; 409 "
             "`InvoiceRegistryLienAlreadyHeld` when it is financed or presented elsewhere. The discrepancies found "
             "on chain are in the answer.")
async def present(lc_id: LcId, body: PresentationCreate, ctx: WriteContextDep, gateway: GatewayDep, request: Request):
    return respond(await service.present(gateway, request.app.state.documents, ctx, lc_id, body), ctx)


@router.post("/{lc_id}/presentations/{presentation_id}/examine", **written("lc.presentation"),
             summary="Examine a presentation within five banking days (the issuing bank)",
             description="Compliant with no discrepancy (on-chain codes and `bank_discrepancies`), else Discrepant. "
             "The bank declares only `INCONSISTENT_DATA` (else 422); a Compliant presentation must still be honoured "
             "within the same five banking days.")
async def examine(lc_id: LcId, presentation_id: PresentationId, body: Examination, ctx: WriteContextDep,
                  gateway: GatewayDep):
    return respond(await service.examine(gateway, ctx, lc_id, presentation_id, body), ctx)


@router.post("/{lc_id}/presentations/{presentation_id}/waive", **written("lc.presentation"),
             summary="Waive the discrepancies of a Discrepant presentation (the applicant)",
             description="A claim beyond the credit's ceiling cannot be waived (409 `LetterOfCreditWaiverNotAllowed`).")
async def waive(lc_id: LcId, presentation_id: PresentationId, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.waive(gateway, ctx, lc_id, presentation_id), ctx)


@router.post("/{lc_id}/presentations/{presentation_id}/refuse", **written("lc.presentation"),
             summary="Refuse a Discrepant presentation (the issuing bank)")
async def refuse(lc_id: LcId, presentation_id: PresentationId, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.refuse(gateway, ctx, lc_id, presentation_id), ctx)


@router.post("/{lc_id}/presentations/{presentation_id}/honour", **written("lc.presentation"),
             summary="Honour a Compliant, Waived or Precluded presentation (the issuing bank)",
             description="Sight payment pays the beneficiary now from the bank's tokens; deferred payment records "
             "the acceptance and its maturity. The bank must have approved `LetterOfCredit` for the amount in the "
             "credit's currency (`POST /v1/approvals`), else 409 `ERC20InsufficientAllowance`.")
async def honour(lc_id: LcId, presentation_id: PresentationId, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.honour(gateway, ctx, lc_id, presentation_id), ctx)


@router.post("/{lc_id}/presentations/{presentation_id}/claim-preclusion", **written("lc.presentation"),
             summary="Claim a Precluded presentation after the bank's silence (the beneficiary, Art. 16(f))",
             description="Honoured as by the bank; at sight, paid from the issuing bank's tokens (its allowance "
             "to `LetterOfCredit` is needed).")
async def claim_preclusion(lc_id: LcId, presentation_id: PresentationId, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.claim_preclusion(gateway, ctx, lc_id, presentation_id), ctx)


@router.post("/{lc_id}/presentations/{presentation_id}/pay", **written("lc.presentation"),
             summary="Pay a matured deferred payment from the issuing bank's tokens (a party of the credit)",
             description="Before maturity: 409 `LetterOfCreditNotMatured`. The issuing bank's allowance to "
             "`LetterOfCredit` is needed. Open to every participant on chain, but the gateway pays for the credit's "
             "parties only (applicant, beneficiary, issuing, advising or confirming bank): anyone else is answered "
             "403 `LetterOfCreditUnauthorizedCaller` before anything is sent, with the same body whether or not the "
             "credit exists (a payment that went through would tell it the amount).")
async def pay_at_maturity(lc_id: LcId, presentation_id: PresentationId, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.pay_at_maturity(gateway, ctx, lc_id, presentation_id), ctx)


# ───────────────────────────── Margin ─────────────────────────────

@router.post("/{lc_id}/release-margin", **written("lc.release_margin"),
             summary="Release the held margin to the applicant (a party of the credit)",
             description="Once the credit is Expired, Exhausted or Cancelled with no presentation open; 409 "
             "`LetterOfCreditNoMarginHeld` when nothing is held. Open to every participant on chain, but the gateway "
             "releases for the credit's parties only (applicant, beneficiary, issuing, advising or confirming bank): "
             "anyone else is answered 403 `LetterOfCreditUnauthorizedCaller` before anything is sent, with the same "
             "body whether or not the credit exists (a release that went through would tell it the margin).")
async def release_margin(lc_id: LcId, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.release_margin(gateway, ctx, lc_id), ctx)
