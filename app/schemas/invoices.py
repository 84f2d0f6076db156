from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.common import Address, Bytes32, CurrencyCode


class InvoiceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "buyer": "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc", "currency": "USD",
        "invoice_number": "INV-2026-0042", "face_amount": 12500000, "issue_date": 1795000000,
        "due_date": 1800000000, "document_hash": "0x" + "ab" * 32}]})
    buyer: Address
    currency: CurrencyCode
    invoice_number: str = Field(min_length=1, max_length=128, description="On chain as ASCII right-padded to "
                                "32 bytes, or keccak256 of the number when it is longer than 32 bytes")
    face_amount: int = Field(gt=0, lt=2**48, description="Minor units")
    issue_date: int = Field(ge=0, lt=2**64, description="Unix seconds")
    due_date: int = Field(gt=0, lt=2**32, description="Unix seconds, after the current block")
    document_hash: Bytes32 = Field(description="SHA-256 of the invoice document (see POST /v1/documents)")


class InvoiceRegistered(BaseModel):
    invoice_id: str = Field(description="The duplicate key as a decimal token id")
    seller: Address
    buyer: Address
    currency: str
    face_amount: int
    issue_date: int
    due_date: int
    invoice_number: str
    document_hash: str


class InvoiceConfirmed(BaseModel):
    invoice_id: str
    buyer: Address
