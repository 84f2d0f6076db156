"""Comparing index databases, and a scenario that touches every handler."""

from __future__ import annotations

from typing import Any

from eth_utils import keccak
from sqlalchemy import Engine, select

from app.db.index_models import APPEND_TABLES, STATE_TABLES

# What must be identical however the index was built (ranges, blocks and the journal may differ).
COMPARED = [name for name in (*STATE_TABLES, *APPEND_TABLES) if name not in ("index_ranges", "index_blocks")]


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    tables = {**STATE_TABLES, **APPEND_TABLES}
    out = {}
    with engine.connect() as conn:
        for name in COMPARED:
            table = tables[name]
            columns = [c for c in table.columns if not (name == "idx_alerts" and c.name == "id")]
            out[name] = sorted(tuple(str(v) for v in row) for row in conn.execute(select(*columns)))
    return out


def scenario(world, *, step=None) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Payments (domestic, cross-border, large-value), invoices (registered, confirmed, customs, financed by
    bank_cn through receivable financing, partly paid, cancelled, assigned), a frozen participant and
    instrument. `step()` runs after each action (`finance` is three transactions: one step)."""
    step = step or (lambda: None)
    invoices = world.contracts["InvoiceRegistry"]
    registry = world.contracts["ParticipantRegistry"]
    world.send("regulator", world.token("USD").functions.setLargeValueThreshold(50_000_00)); step()
    world.pay("exporter", "supplier1", "CNY", 10_000); step()
    world.pay("exporter", "importer", "USD", 60_000_00); step()
    world.pay("importer", "exporter", "USD", 1_234); step()
    a = world.register_invoice("exporter", "importer", "USD", 100_000_00, "INV-A"); step()
    b = world.register_invoice("supplier1", "exporter", "CNY", 20_000_00, "INV-B"); step()
    c = world.register_invoice("exporter", "importer", "EUR", 5_000_00, "INV-C"); step()
    world.send("importer", invoices.functions.confirm(a)); step()
    world.send("attester", invoices.functions.attestCustoms(a, keccak(text="decl-A"), 100_000_00)); step()
    world.finance("exporter", "bank_cn", a, "USD", 45_000_00); step()  # below the threshold: no report
    world.send("importer", world.token("USD").functions.approve(invoices.address, 2**255)); step()
    world.send("importer", invoices.functions.pay(a, 40_000_00)); step()
    world.send("exporter", invoices.functions.cancel(c, keccak(text="wrong amount"))); step()
    world.send("supplier1", invoices.functions.transferFrom(world.roles["supplier1"], world.roles["supplier2"], b)); step()
    world.send("regulator", registry.functions.freezeInstrument(invoices.address, b, keccak(text="AML-REVIEW"))); step()
    world.send("regulator", registry.functions.freezeParticipant(world.roles["supplier3"], keccak(text="SANCTIONS"))); step()
    return {"a": a, "b": b, "c": c}
