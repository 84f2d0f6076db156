"""Responses of the read side: instruments, audit trails, document anchors, transfers, supervision."""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field

from app.schemas.common import UtcDateTime

T = TypeVar("T")

# Kinds of indexed instruments, as in uids (`invoice:<id>`). Kinds whose contracts are not deployed yet
# answer empty lists.
InstrumentKind = Literal["invoice", "financing", "certificate", "payment", "letter_of_credit", "presentation"]
# The kinds whose instruments the regulator may freeze, with the deployed contract that holds them: one naming
# scheme for every route (`/v1/instruments/invoice/{id}` to read, `/v1/instruments/invoice/{id}/freeze`).
CONTRACT_OF_KIND = {"invoice": "InvoiceRegistry", "financing": "ReceivableFinancing",
                    "certificate": "PayableCertificates", "letter_of_credit": "LetterOfCredit"}


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page; null on the last")


class PartyRole(BaseModel):
    participant: str
    role: str = Field(examples=["seller"])


class InstrumentPublic(BaseModel):
    uid: str = Field(examples=["invoice:1024768309018909320645738910235258661900654514415292458887639126344798031761"])
    kind: str
    id: str = Field(description="The on-chain id (uint256) in decimal")
    contract: str
    state: str = Field(examples=["Confirmed"], description="As the contract would answer at the last indexed block")
    currency: str | None
    amount: int | None = Field(description="Minor units")
    document_hash: str | None
    due_at: int | None = Field(description="Due date, expiry or maturity (unix seconds); of a presentation, the "
                               "issuing bank's examination deadline (none when it cannot be precluded, or while its "
                               "credit is frozen)")
    frozen: bool | None = Field(description="Null, as every field but `uid`, `kind`, `id`, `contract`, `state` "
                                "and the `details` it may see, for a caller that sees the instrument only in part "
                                "(a customs attester: the invoice's `details.customs`, and of the parties itself)")
    created_block: int | None
    created_at: int | None
    updated_block: int | None
    updated_at: int | None
    parties: list[PartyRole]
    details: dict[str, Any]


class TrailEvent(BaseModel):
    event_id: int
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int
    timestamp: int
    actor: str | None = Field(description="The transaction's sender; for a request relayed through the "
                                          "forwarder (ERC-2771), the participant that signed it")
    contract: str | None
    address: str
    event: str | None
    args: dict[str, Any]


class AuditTrail(BaseModel):
    uid: str
    kind: str
    id: str
    contract: str
    events: list[TrailEvent]


class DocumentAnchor(BaseModel):
    uid: str
    kind: str
    id: str
    contract: str
    event: str | None
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int
    timestamp: int


class DocumentVerification(BaseModel):
    document_hash: str
    anchored: bool = Field(description="True when an instrument you may see carries this hash on chain")
    anchors: list[DocumentAnchor]


class TransferPublic(BaseModel):
    event_id: int
    block_number: int
    timestamp: int
    day: str
    tx_hash: str
    token: str
    currency: str
    from_address: str
    to_address: str
    amount: int
    kind: Literal["transfer", "mint", "burn"]
    purpose_code: str | None
    reference: str | None
    from_jurisdiction: str | None
    to_jurisdiction: str | None
    cross_border: bool
    large_value: bool


class Flow(BaseModel):
    corridor: str = Field(examples=["CN-US"])
    from_jurisdiction: str | None
    to_jurisdiction: str | None
    cross_border: bool
    currency: str
    day: str = Field(examples=["2026-11-25"])
    transfers: int
    total: int = Field(description="Minor units")
    large_value_transfers: int


class Flows(BaseModel):
    items: list[Flow]


class LargeValueReportPublic(BaseModel):
    event_id: int
    block_number: int
    timestamp: int
    tx_hash: str
    currency: str
    from_address: str
    to_address: str
    amount: int
    threshold: int
    purpose_code: str | None
    reference: str | None


class DuplicateRegistration(BaseModel):
    request_id: int
    participant: str
    operation: str
    error: str
    details: dict[str, Any]
    at: UtcDateTime | None = Field(description="When the gateway recorded the refused request (UTC)")


class DuplicateRegistrations(BaseModel):
    items: list[DuplicateRegistration]


class FrozenParticipant(BaseModel):
    address: str
    kind: str
    jurisdiction: str
    reason_code: str | None
    regulator: str | None
    since: int | None


class FrozenInstrumentPublic(BaseModel):
    contract: str
    instrument_id: str
    reason_code: str
    regulator: str
    since: int
    block_number: int


class FrozenSet(BaseModel):
    participants: list[FrozenParticipant]
    instruments: list[FrozenInstrumentPublic]


class AlertPublic(BaseModel):
    id: int
    rule: Literal["structuring", "round_trip", "burst", "financing_concentration"]
    subject: str
    counterparty: str | None
    currency: str | None
    trigger_event_id: int
    block_number: int
    timestamp: int
    summary: str
    evidence: list[int] = Field(description="Ids of the events (see audit trails) that make the case")
    measures: dict[str, Any]


class IndexStatus(BaseModel):
    block_number: int | None = Field(description="Last block whose events are all indexed")
    block_hash: str | None
    timestamp: int | None
    events: int
