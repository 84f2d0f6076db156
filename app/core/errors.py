"""The gateway's own refusals (`ApiError`, with their status) and the one shape of every error body.

Body of every error: `{"error": {"code": <name>, "message": <text>, "details": {...}}}`; for a revert,
`code` is the contract's custom error name and `details` its decoded arguments. Exceptions and write outcomes
become HTTP answers in one place, `app/services/answers.py`.
"""

from __future__ import annotations

from typing import Any


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


class ApiError(Exception):
    """An error with its HTTP status and stable code."""

    status_code = 400
    code = "BadRequest"

    def __init__(self, message: str, details: dict[str, Any] | None = None, *, code: str | None = None,
                 status_code: int | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}
        self.headers = headers
        if code:
            self.code = code
        if status_code:
            self.status_code = status_code

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.details)


class Unauthenticated(ApiError):
    status_code = 401
    code = "Unauthenticated"


class Forbidden(ApiError):
    status_code = 403
    code = "Forbidden"


class NotFound(ApiError):
    status_code = 404
    code = "NotFound"


class Conflict(ApiError):
    status_code = 409
    code = "Conflict"


class Invalid(ApiError):
    status_code = 422
    code = "InvalidRequest"


class Unavailable(ApiError):
    """The gateway cannot do this now, as configured (e.g. no relayer of signed requests): nothing was applied."""

    status_code = 503
    code = "Unavailable"
