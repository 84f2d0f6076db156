"""Issue 14: participants keep their own keys. A corporate the gateway holds no key for writes through signed
requests (ERC-2771): `POST <route>:prepare` → sign with its own key → `POST /v1/signed-requests`, relayed by the
gateway's relayer through the forwarder, answered as the custodial route answers, with the corporate as the actor on
chain. Each attack of a relayer or another participant is refused with a named error, and nothing is sent.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from eth_account import Account
from eth_utils import keccak, to_checksum_address
from gateway_world import GatewayProcess, add_relayer, node_rpc, settings_for
from instrument_helpers import advance, chain_now, code, invoice, wait_for

from app.client.signing import SigningClient, check_typed_data, sign

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def own(api, world, http):
    """A corporate registered with its own address (the gateway creates no key for it), KYC'd by bank_cn, with an
    API key of its own; its signing client. One per test: a request prepared and never submitted holds its
    forwarder nonce for a while (`NONCE_HOLD_SECONDS`), as the attacks below leave them."""
    account = Account.create()
    registered = api.post("operator", "/v1/participants", json={
        "address": account.address, "kind": "Corporate", "jurisdiction": "CN",
        "identity_hash": "0x" + secrets.token_hex(32)})
    assert registered.status_code == 201, registered.text
    kyc = api.post("bank_cn", f"/v1/participants/{account.address}/kyc", json={
        "status": "Approved", "expiry": chain_now(world) + 365 * 86_400, "evidence_hash": "0x" + "e5" * 32})
    assert kyc.status_code == 200, kyc.text
    issued = api.post("operator", "/v1/api-keys", json={"participant": account.address, "label": "own keys"})
    assert issued.status_code == 201, issued.text
    return SigningClient("", issued.json()["api_key"], account.key, http=http, chain_id=world.chain_id)


def _invoice_body(world, number: str | None = None) -> dict:
    now = chain_now(world)
    return {"buyer": world.roles["importer"], "currency": "USD", "invoice_number": number or f"OWN-{secrets.token_hex(5)}",
            "face_amount": 2_500_00, "issue_date": now, "due_date": now + 60 * 86_400,
            "document_hash": "0x" + secrets.token_hex(32)}


def _forwarder_nonce(world, address: str) -> int:
    data = "0x" + keccak(text="nonces(address)")[:4].hex() + address[2:].lower().rjust(64, "0")
    return int(node_rpc(world.rpc_url, "eth_call", [{"to": world.addresses["Forwarder"], "data": data}, "latest"]), 16)


def _prepared(own, world, body: dict | None = None) -> dict:
    r = own.prepare("/v1/invoices", body or _invoice_body(world))
    assert r.status_code == 200, r.text
    return r.json()["typed_data"]


def test_the_typed_data_is_the_forwarders_own_domain(own, world):
    typed = _prepared(own, world)
    data = "0x" + keccak(text="eip712Domain()")[:4].hex()
    raw = bytes.fromhex(node_rpc(world.rpc_url, "eth_call", [{"to": world.addresses["Forwarder"], "data": data},
                                                             "latest"])[2:])
    from eth_abi import decode

    _, name, version, chain_id, verifying, _, _ = decode(
        ["bytes1", "string", "string", "uint256", "address", "bytes32", "uint256[]"], raw)
    assert typed["domain"] == {"name": name, "version": version, "chainId": chain_id,
                               "verifyingContract": to_checksum_address(verifying)}
    assert typed["message"]["from"] == own.address and typed["message"]["to"] == world.addresses["InvoiceRegistry"]
    check_typed_data(typed, own.address, world.chain_id)


def test_own_key_registers_an_invoice_relayed_and_the_chain_names_the_participant(own, api, world):
    keystores = Path(world.data_dir) / "keystores"
    assert keystores.is_dir() and not any(own.address.lower()[2:] in p.name.lower() for p in keystores.glob("*")), "the gateway holds its key"
    before = _forwarder_nonce(world, own.address)
    body = _invoice_body(world)
    answer = own.write("/v1/invoices", body)
    assert answer.status_code == 201, answer.text
    result = answer.json()["result"]
    assert result["seller"] == own.address and result["buyer"] == world.roles["importer"]
    assert result["invoice_number"] == body["invoice_number"].upper() and answer.json()["tx_hash"].startswith("0x")
    assert _forwarder_nonce(world, own.address) == before + 1
    # the importer confirms it custodially; the audit trail shows the seller (not the relayer) as the actor
    assert api.post("importer", f"/v1/invoices/{result['invoice_id']}/confirm").status_code == 200
    trail = wait_for(lambda: api.get("regulator", f"/v1/instruments/invoice/{result['invoice_id']}/trail"),
                     lambda r: r.status_code == 200 and any(e["event"] == "InvoiceRegistered"
                                                            for e in r.json()["events"]))
    registered = next(e for e in trail.json()["events"] if e["event"] == "InvoiceRegistered")
    assert registered["actor"] == own.address


def test_a_repeated_idempotency_key_answers_the_first_answer_and_sends_nothing(own, world):
    typed = _prepared(own, world)
    signature = sign(typed, own.private_key)
    first = own.submit(typed, signature, key="own-repeat-1")
    assert first.status_code == 201, first.text
    nonce = _forwarder_nonce(world, own.address)
    again = own.submit(typed, signature, key="own-repeat-1")
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert _forwarder_nonce(world, own.address) == nonce


def test_replayed_signed_request_under_a_new_key_is_refused_nonce_used(own, world):
    typed = _prepared(own, world)
    signature = sign(typed, own.private_key)
    assert own.submit(typed, signature).status_code == 201
    nonce = _forwarder_nonce(world, own.address)
    replay = own.submit(typed, signature)
    assert replay.status_code == 409 and code(replay) == "SignedRequestNonceUsed", replay.text
    assert _forwarder_nonce(world, own.address) == nonce


def test_forged_signature_is_refused_and_nothing_sent(own, world):
    typed = _prepared(own, world)
    nonce = _forwarder_nonce(world, own.address)
    forged = own.submit(typed, sign(typed, Account.create().key))
    assert forged.status_code == 422 and code(forged) == "SignedRequestBadSignature", forged.text
    assert _forwarder_nonce(world, own.address) == nonce


def test_another_participants_api_key_with_a_valid_signature_is_refused(own, world, http):
    typed = _prepared(own, world)
    stranger = SigningClient("", world.api_keys["exporter"], Account.create().key, http=http)
    refused = stranger.submit(typed, sign(typed, own.private_key))
    assert refused.status_code == 403 and code(refused) == "SignedRequestNotYours", refused.text


@pytest.mark.parametrize("field", ["data", "gas", "to", "deadline"])
def test_a_field_modified_after_signing_is_refused(own, world, field):
    typed = _prepared(own, world)
    signature = sign(typed, own.private_key)
    message = dict(typed["message"])
    message[field] = {"data": message["data"][:-2] + "ff", "gas": message["gas"] * 2,
                      "to": world.addresses["PaymentRouter"], "deadline": message["deadline"] + 3600}[field]
    modified = {**typed, "message": message}
    nonce = _forwarder_nonce(world, own.address)
    unsigned = own.submit(modified, signature)  # the relayer's change: the signature no longer matches
    assert unsigned.status_code == 422 and code(unsigned) == "SignedRequestBadSignature", unsigned.text
    resigned = own.submit(modified, sign(modified, own.private_key))  # signed, but not what was prepared
    assert resigned.status_code == 404 and code(resigned) == "SignedRequestUnknown", resigned.text
    assert _forwarder_nonce(world, own.address) == nonce


def test_an_expired_signed_request_is_refused_and_nothing_sent(own, world):
    typed = _prepared(own, world)
    signature = sign(typed, own.private_key)
    advance(world, typed["message"]["deadline"] - chain_now(world) + 1)
    nonce = _forwarder_nonce(world, own.address)
    expired = own.submit(typed, signature)
    assert expired.status_code == 409 and code(expired) == "SignedRequestExpired", expired.text
    assert _forwarder_nonce(world, own.address) == nonce


def test_prepare_answers_a_refusal_as_the_custodial_route_does(own, api, world):
    invoice_id = invoice(api, world, confirm=False)  # the exporter's, to the importer
    custodial = api.post("exporter2", f"/v1/invoices/{invoice_id}/confirm")
    prepared = own.prepare(f"/v1/invoices/{invoice_id}/confirm", {})
    assert prepared.status_code == custodial.status_code and code(prepared) == code(custodial), prepared.text


def test_a_relayed_refusal_is_the_contracts_named_error_and_frees_the_nonce(own, world):
    """The chain moves between prepare and submit: two cancellations of one invoice are prepared and signed (nonces
    n and n+1), the first is relayed. The second is refused with the registry's named error, as the custodial route
    would refuse it, nothing is applied, and its nonce is given back: the participant's next request goes through."""
    registered = own.write("/v1/invoices", _invoice_body(world))
    assert registered.status_code == 201, registered.text
    invoice_id = registered.json()["result"]["invoice_id"]
    path, body = f"/v1/invoices/{invoice_id}/cancel", {"reason": "ORDER-WITHDRAWN"}
    first, second = (_signed(own, path, body) for _ in range(2))
    assert second[0]["message"]["nonce"] == first[0]["message"]["nonce"] + 1
    assert own.submit(*first).status_code == 200
    nonce = _forwarder_nonce(world, own.address)
    refused = own.submit(*second)
    assert refused.status_code == 409 and code(refused).startswith("InvoiceRegistry"), refused.text
    assert _forwarder_nonce(world, own.address) == nonce
    follow = own.write("/v1/invoices", _invoice_body(world))
    assert follow.status_code == 201, follow.text


def _signed(own, path: str, body: dict) -> tuple[dict, str]:
    prepared = own.prepare(path, body)
    assert prepared.status_code == 200, prepared.text
    typed = prepared.json()["typed_data"]
    return typed, sign(typed, own.private_key)


def test_sign_request_script_writes_with_a_key_the_gateway_never_sees(own, world, gateway):
    """`scripts/sign_request.py`: prepare, sign with the key from an environment variable, submit."""
    key = "0x" + bytes(own.private_key).hex()
    run = subprocess.run(
        [sys.executable, "scripts/sign_request.py", "--url", gateway.url, "--api-key",
         own.headers["Authorization"].removeprefix("Bearer "), "--private-key-env", "OWN_KEY", "/v1/invoices",
         json.dumps(_invoice_body(world))],
        check=False, cwd=ROOT, env={**os.environ, "OWN_KEY": key}, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("HTTP 201") and f'"seller": "{own.address}"' in run.stdout, run.stdout


# The burst of issue 14: 500 signed requests from 20 participants.
BURST_PARTICIPANTS, BURST_EACH = 20, 25


def test_sigkill_mid_burst_of_signed_requests_then_restart_gives_each_exactly_one_effect(api, world, http, tmp_path):
    """Twenty participants with their own keys each prepare and sign 25 payments (forwarder nonces 0-24); all 500
    are submitted at once to a gateway of their own relayer, which is killed (SIGKILL) once it has sent some; after
    a restart every request is submitted again with its key: each answers 201, those the client saw accepted with
    the same transaction, every signed request executed exactly once (each forwarder nonce at 25), and the relayer
    sent one transaction per request and no other."""
    relayer = add_relayer(settings_for(world.env()), Account.create().key.hex(), world.provider)
    env = world.env(TRADEFIN_RELAYERS=json.dumps([relayer]))
    owners = [_onboarded(api, world, http) for _ in range(BURST_PARTICIPANTS)]
    for owner in owners:
        minted = api.post("bank_cn", "/v1/deposits/mint", json={"currency": "USD", "to": owner.address,
                                                                "amount": 1_000_00, "reference": "SIGKILL"})
        assert minted.status_code == 201, minted.text
    start = _transaction_count(world, relayer)
    process = GatewayProcess(env, log_path=tmp_path / "gateway.log").start()
    try:
        jobs = []  # (owner, typed data, signature, Idempotency-Key, reference)
        with httpx.Client(base_url=process.url, timeout=60.0) as own_http:
            for owner in owners:
                client = SigningClient("", owner.headers["Authorization"].removeprefix("Bearer "), owner.private_key,
                                       http=own_http)
                for n in range(BURST_EACH):
                    reference = f"kill-{secrets.token_hex(4)}"
                    typed, signature = _signed(client, "/v1/payments", {
                        "currency": "USD", "to": world.roles["supplier1"], "amount": 1 + n, "purpose_code": "SUPP",
                        "reference": reference})
                    assert typed["message"]["nonce"] == n
                    jobs.append((owner, typed, signature, f"kill-{uuid.uuid4()}", reference))

        async def burst_then_kill():
            task = asyncio.create_task(_submit_all(process.url, jobs))
            while _transaction_count(world, relayer, "pending") < start + 40 and not task.done():
                await asyncio.sleep(0.002)
            process.kill()
            return await task

        first = asyncio.run(burst_then_kill())
    finally:
        process.kill()
    accepted = {key: r.json()["tx_hash"] for (_, _, _, key, _), r in zip(jobs, first)
                if isinstance(r, httpx.Response) and r.status_code == 201}
    assert len(accepted) < len(jobs), "the kill came after every request was answered"

    with GatewayProcess(env, log_path=tmp_path / "gateway.log") as restarted:
        second = asyncio.run(_submit_all(restarted.url, jobs))
    assert [r.status_code for r in second] == [201] * len(jobs), [r.text for r in second if r.status_code != 201][:3]
    answers = {key: r.json()["tx_hash"] for (_, _, _, key, _), r in zip(jobs, second)}
    for key, tx_hash in accepted.items():
        assert answers[key] == tx_hash
    assert len(set(answers.values())) == len(jobs)
    assert all(_forwarder_nonce(world, owner.address) == BURST_EACH for owner in owners)
    assert _transaction_count(world, relayer) == start + len(jobs)
    assert sorted(r.json()["result"]["reference"] for r in second) == \
        sorted("0x" + keccak(text=reference).hex() for *_, reference in jobs)


def _onboarded(api, world, http) -> SigningClient:
    account = Account.create()
    assert api.post("operator", "/v1/participants", json={
        "address": account.address, "kind": "Corporate", "jurisdiction": "CN",
        "identity_hash": "0x" + secrets.token_hex(32)}).status_code == 201
    assert api.post("bank_cn", f"/v1/participants/{account.address}/kyc", json={
        "status": "Approved", "expiry": chain_now(world) + 365 * 86_400,
        "evidence_hash": "0x" + "e5" * 32}).status_code == 200
    issued = api.post("operator", "/v1/api-keys", json={"participant": account.address})
    assert issued.status_code == 201, issued.text
    return SigningClient("", issued.json()["api_key"], account.key, http=http, chain_id=world.chain_id)


async def _submit_all(url: str, jobs: list) -> list:
    """Every job submitted at once, each on a connection of its own: a participant's later nonces wait in the gateway
    for its earlier ones (`relay_order`), not in the client's connection pool behind other participants'."""
    limits = httpx.Limits(max_connections=len(jobs), max_keepalive_connections=len(jobs))
    async with httpx.AsyncClient(base_url=url, timeout=60.0, limits=limits) as client:
        async def one(owner, typed, signature, key):
            try:
                return await client.post("/v1/signed-requests", json={"typed_data": typed, "signature": signature},
                                         headers=owner.headers | {"Idempotency-Key": key})
            except httpx.HTTPError as exc:
                return exc

        return await asyncio.gather(*(one(o, t, s, k) for o, t, s, k, _ in jobs))


def _transaction_count(world, address: str, block: str = "latest") -> int:
    return int(node_rpc(world.rpc_url, "eth_getTransactionCount", [address, block]), 16)


def test_custody_release_moves_a_custodial_corporate_to_its_own_key_and_destroys_the_old_one(api, world, http):
    """Both modes side by side: a custodial corporate (the gateway created its key) moves to its own key. Its
    balance and API key move to its own wallet, linked to its identity; the keystore is removed and recorded; the
    gateway can no longer sign for it, and the same API key writes through signed requests."""
    registered = api.post("operator", "/v1/participants", json={
        "kind": "Corporate", "jurisdiction": "CN", "identity_hash": "0x" + secrets.token_hex(32)})
    assert registered.status_code == 201 and registered.json()["result"]["custodial"], registered.text
    address = registered.json()["result"]["address"]
    assert api.post("bank_cn", f"/v1/participants/{address}/kyc", json={
        "status": "Approved", "expiry": chain_now(world) + 365 * 86_400, "evidence_hash": "0x" + "e6" * 32,
    }).status_code == 200
    token = api.post("operator", "/v1/api-keys", json={"participant": address}).json()["api_key"]
    assert api.post("bank_cn", "/v1/deposits/mint", json={"currency": "USD", "to": address, "amount": 5_000_00,
                                                          "reference": "CUSTODY"}).status_code == 201
    node_rpc(world.rpc_url, "anvil_setBalance", [address, hex(10**18)])  # gas money of the custodial key
    keystore = Path(world.data_dir) / "keystores" / f"{address}.json"
    assert keystore.exists()
    mine = {"Authorization": f"Bearer {token}"}
    payment = {"currency": "USD", "to": world.roles["supplier1"], "amount": 1_00, "purpose_code": "SUPP",
               "reference": "custodial"}
    assert http.post("/v1/payments", json=payment, headers=mine | {"Idempotency-Key": secrets.token_hex(8)}
                     ).status_code == 201  # custodial: the gateway signs

    own = Account.create()
    release = {"wallet": own.address}
    released = api.post("operator", f"/v1/participants/{address}/custody/release", key="release-1", json=release)
    assert released.status_code == 200, released.text
    body = released.json()
    assert body["wallet"] == own.address and body["api_keys_repointed"] == 1
    assert body["moved"] == [{"currency": "USD", "amount": 4_999_00, "tx_hash": body["moved"][0]["tx_hash"]}]
    assert not keystore.exists()
    assert http.get("/v1/me", headers=mine).json()["address"] == own.address  # the same key, re-pointed
    custodial = http.post("/v1/payments", json=payment, headers=mine | {"Idempotency-Key": secrets.token_hex(8)})
    assert custodial.status_code == 403 and code(custodial) == "NoSigningKey", custodial.text
    signed = SigningClient("", token, own.key, http=http).write("/v1/payments", payment | {"reference": "own key"})
    assert signed.status_code == 201, signed.text
    assert api.get("operator", f"/v1/participants/{own.address}").json()["wallets"] == [address, own.address]
    assert http.get("/v1/me", headers=mine).json()["can_sign"] is False

    again = api.post("operator", f"/v1/participants/{address}/custody/release", key="release-1", json=release)
    assert again.status_code == 200 and again.json()["moved"] == [] and again.json()["wallet"] == own.address
    other = api.post("operator", f"/v1/participants/{address}/custody/release", json={"wallet": Account.create().address})
    assert other.status_code == 409 and code(other) == "CustodyAlreadyReleased", other.text
    not_held = api.post("operator", f"/v1/participants/{own.address}/custody/release",
                        json={"wallet": Account.create().address})
    assert not_held.status_code == 422 and code(not_held) == "NotInCustody", not_held.text


SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@pytest.mark.parametrize("form", ["high-s", "v-0-1"])
def test_malleable_or_v01_signature_is_refused_and_relayer_sends_nothing(own, world, form):
    """Review finding: eth-keys recovers the signer from the high-s twin of a signature and from v 0/1, the
    forwarder does not: relayed, the transaction was certain to revert at the relayer's expense."""
    typed = _prepared(own, world)
    raw = bytes.fromhex(sign(typed, own.private_key)[2:])
    r, s, v = raw[:32], int.from_bytes(raw[32:64], "big"), raw[64]
    other = r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v]) if form == "high-s" else \
        r + s.to_bytes(32, "big") + bytes([v - 27])
    relayer = world.env()["TRADEFIN_RELAYERS"].strip('[]" ')
    sent = _transaction_count(world, relayer)
    refused = own.submit(typed, "0x" + other.hex())
    assert refused.status_code == 422 and code(refused) == "SignedRequestBadSignature", refused.text
    assert _transaction_count(world, relayer) == sent


def test_key_replays_after_duplicate_submission_under_other_key(own, world):
    """Review finding: the duplicate's refusal deleted the prepared request, and the first key then answered
    `SignedRequestUnknown` instead of its answer."""
    typed = _prepared(own, world)
    signature = sign(typed, own.private_key)
    first = own.submit(typed, signature, key="dup-first")
    assert first.status_code == 201, first.text
    duplicate = own.submit(typed, signature, key="dup-second")
    assert duplicate.status_code == 409 and code(duplicate) == "SignedRequestNonceUsed", duplicate.text
    again = own.submit(typed, signature, key="dup-first")
    assert again.status_code == 201 and again.json() == first.json(), again.text
    other = own.submit(_prepared(own, world), signature, key="dup-first")  # another request under the used key
    assert other.status_code == 422 and code(other) == "IdempotencyKeyReused", other.text


def test_two_signed_requests_first_refused_second_reverted_and_participant_not_blocked(own, api, world):
    """Review finding: after a request was refused and the one signed after it reverted on chain (its nonce was not
    the forwarder's), the gateway's order ran ahead of the chain and every later request reverted too."""
    registered = own.write("/v1/invoices", _invoice_body(world))
    assert registered.status_code == 201, registered.text
    invoice_id = registered.json()["result"]["invoice_id"]
    cancel = _signed(own, f"/v1/invoices/{invoice_id}/cancel", {"reason": "ORDER-WITHDRAWN"})
    register = _signed(own, "/v1/invoices", _invoice_body(world))
    assert register[0]["message"]["nonce"] == cancel[0]["message"]["nonce"] + 1
    frozen = api.post("regulator", f"/v1/instruments/invoice/{invoice_id}/freeze", json={"reason": "AML-HOLD"})
    assert frozen.status_code == 200, frozen.text

    async def both():
        async with httpx.AsyncClient(base_url=str(own.http.base_url) or None, timeout=60) as client:
            async def one(typed, signature):
                return await client.post("/v1/signed-requests", json={"typed_data": typed, "signature": signature},
                                         headers=own.headers | {"Idempotency-Key": f"pair-{uuid.uuid4()}"})
            return await asyncio.gather(one(*cancel), one(*register))

    refused, reverted = asyncio.run(both())
    assert refused.status_code in (403, 409) and not code(refused).startswith("SignedRequest"), refused.text
    assert not 200 <= reverted.status_code < 300, reverted.text
    nonce = _forwarder_nonce(world, own.address)
    assert nonce == cancel[0]["message"]["nonce"]  # neither executed
    follow = own.write("/v1/invoices", _invoice_body(world))
    assert follow.status_code == 201, follow.text
    assert _forwarder_nonce(world, own.address) == nonce + 1


def test_custody_release_refused_while_address_owns_open_invoice(api, world, http):
    """Review finding: the release destroyed the key of an address the contracts still knew as an open invoice's
    seller. Refused; the key stays."""
    registered = api.post("operator", "/v1/participants", json={
        "kind": "Corporate", "jurisdiction": "CN", "identity_hash": "0x" + secrets.token_hex(32)})
    address = registered.json()["result"]["address"]
    node_rpc(world.rpc_url, "anvil_setBalance", [address, hex(10**18)])
    assert api.post("bank_cn", f"/v1/participants/{address}/kyc", json={
        "status": "Approved", "expiry": chain_now(world) + 365 * 86_400, "evidence_hash": "0x" + "e7" * 32,
    }).status_code == 200
    token = api.post("operator", "/v1/api-keys", json={"participant": address}).json()["api_key"]
    seller = {"Authorization": f"Bearer {token}", "Idempotency-Key": secrets.token_hex(8)}
    invoice_id = http.post("/v1/invoices", json=_invoice_body(world), headers=seller).json()["result"]["invoice_id"]
    wait_for(lambda: api.get("regulator", f"/v1/instruments/invoice/{invoice_id}"), lambda r: r.status_code == 200)
    refused = api.post("operator", f"/v1/participants/{address}/custody/release",
                       json={"wallet": Account.create().address})
    assert refused.status_code == 409 and code(refused) == "CustodyOpenInstruments", refused.text
    assert f"invoice:{invoice_id}" in refused.json()["error"]["details"]["instruments"]
    assert (Path(world.data_dir) / "keystores" / f"{address}.json").exists()
