"""Tokenized deposits: banks mint and burn, participants pay each other with a purpose code."""

from __future__ import annotations

from typing import Any

from eth_utils import to_checksum_address

from app.chain.types import TxOutcome, WriteAnswer
from app.core.enums import ParticipantKind
from app.core.errors import Forbidden
from app.schemas.money import (
    BurnRequest,
    DepositResult,
    LargeValueThresholdChanged,
    LargeValueThresholdSet,
    MintRequest,
    PaymentCreate,
    PaymentResult,
)
from app.services.base import (
    Caller,
    Gateway,
    WriteContext,
    ascii_code,
    bytes32_of,
    require_kind,
    submit,
)
from app.services.results import register_result


async def mint(gateway: Gateway, ctx: WriteContext, body: MintRequest) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, ParticipantKind.Bank)
    reference = bytes32_of(body.reference)
    call = gateway.call(gateway.token_name(body.currency), "mint", body.to, body.amount, reference,
                        operation="deposits.mint", currency=body.currency)
    return await submit(gateway, ctx, call, body.model_dump(mode="json"))


@register_result("deposits.mint", DepositResult, created=True)
def _minted(outcome: TxOutcome) -> dict[str, Any]:
    args = outcome.event("DepositMinted").args
    return {"currency": outcome.context["currency"], "bank": args["bank"], "to": args["to"],
                 "amount": args["amount"], "reference": args["paymentReference"]}


async def burn(gateway: Gateway, ctx: WriteContext, body: BurnRequest) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, ParticipantKind.Bank)
    call = gateway.call(gateway.token_name(body.currency), "burn", body.amount, bytes32_of(body.reference),
                        operation="deposits.burn", currency=body.currency)
    return await submit(gateway, ctx, call, body.model_dump(mode="json"))


@register_result("deposits.burn", DepositResult)
def _burned(outcome: TxOutcome) -> dict[str, Any]:
    args = outcome.event("DepositBurned").args
    return {"currency": outcome.context["currency"], "bank": args["bank"], "to": None,
                 "amount": args["amount"], "reference": args["paymentReference"]}


async def pay(gateway: Gateway, ctx: WriteContext, body: PaymentCreate) -> WriteAnswer:
    call = gateway.call(
        gateway.token_name(body.currency), "transferWithPurpose", body.to, body.amount,
        body.purpose_code.encode("ascii"), bytes32_of(body.reference),
        operation="payments.transfer", currency=body.currency,
    )
    return await submit(gateway, ctx, call, body.model_dump(mode="json"))


@register_result("payments.transfer", PaymentResult, created=True)
def _paid(outcome: TxOutcome) -> dict[str, Any]:
    args = outcome.event("PaymentTransfer").args
    return {
        "currency": outcome.context["currency"], "from": args["from"], "to": args["to"], "amount": args["amount"],
        "purpose_code": ascii_code(args["purposeCode"]), "reference": args["paymentReference"],
        "cross_border": bool(outcome.events_named("CrossBorderTransfer")),
        "large_value_reported": bool(outcome.events_named("LargeValueReported")),
    }


async def set_large_value_threshold(gateway: Gateway, ctx: WriteContext, body: LargeValueThresholdSet) -> WriteAnswer:
    """The regulator sets the reporting threshold of one currency's settlement token."""
    await require_kind(gateway, ctx.caller, ParticipantKind.Regulator)
    call = gateway.call(gateway.token_name(body.currency), "setLargeValueThreshold", body.threshold,
                        operation="supervision.large_value_threshold", currency=body.currency)
    return await submit(gateway, ctx, call, body.model_dump(mode="json"))


@register_result("supervision.large_value_threshold", LargeValueThresholdChanged)
def _threshold_set(outcome: TxOutcome) -> dict[str, Any]:
    args = outcome.event("LargeValueThresholdSet").args
    return {"currency": outcome.context["currency"], "regulator": args["regulator"],
                 "threshold": args["threshold"]}


async def balances(gateway: Gateway, caller: Caller, account: str) -> dict[str, Any]:
    """Balances of `account` in every currency: the holder itself, the regulator and the operator may look."""
    if account != caller.address:
        kind = await gateway.kind_of(caller.address)
        if kind not in (ParticipantKind.Regulator, ParticipantKind.Operator):
            raise Forbidden("only the holder, the regulator or the operator may see these balances",
                            {"account": account}, code="BalancesNotVisible")
    currencies = gateway.currencies()
    decimals = [await token_decimals(gateway, c) for c in currencies]
    fn_balance = gateway.abi.function("SettlementToken", "balanceOf")
    values = await gateway.chain.read_many([(gateway.contract(gateway.token_name(c)), fn_balance, (account,))
                                            for c in currencies])
    return {"account": to_checksum_address(account), "balances": [
        {"currency": c, "amount": amount, "decimals": d} for c, (amount,), d in zip(currencies, values, decimals)
    ]}


# `decimals()` of each settlement token by address, read from the chain once per token and process: a token's
# decimals never change. The one place the gateway learns a currency's minor-unit exponent.
_DECIMALS: dict[str, int] = {}


async def token_decimals(gateway: Gateway, currency: str) -> int:
    """The minor-unit exponent of `currency`, as its token contract answers `decimals()` (JPY 0, USD 2, ...)."""
    name = gateway.token_name(currency)
    address = gateway.contract(name)
    decimals = _DECIMALS.get(address)
    if decimals is None:
        (decimals,) = await gateway.read(name, "decimals")
        _DECIMALS[address] = decimals
    return decimals

