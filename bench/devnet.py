"""Which devnet stays fast for days of use: measured, candidate by candidate.

Run: .venv/bin/python bench/devnet.py [--fill 20000] [--samples 1000] [--only hardhat|anvil]

For each candidate (Hardhat 3 behind the recording proxy of `tools/devnet.py`, and Anvil with
`--hardfork cancun --prune-history --state FILE`), on a free loopback port with its data in a temporary
folder that is removed afterwards:

1. sequential tx/s on a fresh chain (after `--warmup` transactions): send one signed registration and read its
   receipt, over one raw keep-alive JSON-RPC connection (no web3.py receipt poll), `--samples` times, timed in
   chunks of 100 (the figure is the median chunk: the machine's cores are shared);
2. `--fill` registrations (each a new storage slot and an event, like registering an invoice) sent in
   JSON-RPC batches, then sequential tx/s again (after `--warmup` transactions, as in 1: Hardhat is slower for
   a while right after the burst);
3. stop, start again on the same data, time until it answers and the state is there (block height and the
   registry's count), then sequential tx/s after the restart (after `--warmup` transactions, as in 1).

Prints a table; the last line is one JSON object: `tx_s_fresh`, `tx_s_after_20000`, `restart_s` (and the
rest) for the devnet `make run` uses (`tools.devnet.DEFAULT_KIND`), plus every candidate's figures under
`candidates`, and whether the chosen one meets the target (after ≥ 0.7 × fresh, restart < 60 s).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.env import use_project_toolchain

ROOT = use_project_toolchain()

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address

from tools.devnet import CHAIN_ID, DEFAULT_KIND, KINDS, TEST_MNEMONIC, Devnet, JsonRpcClient, free_port

# A registry of invoice-like records: every registration adds a storage slot and emits an event.
INVOICE_BOOK_SOURCE = """// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

contract InvoiceBook {
    event Registered(bytes32 indexed key, address indexed seller);

    mapping(bytes32 key => address seller) public sellerOf;
    uint256 public count;

    function register(bytes32 key) external {
        require(sellerOf[key] == address(0), "duplicate");
        sellerOf[key] = msg.sender;
        count += 1;
        emit Registered(key, msg.sender);
    }
}
"""
REGISTER_GAS = 120_000
MAX_FEE, PRIORITY_FEE = 50 * 10**9, 10**9
FILL_BATCH = 200
SAMPLE_CHUNK = 100  # sequential transactions per timed chunk; a sample's figure is the median chunk
# Transactions per block while filling. Hardhat: one per block (automine), the way a devnet is used and the
# hardest history to replay. Anvil: whole batches per block, because with automine its fill slows down past a
# few thousand blocks (figures in app/README.md, "Measured"); the state it ends with is the same 20,000
# registrations.
FILL_TX_PER_BLOCK = {"hardhat": 1, "anvil": FILL_BATCH}
TARGET_RATIO, TARGET_RESTART_S = 0.7, 60.0


def compile_invoice_book() -> tuple[str, str]:
    """Creation bytecode and the `count()` selector of InvoiceBook, compiled by the project's solc shim."""
    import solcx

    solc = ROOT / "tools" / "bin" / "solc"
    out = solcx.compile_standard({
        "language": "Solidity",
        "sources": {"InvoiceBook.sol": {"content": INVOICE_BOOK_SOURCE}},
        "settings": {"optimizer": {"enabled": True, "runs": 200}, "evmVersion": "cancun",
                     "outputSelection": {"*": {"*": ["evm.bytecode.object"]}}},
    }, solc_binary=str(solc))
    bytecode = out["contracts"]["InvoiceBook.sol"]["InvoiceBook"]["evm"]["bytecode"]["object"]
    return "0x" + bytecode, "0x" + keccak(text="count()")[:4].hex()


class Registrar:
    """One sender that owns its nonces, signing registrations for the InvoiceBook."""

    def __init__(self, account: LocalAccount, client: JsonRpcClient):
        self.account, self.client = account, client
        self.nonce = int(client.call("eth_getTransactionCount", [account.address, "latest"]), 16)
        self.book: str | None = None
        self._serial = 0

    def _sign(self, to: str | None, data: str, gas: int) -> str:
        tx = {"type": 2, "chainId": CHAIN_ID, "nonce": self.nonce, "gas": gas, "maxFeePerGas": MAX_FEE,
              "maxPriorityFeePerGas": PRIORITY_FEE, "value": 0, "data": data}
        if to is not None:
            tx["to"] = to
        self.nonce += 1
        return "0x" + self.account.sign_transaction(tx).raw_transaction.hex().removeprefix("0x")

    def deploy(self, bytecode: str) -> str:
        tx_hash = self.client.call("eth_sendRawTransaction", [self._sign(None, bytecode, 1_000_000)])
        receipt = wait_receipt(self.client, tx_hash)
        self.book = to_checksum_address(receipt["contractAddress"])
        return self.book

    def registrations(self, count: int) -> list[str]:
        selector = keccak(text="register(bytes32)")[:4]
        signed = []
        for _ in range(count):
            self._serial += 1
            key = keccak(text=f"{self.account.address}:invoice:{self._serial}")
            signed.append(self._sign(self.book, "0x" + (selector + key).hex(), REGISTER_GAS))
        return signed


def wait_receipt(client: JsonRpcClient, tx_hash: str, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        receipt = client.call("eth_getTransactionReceipt", [tx_hash])
        if receipt is not None:
            if receipt["status"] != "0x1":
                raise RuntimeError(f"transaction {tx_hash} reverted")
            return receipt
        if time.monotonic() > deadline:
            raise TimeoutError(f"no receipt for {tx_hash} within {timeout} s")


def sequential_tx_s(client: JsonRpcClient, registrar: Registrar, samples: int) -> float:
    """Transactions per second, each sent and its receipt read before the next is sent: the median over
    chunks of `SAMPLE_CHUNK`, so that a burst of load from other processes on the shared cores does not
    decide the figure."""
    signed = registrar.registrations(samples)
    rates = []
    for start in range(0, samples, SAMPLE_CHUNK):
        chunk = signed[start:start + SAMPLE_CHUNK]
        started = time.perf_counter()
        for raw in chunk:
            wait_receipt(client, client.call("eth_sendRawTransaction", [raw]))
        rates.append(len(chunk) / (time.perf_counter() - started))
    return statistics.median(rates)


def fill(client: JsonRpcClient, registrar: Registrar, count: int, one_per_block: bool) -> tuple[float, int]:
    """Send `count` registrations in JSON-RPC batches, each in its own block (automine) or a batch per block
    (automine off, `evm_mine` after each batch: Anvil runs a batch's calls concurrently, so the switches are
    separate calls); (tx/s, stalls recovered by `evm_mine`)."""
    stalls = 0
    started = time.perf_counter()
    if not one_per_block:
        client.call("evm_setAutomine", [False])
    for start in range(0, count, FILL_BATCH):
        signed = registrar.registrations(min(FILL_BATCH, count - start))
        answers = client.batch(("eth_sendRawTransaction", [raw]) for raw in signed)
        errors = [a["error"] for a in answers if "error" in a]
        if errors:
            raise RuntimeError(f"batch refused: {errors[:3]}")
        if not one_per_block:
            client.call("evm_mine")
        try:
            wait_receipt(client, answers[-1]["result"], timeout=10)
        except TimeoutError:  # Anvil's automine can strand a burst (TOOLCHAIN.md): mine it out
            stalls += 1
            client.call("evm_mine")
            wait_receipt(client, answers[-1]["result"], timeout=30)
    if not one_per_block:
        client.call("evm_setAutomine", [True])
    return count / (time.perf_counter() - started), stalls


def book_count(client: JsonRpcClient, book: str, count_selector: str) -> int:
    return int(client.call("eth_call", [{"to": book, "data": count_selector}, "latest"]), 16)


def wait_state(client: JsonRpcClient, book: str, count_selector: str, height: int, count: int,
               timeout: float) -> None:
    """Until the restarted chain is at `height` with `count` registrations."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if (int(client.call("eth_blockNumber"), 16) == height
                    and book_count(client, book, count_selector) == count):
                return
        except Exception:  # noqa: BLE001 - a node still loading answers errors; keep asking until the deadline
            client.close()
        if time.monotonic() > deadline:
            raise TimeoutError("state not restored after restart")
        time.sleep(0.02)


@dataclass
class Figures:
    devnet: str
    tx_s_fresh: float
    fill_tx_s: float
    fill_stalls: int
    tx_s_after_20000: float
    stop_s: float
    restart_s: float
    tx_s_after_restart: float
    data_mb: float
    filled: int
    fill_tx_per_block: int


def data_size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and "home" not in p.parts) / 1e6


def measure(kind: str, bytecode: str, count_selector: str, fill_count: int, samples: int, warmup: int) -> Figures:
    workdir = Path(tempfile.mkdtemp(prefix=f"tradefin-bench-{kind}-", dir=ROOT / ".cache"))
    devnet = Devnet(kind, workdir / "data", free_port())
    try:
        devnet.start()
        client = JsonRpcClient(devnet.url)
        Account.enable_unaudited_hdwallet_features()
        registrar = Registrar(Account.from_mnemonic(TEST_MNEMONIC, account_path="m/44'/60'/0'/0/9"), client)
        book = registrar.deploy(bytecode)
        sequential_tx_s(client, registrar, warmup)  # first requests pay for connection set-up and JIT warm-up
        tx_s_fresh = sequential_tx_s(client, registrar, samples)
        fill_tx_s, stalls = fill(client, registrar, fill_count, FILL_TX_PER_BLOCK[kind] == 1)
        sequential_tx_s(client, registrar, warmup)  # every sample starts after the same warm-up
        tx_s_after = sequential_tx_s(client, registrar, samples)
        height = int(client.call("eth_blockNumber"), 16)
        count = book_count(client, book, count_selector)
        client.close()

        started = time.monotonic()
        devnet.stop()
        stop_s = time.monotonic() - started
        started = time.monotonic()
        devnet.start()
        wait_state(client, book, count_selector, height, count, timeout=300)
        restart_s = time.monotonic() - started
        registrar.nonce = int(client.call("eth_getTransactionCount", [registrar.account.address, "latest"]), 16)
        sequential_tx_s(client, registrar, warmup)  # as on the fresh chain
        tx_s_restart = sequential_tx_s(client, registrar, samples)
        client.close()
        devnet.stop()
        return Figures(kind, round(tx_s_fresh, 1), round(fill_tx_s, 1), stalls, round(tx_s_after, 1),
                       round(stop_s, 2), round(restart_s, 2), round(tx_s_restart, 1),
                       round(data_size_mb(workdir / "data"), 1), count, FILL_TX_PER_BLOCK[kind])
    finally:
        devnet.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def meets_target(f: Figures) -> bool:
    return f.tx_s_after_20000 >= TARGET_RATIO * f.tx_s_fresh and f.restart_s < TARGET_RESTART_S


def print_table(results: list[Figures]) -> None:
    header = (f"{'devnet':<10}{'fresh tx/s':>12}{'fill tx/s':>11}{'stalls':>8}{'after fill':>12}{'ratio':>7}"
              f"{'stop s':>8}{'restart s':>11}{'after restart':>15}{'data MB':>9}  target")
    print(header)
    for f in results:
        print(f"{f.devnet:<10}{f.tx_s_fresh:>12.1f}{f.fill_tx_s:>11.1f}{f.fill_stalls:>8}{f.tx_s_after_20000:>12.1f}"
              f"{f.tx_s_after_20000 / f.tx_s_fresh:>7.2f}{f.stop_s:>8.2f}{f.restart_s:>11.2f}"
              f"{f.tx_s_after_restart:>15.1f}{f.data_mb:>9.1f}  {'met' if meets_target(f) else 'MISSED'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fill", type=int, default=20_000, help="registrations between the two speed samples")
    parser.add_argument("--samples", type=int, default=1_000, help="sequential transactions per speed sample")
    parser.add_argument("--warmup", type=int, default=200, help="sequential transactions before the fresh sample")
    parser.add_argument("--only", choices=KINDS, help="measure one candidate")
    args = parser.parse_args(argv)

    (ROOT / ".cache").mkdir(exist_ok=True)
    load_before = os.getloadavg()[0]
    bytecode, count_selector = compile_invoice_book()
    kinds = [args.only] if args.only else list(KINDS)
    results = []
    for kind in kinds:
        results.append(measure(kind, bytecode, count_selector, args.fill, args.samples, args.warmup))
        print(f"measured {kind}: {json.dumps(asdict(results[-1]))}", flush=True)
    print(f"fill: {args.fill} registrations in batches of {FILL_BATCH} (tx per block: {FILL_TX_PER_BLOCK}); samples: {args.samples} sequential "
          f"send+receipt; target: after fill >= {TARGET_RATIO} x fresh, restart < {TARGET_RESTART_S:.0f} s")
    print(f"load average (1 min) on this {os.cpu_count()}-core machine: {load_before:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after: other processes share these cores, so compare rows of one run")
    print_table(results)
    chosen = next((f for f in results if f.devnet == DEFAULT_KIND), results[0])
    summary: dict[str, Any] = {**asdict(chosen), "chosen": chosen.devnet, "meets_target": meets_target(chosen),
                               "fill": args.fill, "samples": args.samples,
                               "load_avg_1m": [round(load_before, 1), round(os.getloadavg()[0], 1)],
                               "candidates": {f.devnet: asdict(f) for f in results}}
    print(json.dumps(summary))
    return 0 if meets_target(chosen) else 1


if __name__ == "__main__":
    raise SystemExit(main())
