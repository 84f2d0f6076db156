"""Letters of credit (DESIGN §6, `ILetterOfCredit`): who may take each step, and what each step answers.

A caller acts only as itself. The gateway refuses the wrong kind of participant before anything is sent
(a bank cannot present documents as a beneficiary, a corporate cannot issue or honour), then a caller that
is not the credit's party for the step (403 `LetterOfCreditUnauthorizedCaller`), before any state is
looked at: a non-party gets that same answer whether or not the credit or the presentation exists, so the
steps are no existence oracle. The contract stays the authority for both; the UCP 600 rules are its call
(409/422). Paying a matured deferred payment and releasing the margin are open to any participant on chain, but
the gateway takes them only for a party of the credit (applicant, beneficiary, issuing, advising or confirming
bank): anyone else is answered 403 `LetterOfCreditUnauthorizedCaller` before anything is sent, the same whether or
not the credit exists (a payment or a release that went through would tell it amounts; a refusal, dates and
states).

| caller kind (party of the credit) | steps |
|---|---|
| corporate (applicant) | apply, withdraw the application, waive discrepancies |
| corporate (beneficiary) | accept/reject an amendment, consent to cancellation, present, claim preclusion |
| bank (issuing) | decline an application, issue, propose an amendment, request cancellation, examine, refuse, honour |
| bank (advising; confirming) | advise; agree to cancellation |
| any party of the credit | pay a matured deferred payment, release the margin |

Documents: a presentation lets every party of the credit download the documents it references that the
presenter may read (its own uploads, or documents shared with it) — never a document the presenter could
not read itself, whose hash it merely knows. Documents that include a commercial invoice are presented with
its registered invoice (`presentWithInvoice`, which takes the invoice's lien); the schema refuses the one
without the other, so `LetterOfCreditInvoiceRequired` never reaches the chain from here.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from eth_utils import to_checksum_address

from app.chain.errors import ContractReverted, utc_time
from app.chain.types import TxOutcome, WriteAnswer
from app.core.enums import (
    Availability,
    CreditState,
    DocumentType,
    ParticipantKind,
    PresentationState,
    name_of,
)
from app.core.errors import Conflict, Forbidden, error_body
from app.core.states import examined_state
from app.schemas.letters_of_credit import (
    AmendmentCreate,
    AmendmentDecided,
    AmendmentProposedResult,
    CreditApplication,
    CreditApplied,
    CreditChanged,
    CreditIssue,
    Examination,
    MarginReleasedResult,
    PresentationChanged,
    PresentationCreate,
    PresentationMade,
    discrepancy_mask,
    discrepancy_names,
    document_mask,
    document_names,
)
from app.services.base import (
    Gateway,
    WriteContext,
    follow_up,
    require_kind,
    submit,
)
from app.services.documents import DocumentStore
from app.services.results import register_result

CONTRACT = "LetterOfCredit"
ZERO = "0x0000000000000000000000000000000000000000"
CORPORATE, BANK = ParticipantKind.Corporate, ParticipantKind.Bank
ANY_PARTICIPANT = (ParticipantKind.Corporate, ParticipantKind.Bank, ParticipantKind.Regulator,
                   ParticipantKind.Attester, ParticipantKind.Operator)
# Index of each field in `ILetterOfCredit.Terms` as decoded from `CreditApplied`.
TERMS_FIELDS = ("beneficiary", "issuing_bank", "advising_bank", "confirming_bank", "currency", "amount",
                "tolerance_percent", "expiry_date", "latest_shipment_date", "presentation_period_days",
                "partial_shipments_allowed", "availability", "deferred_payment_days", "required_documents")


async def _write(gateway: Gateway, ctx: WriteContext, function: str, *args: Any, operation: str,
                 payload: dict[str, Any], **context: Any) -> WriteAnswer:
    call = gateway.call(CONTRACT, function, *args, operation=operation, **context)
    return await submit(gateway, ctx, call, payload)


# The parties of a credit, as `ILetterOfCredit.Terms` (and `applicantOf`) name them.
APPLICANT, BENEFICIARY, ISSUING_BANK, ADVISING_BANK, CONFIRMING_BANK = PARTIES = (
    "applicant", "beneficiary", "issuing_bank", "advising_bank", "confirming_bank")


async def _parties(gateway: Gateway, lc_id: int) -> dict[str, str]:
    """The credit's parties by role; none for an unknown credit."""
    try:
        (applicant,), (terms,) = await asyncio.gather(gateway.read(CONTRACT, "applicantOf", lc_id),
                                                      gateway.read(CONTRACT, "terms", lc_id))
    except ContractReverted as unknown:
        if unknown.name != "LetterOfCreditNonexistent":
            raise
        return {}
    return {APPLICANT: applicant, BENEFICIARY: terms[0], ISSUING_BANK: terms[1], ADVISING_BANK: terms[2],
            CONFIRMING_BANK: terms[3]}


async def _require_party(gateway: Gateway, ctx: WriteContext, lc_id: int, *roles: str) -> None:
    """The caller is the credit's party in one of `roles`; else 403, the same whether or not the credit exists
    (an unknown credit has no parties), and before any state check."""
    parties = await _parties(gateway, lc_id)
    caller = ctx.caller.address.lower()
    if any(str(parties.get(role, ZERO)).lower() == caller for role in roles):
        return
    needed = " or ".join(r.replace("_", " ") for r in roles)
    raise Forbidden(f"only the {needed} of letter of credit {lc_id} may take this step; the gateway tells no one "
                    f"else anything about the credit", {"lc_id": str(lc_id), "caller": ctx.caller.address,
                    "needed_party": list(roles)}, code="LetterOfCreditUnauthorizedCaller")


def _released(outcome: TxOutcome) -> int:
    return sum(e.args["amount"] for e in outcome.events_named("MarginReleased"))


# ───────────────────────────── Application and issuance ─────────────────────────────

async def apply(gateway: Gateway, ctx: WriteContext, body: CreditApplication) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, CORPORATE)
    token = gateway.contract(gateway.token_name(body.currency))
    terms = (body.beneficiary, body.issuing_bank, body.advising_bank, body.confirming_bank or ZERO, token,
             body.amount, body.tolerance_percent, body.expiry_date, body.latest_shipment_date,
             body.presentation_period_days, body.partial_shipments_allowed, Availability[body.availability],
             body.deferred_payment_days, document_mask(body.required_documents))
    return await _write(gateway, ctx, "applyForCredit", terms, operation="lc.apply",
                        payload=body.model_dump(mode="json"), currency=body.currency)


@register_result("lc.apply", CreditApplied, created=True)
def _applied(outcome: TxOutcome) -> dict[str, Any]:
    args = outcome.event("CreditApplied").args
    terms = dict(zip(TERMS_FIELDS, args["terms"]))
    return {
        "lc_id": str(args["lcId"]), "state": CreditState.Applied.name, "applicant": args["applicant"], **terms,
        "confirming_bank": None if terms["confirming_bank"] == ZERO else terms["confirming_bank"],
        "currency": outcome.context["currency"], "availability": name_of(Availability, terms["availability"]),
        "required_documents": document_names(terms["required_documents"]),
    }


async def cancel_application(gateway: Gateway, ctx: WriteContext, lc_id: int) -> WriteAnswer:
    """The applicant withdraws its application, or the issuing bank declines it."""
    await require_kind(gateway, ctx.caller, CORPORATE, BANK)
    await _require_party(gateway, ctx, lc_id, APPLICANT, ISSUING_BANK)
    return await _write(gateway, ctx, "cancelApplication", lc_id, operation="lc.cancel_application",
                        payload={"lc_id": str(lc_id)})


async def issue(gateway: Gateway, ctx: WriteContext, lc_id: int, body: CreditIssue) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, BANK)
    await _require_party(gateway, ctx, lc_id, ISSUING_BANK)
    return await _write(gateway, ctx, "issue", lc_id, body.margin_amount, operation="lc.issue",
                        payload={"lc_id": str(lc_id)} | body.model_dump(mode="json"))


async def advise(gateway: Gateway, ctx: WriteContext, lc_id: int) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, BANK)
    await _require_party(gateway, ctx, lc_id, ADVISING_BANK)
    return await _write(gateway, ctx, "advise", lc_id, operation="lc.advise", payload={"lc_id": str(lc_id)})


# ───────────────────────────── Amendment and cancellation ─────────────────────────────

async def propose_amendment(gateway: Gateway, ctx: WriteContext, lc_id: int, body: AmendmentCreate) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, BANK)
    await _require_party(gateway, ctx, lc_id, ISSUING_BANK)
    amendment = (body.amount, body.expiry_date, body.latest_shipment_date, document_mask(body.required_documents))
    return await _write(gateway, ctx, "proposeAmendment", lc_id, amendment, operation="lc.propose_amendment",
                        payload={"lc_id": str(lc_id)} | body.model_dump(mode="json"))


@register_result("lc.propose_amendment", AmendmentProposedResult, created=True)
def _proposed(outcome: TxOutcome) -> dict[str, Any]:
    args = outcome.event("AmendmentProposed").args
    amount, expiry, shipment, documents = args["amendment"]
    return {"lc_id": str(args["lcId"]), "amendment_number": args["amendmentNumber"], "amount": amount,
                 "expiry_date": expiry, "latest_shipment_date": shipment,
                 "required_documents": document_names(documents)}


async def decide_amendment(gateway: Gateway, ctx: WriteContext, lc_id: int, number: int, accept: bool) -> WriteAnswer:
    """The beneficiary answers amendment `number`, which must be the one pending: the contract's call takes
    no number, so the gateway makes sure the beneficiary answers the amendment it has read."""
    await require_kind(gateway, ctx.caller, CORPORATE)
    await _require_party(gateway, ctx, lc_id, BENEFICIARY)
    pending, latest, _ = await gateway.read(CONTRACT, "pendingAmendment", lc_id)
    if pending and latest != number:
        raise Conflict("this amendment is not the one pending", {"lc_id": str(lc_id), "amendment_number": number,
                       "pending_amendment_number": latest}, code="LetterOfCreditAmendmentNotPending")
    function = "acceptAmendment" if accept else "rejectAmendment"
    return await _write(gateway, ctx, function, lc_id, operation="lc.decide_amendment",
                        payload={"lc_id": str(lc_id), "amendment_number": number, "accept": accept})


@register_result("lc.decide_amendment", AmendmentDecided)
def _decided(outcome: TxOutcome) -> dict[str, Any]:
    accepted = outcome.events_named("AmendmentAccepted")
    event = accepted[0] if accepted else outcome.event("AmendmentRejected")
    return {"lc_id": str(event.args["lcId"]), "amendment_number": event.args["amendmentNumber"],
                 "decision": "Accepted" if accepted else "Rejected"}


async def request_cancellation(gateway: Gateway, ctx: WriteContext, lc_id: int) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, BANK)
    await _require_party(gateway, ctx, lc_id, ISSUING_BANK)
    return await _write(gateway, ctx, "requestCancellation", lc_id, operation="lc.request_cancellation",
                        payload={"lc_id": str(lc_id)})


async def agree_to_cancellation(gateway: Gateway, ctx: WriteContext, lc_id: int) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, BANK)
    await _require_party(gateway, ctx, lc_id, CONFIRMING_BANK)
    return await _write(gateway, ctx, "agreeToCancellation", lc_id, operation="lc.agree_to_cancellation",
                        payload={"lc_id": str(lc_id)})


async def consent_to_cancellation(gateway: Gateway, ctx: WriteContext, lc_id: int) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, CORPORATE)
    await _require_party(gateway, ctx, lc_id, BENEFICIARY)
    return await _write(gateway, ctx, "consentToCancellation", lc_id, operation="lc.consent_to_cancellation",
                        payload={"lc_id": str(lc_id)})


def _credit_changed(operation: str, event_name: str, by_arg: str, state: CreditState | None, **extra: str) -> None:
    """Register the decoder of the credit step `operation`, recorded by `event_name` (`by_arg`: who took it)."""

    def decode(outcome: TxOutcome) -> dict[str, Any]:
        args = outcome.event(event_name).args
        return {"lc_id": str(args["lcId"]), "event": event_name, "by": args[by_arg],
                "state": state.name if state is not None else None,
                "margin_released": _released(outcome), **{k: args[v] for k, v in extra.items()}}

    register_result(operation, CreditChanged)(decode)


_credit_changed("lc.cancel_application", "ApplicationCancelled", "by", CreditState.Cancelled)
_credit_changed("lc.issue", "CreditIssued", "issuingBank", CreditState.Issued, margin="margin")
_credit_changed("lc.advise", "CreditAdvised", "advisingBank", CreditState.Advised)
_credit_changed("lc.request_cancellation", "CancellationRequested", "issuingBank", None)
_credit_changed("lc.agree_to_cancellation", "CancellationAgreedByConfirmingBank", "confirmingBank", None)
_credit_changed("lc.consent_to_cancellation", "CreditCancelled", "beneficiary", CreditState.Cancelled)


# ───────────────────────────── Presentation ─────────────────────────────

async def present(gateway: Gateway, documents: DocumentStore, ctx: WriteContext, lc_id: int,
                  body: PresentationCreate) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, CORPORATE)
    await _require_party(gateway, ctx, lc_id, BENEFICIARY)
    docs = [(DocumentType[d.type], bytes.fromhex(d.sha256[2:])) for d in body.documents]
    payload = {"lc_id": str(lc_id)} | body.model_dump(mode="json")
    if body.invoice_id is None:
        answer = await _write(gateway, ctx, "present", lc_id, docs, body.shipment_date, body.amount,
                              operation="lc.present", payload=payload)
    else:
        answer = await _write(gateway, ctx, "presentWithInvoice", lc_id, docs, body.shipment_date, body.amount,
                              int(body.invoice_id), operation="lc.present", payload=payload)
    if answer.http_status == 201:  # a replay shares again: the grant is idempotent and may have been cut short
        # The presentation is mined: sharing (which reads the credit's parties from the node) is a follow-up whose
        # failure must not answer "nothing applied" to a client that would then present again (`follow_up`).
        await follow_up(f"letter of credit {lc_id}: presented documents grant", _share_with_parties(
            gateway, documents, ctx.caller.address, lc_id, sorted({d.sha256 for d in body.documents})))
    return answer


async def _share_with_parties(gateway: Gateway, documents: DocumentStore, presenter: str, lc_id: int,
                              hashes: list[str]) -> list[str]:
    """Let the credit's parties download the presented documents the presenter itself may read
    (`document_access.grant`, the presenter as the documents' namer)."""
    readable = [h for h in hashes if documents.stored(h) and await asyncio.to_thread(documents.may_read, h, presenter)]
    if not readable:
        return []
    parties = [(role, to_checksum_address(p)) for role, p in (await _parties(gateway, lc_id)).items()
               if int(p, 16) != 0]
    await asyncio.to_thread(documents.grant, "presentation", dict.fromkeys(readable, presenter), parties)
    return readable


@register_result("lc.present", PresentationMade, created=True)
def _presented(outcome: TxOutcome) -> dict[str, Any]:
    args = outcome.event("DocumentsPresented").args
    linked = outcome.events_named("PresentationInvoiceLinked")
    return {
        "lc_id": str(args["lcId"]), "presentation_id": str(args["presentationId"]),
        "state": PresentationState.Presented.name,
        "amount": args["amount"], "shipment_date": args["shipmentDate"],
        "discrepancies": discrepancy_names(args["discrepancies"]),
        "documents": [{"type": name_of(DocumentType, t), "sha256": h} for t, h in args["documents"]],
        "invoice_id": str(linked[0].args["invoiceId"]) if linked else None,
    }


# ───────────────────────────── Examination, honour and payment ─────────────────────────────

async def examine(gateway: Gateway, ctx: WriteContext, lc_id: int, presentation_id: int,
                  body: Examination) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, BANK)
    await _require_party(gateway, ctx, lc_id, ISSUING_BANK)
    return await _write(gateway, ctx, "examine", lc_id, presentation_id, discrepancy_mask(body.bank_discrepancies),
                        operation="lc.presentation",
                        payload=_ids(lc_id, presentation_id) | body.model_dump(mode="json"))


async def waive(gateway: Gateway, ctx: WriteContext, lc_id: int, presentation_id: int) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, CORPORATE)
    await _require_party(gateway, ctx, lc_id, APPLICANT)
    return await _presentation_step(gateway, ctx, "waive", lc_id, presentation_id)


async def refuse(gateway: Gateway, ctx: WriteContext, lc_id: int, presentation_id: int) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, BANK)
    await _require_party(gateway, ctx, lc_id, ISSUING_BANK)
    return await _presentation_step(gateway, ctx, "refuse", lc_id, presentation_id)


async def honour(gateway: Gateway, ctx: WriteContext, lc_id: int, presentation_id: int) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, BANK)
    await _require_party(gateway, ctx, lc_id, ISSUING_BANK)
    return await _presentation_step(gateway, ctx, "honour", lc_id, presentation_id)


async def claim_preclusion(gateway: Gateway, ctx: WriteContext, lc_id: int, presentation_id: int) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, CORPORATE)
    await _require_party(gateway, ctx, lc_id, BENEFICIARY)
    answer = await _presentation_step(gateway, ctx, "claimPreclusion", lc_id, presentation_id)
    return await _examination_still_running(gateway, ctx, answer, lc_id, presentation_id)


# Presentation states in which the issuing bank's examination period (Art. 14(b)) may still be running.
_UNDER_EXAMINATION = tuple(s.name for s in (PresentationState.Presented, PresentationState.Compliant,
                                            PresentationState.Waived))


async def _examination_still_running(gateway: Gateway, ctx: WriteContext, answer: WriteAnswer, lc_id: int,
                                     presentation_id: int) -> WriteAnswer:
    """An early claim of preclusion (Art. 16(f)) by the beneficiary says until when the bank's examination period
    runs (the contract's refusal names only the presentation's state)."""
    error = answer.body.get("error") if answer.http_status == 409 else None
    if (not isinstance(error, dict) or error.get("code") != "LetterOfCreditUnexpectedPresentationState"
            or error.get("details", {}).get("current") not in _UNDER_EXAMINATION):
        return answer
    (terms,), (view,) = await asyncio.gather(gateway.read(CONTRACT, "terms", lc_id),
                                             gateway.read(CONTRACT, "presentation", lc_id, presentation_id))
    if str(terms[0]).lower() != ctx.caller.address.lower():  # only the beneficiary learns the bank's deadline
        return answer
    deadline = int(view[4])  # PresentationView.examinationDeadline, extended by any freeze of the credit
    until = utc_time(deadline)
    state = error["details"]["current"]
    message = (f"LetterOfCredit refused: presentation {presentation_id} under credit {lc_id} is {state}: "
               f"the issuing bank's examination period runs until {until}; preclusion may be claimed only after "
               "it, if the bank has then neither honoured nor refused")
    details = {**error["details"], "examinationDeadline": deadline, "examination_period_ends": until}
    return replace(answer, body=error_body(error["code"], message, details))


async def pay_at_maturity(gateway: Gateway, ctx: WriteContext, lc_id: int, presentation_id: int) -> WriteAnswer:
    """Open to any participant on chain; through the gateway, to the credit's parties only (see the module)."""
    await require_kind(gateway, ctx.caller, *ANY_PARTICIPANT)
    await _require_party(gateway, ctx, lc_id, *PARTIES)
    return await _presentation_step(gateway, ctx, "payAtMaturity", lc_id, presentation_id)


def _ids(lc_id: int, presentation_id: int) -> dict[str, str]:
    return {"lc_id": str(lc_id), "presentation_id": str(presentation_id)}


async def _presentation_step(gateway: Gateway, ctx: WriteContext, function: str, lc_id: int,
                             presentation_id: int) -> WriteAnswer:
    return await _write(gateway, ctx, function, lc_id, presentation_id, operation="lc.presentation",
                        payload=_ids(lc_id, presentation_id))


# The events a presentation step may record, latest state last (honour emits Honoured, then Paid at sight).
_PRESENTATION_EVENTS = ("PresentationExamined", "DiscrepanciesWaived", "PresentationRefused", "PreclusionClaimed",
                        "PresentationHonoured", "PresentationPaid")


@register_result("lc.presentation", PresentationChanged)
def _presentation_changed(outcome: TxOutcome) -> dict[str, Any]:
    events = {e.name: e for e in outcome.events if e.name in _PRESENTATION_EVENTS}
    last = max(events.values(), key=lambda e: e.log_index)
    args = last.args
    result: dict[str, Any] = {
        "lc_id": str(args["lcId"]), "presentation_id": str(args["presentationId"]), "event": last.name,
        "margin_applied": sum(e.args["amount"] for e in outcome.events_named("MarginApplied")),
        "margin_released": _released(outcome),
        "paid_amount": events["PresentationPaid"].args["amount"] if "PresentationPaid" in events else 0,
    }
    if "PresentationExamined" in events:
        found = events["PresentationExamined"].args["discrepancies"]  # the contract's and the bank's, or-ed
        result |= {"state": examined_state(found).name, "discrepancies": discrepancy_names(found)}
    if "DiscrepanciesWaived" in events:
        result["state"] = PresentationState.Waived.name
    if "PresentationRefused" in events:
        refused = events["PresentationRefused"].args["discrepancies"]
        result |= {"state": PresentationState.Refused.name, "discrepancies": discrepancy_names(refused)}
    if "PreclusionClaimed" in events:
        result["state"] = PresentationState.Precluded.name
    if "PresentationHonoured" in events:
        honoured = events["PresentationHonoured"].args
        result |= {"state": PresentationState.Honoured.name,
                   "honoured_from": name_of(PresentationState, honoured["from"]),
                   "amount": honoured["amount"], "maturity_date": honoured["maturityDate"] or None}
    if "PresentationPaid" in events:
        result |= {"state": PresentationState.Paid.name, "amount": events["PresentationPaid"].args["amount"]}
    return result


# ───────────────────────────── Margin ─────────────────────────────

async def release_margin(gateway: Gateway, ctx: WriteContext, lc_id: int) -> WriteAnswer:
    """Open to any participant on chain; through the gateway, to the credit's parties only (see the module)."""
    await require_kind(gateway, ctx.caller, *ANY_PARTICIPANT)
    await _require_party(gateway, ctx, lc_id, *PARTIES)
    return await _write(gateway, ctx, "releaseMargin", lc_id, operation="lc.release_margin",
                        payload={"lc_id": str(lc_id)})


@register_result("lc.release_margin", MarginReleasedResult)
def _margin_released(outcome: TxOutcome) -> dict[str, Any]:
    args = outcome.event("MarginReleased").args
    return {"lc_id": str(args["lcId"]), "amount": args["amount"]}
