"""Turning a chain client answer into an HTTP response (replays carry `Idempotent-Replayed: true`)."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from app.chain.types import WriteAnswer


def respond(answer: WriteAnswer) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    return JSONResponse(answer.body, status_code=answer.http_status, headers=headers)
