"""Invoices through the gateway: registration, the canonical invoice number, duplicates (409 whoever tries, in
whichever letter case), confirmation by the buyer."""

from __future__ import annotations

import hashlib
import secrets

import pytest
from instrument_helpers import chain_now, code


def _invoice(world, buyer: str = "importer", **overrides) -> dict:
    now = chain_now(world)
    return {"buyer": world.roles[buyer], "currency": "USD", "invoice_number": f"INV-{secrets.token_hex(6)}",
            "face_amount": 12_500_00, "issue_date": now, "due_date": now + 90 * 86_400,
            "document_hash": "0x" + secrets.token_hex(32)} | overrides




def test_seller_registers_an_invoice_and_the_buyer_confirms_it(api, world):
    body = _invoice(world)
    r = api.post("exporter", "/v1/invoices", json=body)
    assert r.status_code == 201, r.text
    result = r.json()["result"]
    assert result["seller"] == world.roles["exporter"] and result["buyer"] == world.roles["importer"]
    assert result["face_amount"] == body["face_amount"]
    assert result["invoice_number"] == body["invoice_number"].upper(), "the canonical number the chain recorded"
    confirmed = api.post("importer", f"/v1/invoices/{result['invoice_id']}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["result"] == {"invoice_id": result["invoice_id"], "buyer": world.roles["importer"]}


def test_a_second_registration_of_the_same_invoice_is_409(api, world):
    body = _invoice(world)
    first = api.post("exporter", "/v1/invoices", json=body)
    again = api.post("exporter", "/v1/invoices", json=body | {"face_amount": 1, "document_hash": "0x" + "00" * 32})
    assert again.status_code == 409 and code(again) == "InvoiceRegistryAlreadyRegistered"
    assert again.json()["error"]["details"]["existingInvoiceId"] == int(first.json()["result"]["invoice_id"])


def test_the_chain_records_one_canonical_number_so_another_letter_case_is_the_same_invoice(api, world):
    number = f"inv-{secrets.token_hex(4)}/2026.b"
    first = api.post("exporter", "/v1/invoices", json=_invoice(world, invoice_number=number))
    assert first.status_code == 201, first.text
    assert first.json()["result"]["invoice_number"] == number.upper()
    upper = api.post("exporter", "/v1/invoices", json=_invoice(world, invoice_number=number.upper()))
    assert upper.status_code == 409 and code(upper) == "InvoiceRegistryAlreadyRegistered"
    assert upper.json()["error"]["details"]["existingInvoiceId"] == int(first.json()["result"]["invoice_id"])


def test_a_32_character_number_is_taken_as_is(api, world):
    number = "N" + secrets.token_hex(15).upper() + "~"
    assert len(number) == 32
    r = api.post("exporter", "/v1/invoices", json=_invoice(world, invoice_number=number))
    assert r.status_code == 201 and r.json()["result"]["invoice_number"] == number


@pytest.mark.parametrize("number", ["", "INV 42", "A" * 33, "RECHNUNG-Ä1", "INV-1\n", "TAB\tX"])
def test_an_invoice_number_the_chain_would_refuse_is_422_with_the_reason(api, world, number):
    r = api.post("exporter", "/v1/invoices", json=_invoice(world, invoice_number=number))
    assert r.status_code == 422 and code(r) == "ValidationError", r.text
    (field,) = r.json()["error"]["details"]["fields"]
    assert field["field"] == "body.invoice_number"
    assert field["reason"].startswith("an invoice number is 1 to 32 printable ASCII characters without spaces")


def test_only_the_buyer_confirms(api, world):
    invoice_id = api.post("exporter", "/v1/invoices", json=_invoice(world)).json()["result"]["invoice_id"]
    for role in ("exporter", "supplier1", "bank_cn"):
        r = api.post(role, f"/v1/invoices/{invoice_id}/confirm")
        assert r.status_code == 403 and code(r) == "InvoiceRegistryNotBuyer"


def test_confirming_an_unknown_invoice_is_answered_as_someone_elses(api):
    """No existence oracle (issue 12): nobody is the buyer of an invoice that does not exist."""
    r = api.post("importer", "/v1/invoices/12345/confirm")
    assert r.status_code == 403 and code(r) == "InvoiceRegistryNotBuyer"


def test_an_invoice_due_in_the_past_is_422(api, world):
    r = api.post("exporter", "/v1/invoices", json=_invoice(world, due_date=1000))
    assert r.status_code == 422 and code(r) == "InvoiceRegistryInvalidDueDate"


def test_an_invoice_on_oneself_is_422(api, world):
    r = api.post("exporter", "/v1/invoices", json=_invoice(world, buyer="exporter"))
    assert r.status_code == 422 and code(r) == "InvoiceRegistrySameParty"


def test_non_corporates_cannot_register_invoices(api, world):
    for role in ("bank_cn", "regulator", "attester"):
        r = api.post(role, "/v1/invoices", json=_invoice(world))
        assert r.status_code == 403, (role, r.text)


def test_the_buyer_may_download_the_invoice_document_once_registered(api, http, world):
    content = b"commercial invoice " + secrets.token_bytes(8)
    digest = http.post("/v1/documents", content=content, headers=world.auth("exporter")).json()["sha256"]
    assert digest == "0x" + hashlib.sha256(content).hexdigest()
    assert api.get("importer", f"/v1/documents/{digest}").status_code == 404
    assert api.post("exporter", "/v1/invoices", json=_invoice(world, document_hash=digest)).status_code == 201
    assert api.get("importer", f"/v1/documents/{digest}").content == content
    assert api.get("supplier1", f"/v1/documents/{digest}").status_code == 404


def test_naming_someone_elses_document_does_not_share_it(api, http, world):
    # supplier1 uploads a private document; the exporter learns its hash and names it in an invoice to the importer.
    content = b"supplier1 private contract " + secrets.token_bytes(8)
    digest = http.post("/v1/documents", content=content, headers=world.auth("supplier1")).json()["sha256"]
    assert api.post("exporter", "/v1/invoices", json=_invoice(world, document_hash=digest)).status_code == 201
    assert api.get("importer", f"/v1/documents/{digest}").status_code == 404
    assert api.get("exporter", f"/v1/documents/{digest}").status_code == 404
    assert api.get("supplier1", f"/v1/documents/{digest}").content == content
