"""Devnets write only inside their data folder: running, mining and stopping either kind leaves nothing under
the home folder (Anvil's default per-block snapshots under ~/.foundry/anvil/tmp once filled the disk).

`make test` also runs `python -m tools.home_check` around every suite."""

from __future__ import annotations

import pytest

from tools.devnet import KINDS, Devnet, JsonRpcClient, free_port
from tools.home_check import differences, listing


@pytest.mark.parametrize("kind", KINDS)
def test_devnet_leaves_nothing_under_the_home_folder(kind, tmp_path):
    before = listing()
    devnet = Devnet(kind, tmp_path / "chain", free_port())
    devnet.start()
    try:
        client = JsonRpcClient(devnet.url)
        for _ in range(20):
            client.call("evm_mine")
        assert int(client.call("eth_blockNumber"), 16) == 20
        client.close()
    finally:
        devnet.stop()
    devnet.start()  # a restart on the same data
    devnet.stop()
    assert differences(before, listing()) == []
    assert any((tmp_path / "chain").iterdir()), "the chain is kept in its data folder"


def test_home_check_reports_new_and_grown_files(tmp_path):
    (tmp_path / ".foundry" / "anvil" / "tmp").mkdir(parents=True)
    before = listing(tmp_path)
    (tmp_path / ".foundry" / "anvil" / "tmp" / "snapshot-1").write_bytes(b"x" * 10)
    (tmp_path / "stray.log").write_text("x")
    assert differences(before, listing(tmp_path)) == ["new: ~/.foundry/anvil/tmp/snapshot-1", "new: ~/stray.log"]
