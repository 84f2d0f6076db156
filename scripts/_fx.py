"""FX quotes of `PaymentRouter` signed off chain by an Ape account or a raw key.

The quote's EIP-712 type and domain, its rate scale and `rate_from_decimal` are the gateway's
(`app/core/fx_quotes.py`): the scripts and the gateway sign the same typed data.

A quote is made out to one payer: the router refuses a quote whose payer is zero (an open quote could be
used up by anyone for one minor unit), so `quote_payer` checks the payer before a bank signs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_utils import is_address, to_checksum_address

from app.core.fx_quotes import FX_QUOTE_FIELDS, RATE_SCALE, quote_message, quote_typed_data, rate_from_decimal

__all__ = ["RATE_SCALE", "ZERO_ADDRESS", "FxQuote", "quote_payer", "rate_from_decimal", "recover_quote_signer",
           "sign_quote_with_account", "sign_quote_with_key", "signable_quote", "typed_data"]

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
        return tuple(getattr(self, name) for name in FX_QUOTE_FIELDS)

    def as_message(self) -> dict[str, Any]:
        """The quote as an EIP-712 message (checksummed addresses)."""
        return quote_message(asdict(self))

    def converted(self, base_amount: int) -> int:
        """What the beneficiary receives for `base_amount` (rounded down, as on chain)."""
        return base_amount * self.rate // RATE_SCALE


def typed_data(quote: FxQuote, chain_id: int, router: str) -> dict[str, Any]:
    """The full EIP-712 typed data of `quote` for the router at `router` on `chain_id`."""
    return quote_typed_data(asdict(quote), chain_id, router)


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
