"""What a mined write answers: each operation's result decoder, registered with the response model it produces
and whether the write creates something (201) or changes it (200).

    @register_result("invoices.register", InvoiceRegistered, created=True)
    def _registered(outcome: TxOutcome) -> dict[str, Any]: ...

The decoder reads the receipt's events (`TxOutcome`) into the model's fields; the registry validates them into
the model, so an answer is always one the route documents. Routes take their `response_model` and
`status_code` from here (`written`): the status of a success is decided once, by the registration, and the
stored answer, its replays and the OpenAPI document agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from app.chain.types import TxOutcome
from app.schemas.common import WriteResult

CREATED, CHANGED = 201, 200

Decoder = Callable[[TxOutcome], dict[str, Any]]


@dataclass(frozen=True)
class ResultKind:
    operation: str
    model: type[BaseModel]
    decode: Decoder
    status: int

    def result(self, outcome: TxOutcome) -> dict[str, Any]:
        """The decoded result, validated by the model, as JSON values under their public names (aliases, as
        FastAPI answers them): what is stored, and what the route validates again for the first answer and replays."""
        return self.model.model_validate(self.decode(outcome)).model_dump(mode="json", by_alias=True)


RESULTS: dict[str, ResultKind] = {}


def register_result(operation: str, model: type[BaseModel], *, created: bool = False) -> Callable[[Decoder], Decoder]:
    """Register `decoder` as what a mined transaction of `operation` answers: `model` (201 when `created`)."""

    def _register(decoder: Decoder) -> Decoder:
        if operation in RESULTS:
            raise ValueError(f"a result decoder of {operation} is registered already")
        RESULTS[operation] = ResultKind(operation, model, decoder, CREATED if created else CHANGED)
        return decoder

    return _register


def written(operation: str) -> dict[str, Any]:
    """A write route's `response_model` and `status_code`, as `operation`'s registration says."""
    kind = RESULTS[operation]
    return {"response_model": WriteResult[kind.model], "status_code": kind.status}  # type: ignore[name-defined]
