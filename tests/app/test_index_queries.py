"""Queries over the index: visibility (a party sees its instruments, nobody else does, the regulator sees
all), filters, cursor pagination, audit trails and their export, document verification, supervision."""

from __future__ import annotations

import csv
import io

import pytest
from eth_utils import keccak
from indexer_helpers import scenario
from indexer_world import IndexerChain

from app.core.errors import Forbidden, NotFound
from app.services import index_queries as q
from app.services import supervision


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    with IndexerChain.start(tmp_path_factory.mktemp("queries")) as world:
        ids = scenario(world)
        for n in range(7):
            world.register_invoice("supplier2", "importer", "CNY", 1_000_00 + n, f"PAGE-{n}")
        indexer = world.indexer()
        indexer.sync()
        yield world, indexer.engine, ids


def _uids(page):
    return [item["uid"] for item in page["items"]]


@pytest.mark.parametrize("sparse_limit", [2_000, 0], ids=["few-instruments-path", "many-instruments-path"])
def test_a_party_sees_its_instruments_and_a_non_party_sees_none(indexed, monkeypatch, sparse_limit):
    monkeypatch.setattr(q, "SPARSE_PARTY_LIMIT", sparse_limit)
    world, engine, ids = indexed
    everything = q.InstrumentFilter(limit=200)
    exporter = _uids(q.list_instruments(engine, world.address("exporter"), "invoice", everything))
    assert f"invoice:{ids['a']}" in exporter and f"invoice:{ids['c']}" in exporter
    outsider = world.address("supplier3")
    assert q.list_instruments(engine, outsider, "invoice", everything)["items"] == []
    for call in (q.get_instrument, q.audit_trail):
        with pytest.raises(NotFound):
            call(engine, outsider, "invoice", str(ids["a"]))
    unregistered = "0x000000000000000000000000000000000000dEaD"
    assert q.list_instruments(engine, unregistered, "invoice", everything)["items"] == []
    assert q.verify_document(engine, outsider, "0x" + keccak(text="doc:INV-A").hex())["anchored"] is False


def test_the_financier_and_the_attester_become_parties(indexed):
    world, engine, ids = indexed
    detail = q.get_instrument(engine, world.address("bank_cn"), "invoice", str(ids["a"]))
    roles = {(p["participant"], p["role"]) for p in detail["parties"]}
    assert (world.address("bank_cn"), "financier") in roles
    assert (world.address("attester"), "attester") in roles
    assert detail["state"] == "Financed" and detail["details"]["paid_amount"] == 40_000_00
    assert detail["details"]["customs"]["matched"] is True


def test_the_regulator_sees_every_instrument(indexed):
    world, engine, _ = indexed
    page = q.list_instruments(engine, world.address("regulator"), "invoice", q.InstrumentFilter(limit=200))
    assert len(page["items"]) == 10


def test_filters_by_state_counterparty_currency_and_date(indexed):
    world, engine, ids = indexed
    importer = world.address("importer")
    cancelled = q.list_instruments(engine, importer, "invoice", q.InstrumentFilter(state="Cancelled"))
    assert _uids(cancelled) == [f"invoice:{ids['c']}"]
    with_bank = q.list_instruments(engine, importer, "invoice", q.InstrumentFilter(counterparty=world.address("bank_cn")))
    assert _uids(with_bank) == [f"invoice:{ids['a']}"]
    cny = q.list_instruments(engine, importer, "invoice", q.InstrumentFilter(currency="CNY", limit=200))
    assert len(cny["items"]) == 7 and {i["currency"] for i in cny["items"]} == {"CNY"}
    future = q.list_instruments(engine, importer, "invoice", q.InstrumentFilter(created_from=world.now() + 10))
    assert future["items"] == []


@pytest.mark.parametrize("sparse_limit", [2_000, 0], ids=["few-instruments-path", "many-instruments-path"])
def test_cursor_pagination_walks_every_item_once_in_order(indexed, monkeypatch, sparse_limit):
    monkeypatch.setattr(q, "SPARSE_PARTY_LIMIT", sparse_limit)
    world, engine, _ = indexed
    importer = world.address("importer")
    for sort in ("-created_at", "amount", "-amount", "due_at"):
        seen, cursor = [], None
        while True:
            page = q.list_instruments(engine, importer, "invoice", q.InstrumentFilter(sort=sort, cursor=cursor, limit=3))
            seen += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == len({i["uid"] for i in seen}) == 9  # a and c, plus 7 from supplier2
        key = sort.lstrip("-")
        values = [(i[key if key != "created_at" else "created_at"], i["uid"]) for i in seen]
        assert values == sorted(values, reverse=sort.startswith("-"))


def test_audit_trail_lists_every_event_in_chain_order_with_actor_and_exports(indexed):
    world, engine, ids = indexed
    trail = q.audit_trail(engine, world.address("importer"), "invoice", str(ids["a"]))
    names = [e["event"] for e in trail["events"]]
    assert names == ["InvoiceRegistered", "Transfer", "InvoiceConfirmed", "CustomsAttested", "FinancingApplied",
                     "LienTaken", "InvoicePaid"]
    order = [(e["block_number"], e["log_index"]) for e in trail["events"]]
    assert order == sorted(order)
    actors = {e["event"]: e["actor"] for e in trail["events"]}
    assert actors["InvoiceConfirmed"] == world.address("importer")
    assert actors["LienTaken"] == world.address("bank_cn")
    receipt = world.w3.eth.get_transaction_receipt(trail["events"][2]["tx_hash"])
    assert receipt["blockNumber"] == trail["events"][2]["block_number"]
    rows = list(csv.DictReader(io.StringIO(q.trail_csv(trail))))
    assert [r["event"] for r in rows] == names and rows[0]["tx_hash"] == trail["events"][0]["tx_hash"]


def test_frozen_instrument_trail_includes_the_freeze(indexed):
    world, engine, ids = indexed
    trail = q.audit_trail(engine, world.address("supplier2"), "invoice", str(ids["b"]))
    assert [e["event"] for e in trail["events"]][-2:] == ["Transfer", "InstrumentFrozen"]
    assert q.get_instrument(engine, world.address("supplier2"), "invoice", str(ids["b"]))["frozen"] is True


def test_document_verify_names_the_instrument_and_block(indexed):
    world, engine, ids = indexed
    answer = q.verify_document(engine, world.address("exporter"), "0x" + keccak(text="doc:INV-A").hex())
    assert answer["anchored"] is True
    # The invoice anchors it; the financing of the invoice carries the same document.
    by_kind = {a["kind"]: a for a in answer["anchors"]}
    assert sorted(by_kind) == ["financing", "invoice"]
    anchor = by_kind["invoice"]
    assert anchor["uid"] == f"invoice:{ids['a']}" and anchor["event"] == "InvoiceRegistered"
    assert by_kind["financing"]["event"] == "FinancingApplied"
    block = world.w3.eth.get_block(anchor["block_number"])
    assert block["hash"].to_0x_hex() == anchor["block_hash"]
    assert q.verify_document(engine, world.address("exporter"), "0x" + "00" * 32)["anchored"] is False


def test_transfers_are_filtered_to_the_caller(indexed):
    world, engine, _ = indexed
    mine = q.list_transfers(engine, world.address("supplier1"), None, None, None, None, None, 200)["items"]
    assert mine and all(world.address("supplier1") in (t["from_address"], t["to_address"]) for t in mine)
    everything = q.list_transfers(engine, world.address("regulator"), None, None, None, None, None, 200)["items"]
    assert len(everything) > len(mine)


def test_supervision_is_for_the_regulator_only(indexed):
    world, engine, _ = indexed
    with pytest.raises(Forbidden):
        supervision.flows(engine, world.address("bank_cn"), None, None, None, None, False)
    with pytest.raises(Forbidden):
        supervision.list_alerts(engine, world.address("exporter"), None, None, None, None, None, 10)


def test_flows_by_corridor_currency_and_day(indexed):
    world, engine, _ = indexed
    flows = supervision.flows(engine, world.address("regulator"), None, None, None, "CN-US", False)["items"]
    usd = [f for f in flows if f["currency"] == "USD"]
    assert len(usd) == 1 and usd[0]["transfers"] == 1 and usd[0]["total"] == 60_000_00
    assert usd[0]["large_value_transfers"] == 1 and usd[0]["cross_border"] is True
    reports = supervision.large_value_reports(engine, world.address("regulator"), "USD", None, None, None, 10)
    assert [r["amount"] for r in reports["items"]] == [60_000_00]


def test_frozen_participants_and_instruments_are_listed(indexed):
    world, engine, ids = indexed
    frozen = supervision.frozen(engine, world.address("regulator"))
    assert [p["address"] for p in frozen["participants"]] == [world.address("supplier3")]
    assert frozen["participants"][0]["reason_code"] == "0x" + keccak(text="SANCTIONS").hex()
    assert [i["instrument_id"] for i in frozen["instruments"]] == [str(ids["b"])]


def test_a_read_within_its_budget_runs_on_the_event_loop_and_a_longer_one_again_in_the_thread_pool(indexed):
    """`run_read` (the instrument read routes): on SQLite a read runs on the event loop while its SQLite work stays
    within `INLINE_READ_STEPS`; past it, the statement is interrupted and the read runs again, whole, in a worker
    thread, with the same answer."""
    import asyncio
    import threading

    from sqlalchemy import text

    from app.api.index_deps import run_read

    _, engine, _ = indexed
    threads: list[threading.Thread] = []

    def count_to(engine, n):
        threads.append(threading.current_thread())
        with engine.connect() as conn:
            return conn.execute(text("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < :n) "
                                     "SELECT count(*) FROM c"), {"n": n}).scalar()

    async def read(n):
        return await run_read(engine, count_to, n), threading.current_thread()

    answer, loop = asyncio.run(read(10))
    assert answer == 10 and threads == [loop]
    threads.clear()
    answer, loop = asyncio.run(read(1_000_000))
    assert answer == 1_000_000 and len(threads) == 2 and threads[0] is loop and threads[1] is not loop


def test_read_on_the_event_loop_never_waits_for_a_connection_while_every_pooled_one_is_taken(indexed):
    """Review finding (attacker): slow reads in worker threads holding every pooled connection made an inline read
    wait for one on the event loop, and the whole gateway with it (up to the pool's 30 s). Replayed: all
    connections held, a cheap read asked; it must go to the thread pool, the event loop go on, and the read answer
    once a connection is given back."""
    import asyncio
    import threading
    import time

    from sqlalchemy import text

    from app.api.index_deps import run_read
    from app.db.session import SQLITE_MAX_OVERFLOW, SQLITE_POOL_SIZE, connection_free

    _, engine, _ = indexed
    held = [engine.connect() for _ in range(SQLITE_POOL_SIZE + SQLITE_MAX_OVERFLOW)]
    assert not connection_free(engine)
    ran_in: list[threading.Thread] = []

    def one(engine):
        ran_in.append(threading.current_thread())
        with engine.connect() as conn:
            return conn.execute(text("SELECT 1")).scalar()

    async def scenario():
        loop_thread, ticks = threading.current_thread(), []

        async def tick_then_give_one_back():
            for _ in range(5):
                await asyncio.sleep(0.05)
                ticks.append(time.monotonic())
            held.pop().close()

        giver = asyncio.create_task(tick_then_give_one_back())
        answer = await asyncio.wait_for(run_read(engine, one), timeout=20)
        await giver
        return answer, loop_thread, ticks

    try:
        answer, loop_thread, ticks = asyncio.run(scenario())
    finally:
        for conn in held:
            conn.close()
    assert answer == 1
    assert ran_in and all(thread is not loop_thread for thread in ran_in)
    assert len(ticks) == 5, "the event loop went on while the read waited for a connection"
    assert connection_free(engine)
