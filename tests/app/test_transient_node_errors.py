"""A node that fails a read for a moment does not fail the request: the gateway asks again.

Anvil with --prune-history now and then answers a read with "BlockOutOfRangeError" when a block is sealed
between resolving "latest" and running the call (seen under load in bench/gateway.py). Here a small
proxy in front of the real Anvil replaces the first answers of chosen methods with that error, and a
gateway of its own (own data folder, one participant) goes through the proxy."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gateway_world import GatewayProcess, settings_for
from instrument_helpers import chain_now
from node_proxy import RpcProxy

TRANSIENT = {"code": -32603, "message": "BlockOutOfRangeError: block height is 190 but requested was 189"}


class FlakyNode(RpcProxy):
    """Forwards JSON-RPC to `upstream`; the first `failures[method]` answers of a method become TRANSIENT."""

    def __init__(self, upstream: str, failures: dict[str, int]) -> None:
        super().__init__(upstream)
        self.failures = dict(failures)
        self.injected: dict[str, int] = {}

    async def handle(self, payload: Any) -> Any:
        answer = await self.forward(payload)
        requests = payload if isinstance(payload, list) else [payload]
        answers = answer if isinstance(answer, list) else [answer]
        methods = {r.get("id"): r.get("method") for r in requests}
        for item in answers:
            method = methods.get(item.get("id"))
            if self.failures.get(method, 0) > 0:
                self.failures[method] -= 1
                self.injected[method] = self.injected.get(method, 0) + 1
                item.pop("result", None)
                item["error"] = dict(TRANSIENT)
        return answers if isinstance(payload, list) else answers[0]


@pytest.fixture
def own_gateway_env(world, tmp_path: Path) -> Iterator[tuple[dict[str, str], str]]:
    """A data folder of its own (deployment, one keystore, its API key), so this gateway shares no
    outbox and no nonces with the session's gateway."""
    from app.runner import derive_private_keys, prepare_access
    from scripts._common import TEST_ROLES

    data = tmp_path / "flaky-gateway"
    (data / "deployments").mkdir(parents=True)
    deployment = next((world.data_dir / "deployments").glob("*.json"))
    shutil.copy(deployment, data / "deployments" / deployment.name)
    env = world.env(TRADEFIN_DATA_DIR=str(data))
    issued = prepare_access(settings_for(env), {"supplier2": derive_private_keys(TEST_ROLES)["supplier2"]},
                            print_keys=False)
    yield env, issued["supplier2"]["api_key"]


def test_a_read_the_node_fails_for_a_moment_is_asked_again(world, own_gateway_env, tmp_path):
    env, api_key = own_gateway_env
    failures = {"eth_createAccessList": 2, "eth_call": 2}
    with FlakyNode(world.rpc_url, failures) as node:
        gateway = GatewayProcess(env | {"TRADEFIN_RPC_URL": node.url}, log_path=tmp_path / "flaky.log").start()
        try:
            with httpx.Client(base_url=gateway.url, timeout=60) as client:
                auth = {"Authorization": f"Bearer {api_key}"}
                invoice = {"buyer": world.roles["importer"], "currency": "USD",
                           "invoice_number": f"FLAKY-{secrets.token_hex(4)}", "face_amount": 1000, "issue_date": 0,
                           "due_date": chain_now(world) + 90 * 86_400, "document_hash": "0x" + "f1" * 32}
                r = client.post("/v1/invoices", json=invoice, headers=auth | {"Idempotency-Key": "flaky-1"})
                assert r.status_code == 201, r.text
                assert node.injected.get("eth_createAccessList") == 2, "the preflight was failed twice, then passed"

                r = client.get(f"/v1/participants/{world.roles['importer']}", headers=auth)
                assert r.status_code == 200, r.text
                assert node.injected.get("eth_call") == 2, "the read was failed twice, then passed"
        finally:
            gateway.stop()
