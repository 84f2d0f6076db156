"""The regulator's large-value reporting threshold through the gateway: only the regulator sets it, per
currency, and transfers at or above it are reported on chain."""

from __future__ import annotations

import pytest
from instrument_helpers import code

ROUTE = "/v1/supervision/large-value-threshold"


def _set(api, role: str, currency: str = "EUR", threshold: int = 20_000_00):
    return api.post(role, ROUTE, json={"currency": currency, "threshold": threshold})


def _pay_eur(api, world, amount: int):
    r = api.post("exporter", "/v1/payments", json={"currency": "EUR", "to": world.roles["importer"],
                                                   "amount": amount, "purpose_code": "GDDS", "reference": "LV-TEST"})
    assert r.status_code == 201, r.text
    return r.json()["result"]


def test_the_regulator_sets_a_currencys_threshold_and_transfers_at_it_are_reported(api, world):
    r = _set(api, "regulator")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["result"] == {"currency": "EUR", "regulator": world.roles["regulator"], "threshold": 20_000_00}
    assert body["tx_hash"].startswith("0x") and body["block_number"] > 0
    try:
        assert _pay_eur(api, world, 20_000_00)["large_value_reported"] is True
        assert _pay_eur(api, world, 19_999_99)["large_value_reported"] is False
    finally:
        assert _set(api, "regulator", threshold=0).status_code == 200  # reporting off again for other tests
    assert _pay_eur(api, world, 20_000_00)["large_value_reported"] is False


@pytest.mark.parametrize("role", ["operator", "bank_cn", "bank_us", "exporter", "attester"])
def test_only_the_regulator_sets_the_threshold(api, role):
    r = _set(api, role)
    assert r.status_code == 403 and code(r) == "CallerKindNotAllowed"


def test_the_threshold_needs_a_known_currency_and_a_non_negative_amount(api):
    unknown = _set(api, "regulator", currency="JPY")
    assert unknown.status_code == 422 and code(unknown) == "UnsupportedCurrency"
    negative = _set(api, "regulator", threshold=-1)
    assert negative.status_code == 422 and code(negative) == "ValidationError"


def test_setting_the_threshold_needs_an_api_key(http):
    r = http.post(ROUTE, headers={"Idempotency-Key": "no-key"}, json={"currency": "EUR", "threshold": 1})
    assert r.status_code == 401
