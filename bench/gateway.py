"""Gateway throughput and latency against the raw ceiling of the same fresh Anvil, in one run.

Run: .venv/bin/python bench/gateway.py [--requests-per-level N]

(a) raw ceiling: pre-signed token payments sent to Anvil in JSON-RPC batches of 100, until the last
    receipt; (b) the gateway (its own process, uvloop + httptools): HTTP payments from 1, 16 and 64
    concurrent clients, each request timed until its answer (which comes after the receipt).

The write measured is an invoice registration (`POST /v1/invoices` → InvoiceRegistry.register, a new
ERC-721 token and storage slot each), both pre-signed for the raw ceiling and through the gateway. Prints a table, then one JSON
object as the last line: raw_tps, gateway_tps_1, gateway_tps_16, gateway_tps_64, ratio_64, p50_ms_1,
p99_ms_64 (target: ratio_64 ≥ 0.5, p99_ms_64 < 250, p50_ms_1 < 10).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "app"))

from tools.env import use_project_toolchain  # noqa: E402

ROOT = use_project_toolchain()

SELLERS = ("exporter", "importer", "supplier1", "supplier2", "supplier3", "exporter2")
RAW_BATCH = 100


async def raw_ceiling(world, count: int) -> float:
    """Pre-sign `count` invoice registrations from one corporate, send them in batches of 100, and wait
    for the last receipt."""
    import aiohttp
    from eth_account import Account
    from eth_utils import keccak

    from app.chain.abi import AbiRegistry
    from app.runner import derive_private_keys
    from scripts._common import TEST_ROLES

    abi = AbiRegistry.from_build(ROOT / ".build" / "__local__.json")
    register = abi.function("InvoiceRegistry", "register")
    key = derive_private_keys(TEST_ROLES)["exporter2"]
    sender = Account.from_key(key)
    registry = world.addresses["InvoiceRegistry"]
    token = world.addresses["SettlementTokenUSD"]
    due = int(time.time()) + 365 * 86_400
    async with aiohttp.ClientSession() as session:
        async def rpc(payload):
            async with session.post(world.rpc_url, json=payload) as response:
                return await response.json()

        nonce = int((await rpc({"jsonrpc": "2.0", "id": 1, "method": "eth_getTransactionCount",
                                "params": [sender.address, "pending"]}))["result"], 16)
        raws = []
        for n in range(count):
            data = register.encode((world.roles["supplier3"], token, keccak(text=f"raw-{n}"), 1000, 0, due,
                                    keccak(text=f"doc-{n}")))
            signed = sender.sign_transaction({"type": 2, "chainId": world.chain_id, "nonce": nonce + n,
                                              "to": registry, "value": 0, "data": data, "gas": 250_000,
                                              "maxFeePerGas": 2 * 10**9, "maxPriorityFeePerGas": 10**9})
            raws.append("0x" + bytes(signed.raw_transaction).hex())
        last_hash = "0x" + bytes(signed.hash).hex()
        started = time.perf_counter()
        for start in range(0, count, RAW_BATCH):
            batch = [{"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction", "params": [raw]}
                     for i, raw in enumerate(raws[start : start + RAW_BATCH])]
            answers = await rpc(batch)
            errors = [a["error"] for a in answers if "error" in a]
            if errors:
                raise RuntimeError(f"raw send refused: {errors[0]}")
        while True:
            answer = await rpc({"jsonrpc": "2.0", "id": 1, "method": "eth_getTransactionReceipt",
                                "params": [last_hash]})
            if answer.get("result"):
                break
            await asyncio.sleep(0.001)
        return count / (time.perf_counter() - started)


async def gateway_level(url: str, world, clients: int, total: int, tag: str) -> tuple[float, list[float]]:
    import aiohttp

    latencies: list[float] = []
    counter = iter(range(total))
    due = int(time.time()) + 365 * 86_400
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(base_url=url, connector=connector) as session:
        async def client(index: int) -> None:
            seller = SELLERS[index % len(SELLERS)]
            to = world.roles[SELLERS[(index + 1) % len(SELLERS)]]
            headers = world.auth(seller)
            for n in counter:
                body = {"buyer": to, "currency": "USD", "invoice_number": f"{tag}-{n}", "face_amount": 1000,
                        "issue_date": 0, "due_date": due, "document_hash": "0x" + f"{n:064x}"}
                t0 = time.perf_counter()
                async with session.post("/v1/invoices", json=body,
                                        headers=headers | {"Idempotency-Key": f"{tag}-{n}"}) as response:
                    await response.read()
                    if response.status != 201:
                        raise RuntimeError(f"gateway answered {response.status}: {await response.text()}")
                latencies.append((time.perf_counter() - t0) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(client(i) for i in range(clients)))
        elapsed = time.perf_counter() - started
    return total / elapsed, latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--raw", type=int, default=1000, help="pre-signed transactions for the raw ceiling")
    parser.add_argument("--requests", type=int, default=1500, help="requests per concurrency level (16, 64)")
    parser.add_argument("--sqlite-synchronous", choices=("FULL", "NORMAL"), default="FULL",
                        help="the gateway's SQLite durability (FULL: survives a power cut; NORMAL: a crash)")
    args = parser.parse_args()

    from gateway_world import GatewayProcess, anvil_world, own_anvil

    from ape.logging import logger

    rows = []
    with (tempfile.TemporaryDirectory(prefix="tradefin-bench-") as tmp, own_anvil() as anvil_url,
          anvil_world(Path(tmp), anvil_url) as world):
        raw = asyncio.run(raw_ceiling(world, args.raw))
        rows.append(("raw ceiling (batches of 100)", raw, None, None))
        results = {}
        env = world.env(TRADEFIN_SQLITE_SYNCHRONOUS=args.sqlite_synchronous)
        with GatewayProcess(env, log_path=Path(tmp) / "gateway.log") as gateway:
            asyncio.run(gateway_level(gateway.url, world, 4, 100, "warmup"))
            for clients in (1, 16, 64):
                total = max(300, args.requests // 4) if clients == 1 else args.requests
                tps, latencies = asyncio.run(gateway_level(gateway.url, world, clients, total, f"c{clients}"))
                results[clients] = (tps, latencies)
                rows.append((f"gateway, {clients} clients", tps, percentile(latencies, 0.5),
                             percentile(latencies, 0.99)))
        logger.set_level("ERROR")

    print(f"{'measure':<32} {'tx/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for name, tps, p50, p99 in rows:
        print(f"{name:<32} {tps:>8.0f} {'' if p50 is None else f'{p50:.1f}':>8} {'' if p99 is None else f'{p99:.1f}':>8}")
    figures = {
        "raw_tps": round(raw, 1),
        "gateway_tps_1": round(results[1][0], 1),
        "gateway_tps_16": round(results[16][0], 1),
        "gateway_tps_64": round(results[64][0], 1),
        "ratio_64": round(results[64][0] / raw, 3),
        "p50_ms_1": round(statistics.median(results[1][1]), 2),
        "p99_ms_64": round(percentile(results[64][1], 0.99), 2),
        "write": "invoice registration",
        "sqlite_synchronous": args.sqlite_synchronous,
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
