"""The regulator's supervision routes (thin; logic in `app.services.supervision`). Freezing and
unfreezing are the gateway's write routes: `POST /v1/participants/{address}/freeze|unfreeze` and
`POST /v1/instruments/{contract}/{id}/freeze|unfreeze`, each with a reason code."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from app.api.deps import CallerDep, GatewayDep, WriteContextDep
from app.api.index_deps import IndexEngineDep
from app.api.routes._write import respond
from app.api.routes.index import Cursor, Limit, Moment, unix
from app.schemas.common import ERROR_RESPONSES, Address, CurrencyCode
from app.schemas.index import AlertPublic, DuplicateRegistrations, Flows, FrozenSet, LargeValueReportPublic, Page
from app.schemas.money import LargeValueThresholdSet
from app.services import money as money_service
from app.services import supervision as service
from app.services.results import written

router = APIRouter(prefix="/supervision", tags=["supervision"], responses=ERROR_RESPONSES)


@router.post("/large-value-threshold", **written("supervision.large_value_threshold"),
             summary="Set a currency's large-value reporting threshold (regulator)",
             description="Signs `SettlementToken.setLargeValueThreshold` for the currency's token. Transfers at "
             "or above the threshold emit `LargeValueReported`; the structuring alert watches transfers just "
             "under it. Any other caller is 403.")
async def set_large_value_threshold(body: LargeValueThresholdSet, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await money_service.set_large_value_threshold(gateway, ctx, body), ctx)


@router.get("/flows", response_model=Flows, summary="Flows by corridor, currency and day (regulator)")
def flows(caller: CallerDep, engine: IndexEngineDep,
          day_from: Annotated[date | None, Query(alias="from")] = None,
          day_to: Annotated[date | None, Query(alias="to")] = None,
          currency: Annotated[CurrencyCode | None, Query()] = None,
          corridor: Annotated[str | None, Query(pattern=r"^[A-Z]{2}-[A-Z]{2}$", examples=["CN-US"])] = None,
          cross_border_only: bool = False):
    return service.flows(engine, caller.address, day_from.isoformat() if day_from else None,
                         day_to.isoformat() if day_to else None, currency, corridor, cross_border_only)


@router.get("/large-value-reports", response_model=Page[LargeValueReportPublic],
            summary="Large-value transfer reports (regulator)")
def large_value_reports(caller: CallerDep, engine: IndexEngineDep,
                        currency: Annotated[CurrencyCode | None, Query()] = None,
                        time_from: Annotated[Moment | None, Query(alias="from")] = None,
                        time_to: Annotated[Moment | None, Query(alias="to")] = None,
                        cursor: Cursor = None, limit: Limit = 50):
    return service.large_value_reports(engine, caller.address, currency, unix(time_from), unix(time_to), cursor, limit)


@router.get("/duplicate-registrations", response_model=DuplicateRegistrations,
            summary="Registrations refused as duplicates, as the gateway saw them (regulator)")
def duplicate_registrations(caller: CallerDep, engine: IndexEngineDep, limit: Limit = 50):
    return service.duplicate_registrations(engine, caller.address, limit)


@router.get("/frozen", response_model=FrozenSet, summary="Frozen participants and instruments (regulator)")
def frozen(caller: CallerDep, engine: IndexEngineDep):
    return service.frozen(engine, caller.address)


@router.get("/alerts", response_model=Page[AlertPublic], summary="Alerts raised by the supervision rules (regulator)")
def alerts(caller: CallerDep, engine: IndexEngineDep,
           rule: Annotated[Literal["structuring", "round_trip", "burst", "financing_concentration"] | None,
                           Query()] = None,
           subject: Annotated[Address | None, Query()] = None,
           time_from: Annotated[Moment | None, Query(alias="from")] = None,
           time_to: Annotated[Moment | None, Query(alias="to")] = None,
           cursor: Cursor = None, limit: Limit = 50):
    return service.list_alerts(engine, caller.address, rule, subject, unix(time_from), unix(time_to), cursor, limit)
