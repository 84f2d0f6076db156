"""Shared request/response types: addresses, hashes, codes, amounts, the write envelope, errors."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any, Generic, TypeVar

from eth_utils import is_address, to_checksum_address
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

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
Bytes32 = Annotated[
    str, Field(pattern=r"^0x[0-9a-fA-F]{64}$", examples=["0x" + "ab" * 32]), AfterValidator(str.lower)
]
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code", examples=["USD"])]
JurisdictionCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2", examples=["CN"])]
PurposeCode = Annotated[str, Field(pattern=r"^[A-Z]{4}$", description="ISO 20022 purpose code", examples=["GDDS"])]
MinorUnits = Annotated[int, Field(gt=0, lt=2**255, description="Amount in the currency's minor units", examples=[125000])]
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


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "Missing, unknown or revoked API key"},
    403: {"model": ErrorResponse, "description": "The caller may not do this (gateway rule or contract revert)"},
    404: {"model": ErrorResponse, "description": "Unknown resource"},
    409: {"model": ErrorResponse, "description": "Conflicts with the chain's state (contract revert)"},
    422: {"model": ErrorResponse, "description": "Invalid input, with field reasons"},
    503: {"model": ErrorResponse, "description": "Chain unavailable; nothing was applied"},
}
