"""Typed dependencies: the gateway, the authenticated caller, the write context (Idempotency-Key)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.core.errors import Unauthenticated
from app.services.base import Caller, Gateway, WriteContext

# A write route's path with this suffix answers the EIP-712 request to sign instead of sending it.
PREPARE_SUFFIX = ":prepare"

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer tfk_<key id>_<secret>`")


async def get_gateway(request: Request) -> Gateway:
    # async on purpose: FastAPI runs a plain `def` dependency in a worker thread, a hop per request
    return request.app.state.gateway


GatewayDep = Annotated[Gateway, Depends(get_gateway)]


async def get_caller(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Caller:
    # The front door (app.api.guard.GatewayGuard) authenticated every /v1 request before its body was read.
    checked = request.scope.get("state", {}).get("caller")
    if checked is not None:
        return Caller(*checked)
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("send Authorization: Bearer <api key>", headers={"WWW-Authenticate": "Bearer"})
    participant, key_id = await request.app.state.api_keys.authenticate(credentials.credentials)
    return Caller(participant, key_id)


CallerDep = Annotated[Caller, Depends(get_caller)]


async def get_write_context(
    request: Request,
    reply: Response,
    caller: CallerDep,
    idempotency_key: Annotated[
        str,
        Header(alias="Idempotency-Key", min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$",
               description="Unique per write; repeating it returns the first answer and sends nothing new",
               examples=["3f1c2a9e-7b1d-4c55-9d0e-4f3b2a1c0d9e"]),
    ],
) -> WriteContext:
    route = request.scope.get("route")
    path = getattr(route, "path", request.url.path)
    prepare = path.endswith(PREPARE_SUFFIX)  # the route's `:prepare` form (app.api.routes.signed_requests)
    signed = request.scope.get("state", {}).get("signed_request")  # put there by POST /v1/signed-requests only
    return WriteContext(caller, idempotency_key,
                        f"{request.method} {path.removesuffix(PREPARE_SUFFIX)} "
                        f"{request.url.path.removesuffix(PREPARE_SUFFIX)}", reply,
                        prepare=prepare, body=await request.body() if prepare else b"", signed=signed,
                        path=request.url.path.removesuffix(PREPARE_SUFFIX))


WriteContextDep = Annotated[WriteContext, Depends(get_write_context)]
