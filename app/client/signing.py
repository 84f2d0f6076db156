"""A participant that keeps its own key, talking to the gateway: prepare a write, sign it, submit it.

    client = SigningClient("http://127.0.0.1:8000", api_key, private_key)
    answer = client.write("/v1/invoices", {...})          # what the custodial route answers (201, result, tx_hash)

Three steps, each an HTTP call or a signature (`scripts/sign_request.py` does them from the command line):
1. `POST <route>:prepare` with the write's body: the gateway runs the route's checks and a preflight as you, and
   answers the EIP-712 `ForwardRequest` to sign (`typed_data`);
2. sign it with your own key (here eth-account; an HSM or a wallet signs the same `eth_signTypedData_v4`), after
   checking it is yours to sign (`check_typed_data`);
3. `POST /v1/signed-requests` with the typed data and the signature, under an Idempotency-Key.
The key never leaves this process.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from eth_account import Account
from eth_utils import to_checksum_address

from app.core import forward_requests as fr

PREPARE_SUFFIX = ":prepare"


def check_typed_data(typed_data: dict[str, Any], signer: str, chain_id: int | None = None) -> None:
    """Refuse to sign what is not a ForwardRequest of the platform's forwarder from `signer` (raises ValueError)."""
    if typed_data.get("primaryType") != "ForwardRequest" or \
            typed_data.get("types", {}).get("ForwardRequest") != fr.FORWARD_REQUEST_TYPE:
        raise ValueError("not a ForwardRequest")
    domain = typed_data.get("domain", {})
    if (domain.get("name"), domain.get("version")) != (fr.DOMAIN_NAME, fr.DOMAIN_VERSION):
        raise ValueError(f"not the platform's forwarder domain: {domain}")
    if chain_id is not None and domain.get("chainId") != chain_id:
        raise ValueError(f"for chain {domain.get('chainId')}, not {chain_id}")
    request = fr.ForwardRequest.from_message(typed_data["message"])
    if request.sender != to_checksum_address(signer) or request.value != 0:
        raise ValueError(f"a request from {request.sender} (value {request.value}), not from {signer}")


def sign(typed_data: dict[str, Any], private_key: str | bytes) -> str:
    """The 65-byte signature (0x-hex) of `typed_data` with `private_key`."""
    return "0x" + Account.sign_typed_data(private_key, full_message=typed_data).signature.hex().removeprefix("0x")


class SigningClient:
    """Writes through the gateway with a key the gateway never sees."""

    def __init__(self, base_url: str, api_key: str, private_key: str | bytes, http: httpx.Client | None = None,
                 chain_id: int | None = None) -> None:
        self.http = http or httpx.Client(base_url=base_url, timeout=60.0)
        self.headers = {"Authorization": f"Bearer {api_key}"}
        self.private_key = private_key
        self.address = Account.from_key(private_key).address
        self.chain_id = chain_id

    def prepare(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return self.http.post(path + PREPARE_SUFFIX, json=body, headers=self.headers | {
            "Idempotency-Key": f"prepare-{uuid.uuid4()}"})

    def submit(self, typed_data: dict[str, Any], signature: str, key: str | None = None) -> httpx.Response:
        return self.http.post("/v1/signed-requests", json={"typed_data": typed_data, "signature": signature},
                              headers=self.headers | {"Idempotency-Key": key or f"signed-{uuid.uuid4()}"})

    def write(self, path: str, body: dict[str, Any], key: str | None = None) -> httpx.Response:
        """Prepare, check, sign and submit `body` for the write route `path`: its answer (or the refusal of the
        preparation, answered as the route answers it)."""
        prepared = self.prepare(path, body)
        if prepared.status_code != 200:
            return prepared
        typed = prepared.json()["typed_data"]
        check_typed_data(typed, self.address, self.chain_id)
        return self.submit(typed, sign(typed, self.private_key), key)
