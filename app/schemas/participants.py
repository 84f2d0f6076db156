from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.common import Address, Bytes32, JurisdictionCode, Reference


class Kind(str, Enum):
    corporate = "Corporate"
    bank = "Bank"
    regulator = "Regulator"
    attester = "Attester"
    operator = "Operator"


class KycStatusName(str, Enum):
    approved = "Approved"
    rejected = "Rejected"
    revoked = "Revoked"


class ParticipantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "address": "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc", "kind": "Corporate", "jurisdiction": "DE",
        "identity_hash": "0x" + "5a" * 32}]})
    address: Address | None = Field(
        default=None, description="The participant's own address, whose key it holds; omit it to have the gateway "
        "create the participant's key in an encrypted keystore and sign for it (custody)")
    kind: Kind
    jurisdiction: JurisdictionCode
    identity_hash: Bytes32 = Field(description="keccak256 of the LEI or unified social credit code plus a salt")


class ParticipantRegistered(BaseModel):
    address: Address
    kind: str
    jurisdiction: str
    identity_hash: str
    custodial: bool = Field(description="Whether the gateway created and holds this participant's key")


class ParticipantPublic(BaseModel):
    address: Address
    kind: str
    jurisdiction: str | None
    active: bool
    frozen: bool
    kyc_status: str
    kyc_expiry: int
    kyc_bank: str | None
    identity_hash: str


class KycAttestation(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "status": "Approved", "expiry": 1893456000, "evidence_hash": "0x" + "e1" * 32}]})
    status: KycStatusName
    expiry: int = Field(ge=0, lt=2**48, description="Unix time when the approval lapses (ignored otherwise)")
    evidence_hash: Bytes32


class KycAttested(BaseModel):
    account: Address
    bank: Address
    status: str
    expiry: int
    evidence_hash: str


class FreezeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "SANCTIONS-HIT-2026-11"}]})
    reason: Reference


class FreezeChanged(BaseModel):
    subject: str = Field(description="The participant address, or `<contract>:<id>` for an instrument")
    frozen: bool
    regulator: Address
    reason_code: str
