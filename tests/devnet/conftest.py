"""Fixtures for the devnet tests: a devnet of the kind `make run` uses, on a free port, its chain and the
recorded deployments in a temporary folder (never the project's `.data/`); and one `make run` shared by the
tests of what its first start does (`made_run`)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

import scripts._common as common
from tools.devnet import DEFAULT_KIND, Devnet, free_port

# A first start of `make run` (devnet, deployment, demo world, keys, gateway) costs about 15 s of two cores.
# The suite makes one (`made_run`) for the tests that read what a first start did or act on a running platform;
# those that stop it (`@pytest.mark.stops_made_run`: resume it, tamper with its record, reset it) run last.
FIRST_START_TIMEOUT = 300.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("stops_made_run") is not None)  # stable: order kept


@pytest.fixture(scope="session")
def made_run(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """`make run`'s program after its first start in a fresh data folder, running (its output so far in
    `.output`); stopped at the end of the session unless a test stopped it."""
    from test_platform_supervision import READY_LINE, Platform

    platform = Platform(tmp_path_factory.mktemp("made-run"), free_port(), free_port())
    try:
        platform.wait_for(READY_LINE, timeout=FIRST_START_TIMEOUT)
    except BaseException:
        platform.stop()
        raise
    yield platform
    if platform.process.poll() is None:
        assert platform.stop() == 0, "".join(platform.output)


@pytest.fixture
def deployments_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Deployment records of this test only."""
    folder = tmp_path / "deployments"
    monkeypatch.setattr(common, "DEPLOYMENTS_DIR", folder)
    return folder


@pytest.fixture
def devnet(tmp_path: Path, deployments_dir: Path) -> Iterator[Devnet]:
    """A fresh devnet; the test may stop and start it again on the same chain."""
    node = Devnet(DEFAULT_KIND, tmp_path / "chain", free_port())
    node.start()
    try:
        yield node
    finally:
        node.stop()


@contextlib.contextmanager
def _connected(url: str) -> Iterator[None]:
    from ape import networks

    with networks.parse_network_choice("ethereum:local:node", provider_settings={"uri": url},
                                       disconnect_after=True):
        yield


@pytest.fixture
def connect():
    """`with connect(url):` attaches Ape to the devnet at `url` for the duration of the block."""
    return _connected
