"""Shared request/response types: addresses, hashes, codes, amounts, the write envelope, errors."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any, Generic, TypeVar

from eth_utils import is_address, to_checksum_address
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict

T = TypeVar("T")


@lru_cache(maxsize=65_536)
def _checksum(value: str) -> str:
    if not is_address(value):
        raise ValueError("not a 20-byte hex address")
    return to_checksum_address(value)


Address = Annotated[
    str,
    Field(min_length=40, max_length=42, examples=["0x70997970C51812dc3A010C7d01b50e0d17dc79C8"]),
    AfterValidator(_checksum),
]
def _utc(value: datetime) -> datetime:
    """Naive datetimes (SQLite keeps no offset) are UTC as stored; aware ones are converted to UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Every datetime a response carries: ISO 8601 with its offset, always UTC (`2026-12-03T02:46:16Z`).
UtcDateTime = Annotated[datetime, AfterValidator(_utc), Field(examples=["2026-12-03T02:46:16Z"])]
Bytes32 = Annotated[
    str, Field(pattern=r"^0x[0-9a-fA-F]{64}$", examples=["0x" + "ab" * 32]), AfterValidator(str.lower)
]
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code", examples=["USD"])]
JurisdictionCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2", examples=["CN"])]
PurposeCode = Annotated[str, Field(pattern=r"^[A-Z]{4}$", description="ISO 20022 purpose code", examples=["GDDS"])]
# Every amount of money in a request: a JSON integer in minor units. Strict: `true`, `"1"` and `1.0` are refused
# (422), never read as 1. Narrow the bound to the contract's field where it is smaller:
# `Annotated[MinorUnits, Field(lt=2**48)]`.
Amount = Annotated[int, Strict(), Field(ge=0, lt=2**256, description="Minor units of the currency (a JSON integer)",
                                        examples=[125000])]
MinorUnits = Annotated[Amount, Field(gt=0)]


def _uint256_text(value: str) -> str:
    if int(value) >= 2**256:
        raise ValueError("above the largest uint256 (2**256 - 1)")
    return value


Uint256Text = Annotated[str, Field(pattern=r"^[0-9]{1,78}$", description="A uint256 in decimal"),
                        AfterValidator(_uint256_text)]
Reference = Annotated[
    str,
    Field(min_length=1, max_length=140, description="Your reference. Put on chain as keccak256 of the text "
          "(or as is when it is a 0x-prefixed bytes32)", examples=["INV-2026-0042"]),
]


class WriteResult(BaseModel, Generic[T]):
    """The answer of every write: the domain result decoded from the receipt's events."""

    result: T
    tx_hash: str = Field(examples=["0x" + "12" * 32])
    block_number: int = Field(examples=[42])


class ErrorDetail(BaseModel):
    code: str = Field(examples=["ParticipantRegistryAlreadyRegistered"])
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class ErrorResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"error": {
        "code": "ParticipantRegistryAlreadyRegistered", "message": "ParticipantRegistry reverted",
        "details": {"account": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"}}}]})
    error: ErrorDetail


def _error_example(code: str, message: str, details: dict[str, Any]) -> dict[str, Any]:
    return {"value": {"error": {"code": code, "message": message, "details": details}}}


_SIGNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
_RETRY_AFTER = {"Retry-After": {"description": "Whole seconds to wait before repeating the request (the same "
                                "Idempotency-Key for a write)", "schema": {"type": "integer", "minimum": 1}}}

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "The body is not well-formed JSON (`MalformedBody`)"},
    401: {"model": ErrorResponse, "description": "Missing, unknown or revoked API key"},
    403: {"model": ErrorResponse, "description": "The caller may not do this (gateway rule or contract revert). A "
          "caller that is not the party a step needs is answered the same whether or not the instrument exists"},
    404: {"model": ErrorResponse, "description": "Unknown resource"},
    409: {"model": ErrorResponse, "description": "Conflicts with the chain's state: a contract revert (its custom "
          "error's name and decoded arguments), or, for a write, `InsufficientFundsForGas`: the signer's ETH cannot "
          "pay for the transaction's gas (`details`: `signer`, `balance`, `needed`, `shortfall`, `gas`, "
          "`max_fee_per_gas`). Nothing was sent or stored: fund the signer's address, then repeat the request with "
          "the same Idempotency-Key",
          "content": {"application/json": {"examples": {
              "revert": _error_example("InvoiceRegistryUnexpectedState", "InvoiceRegistry refused: invoice 7 is "
                                       "Confirmed; this step needs it to be Registered",
                                       {"invoiceId": 7, "current": "Confirmed", "expectedStates": ["Registered"]}),
              "InsufficientFundsForGas": _error_example(
                  "InsufficientFundsForGas", f"The signer {_SIGNER} holds 0 wei of ETH for gas, less than the "
                  "5000000000000000 wei this request may cost (100000 gas at up to 50000000000 wei per gas). Fund "
                  "the signer's address with ETH, then repeat the request: nothing was sent, and the same "
                  "Idempotency-Key may be used.",
                  {"signer": _SIGNER, "balance": 0, "needed": 5_000_000_000_000_000,
                   "shortfall": 5_000_000_000_000_000, "gas": 100_000, "max_fee_per_gas": 50_000_000_000}),
          }}}},
    422: {"model": ErrorResponse, "description": "Invalid input, with field reasons"},
    413: {"model": ErrorResponse, "description": "The request body is above the gateway's limit"},
    503: {"model": ErrorResponse, "description": "Chain unavailable; nothing was applied. `Retry-After` says when "
          "to repeat the request", "headers": _RETRY_AFTER},
    504: {"model": ErrorResponse, "description": "A write's transaction was sent but not mined in time "
          "(`TransactionPending`): repeat the Idempotency-Key for its result", "headers": _RETRY_AFTER},
}
