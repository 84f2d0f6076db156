"""Read access (issue 12): what a bank deciding a financing may read, and steps that are no existence oracle
for non-parties, each finding replayed through HTTP against the devnet with a control.

- "A bank with a financing application on its desk can read the invoice it is asked to finance": today's
  reproduction was 404 on the invoice's read routes until the bank had paid the advance.
- "LC steps by non-parties answer state details before any 403": a non-party now gets the same 403 whether
  or not the credit or the presentation exists.
- Attacker review, "desk access after assignment": the desk's access ends when the invoice is assigned away
  from the applicant or liened by another instrument.
- Attacker review, "existence oracle": invoice, financing and certificate steps (and the payoff read) answer a
  non-party the same whether or not the thing exists; the steps open to anyone on chain are taken for parties only.
- Attacker review, "terms document": the approval's description says who reads the terms document.
- Attacker review, third round: steps open to anyone on chain (repay, pay at maturity, record a default, release
  a margin) are taken for parties only ("open steps oracle"); applying under a programme that is not the invoice
  buyer's is one refusal ("programme oracle"); an attester is refused alike for every invoice it may not attest and
  reads one it attested in part ("attester oracle"); a follow-up failing after a write was mined does not answer
  the write as failed ("mined answered as failed"); a stored key of another request lets no stranger past the
  party check ("idempotency race"). The test that moves the chain's clock comes last.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gateway_world import GatewayProcess, settings_for
from instrument_helpers import advance, approve_spender, chain_now, code, invoice, issued_certificate, rpc, wait_for
from node_proxy import RpcProxy

BASE = "/v1/letters-of-credit"


def test_a_bank_reads_the_invoice_of_a_financing_application_on_its_desk(api, world):
    invoice_id = invoice(api, world)
    attested = api.post("attester", f"/v1/invoices/{invoice_id}/customs",
                        json={"declaration_hash": "0x" + "ef" * 32, "declared_amount": 10_000_00})
    assert attested.status_code == 200, attested.text
    path = f"/v1/instruments/invoice/{invoice_id}"
    before = api.get("bank_us", path)
    assert before.status_code == 404 and code(before) == "InstrumentNotFound"  # no application yet: nothing

    applied = api.post("exporter", "/v1/financings", json={"invoice_id": invoice_id, "bank": world.roles["bank_us"],
                                                          "requested_amount": 9_000_00})
    assert applied.status_code == 201, applied.text
    seen = wait_for(lambda: api.get("bank_us", path), lambda r: r.status_code == 200)
    assert seen.status_code == 200, seen.text
    public = seen.json()
    assert public["state"] == "Confirmed" and public["amount"] == 10_000_00
    customs = public["details"]["customs"]
    assert customs["matched"] is True and customs["declared_amount"] == 10_000_00, public
    trail = api.get("bank_us", f"{path}/trail")
    assert trail.status_code == 200
    events = [e["event"] for e in trail.json()["events"]]
    assert "InvoiceRegistered" in events and "FinancingApplied" in events, events
    assert api.get("bank_us", f"{path}/trail/export", params={"format": "csv"}).status_code == 200
    listed = api.get("bank_us", "/v1/instruments/invoice", params={"limit": 200})
    assert invoice_id in [i["id"] for i in listed.json()["items"]]
    # another bank, without an application on its desk, still sees nothing
    assert api.get("bank_cn", path).status_code == 404

    rejected = api.post("bank_us", f"/v1/financings/{applied.json()['result']['financing_id']}/reject",
                        json={"reason": "NO-LIMIT"})
    assert rejected.status_code == 200, rejected.text
    gone = wait_for(lambda: api.get("bank_us", path), lambda r: r.status_code == 404)
    assert gone.status_code == 404  # the access ends with the application


def _terms(world) -> dict:
    now = chain_now(world)
    return {"beneficiary": world.roles["exporter"], "issuing_bank": world.roles["bank_us"],
            "advising_bank": world.roles["bank_cn"], "currency": "USD", "amount": 50_000_00,
            "expiry_date": now + 60 * 86_400, "latest_shipment_date": now + 30 * 86_400,
            "required_documents": ["TransportDocument"]}


def test_lc_steps_by_non_parties_answer_the_same_whether_or_not_the_credit_exists(api, world):
    applied = api.post("importer", BASE, json=_terms(world))
    assert applied.status_code == 201, applied.text
    lc = applied.json()["result"]["lc_id"]
    unknown = str(10**30)

    def answer(role: str, path: str, **kw) -> tuple[int, str, str]:
        r = api.post(role, path, **kw)
        body = r.json()["error"]
        return r.status_code, body["code"], body["message"].replace(unknown, "<lc>").replace(f" {lc} ", " <lc> ")

    corporate_steps = [("presentations", {"json": {"documents": [{"type": "TransportDocument",
                        "sha256": "0x" + "cd" * 32}], "shipment_date": chain_now(world) - 86_400,
                        "amount": 1_00}}),
                       ("presentations/1/waive", {}), ("presentations/1/claim-preclusion", {}),
                       ("amendments/1/accept", {}), ("cancellation/consent", {}), ("cancel-application", {})]
    for step, kw in corporate_steps:
        existing = answer("supplier1", f"{BASE}/{lc}/{step}", **kw)
        missing = answer("supplier1", f"{BASE}/{unknown}/{step}", **kw)
        assert existing == missing, (step, existing, missing)
        assert existing[:2] == (403, "LetterOfCreditUnauthorizedCaller"), (step, existing)
    # bank steps of the issuing bank, asked by another bank: no state, no presentation looked at first
    for step in ("presentations/1/examine", "presentations/7/honour", "presentations/1/refuse", "amendments",
                 "cancellation/request", "issue"):
        kw = {"json": {}} if step.endswith("examine") else {"json": {"margin_amount": 0}} if step == "issue" else \
            {"json": {"amount": 1_00, "expiry_date": chain_now(world) + 86_400 * 50,
                      "latest_shipment_date": chain_now(world) + 86_400 * 20,
                      "required_documents": ["TransportDocument"]}} if step == "amendments" else {}
        existing = answer("bank_cn", f"{BASE}/{lc}/{step}", **kw)
        missing = answer("bank_cn", f"{BASE}/{unknown}/{step}", **kw)
        assert existing == missing and existing[:2] == (403, "LetterOfCreditUnauthorizedCaller"), (step, existing)
    # the parties themselves still get the contract's state answer
    early = api.post("exporter", f"{BASE}/{lc}/presentations/1/claim-preclusion")
    assert early.status_code in (404, 409) and code(early).startswith("LetterOfCredit"), early.text


# ───────────────────────────── attacker review (issue 12, second round) ─────────────────────────────

def _assign_outside_the_gateway(world, seller: str, to: str, invoice_id: str) -> None:
    """The seller assigns the invoice (ERC-721 `transferFrom`) with its own key, as a wallet outside the gateway
    would: the gateway has no route for it. The gateway repairs the nonce this takes (test_self_healing)."""
    from eth_account import Account
    from eth_utils import to_checksum_address

    from app.runner import derive_private_keys
    from scripts._common import TEST_ROLES

    sender, recipient = world.roles[seller], world.roles[to]
    data = "0x23b872dd" + "".join(to_checksum_address(a)[2:].lower().rjust(64, "0") for a in (sender, recipient)) \
        + hex(int(invoice_id))[2:].rjust(64, "0")
    registry = world.addresses["InvoiceRegistry"]
    gas = int(rpc(world, "eth_estimateGas", [{"from": sender, "to": registry, "data": data}]), 16)
    signed = Account.from_key(derive_private_keys(TEST_ROLES)[seller]).sign_transaction({
        "type": 2, "chainId": world.chain_id,
        "nonce": int(rpc(world, "eth_getTransactionCount", [sender, "pending"]), 16), "to": registry, "data": data,
        "value": 0, "gas": gas * 2, "maxFeePerGas": 10**11, "maxPriorityFeePerGas": 10**9})
    tx_hash = rpc(world, "eth_sendRawTransaction", ["0x" + bytes(signed.raw_transaction).hex()])
    receipt = wait_for(lambda: rpc(world, "eth_getTransactionReceipt", [tx_hash]), lambda r: r is not None)
    assert receipt is not None and int(receipt["status"], 16) == 1, receipt


def test_desk_access_after_assignment_a_bank_no_longer_reads_an_invoice_assigned_away(api, world):
    """Finding "desk access after assignment": the bank's application stays `Applied` after the applicant
    assigned the invoice away, and the bank kept reading the new owner's invoice. It now gets the stranger's 404."""
    invoice_id = invoice(api, world, seller="supplier3")
    applied = api.post("supplier3", "/v1/financings", json={"invoice_id": invoice_id, "bank": world.roles["bank_us"],
                                                            "requested_amount": 5_000_00})
    assert applied.status_code == 201, applied.text
    path = f"/v1/instruments/invoice/{invoice_id}"
    on_desk = wait_for(lambda: api.get("bank_us", path), lambda r: r.status_code == 200)
    assert on_desk.status_code == 200, on_desk.text  # control: the application's invoice, while it is the applicant's

    _assign_outside_the_gateway(world, "supplier3", "supplier2", invoice_id)
    assigned = wait_for(lambda: api.get("supplier2", path), lambda r: r.status_code == 200)
    assert assigned.status_code == 200 and assigned.json()["details"]["seller"] == world.roles["supplier2"]
    stranger = api.get("bank_cn", path)
    for route in (path, f"{path}/trail"):
        bank = api.get("bank_us", route)
        assert bank.status_code == 404 and code(bank) == "InstrumentNotFound", bank.text
    assert api.get("bank_us", path).json() == stranger.json(), "the same answer as any stranger's"
    listed = api.get("bank_us", "/v1/instruments/invoice", params={"limit": 200}).json()["items"]
    assert invoice_id not in [i["id"] for i in listed]
    # the application itself is still the bank's to see and to decide (the contract refuses the approval)
    assert api.get("bank_us", f"/v1/instruments/financing/{applied.json()['result']['financing_id']}").status_code \
        == 200
    # later writes of the assigning seller still go through (its nonce was taken outside the gateway)
    assert api.post("supplier3", "/v1/approvals", json={"currency": "USD", "spender": "PaymentRouter",
                                                        "amount": 1}).status_code == 200


def test_desk_access_after_assignment_an_invoice_liened_by_another_instrument_leaves_the_desk(api, world):
    """Finding "desk access after assignment" (second half): a second bank financed the invoice (its lien is
    held for that bank): the first bank's still-`Applied` application no longer opens the invoice to it."""
    approve_spender(api, "bank_cn", "ReceivableFinancing")
    invoice_id = invoice(api, world)
    path = f"/v1/instruments/invoice/{invoice_id}"
    applications = {}
    for bank in ("bank_us", "bank_cn"):
        r = api.post("exporter", "/v1/financings", json={"invoice_id": invoice_id, "bank": world.roles[bank],
                                                         "requested_amount": 5_000_00})
        assert r.status_code == 201, r.text
        applications[bank] = r.json()["result"]["financing_id"]
    for bank in ("bank_us", "bank_cn"):  # control: both applications' banks read the invoice they are asked about
        seen = wait_for(lambda bank=bank: api.get(bank, path), lambda r: r.status_code == 200)
        assert seen.status_code == 200, (bank, seen.text)

    approved = api.post("bank_cn", f"/v1/financings/{applications['bank_cn']}/approve", json={
        "advance_amount": 4_000_00, "rate_bps": 0, "maturity": chain_now(world) + 30 * 86_400,
        "terms_hash": "0x" + secrets.token_hex(32)})
    assert approved.status_code == 200, approved.text
    gone = wait_for(lambda: api.get("bank_us", path), lambda r: r.status_code == 404)
    assert gone.status_code == 404 and gone.json() == api.get("supplier1", path).json()
    financier = api.get("bank_cn", path)
    assert financier.status_code == 200 and financier.json()["details"]["lien_financier"] == world.roles["bank_cn"]


def _same_answer(existing, missing, *ids: str) -> tuple[int, str, str]:
    """Both answers, with the ids asked about written `<id>`, are one answer; (status, code, body)."""
    def normal(r) -> str:
        text = json.dumps(r.json(), sort_keys=True)
        for i in ids:
            text = re.sub(rf"(?<![0-9A-Za-z]){re.escape(str(i))}(?![0-9A-Za-z])", "<id>", text)
        return text

    assert (existing.status_code, normal(existing)) == (missing.status_code, normal(missing)), \
        (existing.text, missing.text)
    return existing.status_code, code(existing), normal(existing)


UNKNOWN_INVOICE = str(10**70)
UNKNOWN_ID = 10**12


def test_existence_oracle_invoice_steps_answer_a_stranger_the_same_whether_or_not_the_invoice_exists(api, world):
    """Finding "existence oracle": a stranger's confirm/cancel/pay answered 403 for an existing invoice (an id is
    the hash of seller, buyer and number: guessable) and 404 for an unknown one."""
    invoice_id = invoice(api, world, confirm=False)
    steps = [("confirm", {}, "InvoiceRegistryNotBuyer"), ("cancel", {"json": {"reason": "PROBE"}},
             "InvoiceRegistryNotSeller"), ("payments", {"json": {"amount": 1}}, "InvoiceRegistryNotBuyer")]
    for step, kw, error in steps:
        existing = api.post("supplier1", f"/v1/invoices/{invoice_id}/{step}", **kw)
        missing = api.post("supplier1", f"/v1/invoices/{UNKNOWN_INVOICE}/{step}", **kw)
        assert _same_answer(existing, missing, invoice_id, UNKNOWN_INVOICE)[:2] == (403, error), step
        assert world.roles["importer"] not in existing.text and world.roles["exporter"] not in existing.text
    # the parties are still answered by the contract
    assert api.post("importer", f"/v1/invoices/{invoice_id}/confirm").status_code == 200
    again = api.post("importer", f"/v1/invoices/{invoice_id}/confirm")
    assert again.status_code == 409 and code(again) == "InvoiceRegistryUnexpectedState"


def test_existence_oracle_financing_steps_and_payoff_answer_a_stranger_the_same_whether_or_not_it_exists(api, world):
    invoice_id = invoice(api, world)
    applied = api.post("exporter", "/v1/financings", json={"invoice_id": invoice_id, "bank": world.roles["bank_cn"],
                                                           "requested_amount": 5_000_00})
    assert applied.status_code == 201, applied.text
    financing = applied.json()["result"]["financing_id"]
    approval = {"advance_amount": 1_00, "rate_bps": 0, "maturity": chain_now(world) + 86_400,
                "terms_hash": "0x" + "cd" * 32}
    bank_steps = [("approve", {"json": approval}), ("reject", {"json": {"reason": "PROBE"}}),
                  ("repayments", {"json": {"amount": 1, "reference": "PROBE"}}), ("default", {}), ("recourse", {})]
    for step, kw in bank_steps:
        existing = api.post("bank_us", f"/v1/financings/{financing}/{step}", **kw)
        missing = api.post("bank_us", f"/v1/financings/{UNKNOWN_ID}/{step}", **kw)
        assert _same_answer(existing, missing, financing, UNKNOWN_ID)[:2] == (403, "ReceivableFinancingNotBank"), step
    existing = api.post("supplier1", f"/v1/financings/{financing}/withdraw")
    missing = api.post("supplier1", f"/v1/financings/{UNKNOWN_ID}/withdraw")
    assert _same_answer(existing, missing, financing, UNKNOWN_ID)[:2] == (403, "ReceivableFinancingNotSeller")
    # repaying stays open to anyone on chain, but the gateway repays for the seller and the bank only: a stranger
    # is refused before anything is sent (here the financing is not even Active)
    existing = api.post("supplier1", f"/v1/financings/{financing}/repay", json={"amount": 1})
    missing = api.post("supplier1", f"/v1/financings/{UNKNOWN_ID}/repay", json={"amount": 1})
    assert _same_answer(existing, missing, financing, UNKNOWN_ID)[:2] == (403, "ReceivableFinancingNotParty")
    seller = api.post("exporter", f"/v1/financings/{financing}/repay", json={"amount": 1})
    assert seller.status_code == 409 and code(seller) == "ReceivableFinancingUnexpectedState", seller.text
    # the payoff read
    existing = api.get("supplier1", f"/v1/financings/{financing}/payoff")
    missing = api.get("supplier1", f"/v1/financings/{UNKNOWN_ID}/payoff")
    assert _same_answer(existing, missing, financing, UNKNOWN_ID)[:2] == (403, "FinancingNotVisible")
    assert api.get("exporter", f"/v1/financings/{financing}/payoff").status_code == 200

    # applying for someone else's invoice under an open programme named its buyer, or 0x0 for no invoice
    programme = api.post("importer", "/v1/financing-programmes", json={"bank": world.roles["bank_cn"],
                                                                        "rate_bps": 450, "limit": 5_000_00})
    assert programme.status_code == 201, programme.text
    programme_id = programme.json()["result"]["programme_id"]
    for role, path in (("bank_us", "accept"), ("bank_us", "close"), ("supplier2", "close")):
        existing = api.post(role, f"/v1/financing-programmes/{programme_id}/{path}")
        missing = api.post(role, f"/v1/financing-programmes/{UNKNOWN_ID}/{path}")
        assert _same_answer(existing, missing, programme_id, UNKNOWN_ID)[:2] == (
            403, "ReceivableFinancingNotProgrammeParty"), (role, path)
    assert api.post("bank_cn", f"/v1/financing-programmes/{programme_id}/accept").status_code == 200
    for form in ({"bank": world.roles["bank_cn"]}, {"programme_id": programme_id}):
        existing = api.post("supplier1", "/v1/financings", json={"invoice_id": invoice_id, "requested_amount": 1_00,
                                                                 **form})
        missing = api.post("supplier1", "/v1/financings", json={"invoice_id": UNKNOWN_INVOICE,
                                                                "requested_amount": 1_00, **form})
        assert _same_answer(existing, missing, invoice_id, UNKNOWN_INVOICE)[:2] == (
            403, "ReceivableFinancingNotSeller"), form
        assert world.roles["importer"] not in existing.text


def test_existence_oracle_certificate_steps_answer_a_stranger_the_same_whether_or_not_it_exists(api, world):
    """The contract checks a certificate's state before its holder (409 with the state for a split, settled or
    unknown one) and names the holder, buyer or seller in its refusals."""
    approve_spender(api, "importer", "PayableCertificates")
    invoice_id = invoice(api, world)
    root = issued_certificate(api, world, invoice_id, 5_000_00, 20 * 86_400)
    split = api.post("exporter", f"/v1/certificates/{root}/split", json={"parts": [
        {"holder": world.roles["supplier2"], "amount": 2_000_00},
        {"holder": world.roles["exporter"], "amount": 3_000_00}]})
    assert split.status_code == 200, split.text
    child = split.json()["result"]["children"][0]["certificate_id"]  # supplier2's, Active
    assert api.post("supplier2", f"/v1/certificates/{child}/discount-request",
                    json={"bank": world.roles["bank_cn"], "rate_bps": 500}).status_code == 200

    for certificate in (root, child):  # Split, Active
        for step, kw in (("transfer", {"json": {"to": world.roles["supplier3"]}}),
                         ("split", {"json": {"parts": [{"holder": world.roles["supplier3"], "amount": 1},
                                                       {"holder": world.roles["supplier1"], "amount": 1}]}}),
                         ("discount-request", {"json": {"bank": world.roles["bank_us"], "rate_bps": 500}})):
            existing = api.post("supplier1", f"/v1/certificates/{certificate}/{step}", **kw)
            missing = api.post("supplier1", f"/v1/certificates/{UNKNOWN_ID}/{step}", **kw)
            assert _same_answer(existing, missing, certificate, UNKNOWN_ID)[:2] == (
                403, "PayableCertificatesNotHolder"), (certificate, step)
            assert world.roles["supplier2"] not in existing.text and world.roles["exporter"] not in existing.text
        existing = api.post("bank_us", f"/v1/certificates/{certificate}/discount", json={"rate_bps": 500})
        missing = api.post("bank_us", f"/v1/certificates/{UNKNOWN_ID}/discount", json={"rate_bps": 500})
        assert _same_answer(existing, missing, certificate, UNKNOWN_ID)[:2] == (
            403, "PayableCertificatesNotRequestedBank")
        existing = api.post("supplier1", "/v1/certificates/settle", json={"certificate_ids": [certificate]})
        missing = api.post("supplier1", "/v1/certificates/settle", json={"certificate_ids": [UNKNOWN_ID]})
        assert _same_answer(existing, missing, certificate, UNKNOWN_ID)[:2] == (
            403, "PayableCertificatesNotSettlementParty")
    existing = api.post("supplier1", f"/v1/certificates/{root}/default")
    missing = api.post("supplier1", f"/v1/certificates/{UNKNOWN_ID}/default")
    assert _same_answer(existing, missing, root, UNKNOWN_ID)[:2] == (403, "PayableCertificatesNotTreeParty")
    for step, error in (("accept", "PayableCertificatesNotInvoiceSeller"),
                        ("decline", "PayableCertificatesNotInvoiceSeller"),
                        ("withdraw", "PayableCertificatesNotInvoiceBuyer")):
        existing = api.post("supplier1", f"/v1/certificates/offers/{invoice_id}/{step}")
        missing = api.post("supplier1", f"/v1/certificates/offers/{UNKNOWN_INVOICE}/{step}")
        assert _same_answer(existing, missing, invoice_id, UNKNOWN_INVOICE)[:2] == (403, error), step
    offer = {"amount": 1_00, "maturity": chain_now(world) + 86_400}
    existing = api.post("supplier1", "/v1/certificates/offers", json={"invoice_id": invoice_id, **offer})
    missing = api.post("supplier1", "/v1/certificates/offers", json={"invoice_id": UNKNOWN_INVOICE, **offer})
    assert _same_answer(existing, missing, invoice_id, UNKNOWN_INVOICE)[:2] == (
        403, "PayableCertificatesNotInvoiceBuyer")
    assert world.roles["importer"] not in existing.text

    # the parties are still told the contract's reasons
    split_again = api.post("exporter", f"/v1/certificates/{root}/transfer", json={"to": world.roles["supplier3"]})
    assert split_again.status_code == 409 and code(split_again) == "PayableCertificatesUnexpectedState"
    rate = api.post("bank_cn", f"/v1/certificates/{child}/discount", json={"rate_bps": 400})
    assert rate.status_code == 409 and code(rate) == "PayableCertificatesDiscountRateMismatch"
    indexed = wait_for(lambda: api.get("supplier2", f"/v1/instruments/certificate/{child}"),
                       lambda r: r.status_code == 200)
    assert indexed.status_code == 200, indexed.text
    early = api.post("supplier2", f"/v1/certificates/{root}/default")  # a holder of a piece of the tree (index)
    assert early.status_code == 409 and code(early) == "PayableCertificatesUnexpectedState", early.text
    pulled = api.post("supplier2", "/v1/certificates/settle", json={"certificate_ids": [child]})
    assert pulled.status_code == 409 and code(pulled) == "PayableCertificatesUnexpectedState"  # not due yet


def test_existence_oracle_lc_pay_and_release_margin_tell_a_non_party_nothing(api, world):
    """Finding: `pay_at_maturity` and `release_margin` are open to every participant on chain, and answered a
    non-party the credit's state (409 `LetterOfCreditUnexpectedState`, a presentation's state, a maturity date)
    for an existing credit and 404 for an unknown one. The contract stays open to anyone on chain; the gateway
    takes these steps for the credit's parties only, so a non-party gets one 403 before anything is sent."""
    applied = api.post("importer", BASE, json=_terms(world))
    assert applied.status_code == 201, applied.text
    lc = applied.json()["result"]["lc_id"]
    unknown = str(10**30)
    for step in ("release-margin", "presentations/1/pay"):
        existing = api.post("supplier1", f"{BASE}/{lc}/{step}")
        missing = api.post("supplier1", f"{BASE}/{unknown}/{step}")
        assert _same_answer(existing, missing, lc, unknown)[:2] == (403, "LetterOfCreditUnauthorizedCaller"), step
    # its parties still learn why
    release = api.post("importer", f"{BASE}/{lc}/release-margin")
    assert release.status_code == 409 and code(release) == "LetterOfCreditUnexpectedState", release.text
    pay = api.post("exporter", f"{BASE}/{lc}/presentations/1/pay")
    assert pay.status_code in (404, 409) and code(pay).startswith("LetterOfCredit") and \
        code(pay) != "LetterOfCreditUnauthorizedCaller", pay.text


def test_route_descriptions_say_who_reads_the_financing_terms_document(http):
    """Finding: the approval's description said the terms document is readable "when the bank uploaded it". The
    rule: the seller and the approving bank only, when the approving bank could read the document itself."""
    spec = http.get("/openapi.json").json()
    approve = spec["paths"]["/v1/financings/{financing_id}/approve"]["post"]["description"]
    assert "when the bank uploaded it" not in approve
    assert "the seller and the approving bank only" in approve and "not by the invoice's buyer" in approve
    assert "when the approving bank could read that document itself" in approve


def test_existence_oracle_a_repeated_key_still_replays_a_step_that_ended_the_callers_part(api, world):
    """The party checks come before the chain client, which answers a repeated Idempotency-Key from its store:
    a holder repeating its transfer (it holds the certificate no longer) still gets the transfer's answer."""
    invoice_id = invoice(api, world)
    certificate = issued_certificate(api, world, invoice_id, 1_000_00, 20 * 86_400)
    key = f"transfer-once-{secrets.token_hex(4)}"
    body = {"to": world.roles["supplier1"]}
    first = api.post("exporter", f"/v1/certificates/{certificate}/transfer", key=key, json=body)
    assert first.status_code == 200, first.text
    again = api.post("exporter", f"/v1/certificates/{certificate}/transfer", key=key, json=body)
    assert again.status_code == 200 and again.headers.get("Idempotent-Replayed") == "true", again.text
    assert again.json() == first.json()
    fresh = api.post("exporter", f"/v1/certificates/{certificate}/transfer", json=body)  # a new key: no longer its
    assert fresh.status_code == 403 and code(fresh) == "PayableCertificatesNotHolder"


# ───────────────────────────── attacker review (issue 12, third round) ─────────────────────────────

def _advanced_financing(api, world, advance_amount: int = 4_000_00) -> tuple[str, int]:
    """A confirmed invoice of the exporter to the importer, financed by bank_cn (Active, rate 0): (invoice, id)."""
    approve_spender(api, "bank_cn", "ReceivableFinancing")
    invoice_id = invoice(api, world)
    applied = api.post("exporter", "/v1/financings", json={"invoice_id": invoice_id, "bank": world.roles["bank_cn"],
                                                           "requested_amount": advance_amount})
    assert applied.status_code == 201, applied.text
    financing = applied.json()["result"]["financing_id"]
    approved = api.post("bank_cn", f"/v1/financings/{financing}/approve", json={
        "advance_amount": advance_amount, "rate_bps": 0, "maturity": chain_now(world) + 30 * 86_400,
        "terms_hash": "0x" + secrets.token_hex(32)})
    assert approved.status_code == 200, approved.text
    return invoice_id, financing


def test_open_steps_oracle_a_stranger_repaying_a_live_financing_is_refused_as_for_a_missing_one(api, world):
    """Finding "steps open to anyone on chain are still oracles and leak on success": a corporate with no part in a
    financing repaid 1 minor unit of `/v1/financings/{1..N}/repay`: 403 `ReceivableFinancingNotParty` for a missing
    one, 200 with `outstanding` (and `closed.invoice_id` when it closed it) for a live one. `repay` stays open to
    anyone on chain; the gateway now repays for the financing's seller and bank only, before anything is sent. The
    invoice's buyer repays by paying the invoice, and is refused here like anyone else."""
    for role in ("supplier1", "importer", "exporter"):  # the chain would take the stranger's repayment
        approve_spender(api, role, "ReceivableFinancing")
    invoice_id, financing = _advanced_financing(api, world)
    for role in ("supplier1", "importer"):
        live = api.post(role, f"/v1/financings/{financing}/repay", json={"amount": 1})
        missing = api.post(role, f"/v1/financings/{UNKNOWN_ID}/repay", json={"amount": 1})
        assert _same_answer(live, missing, financing, UNKNOWN_ID)[:2] == (403, "ReceivableFinancingNotParty"), role
        assert "outstanding" not in live.text and invoice_id not in live.text
    # control: the seller repays and is told what is outstanding (nothing the strangers tried was applied)
    seller = api.post("exporter", f"/v1/financings/{financing}/repay", json={"amount": 1})
    assert seller.status_code == 200, seller.text
    assert seller.json()["result"]["outstanding"] == 4_000_00 - 1 and seller.json()["result"]["closed"] is None


def test_open_steps_oracle_a_stranger_paying_a_matured_deferred_payment_is_refused_as_for_a_missing_one(api, world):
    """Finding (second part): `POST /v1/letters-of-credit/{lc}/presentations/{p}/pay` paid a matured deferred
    payment for anyone and answered the amount paid. Still open on chain; the gateway pays for the credit's parties
    only, and anyone else gets the 403 of a credit that does not exist."""
    approve_spender(api, "bank_us", "LetterOfCredit")
    terms = _terms(world) | {"availability": "DeferredPayment", "deferred_payment_days": 3,
                             "partial_shipments_allowed": True}
    applied = api.post("importer", BASE, json=terms)
    assert applied.status_code == 201, applied.text
    lc = applied.json()["result"]["lc_id"]
    assert api.post("bank_us", f"{BASE}/{lc}/issue", json={"margin_amount": 0}).status_code == 200
    assert api.post("bank_cn", f"{BASE}/{lc}/advise").status_code == 200
    presented = api.post("exporter", f"{BASE}/{lc}/presentations", json={
        "documents": [{"type": "TransportDocument", "sha256": "0x" + secrets.token_hex(32)}],
        "shipment_date": chain_now(world) - 10 * 86_400, "amount": 7_000_00})
    assert presented.status_code == 201, presented.text
    pid = presented.json()["result"]["presentation_id"]
    assert api.post("bank_us", f"{BASE}/{lc}/presentations/{pid}/examine", json={}).status_code == 200
    honoured = api.post("bank_us", f"{BASE}/{lc}/presentations/{pid}/honour")
    assert honoured.status_code == 200 and honoured.json()["result"]["state"] == "Honoured", honoured.text

    unknown = str(10**30)
    live = api.post("supplier1", f"{BASE}/{lc}/presentations/{pid}/pay")
    missing = api.post("supplier1", f"{BASE}/{unknown}/presentations/{pid}/pay")
    assert _same_answer(live, missing, lc, unknown)[:2] == (403, "LetterOfCreditUnauthorizedCaller")
    assert "paid_amount" not in live.text and "maturity" not in live.text
    paid = api.post("bank_cn", f"{BASE}/{lc}/presentations/{pid}/pay")  # control: a party (the advising bank)
    assert paid.status_code == 200, paid.text
    assert paid.json()["result"]["state"] == "Paid" and paid.json()["result"]["paid_amount"] == 7_000_00


def test_programme_oracle_a_programme_not_of_the_invoices_buyer_is_one_refusal(api, world):
    """Finding "financing apply under a programme is a programme existence/state oracle": the invoice's seller
    applying under `programme_id` k was answered 404 `ReceivableFinancingUnknownProgramme`, 409 with the programme's
    state, 422 `ReceivableFinancingNotProgrammeBuyer` naming a buyer, or 201 naming the programme's bank. The gateway
    now reads programme k first: unless its buyer is the invoice's buyer, one 403 `FinancingProgrammeNotOffered`,
    the same body for a missing, proposed, open or closed programme of someone else."""
    def programme(buyer: str) -> int:
        r = api.post(buyer, "/v1/financing-programmes", json={"bank": world.roles["bank_cn"], "rate_bps": 450,
                                                              "limit": 5_000_00})
        assert r.status_code == 201, r.text
        return r.json()["result"]["programme_id"]

    proposed, opened, closed = programme("supplier1"), programme("supplier1"), programme("supplier1")
    assert api.post("bank_cn", f"/v1/financing-programmes/{opened}/accept").status_code == 200
    assert api.post("supplier1", f"/v1/financing-programmes/{closed}/close").status_code == 200
    invoice_id = invoice(api, world)  # the exporter's, on the importer

    def apply(programme_id: int):
        return api.post("exporter", "/v1/financings", json={"invoice_id": invoice_id, "programme_id": programme_id,
                                                            "requested_amount": 1_000_00})

    missing = apply(UNKNOWN_ID)
    for foreign in (proposed, opened, closed):
        answer = apply(foreign)
        assert _same_answer(answer, missing, foreign, UNKNOWN_ID)[:2] == (403, "FinancingProgrammeNotOffered")
        for party in ("supplier1", "bank_cn"):
            assert world.roles[party] not in answer.text
    # control: the buyer's own programme is the seller's to use, and its state is the seller's to be told
    own = programme("importer")
    early = apply(own)
    assert early.status_code == 409 and code(early) == "ReceivableFinancingUnexpectedProgrammeState", early.text
    assert api.post("bank_cn", f"/v1/financing-programmes/{own}/accept").status_code == 200
    applied = apply(own)
    assert applied.status_code == 201 and applied.json()["result"]["bank"] == world.roles["bank_cn"], applied.text


def test_attester_oracle_customs_on_a_missing_or_unattestable_invoice_is_one_refusal(api, world):
    """Finding "an attester is an invoice existence oracle and then reads the whole invoice": any attester's
    `POST /v1/invoices/{id}/customs` answered 404 for an unknown invoice, 409 with the state of an existing one, 200
    with its face amount; once attested, the attester read the whole invoice in the index (parties, amounts,
    documents, liens, trail). Now every invoice it may not attest is one 403 `InvoiceNotAttestable`, and it reads
    an invoice it attested in part: id, state, customs declaration and match."""
    body = {"declaration_hash": "0x" + secrets.token_hex(32), "declared_amount": 1}
    financed_invoice, _ = _advanced_financing(api, world)  # Financed
    cancelled = invoice(api, world, confirm=False)
    assert api.post("exporter", f"/v1/invoices/{cancelled}/cancel", json={"reason": "PROBE"}).status_code == 200
    frozen = invoice(api, world)
    assert api.post("regulator", f"/v1/instruments/invoice/{frozen}/freeze",
                    json={"reason": "AML-HOLD"}).status_code == 200
    missing = api.post("attester", f"/v1/invoices/{UNKNOWN_INVOICE}/customs", json=body)
    for unattestable in (financed_invoice, cancelled, frozen):
        answer = api.post("attester", f"/v1/invoices/{unattestable}/customs", json=body)
        assert _same_answer(answer, missing, unattestable, UNKNOWN_INVOICE)[:2] == (403, "InvoiceNotAttestable")
        assert "face_amount" not in answer.text and world.roles["exporter"] not in answer.text

    # control: an invoice the attester may attest is attested, and the seller still sees it whole
    document = "0x" + secrets.token_hex(32)
    now = chain_now(world)
    registered = api.post("exporter", "/v1/invoices", json={
        "buyer": world.roles["importer"], "currency": "USD", "invoice_number": f"ATT-{secrets.token_hex(4)}",
        "face_amount": 7_000_00, "issue_date": now, "due_date": now + 90 * 86_400, "document_hash": document})
    assert registered.status_code == 201, registered.text
    invoice_id = registered.json()["result"]["invoice_id"]
    attested = api.post("attester", f"/v1/invoices/{invoice_id}/customs", json=body)
    assert attested.status_code == 200 and attested.json()["result"]["matched"] is False, attested.text
    path = f"/v1/instruments/invoice/{invoice_id}"
    seller = wait_for(lambda: api.get("exporter", path), lambda r: r.status_code == 200 and any(
        p["role"] == "attester" for p in r.json()["parties"]))
    assert seller.json()["amount"] == 7_000_00 and seller.json()["details"]["seller"] == world.roles["exporter"]

    seen = api.get("attester", path)
    assert seen.status_code == 200, seen.text
    view = seen.json()
    assert view["id"] == invoice_id and view["state"] == "Registered"
    assert view["parties"] == [{"participant": world.roles["attester"], "role": "attester"}]
    assert view["details"] == {"customs": {"attester": world.roles["attester"], "declaration_hash":
                                           body["declaration_hash"], "declared_amount": 1, "matched": False}}
    assert all(view[f] is None for f in ("amount", "currency", "document_hash", "due_at", "frozen", "created_at"))
    for leaked in (world.roles["exporter"], world.roles["importer"], document[2:]):
        assert leaked.lower() not in seen.text.lower()
    stranger = api.get("supplier1", f"{path}/trail")
    trail = api.get("attester", f"{path}/trail")
    assert trail.status_code == 404 and trail.json() == stranger.json()
    listed = api.get("attester", "/v1/instruments/invoice", params={"limit": 200}).json()["items"]
    assert invoice_id not in [i["id"] for i in listed]
    assert api.get("attester", f"/v1/documents/{document}/verify").json()["anchored"] is False
    assert api.get("exporter", f"/v1/documents/{document}/verify").json()["anchored"] is True


def test_idempotency_race_a_stored_key_of_another_request_does_not_let_a_stranger_past_the_party_check(api, world):
    """Finding "race in `refuse()`": the party check let a caller through whenever any request was stored under its
    Idempotency-Key, whatever that request was. A stranger reusing the key of one of its own requests reached the
    chain client (here: 422 `IdempotencyKeyReused`), and when the node refused that request for good (its key freed
    again) between the check and the lane's look-up, the step reached the contract. Now only the very same request
    (route and body: the stored fingerprint) replays; anything else is the stranger's 403, as with a fresh key."""
    _, financing = _advanced_financing(api, world)
    key = f"own-request-{secrets.token_hex(4)}"
    own = api.post("supplier1", "/v1/approvals", key=key, json={"currency": "USD", "spender": "ReceivableFinancing",
                                                                "amount": 10**12})
    assert own.status_code == 200, own.text
    for path in (f"/v1/financings/{financing}/repay", f"/v1/financings/{UNKNOWN_ID}/repay"):
        reused = api.post("supplier1", path, key=key, json={"amount": 1})
        fresh = api.post("supplier1", path, json={"amount": 1})
        assert (reused.status_code, reused.json()) == (fresh.status_code, fresh.json()), reused.text
        assert reused.status_code == 403 and code(reused) == "ReceivableFinancingNotParty"
    # control: the very same request under its key still replays
    again = api.post("supplier1", "/v1/approvals", key=key, json={"currency": "USD", "spender": "ReceivableFinancing",
                                                                  "amount": 10**12})
    assert again.status_code == 200 and again.headers.get("Idempotent-Replayed") == "true"
    approve_spender(api, "exporter", "ReceivableFinancing")
    repay_key = f"repay-once-{secrets.token_hex(4)}"
    first = api.post("exporter", f"/v1/financings/{financing}/repay", key=repay_key, json={"amount": 1})
    assert first.status_code == 200, first.text
    replayed = api.post("exporter", f"/v1/financings/{financing}/repay", key=repay_key, json={"amount": 1})
    assert replayed.status_code == 200 and replayed.json() == first.json()
    assert replayed.headers.get("Idempotent-Replayed") == "true"
    other_body = api.post("exporter", f"/v1/financings/{financing}/repay", key=repay_key, json={"amount": 2})
    assert other_body.status_code == 422 and code(other_body) == "IdempotencyKeyReused"  # a party: as before


class ReadsFailAfterSend(RpcProxy):
    """The real node, except that once armed, every `eth_call` after the next `eth_sendRawTransaction` is answered
    with an error (the node failing between a write being mined and the gateway's follow-up reads)."""

    def __init__(self, upstream: str) -> None:
        super().__init__(upstream)
        self.armed = self.failing = False
        self.failed = 0

    async def handle(self, payload: Any) -> Any:
        requests = payload if isinstance(payload, list) else [payload]
        if self.armed and any(r.get("method") == "eth_sendRawTransaction" for r in requests):
            self.failing = True
        answer = await self.forward(payload)
        if not self.failing:
            return answer
        answers = answer if isinstance(answer, list) else [answer]
        methods = {r.get("id"): r.get("method") for r in requests}
        for item in answers:
            if methods.get(item.get("id")) == "eth_call":
                item.pop("result", None)
                item["error"] = {"code": -32603, "message": "the node lost its state backend"}
                self.failed += 1
        return answers if isinstance(payload, list) else answers[0]


@pytest.fixture
def own_gateway_env(world, tmp_path: Path) -> Iterator[tuple[dict[str, str], dict[str, str]]]:
    """A gateway data folder of its own (deployment, keystores of exporter2 and the importer, their API keys), no
    indexer: it shares no outbox and no nonces with the session's gateway, and grants documents only itself."""
    from app.runner import derive_private_keys, prepare_access
    from scripts._common import TEST_ROLES

    data = tmp_path / "own-gateway"
    (data / "deployments").mkdir(parents=True)
    deployment = next((world.data_dir / "deployments").glob("*.json"))
    shutil.copy(deployment, data / "deployments" / deployment.name)
    env = world.env(TRADEFIN_DATA_DIR=str(data), TRADEFIN_INDEXER_ENABLED="false")
    keys = derive_private_keys(TEST_ROLES)
    issued = prepare_access(settings_for(env), {r: keys[r] for r in ("exporter2", "importer")}, print_keys=False)
    yield env, {role: entry["api_key"] for role, entry in issued.items()}


def test_mined_answered_as_failed_a_presentation_whose_follow_up_reads_fail_still_answers_its_success(
        api, world, own_gateway_env, tmp_path):
    """Finding "a presentation that went through can be answered as if nothing happened": after the presentation
    was mined, sharing its documents read the credit's parties from the node; the node failing then answered 503
    `ChainUnavailable` ("nothing applied") and a client retrying with a new key presented twice. A follow-up never
    turns a mined success into an error: the answer is the presentation, the document is shared once the node
    answers again (here by the replay of the same key, which answers the stored presentation)."""
    env, keys = own_gateway_env
    applied = api.post("importer", BASE, json=_terms(world) | {"beneficiary": world.roles["exporter2"]})
    assert applied.status_code == 201, applied.text
    lc = applied.json()["result"]["lc_id"]
    assert api.post("bank_us", f"{BASE}/{lc}/issue", json={"margin_amount": 0}).status_code == 200
    assert api.post("bank_cn", f"{BASE}/{lc}/advise").status_code == 200

    with ReadsFailAfterSend(world.rpc_url) as node:
        gateway = GatewayProcess(env | {"TRADEFIN_RPC_URL": node.url}, log_path=tmp_path / "own.log").start()
        try:
            with httpx.Client(base_url=gateway.url, timeout=60) as client:
                def auth(role: str) -> dict[str, str]:
                    return {"Authorization": f"Bearer {keys[role]}"}

                content = b"bill of lading " + secrets.token_bytes(8)
                uploaded = client.post("/v1/documents", content=content, headers=auth("exporter2"))
                assert uploaded.status_code == 201, uploaded.text
                digest = uploaded.json()["sha256"]
                body = {"documents": [{"type": "TransportDocument", "sha256": digest}],
                        "shipment_date": chain_now(world) - 86_400, "amount": 1_000_00}
                headers = auth("exporter2") | {"Idempotency-Key": f"present-once-{secrets.token_hex(4)}"}

                node.armed = True
                presented = client.post(f"{BASE}/{lc}/presentations", json=body, headers=headers)
                assert node.failed > 0, "the follow-up reads were failed"
                assert presented.status_code == 201, presented.text
                assert presented.json()["result"]["state"] == "Presented" and presented.json()["tx_hash"]
                # the follow-up did not happen: the applicant cannot read the document yet
                assert client.get(f"/v1/documents/{digest}", headers=auth("importer")).status_code == 404

                node.armed = node.failing = False  # the node answers again
                again = client.post(f"{BASE}/{lc}/presentations", json=body, headers=headers)
                assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true", again.text
                assert again.json() == presented.json()
                shared = client.get(f"/v1/documents/{digest}", headers=auth("importer"))
                assert shared.status_code == 200 and shared.content == content
        finally:
            gateway.stop()
    # one presentation on chain, whatever the client saw
    trail = wait_for(lambda: api.get("importer", f"/v1/instruments/letter_of_credit/{lc}/trail"),
                     lambda r: r.status_code == 200 and any(e["event"] == "DocumentsPresented"
                                                            for e in r.json()["events"]))
    assert [e["event"] for e in trail.json()["events"]].count("DocumentsPresented") == 1, trail.text


def test_open_steps_oracle_strangers_recording_a_default_or_releasing_a_margin_are_refused_as_for_missing_ones(
        api, world):
    """Finding "steps open to anyone on chain are still oracles and leak on success" (moves the chain's clock:
    last): `POST /v1/certificates/{root}/default` recorded any matured unpaid tree for anyone and answered its
    invoice and outstanding amount; `POST /v1/letters-of-credit/{lc}/release-margin` released an expired credit's
    margin for anyone and answered the amount. Both stay open on chain; the gateway takes them for parties only."""
    approve_spender(api, "importer", "PayableCertificates")
    approve_spender(api, "importer", "LetterOfCredit")
    invoice_id = invoice(api, world)
    root = issued_certificate(api, world, invoice_id, 3_000_00, 60)
    now = chain_now(world)
    applied = api.post("importer", BASE, json=_terms(world) | {"expiry_date": now + 5 * 86_400,
                                                                "latest_shipment_date": now + 2 * 86_400})
    assert applied.status_code == 201, applied.text
    lc = applied.json()["result"]["lc_id"]
    assert api.post("bank_us", f"{BASE}/{lc}/issue", json={"margin_amount": 2_000_00}).status_code == 200

    advance(world, 60 + 31 * 86_400)  # past the tree's maturity plus grace, and the credit's expiry
    live = api.post("supplier1", f"/v1/certificates/{root}/default")
    missing = api.post("supplier1", f"/v1/certificates/{UNKNOWN_ID}/default")
    assert _same_answer(live, missing, root, UNKNOWN_ID)[:2] == (403, "PayableCertificatesNotTreeParty")
    assert "outstanding" not in live.text and invoice_id not in live.text
    unknown = str(10**30)
    live = api.post("supplier1", f"{BASE}/{lc}/release-margin")
    missing = api.post("supplier1", f"{BASE}/{unknown}/release-margin")
    assert _same_answer(live, missing, lc, unknown)[:2] == (403, "LetterOfCreditUnauthorizedCaller")

    # control: the parties take the steps and are told the outcome
    recorded = api.post("exporter", f"/v1/certificates/{root}/default")
    assert recorded.status_code == 200 and recorded.json()["result"]["outstanding"] == 3_000_00, recorded.text
    released = api.post("importer", f"{BASE}/{lc}/release-margin")
    assert released.status_code == 200 and released.json()["result"]["amount"] == 2_000_00, released.text
