"""Payable certificates (IPayableCertificates, DESIGN §7): offer and accept, transfer, split, discount, settle."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.schemas.common import Address, MinorUnits
from app.schemas.financing import InvoiceIdText

Amount56 = Annotated[MinorUnits, Field(lt=2**56, description="Minor units of the invoice's currency")]
CertificateIdField = Field(gt=0, lt=2**256, description="A certificate's id")
_SUPPLIER1 = "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955"
_SUPPLIER2 = "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f"
_BANK_CN = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"


class CertificateOfferCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "invoice_id": "73906461828034853209841416101232749271232087062421516567478466093545112187311",
        "amount": 10_000_00, "maturity": 1800000000}]})
    invoice_id: InvoiceIdText = Field(description="A confirmed, unliened invoice on the caller (its buyer)")
    amount: Annotated[Amount56, Field(description="Minor units of the invoice's currency, at most what is unpaid")]
    maturity: int = Field(strict=True, gt=0, lt=2**32, description="Unix seconds, after the current block and no later than "
                          "the invoice's due date")


class CertificateTransfer(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"to": _SUPPLIER1}]})
    to: Address


class SplitPart(BaseModel):
    model_config = ConfigDict(extra="forbid")
    holder: Address
    amount: Amount56


class CertificateSplit(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"parts": [
        {"holder": _SUPPLIER1, "amount": 6_000_00}, {"holder": _SUPPLIER2, "amount": 4_000_00}]}]})
    parts: list[SplitPart] = Field(min_length=2, max_length=64, description="The children, in id order; "
                                   "their amounts must sum to the certificate's")


class DiscountRequestCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"bank": _BANK_CN, "rate_bps": 500}]})
    bank: Address
    rate_bps: int = Field(strict=True, gt=0, le=10_000, description="Annual discount rate in basis points")


class DiscountAcceptance(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"rate_bps": 500}]})
    rate_bps: int = Field(strict=True, gt=0, le=10_000, description="Must equal the holder's requested rate")


class CertificateSettlement(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"certificate_ids": [2, 3]}]})
    certificate_ids: list[Annotated[int, Field(strict=True, gt=0, lt=2**256)]] = Field(min_length=1, max_length=64)

    @model_validator(mode="after")
    def _ids(self) -> CertificateSettlement:
        if any(not 0 < i < 2**256 for i in self.certificate_ids):
            raise ValueError("certificate ids run from 1 to 2**256 - 1")
        return self


class CertificateOffered(BaseModel):
    invoice_id: str
    issuer: Address = Field(description="The core enterprise: the invoice's buyer")
    seller: Address = Field(description="The invoice's seller, who accepts or declines")
    amount: int
    maturity: int


class CertificateOfferClosed(BaseModel):
    invoice_id: str
    by: Address
    outcome: str = Field(description="Withdrawn (by the issuer) or Declined (by the seller)")


class CertificateIssued(BaseModel):
    certificate_id: int
    invoice_id: str
    issuer: Address
    holder: Address
    currency: Address
    amount: int
    maturity: int


class CertificateTransferred(BaseModel):
    certificate_id: int
    from_: Address = Field(alias="from")
    to: Address


class CertificateChild(BaseModel):
    certificate_id: int
    holder: Address
    amount: int


class CertificateSplitResult(BaseModel):
    parent_id: int
    root_id: int
    children: list[CertificateChild]


class DiscountRequested(BaseModel):
    certificate_id: int
    holder: Address
    bank: Address
    rate_bps: int


class DiscountRequestCancelled(BaseModel):
    certificate_id: int
    holder: Address
    bank: Address


class CertificateDiscounted(BaseModel):
    certificate_id: int
    seller: Address
    bank: Address
    rate_bps: int
    days_to_maturity: int
    amount: int
    proceeds: int


class CertificatePayment(BaseModel):
    certificate_id: int
    root_id: int
    holder: Address
    amount: int


class TreePaid(BaseModel):
    root_id: int
    invoice_id: str
    amount: int


class CertificatesSettled(BaseModel):
    settled: list[CertificatePayment]
    trees_paid: list[TreePaid] = Field(description="Trees paid in full by this call; their invoice liens are released")


class TreeDefaulted(BaseModel):
    root_id: int
    invoice_id: str
    outstanding: int
