"""Receivable financing through the gateway: apply, approve (advance + lien), reject, withdraw, repay,
default and recourse, reverse factoring programmes, the customs policy, and who may call what."""

from __future__ import annotations

import secrets

import pytest
from instrument_helpers import advance, approve_spender, chain_now, code, invoice, usd

TERMS = "0x" + "cd" * 32


@pytest.fixture(scope="module")
def allowances(api):
    """Banks pay advances through ReceivableFinancing; the exporter repays and accepts recourse through it;
    the importer pays invoices through the registry."""
    for role in ("bank_cn", "bank_us", "exporter"):
        approve_spender(api, role, "ReceivableFinancing")
    approve_spender(api, "importer", "InvoiceRegistry")


def _apply(api, world, invoice_id, bank="bank_cn", amount=9_000_00, role="exporter"):
    return api.post(role, "/v1/financings", json={"invoice_id": invoice_id, "bank": world.roles[bank],
                                                  "requested_amount": amount})


def _applied(api, world, invoice_id, bank="bank_cn", amount=9_000_00) -> int:
    r = _apply(api, world, invoice_id, bank, amount)
    assert r.status_code == 201, r.text
    return r.json()["result"]["financing_id"]


def _approve(api, world, financing_id, bank="bank_cn", advance_amount=8_000_00, rate_bps=0, maturity_in=60 * 86_400):
    return api.post(bank, f"/v1/financings/{financing_id}/approve", json={
        "advance_amount": advance_amount, "rate_bps": rate_bps, "maturity": chain_now(world) + maturity_in,
        "terms_hash": TERMS})


def _active(api, world, advance_amount=8_000_00, maturity_in=60 * 86_400) -> tuple[str, int]:
    invoice_id = invoice(api, world)
    financing_id = _applied(api, world, invoice_id)
    r = _approve(api, world, financing_id, advance_amount=advance_amount, maturity_in=maturity_in)
    assert r.status_code == 200, r.text
    return invoice_id, financing_id


# ───────────────────────────── apply, approve, reject, withdraw ─────────────────────────────

def test_seller_applies_and_the_bank_approves_paying_the_advance(api, world, allowances):
    invoice_id = invoice(api, world)
    r = _apply(api, world, invoice_id)
    assert r.status_code == 201, r.text
    applied = r.json()["result"]
    assert applied["invoice_id"] == invoice_id and applied["seller"] == world.roles["exporter"]
    assert applied["bank"] == world.roles["bank_cn"] and applied["requested_amount"] == 9_000_00
    assert applied["programme_id"] == 0
    before = usd(api, "exporter")
    approved = _approve(api, world, applied["financing_id"], rate_bps=650)
    assert approved.status_code == 200, approved.text
    result = approved.json()["result"]
    assert result["advance_amount"] == 8_000_00 and result["rate_bps"] == 650 and result["terms_hash"] == TERMS
    assert usd(api, "exporter") == before + 8_000_00


def test_the_seller_may_download_the_agreement_the_approval_references(api, http, world, allowances):
    agreement = b"receivable purchase agreement " + secrets.token_bytes(8)
    digest = http.post("/v1/documents", content=agreement, headers=world.auth("bank_cn")).json()["sha256"]
    assert api.get("exporter", f"/v1/documents/{digest}").status_code == 404
    financing_id = _applied(api, world, invoice(api, world))
    r = api.post("bank_cn", f"/v1/financings/{financing_id}/approve", json={
        "advance_amount": 1_000_00, "rate_bps": 300, "maturity": chain_now(world) + 86_400, "terms_hash": digest})
    assert r.status_code == 200, r.text
    assert api.get("exporter", f"/v1/documents/{digest}").content == agreement
    assert api.get("importer", f"/v1/documents/{digest}").status_code == 404


def test_an_invoice_financed_by_one_bank_cannot_be_financed_by_another(api, world, allowances):
    invoice_id = invoice(api, world)
    first, second = _applied(api, world, invoice_id), _applied(api, world, invoice_id, bank="bank_us")
    assert _approve(api, world, first).status_code == 200
    again = _approve(api, world, second, bank="bank_us")
    assert again.status_code == 409 and code(again) == "ReceivableFinancingInvoiceLiened"
    liened = {"invoiceId": int(invoice_id), "instrument": world.addresses["ReceivableFinancing"],
              "financier": world.roles["bank_cn"]}
    assert again.json()["error"]["details"] == liened
    assert "already liened: through ReceivableFinancing" in again.json()["error"]["message"]
    late = _apply(api, world, invoice_id, bank="bank_us")
    assert late.status_code == 409 and code(late) == "ReceivableFinancingInvoiceLiened"
    assert late.json()["error"]["details"] == liened


def test_an_invoice_presented_under_a_credit_cannot_be_financed(api, world, allowances):
    """The lien of a presentation under examination reserves the invoice against every other instrument."""
    invoice_id = invoice(api, world, face=50_000_00)
    now = chain_now(world)
    for role in ("importer", "bank_us"):
        approve_spender(api, role, "LetterOfCredit")
    lc = api.post("importer", "/v1/letters-of-credit", json={
        "beneficiary": world.roles["exporter"], "issuing_bank": world.roles["bank_us"],
        "advising_bank": world.roles["bank_cn"], "currency": "USD", "amount": 50_000_00,
        "expiry_date": now + 60 * 86_400, "latest_shipment_date": now + 30 * 86_400,
        "required_documents": ["CommercialInvoice"]})
    assert lc.status_code == 201, lc.text
    lc_id = lc.json()["result"]["lc_id"]
    assert api.post("bank_us", f"/v1/letters-of-credit/{lc_id}/issue", json={"margin_amount": 0}).status_code == 200
    assert api.post("bank_cn", f"/v1/letters-of-credit/{lc_id}/advise").status_code == 200
    presented = api.post("exporter", f"/v1/letters-of-credit/{lc_id}/presentations", json={
        "documents": [{"type": "CommercialInvoice", "sha256": "0x" + secrets.token_hex(32)}],
        "shipment_date": now - 86_400, "amount": 50_000_00, "invoice_id": invoice_id})
    assert presented.status_code == 201, presented.text
    r = _apply(api, world, invoice_id)
    assert r.status_code == 409 and code(r) == "ReceivableFinancingInvoiceLiened"
    assert r.json()["error"]["details"]["instrument"] == world.addresses["LetterOfCredit"]
    assert r.json()["error"]["details"]["financier"] == world.roles["bank_us"]


@pytest.mark.parametrize("role,status,error", [
    ("importer", 403, "ReceivableFinancingNotSeller"),
    ("supplier1", 403, "ReceivableFinancingNotSeller"),
    ("bank_cn", 403, "CallerKindNotAllowed"),
    ("attester", 403, "CallerKindNotAllowed"),
    ("regulator", 403, "RegulatorWritesOnlySupervision"),
])
def test_only_the_invoice_seller_applies(api, world, allowances, role, status, error):
    r = _apply(api, world, invoice(api, world), role=role)
    assert r.status_code == status and code(r) == error


def test_applications_are_validated(api, world, allowances):
    unconfirmed = _apply(api, world, invoice(api, world, confirm=False))
    assert unconfirmed.status_code == 409 and code(unconfirmed) == "ReceivableFinancingInvoiceNotConfirmed"
    above_face = _apply(api, world, invoice(api, world, face=1_000_00), amount=1_000_01)
    assert above_face.status_code == 409 and code(above_face) == "ReceivableFinancingAboveOutstanding"
    assert above_face.json()["error"]["details"]["outstanding"] == 1_000_00
    part_paid = invoice(api, world, face=1_000_00)
    assert api.post("importer", f"/v1/invoices/{part_paid}/payments", json={"amount": 400_00}).status_code == 200
    above_unpaid = _apply(api, world, part_paid, amount=600_01)
    assert above_unpaid.status_code == 409 and code(above_unpaid) == "ReceivableFinancingAboveOutstanding"
    assert above_unpaid.json()["error"]["details"] == {"invoiceId": int(part_paid), "amount": 600_01,
                                                       "outstanding": 600_00}
    assert _apply(api, world, part_paid, amount=600_00).status_code == 201
    both = api.post("exporter", "/v1/financings", json={"invoice_id": "1", "bank": world.roles["bank_cn"],
                                                        "programme_id": 1, "requested_amount": 1})
    assert both.status_code == 422 and code(both) == "ValidationError"


@pytest.mark.parametrize("role,error", [
    ("exporter", "CallerKindNotAllowed"),
    ("importer", "CallerKindNotAllowed"),
    ("bank_us", "ReceivableFinancingNotBank"),
])
def test_only_the_application_bank_approves_or_rejects(api, world, allowances, role, error):
    financing_id = _applied(api, world, invoice(api, world))
    approve = _approve(api, world, financing_id, bank=role)
    reject = api.post(role, f"/v1/financings/{financing_id}/reject", json={"reason": "NO"})
    for r in (approve, reject):
        assert r.status_code == 403 and code(r) == error


def test_approval_terms_are_checked_by_the_contract(api, world, allowances):
    financing_id = _applied(api, world, invoice(api, world))
    too_much = _approve(api, world, financing_id, advance_amount=9_000_01)
    assert too_much.status_code == 422 and code(too_much) == "ReceivableFinancingInvalidAdvance"
    past = _approve(api, world, financing_id, maturity_in=-10)
    assert past.status_code == 422 and code(past) == "ReceivableFinancingInvalidMaturity"
    unknown = _approve(api, world, 10**9)  # nobody is the bank of a financing that does not exist (issue 12)
    assert unknown.status_code == 403 and code(unknown) == "ReceivableFinancingNotBank"


def test_bank_rejects_with_a_reason_and_the_application_cannot_be_approved_after(api, world, allowances):
    financing_id = _applied(api, world, invoice(api, world))
    r = api.post("bank_cn", f"/v1/financings/{financing_id}/reject", json={"reason": "CREDIT-LIMIT"})
    assert r.status_code == 200, r.text
    assert r.json()["result"]["financing_id"] == financing_id and r.json()["result"]["reason_code"].startswith("0x")
    late = _approve(api, world, financing_id)
    assert late.status_code == 409 and code(late) == "ReceivableFinancingUnexpectedState"


def test_only_the_seller_withdraws_its_application(api, world, allowances):
    financing_id = _applied(api, world, invoice(api, world))
    for role, error in (("importer", "ReceivableFinancingNotSeller"), ("bank_cn", "CallerKindNotAllowed")):
        r = api.post(role, f"/v1/financings/{financing_id}/withdraw")
        assert r.status_code == 403 and code(r) == error
    r = api.post("exporter", f"/v1/financings/{financing_id}/withdraw")
    assert r.status_code == 200 and r.json()["result"] == {"financing_id": financing_id,
                                                           "seller": world.roles["exporter"]}
    again = api.post("exporter", f"/v1/financings/{financing_id}/withdraw")
    assert again.status_code == 409 and code(again) == "ReceivableFinancingUnexpectedState"


# ───────────────────────────── repayment ─────────────────────────────

def test_the_buyer_paying_the_invoice_repays_the_bank_first_and_closes_the_financing(api, world, allowances):
    invoice_id, financing_id = _active(api, world)
    r = api.post("importer", f"/v1/invoices/{invoice_id}/payments", json={"amount": 10_000_00})
    assert r.status_code == 200, r.text
    paid = r.json()["result"]
    assert paid["to_financier"] == 8_000_00 and paid["to_seller"] == 2_000_00 and paid["paid_amount"] == 10_000_00
    late = api.post("exporter", f"/v1/financings/{financing_id}/repay", json={"amount": 1})
    assert late.status_code == 409 and code(late) == "ReceivableFinancingUnexpectedState"


def test_seller_repays_in_part_and_the_bank_records_the_rest_received_by_wire(api, world, allowances):
    invoice_id, financing_id = _active(api, world)
    part = api.post("exporter", f"/v1/financings/{financing_id}/repay", json={"amount": 3_000_00})
    assert part.status_code == 200, part.text
    assert part.json()["result"]["outstanding"] == 5_000_00 and part.json()["result"]["closed"] is None
    over = api.post("exporter", f"/v1/financings/{financing_id}/repay", json={"amount": 5_000_01})
    assert over.status_code == 409 and code(over) == "ReceivableFinancingOverpayment"
    not_bank = api.post("exporter", f"/v1/financings/{financing_id}/repayments",
                        json={"amount": 5_000_00, "reference": "MT103-1"})
    assert not_bank.status_code == 403 and code(not_bank) == "CallerKindNotAllowed"
    other_bank = api.post("bank_us", f"/v1/financings/{financing_id}/repayments",
                          json={"amount": 5_000_00, "reference": "MT103-1"})
    assert other_bank.status_code == 403 and code(other_bank) == "ReceivableFinancingNotBank"
    rest = api.post("bank_cn", f"/v1/financings/{financing_id}/repayments",
                    json={"amount": 5_000_00, "reference": "MT103-1"})
    assert rest.status_code == 200, rest.text
    assert rest.json()["result"]["outstanding"] == 0
    assert rest.json()["result"]["closed"] == {"invoice_id": invoice_id, "total_repaid": 8_000_00}


def test_the_payoff_on_a_date_is_what_repays_the_financing_then(api, world, allowances):
    financed_invoice, financing_id = _active(api, world, advance_amount=3_650_00)
    # A financing at 0 bps owes its advance whatever the date.
    now = api.get("exporter", f"/v1/financings/{financing_id}/payoff")
    assert now.status_code == 200, now.text
    assert now.json() | {"at": 0} == {"financing_id": financing_id, "invoice_id": financed_invoice,
                                      "seller": world.roles["exporter"], "bank": world.roles["bank_cn"],
                                      "state": "Active", "at": 0, "owed": 3_650_00}
    invoice_id = invoice(api, world)
    interest_bearing = _applied(api, world, invoice_id)
    assert _approve(api, world, interest_bearing, advance_amount=3_650_00, rate_bps=1_000).status_code == 200
    a_year_on = chain_now(world) + 365 * 86_400
    later = api.get("bank_cn", f"/v1/financings/{interest_bearing}/payoff", params={"at": a_year_on})
    assert later.status_code == 200, later.text
    assert 3_650_00 + 365_00 - 1 <= later.json()["owed"] <= 3_650_00 + 365_00, "a year at 10% simple interest"
    past = api.get("regulator", f"/v1/financings/{interest_bearing}/payoff", params={"at": 1})
    assert past.status_code == 200 and past.json()["at"] >= chain_now(world) - 1, "a date in the past counts as now"
    assert 3_650_00 <= past.json()["owed"] < later.json()["owed"]
    stranger = api.get("importer", f"/v1/financings/{interest_bearing}/payoff")
    assert stranger.status_code == 403 and code(stranger) == "FinancingNotVisible"
    unknown = api.get("bank_cn", "/v1/financings/999999/payoff")  # answered as someone else's (issue 12)
    assert unknown.status_code == 403 and code(unknown) == "FinancingNotVisible"
    assert api.get("regulator", "/v1/financings/999999/payoff").status_code == 404  # who sees all: unknown


# ───────────────────────────── default and recourse ─────────────────────────────

def test_bank_declares_default_after_maturity_and_grace_then_claims_recourse_from_the_seller(api, world, allowances):
    _, financing_id = _active(api, world, advance_amount=2_000_00, maturity_in=60)
    early = api.post("bank_cn", f"/v1/financings/{financing_id}/default")
    assert early.status_code == 409 and code(early) == "ReceivableFinancingNotOverdue"
    too_early = api.post("bank_cn", f"/v1/financings/{financing_id}/recourse")
    assert too_early.status_code == 409 and code(too_early) == "ReceivableFinancingUnexpectedState"
    advance(world, 60 + 7 * 86_400 + 1)  # maturity plus the invoice registry's grace period
    for role, error in (("exporter", "CallerKindNotAllowed"), ("bank_us", "ReceivableFinancingNotBank")):
        r = api.post(role, f"/v1/financings/{financing_id}/default")
        assert r.status_code == 403 and code(r) == error
    defaulted = api.post("bank_cn", f"/v1/financings/{financing_id}/default")
    assert defaulted.status_code == 200, defaulted.text
    assert defaulted.json()["result"]["outstanding"] == 2_000_00
    before = usd(api, "exporter")
    recourse = api.post("bank_cn", f"/v1/financings/{financing_id}/recourse")
    assert recourse.status_code == 200, recourse.text
    result = recourse.json()["result"]
    assert result["amount"] == 2_000_00 and result["closed"]["total_repaid"] == 2_000_00
    assert usd(api, "exporter") == before - 2_000_00


# ───────────────────────────── reverse factoring programmes ─────────────────────────────

def _programme(api, world, limit=5_000_00, rate_bps=450) -> int:
    r = api.post("importer", "/v1/financing-programmes", json={"bank": world.roles["bank_cn"], "rate_bps": rate_bps,
                                                               "limit": limit})
    assert r.status_code == 201, r.text
    assert r.json()["result"]["buyer"] == world.roles["importer"]
    return r.json()["result"]["programme_id"]


def _apply_under(api, world, invoice_id, programme_id, amount=3_000_00, role="exporter"):
    return api.post(role, "/v1/financings", json={"invoice_id": invoice_id, "programme_id": programme_id,
                                                  "requested_amount": amount})


def test_buyer_proposes_a_programme_the_bank_accepts_and_suppliers_are_financed_at_its_rate(api, world, allowances):
    programme_id = _programme(api, world)
    closed_early = _apply_under(api, world, invoice(api, world), programme_id)
    assert closed_early.status_code == 409 and code(closed_early) == "ReceivableFinancingUnexpectedProgrammeState"
    for role, error in (("bank_us", "ReceivableFinancingNotProgrammeParty"), ("importer", "CallerKindNotAllowed")):
        r = api.post(role, f"/v1/financing-programmes/{programme_id}/accept")
        assert r.status_code == 403 and code(r) == error
    opened = api.post("bank_cn", f"/v1/financing-programmes/{programme_id}/accept")
    assert opened.status_code == 200 and opened.json()["result"] == {"programme_id": programme_id,
                                                                     "bank": world.roles["bank_cn"]}
    r = _apply_under(api, world, invoice(api, world), programme_id)
    assert r.status_code == 201, r.text
    applied = r.json()["result"]
    assert applied["programme_id"] == programme_id and applied["bank"] == world.roles["bank_cn"]
    wrong_rate = _approve(api, world, applied["financing_id"], advance_amount=3_000_00, rate_bps=500)
    assert wrong_rate.status_code == 409 and code(wrong_rate) == "ReceivableFinancingProgrammeRateMismatch"
    ok = _approve(api, world, applied["financing_id"], advance_amount=3_000_00, rate_bps=450)
    assert ok.status_code == 200, ok.text
    second = _apply_under(api, world, invoice(api, world), programme_id).json()["result"]["financing_id"]
    over = _approve(api, world, second, advance_amount=2_000_01, rate_bps=450)
    assert over.status_code == 409 and code(over) == "ReceivableFinancingProgrammeLimitExceeded"


def test_only_invoices_on_the_programme_buyer_are_financed_under_it(api, world, allowances):
    """Another buyer's programme is not the seller's to use: the gateway reads the programme first and answers one
    403 `FinancingProgrammeNotOffered` (the contract's 422 named the invoice's buyer; issue 12)."""
    programme_id = _programme(api, world)
    assert api.post("bank_cn", f"/v1/financing-programmes/{programme_id}/accept").status_code == 200
    other_buyer = invoice(api, world, buyer="supplier1")
    r = _apply_under(api, world, other_buyer, programme_id)
    assert r.status_code == 403 and code(r) == "FinancingProgrammeNotOffered"


def test_programme_parties_close_it_and_no_one_else(api, world, allowances):
    programme_id = _programme(api, world)
    for role, error in (("supplier2", "ReceivableFinancingNotProgrammeParty"),
                        ("bank_us", "ReceivableFinancingNotProgrammeParty"),
                        ("attester", "CallerKindNotAllowed")):
        r = api.post(role, f"/v1/financing-programmes/{programme_id}/close")
        assert r.status_code == 403 and code(r) == error
    closed = api.post("importer", f"/v1/financing-programmes/{programme_id}/close")
    assert closed.status_code == 200 and closed.json()["result"]["closed_by"] == world.roles["importer"]
    unknown = api.post("bank_cn", "/v1/financing-programmes/999999/accept")  # no parties: as someone else's
    assert unknown.status_code == 403 and code(unknown) == "ReceivableFinancingNotProgrammeParty"


def test_only_corporates_propose_programmes(api, world):
    for role in ("bank_cn", "attester"):
        r = api.post(role, "/v1/financing-programmes", json={"bank": world.roles["bank_cn"], "rate_bps": 1,
                                                             "limit": 1})
        assert r.status_code == 403 and code(r) == "CallerKindNotAllowed"


# ───────────────────────────── customs policy ─────────────────────────────

def test_a_bank_requiring_customs_finances_only_after_a_matching_attestation(api, world, allowances):
    r = api.post("bank_us", "/v1/financing-policies/customs", json={"customs_match_required": True})
    assert r.status_code == 200 and r.json()["result"] == {"bank": world.roles["bank_us"],
                                                           "customs_match_required": True}
    try:
        invoice_id = invoice(api, world)
        financing_id = _applied(api, world, invoice_id, bank="bank_us")
        refused = _approve(api, world, financing_id, bank="bank_us")
        assert refused.status_code == 409 and code(refused) == "ReceivableFinancingCustomsMatchRequired"
        attested = api.post("attester", f"/v1/invoices/{invoice_id}/customs",
                            json={"declaration_hash": "0x" + "ef" * 32, "declared_amount": 10_000_00})
        assert attested.status_code == 200 and attested.json()["result"]["matched"] is True
        assert _approve(api, world, financing_id, bank="bank_us").status_code == 200
    finally:
        off = api.post("bank_us", "/v1/financing-policies/customs", json={"customs_match_required": False})
        assert off.status_code == 200


def test_only_banks_set_a_customs_policy(api):
    for role in ("exporter", "attester", "regulator"):
        r = api.post(role, "/v1/financing-policies/customs", json={"customs_match_required": True})
        assert r.status_code == 403
        assert code(r) == ("RegulatorWritesOnlySupervision" if role == "regulator" else "CallerKindNotAllowed")


# ───────────────────────────── exactly once ─────────────────────────────

def test_a_repeated_application_key_answers_the_first_financing_and_applies_nothing_new(api, world, allowances):
    invoice_id = invoice(api, world)
    body = {"invoice_id": invoice_id, "bank": world.roles["bank_cn"], "requested_amount": 1_000_00}
    key = f"apply-{secrets.token_hex(8)}"
    first = api.post("exporter", "/v1/financings", key=key, json=body)
    again = api.post("exporter", "/v1/financings", key=key, json=body)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    other = api.post("exporter", "/v1/financings", key=key, json=body | {"requested_amount": 2_000_00})
    assert other.status_code == 422 and code(other) == "IdempotencyKeyReused"
    following = _applied(api, world, invoice_id, amount=500_00)
    assert following == first.json()["result"]["financing_id"] + 1
