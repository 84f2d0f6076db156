"""A fresh Anvil with the test world deployed, and a gateway process in front of it (tests and bench).

    with anvil_world(data_dir) as world:          # Ape's foundry provider: fresh Anvil, pruned history
        with GatewayProcess(world.settings_env, port) as gateway:
            httpx.post(gateway.url + "/v1/payments", headers=world.auth("exporter") | {...}, json=...)
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import httpx

ROOT = Path(__file__).resolve().parents[2]
TEST_PASSPHRASE = "gateway-test-passphrase-not-secret"


# The helpers' own HTTP calls (polling a starting node or gateway, raw JSON-RPC) share one client: `httpx.get` and
# `httpx.post` build a client per call, and each loads the CA bundle, ~20 ms of CPU even for http://127.0.0.1
# (over a thousand calls in the gateway suite).
LOCAL_HTTP = httpx.Client(timeout=60.0)


def node_rpc(url: str, method: str, params: list[Any], timeout: float = 60.0) -> Any:
    """One raw JSON-RPC call to the node at `url`; its error raised as RuntimeError."""
    answer = LOCAL_HTTP.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params},
                             timeout=timeout).json()
    if "error" in answer:
        raise RuntimeError(answer["error"])
    return answer["result"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class World:
    data_dir: Path
    rpc_url: str
    chain_id: int
    addresses: dict[str, str]  # deployed contract name → address
    roles: dict[str, str]  # role → account address
    api_keys: dict[str, str]  # role → API key
    provider: Any = None
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self, **overrides: str) -> dict[str, str]:
        env = {
            "TRADEFIN_ENVIRONMENT": "test",
            "TRADEFIN_RPC_URL": self.rpc_url,
            "TRADEFIN_CHAIN_ID": str(self.chain_id),
            "TRADEFIN_DATA_DIR": str(self.data_dir),
            "TRADEFIN_KEYSTORE_PASSPHRASE": TEST_PASSPHRASE,
            "TRADEFIN_KEYSTORE_SCRYPT_N": str(2**12),
            "TRADEFIN_LOG_LEVEL": "warning",
        }
        env.update(self.extra_env)
        env.update(overrides)
        return env

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_keys[role]}"}


def settings_for(env: dict[str, str]):  # type: ignore[no-untyped-def]
    from app.core.config import Settings

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return Settings()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _die_with_parent() -> None:
    """Linux PR_SET_PDEATHSIG: the child gets SIGTERM when its parent dies, even by SIGKILL."""
    import ctypes

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


@contextlib.contextmanager
def own_anvil() -> Iterator[str]:
    """The project's Anvil (pruned history, cancun) on a free port, without Ape's `--steps-tracing`,
    which costs throughput; stopped and its temporary HOME removed on exit."""
    import tempfile

    port = free_port()
    with tempfile.TemporaryDirectory(prefix="tradefin-anvil-") as home:
        process = subprocess.Popen(
            [str(ROOT / "tools" / "bin" / "anvil"), "--port", str(port), "--accounts", "12", "--mnemonic",
             "test test test test test test test test test test test junk", "--hardfork", "cancun", "--silent"],
            env={**os.environ, "HOME": home}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent)  # noqa: PLW1509  (PR_SET_PDEATHSIG has no Popen argument)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    LOCAL_HTTP.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
                                    timeout=1)
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise RuntimeError("anvil did not start") from None
                    time.sleep(0.05)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


@contextlib.contextmanager
def anvil_world(data_dir: Path, anvil_url: str | None = None) -> Iterator[World]:
    """A fresh Anvil (Ape's foundry provider on a free port, or the node at `anvil_url`), the test world
    deployed and recorded in `data_dir/deployments/<chain id>.json`, keystores and API keys for every
    role but `outsider`."""
    from ape import accounts, chain, networks, project

    from app.demo_world import RELAYER, RELAYER_ROLES
    from app.runner import derive_private_keys, prepare_access
    from scripts._common import TEST_ROLES, accounts_by_role, deploy_test_world

    settings = {"host": anvil_url} if anvil_url else None
    with networks.parse_network_choice("ethereum:local:foundry", provider_settings=settings) as provider:
        roles = accounts_by_role(accounts.test_accounts)
        start = chain.blocks.head.number
        platform = deploy_test_world(project, chain, roles)
        deployments = data_dir / "deployments"
        deployments.mkdir(parents=True, exist_ok=True)
        (deployments / f"{chain.chain_id}.json").write_text(json.dumps(
            {"chain_id": chain.chain_id, "start_block": start, "contracts": platform.addresses()}))
        world = World(data_dir, provider.http_uri, chain.chain_id, platform.addresses(),
                      {r: str(a.address) for r, a in roles.items()}, {}, provider)
        keyed_roles = tuple(r for r in TEST_ROLES if r != "outsider")
        keys = derive_private_keys(RELAYER_ROLES)
        settings = settings_for(world.env())
        issued = prepare_access(settings, {r: keys[r] for r in keyed_roles}, print_keys=False)
        world.api_keys = {r: v["api_key"] for r, v in issued.items()}
        world.extra_env["TRADEFIN_RELAYERS"] = json.dumps([add_relayer(settings, keys[RELAYER], provider)])
        yield world


def add_relayer(settings: Any, private_key: str, provider: Any) -> str:
    """The gateway's relayer of signed requests: its keystore beside the participants' and 100 ETH for gas."""
    from app.chain.signer import KeystoreDirectory

    keystores = KeystoreDirectory(settings.keystore_dir, settings.keystore_passphrase.get_secret_value(),
                                  settings.keystore_scrypt_n)
    address = keystores.create(private_key)
    provider.make_request("anvil_setBalance", [address, hex(100 * 10**18)])
    return address


class GatewayProcess:
    """`python -m app.runner` as a child process; `kill()` sends SIGKILL."""

    def __init__(self, env: dict[str, str], port: int | None = None, log_path: Path | None = None) -> None:
        self.port = port or free_port()
        self.env = {**os.environ, **env, "TRADEFIN_PORT": str(self.port), "TRADEFIN_HOST": "127.0.0.1"}
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0, wait_for_chain: bool = True) -> GatewayProcess:
        # The child keeps its own copy of the log's descriptor: ours closes at once.
        with open(self.log_path, "ab") if self.log_path else contextlib.nullcontext(subprocess.DEVNULL) as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app.runner"], cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent)  # noqa: PLW1509  (PR_SET_PDEATHSIG has no Popen argument)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gateway exited with {self.process.returncode} (log: {self.log_path})")
            try:
                health = LOCAL_HTTP.get(self.url + "/health", timeout=1.0)
                if health.status_code == 200 and (health.json()["chain_ready"] or not wait_for_chain):
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("gateway did not become ready")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
