"""Helpers for the instrument route tests: chain time, time travel, confirmed invoices, error codes, waiting for
the indexer."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from gateway_world import node_rpc

T = TypeVar("T")


def wait_for(fetch: Callable[[], T], until: Callable[[T], bool], timeout: float = 20.0) -> T:
    """`fetch()` again every 0.1 s until `until(answer)` holds (e.g. the indexer caught up) or `timeout`
    seconds passed; the last answer either way, for the caller to assert on."""
    deadline = time.monotonic() + timeout
    while True:
        answer = fetch()
        if until(answer) or time.monotonic() > deadline:
            return answer
        time.sleep(0.1)


def rpc(world: Any, method: str, params: list[Any]) -> Any:
    return node_rpc(world.rpc_url, method, params)


def chain_now(world: Any) -> int:
    return int(rpc(world, "eth_getBlockByNumber", ["latest", False])["timestamp"], 16)


def advance(world: Any, seconds: int) -> None:
    """Move the chain's clock forward (the shared session chain only ever moves forward)."""
    rpc(world, "evm_increaseTime", [seconds])
    rpc(world, "evm_mine", [])


def code(response: httpx.Response) -> str:
    return response.json()["error"]["code"]


def usd(api: Any, role: str) -> int:
    balances = api.get(role, "/v1/balances").json()["balances"]
    return next(b["amount"] for b in balances if b["currency"] == "USD")


def invoice(api: Any, world: Any, seller: str = "exporter", buyer: str = "importer", face: int = 10_000_00,
            confirm: bool = True, due_in: int = 90 * 86_400, document_hash: str | None = None) -> str:
    """A registered (and by default confirmed) USD invoice naming `document_hash` (default: a hash of nothing
    stored); its id as the decimal string the API answers."""
    now = chain_now(world)
    body = {"buyer": world.roles[buyer], "currency": "USD", "invoice_number": f"INV-{secrets.token_hex(6)}",
            "face_amount": face, "issue_date": now, "due_date": now + due_in,
            "document_hash": document_hash or "0x" + secrets.token_hex(32)}
    r = api.post(seller, "/v1/invoices", json=body)
    assert r.status_code == 201, r.text
    invoice_id = r.json()["result"]["invoice_id"]
    if confirm:
        c = api.post(buyer, f"/v1/invoices/{invoice_id}/confirm")
        assert c.status_code == 200, c.text
    return invoice_id


def issued_certificate(api: Any, world: Any, invoice_id: str, amount: int, maturity_in: int = 30 * 86_400) -> int:
    """The buyer (importer) offers a payable certificate on `invoice_id`, the seller (exporter) accepts it: the
    root certificate's id. Each step must succeed."""
    offered = api.post("importer", "/v1/certificates/offers", json={
        "invoice_id": invoice_id, "amount": amount, "maturity": chain_now(world) + maturity_in})
    assert offered.status_code == 201, offered.text
    accepted = api.post("exporter", f"/v1/certificates/offers/{invoice_id}/accept")
    assert accepted.status_code == 201, accepted.text
    return accepted.json()["result"]["certificate_id"]


def approve_spender(api: Any, role: str, spender: str, amount: int = 10**12) -> None:
    r = api.post(role, "/v1/approvals", json={"currency": "USD", "spender": spender, "amount": amount})
    assert r.status_code == 200, r.text
