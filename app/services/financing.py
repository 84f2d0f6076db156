"""Receivable financing (DESIGN §5): sellers apply and withdraw, banks approve with terms, reject, record
repayments, declare defaults and claim recourse; buyers propose reverse factoring programmes that banks
accept.

The gateway checks the caller's participant kind (a corporate never approves, a bank never applies); the
contract checks that the caller is *the* seller, bank or programme party and answers its custom errors.
Tokens move with `transferFromWithPurpose`, so the payer approves `ReceivableFinancing` beforehand
(`POST /v1/approvals`): the bank for the advance, a repayer for its repayment, the seller for recourse.
"""

from __future__ import annotations

import asyncio
from typing import Any

from eth_utils import to_checksum_address

from app.chain.types import TxOutcome, WriteAnswer, register_result
from app.core.errors import Forbidden, NotFound
from app.schemas.financing import (
    CustomsPolicy, FinancingApply, FinancingApproval, FinancingRejection, FinancingRepayment,
    FinancingRepaymentRecord, ProgrammeProposal,
)
from app.services.base import Caller, Gateway, ParticipantKind, WriteContext, bytes32_of, require_kind, submit
from app.services.documents import DocumentStore

CONTRACT = "ReceivableFinancing"
CORPORATE, BANK = ParticipantKind.CORPORATE, ParticipantKind.BANK
# `IReceivableFinancing.FinancingState`, in order.
FINANCING_STATES = ("None", "Applied", "Rejected", "Withdrawn", "Active", "Defaulted", "Closed")


async def _send(gateway: Gateway, ctx: WriteContext, function: str, *args: Any, operation: str,
                payload: dict[str, Any], **context: Any) -> WriteAnswer:
    call = gateway.call(CONTRACT, function, *args, operation=operation, **context)
    return await submit(gateway, ctx, call, payload)


# ───────────────────────────── Sellers ─────────────────────────────

async def apply(gateway: Gateway, ctx: WriteContext, body: FinancingApply) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, CORPORATE)
    invoice_id = int(body.invoice_id)
    if body.programme_id is not None:
        args: tuple[Any, ...] = ("applyUnderProgramme", invoice_id, body.programme_id, body.requested_amount)
    else:
        args = ("applyForFinancing", invoice_id, body.bank, body.requested_amount)
    return await _send(gateway, ctx, *args, operation="financing.apply", payload=body.model_dump(mode="json"))


@register_result("financing.apply")
def _applied(outcome: TxOutcome) -> tuple[int, dict[str, Any]]:
    a = outcome.event("FinancingApplied").args
    return 201, {"financing_id": a["financingId"], "invoice_id": str(a["invoiceId"]), "seller": a["seller"],
                 "bank": a["bank"], "requested_amount": a["requestedAmount"], "programme_id": a["programmeId"]}


async def withdraw(gateway: Gateway, ctx: WriteContext, financing_id: int) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, CORPORATE)
    return await _send(gateway, ctx, "withdraw", financing_id, operation="financing.withdraw",
                       payload={"financing_id": financing_id})


@register_result("financing.withdraw")
def _withdrawn(outcome: TxOutcome) -> tuple[int, dict[str, Any]]:
    a = outcome.event("FinancingWithdrawn").args
    return 200, {"financing_id": a["financingId"], "seller": a["seller"]}


async def repay(gateway: Gateway, ctx: WriteContext, financing_id: int, body: FinancingRepayment) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, CORPORATE, BANK)
    return await _send(gateway, ctx, "repay", financing_id, body.amount, operation="financing.repay",
                       payload={"financing_id": financing_id, **body.model_dump(mode="json")})


def _closure(outcome: TxOutcome) -> dict[str, Any] | None:
    closed = outcome.events_named("FinancingClosed")
    if not closed:
        return None
    a = closed[0].args
    return {"invoice_id": str(a["invoiceId"]), "total_repaid": a["totalRepaid"]}


@register_result("financing.repay")
def _repaid(outcome: TxOutcome) -> tuple[int, dict[str, Any]]:
    a = outcome.event("FinancingRepaid").args
    return 200, {"financing_id": a["financingId"], "payer": a["payer"], "amount": a["amount"],
                 "outstanding": a["outstanding"], "payment_reference": a["paymentReference"],
                 "closed": _closure(outcome)}


# ───────────────────────────── Banks ─────────────────────────────

async def approve(gateway: Gateway, documents: DocumentStore, ctx: WriteContext, financing_id: int,
                  body: FinancingApproval) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, BANK)
    answer = await _send(gateway, ctx, "approve", financing_id, body.advance_amount, body.rate_bps, body.maturity,
                         bytes.fromhex(body.terms_hash[2:]), operation="financing.approve",
                         payload={"financing_id": financing_id, **body.model_dump(mode="json")})
    if answer.http_status == 200:
        # Both parties of the financing may download the agreement it references (when it was uploaded).
        await asyncio.to_thread(documents.share, body.terms_hash, [ctx.caller.address, answer.body["result"]["seller"]])
    return answer


@register_result("financing.approve")
def _approved(outcome: TxOutcome) -> tuple[int, dict[str, Any]]:
    a = outcome.event("FinancingApproved").args
    return 200, {"financing_id": a["financingId"], "bank": a["bank"], "seller": a["seller"],
                 "advance_amount": a["advanceAmount"], "rate_bps": a["rateBps"], "maturity": a["maturity"],
                 "terms_hash": a["termsHash"]}


async def reject(gateway: Gateway, ctx: WriteContext, financing_id: int, body: FinancingRejection) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, BANK)
    return await _send(gateway, ctx, "reject", financing_id, bytes32_of(body.reason), operation="financing.reject",
                       payload={"financing_id": financing_id, **body.model_dump(mode="json")})


@register_result("financing.reject")
def _rejected(outcome: TxOutcome) -> tuple[int, dict[str, Any]]:
    a = outcome.event("FinancingRejected").args
    return 200, {"financing_id": a["financingId"], "bank": a["bank"], "reason_code": a["reasonCode"]}


async def record_repayment(gateway: Gateway, ctx: WriteContext, financing_id: int,
                           body: FinancingRepaymentRecord) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, BANK)
    return await _send(gateway, ctx, "recordRepayment", financing_id, body.amount, bytes32_of(body.reference),
                       operation="financing.repay",
                       payload={"financing_id": financing_id, **body.model_dump(mode="json")})


async def mark_default(gateway: Gateway, ctx: WriteContext, financing_id: int) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, BANK)
    return await _send(gateway, ctx, "markDefault", financing_id, operation="financing.default",
                       payload={"financing_id": financing_id})


@register_result("financing.default")
def _defaulted(outcome: TxOutcome) -> tuple[int, dict[str, Any]]:
    a = outcome.event("FinancingDefaulted").args
    return 200, {"financing_id": a["financingId"], "bank": a["bank"], "outstanding": a["outstanding"]}


async def claim_recourse(gateway: Gateway, ctx: WriteContext, financing_id: int) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, BANK)
    return await _send(gateway, ctx, "claimRecourse", financing_id, operation="financing.recourse",
                       payload={"financing_id": financing_id})


@register_result("financing.recourse")
def _recourse(outcome: TxOutcome) -> tuple[int, dict[str, Any]]:
    a = outcome.event("RecourseClaimed").args
    return 200, {"financing_id": a["financingId"], "seller": a["seller"], "amount": a["amount"],
                 "closed": _closure(outcome)}


async def set_customs_policy(gateway: Gateway, ctx: WriteContext, body: CustomsPolicy) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, BANK)
    return await _send(gateway, ctx, "setCustomsMatchRequired", body.customs_match_required,
                       operation="financing.customs_policy", payload=body.model_dump(mode="json"))


@register_result("financing.customs_policy")
def _customs_policy(outcome: TxOutcome) -> tuple[int, dict[str, Any]]:
    a = outcome.event("CustomsPolicySet").args
    return 200, {"bank": a["bank"], "customs_match_required": a["customsMatchRequired"]}


# ───────────────────────────── Reverse factoring programmes ─────────────────────────────

async def propose_programme(gateway: Gateway, ctx: WriteContext, body: ProgrammeProposal) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, CORPORATE)
    return await _send(gateway, ctx, "proposeProgramme", body.bank, body.rate_bps, body.limit,
                       operation="financing.programme_propose", payload=body.model_dump(mode="json"))


@register_result("financing.programme_propose")
def _proposed(outcome: TxOutcome) -> tuple[int, dict[str, Any]]:
    a = outcome.event("ProgrammeProposed").args
    return 201, {"programme_id": a["programmeId"], "buyer": a["buyer"], "bank": a["bank"], "rate_bps": a["rateBps"],
                 "limit": a["limit"]}


async def accept_programme(gateway: Gateway, ctx: WriteContext, programme_id: int) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, BANK)
    return await _send(gateway, ctx, "acceptProgramme", programme_id, operation="financing.programme_accept",
                       payload={"programme_id": programme_id})


@register_result("financing.programme_accept")
def _opened(outcome: TxOutcome) -> tuple[int, dict[str, Any]]:
    a = outcome.event("ProgrammeOpened").args
    return 200, {"programme_id": a["programmeId"], "bank": a["bank"]}


async def close_programme(gateway: Gateway, ctx: WriteContext, programme_id: int) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, CORPORATE, BANK)
    return await _send(gateway, ctx, "closeProgramme", programme_id, operation="financing.programme_close",
                       payload={"programme_id": programme_id})


@register_result("financing.programme_close")
def _closed(outcome: TxOutcome) -> tuple[int, dict[str, Any]]:
    a = outcome.event("ProgrammeClosed").args
    return 200, {"programme_id": a["programmeId"], "closed_by": a["closedBy"]}


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
    if state == 0:
        raise NotFound("no such financing", {"financing_id": financing_id}, code="FinancingUnknown")
    if caller.address not in (seller, bank):
        kind = await gateway.kind_of(caller.address)
        if kind not in (ParticipantKind.REGULATOR, ParticipantKind.OPERATOR):
            raise Forbidden("only the financing's seller and bank (and the regulator and the operator) see its "
                            "payoff", {"financing_id": financing_id}, code="FinancingNotVisible")
    now = int(now_block["timestamp"], 16)
    return {"financing_id": financing_id, "invoice_id": str(invoice_id), "seller": seller, "bank": bank,
            "state": FINANCING_STATES[state] if state < len(FINANCING_STATES) else str(state),
            "at": max(at or 0, now), "owed": owed}
