from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Path, Request

from app.api.deps import CallerDep, GatewayDep
from app.core.enums import ParticipantKind
from app.core.errors import Forbidden, NotFound
from app.schemas.access import ApiKeyCreate, ApiKeyIssued, ApiKeyPublic, Me
from app.schemas.common import ERROR_RESPONSES
from app.services.base import require_kind

router = APIRouter(tags=["access"], responses=ERROR_RESPONSES)

KeyId = Annotated[str, Path(pattern=r"^[0-9a-f]{16}$")]


@router.get("/me", response_model=Me, summary="Who the API key belongs to")
async def me(caller: CallerDep, gateway: GatewayDep):
    kind = await gateway.kind_of(caller.address)
    return Me(address=caller.address, kind=kind.name, key_id=caller.key_id,
              can_sign=gateway.chain.has_signer(caller.address))


@router.post("/api-keys", status_code=201, response_model=ApiKeyIssued, summary="Issue an API key (operator)")
async def issue_key(body: ApiKeyCreate, caller: CallerDep, gateway: GatewayDep, request: Request):
    await require_kind(gateway, caller, ParticipantKind.Operator)
    if await gateway.kind_of(body.participant) is ParticipantKind["None"]:
        raise NotFound("not a registered participant", {"participant": body.participant}, code="ParticipantUnknown")
    issued = await asyncio.to_thread(request.app.state.api_keys.issue, body.participant, body.label, caller.address)
    return ApiKeyIssued(key_id=issued.key_id, participant=issued.participant, label=issued.label,
                        api_key=issued.token, created_at=issued.created_at)


@router.get("/api-keys", response_model=list[ApiKeyPublic],
            summary="API keys: all of them for the operator, the caller's own otherwise")
async def list_keys(caller: CallerDep, gateway: GatewayDep, request: Request):
    operator = await gateway.kind_of(caller.address) is ParticipantKind.Operator
    rows = await asyncio.to_thread(request.app.state.api_keys.list, None if operator else caller.address)
    return [ApiKeyPublic.model_validate(r, from_attributes=True) for r in rows]


@router.delete("/api-keys/{key_id}", response_model=ApiKeyPublic,
               summary="Revoke an API key (operator, or the key's own participant)")
async def revoke_key(key_id: KeyId, caller: CallerDep, gateway: GatewayDep, request: Request):
    store = request.app.state.api_keys
    row = await asyncio.to_thread(store.get, key_id)
    operator = await gateway.kind_of(caller.address) is ParticipantKind.Operator
    if row is None or (not operator and row.participant != caller.address):
        if row is not None:
            raise Forbidden("only the operator may revoke another participant's key", code="ApiKeyNotYours")
        raise NotFound("no such API key", {"key_id": key_id}, code="ApiKeyUnknown")
    row = await asyncio.to_thread(store.revoke, key_id)
    return ApiKeyPublic.model_validate(row, from_attributes=True)
