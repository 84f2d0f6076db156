"""The outbox's lookups of stored requests by (participant, Idempotency-Key) search the unique index, for one key
and for a lane's whole group of keys; SQLite scanned the whole table for the row-value form
`(participant, idempotency_key) IN (VALUES ...)` of two or more keys (finding of the signed-request benchmark:
every group a relayer lane sent read all of `write_requests`)."""

from __future__ import annotations

from sqlalchemy import create_engine, event, insert
from sqlalchemy.orm import sessionmaker

from app.chain.outbox import Outbox
from app.db.models import Base, RequestState, WriteRequest


def _outbox_with_requests(count: int) -> tuple[Outbox, list[tuple[str, tuple]]]:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(WriteRequest), [
            {"participant": f"0x{n % 7:040x}", "idempotency_key": f"key-{n}", "fingerprint": f"{n:064x}",
             "operation": "invoices.register", "context": {}, "state": RequestState.DONE, "http_status": 201,
             "response": {"n": n}} for n in range(count)])
        connection.exec_driver_sql("ANALYZE")
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append((args[2], args[3])))
    return Outbox(sessionmaker(bind=engine)), statements


def test_a_lanes_group_of_keys_is_found_through_the_index_not_by_scanning_every_request():
    outbox, statements = _outbox_with_requests(2_000)
    keys = [(f"0x{n % 7:040x}", f"key-{n}") for n in (3, 10, 17, 4, 1_999)] + [(f"0x{1:040x}", "never-used")]
    found = outbox.find_requests(keys)
    assert set(found) == set(keys[:5])
    assert found[(f"0x{4:040x}", "key-4")].response == {"n": 4}
    sql, parameters = statements[-1]
    with outbox._engine.connect() as connection:  # the statement as the outbox sent it
        plan = " / ".join(row[-1] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, parameters))
    assert "SCAN write_requests" not in plan, plan
    assert "USING INDEX" in plan, plan


def test_one_key_is_found_or_not():
    outbox, _ = _outbox_with_requests(10)
    assert outbox.find_request(f"0x{3:040x}", "key-3").http_status == 201
    assert outbox.find_request(f"0x{3:040x}", "key-4") is None
    assert outbox.find_requests([]) == {}


def test_a_group_of_a_thousand_participants_is_looked_up_without_passing_sqlites_expression_depth():
    outbox, _ = _outbox_with_requests(1)
    keys = [(f"0x{n:040x}", "k") for n in range(1_200)]
    assert list(outbox.find_requests([*keys, (f"0x{0:040x}", "key-0")])) == [(f"0x{0:040x}", "key-0")]
