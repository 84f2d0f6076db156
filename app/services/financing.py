"""Receivable financing (DESIGN §5): sellers apply and withdraw, banks approve with terms, reject, record
repayments, declare defaults and claim recourse; buyers propose reverse factoring programmes that banks
accept.

The gateway checks the caller's participant kind (a corporate never approves, a bank never applies); the
contract checks that the caller is *the* seller, bank or programme party and answers its custom errors.
Tokens move with `transferFromWithPurpose`, so the payer approves `ReceivableFinancing` beforehand
(`POST /v1/approvals`): the bank for the advance, a repayer for its repayment, the seller for recourse.

Who may take a step is checked by the gateway before anything about the financing is looked at, so the steps
are no existence oracle: a caller that is not the financing's seller (withdraw) or bank (approve, reject, record a
repayment, default, recourse), not the programme's bank (accept) or party (close), or not the seller (current
owner) of the invoice it applies for, answers 403 (`ReceivableFinancingNotSeller`, `…NotBank`,
`…NotProgrammeParty`) with the same body whether or not the financing, programme or invoice exists. Applying under
a programme needs, besides, a programme of the invoice's buyer (read from the chain before anything is sent): any
other (unknown, another buyer's, in whatever state) answers one 403 `FinancingProgrammeNotOffered`; for
the buyer's own programme the contract's reasons (its state) are the seller's to know. Repaying is open to every
participant on chain, but the gateway repays for the financing's seller and bank only (the buyer repays by paying
the invoice): anyone else gets 403 `ReceivableFinancingNotParty` before anything is sent, whether or not the
financing exists, since a repayment that went through would tell it what is outstanding and which invoice it
closed. A repeated Idempotency-Key of the very same request replays its answer (`refuse`). The payoff is read by
the seller, the bank, the regulator and the operator; anyone else is answered 403 `FinancingNotVisible` whether or
not the financing exists.
"""

from __future__ import annotations

import asyncio
from typing import Any

from eth_utils import to_checksum_address

from app.chain.types import TxOutcome, WriteAnswer
from app.core.enums import FinancingState, ParticipantKind, name_of
from app.core.errors import Forbidden, NotFound
from app.schemas.financing import (
    CustomsPolicy,
    CustomsPolicySet,
    FinancingApplied,
    FinancingApply,
    FinancingApproval,
    FinancingApproved,
    FinancingDefaulted,
    FinancingRejected,
    FinancingRejection,
    FinancingRepaid,
    FinancingRepayment,
    FinancingRepaymentRecord,
    FinancingWithdrawn,
    ProgrammeClosed,
    ProgrammeOpened,
    ProgrammeProposal,
    ProgrammeProposed,
    RecourseClaimed,
)
from app.services.base import (
    Caller,
    Gateway,
    WriteContext,
    bytes32_of,
    follow_up,
    is_party,
    refuse,
    require_kind,
    submit,
)
from app.services.documents import DocumentStore
from app.services.results import register_result

CONTRACT = "ReceivableFinancing"
CORPORATE, BANK = ParticipantKind.Corporate, ParticipantKind.Bank


async def _send(gateway: Gateway, ctx: WriteContext, function: str, *args: Any, operation: str,
                payload: dict[str, Any], **context: Any) -> WriteAnswer:
    call = gateway.call(CONTRACT, function, *args, operation=operation, **context)
    return await submit(gateway, ctx, call, payload)


# Who a refusal names, by the part the step needs.
_NOT_PARTY = {("seller",): "ReceivableFinancingNotSeller", ("bank",): "ReceivableFinancingNotBank",
              ("seller", "bank"): "ReceivableFinancingNotParty"}


async def _financing_parties(gateway: Gateway, financing_id: int) -> tuple[str, str]:
    """(seller, bank) of the financing; zero addresses for an unknown one."""
    (record,) = await gateway.read(CONTRACT, "financing", financing_id)
    return record[1], record[6]


async def _require_party(gateway: Gateway, ctx: WriteContext, financing_id: int, payload: dict[str, Any],
                         *roles: str) -> None:
    """The caller is the financing's party in one of `roles` ("seller", "bank"); else 403, the same whether or not
    the financing exists (an unknown one has no parties), before any state is looked at."""
    seller, bank = await _financing_parties(gateway, financing_id)
    if is_party(ctx.caller, *({"seller": seller, "bank": bank}[r] for r in roles)):
        return
    await refuse(gateway, ctx, Forbidden(
        f"only the {' or '.join(roles)} of financing {financing_id} may take this step; the gateway tells no one "
        "else anything about the financing", {"financing_id": financing_id, "caller": ctx.caller.address},
        code=_NOT_PARTY[roles]), payload)


async def _require_invoice_seller(gateway: Gateway, ctx: WriteContext, invoice_id: int, view: tuple[Any, ...],
                                  payload: dict[str, Any]) -> None:
    """Only the seller (current owner) of an invoice (`view`, as read) applies for its financing; else 403, the same
    whether or not the invoice exists, and before a programme's terms could name the invoice's buyer."""
    if is_party(ctx.caller, view[0]):
        return
    await refuse(gateway, ctx, Forbidden(
        f"only the seller (current owner) of invoice {invoice_id} may apply for its financing; the gateway tells no "
        "one else anything about the invoice", {"invoice_id": str(invoice_id), "caller": ctx.caller.address},
        code="ReceivableFinancingNotSeller"), payload)


async def _require_programme_of_buyer(gateway: Gateway, ctx: WriteContext, invoice_id: int, programme_id: int,
                                      invoice_buyer: str, programme: tuple[Any, ...], payload: dict[str, Any]) -> None:
    """A seller applies under a programme of its invoice's buyer only: a reverse factoring programme is its buyer's
    offer to that buyer's suppliers, so it is the supplier's to use (and to be told the state of) when the buyer of
    the invoice proposed it. Any other programme (unknown, another buyer's, in whatever state) answers one 403 with
    the same body, naming nobody: the contract's answers (404 unknown, 409 with the state, 422 naming the invoice's
    buyer, 201 naming the bank) are for the programme's own suppliers."""
    if int(str(programme[0]), 16) != 0 and str(programme[0]).lower() == str(invoice_buyer).lower():
        return
    await refuse(gateway, ctx, Forbidden(
        f"programme {programme_id} is not one the buyer of invoice {invoice_id} offers its suppliers; the gateway "
        "tells nothing else about the programme", {"programme_id": programme_id, "invoice_id": str(invoice_id),
                                                   "caller": ctx.caller.address},
        code="FinancingProgrammeNotOffered"), payload)


async def _require_programme_party(gateway: Gateway, ctx: WriteContext, programme_id: int, payload: dict[str, Any],
                                   *roles: str) -> None:
    """The caller is the programme's party in one of `roles` ("buyer", "bank"); else 403, the same whether or not
    the programme exists."""
    (programme,) = await gateway.read(CONTRACT, "programme", programme_id)
    parties = {"buyer": programme[0], "bank": programme[4]}
    if is_party(ctx.caller, *(parties[r] for r in roles)):
        return
    await refuse(gateway, ctx, Forbidden(
        f"only the {' or '.join(roles)} of programme {programme_id} may take this step; the gateway tells no one "
        "else anything about the programme", {"programme_id": programme_id, "caller": ctx.caller.address},
        code="ReceivableFinancingNotProgrammeParty"), payload)


# ───────────────────────────── Sellers ─────────────────────────────

async def apply(gateway: Gateway, ctx: WriteContext, body: FinancingApply) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, CORPORATE)
    invoice_id = int(body.invoice_id)
    payload = body.model_dump(mode="json")
    registry, contract = gateway.contract("InvoiceRegistry"), gateway.contract(CONTRACT)
    reads = [(registry, gateway.abi.function(gateway.deployment.contract_type("InvoiceRegistry"), "invoice"),
              (invoice_id,))]
    if body.programme_id is not None:
        reads.append((contract, gateway.abi.function(gateway.deployment.contract_type(CONTRACT), "programme"),
                      (body.programme_id,)))
    views = await gateway.chain.read_many(reads)
    (invoice,) = views[0]
    await _require_invoice_seller(gateway, ctx, invoice_id, invoice, payload)
    if body.programme_id is not None:
        (programme,) = views[1]
        await _require_programme_of_buyer(gateway, ctx, invoice_id, body.programme_id, invoice[1], programme, payload)
        args: tuple[Any, ...] = ("applyUnderProgramme", invoice_id, body.programme_id, body.requested_amount)
    else:
        args = ("applyForFinancing", invoice_id, body.bank, body.requested_amount)
    return await _send(gateway, ctx, *args, operation="financing.apply", payload=payload)


@register_result("financing.apply", FinancingApplied, created=True)
def _applied(outcome: TxOutcome) -> dict[str, Any]:
    a = outcome.event("FinancingApplied").args
    return {"financing_id": a["financingId"], "invoice_id": str(a["invoiceId"]), "seller": a["seller"],
                 "bank": a["bank"], "requested_amount": a["requestedAmount"], "programme_id": a["programmeId"]}


async def withdraw(gateway: Gateway, ctx: WriteContext, financing_id: int) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, CORPORATE)
    payload = {"financing_id": financing_id}
    await _require_party(gateway, ctx, financing_id, payload, "seller")
    return await _send(gateway, ctx, "withdraw", financing_id, operation="financing.withdraw", payload=payload)


@register_result("financing.withdraw", FinancingWithdrawn)
def _withdrawn(outcome: TxOutcome) -> dict[str, Any]:
    a = outcome.event("FinancingWithdrawn").args
    return {"financing_id": a["financingId"], "seller": a["seller"]}


async def repay(gateway: Gateway, ctx: WriteContext, financing_id: int, body: FinancingRepayment) -> WriteAnswer:
    """Repaying is open to every active participant on chain, but the gateway repays for the financing's seller and
    bank only: anyone else (the invoice's buyer too, who repays by paying the invoice) is answered 403
    `ReceivableFinancingNotParty` before anything is sent, the same whether or not the financing exists. A repayment
    that went through would tell a stranger what is outstanding and which invoice it closed."""
    await require_kind(gateway, ctx.caller, CORPORATE, BANK)
    payload = {"financing_id": financing_id, **body.model_dump(mode="json")}
    await _require_party(gateway, ctx, financing_id, payload, "seller", "bank")
    return await _send(gateway, ctx, "repay", financing_id, body.amount, operation="financing.repay", payload=payload)


def _closure(outcome: TxOutcome) -> dict[str, Any] | None:
    closed = outcome.events_named("FinancingClosed")
    if not closed:
        return None
    a = closed[0].args
    return {"invoice_id": str(a["invoiceId"]), "total_repaid": a["totalRepaid"]}


@register_result("financing.repay", FinancingRepaid)
def _repaid(outcome: TxOutcome) -> dict[str, Any]:
    a = outcome.event("FinancingRepaid").args
    return {"financing_id": a["financingId"], "payer": a["payer"], "amount": a["amount"],
                 "outstanding": a["outstanding"], "payment_reference": a["paymentReference"],
                 "closed": _closure(outcome)}


# ───────────────────────────── Banks ─────────────────────────────

async def approve(gateway: Gateway, documents: DocumentStore, ctx: WriteContext, financing_id: int,
                  body: FinancingApproval) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, BANK)
    payload = {"financing_id": financing_id, **body.model_dump(mode="json")}
    await _require_party(gateway, ctx, financing_id, payload, "bank")
    answer = await _send(gateway, ctx, "approve", financing_id, body.advance_amount, body.rate_bps, body.maturity,
                         bytes.fromhex(body.terms_hash[2:]), operation="financing.approve", payload=payload)
    if answer.http_status == 200:
        # The seller may download the agreement `terms_hash` names (the buyer may not), when the bank that named
        # it on chain could read it itself (`document_access`): naming any stored document's hash leaks nothing.
        # A follow-up of the mined approval: its failure never turns the approval into an error (`follow_up`).
        result = answer.body["result"]
        await follow_up(f"financing {financing_id}: terms document grant", asyncio.to_thread(
            documents.grant, "financing", {body.terms_hash: result["bank"]},
            [("bank", result["bank"]), ("seller", result["seller"])]))
    return answer


@register_result("financing.approve", FinancingApproved)
def _approved(outcome: TxOutcome) -> dict[str, Any]:
    a = outcome.event("FinancingApproved").args
    return {"financing_id": a["financingId"], "bank": a["bank"], "seller": a["seller"],
                 "advance_amount": a["advanceAmount"], "rate_bps": a["rateBps"], "maturity": a["maturity"],
                 "terms_hash": a["termsHash"]}


async def reject(gateway: Gateway, ctx: WriteContext, financing_id: int, body: FinancingRejection) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, BANK)
    payload = {"financing_id": financing_id, **body.model_dump(mode="json")}
    await _require_party(gateway, ctx, financing_id, payload, "bank")
    return await _send(gateway, ctx, "reject", financing_id, bytes32_of(body.reason), operation="financing.reject",
                       payload=payload)


@register_result("financing.reject", FinancingRejected)
def _rejected(outcome: TxOutcome) -> dict[str, Any]:
    a = outcome.event("FinancingRejected").args
    return {"financing_id": a["financingId"], "bank": a["bank"], "reason_code": a["reasonCode"]}


async def record_repayment(gateway: Gateway, ctx: WriteContext, financing_id: int,
                           body: FinancingRepaymentRecord) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, BANK)
    payload = {"financing_id": financing_id, **body.model_dump(mode="json")}
    await _require_party(gateway, ctx, financing_id, payload, "bank")
    return await _send(gateway, ctx, "recordRepayment", financing_id, body.amount, bytes32_of(body.reference),
                       operation="financing.repay", payload=payload)


async def mark_default(gateway: Gateway, ctx: WriteContext, financing_id: int) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, BANK)
    payload = {"financing_id": financing_id}
    await _require_party(gateway, ctx, financing_id, payload, "bank")
    return await _send(gateway, ctx, "markDefault", financing_id, operation="financing.default", payload=payload)


@register_result("financing.default", FinancingDefaulted)
def _defaulted(outcome: TxOutcome) -> dict[str, Any]:
    a = outcome.event("FinancingDefaulted").args
    return {"financing_id": a["financingId"], "bank": a["bank"], "outstanding": a["outstanding"]}


async def claim_recourse(gateway: Gateway, ctx: WriteContext, financing_id: int) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, BANK)
    payload = {"financing_id": financing_id}
    await _require_party(gateway, ctx, financing_id, payload, "bank")
    return await _send(gateway, ctx, "claimRecourse", financing_id, operation="financing.recourse", payload=payload)


@register_result("financing.recourse", RecourseClaimed)
def _recourse(outcome: TxOutcome) -> dict[str, Any]:
    a = outcome.event("RecourseClaimed").args
    return {"financing_id": a["financingId"], "seller": a["seller"], "amount": a["amount"],
                 "closed": _closure(outcome)}


async def set_customs_policy(gateway: Gateway, ctx: WriteContext, body: CustomsPolicy) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, BANK)
    return await _send(gateway, ctx, "setCustomsMatchRequired", body.customs_match_required,
                       operation="financing.customs_policy", payload=body.model_dump(mode="json"))


@register_result("financing.customs_policy", CustomsPolicySet)
def _customs_policy(outcome: TxOutcome) -> dict[str, Any]:
    a = outcome.event("CustomsPolicySet").args
    return {"bank": a["bank"], "customs_match_required": a["customsMatchRequired"]}


# ───────────────────────────── Reverse factoring programmes ─────────────────────────────

async def propose_programme(gateway: Gateway, ctx: WriteContext, body: ProgrammeProposal) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, CORPORATE)
    return await _send(gateway, ctx, "proposeProgramme", body.bank, body.rate_bps, body.limit,
                       operation="financing.programme_propose", payload=body.model_dump(mode="json"))


@register_result("financing.programme_propose", ProgrammeProposed, created=True)
def _proposed(outcome: TxOutcome) -> dict[str, Any]:
    a = outcome.event("ProgrammeProposed").args
    return {"programme_id": a["programmeId"], "buyer": a["buyer"], "bank": a["bank"], "rate_bps": a["rateBps"],
                 "limit": a["limit"]}


async def accept_programme(gateway: Gateway, ctx: WriteContext, programme_id: int) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, BANK)
    payload = {"programme_id": programme_id}
    await _require_programme_party(gateway, ctx, programme_id, payload, "bank")
    return await _send(gateway, ctx, "acceptProgramme", programme_id, operation="financing.programme_accept",
                       payload=payload)


@register_result("financing.programme_accept", ProgrammeOpened)
def _opened(outcome: TxOutcome) -> dict[str, Any]:
    a = outcome.event("ProgrammeOpened").args
    return {"programme_id": a["programmeId"], "bank": a["bank"]}


async def close_programme(gateway: Gateway, ctx: WriteContext, programme_id: int) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, CORPORATE, BANK)
    payload = {"programme_id": programme_id}
    await _require_programme_party(gateway, ctx, programme_id, payload, "buyer", "bank")
    return await _send(gateway, ctx, "closeProgramme", programme_id, operation="financing.programme_close",
                       payload=payload)


@register_result("financing.programme_close", ProgrammeClosed)
def _closed(outcome: TxOutcome) -> dict[str, Any]:
    a = outcome.event("ProgrammeClosed").args
    return {"programme_id": a["programmeId"], "closed_by": a["closedBy"]}


# ───────────────────────────── Payoff ─────────────────────────────

async def payoff(gateway: Gateway, caller: Caller, financing_id: int, at: int | None) -> dict[str, Any]:
    """What repays `financing_id` in full at `at` (default: now), read from the chain (`owedAt`): for the
    financing's seller and bank, and for the regulator and the operator."""
    to = gateway.contract(CONTRACT)
    fn = gateway.abi.function(CONTRACT, "financing")
    owed_at = gateway.abi.function(CONTRACT, "owedAt")
    now_block, ((record,), (owed,)) = await asyncio.gather(
        gateway.chain.rpc.call("eth_getBlockByNumber", ["latest", False]),
        gateway.chain.read_many([(to, fn, (financing_id,)), (to, owed_at, (financing_id, at or 0))]))
    invoice_id, seller, state, _disbursed_at, _repaid, _under_programme, bank, *_terms = record
    seller, bank = to_checksum_address(seller), to_checksum_address(bank)
    # Whom to tell first, then whether it exists: an unknown financing has no parties, so anyone but the regulator
    # and the operator (who see every financing) gets the same 403 for it as for someone else's.
    if not is_party(caller, seller, bank):
        kind = await gateway.kind_of(caller.address)
        if kind not in (ParticipantKind.Regulator, ParticipantKind.Operator):
            raise Forbidden("only the financing's seller and bank (and the regulator and the operator) see its "
                            "payoff", {"financing_id": financing_id}, code="FinancingNotVisible")
    if state == FinancingState["None"]:
        raise NotFound("no such financing", {"financing_id": financing_id}, code="FinancingUnknown")
    now = int(now_block["timestamp"], 16)
    return {"financing_id": financing_id, "invoice_id": str(invoice_id), "seller": seller, "bank": bank,
            "state": name_of(FinancingState, state),
            "at": max(at or 0, now), "owed": owed}
