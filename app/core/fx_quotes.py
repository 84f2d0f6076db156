"""A bank's FX quote for `PaymentRouter.payWithQuote`, once: its EIP-712 type and domain, and its rate.

The gateway (`app/services/fx.py`, which signs with a bank's gateway-held key) and the Ape scripts
(`scripts/_fx.py`, which sign with a bank's Ape account) build the typed data here, so the struct the contract
hashes (`IPaymentRouter.FxQuote`, `FX_QUOTE_TYPEHASH`) and its domain (`EIP712("tradefin PaymentRouter", "1")`,
answered by the router's `eip712Domain()`) are written down once on the Python side.

A quote's `rate` is quote-currency minor units per base-currency minor unit, scaled by `RATE_SCALE` (1e18); the
beneficiary receives `floor(base_amount * rate / 1e18)`. `rate_from_decimal` turns a market rate in whole units
("1 CNY = 0.1385 USD") into that integer, rounding down like the contract.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal, localcontext
from typing import Any

from eth_utils import to_checksum_address

RATE_SCALE = 10**18
DOMAIN_NAME = "tradefin PaymentRouter"
DOMAIN_VERSION = "1"

# `IPaymentRouter.FxQuote`, field for field and in order (the order is part of `FX_QUOTE_TYPEHASH`).
FX_QUOTE_TYPE: list[dict[str, str]] = [{"name": n, "type": t} for n, t in (
    ("bank", "address"), ("payer", "address"), ("baseToken", "address"), ("quoteToken", "address"),
    ("rate", "uint256"), ("maxBaseAmount", "uint256"), ("expiry", "uint64"), ("nonce", "uint256"))]
FX_QUOTE_FIELDS: tuple[str, ...] = tuple(f["name"] for f in FX_QUOTE_TYPE)
_DOMAIN_TYPE = [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}]


def rate_from_decimal(rate: str | Decimal, base_decimals: int, quote_decimals: int) -> int:
    """The contract's integer rate for a market rate in whole units (1 base = `rate` quote).

    Minor units absorb the currencies' decimals (each token's `decimals()`): a rate of 0.1385 USD per CNY (both
    2 decimals) is 0.1385e18; 150 JPY (0 decimals) per USD (2 decimals) is 1.5e18 JPY per US cent. Exact up to
    the rounding down: no digit of the rate or the scale is rounded away before it. Raises
    `decimal.InvalidOperation` for a text that is not a number.
    """
    with localcontext() as exact:
        exact.prec = 120
        scaled = Decimal(rate) * RATE_SCALE * Decimal(10) ** (quote_decimals - base_decimals)
        return int(scaled.to_integral_value(rounding=ROUND_DOWN))


def quote_message(quote: dict[str, Any]) -> dict[str, Any]:
    """The EIP-712 message of `quote`: the fields of `FX_QUOTE_FIELDS` in order, addresses checksummed."""
    message = {name: quote[name] for name in FX_QUOTE_FIELDS}
    for key in ("bank", "payer", "baseToken", "quoteToken"):
        message[key] = to_checksum_address(message[key])
    return message


def quote_typed_data(quote: dict[str, Any], chain_id: int, router: str) -> dict[str, Any]:
    """The full EIP-712 typed data of `quote` for the router at `router` on `chain_id`: what a bank signs and
    what `eth_signTypedData_v4` takes."""
    return {
        "types": {"EIP712Domain": _DOMAIN_TYPE, "FxQuote": FX_QUOTE_TYPE},
        "primaryType": "FxQuote",
        "domain": {"name": DOMAIN_NAME, "version": DOMAIN_VERSION, "chainId": chain_id,
                   "verifyingContract": to_checksum_address(router)},
        "message": quote_message(quote),
    }
