"""Cross-currency payment at a bank's signed quote: both legs in one transaction, or nothing."""

from __future__ import annotations

import pytest


def _code(r) -> str:
    return r.json()["error"]["code"]


@pytest.fixture(scope="module")
def approvals(api):
    """The bank sells USD through the router; the exporter pays CNY through it."""
    for role, currency in (("bank_cn", "USD"), ("exporter", "CNY")):
        r = api.post(role, "/v1/approvals", json={"currency": currency, "spender": "PaymentRouter",
                                                  "amount": 10**12})
        assert r.status_code == 200, r.text
        assert r.json()["result"]["amount"] == 10**12


def _quote(api, world, **overrides):
    body = {"payer": world.roles["exporter"], "base_currency": "CNY", "quote_currency": "USD", "rate": "0.1385",
            "max_base_amount": 1_000_000_00} | overrides
    r = api.post("bank_cn", "/v1/fx-quotes", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def _pay(api, world, signed, role="exporter", **overrides):
    body = {"quote": signed["quote"], "signature": signed["signature"], "beneficiary": world.roles["importer"],
            "base_amount": 100_000, "purpose_code": "GDDS", "reference": "PO-77"} | overrides
    return api.post(role, "/v1/payments/fx", json=body)


def test_payer_pays_cny_and_the_beneficiary_receives_usd_at_the_quote(api, world, approvals):
    signed = _quote(api, world)
    before = {b["currency"]: b["amount"] for b in api.get("importer", "/v1/balances").json()["balances"]}
    r = _pay(api, world, signed)
    assert r.status_code == 201, r.text
    result = r.json()["result"]
    assert result["base_amount"] == 100_000 and result["quote_amount"] == 100_000 * 1385 // 10_000
    assert result["bank"] == world.roles["bank_cn"] and result["quote_currency"] == "USD"
    after = {b["currency"]: b["amount"] for b in api.get("importer", "/v1/balances").json()["balances"]}
    assert after["USD"] == before["USD"] + result["quote_amount"]


def test_a_quote_pays_once(api, world, approvals):
    signed = _quote(api, world)
    assert _pay(api, world, signed).status_code == 201
    again = _pay(api, world, signed, reference="PO-78")
    assert again.status_code == 409 and _code(again) == "PaymentRouterQuoteNonceUsed"


def test_a_tampered_quote_is_refused(api, world, approvals):
    signed = _quote(api, world)
    signed["quote"]["rate"] = str(int(signed["quote"]["rate"]) * 2)
    r = _pay(api, world, signed)
    assert r.status_code == 422 and _code(r) == "PaymentRouterQuoteSignerMismatch"


def test_a_quote_for_another_payer_is_refused(api, world, approvals):
    r = _pay(api, world, _quote(api, world), role="supplier1")
    assert r.status_code == 403 and _code(r) == "PaymentRouterQuoteNotForPayer"


def test_only_banks_sign_quotes(api, world):
    for role in ("exporter", "regulator", "operator"):
        r = api.post(role, "/v1/fx-quotes", json={"payer": world.roles["exporter"], "base_currency": "CNY",
                                                  "quote_currency": "USD", "rate": "0.14", "max_base_amount": 100})
        assert r.status_code == 403


def test_a_quote_needs_two_currencies(api, world):
    r = api.post("bank_cn", "/v1/fx-quotes", json={"payer": world.roles["exporter"], "base_currency": "USD",
                                                   "quote_currency": "USD", "rate": "1", "max_base_amount": 100})
    assert r.status_code == 422 and _code(r) == "QuoteSameCurrency"


@pytest.mark.parametrize("payer", [None, "0x" + "00" * 20])
def test_a_quote_names_its_payer(api, world, payer):
    body = {"base_currency": "CNY", "quote_currency": "USD", "rate": "0.14", "max_base_amount": 100}
    r = api.post("bank_cn", "/v1/fx-quotes", json=body if payer is None else body | {"payer": payer})
    assert r.status_code == 422 and _code(r) == "ValidationError"
    assert r.json()["error"]["details"]["fields"][0]["field"] == "body.payer"


def test_an_open_quote_is_refused_by_the_chain(api, world, approvals):
    """A quote whose payer is zero (signed outside the gateway) could be used up by anyone: the router refuses it."""
    signed = _quote(api, world)
    signed["quote"]["payer"] = "0x" + "00" * 20
    r = _pay(api, world, signed)
    assert r.status_code == 403 and _code(r) == "PaymentRouterQuoteNotForPayer"
    assert r.json()["error"]["details"] == {"payer": "0x" + "00" * 20, "caller": world.roles["exporter"]}


def test_approvals_name_a_known_contract(api):
    r = api.post("exporter", "/v1/approvals", json={"currency": "USD", "spender": "Nobody", "amount": 1})
    assert r.status_code == 422 and _code(r) == "UnknownSpender"
