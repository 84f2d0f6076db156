"""Indexer benchmark: backfill speed on ≥100,000 events and query latency on that data.

Run: .venv/bin/python bench/indexer.py [--events 100000]

1. A fresh Anvil (cancun, pruned history, high block gas limit, automine off) with the world deployed;
   events produced fast: `registerBatch` of 100 invoices per transaction (2 events per invoice) and
   cross-border payments (3–4 events each), sent as JSON-RPC batches of unlocked-account transactions,
   one `evm_mine` per batch.
2. Backfill: a fresh SQLite database, `Indexer.sync()` from the deployment block to the head, timed.
3. Queries: a real gateway process (uvicorn, API keys, the indexer idle at the head) answering list,
   detail and audit-trail requests over keep-alive HTTP, sequentially; p50/p99 per kind.

Prints a table, then one JSON object with `events`, `backfill_events_per_s`, `query_p50_ms`,
`query_p99_ms` (list and detail requests together) as the last line.
Targets (issue 13): backfill ≥ 5,000 events/s; every query kind p99 < 15 ms; ≤ 3 ms of gateway CPU per read.
On a shared machine compare `gateway_cpu_ms_per_request` and `backfill_events_per_cpu_s` (less sensitive to the
load, which the last line reports) before the wall-clock figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "app"))

from tools.env import use_project_toolchain

use_project_toolchain()

import httpx
from indexer_world import ROLES, IndexerChain, purpose
from sqlalchemy import func, select

INVOICES_PER_TX = 100
TX_PER_BATCH = 20
SELLERS = ("exporter", "supplier1", "supplier2", "supplier3")
PAYERS = (("exporter", "importer"), ("importer", "exporter"), ("supplier3", "supplier1"), ("bank_us", "bank_cn"))


def _send_batch(world: IndexerChain, txs: list[dict]) -> None:
    answers = httpx.post(world.rpc_url, json=[{"jsonrpc": "2.0", "id": n, "method": "eth_sendTransaction",
                                               "params": [tx]} for n, tx in enumerate(txs)], timeout=120).json()
    errors = [a["error"] for a in answers if "error" in a]
    if errors:
        raise RuntimeError(f"send failed: {errors[:3]}")
    world.rpc("evm_mine", [])
    while int(world.rpc("txpool_status", [])["pending"], 16):
        world.rpc("evm_mine", [])


def produce(world: IndexerChain, target_events: int) -> None:
    invoices = world.contracts["InvoiceRegistry"]
    usd = world.token("USD").address
    due = world.now() + 365 * 24 * 3600
    world.rpc("evm_setAutomine", [False])
    now = world.now()
    produced, serial, payments = 0, 0, 0
    payment_budget = target_events // 10  # about a tenth of the events come from payments
    while produced < target_events:
        txs = []
        for n in range(TX_PER_BATCH):
            seller = SELLERS[(serial // INVOICES_PER_TX) % len(SELLERS)]
            batch = []
            for _ in range(INVOICES_PER_TX):
                serial += 1
                batch.append((world.roles["importer"], usd, f"B-{serial}".encode().ljust(32, b"\0"),
                              1_000_00 + serial % 997 * 100, now, due, serial.to_bytes(32, "big")))
            txs.append({"from": world.roles[seller], "to": invoices.address, "gas": hex(14_000_000),
                        "data": invoices.encode_abi("registerBatch", [batch])})
            produced += 2 * INVOICES_PER_TX
        if payments < payment_budget:
            token = world.token("EUR")
            for n in range(100):
                sender, receiver = PAYERS[n % len(PAYERS)]
                txs.append({"from": world.roles[sender], "to": token.address, "gas": hex(200_000),
                            "data": token.encode_abi("transferWithPurpose", [
                                world.roles[receiver], 100 + n, purpose("GDDS"), serial.to_bytes(32, "big")])})
                payments += 3
                produced += 3
        _send_batch(world, txs)
    world.rpc("evm_setAutomine", [True])


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def measure_queries(world: IndexerChain, data_dir: Path, database: Path, rounds: int) -> dict[str, list[float]]:
    from gateway_world import TEST_PASSPHRASE, GatewayProcess, settings_for

    from app.db.index_models import Instrument
    from app.db.session import make_engine
    from app.runner import derive_private_keys, prepare_access

    env = {"TRADEFIN_ENVIRONMENT": "test", "TRADEFIN_RPC_URL": world.rpc_url,
           "TRADEFIN_CHAIN_ID": str(world.w3.eth.chain_id), "TRADEFIN_DATA_DIR": str(data_dir),
           "TRADEFIN_DATABASE_URL": f"sqlite:///{database}", "TRADEFIN_KEYSTORE_PASSPHRASE": TEST_PASSPHRASE,
           "TRADEFIN_KEYSTORE_SCRYPT_N": str(2**12), "TRADEFIN_LOG_LEVEL": "warning"}
    keys = derive_private_keys(ROLES)
    issued = prepare_access(settings_for(env), keys, print_keys=False)
    auth = {role: {"Authorization": f"Bearer {v['api_key']}"} for role, v in issued.items()}
    engine = make_engine(f"sqlite:///{database}")
    with engine.connect() as conn:
        ids = list(conn.execute(select(Instrument.instrument_id, Instrument.details["seller"].as_string())
                                .order_by(func.random()).limit(rounds)).all())
    rng = random.Random(1)
    samples: dict[str, list[float]] = {k: [] for k in ("list (regulator)", "list (party)", "list (filtered)",
                                                       "list (next page)", "detail", "trail")}
    seller_role = {world.address(r): r for r in SELLERS}
    with GatewayProcess(env, log_path=data_dir / "gateway.log") as gateway, \
            httpx.Client(base_url=gateway.url, timeout=30) as http:
        first = http.get("/v1/instruments/invoice", params={"limit": 50}, headers=auth["regulator"]).json()
        cursor = first["next_cursor"]

        def timed(kind: str, path: str, role: str, **params: object) -> None:
            start = time.perf_counter()
            response = http.get(path, params=params, headers=auth[role])
            elapsed = (time.perf_counter() - start) * 1000
            assert response.status_code == 200, response.text
            samples[kind].append(elapsed)

        for _ in range(20):  # warm up
            timed("list (regulator)", "/v1/instruments/invoice", "regulator", limit=50)
        samples["list (regulator)"].clear()
        cpu_before = _process_cpu_seconds(gateway.process.pid)
        for n in range(rounds):
            instrument_id, seller = ids[n % len(ids)]
            role = seller_role.get(seller, "regulator")
            timed("list (regulator)", "/v1/instruments/invoice", "regulator", limit=50)
            timed("list (party)", "/v1/instruments/invoice", rng.choice(SELLERS), limit=50)
            timed("list (filtered)", "/v1/instruments/invoice", "importer", limit=50, state="Registered",
                  currency="USD", sort="-amount")
            timed("list (next page)", "/v1/instruments/invoice", "regulator", limit=50, cursor=cursor)
            timed("detail", f"/v1/instruments/invoice/{instrument_id}", role)
            timed("trail", f"/v1/instruments/invoice/{instrument_id}/trail", role)
        requests = sum(len(v) for v in samples.values())
        samples["_gateway_cpu_ms_per_request"] = [
            (_process_cpu_seconds(gateway.process.pid) - cpu_before) * 1000 / requests]
    return samples


def _process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), to tell work from waiting on a busy machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=300, help="requests per query kind")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tradefin-bench-indexer-") as tmp:
        data_dir = Path(tmp)
        with IndexerChain.start(data_dir, extra_args=("--gas-limit", "400000000")) as world:
            started = time.perf_counter()
            produce(world, args.events)
            produce_s = time.perf_counter() - started
            database = data_dir / "bench.sqlite3"
            indexer = world.indexer(database.name)
            started, cpu_started = time.perf_counter(), time.process_time()
            head = indexer.sync()
            backfill_s, backfill_cpu = time.perf_counter() - started, time.process_time() - cpu_started
            events = indexer.events_indexed
            samples = measure_queries(world, data_dir, database, args.rounds)
    rate = events / backfill_s
    print(f"events produced on Anvil: {events:,} in {produce_s:.1f} s; blocks: {head}")
    print(f"backfill: {events:,} events in {backfill_s:.2f} s = {rate:,.0f} events/s (target ≥ 5,000)")
    print(f"  waiting for the node {indexer.seconds_fetching:.2f} s, decoding and writing "
          f"{indexer.seconds_applying:.2f} s; indexer CPU {backfill_cpu:.2f} s = {events / backfill_cpu:,.0f} events "
          f"per CPU second; machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    gateway_cpu_ms = samples.pop("_gateway_cpu_ms_per_request")[0]
    print(f"{'query':<20}{'n':>6}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for kind, values in samples.items():
        print(f"{kind:<20}{len(values):>6}{statistics.median(values):>10.2f}{percentile(values, 99):>10.2f}"
              f"{max(values):>10.2f}")
    list_and_detail = [v for kind, values in samples.items() if kind != "trail" for v in values]
    p50, p99 = statistics.median(list_and_detail), percentile(list_and_detail, 99)
    print(f"list and detail together: p50 {p50:.2f} ms, p99 {p99:.2f} ms (target: each kind p99 < 15 ms, ≤ 3 ms CPU); "
          f"gateway CPU {gateway_cpu_ms:.2f} ms per request; load average {os.getloadavg()[0]:.1f}")
    print(json.dumps({"events": events, "backfill_events_per_s": round(rate), "backfill_seconds": round(backfill_s, 2),
                      "backfill_events_per_cpu_s": round(events / backfill_cpu), "load_average": round(os.getloadavg()[0], 1),
                      "query_p50_ms": round(p50, 2), "query_p99_ms": round(p99, 2),
                      "gateway_cpu_ms_per_request": round(gateway_cpu_ms, 2), "trail_p99_ms": round(percentile(samples["trail"], 99), 2)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
