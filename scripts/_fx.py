"""FX quotes of `PaymentRouter`: the EIP-712 typed data a bank signs, built and signed off chain.

A quote's `rate` is quote-currency minor units per base-currency minor unit, scaled by `RATE_SCALE`
(1e18); the beneficiary receives `floor(base_amount * rate / 1e18)`. `rate_from_decimal` turns a
market rate ("1 CNY = 0.1385 USD") into that integer, rounding down like the contract.

A quote is made out to one payer: the router refuses a quote whose payer is zero (an open quote could be
used up by anyone for one minor unit), so `quote_payer` checks the payer before a bank signs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_utils import is_address, to_checksum_address

RATE_SCALE = 10**18
DOMAIN_NAME = "tradefin PaymentRouter"
DOMAIN_VERSION = "1"

FX_QUOTE_TYPE: list[dict[str, str]] = [
    {"name": "bank", "type": "address"},
    {"name": "payer", "type": "address"},
    {"name": "baseToken", "type": "address"},
    {"name": "quoteToken", "type": "address"},
    {"name": "rate", "type": "uint256"},
    {"name": "maxBaseAmount", "type": "uint256"},
    {"name": "expiry", "type": "uint64"},
    {"name": "nonce", "type": "uint256"},
]
ZERO_ADDRESS = "0x" + "00" * 20


def quote_payer(payer: str) -> str:
    """`payer` checksummed, the one account a quote may be made out to: never the zero address, which
    `PaymentRouter` refuses (`PaymentRouterQuoteNotForPayer(0x0, caller)`). Raises ValueError otherwise."""
    if not isinstance(payer, str) or not is_address(payer):
        raise ValueError(f"not an address: {payer!r}")
    address = to_checksum_address(payer)
    if address == ZERO_ADDRESS:
        raise ValueError("a quote must name its payer: the router refuses an open quote (payer zero)")
    return address


@dataclass(frozen=True)
class FxQuote:
    """A bank's firm quote, field for field as `IPaymentRouter.FxQuote`. `payer` is the only account that
    may use it (never zero on chain: see `quote_payer`)."""

    bank: str
    payer: str
    baseToken: str
    quoteToken: str
    rate: int
    maxBaseAmount: int
    expiry: int
    nonce: int

    def as_tuple(self) -> tuple[Any, ...]:
        """The quote as the contract's struct argument."""
        return (self.bank, self.payer, self.baseToken, self.quoteToken, self.rate, self.maxBaseAmount,
                self.expiry, self.nonce)

    def as_message(self) -> dict[str, Any]:
        """The quote as an EIP-712 message (checksummed addresses)."""
        message = asdict(self)
        for key in ("bank", "payer", "baseToken", "quoteToken"):
            message[key] = to_checksum_address(message[key])
        return message

    def converted(self, base_amount: int) -> int:
        """What the beneficiary receives for `base_amount` (rounded down, as on chain)."""
        return base_amount * self.rate // RATE_SCALE


def rate_from_decimal(rate: str | Decimal, base_decimals: int, quote_decimals: int) -> int:
    """The contract's integer rate for a market rate in whole units (1 base = `rate` quote).

    Minor units absorb the currencies' decimals: a rate of 0.1385 USD per CNY (both 2 decimals) is
    0.1385e18; 150 JPY (0 decimals) per USD (2 decimals) is 1.5e18 JPY per US cent.
    """
    scaled = Decimal(rate) * RATE_SCALE * Decimal(10) ** (quote_decimals - base_decimals)
    return int(scaled.to_integral_value(rounding=ROUND_DOWN))


def typed_data(quote: FxQuote, chain_id: int, router: str) -> dict[str, Any]:
    """The full EIP-712 typed data of `quote` for the router at `router` on `chain_id`."""
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "FxQuote": FX_QUOTE_TYPE,
        },
        "primaryType": "FxQuote",
        "domain": {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": chain_id,
            "verifyingContract": to_checksum_address(router),
        },
        "message": quote.as_message(),
    }


def signable_quote(quote: FxQuote, chain_id: int, router: str) -> SignableMessage:
    """The EIP-712 message an account signs for `quote`."""
    return encode_typed_data(full_message=typed_data(quote, chain_id, router))


def sign_quote_with_key(quote: FxQuote, private_key: str | bytes, chain_id: int, router: str) -> bytes:
    """65-byte (r, s, v) signature of `quote` with a raw private key (eth-account)."""
    signed = Account.sign_message(signable_quote(quote, chain_id, router), private_key)
    return bytes(signed.signature)


def sign_quote_with_account(quote: FxQuote, account: Any, chain_id: int, router: str) -> bytes:
    """65-byte (r, s, v) signature of `quote` by an Ape account (keyfile or test account)."""
    signature = account.sign_message(signable_quote(quote, chain_id, router))
    if signature is None:
        raise ValueError(f"account {account.address} refused to sign the quote")
    return signature.encode_rsv()


def recover_quote_signer(quote: FxQuote, signature: bytes, chain_id: int, router: str) -> str:
    """The address that signed `quote` (what the router compares with `quote.bank`)."""
    return Account.recover_message(signable_quote(quote, chain_id, router), signature=signature)
