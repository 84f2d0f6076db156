from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import CallerDep, GatewayDep, WriteContextDep
from app.api.routes._write import respond
from app.schemas.common import ERROR_RESPONSES
from app.schemas.fx import ApprovalCreate, FxPaymentCreate, FxQuoteCreate, FxQuoteToSign, SignedFxQuote
from app.services import fx as service
from app.services.results import written

router = APIRouter(responses=ERROR_RESPONSES)


@router.post("/approvals", **written("approvals.approve"), tags=["payments"],
             summary="Allow a platform contract to move the caller's tokens (ERC-20 approve)")
async def approve(body: ApprovalCreate, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.approve(gateway, ctx, body), ctx)


@router.post("/fx-quotes", status_code=201, response_model=SignedFxQuote, tags=["payments"],
             summary="Sign a firm FX quote (bank); nothing goes on chain",
             description="The quote is EIP-712 typed data signed with the bank's key, made out for one payer "
             "(`payer`; only that payer may use it); hand it to the payer, who pays with POST /v1/payments/fx. The "
             "bank must have approved the PaymentRouter for the quote currency.")
async def sign_quote(body: FxQuoteCreate, caller: CallerDep, gateway: GatewayDep):
    return await service.sign_quote(gateway, caller, body)


@router.post("/fx-quotes:prepare", status_code=200, response_model=FxQuoteToSign, tags=["payments", "signed requests"],
             summary="Prepare a firm FX quote for a bank that signs with its own key; nothing goes on chain",
             description="The quote as `POST /v1/fx-quotes` makes it, unsigned, with its EIP-712 typed data: the bank "
             "signs `typed_data` with its own key (`eth_signTypedData_v4`) and hands the quote and the signature "
             "to the payer.")
async def prepare_quote(body: FxQuoteCreate, caller: CallerDep, gateway: GatewayDep):
    quote, typed = await service.prepare_quote(gateway, caller, body)
    return {"quote": quote | {"rate": str(quote["rate"]), "nonce": str(quote["nonce"])}, "typed_data": typed}


@router.post("/payments/fx", **written("payments.fx"), tags=["payments"],
             summary="Pay in one currency, the beneficiary receives another, at a bank's quote (both legs or none)")
async def pay_with_quote(body: FxPaymentCreate, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.pay_with_quote(gateway, ctx, body), ctx)
