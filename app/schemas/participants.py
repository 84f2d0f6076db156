from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.core.enums import KycStatus, ParticipantKind
from app.schemas.common import Address, Bytes32, JurisdictionCode, Reference, UtcDateTime

# The kinds a participant may be registered as, named from the one `ParticipantKind` (`Kind.Bank` is "Bank";
# `Kind.Instrument`: a contract of the platform that spends allowances or holds escrow).
Kind = Enum("Kind", {k.name: k.name for k in ParticipantKind if k is not ParticipantKind["None"]}, type=str)
# The statuses a bank attests, named from the one `KycStatus`.
KycStatusName = Enum("KycStatusName", {s.name: s.name for s in KycStatus if s is not KycStatus["None"]}, type=str)


class ParticipantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "address": "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc", "kind": "Corporate", "jurisdiction": "DE",
        "identity_hash": "0x" + "5a" * 32}]})
    address: Address | None = Field(
        default=None, description="The participant's own address, whose key it holds; omit it to have the gateway "
        "create the participant's key in an encrypted keystore and sign for it (custody)")
    kind: Kind
    jurisdiction: JurisdictionCode
    identity_hash: Bytes32 = Field(description="keccak256 of the LEI or unified social credit code plus a salt; "
                                   "never zero, and registered once: a further wallet of the same legal identity "
                                   "is linked with `POST /v1/participants/{address}/wallets`")

    @field_validator("identity_hash")
    @classmethod
    def _not_zero(cls, value: str) -> str:
        if int(value, 16) == 0:
            raise ValueError("the identity hash is zero: hash the legal identifier with a salt")
        return value

    @model_validator(mode="after")
    def _instruments_have_an_address(self) -> ParticipantCreate:
        if self.kind is Kind.Instrument and self.address is None:
            raise ValueError("an Instrument is a contract: give its address (the gateway holds no key for it)")
        return self


class ParticipantRegistered(BaseModel):
    address: Address
    kind: str
    jurisdiction: str
    identity_hash: str
    custodial: bool = Field(description="Whether the gateway created and holds this participant's key")


class KycAttestationPublic(BaseModel):
    bank: Address
    status: str = Field(description="Approved, Rejected or Revoked: this bank's own review")
    expiry: int = Field(strict=True, description="Unix time its approval lapses (0 unless Approved)")


class ParticipantPublic(BaseModel):
    address: Address
    kind: str
    jurisdiction: str | None
    active: bool = Field(description="Registered, a member, not frozen and, for a corporate, KYC-valid: it may act now")
    frozen: bool
    kyc_valid_until: int = Field(description="Latest expiry among the identity's unexpired bank approvals "
                                 "(0: none; a regulator's revocation clears it)")
    kyc_attestations: list[KycAttestationPublic] = Field(
        description="Each bank's own KYC review of the identity; a bank changes only its own")
    identity_hash: str
    wallets: list[Address] = Field(description="Every wallet of the legal identity, the first registered first")


class KycAttestation(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "status": "Approved", "expiry": 1893456000, "evidence_hash": "0x" + "e1" * 32}]})
    status: KycStatusName
    expiry: int = Field(strict=True, ge=0, lt=2**48, description="Unix time when the approval lapses (ignored otherwise)")
    evidence_hash: Bytes32


class KycAttested(BaseModel):
    account: Address
    bank: Address
    status: str
    expiry: int
    evidence_hash: str
    kyc_valid_until: int | None = Field(description="The identity's KYC validity when this attestation changed it "
                                        "(0: no longer valid); null when it did not change it")


class KycRevocation(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "AML-FINDING-2026-12"}]})
    reason: Reference


class KycRevoked(BaseModel):
    account: Address
    regulator: Address
    reason_code: str = Field(description="keccak256 of the reason (or the bytes32 given)")
    kyc_valid_until: int = Field(description="Always 0: every bank's attestation is revoked; banks may attest afresh")


class WalletLink(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"wallet": "0x976EA74026E726554dB657fA54763abd0C3a0aa9"}, {}]})
    wallet: Address | None = Field(
        default=None, description="The further wallet's own address, whose key the participant holds; omit it to "
        "have the gateway create the wallet's key and sign for it (custody)")


class WalletLinked(BaseModel):
    wallet: Address
    existing: Address = Field(description="The wallet of the legal identity it was linked to")
    identity_hash: str
    kind: str
    jurisdiction: str
    custodial: bool = Field(description="Whether the gateway created and holds the new wallet's key")


class FreezeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "SANCTIONS-HIT-2026-11"}]})
    reason: Reference


class FreezeChanged(BaseModel):
    subject: str = Field(description="The participant address, or `<contract>:<id>` for an instrument")
    frozen: bool
    regulator: Address
    reason_code: str


class CustodyReleaseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"wallet": "0x976EA74026E726554dB657fA54763abd0C3a0aa9"}]})
    wallet: Address = Field(description="The participant's own address (its key never reaches the gateway): linked "
                            "to its legal identity, its balances and API keys move there")


class CustodyMove(BaseModel):
    currency: str
    amount: int = Field(description="Minor units")
    tx_hash: str | None


class CustodyReleased(BaseModel):
    address: Address = Field(description="The custodial address, whose key the gateway destroyed")
    wallet: Address
    moved: list[CustodyMove] = Field(description="Balances moved by this request (empty on a repeat)")
    api_keys_repointed: int
    keystore_sha256: str = Field(description="SHA-256 of the keystore file before it was overwritten and removed")
    released_by: Address
    released_at: UtcDateTime
