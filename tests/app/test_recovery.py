"""A transaction stored but never sent (a crash between the outbox commit and the broadcast) is
broadcast on restart, and its request answered: exactly one effect."""

from __future__ import annotations

import sqlite3
import time

import httpx
from eth_account import Account
from gateway_world import GatewayProcess

from app.chain.outbox import Outbox
from app.chain.signer import Signer
from app.db.session import make_engine, make_sessionmaker
from app.runner import derive_private_keys
from scripts._common import TEST_ROLES


def _rpc(world, method: str, params: list):
    return httpx.post(world.rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).json()


def test_stored_but_unsent_transaction_is_broadcast_on_restart(world, tmp_path):
    role = "attester"  # a signer no other gateway test writes for
    address = world.roles[role]
    signer = Signer(Account.from_key(derive_private_keys(TEST_ROLES)[role]))
    nonce = int(_rpc(world, "eth_getTransactionCount", [address, "pending"])["result"], 16)
    signed = signer.sign({"type": 2, "chainId": world.chain_id, "nonce": nonce, "to": address, "value": 0,
                          "data": b"", "gas": 21_000, "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9})
    outbox = Outbox(make_sessionmaker(make_engine(f"sqlite:///{world.data_dir / 'gateway.sqlite3'}")))
    try:
        outbox.store_group([], [(None, {"participant": address, "idempotency_key": "stored-not-sent",
                                        "fingerprint": "f" * 64, "operation": "test.noop", "context": {}},
                                 {"signer": address, "nonce": nonce, "tx_hash": signed.tx_hash, "raw": signed.raw,
                                  "to": address, "data": b"", "gas": 21_000, "max_fee_per_gas": 10**10,
                                  "max_priority_fee_per_gas": 10**9})])
    finally:
        outbox.close()
    assert _rpc(world, "eth_getTransactionReceipt", [signed.tx_hash])["result"] is None  # never sent

    with GatewayProcess(world.env(), log_path=tmp_path / "gateway.log"):
        deadline = time.monotonic() + 20
        while _rpc(world, "eth_getTransactionReceipt", [signed.tx_hash])["result"] is None:
            assert time.monotonic() < deadline, "the stored transaction was not broadcast"
            time.sleep(0.05)
        with sqlite3.connect(world.data_dir / "gateway.sqlite3") as db:
            for _ in range(100):
                state = db.execute("SELECT state, http_status FROM write_requests "
                                   "WHERE idempotency_key = 'stored-not-sent'").fetchone()
                if state[0] == "done":
                    break
                time.sleep(0.05)
    assert state == ("done", 200)
    assert int(_rpc(world, "eth_getTransactionCount", [address, "latest"])["result"], 16) == nonce + 1
