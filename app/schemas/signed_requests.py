"""Signed requests (ERC-2771): what a `:prepare` route answers and what `POST /v1/signed-requests` takes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class PreparedRequestPublic(BaseModel):
    """The EIP-712 typed data to sign with the participant's own key (`eth_signTypedData_v4`), unchanged."""

    typed_data: dict[str, Any] = Field(description="`types`, `primaryType` (`ForwardRequest`), `domain` (the "
                                       "platform's forwarder on this chain) and `message`: the call the route would "
                                       "send, the gas forwarded to it, the signer's forwarder nonce and a deadline")
    digest: str = Field(description="The EIP-712 digest the signature is over (0x-hex)", examples=["0x" + "ab" * 32])
    relayer: str = Field(description="The gateway's account that will send it (and pay its gas)")
    expires_at: int = Field(description="The request's deadline (unix seconds, chain time); its nonce stays "
                            "reserved until then")


class SignedRequestSubmit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    typed_data: dict[str, Any] = Field(description="The `typed_data` a `:prepare` route answered, unchanged")
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$", description="65-byte (r, s, v) signature of the typed "
                           "data by its `message.from`", examples=["0x" + "1b" * 65])
