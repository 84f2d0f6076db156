"""Signed requests (ERC-2771): every write route's `:prepare` form, and `POST /v1/signed-requests`.

`add_prepare_routes(router)` gives each write route of `router` (a POST taking an Idempotency-Key) a twin at
`<path>:prepare` with the same endpoint: the route runs as for a custodial write until it would send, and answers
the typed data to sign instead (`app.services.signed_requests.prepare`). The twins come after the routes (no write
route's path ends with a parameter that could swallow the suffix).

`POST /v1/signed-requests` checks the signature and finds the prepared request (`check_submission`), then runs it
through its own route again, in this process, with the signed request in the scope's state: the same checks, the
same result decoder, the same follow-ups, so it answers exactly what the custodial route answers.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from fastapi.routing import APIRoute

from app.api.deps import PREPARE_SUFFIX, CallerDep, GatewayDep, get_write_context
from app.api.guard import check_writer
from app.api.routes._write import error_response
from app.chain.lane import key_reused
from app.core.errors import ApiError, Invalid
from app.schemas.common import ERROR_RESPONSES, WriteResult
from app.schemas.signed_requests import PreparedRequestPublic, SignedRequestSubmit
from app.services.base import Caller
from app.services.signed_requests import check_submission

router = APIRouter(tags=["signed requests"], responses=ERROR_RESPONSES)


def _is_write(route: APIRoute) -> bool:
    """A POST that sends one write of its caller (`x-no-prepare`: one that is not a single write, e.g. the
    custody release, which signs with the key it then destroys)."""
    return "POST" in route.methods and not (route.openapi_extra or {}).get("x-no-prepare") and \
        any(d.call is get_write_context for d in route.dependant.dependencies)


def add_prepare_routes(target: APIRouter) -> None:
    """A `:prepare` twin of every write route of `target`, after them: no write route's path ends with a path
    parameter (checked here), so none can take `...:prepare` for its own, and the routes every other request is
    matched against come first."""
    twins = []
    have = {r.path for r in target.routes if isinstance(r, APIRoute)}
    for route in [r for r in target.routes if isinstance(r, APIRoute) and _is_write(r)
                  and not r.path.endswith(PREPARE_SUFFIX) and r.path + PREPARE_SUFFIX not in have]:
        twin = APIRoute(route.path + PREPARE_SUFFIX, route.endpoint, methods=["POST"], status_code=200,
                        response_model=PreparedRequestPublic, tags=[*route.tags, "signed requests"],
                        summary=f"Prepare to sign: {route.summary}" if route.summary else None,
                        description="The same body as the write: answers the EIP-712 request to sign with your own "
                        "key, after the same checks and a preflight as you (a refusal is answered as the write's "
                        "would be); nothing is sent. Submit it signed with `POST /v1/signed-requests`.",
                        responses={**ERROR_RESPONSES, **{k: v for k, v in route.responses.items() if k != 200}},
                        operation_id=f"prepare_{route.name}", name=f"prepare_{route.name}")
        if route.path.endswith("}"):
            raise RuntimeError(f"{route.path}: a write route ending with a path parameter would take its twin's "
                               "path: put its `:prepare` twin ahead of it")
        twins.append(twin)
    target.routes.extend(twins)


IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=255,
                                       pattern=r"^[\x21-\x7e]+$",
                                       description="Unique per write; repeating it returns the first answer")]


@router.post("/signed-requests", status_code=201,
             responses={201: {"model": WriteResult[dict[str, Any]], "description": "What the prepared write's own "
                              "route answers (201 or 200 as it does): the domain result, `tx_hash`, `block_number`"},
                        200: {"model": WriteResult[dict[str, Any]], "description": "The same, for a write that "
                              "changes something (its route answers 200)"}},
             summary="Submit a request signed with your own key (relayed through the forwarder)",
             description="The typed data answered by a write route's `:prepare` form, unchanged, with its signer's "
             "signature, under an Idempotency-Key, with the signer's own API key. Checked, then relayed by the "
             "gateway's relayer; answers exactly what the write route answers.")
async def submit_signed_request(body: SignedRequestSubmit, caller: CallerDep, gateway: GatewayDep, request: Request,
                                idempotency_key: IdempotencyKey) -> Response:
    try:
        submission, prepared = await check_submission(gateway, caller.address, body.typed_data, body.signature)
    except ApiError:
        # A key already used: the request it was used for passes these checks (its prepared row is kept), so this
        # is another request under it. The same request goes on to its route, which replays the key's answer.
        if await asyncio.to_thread(gateway.chain.outbox.find_request, caller.address, idempotency_key) is not None:
            return error_response(gateway.chain.render(key_reused(idempotency_key)))
        raise
    if prepared.path.endswith(PREPARE_SUFFIX) or not prepared.path.startswith("/v1/"):
        raise Invalid("the prepared request names no write route", {"path": prepared.path},
                      code="SignedRequestUnknown")
    await check_writer(request.app, caller.address, prepared.method, prepared.path)
    return await _through_its_route(request, caller, prepared.method, prepared.path, prepared.body,
                                    idempotency_key, submission)


# What the app's middleware put in this request's scope that its routes read: the app, the exception handlers
# (Starlette's ExceptionMiddleware: a route's ApiError is answered as everywhere) and FastAPI's exit stack.
_FROM_THE_MIDDLEWARE = ("app", "starlette.exception_handlers", "fastapi_middleware_astack")


async def _through_its_route(request: Request, caller: Caller, method: str, path: str, body: bytes, key: str,
                             submission: Any) -> Response:
    """Run the prepared request through the app's router again, carrying `submission` and the caller in the scope's
    state, and answer what its route answers. The middleware this request passed (the guard: the caller, the
    body's size, the regulator's writes, checked above for this path) is not run a second time."""
    headers = [(b"authorization", request.headers["authorization"].encode("latin-1")),
               (b"idempotency-key", key.encode("latin-1")), (b"content-type", b"application/json"),
               (b"content-length", str(len(body)).encode())]
    scope = {"type": "http", "asgi": request.scope.get("asgi", {"version": "3.0"}), "http_version": "1.1",
             "method": method, "scheme": request.scope.get("scheme", "http"), "server": request.scope.get("server"),
             "client": request.scope.get("client"), "root_path": "", "path": path, "raw_path": path.encode(),
             "query_string": b"", "headers": headers,
             "state": {"signed_request": submission, "caller": (caller.address, caller.key_id)},
             **{k: request.scope[k] for k in _FROM_THE_MIDDLEWARE if k in request.scope}}
    sent = False
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    await request.app.router(scope, receive, send)
    start = next(m for m in messages if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    answer_headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in start.get("headers", [])
                      if k.lower() not in (b"content-length", b"connection")}
    return Response(content, status_code=start["status"], headers=answer_headers)
