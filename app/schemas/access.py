from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.common import Address, UtcDateTime


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "participant": "0x90F79bf6EB2c4f870365E785982E1f101E93b906", "label": "exporter ERP"}]})
    participant: Address
    label: str = Field(default="", max_length=120)


class ApiKeyIssued(BaseModel):
    key_id: str
    participant: Address
    label: str
    api_key: str = Field(description="Shown once; only a salted hash is kept")
    created_at: UtcDateTime


class ApiKeyPublic(BaseModel):
    key_id: str
    participant: Address
    label: str
    created_at: UtcDateTime
    revoked_at: UtcDateTime | None


class Me(BaseModel):
    address: Address
    kind: str
    key_id: str
    can_sign: bool = Field(description="Whether the gateway holds this participant's signing key")


class DocumentPublic(BaseModel):
    sha256: str = Field(description="SHA-256 of the content as bytes32 hex", examples=["0x" + "ab" * 32])
    size: int
    content_type: str
    created_at: UtcDateTime
