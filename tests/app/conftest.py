"""Gateway tests run end to end: a fresh Anvil (Ape's foundry provider) with the test world deployed,
and the gateway as a real process (`python -m app.runner`) in front of it."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from gateway_world import GatewayProcess, World, anvil_world, own_anvil


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The project's Anvil (pruned history, cancun, no step tracing) on a free port; Ape connects to it
    to deploy the test world."""
    with own_anvil() as url, anvil_world(tmp_path_factory.mktemp("gateway-data"), url) as w:
        yield w


@pytest.fixture(scope="session")
def gateway(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    log = tmp_path_factory.mktemp("gateway-log") / "gateway.log"
    with GatewayProcess(world.env(), log_path=log) as process:
        yield process


@pytest.fixture(scope="session")
def http(gateway: GatewayProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway.url, timeout=60.0) as client:
        yield client


# `--dist loadfile` hands whole modules to the workers in collection order: the longest modules go first
# (longest-processing-time first), so the suite does not end with one worker deep in a long module while the
# others idle. Durations from `pytest tests/app -n 2 --dist loadfile --durations=45`.
LONGEST_FIRST = ("test_schema_fuzz.py", "test_signed_requests.py", "test_chain_robustness.py", "test_exactly_once.py",
                 "test_demo_script.py", "test_read_states.py", "test_indexer.py", "test_files_on_disk.py",
                 "test_runner.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: n for n, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: each module's order kept


_keys = itertools.count()


def idem() -> dict[str, str]:
    """A fresh Idempotency-Key header."""
    return {"Idempotency-Key": f"test-{next(_keys)}-{uuid.uuid4()}"}


class Api:
    """Calls as a role: `api.post("exporter", "/v1/payments", json=...)`."""

    def __init__(self, http: httpx.Client, world: World) -> None:
        self.http, self.world = http, world

    def get(self, role: str, path: str, **kw: Any) -> httpx.Response:
        return self.http.get(path, headers=self.world.auth(role), **kw)

    def post(self, role: str, path: str, key: str | None = None, **kw: Any) -> httpx.Response:
        headers = self.world.auth(role) | ({"Idempotency-Key": key} if key else idem()) | kw.pop("headers", {})
        return self.http.post(path, headers=headers, **kw)

    def delete(self, role: str, path: str, **kw: Any) -> httpx.Response:
        return self.http.delete(path, headers=self.world.auth(role), **kw)


@pytest.fixture(scope="session")
def api(http: httpx.Client, world: World) -> Api:
    return Api(http, world)


# Ape's pytest plugin snapshots the chain around every test and reverts it afterwards. The gateway is a
# separate process that owns its signers' nonces, so the chain must only move forward here: these
# fixtures replace Ape's isolation with nothing for the gateway tests.
def _no_isolation(scope: str):  # type: ignore[no-untyped-def]
    @pytest.fixture(scope=scope, name=f"_{scope}_isolation")
    def _fixture() -> Iterator[None]:
        yield

    return _fixture


for _scope in ("session", "package", "module", "class", "function"):
    globals()[f"_{_scope}_isolation"] = _no_isolation(_scope)
