from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.schemas.common import Address, Amount, CurrencyCode, MinorUnits, PurposeCode, Reference, Uint256Text

SPENDERS = ("PaymentRouter", "InvoiceRegistry", "ReceivableFinancing", "PayableCertificates", "LetterOfCredit")


class ApprovalCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "currency": "CNY", "spender": "PaymentRouter", "amount": 100000000}]})
    currency: CurrencyCode
    spender: str = Field(pattern=r"^[A-Za-z]{1,40}$", description=f"A deployed contract: {', '.join(SPENDERS)}")
    amount: Annotated[Amount, Field(description="Allowance in minor units (0 withdraws it)")]


class ApprovalResult(BaseModel):
    currency: str
    owner: Address
    spender: Address
    amount: int


class FxQuoteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "payer": "0x90F79bf6EB2c4f870365E785982E1f101E93b906", "base_currency": "CNY", "quote_currency": "USD",
        "rate": "0.1385", "max_base_amount": 100000000, "valid_seconds": 300}]})
    payer: Address = Field(description="The customer the quote is for: only it may pay with the quote (an open "
                           "quote could be used up by anyone, so the chain refuses one)")
    base_currency: CurrencyCode
    quote_currency: CurrencyCode
    rate: str = Field(pattern=r"^[0-9]{1,12}(\.[0-9]{1,18})?$", description="Quote-currency units per one "
                      "base-currency unit (whole units, decimal string)")
    max_base_amount: MinorUnits
    valid_seconds: int = Field(strict=True, default=300, gt=0, le=86_400)
    nonce: int | None = Field(strict=True, default=None, ge=0, lt=2**256, description="Default: a fresh random nonce")

    @field_validator("payer")
    @classmethod
    def _named(cls, value: str) -> str:
        if int(value, 16) == 0:
            raise ValueError("a quote names its payer: the zero address would let anyone use it, and the chain "
                             "refuses it")
        return value


class FxQuote(BaseModel):
    """`IPaymentRouter.FxQuote`, field for field."""

    bank: Address
    payer: Address
    baseToken: Address
    quoteToken: Address
    rate: Annotated[Uint256Text, Field(description="Quote minor units per base minor unit × 1e18 (decimal string)")]
    maxBaseAmount: Amount
    expiry: int = Field(ge=0, lt=2**64)
    nonce: Annotated[Uint256Text, Field(strict=True, description="Decimal string")]


class SignedFxQuote(BaseModel):
    quote: FxQuote
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")


class FxQuoteToSign(BaseModel):
    """A quote for a bank that keeps its own key: it signs `typed_data` (`eth_signTypedData_v4`)."""

    quote: FxQuote
    typed_data: dict[str, Any] = Field(description="The quote's EIP-712 typed data (domain: the PaymentRouter)")


class FxPaymentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    quote: FxQuote
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")
    beneficiary: Address
    base_amount: MinorUnits
    purpose_code: PurposeCode
    reference: Reference


class FxPaymentResult(BaseModel):
    payer: Address
    beneficiary: Address
    bank: Address
    base_currency: str
    quote_currency: str
    base_amount: int
    quote_amount: int
    rate: str
    purpose_code: str
    reference: str
