"""The read side end to end: the indexer running inside the gateway process, queried over HTTP."""

from __future__ import annotations

import httpx
from instrument_helpers import wait_for


def test_a_payment_through_the_gateway_is_indexed_and_shows_in_the_regulators_flows(api, world):
    paid = api.post("exporter", "/v1/payments", json={"currency": "USD", "to": world.roles["importer"],
                                                      "amount": 4321, "purpose_code": "GDDS", "reference": "IDX-1"})
    assert paid.status_code == 201, paid.text
    tx_hash = paid.json()["tx_hash"]
    transfers = wait_for(lambda: api.get("exporter", "/v1/transfers", params={"currency": "USD"}),
                          lambda r: tx_hash in [t["tx_hash"] for t in r.json()["items"]])
    (mine,) = [t for t in transfers.json()["items"] if t["tx_hash"] == tx_hash]
    assert (mine["amount"], mine["purpose_code"], mine["cross_border"]) == (4321, "GDDS", True)
    flows = api.get("regulator", "/v1/supervision/flows", params={"corridor": "CN-US", "currency": "USD"})
    assert flows.status_code == 200
    assert sum(f["total"] for f in flows.json()["items"]) >= 4321
    assert api.get("exporter", "/v1/supervision/flows").status_code == 403
    # The importer sees the transfer it received; a third party does not.
    assert tx_hash in [t["tx_hash"] for t in api.get("importer", "/v1/transfers").json()["items"]]
    assert tx_hash not in [t["tx_hash"] for t in api.get("supplier3", "/v1/transfers").json()["items"]]


def test_instrument_freeze_with_reason_code_reaches_the_frozen_list(api, world):
    frozen = api.post("regulator", "/v1/instruments/InvoiceRegistry/4242/freeze", json={"reason": "AML-HOLD"})
    assert frozen.status_code == 200, frozen.text
    listed = wait_for(lambda: api.get("regulator", "/v1/supervision/frozen"),
                       lambda r: "4242" in [i["instrument_id"] for i in r.json()["instruments"]])
    assert "4242" in [i["instrument_id"] for i in listed.json()["instruments"]]
    assert api.post("regulator", "/v1/instruments/InvoiceRegistry/4242/unfreeze",
                    json={"reason": "AML-CLEARED"}).status_code == 200
    cleared = wait_for(lambda: api.get("regulator", "/v1/supervision/frozen"),
                        lambda r: "4242" not in [i["instrument_id"] for i in r.json()["instruments"]])
    assert "4242" not in [i["instrument_id"] for i in cleared.json()["instruments"]]


def test_query_routes_validate_and_hide(api):
    assert api.get("exporter", "/v1/instruments/invoice").status_code == 200
    assert api.get("exporter", "/v1/instruments/nonsense").status_code == 422
    assert api.get("exporter", "/v1/instruments/invoice/123").status_code == 404
    assert api.get("exporter", "/v1/instruments/invoice", params={"cursor": "garbage"}).status_code == 422
    verify = api.get("exporter", "/v1/documents/0x" + "ab" * 32 + "/verify")
    assert verify.status_code == 200 and verify.json()["anchored"] is False
    assert httpx.get(api.http.base_url.join("/v1/instruments/invoice")).status_code == 401
