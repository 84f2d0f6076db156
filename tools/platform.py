"""`make run`: the local tradefin platform in the foreground until Ctrl-C; `make reset`: start afresh.

    python -m tools.platform run [--port 8545] [--devnet hardhat|anvil] [--redeploy]
    python -m tools.platform reset

`run`:

1. starts the devnet (`tools/devnet.py`, the kind chosen by `bench/devnet.py`) on 127.0.0.1, port 8545 or
   `TRADEFIN_RPC_PORT`, with its chain under `.data/devnet/` so that a restart resumes it;
2. connects Ape to it and deploys the contracts unless this chain's recorded deployment is all there
   (`.data/deployments/<chain_id>.json`). A deployment recorded from another build of the contracts (its
   build fingerprint differs from the artefacts compiled now, see `scripts/_devnet.py`) is not served: `run`
   names what changed, says how to start afresh (`make reset && make run`) and stops with exit code 1;
3. bootstraps the demo world (participants, KYC, settlement-token funding), only what is missing;
4. starts the gateway and the indexer (`start_gateway_and_indexer`, two child processes), prints the RPC URL and
   addresses, and waits, supervising them (`Supervised`): a gateway or indexer that dies (a crash, SIGKILL) is
   restarted alone after 1 s, 2 s, 4 s … (at most 30 s), said on the console, while the devnet keeps running
   and its chain is untouched. After 5 crashes in a row, each within 60 s of its start, `run` gives up with a
   message naming the process, and stops everything (exit code 1).

Ctrl-C (or SIGTERM) stops the gateway and the devnet cleanly; the next run resumes the same chain.

`reset` removes what describes the chain from the data folder (`.data/`, or `TRADEFIN_DATA_DIR`): every
devnet's chain (`devnet/`, `devnet-<kind>/`), the deployment records (`deployments/`), and the gateway's
database (its index of the chain, write journal and API keys) with the file of the demo API keys. Keystores
and stored documents stay: they belong to no chain. It refuses while a devnet holds the data or the RPC
port is in use (stop `make run` first).

Exit codes: 0 stopped cleanly (or reset), 1 the devnet or a deployment step failed, the deployment is stale,
the gateway or indexer kept crashing, or reset refused; 2 usage error.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.env import use_project_toolchain

ROOT = use_project_toolchain()

from scripts._common import DATA_DIR  # `.data/`, or TRADEFIN_DATA_DIR
from scripts._devnet import RESET_COMMAND, StaleDeployment
from tools.devnet import DEFAULT_KIND, JOURNAL_NAME, KINDS, Devnet, port_in_use

DEVNET_DIR = DATA_DIR / "devnet"
DEFAULT_PORT = 8545
# What `reset` removes besides the devnets' folders: the chain's deployment records, and the gateway's database
# (index, write journal, API keys; SQLite with its WAL files) with the file of the demo world's API keys.
CHAIN_BOUND_ENTRIES = ("deployments", "gateway.sqlite3", "gateway.sqlite3-wal", "gateway.sqlite3-shm",
                       "gateway.sqlite3-journal", "gateway-api-keys.json")


def rpc_port() -> int:
    return int(os.environ.get("TRADEFIN_RPC_PORT", DEFAULT_PORT))


def devnet_dir(kind: str) -> Path:
    """Each kind keeps its own chain: a Hardhat journal cannot be read by Anvil, nor the reverse."""
    return DEVNET_DIR if kind == DEFAULT_KIND else DATA_DIR / f"devnet-{kind}"


# ---------------------------------------------------------------------------------------------------------------
# Deployment and demo world, through Ape
# ---------------------------------------------------------------------------------------------------------------


def connect_ape(rpc_url: str) -> Any:
    """An Ape provider context attached to the running devnet (Ape's `node` provider, never starting one)."""
    from ape import networks

    return networks.parse_network_choice("ethereum:local:node", provider_settings={"uri": rpc_url})


def deploy_and_bootstrap(rpc_url: str, redeploy: bool = False) -> dict[str, Any]:
    """Deploy if needed and bootstrap the demo world; returns what to print."""
    from ape import accounts, chain, project

    from scripts._common import accounts_by_role
    from scripts._devnet import bootstrap_demo, demo_roles, ensure_platform

    with connect_ape(rpc_url):
        roles = accounts_by_role(accounts.test_accounts)
        state = ensure_platform(project, chain, roles["operator"], redeploy=redeploy)
        report = bootstrap_demo(state.platform, roles, chain)
        return {
            "chain_id": chain.chain_id,
            "height": chain.blocks.head.number,
            "deployed": state.deployed,
            "reason": state.reason,
            "start_block": state.start_block,
            "contracts": state.platform.addresses(),
            "bootstrap": report,
            "roles": {role: account.address for role, account in demo_roles(roles).items()},
        }


def print_summary(rpc_url: str, summary: dict[str, Any]) -> None:
    print(f"\ntradefin devnet  {rpc_url}  (chain id {summary['chain_id']}, block {summary['height']})")
    action = "deployed" if summary["deployed"] else "reused"
    print(f"contracts {action}: {summary['reason']}")
    for name, address in summary["contracts"].items():
        print(f"  {name:<24} {address}")
    report = summary["bootstrap"]
    if report.changed:
        for label, items in (("registered", report.registered), ("KYC attested", report.kyc_attested),
                             ("funded", report.funded)):
            if items:
                print(f"demo world {label}: {', '.join(items)}")
    else:
        print("demo world already in place")
    print("demo accounts (test mnemonic):")
    for role, address in summary["roles"].items():
        print(f"  {role:<24} {address}")


# ---------------------------------------------------------------------------------------------------------------
# Gateway and indexer
# ---------------------------------------------------------------------------------------------------------------


def start_gateway_and_indexer(rpc_url: str, chain_id: int) -> list[Supervised]:
    """Start the HTTP gateway (127.0.0.1:8000 unless TRADEFIN_PORT) and the indexer against the devnet, as
    two child processes: the indexer in the gateway's process would share its core with the write path
    (`bench/gateway.py --indexer in-process`; figures in app/README.md, "Measured").

    The gateway creates the demo world's keystores and API keys (printed once, kept under the data folder)
    and returns once `/health` reports the chain ready; `run` restarts either when it dies (`Supervised`) and
    stops both (SIGINT, then SIGTERM) before the devnet on Ctrl-C.
    """
    from app.runner import start_gateway_process, start_indexer_process

    gateway = Supervised("gateway", lambda: start_gateway_process(rpc_url, chain_id, indexer_in_process=False))
    indexer = Supervised("indexer", lambda: start_indexer_process(rpc_url, chain_id))
    gateway.start()
    try:
        indexer.start()
    except BaseException:
        gateway.stop()
        raise
    return [gateway, indexer]


@dataclass
class Supervised:
    """A child process of `run`, restarted alone when it dies.

    Restarts wait `backoff` seconds, doubling after each crash in a row up to `max_backoff`. A crash within
    `fast_crash_seconds` of the start counts towards `max_fast_crashes`; a run that lasted longer starts the
    count (and the back-off) afresh. `poll()` answers a message when it gives up, else None.
    """

    name: str
    launch: Callable[[], subprocess.Popen]
    backoff: float = 1.0
    max_backoff: float = 30.0
    fast_crash_seconds: float = 60.0
    max_fast_crashes: int = 5
    process: subprocess.Popen | None = None
    fast_crashes: int = 0
    restarts: int = 0
    started_at: float = 0.0
    restart_at: float | None = None
    _delay: float = field(default=0.0, repr=False)

    def start(self) -> None:
        self.process = self.launch()
        self.started_at = time.monotonic()
        self.restart_at = None
        print(f"{self.name} running (pid {self.process.pid})", flush=True)

    def poll(self) -> str | None:
        now = time.monotonic()
        if self.restart_at is not None:
            if now < self.restart_at:
                return None
            try:
                self.start()
            except Exception as exc:  # noqa: BLE001 - a start that fails is one more crash
                print(f"the {self.name} did not start again: {exc}", file=sys.stderr, flush=True)
                return self._crashed(time.monotonic(), fast=True)
            self.restarts += 1
            print(f"{self.name} restarted ({self.restarts} restart{'s' if self.restarts > 1 else ''} so far); "
                  "the devnet kept running", flush=True)
            return None
        assert self.process is not None
        code = self.process.poll()
        if code is None:
            return None
        how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"
        print(f"the {self.name} (pid {self.process.pid}) {how}", file=sys.stderr, flush=True)
        return self._crashed(now, fast=now - self.started_at < self.fast_crash_seconds)

    def _crashed(self, now: float, fast: bool) -> str | None:
        if fast:
            self.fast_crashes += 1
        else:
            self.fast_crashes, self._delay = 0, 0.0
        if self.fast_crashes >= self.max_fast_crashes:
            return (f"the {self.name} crashed {self.fast_crashes} times in a row, each within "
                    f"{self.fast_crash_seconds:.0f} s of its start: giving up, stopping the platform (see its "
                    "output above)")
        self._delay = min(self.max_backoff, self._delay * 2 if self._delay else self.backoff)
        self.restart_at = now + self._delay
        print(f"restarting the {self.name} in {self._delay:.0f} s; the devnet keeps running", file=sys.stderr,
              flush=True)
        return None

    def stop(self) -> None:
        self.restart_at = None
        stop_child(self.process)


# ---------------------------------------------------------------------------------------------------------------
# run
# ---------------------------------------------------------------------------------------------------------------


def stop_child(process: subprocess.Popen | None, timeout: float = 20.0) -> None:
    if process is None or process.poll() is not None:
        return
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        process.send_signal(sig)
        try:
            process.wait(timeout=timeout)
            return
        except subprocess.TimeoutExpired:
            continue


def _interrupt(_signum: int, _frame: Any) -> None:
    """Ctrl-C and SIGTERM stop `run` cleanly (`import ape` installs a SIGINT handler that exits with 130)."""
    raise KeyboardInterrupt


def quiet_ape() -> None:
    """Import Ape, keep its logging to warnings (not a line per confirmed transaction), and take back SIGINT."""
    import ape  # noqa: F401
    from ape.logging import logger

    logger.set_level("WARNING")
    signal.signal(signal.SIGINT, _interrupt)


def run(port: int, kind: str, redeploy: bool) -> int:
    if port_in_use(port):
        print(f"port {port} on 127.0.0.1 is already in use (another devnet?); stop it or set TRADEFIN_RPC_PORT",
              file=sys.stderr)
        return 1
    data_dir = devnet_dir(kind)
    data_dir.mkdir(parents=True, exist_ok=True)
    devnet = Devnet(kind, data_dir, port)
    children: list[Supervised] = []
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    try:
        log_path = data_dir / "devnet.log"
        with log_path.open("ab") as log:
            try:
                started = devnet.start(log=log)
            except (RuntimeError, TimeoutError) as exc:
                print(f"the devnet did not start: {exc}; see {log_path}", file=sys.stderr)
                return 1
        print(f"{kind} devnet up in {started:.1f} s, chain under {data_dir}/", flush=True)
        quiet_ape()
        try:
            summary = deploy_and_bootstrap(devnet.url, redeploy=redeploy)
        except StaleDeployment as exc:
            print(stale_message(exc, data_dir), file=sys.stderr)
            return 1
        except Exception as exc:  # noqa: BLE001 - report any deployment failure by name and stop the devnet
            print(f"deployment failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
        print_summary(devnet.url, summary)
        children = start_gateway_and_indexer(devnet.url, summary["chain_id"])
        print("\nrunning; Ctrl-C stops (the chain is kept for the next run)", flush=True)
        assert devnet.process is not None
        while devnet.process.poll() is None:
            for child in children:
                given_up = child.poll()
                if given_up is not None:
                    print(given_up, file=sys.stderr, flush=True)
                    return 1
            time.sleep(0.5)
        print(f"the devnet exited with code {devnet.process.returncode}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping...", flush=True)
        return 0
    finally:
        # A second Ctrl-C (or a SIGINT from a wrapper as well as the terminal) must not cut the clean stop short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for child in reversed(children):
            child.stop()
        devnet.stop()


def stale_message(exc: StaleDeployment, data_dir: Path) -> str:
    """What `run` says when the chain holds a deployment of another build."""
    lines = [(f"the chain under {data_dir}/ holds a tradefin deployment built from other contract code than the "
              f"contracts compiled now (recorded in {exc.record_path}):")]
    lines += [f"  {change}" for change in exc.changes]
    lines += [("make run does not serve stale contracts. Start afresh (a new chain, deployment record and gateway "
               "database; keystores and documents stay) with:"),
              f"  {RESET_COMMAND}"]
    return "\n".join(lines)


def _journal_in_use(journal: Path) -> bool:
    """Whether a running devnet holds `journal` (it keeps an exclusive lock on it while it serves)."""
    try:
        fd = os.open(journal, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def reset(port: int, data_dir: Path = DATA_DIR) -> int:
    """Remove the devnets' chains, the deployment records and the gateway's database from `data_dir`."""
    devnets = sorted(p for p in data_dir.glob("devnet*") if p.is_dir()) if data_dir.is_dir() else []
    busy = [d for d in devnets if _journal_in_use(d / JOURNAL_NAME)]
    if busy:
        print(f"a devnet is running on {busy[0]}/: stop `make run` first", file=sys.stderr)
        return 1
    if port_in_use(port):
        print(f"port {port} on 127.0.0.1 is in use (is `make run` still running?): stop it first, or set "
              "TRADEFIN_RPC_PORT to the port of the devnet to reset", file=sys.stderr)
        return 1
    targets = [*devnets, *(data_dir / name for name in CHAIN_BOUND_ENTRIES if (data_dir / name).exists())]
    if not targets:
        print(f"nothing to reset under {data_dir}/")
        return 0
    for target in targets:
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        else:
            target.unlink()
        print(f"removed {target}")
    kept = sorted(p.name for p in data_dir.iterdir()) if data_dir.is_dir() else []
    if kept:
        print(f"kept under {data_dir}/: {', '.join(kept)}")
    print("the next `make run` starts a new chain and deploys the contracts compiled then")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.platform", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="start the devnet, deploy if needed, bootstrap, wait for Ctrl-C")
    run_parser.add_argument("--port", type=int, default=None, help="RPC port (default: TRADEFIN_RPC_PORT or 8545)")
    run_parser.add_argument("--devnet", choices=KINDS, default=DEFAULT_KIND)
    run_parser.add_argument("--redeploy", action="store_true", help="deploy a new platform even if one is recorded")
    reset_parser = sub.add_parser("reset", help="remove the devnet chains, deployment records and gateway database")
    reset_parser.add_argument("--port", type=int, default=None, help="RPC port (default: TRADEFIN_RPC_PORT or 8545)")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return 0 if exc.code == 0 else 2
    if args.command == "reset":
        return reset(args.port or rpc_port())
    return run(args.port or rpc_port(), args.devnet, args.redeploy)


if __name__ == "__main__":
    raise SystemExit(main())
