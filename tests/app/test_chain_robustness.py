"""The chain client under a node that refuses a signer (no ETH for gas), that never mines, and that never
answers (issue 12, "Lane wedge and fee runaway" and "Hung node"), replayed through HTTP against the real
gateway process and the real Anvil.

Faults come from account set-up (a signer without ETH, Anvil's automine switched off) and from a small
proxy in front of Anvil that can stop answering, or lie about a balance so that only the node itself
refuses a transaction. Gateways with settings of their own get a data folder of their own and a signer
nobody else uses, so they share no outbox and no nonces with the session's gateway."""

from __future__ import annotations

import asyncio
import re
import secrets
import shutil
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import idem
from eth_account import Account
from eth_utils import keccak
from gateway_world import GatewayProcess, settings_for
from instrument_helpers import chain_now, code, rpc
from node_proxy import RpcProxy

APPROVAL = {"currency": "USD", "spender": "PaymentRouter", "amount": 1}


class NodeProxy(RpcProxy):
    """Forwards JSON-RPC to `upstream`. `hang = True`: accepts each request, reads it, and never answers
    (nor forwards it). `swallow_sends = True`: a node that takes transactions and never mines them (each
    eth_sendRawTransaction is answered its hash and not forwarded). `preflight_balances[address]`: the
    answer to eth_getBalance of that address when asked together with a preflight (eth_createAccessList),
    i.e. a lie to the lane's funds check only."""

    def __init__(self, upstream: str) -> None:
        super().__init__(upstream)
        self.hang = False
        self.swallow_sends = False
        self.swallowed = 0
        self.preflight_balances: dict[str, int] = {}
        self.hung = 0  # requests left unanswered

    async def handle(self, payload: Any) -> Any:
        if self.hang:
            self.hung += 1
            await asyncio.Event().wait()  # never answers, never forwards
        requests = payload if isinstance(payload, list) else [payload]
        swallowed = [r for r in requests if self.swallow_sends and r.get("method") == "eth_sendRawTransaction"]
        forwarded = [r for r in requests if r not in swallowed]
        answers = [{"jsonrpc": "2.0", "id": r.get("id"), "result": "0x" + keccak(hexstr=r["params"][0]).hex()}
                   for r in swallowed]
        self.swallowed += len(swallowed)
        if forwarded:
            answers += await self.forward(forwarded)
        order = [r.get("id") for r in requests]
        answers.sort(key=lambda a: order.index(a.get("id")) if a.get("id") in order else len(order))
        asked = {r.get("id"): r for r in requests}
        preflight = any(r.get("method") == "eth_createAccessList" for r in requests)
        for item in answers:
            call = asked.get(item.get("id"), {})
            if preflight and call.get("method") == "eth_getBalance" and call["params"][0].lower() in self.preflight_balances:
                item["result"] = hex(self.preflight_balances[call["params"][0].lower()])
        return answers if isinstance(payload, list) else answers[0]


def _register(api, world) -> tuple[str, str]:
    """A new corporate, registered by the operator and KYC'd by a bank; (address, private key). No ETH."""
    account = Account.create()
    body = {"address": account.address, "kind": "Corporate", "jurisdiction": "DE",
            "identity_hash": "0x" + secrets.token_hex(32)}
    assert api.post("operator", "/v1/participants", json=body).status_code == 201
    kyc = api.post("bank_cn", f"/v1/participants/{account.address}/kyc", json={
        "status": "Approved", "expiry": chain_now(world) + 30 * 86_400, "evidence_hash": "0x" + "e7" * 32})
    assert kyc.status_code == 200, kyc.text
    return account.address, account.key.hex()


@contextmanager
def own_gateway(world, tmp_path: Path, private_key: str, rpc_url: str, **settings: str
                ) -> Iterator[tuple[GatewayProcess, dict[str, str], Path]]:
    """A gateway with a data folder of its own (the deployment, one keystore and its API key) in front of
    `rpc_url`; (process, auth header, log file)."""
    from app.runner import prepare_access

    data = tmp_path / f"gateway-{secrets.token_hex(3)}"
    (data / "deployments").mkdir(parents=True)
    deployment = next((world.data_dir / "deployments").glob("*.json"))
    shutil.copy(deployment, data / "deployments" / deployment.name)
    env = world.env(TRADEFIN_DATA_DIR=str(data), TRADEFIN_RPC_URL=rpc_url, **settings)
    issued = prepare_access(settings_for(env), {"signer": private_key}, print_keys=False)
    log = data / "gateway.log"
    gateway = GatewayProcess(env, log_path=log).start()
    try:
        yield gateway, {"Authorization": f"Bearer {issued['signer']['api_key']}"}, data
    finally:
        gateway.stop()


def _rows(data: Path, sql: str, *args: Any) -> list[tuple]:
    with sqlite3.connect(data / "gateway.sqlite3") as db:
        return db.execute(sql, args).fetchall()


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


# ───────────────────────────── lane wedge and fee runaway ─────────────────────────────

def test_lane_wedge_unfunded_signer_gets_insufficient_funds_then_works_once_funded(api, http, world):
    """A custodial participant without ETH: told what is missing (409, nothing stored, no nonce spent),
    asked again: the same answer, never NonceTooHigh; funded: the same Idempotency-Key works, at nonce 0."""
    body = {"kind": "Corporate", "jurisdiction": "DE", "identity_hash": "0x" + secrets.token_hex(32)}
    created = api.post("operator", "/v1/participants", json=body)
    assert created.status_code == 201, created.text
    address = created.json()["result"]["address"]
    assert api.post("bank_cn", f"/v1/participants/{address}/kyc", json={
        "status": "Approved", "expiry": chain_now(world) + 86_400, "evidence_hash": "0x" + "e8" * 32}).status_code == 200
    token = api.post("operator", "/v1/api-keys", json={"participant": address}).json()["api_key"]
    auth = {"Authorization": f"Bearer {token}"}
    assert int(rpc(world, "eth_getBalance", [address, "latest"]), 16) == 0

    first_key = idem()
    for key in (first_key, idem(), first_key):
        r = http.post("/v1/approvals", json=APPROVAL, headers=auth | key)
        assert r.status_code == 409 and code(r) == "InsufficientFundsForGas", r.text
        details = r.json()["error"]["details"]
        assert details["signer"] == address and details["balance"] == 0
        assert details["needed"] == details["gas"] * details["max_fee_per_gas"] > 0
        assert details["shortfall"] == details["needed"]
        assert address in r.json()["error"]["message"] and "Fund the signer's address" in r.json()["error"]["message"]
        assert "Idempotent-Replayed" not in r.headers, "nothing was stored, so nothing is replayed"

    assert int(rpc(world, "eth_getTransactionCount", [address, "pending"]), 16) == 0, "no nonce reached the node"
    assert _rows(world.data_dir, "SELECT count(*) FROM outbox_transactions WHERE signer = ?", address) == [(0,)]
    assert _rows(world.data_dir, "SELECT count(*) FROM write_requests WHERE participant = ?", address) == [(0,)]

    rpc(world, "anvil_setBalance", [address, hex(10**18)])
    funded = http.post("/v1/approvals", json=APPROVAL, headers=auth | first_key)
    assert funded.status_code == 200, funded.text
    assert int(rpc(world, "eth_getTransactionByHash", [funded.json()["tx_hash"]])["nonce"], 16) == 0
    second = http.post("/v1/approvals", json=APPROVAL | {"amount": 2}, headers=auth | idem())
    assert second.status_code == 200, second.text
    assert int(rpc(world, "eth_getTransactionByHash", [second.json()["tx_hash"]])["nonce"], 16) == 1


def test_lane_wedge_a_transaction_the_node_refuses_is_not_kept_and_the_lane_resynchronises(api, world, tmp_path):
    """The gateway is told the signer has ETH (the proxy lies), so only the node refuses the transaction: it
    answers 409 InsufficientFundsForGas with the signer's real balance, keeps no row and no gap filler, and
    the next request, once the signer is funded, takes nonce 0 (before the fix: nonce 1 behind a filler the
    node had refused, stuck for good, fee-bumped every second)."""
    address, key = _register(api, world)
    with NodeProxy(world.rpc_url) as node:
        node.preflight_balances[address.lower()] = 10**18
        with own_gateway(world, tmp_path, key, node.url) as (gateway, auth, data), \
                httpx.Client(base_url=gateway.url, timeout=30) as client:
            for n in range(2):
                r = client.post("/v1/approvals", json=APPROVAL | {"amount": 1 + n}, headers=auth | idem())
                assert r.status_code == 409 and code(r) == "InsufficientFundsForGas", r.text
                details = r.json()["error"]["details"]
                assert details["signer"] == address and details["balance"] == 0 and details["needed"] > 0
            assert _rows(data, "SELECT count(*) FROM outbox_transactions") == [(0,)], "a refused transaction is not kept"
            assert _rows(data, "SELECT count(*) FROM write_requests") == [(0,)]
            time.sleep(1.5)  # a stuck-sender round (stuck_after_seconds is 1) would have fee-bumped a filler
            assert client.get("/health").json()["outstanding_transactions"] == 0

            rpc(world, "anvil_setBalance", [address, hex(10**18)])
            r = client.post("/v1/approvals", json=APPROVAL | {"amount": 3}, headers=auth | idem())
            assert r.status_code == 200, r.text
            assert int(rpc(world, "eth_getTransactionByHash", [r.json()["tx_hash"]])["nonce"], 16) == 0
            _wait_for(lambda: _rows(data, "SELECT nonce, state FROM outbox_transactions") == [(0, "mined")], 5,
                      "one transaction, at nonce 0, mined")


def _stuck_write(world, tmp_path, api, **settings: str) -> tuple[list[tuple], list[tuple], str, httpx.Response]:
    """One write of a fresh signer to a node that takes transactions and mines none of them for 4 s, then
    behaves again; (its attempts after the 4 s, the same once mined, the gateway's log, its answer)."""
    address, key = _register(api, world)
    rpc(world, "anvil_setBalance", [address, hex(10**18)])
    with NodeProxy(world.rpc_url) as node, \
            own_gateway(world, tmp_path, key, node.url, TRADEFIN_STUCK_AFTER_SECONDS="0.3",
                        TRADEFIN_RECEIPT_TIMEOUT_SECONDS="30", **settings) as (gateway, auth, data), \
            httpx.Client(base_url=gateway.url, timeout=60) as client:
        answer: dict[str, httpx.Response] = {}
        node.swallow_sends = True
        thread = threading.Thread(target=lambda: answer.update(
            r=client.post("/v1/approvals", json=APPROVAL, headers=auth | {"Idempotency-Key": "stuck"})))
        thread.start()
        time.sleep(4.0)  # about 13 stuck-sender rounds
        attempts = _rows(data, "SELECT nonce, max_fee_per_gas, state, tx_hash FROM outbox_transactions ORDER BY id")
        assert node.swallowed >= 5, "the tracker kept rebroadcasting"
        node.swallow_sends = False  # the next rebroadcast reaches Anvil, which mines it
        thread.join(30)
        _wait_for(lambda: "mined" in {a[0] for a in _rows(data, "SELECT state FROM outbox_transactions")}, 5,
                  "the mined attempt is recorded")
        final = _rows(data, "SELECT nonce, max_fee_per_gas, state, tx_hash FROM outbox_transactions ORDER BY id")
        gateway.stop()
        return attempts, final, (data / "gateway.log").read_text(), answer["r"]


def test_fee_bumps_are_capped_by_count_and_alerted_once(api, world, tmp_path):
    attempts, final, log, r = _stuck_write(world, tmp_path, api, TRADEFIN_FEE_BUMP_LIMIT="2")
    assert len(attempts) == 3, f"the original and 2 replacements, not one per round: {attempts}"
    assert {a[0] for a in attempts} == {0}
    assert attempts[2][1] > attempts[1][1] > attempts[0][1]
    assert len(re.findall(r"ALERT signer", log)) == 1, log
    assert "2 fee bumps" in log and "TRADEFIN_FEE_BUMP_LIMIT" in log
    assert len(re.findall(r"fee-bumped replacement", log)) == 2
    assert r.status_code == 200, r.text  # mined once mining resumed: whichever attempt, one effect
    assert len(final) == 3, "no further attempt after the cap"
    mined = [a for a in final if a[2] == "mined"]
    assert len(mined) == 1 and r.json()["tx_hash"] == mined[0][3], "one attempt mined, the one answered"


def test_fee_bumps_are_capped_by_price(api, world, tmp_path):
    """A cap below the first bump's price (Anvil suggests a tip of 1 gwei): no replacement at all, one alert."""
    attempts, final, log, r = _stuck_write(world, tmp_path, api, TRADEFIN_FEE_BUMP_LIMIT="100",
                                           TRADEFIN_FEE_BUMP_MAX_GWEI="1")
    assert len(attempts) == 1, attempts
    assert len(re.findall(r"ALERT signer", log)) == 1, log
    assert "above the cap of 1 gwei" in log and "TRADEFIN_FEE_BUMP_MAX_GWEI" in log
    assert r.status_code == 200, r.text
    assert [(a[2], a[3]) for a in final] == [("mined", r.json()["tx_hash"])]


# ───────────────────────────── hung node ─────────────────────────────

def test_hung_node_opens_the_circuit_and_health_says_so(api, world, tmp_path):
    address, key = _register(api, world)
    rpc(world, "anvil_setBalance", [address, hex(10**18)])
    with NodeProxy(world.rpc_url) as node, \
            own_gateway(world, tmp_path, key, node.url, TRADEFIN_RPC_TIMEOUT_SECONDS="1",
                        TRADEFIN_RPC_CIRCUIT_FAILURES="2", TRADEFIN_RPC_CIRCUIT_COOLDOWN_SECONDS="3"
                        ) as (gateway, auth, data), \
            httpx.Client(base_url=gateway.url, timeout=60) as client:
        assert client.post("/v1/approvals", json=APPROVAL, headers=auth | idem()).status_code == 200
        health = client.get("/health").json()
        assert health["chain_ready"] is True and health["node"]["state"] == "closed"

        node.hang = True
        started = time.monotonic()
        read = client.get(f"/v1/participants/{world.roles['importer']}", headers=auth)
        assert read.status_code == 503 and code(read) == "ChainUnavailable", read.text
        assert time.monotonic() - started < 4, "a read is bounded by the RPC timeout (1 s), not 30-62 s"

        def circuit_open() -> bool:
            return client.get("/health").json()["node"]["state"] == "open"
        _wait_for(circuit_open, 10, "the circuit did not open")
        health = client.get("/health").json()
        assert health["chain_ready"] is False
        assert health["node"]["consecutive_failures"] >= 2 and "no answer within 1 s" in health["node"]["last_error"]

        hung_before = node.hung
        started = time.monotonic()
        write = client.post("/v1/approvals", json=APPROVAL, headers=auth | idem())
        read = client.get(f"/v1/participants/{world.roles['importer']}", headers=auth)
        assert time.monotonic() - started < 1.0, "an open circuit answers at once"
        for r in (write, read):
            assert r.status_code == 503 and code(r) == "ChainUnavailable", r.text
            assert 1 <= int(r.headers["Retry-After"]) <= 3
            assert "has not answered" in r.json()["error"]["message"]
        assert "Nothing was sent" in write.json()["error"]["message"]
        assert node.hung == hung_before, "nothing was asked of the node while the circuit is open"
        assert _rows(data, "SELECT count(*) FROM outbox_transactions WHERE state = 'signed'") == [(0,)]

        node.hang = False

        def ready() -> bool:
            return client.get("/health").json()["chain_ready"] is True
        _wait_for(ready, 15, "the half-open probe did not close the circuit")
        assert client.get("/health").json()["node"]["state"] == "closed"
        r = client.post("/v1/approvals", json=APPROVAL, headers=auth | idem())
        assert r.status_code == 200, r.text


def test_504_only_for_a_stored_and_sent_transaction_and_retry_after_on_a_lane_503(api, world, tmp_path):
    address, key = _register(api, world)
    rpc(world, "anvil_setBalance", [address, hex(10**18)])
    with NodeProxy(world.rpc_url) as node, \
            own_gateway(world, tmp_path, key, node.url, TRADEFIN_RECEIPT_TIMEOUT_SECONDS="2",
                        TRADEFIN_RPC_TIMEOUT_SECONDS="4", TRADEFIN_RPC_CIRCUIT_FAILURES="50",
                        TRADEFIN_STUCK_AFTER_SECONDS="60") as (gateway, auth, data), \
            httpx.Client(base_url=gateway.url, timeout=60) as client:
        assert client.post("/v1/approvals", json=APPROVAL, headers=auth | idem()).status_code == 200

        # The node hangs while the lane preflights: nothing was signed, stored or sent, so no 504.
        node.hang = True
        unsent = {"Idempotency-Key": "hung-preflight"}
        r = client.post("/v1/approvals", json=APPROVAL | {"amount": 7}, headers=auth | unsent)
        assert r.status_code == 503 and code(r) == "ChainUnavailable", r.text
        assert "nothing was sent" in r.json()["error"]["message"]
        # Finding "503 without Retry-After": the answer says when to repeat the same Idempotency-Key: the
        # circuit's time to its next probe when it is open, else (closed, as here) 1 s.
        circuit = r.json()["error"]["details"]["node"]
        assert r.headers.get("Retry-After") == str(circuit["retry_after_seconds"] or 1), (r.headers, circuit)
        assert circuit["state"] == "closed" and r.headers["Retry-After"] == "1"
        node.hang = False
        # Retry-After, and the lane's own wait for the node ends (RPC timeout 4 s): it sends nothing for it.
        time.sleep(int(r.headers["Retry-After"]) + 4)
        assert _rows(data, "SELECT count(*) FROM write_requests WHERE idempotency_key = 'hung-preflight'") == [(0,)]
        again = client.post("/v1/approvals", json=APPROVAL | {"amount": 7}, headers=auth | unsent)
        assert again.status_code == 200 and "Idempotent-Replayed" not in again.headers, again.text
        assert _rows(data, "SELECT count(*) FROM outbox_transactions t JOIN write_requests w ON t.request_id = w.id "
                           "WHERE w.idempotency_key = 'hung-preflight'") == [(1,)], "one transaction, once"

        # Stored and sent, not mined (Anvil mines nothing): 504 with the tx_hash the node holds.
        rpc(world, "evm_setAutomine", [False])
        try:
            pending = client.post("/v1/approvals", json=APPROVAL | {"amount": 8},
                                  headers=auth | {"Idempotency-Key": "not-mined"})
            assert pending.status_code == 504 and code(pending) == "TransactionPending", pending.text
            tx_hash = pending.json()["error"]["details"]["tx_hash"]
            assert tx_hash and rpc(world, "eth_getTransactionByHash", [tx_hash]) is not None, "sent: the node has it"
            assert _rows(data, "SELECT state FROM outbox_transactions WHERE tx_hash = ?", tx_hash) == [("signed",)]
        finally:
            rpc(world, "evm_setAutomine", [True])
            rpc(world, "evm_mine", [])
        mined = client.post("/v1/approvals", json=APPROVAL | {"amount": 8}, headers=auth | {"Idempotency-Key": "not-mined"})
        assert mined.status_code == 200 and mined.json()["tx_hash"] == tx_hash, mined.text


# ───────────────────────────── attacker review (issue 12, second round) ─────────────────────────────

def test_health_url_last_error_names_the_chain_node_not_its_url(api, world, tmp_path):
    """Finding "/health URL": `last_error` (and every 503 that carries the node's state) embedded the node's URL,
    which may carry credentials and internal host names. The messages say "the chain node"."""
    address, key = _register(api, world)
    rpc(world, "anvil_setBalance", [address, hex(10**18)])
    with NodeProxy(world.rpc_url) as node:
        secret_url = f"http://tradefin-rpc-user:s3cr3t-rpc-key@127.0.0.1:{node.port}"
        with own_gateway(world, tmp_path, key, secret_url, TRADEFIN_RPC_TIMEOUT_SECONDS="1",
                         TRADEFIN_RPC_CIRCUIT_FAILURES="2", TRADEFIN_RPC_CIRCUIT_COOLDOWN_SECONDS="30"
                         ) as (gateway, auth, _data), httpx.Client(base_url=gateway.url, timeout=60) as client:
            assert client.post("/v1/approvals", json=APPROVAL, headers=auth | idem()).status_code == 200  # control
            node.hang = True
            answers = [client.get(f"/v1/participants/{world.roles['importer']}", headers=auth)]
            _wait_for(lambda: client.get("/health").json()["node"]["state"] == "open", 10, "the circuit did not open")
            answers.append(client.post("/v1/approvals", json=APPROVAL, headers=auth | idem()))
            health = client.get("/health")
            node.hang = False
        leaks = ("s3cr3t", "tradefin-rpc-user", f":{node.port}", "127.0.0.1", secret_url)
        last_error = health.json()["node"]["last_error"]
        assert last_error and "the chain node did not answer: no answer within 1 s" in last_error, last_error
        for r in (health, *answers):
            assert not any(leak in r.text for leak in leaks), r.text
        for r in answers:
            assert r.status_code == 503 and code(r) == "ChainUnavailable", r.text
            assert "chain node" in r.json()["error"]["message"]


def test_retry_after_follows_the_circuit_when_an_answer_carries_it():
    """The header of a 503 answered with the node's state: the circuit's seconds to its next probe."""
    from app.api.routes._write import respond
    from app.chain.types import WriteAnswer

    def header(node: dict | None) -> str:
        body = {"error": {"code": "ChainUnavailable", "message": "", "details": {} if node is None else {"node": node}}}
        return respond(WriteAnswer(503, body)).headers["Retry-After"]

    assert header({"state": "open", "retry_after_seconds": 7}) == "7"
    assert header({"state": "closed", "retry_after_seconds": None}) == "1"
    assert header(None) == "1"
    assert "Retry-After" not in respond(WriteAnswer(409, {"error": {}})).headers


def test_insufficient_funds_for_gas_is_documented_for_write_routes(api, http, world):
    """Finding "409 InsufficientFundsForGas undocumented": every chain write documents it (409 description and
    example), and the answer a signer without ETH gets conforms to the documented error model."""
    from app.schemas.common import ErrorResponse

    spec = http.get("/openapi.json").json()
    writes = [(path, op) for path, ops in spec["paths"].items() for method, op in ops.items()
              if method == "post" and path not in ("/v1/documents", "/v1/fx-quotes")
              and not path.startswith("/v1/api-keys")]
    assert writes
    for path, op in writes:
        conflict = op["responses"].get("409")
        assert conflict and "InsufficientFundsForGas" in conflict["description"], path
        example = conflict["content"]["application/json"]["examples"]["InsufficientFundsForGas"]["value"]
        assert ErrorResponse.model_validate(example).error.code == "InsufficientFundsForGas"
        assert "Retry-After" in op["responses"]["503"].get("headers", {}), path

    body = {"kind": "Corporate", "jurisdiction": "DE", "identity_hash": "0x" + secrets.token_hex(32)}
    created = api.post("operator", "/v1/participants", json=body)
    assert created.status_code == 201, created.text
    participant = created.json()["result"]["address"]
    kyc = api.post("bank_cn", f"/v1/participants/{participant}/kyc", json={
        "status": "Approved", "expiry": chain_now(world) + 86_400, "evidence_hash": "0x" + "e9" * 32})
    assert kyc.status_code == 200, kyc.text
    token = api.post("operator", "/v1/api-keys", json={"participant": participant}).json()["api_key"]
    r = http.post("/v1/approvals", json=APPROVAL, headers={"Authorization": f"Bearer {token}"} | idem())
    assert r.status_code == 409 and code(r) == "InsufficientFundsForGas", r.text
    assert set(ErrorResponse.model_validate(r.json()).error.details) == {
        "signer", "balance", "needed", "shortfall", "gas", "max_fee_per_gas"}


def test_health_url_the_indexer_names_the_chain_node_not_its_url_in_what_it_logs():
    """The indexer's node errors are logged (also inside the gateway): a URL with credentials stays out."""
    from app.indexer.rpc import NodeUnavailable, SyncRpc

    with socket.socket() as unused:  # a port nobody listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    rpc = SyncRpc(f"http://indexer:s3cret@127.0.0.1:{port}/rpc", timeout_seconds=2)
    try:
        with pytest.raises(NodeUnavailable) as refused:
            rpc.call("eth_blockNumber", [])
    finally:
        rpc.close()
    assert "s3cret" not in str(refused.value) and str(port) not in str(refused.value)
    assert str(refused.value).startswith("the chain node did not answer")
