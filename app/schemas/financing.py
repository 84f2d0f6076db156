"""Receivable financing and reverse factoring programmes (IReceivableFinancing, DESIGN §5)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.schemas.common import Address, Bytes32, MinorUnits, Reference, Uint256Text

InvoiceIdText = Annotated[
    Uint256Text,
    Field(description="The invoice's token id, decimal (as `POST /v1/invoices` answers it)",
          examples=["73906461828034853209841416101232749271232087062421516567478466093545112187311"]),
]
Amount48 = Annotated[MinorUnits, Field(lt=2**48, description="Minor units of the invoice's currency")]
RateBps = Annotated[int, Field(strict=True, ge=0, le=10_000, description="Annual rate in basis points (at most 10,000)")]

_EXPORTER = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"
_BANK_CN = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"


class FinancingApply(BaseModel):
    """Exactly one of `bank` (ordinary factoring) or `programme_id` (reverse factoring: the programme's bank
    and rate)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"invoice_id": "73906461828034853209841416101232749271232087062421516567478466093545112187311",
         "bank": _BANK_CN, "requested_amount": 10_000_00},
        {"invoice_id": "73906461828034853209841416101232749271232087062421516567478466093545112187311",
         "programme_id": 1, "requested_amount": 10_000_00}]})
    invoice_id: InvoiceIdText
    bank: Address | None = Field(default=None, description="The bank applied to (outside a programme)")
    programme_id: int | None = Field(strict=True, default=None, gt=0, lt=2**256, description="An open reverse factoring programme")
    requested_amount: Amount48 = Field(description="Minor units, at most what is still unpaid on the invoice")

    @model_validator(mode="after")
    def _bank_or_programme(self) -> FinancingApply:
        if (self.bank is None) == (self.programme_id is None):
            raise ValueError("give exactly one of bank or programme_id")
        return self


class FinancingApproval(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "advance_amount": 9_500_00, "rate_bps": 650, "maturity": 1800000000, "terms_hash": "0x" + "cd" * 32}]})
    advance_amount: Amount48 = Field(description="Paid now from the bank to the seller; at most the requested amount "
                                     "and what is still unpaid on the invoice")
    rate_bps: RateBps
    maturity: int = Field(strict=True, gt=0, lt=2**32, description="Unix seconds, after the current block")
    terms_hash: Bytes32 = Field(description="Hash of the financing agreement kept off chain")


class FinancingRejection(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "CREDIT-LIMIT"}]})
    reason: Reference


class FinancingRepayment(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"amount": 5_000_00}]})
    amount: Amount48 = Field(description="Minor units, at most what is owed now")


class FinancingRepaymentRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "amount": 5_000_00, "reference": "SWIFT-MT103-20261125-0042"}]})
    amount: Amount48 = Field(description="Minor units received outside the chain, at most what is owed now")
    reference: Reference


class ProgrammeProposal(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "bank": _BANK_CN, "rate_bps": 450, "limit": 1_000_000_00}]})
    bank: Address
    rate_bps: RateBps
    limit: Amount48 = Field(description="Most advances outstanding at once under the programme, minor units")


class CustomsPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"customs_match_required": True}]})
    customs_match_required: bool


class FinancingApplied(BaseModel):
    financing_id: int
    invoice_id: str
    seller: Address
    bank: Address
    requested_amount: int
    programme_id: int = Field(strict=True, description="0 outside a programme")


class FinancingApproved(BaseModel):
    financing_id: int
    bank: Address
    seller: Address
    advance_amount: int
    rate_bps: int
    maturity: int
    terms_hash: str


class FinancingRejected(BaseModel):
    financing_id: int
    bank: Address
    reason_code: str = Field(description="keccak256 of the reason (or the bytes32 given)")


class FinancingWithdrawn(BaseModel):
    financing_id: int
    seller: Address


class FinancingClosure(BaseModel):
    invoice_id: str
    total_repaid: int


class FinancingRepaid(BaseModel):
    financing_id: int
    payer: Address
    amount: int
    outstanding: int
    payment_reference: str
    closed: FinancingClosure | None = Field(description="Present when this repayment closed the financing "
                                            "(lien released)")


class FinancingDefaulted(BaseModel):
    financing_id: int
    bank: Address
    outstanding: int


class RecourseClaimed(BaseModel):
    financing_id: int
    seller: Address
    amount: int
    closed: FinancingClosure


class ProgrammeProposed(BaseModel):
    programme_id: int
    buyer: Address
    bank: Address
    rate_bps: int
    limit: int


class ProgrammeOpened(BaseModel):
    programme_id: int
    bank: Address


class ProgrammeClosed(BaseModel):
    programme_id: int
    closed_by: Address


class CustomsPolicySet(BaseModel):
    bank: Address
    customs_match_required: bool


class FinancingPayoff(BaseModel):
    financing_id: int
    invoice_id: str
    seller: Address
    bank: Address
    state: str = Field(description="Applied, Rejected, Withdrawn, Active, Defaulted or Closed")
    at: int = Field(description="The date of the payoff (unix seconds); a date before the chain's now counts as now")
    owed: int = Field(description="What repays the financing in full at `at` if nothing more is repaid before: "
                      "advance plus simple interest to that date, less what was repaid (0 unless Active or Defaulted)")
