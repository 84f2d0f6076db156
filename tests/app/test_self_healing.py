"""The chain client repairs what the node does: a nonce taken behind its back, and a stuck sender."""

from __future__ import annotations

import sqlite3
import threading
import time

import httpx
from eth_account import Account

from app.runner import derive_private_keys
from scripts._common import TEST_ROLES


def _rpc(world, method: str, params: list):
    answer = httpx.post(world.rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).json()
    assert "error" not in answer, answer
    return answer["result"]


def _payment(world, reference: str) -> dict:
    return {"currency": "CNY", "to": world.roles["exporter"], "amount": 10, "purpose_code": "GDDS",
            "reference": reference}


def test_nonce_used_outside_the_gateway_is_repaired_not_surfaced(api, world):
    role = "importer"
    assert api.post(role, "/v1/payments", json=_payment(world, "warm-the-lane")).status_code == 201
    nonce = int(_rpc(world, "eth_getTransactionCount", [world.roles[role], "latest"]), 16)
    key = derive_private_keys(TEST_ROLES)[role]
    outside = Account.from_key(key).sign_transaction({
        "type": 2, "chainId": world.chain_id, "nonce": nonce, "to": world.roles[role], "value": 0, "gas": 21_000,
        "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9})
    _rpc(world, "eth_sendRawTransaction", ["0x" + bytes(outside.raw_transaction).hex()])

    r = api.post(role, "/v1/payments", json=_payment(world, "after-outside-tx"))
    assert r.status_code == 201, r.text
    mined = _rpc(world, "eth_getTransactionByHash", [r.json()["tx_hash"]])
    assert int(mined["nonce"], 16) == nonce + 1


def test_stuck_sender_is_recovered_by_a_fee_bumped_replacement(api, world):
    """With mining stopped the transaction sits in the pool: the tracker rebroadcasts it, then replaces
    it with higher fees at the same nonce; the request answers with whichever attempt is mined."""
    role = "supplier2"
    start = int(_rpc(world, "eth_getTransactionCount", [world.roles[role], "latest"]), 16)
    _rpc(world, "evm_setAutomine", [False])
    answer: dict = {}
    try:
        thread = threading.Thread(target=lambda: answer.update(
            r=api.post(role, "/v1/payments", key="stuck-sender-1", json=_payment(world, "stuck"))))
        thread.start()
        time.sleep(3.5)  # stuck_after_seconds is 1: a rebroadcast, then at least one replacement
    finally:
        _rpc(world, "evm_setAutomine", [True])
        _rpc(world, "evm_mine", [])
    thread.join(30)
    r = answer["r"]
    assert r.status_code == 201, r.text
    assert int(_rpc(world, "eth_getTransactionCount", [world.roles[role], "latest"]), 16) == start + 1
    with sqlite3.connect(world.data_dir / "gateway.sqlite3") as db:
        attempts = db.execute(
            "SELECT t.tx_hash, t.state, t.max_fee_per_gas FROM outbox_transactions t JOIN write_requests w "
            "ON t.request_id = w.id WHERE w.idempotency_key = 'stuck-sender-1' ORDER BY t.id").fetchall()
    assert len(attempts) >= 2  # the original and at least one replacement
    assert [a[1] for a in attempts].count("mined") == 1
    assert attempts[-1][2] > attempts[0][2] * 1.1  # replacements pay at least 10% more
    mined = next(a for a in attempts if a[1] == "mined")
    assert r.json()["tx_hash"] == mined[0]
