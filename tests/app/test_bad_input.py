"""Bad input gets a 4xx with its reason in domain words, never a 500 (issue 12, "500s on bad input").

Replays each reproduction of the finding through HTTP against the real gateway and Anvil: malformed page
cursors on every paged route, FX quote fields of 78 nines, amounts sent as `true` or `"1"`, malformed JSON;
and the schema finding: every datetime in a response carries its UTC offset.
"""

from __future__ import annotations

import base64
import json
import re
import time

import pytest
from instrument_helpers import code

PAGED = [("exporter", "/v1/transfers"), ("exporter", "/v1/instruments/invoice"),
         ("regulator", "/v1/supervision/alerts"), ("regulator", "/v1/supervision/large-value-reports")]
BAD_CURSORS = ['[0,"abc"]', "[0,null]", "[0,1e30]", '[{},"x"]', "[0,-1]", "[0,true]", '["x",1]', "[1e400,1]",
               '{"a":1}', "[1,2,3]", "not json"]
NINES = "9" * 78


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize("role,path", PAGED, ids=[p for _, p in PAGED])
def test_malformed_cursor_is_422_and_keeps_the_connection(api, http, role, path):
    for cursor in [*map(_b64, BAD_CURSORS), "%%%", "A"]:
        r = api.get(role, path, params={"cursor": cursor})
        assert r.status_code == 422, (cursor, r.text)
        assert code(r) == "InvalidCursor" and "cursor" in r.json()["error"]["message"]
        assert r.headers.get("connection", "").lower() != "close"
    assert api.get(role, path).status_code == 200  # the same keep-alive client goes on


def test_a_cursor_the_api_gave_still_pages(api, world):
    for _ in range(3):
        assert api.post("exporter", "/v1/payments", json={"currency": "USD", "to": world.roles["importer"],
                        "amount": 1, "purpose_code": "GDDS", "reference": "PAGE"}).status_code == 201
    first = api.get("exporter", "/v1/transfers", params={"limit": 1}).json()
    assert first["next_cursor"]
    second = api.get("exporter", "/v1/transfers", params={"limit": 1, "cursor": first["next_cursor"]})
    assert second.status_code == 200 and second.json()["items"][0]["event_id"] < first["items"][0]["event_id"]


def _quote(world) -> dict:
    return {"bank": world.roles["bank_cn"], "payer": world.roles["exporter"],
            "baseToken": world.addresses["SettlementTokenCNY"], "quoteToken": world.addresses["SettlementTokenUSD"],
            "rate": "1", "maxBaseAmount": 1, "expiry": 1, "nonce": "1"}


@pytest.mark.parametrize("field", ["rate", "nonce", "maxBaseAmount"])
def test_fx_quote_fields_of_78_nines_are_422(api, world, field):
    quote = _quote(world) | {field: NINES if field != "maxBaseAmount" else int(NINES)}
    r = api.post("exporter", "/v1/payments/fx", json={"quote": quote, "signature": "0x" + "11" * 65,
                 "beneficiary": world.roles["importer"], "base_amount": 1, "purpose_code": "GDDS", "reference": "X"})
    assert r.status_code == 422, r.text
    fields = r.json()["error"]["details"]["fields"]
    assert any(f["field"].endswith(field) for f in fields), fields


def test_fx_quote_request_of_78_nines_is_422(api, world):
    for body in ({"max_base_amount": int(NINES)}, {"nonce": int(NINES)}, {"rate": NINES}):
        r = api.post("bank_cn", "/v1/fx-quotes", json={
            "payer": world.roles["exporter"], "base_currency": "CNY", "quote_currency": "USD", "rate": "0.14",
            "max_base_amount": 1000} | body)
        assert r.status_code == 422, r.text


AMOUNT_ROUTES = [
    ("exporter", "/v1/payments", lambda w, a: {"currency": "USD", "to": w.roles["importer"], "amount": a,
                                               "purpose_code": "GDDS", "reference": "STRICT"}),
    ("bank_cn", "/v1/deposits/mint", lambda w, a: {"currency": "USD", "to": w.roles["exporter"], "amount": a,
                                                   "reference": "STRICT"}),
    ("exporter", "/v1/approvals", lambda w, a: {"currency": "USD", "spender": "PaymentRouter", "amount": a}),
    ("exporter", "/v1/invoices", lambda w, a: {"buyer": w.roles["importer"], "currency": "USD",
                                               "invoice_number": "STRICT-1", "face_amount": a, "issue_date": 1,
                                               "due_date": 2**31, "document_hash": "0x" + "ab" * 32}),
]


@pytest.mark.parametrize("role,path,body", AMOUNT_ROUTES, ids=[p for _, p, _ in AMOUNT_ROUTES])
@pytest.mark.parametrize("amount", [True, "1", 1.0, "0x1"], ids=["true", "string", "float", "hex"])
def test_an_amount_is_a_json_integer_never_true_or_a_string(api, world, role, path, body, amount):
    r = api.post(role, path, json=body(world, amount))
    assert r.status_code == 422, r.text
    fields = r.json()["error"]["details"]["fields"]
    assert any("amount" in f["field"] and "integer" in f["reason"] for f in fields), fields


INTEGER_FIELDS = [
    ("/v1/invoices", "issue_date", lambda w, v: {"buyer": w.roles["importer"], "currency": "USD",
                                                 "invoice_number": "STRICT-2", "face_amount": 100, "issue_date": v,
                                                 "due_date": 2**31, "document_hash": "0x" + "ab" * 32}),
    ("/v1/financing-programmes", "rate_bps", lambda w, v: {"bank": w.roles["bank_cn"], "limit": 100, "rate_bps": v}),
    ("/v1/certificates/settle", "certificate_ids", lambda w, v: {"certificate_ids": [v]}),
]


@pytest.mark.parametrize("path,field,body", INTEGER_FIELDS, ids=[f for _, f, _ in INTEGER_FIELDS])
@pytest.mark.parametrize("prepare", [False, True], ids=["write", "prepare"])
def test_a_date_rate_or_id_is_a_json_integer_never_false_or_a_string(api, world, path, field, body, prepare):
    """Schema fuzz finding (issue 14's `:prepare` routes): `"issue_date": false` was read as 0 and accepted."""
    for value in (False, "1"):
        r = api.post("exporter", path + (":prepare" if prepare else ""), json=body(world, value))
        assert r.status_code == 422, r.text
        fields = r.json()["error"]["details"]["fields"]
        assert any(field in f["field"] and "integer" in f["reason"] for f in fields), fields


def test_malformed_json_is_a_documented_4xx_with_a_reason(api, http):
    json_type = {"Content-Type": "application/json"}
    truncated = api.post("exporter", "/v1/payments", content=b'{"currency": "USD",', headers=json_type)
    assert truncated.status_code == 422 and code(truncated) == "ValidationError"
    assert "JSON" in truncated.json()["error"]["details"]["fields"][0]["reason"]
    not_utf8 = api.post("exporter", "/v1/payments", content=b'{"currency": "\xff"}', headers=json_type)
    assert not_utf8.status_code == 400 and code(not_utf8) == "MalformedBody", not_utf8.text
    documented = http.get("/openapi.json").json()["paths"]["/v1/payments"]["post"]["responses"]
    assert {"400", "422"} <= set(documented)


UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)$")


def test_every_datetime_in_a_response_carries_its_utc_offset(api, world):
    keys = api.get("operator", "/v1/api-keys")
    assert keys.status_code == 200 and keys.json()
    for key in keys.json():
        assert UTC.match(key["created_at"]), key
    issued = api.post("operator", "/v1/api-keys", json={"participant": world.roles["supplier2"], "label": "tz"})
    assert issued.status_code == 201 and UTC.match(issued.json()["created_at"]), issued.text
    uploaded = api.post("exporter", "/v1/documents", content=b"tz-check " + json.dumps(world.roles).encode(),
                        headers={"Content-Type": "application/octet-stream"})
    assert uploaded.status_code in (200, 201) and UTC.match(uploaded.json()["created_at"]), uploaded.text


def test_freeze_routes_name_instrument_kinds_as_the_read_routes_do(api, world):
    """One naming scheme: `/v1/instruments/invoice/{id}` reads an invoice and `.../invoice/{id}/freeze` freezes
    it (the contract's name, `InvoiceRegistry`, is still accepted on the freeze routes)."""
    from instrument_helpers import invoice

    invoice_id = invoice(api, world)
    frozen = api.post("regulator", f"/v1/instruments/invoice/{invoice_id}/freeze", json={"reason": "AML-HOLD"})
    assert frozen.status_code == 200, frozen.text
    assert frozen.json()["result"]["subject"] == f"{world.addresses['InvoiceRegistry']}:{invoice_id}"
    deadline = time.monotonic() + 20
    while not (seen := api.get("exporter", f"/v1/instruments/invoice/{invoice_id}")).json().get("frozen"):
        assert time.monotonic() < deadline, seen.text
        time.sleep(0.1)
    thawed = api.post("regulator", f"/v1/instruments/InvoiceRegistry/{invoice_id}/unfreeze", json={"reason": "CLEARED"})
    assert thawed.status_code == 200, thawed.text
    unknown = api.post("regulator", f"/v1/instruments/payment/{invoice_id}/freeze", json={"reason": "X"})
    assert unknown.status_code == 404 and code(unknown) == "InstrumentContractUnknown"
    assert "invoice" in unknown.json()["error"]["details"]["known"]
