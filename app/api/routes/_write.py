"""Turning a write's answer into the route's response (replays carry `Idempotent-Replayed: true`).

A success is returned as its body: FastAPI validates it against the route's `response_model` (the registered
result model, `app/services/results.py`) and answers the route's status, for the first answer and its replays
alike. An error is answered as it is stored."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from app.chain.types import WriteAnswer
from app.services.base import WriteContext

# A 503 answered by a lane (the node failed while the request was prepared, the gateway is recovering): nothing was
# sent, the same Idempotency-Key may be repeated after this many seconds, unless the node's circuit says longer.
LANE_RETRY_AFTER_SECONDS = 1
# A write answered 504 `TransactionPending` (stored and sent, not mined yet): repeat its key after this long.
PENDING_RETRY_AFTER_SECONDS = 2


def retry_after(body: dict[str, Any]) -> int:
    """Whole seconds a client should wait before repeating a write answered 503: the circuit's time to its next
    probe when the answer carries the node's state with an open circuit, else LANE_RETRY_AFTER_SECONDS."""
    error = body.get("error") if isinstance(body, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    node = details.get("node") if isinstance(details, dict) else None
    seconds = node.get("retry_after_seconds") if isinstance(node, dict) else None
    if isinstance(seconds, int) and not isinstance(seconds, bool) and seconds > 0:
        return seconds
    return LANE_RETRY_AFTER_SECONDS


def respond(answer: WriteAnswer, ctx: WriteContext | None = None) -> dict[str, Any] | JSONResponse:
    """The route's return value for `answer` (`ctx`: the request's, whose reply carries a replay's header)."""
    if 200 <= answer.http_status < 300 and ctx is not None:
        if answer.replayed and ctx.reply is not None:
            ctx.reply.headers["Idempotent-Replayed"] = "true"
        return answer.body
    return error_response(answer)


def error_response(answer: WriteAnswer) -> JSONResponse:
    headers: dict[str, str] = {}
    if answer.replayed:
        headers["Idempotent-Replayed"] = "true"
    if answer.http_status == 503:
        headers["Retry-After"] = str(retry_after(answer.body))
    elif answer.http_status == 504:
        headers["Retry-After"] = str(PENDING_RETRY_AFTER_SECONDS)
    return JSONResponse(answer.body, status_code=answer.http_status, headers=headers or None)
