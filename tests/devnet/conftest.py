"""Fixtures for the devnet tests: a devnet of the kind `make run` uses, on a free port, its chain and the
recorded deployments in a temporary folder (never the project's `.data/`)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

import scripts._common as common
from tools.devnet import DEFAULT_KIND, Devnet, free_port


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
