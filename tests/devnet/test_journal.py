"""The Hardhat devnet's journal: what it records, how it survives a crash, and that a replay rebuilds the same
chain even through snapshots, reverts, time travel and failed transactions."""

from __future__ import annotations

import json

import pytest
from eth_account import Account
from eth_utils import to_checksum_address

from tools.devnet import (
    CHAIN_ID,
    TEST_MNEMONIC,
    Devnet,
    Journal,
    JournalBusy,
    JsonRpcClient,
    RpcError,
    free_port,
)

Account.enable_unaudited_hdwallet_features()
SENDER = Account.from_mnemonic(TEST_MNEMONIC, account_path="m/44'/60'/0'/0/15")
# Creation code of a contract whose every call reverts: PUSH1 0 PUSH1 0 REVERT as runtime code.
ALWAYS_REVERTS = "0x6005600c60003960056000f360006000fd"


def signed(nonce: int, to: str | None, value: int = 0, data: str = "0x", gas: int = 100_000) -> str:
    tx = {"type": 2, "chainId": CHAIN_ID, "nonce": nonce, "gas": gas, "maxFeePerGas": 50 * 10**9,
          "maxPriorityFeePerGas": 10**9, "value": value, "data": data}
    if to is not None:
        tx["to"] = to
    return SENDER.sign_transaction(tx).raw_transaction.to_0x_hex()


def head(client: JsonRpcClient) -> tuple[str, str, str]:
    block = client.call("eth_getBlockByNumber", ["latest", False])
    return block["number"], block["hash"], block["timestamp"]


def test_journal_cuts_a_torn_last_line_and_keeps_its_genesis(tmp_path):
    journal = Journal(tmp_path / "journal.jsonl")
    assert journal.open() == []
    journal.close()
    genesis = json.loads((tmp_path / "journal.jsonl").read_text().splitlines()[0])["genesis"]
    with (tmp_path / "journal.jsonl").open("a") as f:
        f.write('{"m":"evm_mine","p":[],"b":0,"n":1,"t":1,"h":"0x01","w":1.0}\n{"m":"evm_mi')
    reopened = Journal(tmp_path / "journal.jsonl")
    entries = reopened.open()
    reopened.close()
    assert [e.method for e in entries] == ["evm_mine"]
    assert reopened.genesis_date == genesis
    assert (tmp_path / "journal.jsonl").read_text().endswith('"w":1.0}\n')


def test_a_second_devnet_on_the_same_data_is_refused(tmp_path):
    first = Journal(tmp_path / "journal.jsonl")
    first.open()
    try:
        with pytest.raises(JournalBusy):
            Journal(tmp_path / "journal.jsonl").open()
    finally:
        first.close()


def test_replay_rebuilds_snapshots_reverts_time_travel_and_failed_transactions(tmp_path):
    devnet = Devnet("hardhat", tmp_path / "chain", free_port())
    devnet.start()
    client = JsonRpcClient(devnet.url)
    try:
        recipient = "0x" + "22" * 20
        client.call("eth_sendRawTransaction", [signed(0, recipient, value=5)])
        snapshot = client.call("evm_snapshot")
        client.call("eth_sendRawTransaction", [signed(1, recipient, value=7)])
        assert client.call("evm_revert", [snapshot]) is True
        client.call("evm_increaseTime", [30 * 24 * 3600])
        deploy = client.call("eth_sendRawTransaction", [signed(1, None, data=ALWAYS_REVERTS)])
        reverter = to_checksum_address(client.call("eth_getTransactionReceipt", [deploy])["contractAddress"])
        failing = client.call("eth_sendRawTransaction", [signed(2, reverter, gas=50_000)])
        assert client.call("eth_getTransactionReceipt", [failing])["status"] == "0x0"
        client.call("hardhat_mine", ["0x3", "0x3c"])
        client.call("hardhat_setBalance", [recipient, "0x64"])
        with pytest.raises(RpcError):
            client.call("evm_setIntervalMining", [1000])
        before = head(client), client.call("eth_getBalance", [recipient, "latest"])
        client.close()
        devnet.stop()

        devnet.start()
        assert (head(client), client.call("eth_getBalance", [recipient, "latest"])) == before
        assert client.call("eth_getBalance", [recipient, "latest"]) == "0x64"
        new = client.call("eth_sendRawTransaction", [signed(3, recipient, value=1)])
        assert client.call("eth_getTransactionReceipt", [new])["status"] == "0x1"
    finally:
        client.close()
        devnet.stop()
