"""The indexer against its own Anvil: backfill equals live, a killed indexer resumes without losing or
duplicating anything, a reorganisation is rolled back and re-applied, and typed rows say what the
chain says."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time

import pytest
from indexer_helpers import dump, scenario
from indexer_world import IndexerChain, subprocess_env
from sqlalchemy import func, select

from app.db.index_models import ChainEvent, IndexCheckpoint, Instrument, Lien, Participant, Transfer
from app.indexer.rpc import RangeTooLarge

ROOT_DIR = __import__("gateway_world").ROOT


@pytest.fixture(scope="module")
def _chain(tmp_path_factory):
    with IndexerChain.start(tmp_path_factory.mktemp("indexer-chain")) as chain:
        yield chain


@pytest.fixture
def world(_chain, tmp_path):
    """The module's chain as deployed (each test reverts to the snapshot), with this test's data folder."""
    with _chain.fresh(tmp_path) as w:
        yield w


def _chain_log_count(world) -> int:
    return len(world.rpc("eth_getLogs", [{"fromBlock": hex(world.start_block), "toBlock": "latest",
                                          "address": [c.address for c in world.contracts.values()]}]))


def test_backfill_equals_live(world):
    live = world.indexer("live.sqlite3")
    ids = scenario(world, step=live.sync)
    backfill = world.indexer("backfill.sqlite3", max_range_blocks=3)
    backfill.sync()
    assert dump(backfill.engine) == dump(live.engine)
    assert backfill.events_indexed == live.events_indexed == _chain_log_count(world)
    with live.engine.connect() as conn:
        states = dict(conn.execute(select(Instrument.instrument_id, Instrument.state)
                                   .where(Instrument.kind == "invoice")).all())
        assert states == {str(ids["a"]): "Financed", str(ids["b"]): "Registered", str(ids["c"]): "Cancelled"}
        financing = conn.execute(select(Instrument.state, Instrument.amount).where(Instrument.kind == "financing")).one()
        assert tuple(financing) == ("Active", 45_000_00)
        assert conn.execute(select(Lien.financier)).scalar() == world.address("bank_cn")
        assert conn.execute(select(Participant.frozen).where(Participant.address == world.address("supplier3"))).scalar()


def test_balances_match_the_tokens(world):
    scenario(world)
    indexer = world.indexer()
    indexer.sync()
    from app.db.index_models import Balance
    with indexer.engine.connect() as conn:
        rows = conn.execute(select(Balance.address, Balance.currency, Balance.amount)).all()
    assert rows
    for address, currency, amount in rows:
        assert world.token(currency).functions.balanceOf(address).call() == amount


def test_cross_border_and_large_value_rows(world):
    world.send("regulator", world.token("USD").functions.setLargeValueThreshold(50_000_00))
    world.pay("exporter", "importer", "USD", 60_000_00, "GDDS")
    world.pay("exporter", "supplier1", "USD", 70_000_00, "SUPP")
    indexer = world.indexer()
    indexer.sync()
    with indexer.engine.connect() as conn:
        rows = conn.execute(select(Transfer.to_address, Transfer.cross_border, Transfer.large_value,
                                   Transfer.from_jurisdiction, Transfer.to_jurisdiction, Transfer.purpose_code)
                            .where(Transfer.kind == "transfer").order_by(Transfer.event_id)).all()
    assert [tuple(r) for r in rows] == [
        (world.address("importer"), True, True, "CN", "US", "GDDS"),
        (world.address("supplier1"), False, True, "CN", "CN", "SUPP"),
    ]


def test_range_shrinks_when_the_node_refuses_and_nothing_is_lost(world, monkeypatch):
    scenario(world)
    indexer = world.indexer(max_range_blocks=64)
    original = indexer.rpc.get_logs

    def picky(addresses, start, end):
        if end - start + 1 > 4:
            raise RangeTooLarge(-32005, "query returned more than 10000 results")
        return original(addresses, start, end)

    monkeypatch.setattr(indexer.rpc, "get_logs", picky)
    indexer.sync()
    assert indexer.range_blocks <= 4
    assert indexer.refusals <= 6  # it learns the node's limit instead of asking too much again and again
    assert indexer.events_indexed == _chain_log_count(world)


def test_confirmations_hold_back_the_newest_blocks(world):
    indexer = world.indexer(confirmations=3)
    head = world.w3.eth.block_number
    assert indexer.sync() == head - 3


def test_resync_is_idempotent(world):
    scenario(world)
    indexer = world.indexer()
    indexer.sync()
    before = dump(indexer.engine)
    with indexer.engine.begin() as conn:  # as if the checkpoint had been lost: everything is read again
        conn.execute(IndexCheckpoint.__table__.delete())
    again = world.indexer()
    again.sync()
    assert again.events_indexed == 0
    assert dump(again.engine) == before


def test_killed_indexer_resumes_without_losing_or_duplicating(world):
    scenario(world)
    for n in range(60):
        world.pay("supplier1", "supplier2", "CNY", 100 + n)
    head = world.w3.eth.block_number
    env = subprocess_env(world, TRADEFIN_INDEXER_MAX_RANGE_BLOCKS="1", TRADEFIN_LOG_LEVEL="warning")
    probe = world.indexer()
    rng = random.Random(7)
    kills_mid_way = 0
    for _ in range(60):
        before = probe.checkpoint()[0]
        process = subprocess.Popen([sys.executable, "-m", "app.indexer", "--once"], cwd=ROOT_DIR, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Kill it at a random moment once it has made progress (start-up time varies with the machine).
        deadline = time.monotonic() + 60
        while process.poll() is None and probe.checkpoint()[0] == before and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.3))
        if process.poll() is not None:
            assert process.returncode == 0
            break
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        reached = probe.checkpoint()[0]
        kills_mid_way += world.start_block <= reached < head
        if kills_mid_way == 4:
            break
    assert kills_mid_way >= 2  # (it may finish early on a fast machine)
    final = world.indexer()
    assert final.sync() == head
    clean = world.indexer("clean.sqlite3")
    clean.sync()
    assert dump(final.engine) == dump(clean.engine)
    with final.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ChainEvent)).scalar() == _chain_log_count(world)


def test_reorg_rolls_back_to_the_common_ancestor_and_reapplies(world):
    indexer = world.indexer()
    world.pay("exporter", "importer", "USD", 1_000)
    indexer.sync()
    fork_point = world.w3.eth.block_number
    snapshot = world.rpc("evm_snapshot", [])
    # The branch that will be abandoned: an invoice, a payment, a freeze.
    lost = world.register_invoice("exporter", "importer", "USD", 7_777_00, "INV-LOST")
    world.pay("exporter", "importer", "USD", 2_222)
    world.send("regulator", world.contracts["ParticipantRegistry"].functions.freezeParticipant(
        world.roles["importer"], b"\x01" * 32))
    indexer.sync()
    with indexer.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Instrument)).scalar() == 1
    assert world.rpc("evm_revert", [snapshot])
    # The canonical branch: different transactions, and longer.
    kept = world.register_invoice("exporter", "importer", "USD", 8_888_00, "INV-KEPT")
    world.pay("exporter", "supplier1", "USD", 3_333)
    world.pay("importer", "exporter", "USD", 4_444)
    world.pay("importer", "exporter", "USD", 5_555)
    assert world.w3.eth.block_number > fork_point + 3
    indexer.sync()
    clean = world.indexer("clean.sqlite3")
    clean.sync()
    assert dump(indexer.engine) == dump(clean.engine)
    with indexer.engine.connect() as conn:
        ids = set(conn.execute(select(Instrument.instrument_id)).scalars())
        importer_frozen = conn.execute(select(Participant.frozen)
                                       .where(Participant.address == world.address("importer"))).scalar()
    assert ids == {str(kept)} and str(lost) not in ids
    assert importer_frozen is False


def test_reorg_to_a_shorter_chain_is_detected(world):
    indexer = world.indexer()
    snapshot = world.rpc("evm_snapshot", [])
    world.pay("exporter", "importer", "USD", 1_000)
    world.pay("exporter", "importer", "USD", 2_000)
    indexer.sync()
    world.rpc("evm_revert", [snapshot])
    world.pay("importer", "exporter", "USD", 3_000)  # one block where there were two
    indexer.sync()
    clean = world.indexer("clean.sqlite3")
    clean.sync()
    assert dump(indexer.engine) == dump(clean.engine)


@pytest.mark.parametrize("uploader,readers", [
    # The seller's own document: the invoice's seller, buyer and financier; not its customs attester.
    ("exporter", ("exporter", "importer", "bank_cn")),
    ("supplier2", ("supplier2",)),  # a stranger's document whose hash the invoice names: nobody else
])
def test_readers_of_an_instrument_may_read_its_stored_document_when_its_namer_may(world, uploader, readers):
    from eth_utils import keccak
    from sqlalchemy import insert

    from app.db.models import Document, DocumentUpload

    indexer = world.indexer()
    document = "0x" + keccak(text="doc:INV-A").hex()
    with indexer.engine.begin() as conn:
        conn.execute(insert(Document.__table__), [{"sha256": document, "size": 3}])
        conn.execute(insert(DocumentUpload.__table__), [{"sha256": document, "participant": world.address(uploader),
                                                         "content_type": "text/plain"}])
    scenario(world)
    indexer.sync()
    with indexer.engine.connect() as conn:
        found = set(conn.execute(select(DocumentUpload.participant).where(DocumentUpload.sha256 == document)).scalars())
    assert found == {world.address(r) for r in readers}


def test_an_index_written_by_older_handlers_is_rebuilt_when_the_indexer_starts(world):
    """An index from before `INDEX_VERSION` was recorded holds no document namers (`details.document_namers`,
    what the read grants come from): started on it, the indexer clears it and indexes again from the deployment
    block, to the same rows as a fresh index, rather than grant nothing for the instruments already indexed."""
    from sqlalchemy import delete, update

    from app.db.index_models import IndexVersion
    from app.indexer.handlers import INDEX_VERSION

    old = world.indexer()
    ids = scenario(world)
    old.sync()
    with old.engine.begin() as conn:  # as an earlier version wrote it
        conn.execute(delete(IndexVersion.__table__))
        for uid, details in conn.execute(select(Instrument.uid, Instrument.details)).all():
            conn.execute(update(Instrument).where(Instrument.uid == uid).values(
                details={k: v for k, v in details.items() if k != "document_namers"}))
    rebuilt = world.indexer()  # the check runs before its first step, in the indexing thread
    rebuilt.step(until_block=rebuilt.deployment.start_block - 1)  # the check alone: no block to index yet
    with rebuilt.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Instrument)).scalar() == 0
        assert conn.execute(select(IndexVersion.version)).scalars().all() == [INDEX_VERSION]
    rebuilt.sync()
    clean = world.indexer("clean.sqlite3")
    clean.sync()
    assert dump(rebuilt.engine) == dump(clean.engine)
    with rebuilt.engine.connect() as conn:
        invoice = conn.execute(select(Instrument.details).where(Instrument.uid == f"invoice:{ids['a']}")).scalar()
    assert invoice["document_namers"] == {invoice["document_hash"]: world.address("exporter")}
