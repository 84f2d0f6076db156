from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.schemas.common import Address, Amount, Bytes32, CurrencyCode, MinorUnits, Reference

INVOICE_NUMBER = re.compile(r"[\x21-\x7e]{1,32}")
INVOICE_NUMBER_RULE = ("an invoice number is 1 to 32 printable ASCII characters without spaces (letters, digits "
                       "and punctuation); the chain records it in upper case")

class InvoiceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "buyer": "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc", "currency": "USD",
        "invoice_number": "INV-2026-0042", "face_amount": 12500000, "issue_date": 1795000000,
        "due_date": 1800000000, "document_hash": "0x" + "ab" * 32}]})
    buyer: Address
    currency: CurrencyCode
    invoice_number: str = Field(min_length=1, max_length=32, pattern=r"^[\x21-\x7e]{1,32}$",
                                description="1 to 32 printable ASCII characters without spaces. The chain records "
                                "it in upper case (`inv-7` and `INV-7` are one invoice) and it is part of the "
                                "duplicate key")
    face_amount: Annotated[MinorUnits, Field(lt=2**48)]
    issue_date: int = Field(strict=True, ge=0, lt=2**64, description="Unix seconds")
    due_date: int = Field(strict=True, gt=0, lt=2**32, description="Unix seconds, after the current block")
    document_hash: Bytes32 = Field(description="SHA-256 of the invoice document (see POST /v1/documents)")

    @field_validator("invoice_number", mode="before")
    @classmethod
    def _invoice_number(cls, value: object) -> object:
        if isinstance(value, str) and not INVOICE_NUMBER.fullmatch(value):
            raise ValueError(INVOICE_NUMBER_RULE)
        return value


class InvoiceRegistered(BaseModel):
    invoice_id: str = Field(description="The duplicate key as a decimal token id")
    seller: Address
    buyer: Address
    currency: str
    face_amount: int
    issue_date: int
    due_date: int
    invoice_number: str = Field(description="The canonical number the chain recorded (upper case)")
    document_hash: str


class InvoiceConfirmed(BaseModel):
    invoice_id: str
    buyer: Address


class InvoiceCancel(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "ORDER-WITHDRAWN"}]})
    reason: Reference


class InvoicePayment(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"amount": 12500000}]})
    amount: Annotated[MinorUnits, Field(lt=2**48, description="Minor units, at most what is outstanding")]


class CustomsAttestation(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "declaration_hash": "0x" + "ef" * 32, "declared_amount": 12500000}]})
    declaration_hash: Bytes32 = Field(description="Hash of the customs declaration kept off chain")
    declared_amount: Annotated[Amount, Field(description="Minor units; differing from the face amount is "
                                             "recorded as a mismatch")]


class InvoiceCancelled(BaseModel):
    invoice_id: str
    seller: Address
    reason_code: str = Field(description="keccak256 of the reason (or the bytes32 given)")


class InvoicePaid(BaseModel):
    invoice_id: str
    payer: Address
    amount: int
    to_financier: int = Field(description="Paid to the lien's financier (what its instrument says it is owed)")
    to_seller: int
    paid_amount: int = Field(description="Running total paid on the invoice")


class CustomsAttested(BaseModel):
    invoice_id: str
    attester: Address
    declaration_hash: str
    declared_amount: int
    face_amount: int
    matched: bool
