"""The indexer: every log of every deployed contract, from the deployment block, into the database.

One loop step (`step`):

1. **Reorg check.** The checkpoint holds the last indexed block and its hash. If the node's block at that
   height has another hash (or is gone), walk back through the stored block hashes to the newest one
   the node still agrees with (the common ancestor), roll the database back to it (`store.rollback_state`:
   journaled state rows restored, append-only rows above it deleted) and carry on from there.
2. **Range.** Up to `head - confirmations`, at most `max_range_blocks` blocks, smaller when the node
   said "too many results" or timed out (halved each time, grown back after successes).
3. **Fetch.** `eth_getLogs` for all contract addresses, then the blocks holding logs plus the range's
   last block (one JSON-RPC batch per 100) for hashes, parent hashes, timestamps and senders. A log whose
   block hash differs from its block's (the chain moved under us) makes the range retry.
4. **Apply.** In ONE database transaction: raw events, typed rows through the handlers, alert rules,
   block hashes, the range record and the checkpoint. A crash at any point leaves either all of it or
   none of it; events already present by (tx_hash, log_index) are skipped, so a range is idempotent.

Ranges whose last block is within `reorg_window` of the head journal their state changes so they can
be rolled back; older ones do not (a reorganisation that deep restarts the index from scratch). An index
written by another version of the handlers (`INDEX_VERSION`) is restarted from scratch too, before the indexer's
first step (`rebuild_if_outdated`, in its own thread: the gateway's event loop never waits on it).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_utils import keccak
from sqlalchemy import Engine, delete, func, insert, select, update

from app.chain.abi import AbiRegistry, ContractEvents, Deployment, checksum
from app.db.index_models import (
    APPEND_TABLES,
    STATE_TABLES,
    ChainEvent,
    IndexBlock,
    IndexCheckpoint,
    IndexRange,
    IndexUndo,
    IndexVersion,
)
from app.indexer import alerts
from app.indexer.config import IndexerSettings
from app.indexer.handlers import HANDLERS, INDEX_VERSION, EventContext, RangeState
from app.indexer.rpc import NodeUnavailable, RangeTooLarge, SyncRpc
from app.indexer.store import Store, clear_index, prune_journal, rollback_state
from app.services import document_access

log = logging.getLogger("tradefin.indexer")
CHECKPOINT = "main"
# The ERC-2771 forwarder's event after each relayed request (OpenZeppelin `ERC2771Forwarder`): the request's
# events come before it in the transaction, and their actor is its signer, not the relayer that sent it.
RELAYED_TOPIC = "0x" + keccak(text="ExecutedForwardRequest(address,uint256,bool)").hex()


@dataclass
class StepResult:
    from_block: int
    to_block: int
    events: int
    reorg_to: int | None = None


class Indexer:
    def __init__(self, engine: Engine, rpc: SyncRpc, abi: AbiRegistry, deployment: Deployment,
                 settings: IndexerSettings) -> None:
        self.engine, self.rpc, self.settings, self.deployment = engine, rpc, settings, deployment
        # The chain client's decoder: logs by (emitting contract, topic-0), structs as objects keyed by field.
        self.decoder = ContractEvents(abi, deployment, named_structs=True)
        self.addresses = sorted(deployment.addresses.values())
        self.forwarders = {a.lower() for a, t in self.decoder.types.items() if t == "Forwarder"}
        self.range_blocks = settings.max_range_blocks
        self._range_ceiling = settings.max_range_blocks  # largest size not yet refused by the node
        self._successes = 0
        self.refusals = 0
        self.seconds_fetching = 0.0  # wall time waiting for the node
        self.seconds_applying = 0.0  # wall time decoding and writing
        self.events_indexed = 0
        self._stop = threading.Event()
        self.on_range: Callable[[StepResult], None] | None = None  # test hook: called after each commit
        self._version_checked = False  # `rebuild_if_outdated` runs before the first step, in the indexing thread

    # Checkpoint ---------------------------------------------------------------------------------------

    def checkpoint(self) -> tuple[int, str | None]:
        """(last indexed block, its hash); before anything, the block before the deployment."""
        with self.engine.connect() as conn:
            row = conn.execute(select(IndexCheckpoint.block_number, IndexCheckpoint.block_hash)
                               .where(IndexCheckpoint.name == CHECKPOINT)).first()
        if row is None:
            return self.deployment.start_block - 1, None
        return row[0], row[1]

    def rebuild_if_outdated(self) -> None:
        """Clear an index written by handlers of another `INDEX_VERSION` (or by those before versions were
        recorded), to index again from the deployment block: rows such as the document namers the read grants
        come from are written only as their events are indexed, so an older index would grant nothing for its
        instruments. The gateway's own tables (documents and their grants among them) stay."""
        with self.engine.begin() as conn:
            version = conn.execute(select(IndexVersion.version)).scalar()
            if version == INDEX_VERSION:
                return
            if conn.execute(select(IndexCheckpoint.name)).first() is not None:
                log.warning("indexer: the index was written by handlers of version %s, these write version %d; "
                            "rebuilding it", version, INDEX_VERSION)
            self._reset(conn)
            conn.execute(delete(IndexVersion.__table__))
            conn.execute(insert(IndexVersion.__table__), [{"version": INDEX_VERSION}])

    # The loop -----------------------------------------------------------------------------------------

    def run(self, stop: threading.Event | None = None) -> None:
        """Index until `stop` is set, polling once caught up; node outages are waited out."""
        stop = stop or self._stop
        while not stop.is_set():
            try:
                result = self.step()
            except NodeUnavailable as exc:
                log.warning("indexer: node unavailable (%s); retrying", exc)
                stop.wait(1.0)
                continue
            except Exception:
                log.exception("indexer step failed; retrying")
                stop.wait(1.0)
                continue
            if result is None:
                stop.wait(self.settings.poll_seconds)

    def stop(self) -> None:
        self._stop.set()

    def sync(self, until_block: int | None = None) -> int:
        """Index up to the safe head (or `until_block`) and return; for tests, benchmarks and the CLI."""
        while True:
            result = self.step(until_block)
            if result is None:
                return self.checkpoint()[0]

    def step(self, until_block: int | None = None) -> StepResult | None:
        """One range (or one reorg repair). None when there is nothing new."""
        if not self._version_checked:  # in the indexer's thread: the gateway's event loop never waits on it
            self.rebuild_if_outdated()
            self._version_checked = True
        last, last_hash = self.checkpoint()
        reorg_to = self._check_reorg(last, last_hash)
        if reorg_to is not None:
            return StepResult(reorg_to + 1, reorg_to, 0, reorg_to=reorg_to)
        head = self.rpc.block_number()
        safe = head - self.settings.confirmations
        if until_block is not None:
            safe = min(safe, until_block)
        if safe <= last:
            return None
        start = last + 1
        fetch_started = time.perf_counter()
        while True:
            end = min(safe, start + self.range_blocks - 1)
            try:
                logs = self.rpc.get_logs(self.addresses, start, end)
            except RangeTooLarge as exc:
                if end == start:
                    raise
                self._shrink(end - start + 1)
                log.info("indexer: node refused %d..%d (%s); range now %d blocks", start, end, exc.message,
                         self.range_blocks)
                continue
            break
        if len(logs) > self.settings.max_logs_per_range and end > start:
            # Keep one database transaction bounded: stop at a block boundary near the cap, and ask for
            # fewer blocks next time.
            cut = int(logs[self.settings.max_logs_per_range]["blockNumber"], 16)
            end = max(start, cut - 1)
            logs = [lg for lg in logs if int(lg["blockNumber"], 16) <= end]
            self._shrink(end - start + 2)
        else:
            self._grow()
        numbers = sorted({int(lg["blockNumber"], 16) for lg in logs} | {end})
        blocks = self.rpc.blocks(numbers, full=True, per_batch=self.settings.block_batch)
        if end not in blocks or any(blocks.get(int(lg["blockNumber"], 16), {}).get("hash") != lg["blockHash"]
                                    for lg in logs):
            log.info("indexer: chain moved while reading %d..%d; retrying", start, end)
            return StepResult(start, start - 1, 0)
        if last_hash is not None and start in blocks and blocks[start]["parentHash"] != last_hash:
            return StepResult(start, start - 1, 0)  # reorganised just now: the next step repairs it
        apply_started = time.perf_counter()
        self.seconds_fetching += apply_started - fetch_started
        count = self._apply(start, end, logs, blocks, journaled=end > head - self.settings.reorg_window)
        self.seconds_applying += time.perf_counter() - apply_started
        result = StepResult(start, end, count)
        if self.on_range is not None:
            self.on_range(result)
        return result

    def _shrink(self, refused: int) -> None:
        """Halve the range; never grow back to a size the node refused."""
        self.refusals += 1
        self._range_ceiling = max(1, min(self._range_ceiling, refused - 1))
        self.range_blocks = max(1, min(self.range_blocks, refused) // 2)
        self._successes = 0

    def _grow(self) -> None:
        """After ten answered ranges in a row, try a quarter more (up to the ceiling)."""
        self._successes += 1
        if self._successes >= 10 and self.range_blocks < self._range_ceiling:
            self.range_blocks = min(self._range_ceiling, self.range_blocks + max(1, self.range_blocks // 4))
            self._successes = 0

    # Reorganisations ----------------------------------------------------------------------------------

    def _check_reorg(self, last: int, last_hash: str | None) -> int | None:
        if last_hash is None:
            return None
        current = self.rpc.blocks([last], full=False).get(last)
        if current is not None and current["hash"] == last_hash:
            return None
        ancestor = self._common_ancestor(last)
        log.warning("indexer: reorganisation at block %d; rolling back to %d", last, ancestor)
        self._rollback(ancestor)
        return ancestor

    def _common_ancestor(self, last: int) -> int:
        with self.engine.connect() as conn:
            stored = conn.execute(select(IndexBlock.block_number, IndexBlock.block_hash)
                                  .where(IndexBlock.block_number <= last)
                                  .order_by(IndexBlock.block_number.desc()).limit(self.settings.reorg_window * 2)).all()
        for start in range(0, len(stored), 100):
            chunk = stored[start:start + 100]
            chain = self.rpc.blocks([n for n, _ in chunk], full=False)
            for number, block_hash in chunk:
                if chain.get(number, {}).get("hash") == block_hash:
                    return number
        return self.deployment.start_block - 1

    def _rollback(self, ancestor: int) -> None:
        with self.engine.begin() as conn:
            ranges = conn.execute(select(IndexRange.block_number, IndexRange.journaled)
                                  .where(IndexRange.to_block > ancestor)).all()
            target = min([ancestor] + [first - 1 for first, _ in ranges])
            if any(not journaled for _, journaled in ranges) or target < self.deployment.start_block:
                log.warning("indexer: reorganisation deeper than the journal; rebuilding the index")
                self._reset(conn)
                return
            restored = rollback_state(conn, target)
            block_hash = conn.execute(select(IndexBlock.block_hash).where(IndexBlock.block_number == target)).scalar()
            self._set_checkpoint(conn, target, block_hash)
            log.warning("indexer: rolled back to block %d (%d state rows restored)", target, restored)

    def _reset(self, conn: Any) -> None:
        clear_index(conn, [*STATE_TABLES.values(), *APPEND_TABLES.values(), IndexUndo.__table__])
        conn.execute(delete(IndexCheckpoint.__table__))

    # Applying a range ---------------------------------------------------------------------------------

    def _apply(self, start: int, end: int, logs: list[dict[str, Any]], blocks: dict[int, dict[str, Any]],
               journaled: bool) -> int:
        senders = {tx["hash"]: tx.get("from") for b in blocks.values() for tx in b.get("transactions", [])
                   if isinstance(tx, dict)}
        relayed = self._relayed_requests(logs)
        with self.engine.begin() as conn:
            existing = {(h, i) for h, i in conn.execute(
                select(ChainEvent.tx_hash, ChainEvent.log_index).where(ChainEvent.block_number.between(start, end)))}
            next_id = (conn.execute(select(func.max(ChainEvent.id))).scalar() or 0) + 1
            store = Store(conn, start if journaled else None)
            state = RangeState(self.decoder.names, self.decoder.types)
            count = 0
            for lg in logs:
                tx_hash, log_index = lg["transactionHash"], int(lg["logIndex"], 16)
                if (tx_hash, log_index) in existing:
                    continue
                count += 1
                self._apply_log(store, state, next_id, lg, tx_hash, log_index, blocks, senders, relayed)
                next_id += 1
            # A range read again (e.g. after a lost checkpoint) replaces its block and range records.
            conn.execute(delete(IndexBlock.__table__).where(IndexBlock.block_number.between(start, end)))
            conn.execute(delete(IndexRange.__table__).where(IndexRange.block_number.between(start, end)))
            for number, block in blocks.items():
                store.append("index_blocks", {"block_number": number, "block_hash": block["hash"],
                                              "parent_hash": block["parentHash"],
                                              "timestamp": int(block["timestamp"], 16)})
            store.append("index_ranges", {"block_number": start, "to_block": end, "events": count,
                                          "journaled": journaled})
            store.flush()
            alerts.run_rules(store, state, self.settings)
            store.flush()
            # who may read the documents they name
            document_access.grant_indexed(conn, store.written("idx_instruments"))
            self._set_checkpoint(conn, end, blocks[end]["hash"])
            if journaled:
                prune_journal(conn, end - self.settings.reorg_window)
        self.events_indexed += count
        return count

    def _relayed_requests(self, logs: list[dict[str, Any]]) -> dict[str, list[tuple[int, str]]]:
        """Per transaction, the (log index, signer) of each request the forwarder executed, in log order."""
        relayed: dict[str, list[tuple[int, str]]] = {}
        if not self.forwarders:
            return relayed
        for lg in logs:
            topics = lg.get("topics") or []
            if len(topics) > 1 and topics[0] == RELAYED_TOPIC and lg["address"].lower() in self.forwarders:
                relayed.setdefault(lg["transactionHash"], []).append(
                    (int(lg["logIndex"], 16), checksum("0x" + topics[1][-40:])))
        return relayed

    def _apply_log(self, store: Store, state: RangeState, event_id: int, lg: dict[str, Any], tx_hash: str,
                   log_index: int, blocks: dict[int, dict[str, Any]], senders: dict[str, str | None],
                   relayed: dict[str, list[tuple[int, str]]] | None = None) -> None:
        number = int(lg["blockNumber"], 16)
        address = checksum(lg["address"])
        topics = [bytes.fromhex(t[2:]) for t in lg["topics"]]
        data = lg.get("data", "0x")
        timestamp = int(lg.get("blockTimestamp") or blocks[number]["timestamp"], 16)
        decoded = self.decoder.decode(address, topics, bytes.fromhex(data[2:]))
        sender = senders.get(tx_hash)
        actor = checksum(sender) if sender else None
        # A request relayed through the forwarder: its events precede the forwarder's `ExecutedForwardRequest`
        # (the first one at or after this log names the signer, the actor).
        for index, signer in (relayed or {}).get(tx_hash, ()):
            if index >= log_index:
                actor = signer
                break
        contract = self.decoder.names.get(address)
        store.append("chain_events", {
            "id": event_id, "block_number": number, "block_hash": lg["blockHash"], "timestamp": timestamp,
            "tx_hash": tx_hash, "tx_index": int(lg["transactionIndex"], 16), "log_index": log_index,
            "address": address, "contract": contract, "event": decoded[0] if decoded else None, "actor": actor,
            "args": decoded[1] if decoded else None, "topics": None if decoded else lg["topics"],
            "data": None if decoded else data,
        })
        if decoded is None:
            return
        handler = HANDLERS.get((self.decoder.types[address], decoded[0]))
        if handler is not None:
            handler(EventContext(store, state, event_id, number, timestamp, tx_hash, log_index, address,
                                 contract or "", decoded[0], decoded[1], actor))

    def _set_checkpoint(self, conn: Any, block: int, block_hash: str | None) -> None:
        table = IndexCheckpoint.__table__
        values = {"block_number": block, "block_hash": block_hash, "updated_at": int(time.time())}
        if conn.execute(update(table).where(table.c.name == CHECKPOINT).values(values)).rowcount == 0:
            conn.execute(insert(table).values(name=CHECKPOINT, **values))


def make_index_engine(url: str) -> Engine:
    """The indexer's own engine on the gateway's database. On SQLite its connections commit with
    `synchronous=NORMAL` (WAL): a power cut may lose the last committed ranges, never corrupt them, and
    the checkpoint goes back with them, so the indexer simply reads those blocks again. The gateway's
    connections keep `synchronous=FULL` for the outbox."""
    from sqlalchemy import event

    from app.db.session import make_engine

    engine = make_engine(url)
    if url.startswith("sqlite"):
        @event.listens_for(engine, "connect")
        def _relaxed_sync(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            dbapi_connection.execute("PRAGMA synchronous=NORMAL")
    return engine


def build_indexer(settings: Any, indexer_settings: IndexerSettings | None = None, engine: Engine | None = None) -> Indexer:
    """An indexer for the gateway's `Settings` (chain, database, deployment, build)."""
    from app.db.session import make_sessionmaker

    indexer_settings = indexer_settings or IndexerSettings()
    engine = engine or make_index_engine(settings.resolved_database_url)
    make_sessionmaker(engine)  # creates the tables (the index tables share the gateway's Base)
    abi = AbiRegistry.from_build(settings.build_file)
    deployment = Deployment.load(settings.resolved_deployment_file)
    return Indexer(engine, SyncRpc(settings.rpc_url, indexer_settings.rpc_timeout_seconds), abi, deployment,
                   indexer_settings)


class IndexerThread:
    """The indexer inside the gateway process: a daemon thread started and stopped by the lifespan."""

    def __init__(self, indexer: Indexer) -> None:
        self.indexer = indexer
        self._stop = threading.Event()
        self._thread = threading.Thread(target=indexer.run, args=(self._stop,), name="tradefin-indexer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
        self.indexer.rpc.close()


def start_in_gateway(settings: Any) -> IndexerThread | None:
    """The gateway lifespan's hook: start the indexer thread unless `TRADEFIN_INDEXER_ENABLED=false`."""
    indexer_settings = IndexerSettings()
    if not indexer_settings.enabled:
        return None
    thread = IndexerThread(build_indexer(settings, indexer_settings))
    thread.start()
    return thread
