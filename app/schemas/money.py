from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.common import Address, Amount, CurrencyCode, MinorUnits, PurposeCode, Reference


class MintRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "currency": "USD", "to": "0x90F79bf6EB2c4f870365E785982E1f101E93b906", "amount": 5000000,
        "reference": "DEP-2026-11-25-0001"}]})
    currency: CurrencyCode
    to: Address
    amount: MinorUnits
    reference: Reference


class BurnRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "currency": "USD", "amount": 100000, "reference": "WDR-2026-11-25-0007"}]})
    currency: CurrencyCode
    amount: MinorUnits
    reference: Reference


class DepositResult(BaseModel):
    currency: str
    bank: Address
    to: Address | None = None
    amount: int
    reference: str


class Balance(BaseModel):
    currency: str
    amount: int = Field(description="Minor units")
    decimals: int


class Balances(BaseModel):
    account: Address
    balances: list[Balance]


class PaymentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "currency": "USD", "to": "0x90F79bf6EB2c4f870365E785982E1f101E93b906", "amount": 125000,
        "purpose_code": "GDDS", "reference": "INV-2026-0042"}]})
    currency: CurrencyCode
    to: Address
    amount: MinorUnits
    purpose_code: PurposeCode
    reference: Reference


class PaymentResult(BaseModel):
    currency: str
    from_: Address = Field(alias="from", serialization_alias="from")
    to: Address
    amount: int
    purpose_code: str
    reference: str
    cross_border: bool
    large_value_reported: bool

    model_config = ConfigDict(populate_by_name=True)


class LargeValueThresholdSet(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "currency": "USD", "threshold": 5000000}]})
    currency: CurrencyCode
    threshold: Annotated[Amount, Field(description="Minor units; a transfer at or above it emits "
                                       "`LargeValueReported`; 0 turns reporting off")]


class LargeValueThresholdChanged(BaseModel):
    currency: str
    regulator: Address
    threshold: int
