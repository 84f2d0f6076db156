"""The regulator's views (DESIGN §8): flows by corridor, currency and day; large-value reports; refused
duplicate registrations; frozen participants and instruments; alerts. All from the database: flows and
reports from the index, refused registrations from the gateway's own request log (`write_requests`:
every answer the gateway gave, including the decoded revert). Freezing itself is a write and lives in
`app.services.participants` (`POST /v1/participants/{address}/freeze`, `/v1/instruments/.../freeze`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, Integer, func, select

from app.db.index_models import Alert, FrozenInstrument, LargeValueReport, Participant, Transfer
from app.db.models import WriteRequest
from app.services.index_queries import _encode_cursor, decode_id_cursor, json_safe, require_regulator

# An invoice registered twice (same seller, buyer and canonical number, from any wallet), and a legal identity
# registered afresh under a second wallet instead of being linked to its first (`linkWallet`).
DUPLICATE_ERRORS = ("InvoiceRegistryAlreadyRegistered", "ParticipantRegistryIdentityTaken")


def flows(engine: Engine, caller: str, day_from: str | None, day_to: str | None, currency: str | None,
          corridor: str | None, cross_border_only: bool) -> dict[str, Any]:
    """Transfers grouped by (from jurisdiction, to jurisdiction, currency, UTC day): count and total."""
    with engine.connect() as conn:
        require_regulator(conn, caller)
        conditions: list[Any] = [Transfer.kind == "transfer"]
        if day_from:
            conditions.append(Transfer.day >= day_from)
        if day_to:
            conditions.append(Transfer.day <= day_to)
        if currency:
            conditions.append(Transfer.currency == currency)
        if corridor:
            origin, _, destination = corridor.partition("-")
            conditions += [Transfer.from_jurisdiction == origin, Transfer.to_jurisdiction == destination]
        if cross_border_only:
            conditions.append(Transfer.cross_border.is_(True))
        rows = conn.execute(
            select(Transfer.from_jurisdiction, Transfer.to_jurisdiction, Transfer.currency, Transfer.day,
                   func.count(), func.sum(Transfer.amount), func.sum(Transfer.large_value.cast(Integer)))
            .where(*conditions)
            .group_by(Transfer.from_jurisdiction, Transfer.to_jurisdiction, Transfer.currency, Transfer.day)
            .order_by(Transfer.day, Transfer.from_jurisdiction, Transfer.to_jurisdiction, Transfer.currency)).all()
        items = [{"corridor": f"{fj or '??'}-{tj or '??'}", "from_jurisdiction": fj, "to_jurisdiction": tj,
                  "cross_border": fj != tj, "currency": cur, "day": day, "transfers": n, "total": total,
                  "large_value_transfers": large or 0}
                 for fj, tj, cur, day, n, total, large in rows]
        return {"items": items}


def large_value_reports(engine: Engine, caller: str, currency: str | None, time_from: int | None,
                        time_to: int | None, cursor: str | None, limit: int) -> dict[str, Any]:
    with engine.connect() as conn:
        require_regulator(conn, caller)
        conditions: list[Any] = []
        if currency:
            conditions.append(LargeValueReport.currency == currency)
        if time_from is not None:
            conditions.append(LargeValueReport.timestamp >= time_from)
        if time_to is not None:
            conditions.append(LargeValueReport.timestamp < time_to)
        if cursor:
            conditions.append(LargeValueReport.event_id < decode_id_cursor(cursor))
        rows = conn.execute(select(LargeValueReport.__table__).where(*conditions)
                            .order_by(LargeValueReport.event_id.desc()).limit(limit + 1)).mappings().all()
        items = [json_safe(dict(r)) for r in rows[:limit]]
        more = len(rows) > limit
        return {"items": items, "next_cursor": _encode_cursor([0, items[-1]["event_id"]]) if more and items else None}


def duplicate_registrations(engine: Engine, caller: str, limit: int) -> dict[str, Any]:
    """Registrations the chain refused as duplicates, from the gateway's record of the answers it gave."""
    with engine.connect() as conn:
        require_regulator(conn, caller)
        rows = conn.execute(select(WriteRequest.id, WriteRequest.participant, WriteRequest.operation,
                                   WriteRequest.response, WriteRequest.context, WriteRequest.created_at)
                            .where(WriteRequest.http_status == 409).order_by(WriteRequest.id.desc())).all()
        items = []
        for r in rows:
            error = (r.response or {}).get("error", {})
            if error.get("code") not in DUPLICATE_ERRORS:
                continue
            items.append({"request_id": r.id, "participant": r.participant, "operation": r.operation,
                          "error": error.get("code"), "details": json_safe(error.get("details", {})),
                          "at": r.created_at.isoformat() if r.created_at else None})
            if len(items) >= limit:
                break
        return {"items": items}


def frozen(engine: Engine, caller: str) -> dict[str, Any]:
    with engine.connect() as conn:
        require_regulator(conn, caller)
        participants = conn.execute(select(Participant.address, Participant.kind, Participant.jurisdiction,
                                           Participant.freeze_reason, Participant.frozen_by, Participant.frozen_at)
                                    .where(Participant.frozen.is_(True)).order_by(Participant.frozen_at)).all()
        instruments = conn.execute(select(FrozenInstrument.__table__).where(FrozenInstrument.frozen.is_(True))
                                   .order_by(FrozenInstrument.changed_at)).mappings().all()
        return {
            "participants": [{"address": p.address, "kind": p.kind, "jurisdiction": p.jurisdiction,
                              "reason_code": p.freeze_reason, "regulator": p.frozen_by, "since": p.frozen_at}
                             for p in participants],
            "instruments": [{"contract": i["contract"], "instrument_id": i["instrument_id"],
                             "reason_code": i["reason"], "regulator": i["regulator"], "since": i["changed_at"],
                             "block_number": i["changed_block"]} for i in instruments],
        }


def list_alerts(engine: Engine, caller: str, rule: str | None, subject: str | None, time_from: int | None,
                time_to: int | None, cursor: str | None, limit: int) -> dict[str, Any]:
    with engine.connect() as conn:
        require_regulator(conn, caller)
        conditions: list[Any] = []
        if rule:
            conditions.append(Alert.rule == rule)
        if subject:
            conditions.append(Alert.subject == subject)
        if time_from is not None:
            conditions.append(Alert.timestamp >= time_from)
        if time_to is not None:
            conditions.append(Alert.timestamp < time_to)
        if cursor:
            conditions.append(Alert.id < decode_id_cursor(cursor))
        rows = conn.execute(select(Alert.__table__).where(*conditions).order_by(Alert.id.desc())
                            .limit(limit + 1)).mappings().all()
        items = [json_safe(dict(r)) for r in rows[:limit]]
        more = len(rows) > limit
        return {"items": items, "next_cursor": _encode_cursor([0, items[-1]["id"]]) if more and items else None}
