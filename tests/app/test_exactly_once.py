"""Exactly once and fast: concurrent writes of one signer, repeated Idempotency-Keys, and a SIGKILL
in the middle of a burst."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from eth_utils import keccak
from gateway_world import GatewayProcess


def _payment(world, n: int, tag: str) -> dict:
    return {"currency": "EUR", "to": world.roles["supplier1"], "amount": 100 + n, "purpose_code": "SUPP",
            "reference": f"{tag}-{n}"}


async def _burst(url: str, world, role: str, bodies: list[dict], keys: list[str], concurrency: int = 200,
                 answered: list | None = None):
    """Posts every body at once; each answer (or transport error) is also appended to `answered` as it
    arrives, so a caller can act mid-burst."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=60.0, limits=limits) as client:
        async def one(body, key):
            try:
                r = await client.post("/v1/payments", json=body, headers=world.auth(role) | {"Idempotency-Key": key})
            except httpx.HTTPError as exc:
                r = exc
            if answered is not None:
                answered.append(r)
            return r
        return await asyncio.gather(*(one(b, k) for b, k in zip(bodies, keys)))


def _nonce(world, role: str, block: str = "latest") -> int:
    answer = httpx.post(world.rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_getTransactionCount",
                                              "params": [world.roles[role], block]}).json()
    return int(answer["result"], 16)


def _transaction(world, tx_hash: str) -> dict:
    return httpx.post(world.rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_getTransactionByHash",
                                            "params": [tx_hash]}).json()["result"]


def test_200_concurrent_writes_of_one_participant_land_with_consecutive_nonces(gateway, world):
    start = _nonce(world, "exporter2")
    bodies = [_payment(world, n, "burst") for n in range(200)]
    keys = [f"burst-{uuid.uuid4()}" for _ in bodies]
    responses = asyncio.run(_burst(gateway.url, world, "exporter2", bodies, keys))
    refused = [r if isinstance(r, Exception) else r.text for r in responses
               if isinstance(r, Exception) or r.status_code != 201]
    assert not refused, refused[:3]
    hashes = [r.json()["tx_hash"] for r in responses]
    nonces = sorted(int(_transaction(world, h)["nonce"], 16) for h in hashes)
    assert nonces == list(range(start, start + 200))
    assert _nonce(world, "exporter2") == start + 200


def test_repeated_idempotency_key_returns_first_answer_and_sends_nothing(api, world):
    body = _payment(world, 1, "idem")
    first = api.post("exporter", "/v1/payments", key="same-key-1", json=body)
    nonce_after_first = _nonce(world, "exporter")
    again = api.post("exporter", "/v1/payments", key="same-key-1", json=body)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _nonce(world, "exporter") == nonce_after_first


def test_concurrent_repeats_of_one_key_send_one_transaction(gateway, world):
    start = _nonce(world, "supplier2")
    body = _payment(world, 7, "dup")
    responses = asyncio.run(_burst(gateway.url, world, "supplier2", [body] * 20, ["dup-key"] * 20))
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["tx_hash"] for r in responses}) == 1
    assert _nonce(world, "supplier2") == start + 1


def test_same_key_with_another_body_is_refused(api, world):
    api.post("exporter", "/v1/payments", key="reused-key", json=_payment(world, 1, "reuse"))
    r = api.post("exporter", "/v1/payments", key="reused-key", json=_payment(world, 2, "reuse"))
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "IdempotencyKeyReused"


def test_idempotency_keys_belong_to_their_participant(api, world):
    body = _payment(world, 3, "scoped")
    a = api.post("exporter", "/v1/payments", key="scoped-key", json=body)
    b = api.post("supplier1", "/v1/payments", key="scoped-key",
                 json=body | {"to": world.roles["exporter"]})
    assert a.status_code == b.status_code == 201
    assert a.json()["tx_hash"] != b.json()["tx_hash"]


def test_sigkill_mid_burst_then_restart_gives_each_request_exactly_one_effect(world, tmp_path):
    """Kill -9 the gateway while 150 payments are in flight, restart it, retry every request with its
    key: every request has exactly one PaymentTransfer on chain, and no other transaction was sent."""
    role = "supplier3"
    start = _nonce(world, role)
    bodies = [_payment(world, n, f"crash-{uuid.uuid4().hex[:8]}") for n in range(150)]
    keys = [f"crash-{uuid.uuid4()}" for _ in bodies]
    process = GatewayProcess(world.env(), log_path=tmp_path / "gateway.log").start()
    try:
        async def burst_then_kill():
            # The kill lands mid-burst for certain: a first wave of 30 is answered (so the client has seen
            # requests accepted), then the other 120 go out and the gateway dies once it has sent some of them.
            answered: list = []
            head = asyncio.create_task(_burst(process.url, world, role, bodies[:30], keys[:30], answered=answered))
            while not any(isinstance(r, httpx.Response) and r.status_code == 201 for r in answered):
                assert not head.done(), [getattr(r, "text", r) for r in answered[:3]]
                await asyncio.sleep(0.002)
            tail = asyncio.create_task(_burst(process.url, world, role, bodies[30:], keys[30:]))
            while _nonce(world, role, "pending") < start + 35 and not tail.done():
                await asyncio.sleep(0.002)
            process.kill()
            return [*await head, *await tail]

        first = asyncio.run(burst_then_kill())
    finally:
        process.kill()
    accepted = {k: r.json()["tx_hash"] for k, r in zip(keys, first)
                if isinstance(r, httpx.Response) and r.status_code == 201}
    assert accepted  # the kill came after the client saw requests accepted

    with GatewayProcess(world.env(), log_path=tmp_path / "gateway.log") as restarted:
        second = asyncio.run(_burst(restarted.url, world, role, bodies, keys))
    assert [r.status_code for r in second] == [201] * len(keys), [r.text for r in second if r.status_code != 201][:3]
    answers = {k: r.json()["tx_hash"] for k, r in zip(keys, second)}
    for key, tx_hash in accepted.items():
        assert answers[key] == tx_hash  # what the client saw accepted is what it gets again
    assert len(set(answers.values())) == len(keys)  # one transaction per request
    assert _nonce(world, role) == start + len(keys)  # and no other transaction from this signer
    references = [r.json()["result"]["reference"] for r in second]
    assert sorted(references) == sorted("0x" + keccak(text=b["reference"]).hex() for b in bodies)
