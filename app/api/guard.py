"""The gateway's front door, as pure ASGI middleware (nothing is buffered beyond the JSON limit).

Every `/v1` request passes three checks here, in this order, before any route reads its body:

1. **Who is calling**: `Authorization: Bearer <api key>` is checked first; without a valid key the answer is
   401 `Unauthenticated` at once, whatever body follows (a 200 MB body is never read).
2. **Who may write**: the regulator's key writes only supervision (`REGULATOR_WRITES`: freezes and unfreezes of
   participants and instruments, KYC revocation, large-value thresholds, revoking its own API key). Any other
   write by the regulator answers 403 `RegulatorWritesOnlySupervision`. This is the one place that decides it.
3. **How much**: a JSON body may carry at most `Settings.max_json_body_bytes` (1 MB by default); past that the
   answer is 413 `RequestBodyTooLarge` as soon as the limit is passed, also for a chunked body without
   Content-Length, and the rest is not read (the connection is closed). Document uploads (`POST /v1/documents`)
   stream their own body under the documents' larger limit and are not capped here.

The authenticated caller is left in `scope["state"]["caller"]` for `app.api.deps.get_caller`.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.chain.errors import ChainError
from app.core.enums import ParticipantKind
from app.core.errors import ApiError, Forbidden, Unauthenticated, error_body
from app.services.answers import exception_answer

log = logging.getLogger("tradefin.gateway")

_READS = frozenset({"GET", "HEAD", "OPTIONS"})
_ADDRESS = r"0x[0-9a-fA-F]{40}"
# The supervision writes of the regulator: (method, path) patterns. Everything else it writes is refused.
REGULATOR_WRITES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (method, re.compile(pattern)) for method, pattern in (
        ("POST", rf"/v1/participants/{_ADDRESS}/(freeze|unfreeze)"),
        ("POST", rf"/v1/participants/{_ADDRESS}/kyc/revoke"),
        ("POST", r"/v1/instruments/[^/]+/[^/]+/(freeze|unfreeze)"),
        ("POST", r"/v1/supervision/large-value-threshold"),
        ("DELETE", r"/v1/api-keys/[^/]+"),  # its own key only (the route checks whose key it is)
    )
)
# Routes that read their body themselves under a larger limit of their own.
STREAMED_UPLOADS: tuple[tuple[str, re.Pattern[str]], ...] = (("POST", re.compile(r"/v1/documents/?")),)


def regulator_may_write(method: str, path: str) -> bool:
    return any(m == method and p.fullmatch(path) for m, p in REGULATOR_WRITES)


async def check_writer(app: Any, address: str, method: str, path: str) -> None:
    """The regulator writes only supervision (`REGULATOR_WRITES`); anyone else writes what its routes allow. Also
    checked for a signed request's write (app/api/routes/signed_requests.py), which reaches its route past here."""
    if regulator_may_write(method, path):
        return
    if await app.state.gateway.kind_of(address) is ParticipantKind.Regulator:
        raise Forbidden(
            "the regulator's key writes only supervision: freezes and unfreezes of participants and "
            "instruments, KYC revocation and large-value thresholds",
            {"caller": address, "method": method, "path": path}, code="RegulatorWritesOnlySupervision")


class GatewayGuard:
    """Authentication first, the regulator's supervision-only writes, and the JSON body limit."""

    def __init__(self, app: ASGIApp, max_json_body_bytes: int) -> None:
        self.app = app
        self.max_json_body_bytes = max_json_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == "/v1" or path.startswith("/v1/")):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        method = scope["method"]
        has_body = method not in _READS
        try:
            caller = await self._authenticate(scope, headers)
            if has_body:
                await self._check_writer(scope, caller[0], method, path)
        except (ApiError, ChainError) as exc:  # ChainError: the regulator check reads the caller's kind from the chain
            answer, answer_headers = exception_answer(exc)  # the app's one translator, as its exception handlers
            await _answer(send, answer.http_status, answer.body, answer_headers, close=has_body)
            return
        scope.setdefault("state", {})["caller"] = caller
        if not has_body or any(m == method and p.fullmatch(path) for m, p in STREAMED_UPLOADS):
            await self.app(scope, receive, send)
            return
        await self._limited(scope, receive, send, headers)

    async def _authenticate(self, scope: Scope, headers: Headers) -> tuple[str, str]:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("send Authorization: Bearer <api key>", headers={"WWW-Authenticate": "Bearer"})
        return await scope["app"].state.api_keys.authenticate(token.strip())

    async def _check_writer(self, scope: Scope, address: str, method: str, path: str) -> None:
        await check_writer(scope["app"], address, method, path)

    async def _limited(self, scope: Scope, receive: Receive, send: Send, headers: Headers) -> None:
        limit = self.max_json_body_bytes
        length = headers.get("content-length")
        if length is not None and length.strip().isdigit() and int(length) > limit:
            await _too_large(send, limit, int(length))
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            size += len(body)
            if size > limit:
                await _too_large(send, limit, None)
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _too_large(send: Send, limit: int, declared: int | None) -> None:
    details: dict[str, Any] = {"max_bytes": limit}
    if declared is not None:
        details["content_length"] = declared
    await _answer(send, 413, error_body(
        "RequestBodyTooLarge",
        f"the request body is larger than the {limit} bytes a JSON request may carry; nothing was applied",
        details), None, close=True)


async def _answer(send: Send, status: int, body: dict[str, Any], headers: dict[str, str] | None,
                  close: bool) -> None:
    """A JSON error answered by the guard. `close`: the request's body may be unread, so the connection ends."""
    content = json.dumps(body, separators=(",", ":")).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    if close:
        raw.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": content})
