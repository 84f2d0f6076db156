"""Allowances and cross-currency payments at a bank's signed FX quote (DESIGN §3).

A bank asks the gateway for a quote: the gateway signs it (EIP-712) with the bank's key, nothing goes on
chain. The payer pays with the quote: both legs move in one `PaymentRouter.payWithQuote`, or neither.
Parties approve the contracts that move their tokens beforehand (`POST /v1/approvals`).
"""

from __future__ import annotations

import secrets
from typing import Any

from app.chain.types import TxOutcome, WriteAnswer
from app.core.enums import ParticipantKind
from app.core.errors import Invalid
from app.core.fx_quotes import quote_typed_data, rate_from_decimal
from app.schemas.fx import (
    SPENDERS,
    ApprovalCreate,
    ApprovalResult,
    FxPaymentCreate,
    FxPaymentResult,
    FxQuoteCreate,
)
from app.services.base import Caller, Gateway, WriteContext, ascii_code, bytes32_of, require_kind, submit
from app.services.money import token_decimals
from app.services.results import register_result


async def approve(gateway: Gateway, ctx: WriteContext, body: ApprovalCreate) -> WriteAnswer:
    if body.spender not in SPENDERS:
        raise Invalid("unknown spender", {"spender": body.spender, "allowed": list(SPENDERS)}, code="UnknownSpender")
    spender = gateway.contract(body.spender)
    call = gateway.call(gateway.token_name(body.currency), "approve", spender, body.amount,
                        operation="approvals.approve", currency=body.currency)
    return await submit(gateway, ctx, call, body.model_dump(mode="json"))


@register_result("approvals.approve", ApprovalResult)
def _approved(outcome: TxOutcome) -> dict[str, Any]:
    args = outcome.event("Approval").args
    return {"currency": outcome.context["currency"], "owner": args["owner"], "spender": args["spender"],
                 "amount": args["value"]}


async def sign_quote(gateway: Gateway, caller: Caller, body: FxQuoteCreate) -> dict[str, Any]:
    """The bank's quote, signed with its gateway-held key."""
    await require_kind(gateway, caller, ParticipantKind.Bank)
    signer = gateway.chain.lanes.get(caller.address)
    if signer is None:
        raise Invalid("the gateway holds no signing key for this bank: a bank with its own key prepares the quote "
                      "(POST /v1/fx-quotes:prepare) and signs it itself", code="NoSigningKey")
    quote, typed = await prepare_quote(gateway, caller, body)
    signature = signer.signer.sign_typed_data(typed)
    return {"quote": quote | {"rate": str(quote["rate"]), "nonce": str(quote["nonce"])},
            "signature": "0x" + signature.hex()}


async def prepare_quote(gateway: Gateway, caller: Caller, body: FxQuoteCreate) -> tuple[dict[str, Any], dict[str, Any]]:
    """The bank's quote and its EIP-712 typed data (`app.core.fx_quotes`), unsigned: a bank that keeps its own key
    signs it itself."""
    await require_kind(gateway, caller, ParticipantKind.Bank)
    if body.base_currency == body.quote_currency:
        raise Invalid("a quote needs two currencies; pay same-currency with POST /v1/payments",
                      code="QuoteSameCurrency")
    router = gateway.contract("PaymentRouter")
    rate = rate_from_decimal(body.rate, await token_decimals(gateway, body.base_currency),
                             await token_decimals(gateway, body.quote_currency))
    if rate == 0:
        raise Invalid("the rate rounds to zero", {"rate": body.rate}, code="QuoteZeroRate")
    now = int((await gateway.chain.rpc.call("eth_getBlockByNumber", ["latest", False]))["timestamp"], 16)
    quote = {
        "bank": caller.address, "payer": body.payer,
        "baseToken": gateway.contract(gateway.token_name(body.base_currency)),
        "quoteToken": gateway.contract(gateway.token_name(body.quote_currency)),
        "rate": rate, "maxBaseAmount": body.max_base_amount, "expiry": now + body.valid_seconds,
        "nonce": body.nonce if body.nonce is not None else secrets.randbits(64),
    }
    return quote, quote_typed_data(quote, gateway.chain.chain_id, router)


async def pay_with_quote(gateway: Gateway, ctx: WriteContext, body: FxPaymentCreate) -> WriteAnswer:
    q = body.quote
    quote = (q.bank, q.payer, q.baseToken, q.quoteToken, int(q.rate), q.maxBaseAmount, q.expiry, int(q.nonce))
    names = gateway.deployment.names_by_address()
    call = gateway.call(
        "PaymentRouter", "payWithQuote", quote, bytes.fromhex(body.signature[2:]), body.beneficiary,
        body.base_amount, body.purpose_code.encode("ascii"), bytes32_of(body.reference),
        operation="payments.fx", base_currency=names.get(q.baseToken, "").removeprefix("SettlementToken"),
        quote_currency=names.get(q.quoteToken, "").removeprefix("SettlementToken"),
    )
    return await submit(gateway, ctx, call, body.model_dump(mode="json"))


@register_result("payments.fx", FxPaymentResult, created=True)
def _settled(outcome: TxOutcome) -> dict[str, Any]:
    args = outcome.event("PaymentSettled").args
    return {
        "payer": args["payer"], "beneficiary": args["beneficiary"], "bank": args["bank"],
        "base_currency": outcome.context["base_currency"], "quote_currency": outcome.context["quote_currency"],
        "base_amount": args["baseAmount"], "quote_amount": args["quoteAmount"], "rate": str(args["rate"]),
        "purpose_code": ascii_code(args["purposeCode"]), "reference": args["paymentReference"],
    }
