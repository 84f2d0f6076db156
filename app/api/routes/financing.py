"""Receivable financing and reverse factoring programmes: writes, and the payoff quote read from the chain
(other reads: `/v1/instruments/financing`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from app.api.deps import CallerDep, GatewayDep, WriteContextDep
from app.api.routes._write import respond
from app.schemas.common import ERROR_RESPONSES
from app.schemas.financing import (
    CustomsPolicy,
    FinancingApply,
    FinancingApproval,
    FinancingPayoff,
    FinancingRejection,
    FinancingRepayment,
    FinancingRepaymentRecord,
    ProgrammeProposal,
)
from app.services import financing as service
from app.services.results import written

router = APIRouter(tags=["financing"], responses=ERROR_RESPONSES)

FinancingId = Annotated[int, Path(gt=0, lt=2**256, description="The financing's id (from 1)")]
ProgrammeId = Annotated[int, Path(gt=0, lt=2**256, description="The programme's id (from 1)")]
APPROVE_FIRST = ("The payer must first allow `ReceivableFinancing` to move the amount "
                 "(`POST /v1/approvals` with `spender: ReceivableFinancing` in the invoice's currency).")


@router.post("/financings", **written("financing.apply"),
             summary="Apply for financing of a confirmed invoice (the seller)",
             description="With `bank`: ordinary factoring at that bank. With `programme_id`: under an open reverse "
             "factoring programme (its bank, its rate), for an invoice on the programme's buyer. Only the "
             "invoice's current owner may apply (403 `ReceivableFinancingNotSeller`, the same whether or not the "
             "invoice exists). Under a programme, it must be one the invoice's buyer proposed: any other (unknown, "
             "another buyer's, in whatever state) answers 403 `FinancingProgrammeNotOffered` with one body, "
             "before anything is sent; for the buyer's own programme the contract's reasons (e.g. 409 with its "
             "state while not open) are told. An application is for at most what is still unpaid on the invoice "
             "(409 `ReceivableFinancingAboveOutstanding`). An invoice financed, presented under a credit or pledged "
             "to certificates elsewhere answers 409 `ReceivableFinancingInvoiceLiened`, naming "
             "the instrument and the financier; otherwise it must be `Confirmed` (409 "
             "`ReceivableFinancingInvoiceNotConfirmed`, naming its state).")
async def apply_for_financing(body: FinancingApply, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.apply(gateway, ctx, body), ctx)


@router.post("/financings/{financing_id}/withdraw", **written("financing.withdraw"),
             summary="Withdraw an application (the seller)",
             description="Anyone but the financing's seller is answered 403 `ReceivableFinancingNotSeller`, with the "
             "same body whether or not the financing exists.")
async def withdraw_financing(financing_id: FinancingId, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.withdraw(gateway, ctx, financing_id), ctx)


@router.post("/financings/{financing_id}/approve", **written("financing.approve"),
             summary="Approve with terms: pay the advance and take the invoice's lien (the application's bank)",
             description="Pays `advance_amount` from the bank to the seller and takes the invoice's lien in one "
             "transaction; a second bank's approval on the same invoice answers 409 "
             "`ReceivableFinancingInvoiceLiened`, an advance above what is still unpaid 409 "
             "`ReceivableFinancingAboveOutstanding`. Anyone but the application's bank is answered 403 "
             "`ReceivableFinancingNotBank`, the same whether or not the financing exists. The agreement that "
             "`terms_hash` names may then be downloaded by the seller and the approving bank only (not by the "
             "invoice's buyer), and only when the approving bank could read that document itself at the approval "
             "(upload it first with `POST /v1/documents`): naming a hash grants nothing. " + APPROVE_FIRST)
async def approve_financing(financing_id: FinancingId, body: FinancingApproval, ctx: WriteContextDep,
                            gateway: GatewayDep, request: Request):
    return respond(await service.approve(gateway, request.app.state.documents, ctx, financing_id, body), ctx)


@router.post("/financings/{financing_id}/reject", **written("financing.reject"),
             summary="Reject an application with a reason (the application's bank)",
             description="Anyone but the application's bank is answered 403 `ReceivableFinancingNotBank`, with the "
             "same body whether or not the financing exists.")
async def reject_financing(financing_id: FinancingId, body: FinancingRejection, ctx: WriteContextDep,
                           gateway: GatewayDep):
    return respond(await service.reject(gateway, ctx, financing_id, body), ctx)


@router.get("/financings/{financing_id}/payoff", response_model=FinancingPayoff,
            summary="What repays a financing in full on a date (its seller and bank, the regulator, the operator)",
            description="Advance plus simple interest to `at` (default: now), less what was repaid, read from the "
            "chain (`owedAt`): the amount to repay with `POST /v1/financings/{id}/repay` on that date. Anyone else "
            "is answered 403 `FinancingNotVisible`, the same whether or not the financing exists (the regulator and "
            "the operator: 404 `FinancingUnknown` for an unknown one).")
async def financing_payoff(financing_id: FinancingId, caller: CallerDep, gateway: GatewayDep,
                           at: Annotated[int | None, Query(ge=0, lt=2**64, description="Unix seconds")] = None):
    return await service.payoff(gateway, caller, financing_id, at)


@router.post("/financings/{financing_id}/repay", **written("financing.repay"),
             summary="Repay the bank directly (the financing's seller or bank)",
             description="Repays up to what is owed now (advance plus simple interest, rounded down); repaying in "
             "full closes the financing and releases the lien. At a non-zero rate what is owed grows every second, "
             "so an amount above it at the mined block answers 409 `ReceivableFinancingOverpayment`; the buyer's "
             "invoice payment (`POST /v1/invoices/{id}/payments`) always repays the bank exactly, and is how the "
             "buyer repays. Open to every participant on chain, but the gateway repays for the financing's seller "
             "and bank only: anyone else is answered 403 `ReceivableFinancingNotParty` before anything is sent, "
             "with the same body whether or not the financing exists (a repayment that went through would tell it "
             "what is outstanding and which invoice it closed). " + APPROVE_FIRST)
async def repay_financing(financing_id: FinancingId, body: FinancingRepayment, ctx: WriteContextDep,
                          gateway: GatewayDep):
    return respond(await service.repay(gateway, ctx, financing_id, body), ctx)


@router.post("/financings/{financing_id}/repayments", **written("financing.repay"),
             summary="Record a repayment received outside the chain (the financing's bank)",
             description="Anyone but the financing's bank is answered 403 `ReceivableFinancingNotBank`, with the same "
             "body whether or not the financing exists.")
async def record_financing_repayment(financing_id: FinancingId, body: FinancingRepaymentRecord,
                                     ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.record_repayment(gateway, ctx, financing_id, body), ctx)


@router.post("/financings/{financing_id}/default", **written("financing.default"),
             summary="Declare the financing in default (the financing's bank)",
             description="Allowed once the invoice is `Defaulted` or the financing is past maturity plus the "
             "invoice registry's grace period; earlier answers 409 `ReceivableFinancingNotOverdue`. Anyone but the "
             "financing's bank is answered 403 `ReceivableFinancingNotBank`, the same whether or not it exists.")
async def default_financing(financing_id: FinancingId, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.mark_default(gateway, ctx, financing_id), ctx)


@router.post("/financings/{financing_id}/recourse", **written("financing.recourse"),
             summary="Claim recourse: pull what is still owed from the seller (the financing's bank)",
             description="Closes a `Defaulted` financing and releases the lien. The seller must have allowed "
             "`ReceivableFinancing` to move the amount (`POST /v1/approvals`) under its recourse agreement. Anyone "
             "but the financing's bank is answered 403 `ReceivableFinancingNotBank`, the same whether or not it "
             "exists.")
async def claim_recourse(financing_id: FinancingId, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.claim_recourse(gateway, ctx, financing_id), ctx)


@router.post("/financing-policies/customs", **written("financing.customs_policy"),
             summary="Finance only invoices with a matching customs declaration, or not (a bank, for itself)")
async def set_customs_policy(body: CustomsPolicy, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.set_customs_policy(gateway, ctx, body), ctx)


@router.post("/financing-programmes", **written("financing.programme_propose"),
             summary="Propose a reverse factoring programme to a bank (the buyer)")
async def propose_programme(body: ProgrammeProposal, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.propose_programme(gateway, ctx, body), ctx)


@router.post("/financing-programmes/{programme_id}/accept", **written("financing.programme_accept"),
             summary="Accept a programme proposed to the caller (the programme's bank)",
             description="Anyone but the programme's bank is answered 403 `ReceivableFinancingNotProgrammeParty`, "
             "with the same body whether or not the programme exists.")
async def accept_programme(programme_id: ProgrammeId, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.accept_programme(gateway, ctx, programme_id), ctx)


@router.post("/financing-programmes/{programme_id}/close", **written("financing.programme_close"),
             summary="Close a programme to new applications (its buyer or its bank)",
             description="Anyone but the programme's buyer and bank is answered 403 "
             "`ReceivableFinancingNotProgrammeParty`, with the same body whether or not the programme exists.")
async def close_programme(programme_id: ProgrammeId, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.close_programme(gateway, ctx, programme_id), ctx)
