"""Every route's success path and errors, and who may and may not call it."""

from __future__ import annotations

import secrets

import httpx
import pytest
from conftest import idem
from eth_account import Account
from gateway_world import GatewayProcess, free_port
from instrument_helpers import chain_now, code, rpc

CORPORATES = ("exporter", "importer", "supplier1", "supplier2", "supplier3", "exporter2")
EVERY_ROLE = ("operator", "regulator", "bank_cn", "bank_us", "exporter", "importer", "attester")






def _new_participant(kind: str = "Corporate", jurisdiction: str = "DE") -> dict:
    return {"address": Account.create().address, "kind": kind, "jurisdiction": jurisdiction,
            "identity_hash": "0x" + secrets.token_hex(32)}


def _payment(world, to_role: str = "importer", **overrides) -> dict:
    return {"currency": "USD", "to": world.roles[to_role], "amount": 100, "purpose_code": "GDDS",
            "reference": f"ref-{secrets.token_hex(4)}"} | overrides


# ───────────────────────────── authentication ─────────────────────────────

def test_requests_without_api_key_are_unauthenticated(http):
    r = http.get("/v1/me")
    assert r.status_code == 401 and code(r) == "Unauthenticated"
    assert r.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("token", ["nope", "tfk_0123456789abcdef_wrongsecret", "tfk_short"])
def test_unknown_or_malformed_api_keys_are_refused(http, token):
    r = http.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401


@pytest.mark.parametrize("role", EVERY_ROLE)
def test_me_names_the_key_owner(api, world, role):
    r = api.get(role, "/v1/me")
    assert r.status_code == 200
    assert r.json()["address"] == world.roles[role]
    assert r.json()["can_sign"] is True


# ───────────────────────────── API keys ─────────────────────────────

def test_operator_issues_a_key_that_works_and_revokes_it(api, http, world):
    issued = api.post("operator", "/v1/api-keys", json={"participant": world.roles["importer"], "label": "ERP"})
    assert issued.status_code == 201
    token = issued.json()["api_key"]
    assert http.get("/v1/me", headers={"Authorization": f"Bearer {token}"}).json()["address"] == world.roles["importer"]
    revoked = api.delete("operator", f"/v1/api-keys/{issued.json()['key_id']}")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert http.get("/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


@pytest.mark.parametrize("role", ["regulator", "bank_cn", "exporter", "attester"])
def test_only_the_operator_issues_keys(api, world, role):
    r = api.post(role, "/v1/api-keys", json={"participant": world.roles[role]})
    assert r.status_code == 403
    assert code(r) == ("RegulatorWritesOnlySupervision" if role == "regulator" else "CallerKindNotAllowed")


def test_keys_are_issued_only_to_registered_participants(api):
    r = api.post("operator", "/v1/api-keys", json={"participant": Account.create().address})
    assert r.status_code == 404 and code(r) == "ParticipantUnknown"


def test_a_participant_lists_only_its_own_keys_and_cannot_revoke_others(api, world):
    own = api.get("exporter", "/v1/api-keys").json()
    assert own and {k["participant"] for k in own} == {world.roles["exporter"]}
    everyone = api.get("operator", "/v1/api-keys").json()
    assert len({k["participant"] for k in everyone}) > 1
    importer_key = next(k for k in everyone if k["participant"] == world.roles["importer"])
    r = api.delete("exporter", f"/v1/api-keys/{importer_key['key_id']}")
    assert r.status_code == 403 and code(r) == "ApiKeyNotYours"


def test_a_participant_may_revoke_its_own_key(api, http, world):
    token = api.post("operator", "/v1/api-keys", json={"participant": world.roles["supplier3"]}).json()
    r = http.delete(f"/v1/api-keys/{token['key_id']}", headers={"Authorization": f"Bearer {token['api_key']}"})
    assert r.status_code == 200


# ───────────────────────────── participants and KYC ─────────────────────────────

def test_operator_registers_a_participant(api):
    body = _new_participant()
    r = api.post("operator", "/v1/participants", json=body)
    assert r.status_code == 201, r.text
    result = r.json()["result"]
    assert result == {"address": body["address"], "kind": "Corporate", "jurisdiction": "DE",
                      "identity_hash": body["identity_hash"], "custodial": False}
    assert r.json()["block_number"] > 0
    public = api.get("exporter", f"/v1/participants/{body['address']}").json()
    assert public["kind"] == "Corporate" and public["active"] is False  # no KYC yet
    assert public["kyc_valid_until"] == 0 and public["kyc_attestations"] == []
    assert public["wallets"] == [body["address"]] and public["identity_hash"] == body["identity_hash"]


@pytest.mark.parametrize("contract", ["InvoiceRegistry", "ReceivableFinancing", "LetterOfCredit", "PaymentRouter",
                                      "PayableCertificates"])
def test_the_platforms_instrument_contracts_are_participants_of_kind_instrument(api, world, contract):
    r = api.get("exporter", f"/v1/participants/{world.addresses[contract]}")
    assert r.status_code == 200, r.text
    assert r.json()["kind"] == "Instrument" and r.json()["active"] is True


def test_a_key_for_an_instrument_contract_answers_its_kind_and_cannot_sign(api, http, world):
    issued = api.post("operator", "/v1/api-keys", json={"participant": world.addresses["PaymentRouter"]})
    assert issued.status_code == 201, issued.text
    me = http.get("/v1/me", headers={"Authorization": f"Bearer {issued.json()['api_key']}"})
    assert me.status_code == 200 and me.json()["kind"] == "Instrument" and me.json()["can_sign"] is False
    refused = http.post("/v1/certificates/offers", headers={"Authorization": f"Bearer {issued.json()['api_key']}",
                                                            **idem()},
                        json={"invoice_id": "1", "amount": 1, "maturity": chain_now(world) + 60})
    assert refused.status_code == 403 and code(refused) == "CallerKindNotAllowed"
    api.delete("operator", f"/v1/api-keys/{issued.json()['key_id']}")


def test_an_identity_registers_once_and_a_zero_identity_is_422(api):
    body = _new_participant()
    assert api.post("operator", "/v1/participants", json=body).status_code == 201
    again = api.post("operator", "/v1/participants", json=_new_participant() | {"identity_hash": body["identity_hash"]})
    assert again.status_code == 409 and code(again) == "ParticipantRegistryIdentityTaken"
    assert again.json()["error"]["details"] == {"identityHash": body["identity_hash"], "account": body["address"]}
    assert "link a further wallet" in again.json()["error"]["message"]
    zero = api.post("operator", "/v1/participants", json=_new_participant() | {"identity_hash": "0x" + "00" * 32})
    assert zero.status_code == 422 and zero.json()["error"]["details"]["fields"][0]["field"] == "body.identity_hash"


def test_operator_links_a_second_wallet_that_shares_the_identity_its_kyc_and_its_duplicate_keys(api, http, world):
    body = _new_participant()
    assert api.post("operator", "/v1/participants", json=body).status_code == 201
    approved = api.post("bank_cn", f"/v1/participants/{body['address']}/kyc", json={
        "status": "Approved", "expiry": chain_now(world) + 86_400, "evidence_hash": "0x" + "e5" * 32})
    assert approved.status_code == 200, approved.text
    keystores = world.data_dir / "keystores"
    before = set(keystores.glob("0x*.json"))
    link_key = f"link-{secrets.token_hex(4)}"
    linked = api.post("operator", f"/v1/participants/{body['address']}/wallets", key=link_key, json={})
    assert linked.status_code == 201, linked.text
    again = api.post("operator", f"/v1/participants/{body['address']}/wallets", key=link_key, json={})
    assert again.json() == linked.json() and again.headers["Idempotent-Replayed"] == "true"
    assert len(set(keystores.glob("0x*.json")) - before) == 1, "one key for the wallet, however often asked"
    result = linked.json()["result"]
    assert result["existing"] == body["address"] and result["identity_hash"] == body["identity_hash"]
    assert result["kind"] == "Corporate" and result["jurisdiction"] == "DE" and result["custodial"] is True
    wallet = result["wallet"]
    public = api.get("exporter", f"/v1/participants/{wallet}").json()
    assert public["active"] is True, "the identity's KYC covers the new wallet"
    assert public["wallets"] == [body["address"], wallet]
    assert api.get("exporter", f"/v1/participants/{body['address']}").json()["wallets"] == [body["address"], wallet]

    # The new wallet signs (the gateway holds its key), and its invoices have the identity's duplicate keys.
    token = api.post("operator", "/v1/api-keys", json={"participant": wallet}).json()["api_key"]
    rpc(world, "anvil_setBalance", [wallet, hex(10**18)])
    invoice = {"buyer": world.roles["importer"], "currency": "USD", "invoice_number": f"W-{secrets.token_hex(4)}",
               "face_amount": 1000, "issue_date": 0, "due_date": chain_now(world) + 90 * 86_400,
               "document_hash": "0x" + "c6" * 32}
    first = http.post("/v1/invoices", json=invoice, headers={"Authorization": f"Bearer {token}", **idem()})
    assert first.status_code == 201 and first.json()["result"]["seller"] == wallet, first.text
    again = http.post("/v1/invoices", json=invoice, headers={"Authorization": f"Bearer {token}", **idem()})
    assert again.status_code == 409 and code(again) == "InvoiceRegistryAlreadyRegistered"

    twice = api.post("operator", f"/v1/participants/{body['address']}/wallets", json={"wallet": wallet})
    assert twice.status_code == 409 and code(twice) == "ParticipantRegistryAlreadyRegistered"
    unknown = api.post("operator", f"/v1/participants/{Account.create().address}/wallets",
                       json={"wallet": Account.create().address})
    assert unknown.status_code == 404 and code(unknown) == "ParticipantRegistryUnknownParticipant"


@pytest.mark.parametrize("role", ["regulator", "bank_cn", "exporter"])
def test_only_the_operator_links_wallets(api, world, role):
    r = api.post(role, f"/v1/participants/{world.roles['exporter']}/wallets", json={"wallet": Account.create().address})
    assert r.status_code == 403
    assert code(r) == ("RegulatorWritesOnlySupervision" if role == "regulator" else "CallerKindNotAllowed")


def test_a_participant_onboarded_without_an_address_gets_a_key_the_gateway_holds_and_signs_with(api, http, world):
    keystores = world.data_dir / "keystores"
    before = set(keystores.glob("0x*.json"))
    body = {k: v for k, v in _new_participant().items() if k != "address"}
    first = api.post("operator", "/v1/participants", key="onboard-custodial-1", json=body)
    assert first.status_code == 201, first.text
    result = first.json()["result"]
    assert result["custodial"] is True and result["kind"] == "Corporate"
    address = result["address"]
    created = set(keystores.glob("0x*.json")) - before
    assert [p.name for p in created] == [f"{address}.json"], "one encrypted keystore, named by the address"
    assert "crypto" in (keystores / f"{address}.json").read_text()  # eth-account keyfile, never the key

    again = api.post("operator", "/v1/participants", key="onboard-custodial-1", json=body)
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert set(keystores.glob("0x*.json")) - before == created, "a repeated request creates no second key"

    # KYC by a bank, an API key from the operator, gas from the chain's own policy (here Anvil's)
    assert api.post("bank_cn", f"/v1/participants/{address}/kyc", json={
        "status": "Approved", "expiry": chain_now(world) + 86_400, "evidence_hash": "0x" + "e3" * 32}).status_code == 200
    token = api.post("operator", "/v1/api-keys", json={"participant": address}).json()["api_key"]
    rpc(world, "anvil_setBalance", [address, hex(10**18)])

    invoice = {"buyer": world.roles["importer"], "currency": "USD", "invoice_number": f"CUST-{secrets.token_hex(4)}",
               "face_amount": 1000, "issue_date": 0, "due_date": chain_now(world) + 90 * 86_400,
               "document_hash": "0x" + "c5" * 32}
    r = http.post("/v1/invoices", json=invoice, headers={"Authorization": f"Bearer {token}", **idem()})
    assert r.status_code == 201, r.text
    assert r.json()["result"]["seller"] == address, "signed by the key the gateway created"


def test_registering_twice_answers_409_with_the_custom_error(api):
    body = _new_participant()
    assert api.post("operator", "/v1/participants", json=body).status_code == 201
    r = api.post("operator", "/v1/participants", json=body)
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "ParticipantRegistryAlreadyRegistered"
    assert r.json()["error"]["details"] == {"account": body["address"]}


@pytest.mark.parametrize("role", ["regulator", "bank_cn", "exporter", "attester"])
def test_only_the_operator_registers_participants(api, role):
    r = api.post(role, "/v1/participants", json=_new_participant())
    assert r.status_code == 403


def test_registration_input_is_validated_with_field_reasons(api):
    r = api.post("operator", "/v1/participants", json=_new_participant() | {"jurisdiction": "de", "address": "0x12"})
    assert r.status_code == 422
    fields = {f["field"] for f in r.json()["error"]["details"]["fields"]}
    assert {"body.jurisdiction", "body.address"} <= fields


def test_unknown_participant_is_404(api):
    r = api.get("exporter", f"/v1/participants/{Account.create().address}")
    assert r.status_code == 404 and code(r) == "ParticipantUnknown"


def test_bank_attests_kyc_and_the_corporate_becomes_active(api, world):
    body = _new_participant()
    api.post("operator", "/v1/participants", json=body)
    r = api.post("bank_cn", f"/v1/participants/{body['address']}/kyc",
                 json={"status": "Approved", "expiry": chain_now(world) + 86_400, "evidence_hash": "0x" + "e1" * 32})
    assert r.status_code == 200, r.text
    assert r.json()["result"]["bank"] == world.roles["bank_cn"]
    assert r.json()["result"]["status"] == "Approved"
    assert api.get("exporter", f"/v1/participants/{body['address']}").json()["active"] is True


def test_kyc_with_a_past_expiry_is_422(api, world):
    r = api.post("bank_cn", f"/v1/participants/{world.roles['exporter']}/kyc",
                 json={"status": "Approved", "expiry": 1, "evidence_hash": "0x" + "e1" * 32})
    assert r.status_code == 422 and code(r) == "ParticipantRegistryInvalidKycExpiry"


def _kyc_valid_corporate(api, world) -> str:
    body = _new_participant()
    assert api.post("operator", "/v1/participants", json=body).status_code == 201
    r = api.post("bank_cn", f"/v1/participants/{body['address']}/kyc",
                 json={"status": "Approved", "expiry": chain_now(world) + 86_400, "evidence_hash": "0x" + "e1" * 32})
    assert r.status_code == 200, r.text
    assert r.json()["result"]["kyc_valid_until"] == r.json()["result"]["expiry"]
    return body["address"]


def test_a_bank_changes_only_its_own_kyc_attestation(api, world):
    address = _kyc_valid_corporate(api, world)
    approved_until = api.get("exporter", f"/v1/participants/{address}").json()["kyc_valid_until"]
    r = api.post("bank_us", f"/v1/participants/{address}/kyc",
                 json={"status": "Revoked", "expiry": 0, "evidence_hash": "0x" + "e2" * 32})
    assert r.status_code == 200, r.text
    assert r.json()["result"]["status"] == "Revoked" and r.json()["result"]["kyc_valid_until"] is None
    public = api.get("exporter", f"/v1/participants/{address}").json()
    assert public["active"] is True and public["kyc_valid_until"] == approved_until, "bank_cn's approval stands"
    assert {a["bank"]: a["status"] for a in public["kyc_attestations"]} == {
        world.roles["bank_cn"]: "Approved", world.roles["bank_us"]: "Revoked"}

    own = api.post("bank_cn", f"/v1/participants/{address}/kyc",
                   json={"status": "Revoked", "expiry": 0, "evidence_hash": "0x" + "e3" * 32})
    assert own.status_code == 200 and own.json()["result"]["kyc_valid_until"] == 0
    assert api.get("exporter", f"/v1/participants/{address}").json()["active"] is False


def test_kyc_is_only_for_corporates(api, world):
    r = api.post("bank_cn", f"/v1/participants/{world.roles['attester']}/kyc",
                 json={"status": "Approved", "expiry": chain_now(world) + 86_400, "evidence_hash": "0x" + "e1" * 32})
    assert r.status_code == 422 and code(r) == "ParticipantRegistryUnexpectedKind"
    details = r.json()["error"]["details"]
    assert details["actual"] == "Attester" and details["expected"] == "Corporate", "kinds by name, not number"


def test_the_regulator_revokes_every_kyc_attestation_and_the_corporate_stops_until_a_bank_attests_again(api, world):
    address = _kyc_valid_corporate(api, world)
    r = api.post("regulator", f"/v1/participants/{address}/kyc/revoke", json={"reason": "AML-FINDING-7"})
    assert r.status_code == 200, r.text
    assert r.json()["result"] | {"reason_code": None} == {"account": address, "regulator": world.roles["regulator"],
                                                          "reason_code": None, "kyc_valid_until": 0}
    public = api.get("exporter", f"/v1/participants/{address}").json()
    assert public["active"] is False and public["kyc_valid_until"] == 0
    assert [a["status"] for a in public["kyc_attestations"]] == ["Revoked"]
    minted = api.post("bank_cn", "/v1/deposits/mint", json={"currency": "USD", "to": address, "amount": 1,
                                                            "reference": "X"})
    assert minted.status_code == 403 and code(minted) == "SettlementTokenInactiveParty"
    again = api.post("bank_us", f"/v1/participants/{address}/kyc", json={
        "status": "Approved", "expiry": chain_now(world) + 86_400, "evidence_hash": "0x" + "e4" * 32})
    assert again.status_code == 200 and again.json()["result"]["kyc_valid_until"] > 0
    assert api.get("exporter", f"/v1/participants/{address}").json()["active"] is True


@pytest.mark.parametrize("role", ["operator", "bank_cn", "exporter", "attester"])
def test_only_the_regulator_revokes_kyc(api, world, role):
    r = api.post(role, f"/v1/participants/{world.roles['supplier1']}/kyc/revoke", json={"reason": "X"})
    assert r.status_code == 403 and code(r) == "CallerKindNotAllowed"


def test_a_frozen_bank_is_refused_by_the_authority_check(api, world):
    """The one authority check answers 403 with the registry's own error: a frozen participant may not act."""
    frozen = api.post("regulator", f"/v1/participants/{world.roles['bank_us']}/freeze", json={"reason": "REVIEW"})
    assert frozen.status_code == 200, frozen.text
    try:
        r = api.post("bank_us", "/v1/deposits/mint", json={"currency": "USD", "to": world.roles["importer"],
                                                            "amount": 1, "reference": "X"})
        assert r.status_code == 403 and code(r) == "ParticipantRegistryParticipantFrozen"
        assert r.json()["error"]["details"] == {"account": world.roles["bank_us"]}
        assert "froze" in r.json()["error"]["message"]
    finally:
        assert api.post("regulator", f"/v1/participants/{world.roles['bank_us']}/unfreeze",
                        json={"reason": "CLEARED"}).status_code == 200


@pytest.mark.parametrize("role", ["operator", "regulator", "exporter", "attester"])
def test_only_banks_attest_kyc(api, world, role):
    r = api.post(role, f"/v1/participants/{world.roles['exporter']}/kyc",
                 json={"status": "Approved", "expiry": chain_now(world) + 86_400, "evidence_hash": "0x" + "e1" * 32})
    assert r.status_code == 403


# ───────────────────────────── freezes ─────────────────────────────

def test_regulator_freezes_a_participant_whose_payments_then_fail_and_unfreezes_it(api, world):
    target = world.roles["supplier1"]
    frozen = api.post("regulator", f"/v1/participants/{target}/freeze", json={"reason": "SANCTIONS-CHECK"})
    try:
        assert frozen.status_code == 200, frozen.text
        assert frozen.json()["result"]["frozen"] is True
        assert api.get("exporter", f"/v1/participants/{target}").json()["frozen"] is True
        again = api.post("regulator", f"/v1/participants/{target}/freeze", json={"reason": "SANCTIONS-CHECK"})
        assert again.status_code == 409 and code(again) == "ParticipantRegistryFreezeUnchanged"
        paid = api.post("supplier1", "/v1/payments", json=_payment(world))
        assert paid.status_code == 403 and code(paid) == "SettlementTokenInactiveParty"
        assert paid.json()["error"]["details"] == {"account": target}
    finally:
        thawed = api.post("regulator", f"/v1/participants/{target}/unfreeze", json={"reason": "CLEARED"})
    assert thawed.status_code == 200 and thawed.json()["result"]["frozen"] is False


def test_regulator_freezes_and_unfreezes_an_instrument(api, world):
    r = api.post("regulator", "/v1/instruments/SettlementTokenUSD/42/freeze", json={"reason": "REVIEW"})
    assert r.status_code == 200, r.text
    assert r.json()["result"]["subject"] == f"{world.addresses['SettlementTokenUSD']}:42"
    r = api.post("regulator", "/v1/instruments/SettlementTokenUSD/42/unfreeze", json={"reason": "REVIEW-DONE"})
    assert r.status_code == 200 and r.json()["result"]["frozen"] is False


def test_freezing_an_unknown_instrument_contract_is_404(api):
    r = api.post("regulator", "/v1/instruments/NoSuchContract/1/freeze", json={"reason": "X"})
    assert r.status_code == 404 and code(r) == "InstrumentContractUnknown"


@pytest.mark.parametrize("role", ["operator", "bank_cn", "exporter", "attester"])
def test_only_the_regulator_freezes(api, world, role):
    assert api.post(role, f"/v1/participants/{world.roles['attester']}/freeze",
                    json={"reason": "X"}).status_code == 403
    assert api.post(role, "/v1/instruments/SettlementTokenUSD/1/freeze", json={"reason": "X"}).status_code == 403


# ───────────────────────────── deposits and balances ─────────────────────────────

def test_bank_mints_to_a_customer_and_burns_its_own(api, world):
    before = {b["currency"]: b["amount"] for b in api.get("importer", "/v1/balances").json()["balances"]}
    minted = api.post("bank_us", "/v1/deposits/mint", json={"currency": "EUR", "to": world.roles["importer"],
                                                             "amount": 5000, "reference": "DEP-1"})
    assert minted.status_code == 201, minted.text
    assert minted.json()["result"]["to"] == world.roles["importer"]
    after = {b["currency"]: b["amount"] for b in api.get("importer", "/v1/balances").json()["balances"]}
    assert after["EUR"] == before["EUR"] + 5000
    burned = api.post("bank_us", "/v1/deposits/burn", json={"currency": "EUR", "amount": 700, "reference": "WDR-1"})
    assert burned.status_code == 200 and burned.json()["result"]["amount"] == 700


@pytest.mark.parametrize("role", ["operator", "regulator", "exporter", "attester"])
def test_only_banks_mint_and_burn(api, world, role):
    assert api.post(role, "/v1/deposits/mint", json={"currency": "USD", "to": world.roles[role], "amount": 1,
                                                      "reference": "X"}).status_code == 403
    assert api.post(role, "/v1/deposits/burn", json={"currency": "USD", "amount": 1,
                                                      "reference": "X"}).status_code == 403


def test_minting_to_an_unregistered_account_is_refused_by_the_token(api, world):
    r = api.post("bank_cn", "/v1/deposits/mint", json={"currency": "USD", "to": world.roles["outsider"],
                                                        "amount": 1, "reference": "X"})
    assert r.status_code == 403 and code(r) == "SettlementTokenInactiveParty"


def test_unsupported_currency_is_422(api, world):
    r = api.post("exporter", "/v1/payments", json=_payment(world, currency="JPY"))
    assert r.status_code == 422 and code(r) == "UnsupportedCurrency"


def test_balances_are_visible_to_the_holder_the_regulator_and_the_operator_only(api, world):
    target = world.roles["exporter"]
    for role in ("exporter", "regulator", "operator"):
        assert api.get(role, f"/v1/balances/{target}").status_code == 200
    for role in ("importer", "bank_cn", "attester"):
        r = api.get(role, f"/v1/balances/{target}")
        assert r.status_code == 403 and code(r) == "BalancesNotVisible"


# ───────────────────────────── payments ─────────────────────────────

def test_payment_answers_the_transfer_decoded_from_events(api, world):
    r = api.post("exporter", "/v1/payments", json=_payment(world, amount=2500, purpose_code="SCVE"))
    assert r.status_code == 201
    result = r.json()["result"]
    assert result["from"] == world.roles["exporter"] and result["to"] == world.roles["importer"]
    assert result["amount"] == 2500 and result["purpose_code"] == "SCVE"
    assert result["cross_border"] is True  # CN → US


def test_domestic_payment_is_not_cross_border(api, world):
    r = api.post("exporter", "/v1/payments", json=_payment(world, to_role="supplier1"))
    assert r.status_code == 201 and r.json()["result"]["cross_border"] is False


def test_payment_above_the_balance_is_409(api, world):
    r = api.post("exporter", "/v1/payments", json=_payment(world, amount=10**30))
    assert r.status_code == 409 and code(r) == "ERC20InsufficientBalance"
    assert r.json()["error"]["details"]["sender"] == world.roles["exporter"]


def test_payment_to_an_unregistered_account_is_403(api, world):
    r = api.post("exporter", "/v1/payments", json=_payment(world, to_role="outsider"))
    assert r.status_code == 403 and code(r) == "SettlementTokenInactiveParty"


def test_a_refused_write_is_replayed_for_its_key_and_sends_nothing(api, world):
    body = _payment(world, amount=10**30)
    first = api.post("exporter", "/v1/payments", key="refused-once", json=body)
    again = api.post("exporter", "/v1/payments", key="refused-once", json=body)
    assert first.status_code == again.status_code == 409
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize("field,value", [("amount", 0), ("amount", -5), ("purpose_code", "gdds"), ("currency", "usd"),
                                         ("to", "not-an-address"), ("reference", "")])
def test_payment_validation_names_the_field(api, world, field, value):
    r = api.post("exporter", "/v1/payments", json=_payment(world) | {field: value})
    assert r.status_code == 422
    assert r.json()["error"]["details"]["fields"][0]["field"] == f"body.{field}"


def test_writes_need_an_idempotency_key(http, world):
    r = http.post("/v1/payments", json=_payment(world), headers=world.auth("exporter"))
    assert r.status_code == 422
    assert r.json()["error"]["details"]["fields"][0]["field"] == "header.Idempotency-Key"


# ───────────────────────────── documents ─────────────────────────────

def test_document_upload_answers_its_sha256_and_only_parties_download(api, http, world):
    content = b"%PDF-1.7 commercial invoice " + secrets.token_bytes(16)
    r = http.post("/v1/documents", content=content,
                  headers=world.auth("exporter") | {"Content-Type": "application/pdf"})
    assert r.status_code == 201
    import hashlib
    digest = "0x" + hashlib.sha256(content).hexdigest()
    assert r.json()["sha256"] == digest and r.json()["size"] == len(content)
    again = http.post("/v1/documents", content=content, headers=world.auth("exporter"))
    assert again.status_code == 200 and again.json()["sha256"] == digest
    download = api.get("exporter", f"/v1/documents/{digest}")
    assert download.status_code == 200 and download.content == content
    assert download.headers["content-type"] == "application/pdf"
    refused = api.get("importer", f"/v1/documents/{digest}")
    assert refused.status_code == 404 and code(refused) == "DocumentUnknown"  # as for no document at all
    assert api.get("exporter", f"/v1/documents/0x{'00' * 32}").status_code == 404


def test_empty_documents_are_refused(http, world):
    r = http.post("/v1/documents", content=b"", headers=world.auth("exporter"))
    assert r.status_code == 422 and code(r) == "DocumentEmpty"


# ───────────────────────────── chain unavailable ─────────────────────────────

def test_chain_unavailable_answers_503_and_applies_nothing(world, api, tmp_path):
    dead = world.env(TRADEFIN_RPC_URL=f"http://127.0.0.1:{free_port()}")
    process = GatewayProcess(dead, log_path=tmp_path / "dead.log").start(wait_for_chain=False)
    try:
        with httpx.Client(base_url=process.url, timeout=30) as client:
            assert client.get("/health").json()["chain_ready"] is False
            body = _payment(world)
            r = client.post("/v1/payments", json=body,
                            headers=world.auth("exporter") | {"Idempotency-Key": "while-chain-down"})
            # (answered by the guard, which reads the writer's kind from the chain, through the app's translator)
            assert r.status_code == 503 and code(r) == "ChainUnavailable"
            assert int(r.headers["Retry-After"]) >= 1
    finally:
        process.stop()
    # Nothing was stored under that key: the same request succeeds once the chain is back.
    r = api.post("exporter", "/v1/payments", key="while-chain-down", json=body)
    assert r.status_code == 201 and "Idempotent-Replayed" not in r.headers


def test_health_reports_outstanding_transactions(http):
    assert http.get("/health").json()["outstanding_transactions"] == 0


def test_unknown_routes_answer_the_error_shape(http, world):
    r = http.get("/v1/nothing-here", headers=world.auth("exporter"))
    assert r.status_code == 404 and code(r) == "NotFound"
    anonymous = http.get("/v1/nothing-here")  # authentication comes first: a stranger learns no routes
    assert anonymous.status_code == 401 and code(anonymous) == "Unauthenticated"


def test_idem_helper_gives_fresh_keys():
    assert idem() != idem()
