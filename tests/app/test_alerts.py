"""Each supervision rule on a crafted scenario that must fire, next to a near miss that must not."""

from __future__ import annotations

import pytest
from indexer_world import IndexerChain
from sqlalchemy import select

from app.db.index_models import Alert, ChainEvent

THRESHOLD = 10_000_00  # USD large-value threshold in this world (minor units)
RULES = {"structuring_margin": 0.1, "structuring_min_count": 3, "round_trip_min_ratio": 0.9,
         "round_trip_min_amount": 100_000_00, "burst_window_seconds": 600, "burst_max_transfers": 5,
         "concentration_max_share": 0.5, "concentration_min_total": 500_000_00}


@pytest.fixture(scope="module")
def alerted(tmp_path_factory):
    with IndexerChain.start(tmp_path_factory.mktemp("alerts")) as w:
        usd = w.token("USD")
        w.send("regulator", usd.functions.setLargeValueThreshold(THRESHOLD))
        indexer = w.indexer(**RULES)
        # Structuring: exporter sends three just under the threshold (fires); supplier1 sends two just
        # under and one below the band (near miss).
        for amount in (9_500_00, 9_900_00, 9_100_00):
            w.pay("exporter", "importer", "USD", amount)
        for amount in (9_500_00, 9_900_00, 8_900_00):
            w.pay("supplier1", "importer", "USD", amount)
        # Round trip: supplier1 → supplier2 → supplier1 at 95% (fires); supplier3 ↔ importer at 75% (near miss).
        w.pay("supplier1", "supplier2", "EUR", 200_000_00)
        w.pay("supplier2", "supplier1", "EUR", 190_000_00)
        w.pay("supplier3", "importer", "EUR", 200_000_00)
        w.pay("importer", "supplier3", "EUR", 150_000_00)
        indexer.sync()  # the rules also run on live ranges, one transfer at a time
        # Burst: six transfers from bank_us (fires); five from bank_cn (near miss).
        for n in range(6):
            w.pay("bank_us", "importer", "CNY", 100 + n)
        for n in range(5):
            w.pay("bank_cn", "exporter", "CNY", 100 + n)
        indexer.sync()
        # Financing concentration: bank_cn finances invoices (the liens count at face value); in USD, exporter
        # ends with 400k of 500k (fires); in EUR, supplier2 and supplier3 hold 300k each (50%, not above: near
        # miss). An hour later, so that bank_cn's four advances are no burst with its five payments above.
        w.mine_at(w.now() + 3600)
        invoices = w.contracts["InvoiceRegistry"]
        financed = (("supplier1", "USD", 100_000_00, "CONC-1"), ("exporter", "USD", 400_000_00, "CONC-2"),
                    ("supplier2", "EUR", 300_000_00, "CONC-3"), ("supplier3", "EUR", 300_000_00, "CONC-4"))
        for seller, currency, amount, number in financed:
            invoice = w.register_invoice(seller, "importer", currency, amount, number)
            w.send("importer", invoices.functions.confirm(invoice))
            w.finance(seller, "bank_cn", invoice, currency, amount // 2)
        indexer.sync()
        with indexer.engine.connect() as conn:
            alerts = [dict(a) for a in conn.execute(select(Alert.__table__)).mappings()]
            events = {e.id: e for e in conn.execute(select(ChainEvent.__table__))}
        yield w, alerts, events


def _of(alerts, rule):
    return [a for a in alerts if a["rule"] == rule]


def test_structuring_fires_on_three_transfers_just_under_the_threshold(alerted):
    w, alerts, events = alerted
    (alert,) = _of(alerts, "structuring")
    assert alert["subject"] == w.address("exporter")
    assert alert["measures"]["count"] == 3 and alert["measures"]["threshold"] == THRESHOLD
    amounts = sorted(events[i].args["value"] for i in alert["evidence"])
    assert amounts == [9_100_00, 9_500_00, 9_900_00]


def test_structuring_near_miss_below_the_band_does_not_fire(alerted):
    w, alerts, _ = alerted
    assert w.address("supplier1") not in [a["subject"] for a in _of(alerts, "structuring")]


def test_round_trip_fires_when_most_of_the_money_comes_back(alerted):
    w, alerts, events = alerted
    (alert,) = _of(alerts, "round_trip")
    assert (alert["subject"], alert["counterparty"]) == (w.address("supplier1"), w.address("supplier2"))
    legs = [(events[i].args["from"], events[i].args["value"]) for i in alert["evidence"]]
    assert legs == [(w.address("supplier1"), 200_000_00), (w.address("supplier2"), 190_000_00)]


def test_round_trip_near_miss_at_75_percent_does_not_fire(alerted):
    w, alerts, _ = alerted
    assert w.address("supplier3") not in [a["subject"] for a in _of(alerts, "round_trip")]


def test_burst_fires_above_the_rate_and_not_at_it(alerted):
    w, alerts, _ = alerted
    bursts = _of(alerts, "burst")
    assert [a["subject"] for a in bursts] == [w.address("bank_us")]
    assert len(bursts[0]["evidence"]) == 6


def test_financing_concentration_fires_for_one_dominant_seller_only(alerted):
    w, alerts, events = alerted
    (alert,) = _of(alerts, "financing_concentration")
    assert alert["subject"] == w.address("exporter") and alert["currency"] == "USD"
    assert alert["measures"]["share"] == 0.8 and alert["measures"]["total"] == 500_000_00
    assert [events[i].event for i in alert["evidence"]] == ["LienTaken"]


def test_no_other_alerts(alerted):
    _, alerts, _ = alerted
    assert sorted(a["rule"] for a in alerts) == ["burst", "financing_concentration", "round_trip", "structuring"]
