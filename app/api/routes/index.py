"""Read routes over the index (instruments, audit trails, documents, transfers). Thin: the logic is in
`app.services.index_queries`; nothing here reads the chain.

The instrument routes are coroutines that run their (blocking) query through `run_read` (on the event loop with
bounded SQLite work, else in the thread pool): FastAPI then validates and serialises the answer on the event loop,
where a plain `def` route would pay a thread hop for that (part of the read's CPU cost measured by
bench/indexer.py)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BeforeValidator

from app.api.deps import CallerDep
from app.api.index_deps import IndexEngineDep, run_read
from app.schemas.common import ERROR_RESPONSES, Address, CurrencyCode
from app.schemas.index import (
    AuditTrail,
    DocumentVerification,
    IndexStatus,
    InstrumentKind,
    InstrumentPublic,
    Page,
    TransferPublic,
)
from app.services import index_queries as service

router = APIRouter(tags=["queries"], responses=ERROR_RESPONSES)

InstrumentIdPath = Annotated[str, Path(pattern=r"^([0-9]{1,78}|[0-9]{1,78}-[0-9]{1,78}|0x[0-9a-f]{64}-[0-9]{1,6})$",
                                       description="The on-chain id in decimal (presentations: `<lc id>-<presentation "
                                                   "id>`; payments: `<tx hash>-<log index>`)")]
Limit = Annotated[int, Query(ge=1, le=200, description="Page size")]
Cursor = Annotated[str | None, Query(max_length=400, description="`next_cursor` of the previous page")]


_ISO_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ].*)?$")


def _iso_only(value: object) -> object:
    """A date or instant in ISO 8601 (`2026-11-25`, `2026-11-25T08:00:00Z`), as the schema says: not a number
    (pydantic would read `0.5` as unix seconds)."""
    if isinstance(value, str) and not _ISO_DAY.match(value):
        raise ValueError("not an ISO 8601 date (2026-11-25) or date-time (2026-11-25T08:00:00Z)")
    return value


# A query parameter that is a UTC day or an instant (naive means UTC).
Moment = Annotated[date | datetime, BeforeValidator(_iso_only)]


def unix(moment: date | datetime | None) -> int | None:
    """A date (UTC midnight) or an instant as unix seconds."""
    if moment is None:
        return None
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time(), tzinfo=UTC)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


@router.get("/instruments/{kind}", response_model=Page[InstrumentPublic],
            summary="Instruments you are a party to (regulator: all), newest first by default")
async def list_instruments(
    kind: InstrumentKind, caller: CallerDep, engine: IndexEngineDep,
    state: Annotated[str | None, Query(max_length=24, examples=["Financed"])] = None,
    counterparty: Annotated[Address | None, Query(description="Only instruments this participant is party to")] = None,
    currency: Annotated[CurrencyCode | None, Query()] = None,
    created_from: Annotated[Moment | None, Query(description="Created at or after (UTC)")] = None,
    created_to: Annotated[Moment | None, Query(description="Created before (UTC)")] = None,
    sort: Annotated[service.SortKey, Query()] = "-created_at",
    cursor: Cursor = None, limit: Limit = 50,
):
    f = service.InstrumentFilter(state, counterparty, currency, unix(created_from), unix(created_to), sort, cursor,
                                 limit)
    return await run_read(engine, service.list_instruments, caller.address, kind, f)


@router.get("/instruments/{kind}/{instrument_id}", response_model=InstrumentPublic,
            summary="One instrument you are a party to",
            description="A customs attester of an invoice sees it in part: its id, state and `details.customs`, "
            "and of the parties itself; every other field is null, and it has no audit trail (404). Listings show "
            "only instruments the caller sees whole.")
async def get_instrument(kind: InstrumentKind, instrument_id: InstrumentIdPath, caller: CallerDep,
                         engine: IndexEngineDep):
    return await run_read(engine, service.get_instrument, caller.address, kind, instrument_id)


@router.get("/instruments/{kind}/{instrument_id}/trail", response_model=AuditTrail,
            summary="Audit trail: every event of the instrument in chain order")
async def audit_trail(kind: InstrumentKind, instrument_id: InstrumentIdPath, caller: CallerDep,
                      engine: IndexEngineDep):
    return await run_read(engine, service.audit_trail, caller.address, kind, instrument_id)


@router.get("/instruments/{kind}/{instrument_id}/trail/export",
            summary="Export the audit trail as a JSON or CSV file",
            responses={200: {"content": {"application/json": {}, "text/csv": {}}}})
def export_trail(kind: InstrumentKind, instrument_id: InstrumentIdPath, caller: CallerDep, engine: IndexEngineDep,
                 format: Annotated[Literal["json", "csv"], Query()] = "json") -> Response:
    trail = service.audit_trail(engine, caller.address, kind, instrument_id)
    filename = f"{kind}-{instrument_id[:16]}-trail.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if format == "csv":
        return Response(service.trail_csv(trail), media_type="text/csv", headers=headers)
    return JSONResponse(trail, headers=headers)


@router.get("/documents/{document_hash}/verify", response_model=DocumentVerification, tags=["documents"],
            summary="Which instrument and block anchored a document hash")
def verify_document(document_hash: Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{64}$")], caller: CallerDep,
                    engine: IndexEngineDep):
    return service.verify_document(engine, caller.address, document_hash)


@router.get("/transfers", response_model=Page[TransferPublic], tags=["payments"],
            summary="Indexed token movements you sent or received (regulator: all), newest first")
def list_transfers(caller: CallerDep, engine: IndexEngineDep,
                   currency: Annotated[CurrencyCode | None, Query()] = None,
                   counterparty: Annotated[Address | None, Query()] = None,
                   time_from: Annotated[Moment | None, Query(alias="from")] = None,
                   time_to: Annotated[Moment | None, Query(alias="to")] = None,
                   cursor: Cursor = None, limit: Limit = 50):
    return service.list_transfers(engine, caller.address, currency, counterparty, unix(time_from), unix(time_to),
                                  cursor, limit)


@router.get("/index/status", response_model=IndexStatus, summary="How far the event index has got")
def index_status(caller: CallerDep, engine: IndexEngineDep):
    return service.index_status(engine)
