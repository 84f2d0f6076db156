"""Supervision rules run on newly indexed data, inside the range's database transaction.

Each rule is a small function over the range's new transfers or liens and the indexed history before
them, with its thresholds from `IndexerSettings`. An alert names its subject, the event that triggered
it and its evidence (the ids of the `chain_events` that make the case). After an alert the same rule
stays quiet for the same subject for `alert_quiet_seconds`, so a continuing pattern raises one alert,
not one per transfer. A rollback deletes alerts raised from blocks that left the chain.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import and_, func, select

from app.db.index_models import Alert, Currency, Lien, Transfer
from app.indexer.config import IndexerSettings
from app.indexer.handlers import RangeState
from app.indexer.store import Store

Rule = Callable[[Store, RangeState, IndexerSettings, "AlertSink"], None]
RULES: dict[str, Rule] = {}


def rule(name: str) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        RULES[name] = fn
        return fn

    return register


class AlertSink:
    """Collects a range's alerts, honouring the quiet period against stored and just-raised alerts."""

    def __init__(self, store: Store, settings: IndexerSettings) -> None:
        self.store, self.settings = store, settings
        # (rule, subject) → the time of its latest alert, stored (read once) or raised in this range (None: none)
        self._latest: dict[tuple[str, str], int | None] = {}

    def quiet(self, rule_name: str, subject: str, timestamp: int) -> bool:
        key = (rule_name, subject)
        if key not in self._latest:
            self._latest[key] = self.store.conn.execute(
                select(func.max(Alert.timestamp)).where(Alert.rule == rule_name, Alert.subject == subject)).scalar()
        latest = self._latest[key]
        return latest is not None and latest >= timestamp - self.settings.alert_quiet_seconds

    def raise_alert(self, rule_name: str, subject: str, trigger: dict[str, Any], evidence: list[int], summary: str,
                    measures: dict[str, Any], counterparty: str | None = None) -> None:
        if self.quiet(rule_name, subject, trigger["timestamp"]):
            return
        alert = {"rule": rule_name, "subject": subject, "counterparty": counterparty,
                 "currency": trigger.get("currency"), "trigger_event_id": trigger["event_id"],
                 "block_number": trigger.get("block_number") or trigger.get("taken_block"),
                 "timestamp": trigger["timestamp"], "summary": summary[:300], "evidence": sorted(evidence),
                 "measures": measures}
        key, at = (rule_name, subject), trigger["timestamp"]
        latest = self._latest[key]  # read by `quiet` above
        self._latest[key] = at if latest is None else max(latest, at)
        self.store.append("idx_alerts", alert)


def run_rules(store: Store, state: RangeState, settings: IndexerSettings) -> None:
    if not state.transfers and not state.financings:
        return
    sink = AlertSink(store, settings)
    for fn in RULES.values():
        fn(store, state, settings, sink)


def _transfers(store: Store, *conditions: Any) -> list[Any]:
    return store.conn.execute(select(Transfer.event_id, Transfer.timestamp, Transfer.amount, Transfer.from_address,
                                     Transfer.to_address, Transfer.currency)
                              .where(Transfer.kind == "transfer", *conditions).order_by(Transfer.event_id)).all()


class _Window:
    """Transfers in chain order (`_transfers`), asked for those within `seconds` up to a trigger: a slice, found by
    bisection (time never goes back along the chain), instead of a pass over all of them per trigger."""

    def __init__(self, history: list[Any], seconds: int) -> None:
        self.history, self.seconds = history, seconds
        self._ids = [h.event_id for h in history]
        self._times = [h.timestamp for h in history]

    def count_and_slice(self, trigger: dict[str, Any]) -> tuple[int, slice]:
        end = bisect_right(self._ids, trigger["event_id"])
        start = bisect_left(self._times, trigger["timestamp"] - self.seconds, 0, end)
        return end - start, slice(start, end)


@rule("structuring")
def structuring(store: Store, state: RangeState, settings: IndexerSettings, sink: AlertSink) -> None:
    """Several transfers just under the large-value threshold from one party within a window: at least
    `structuring_min_count` transfers of `[threshold × (1 − structuring_margin), threshold)` in the same
    currency within `structuring_window_seconds`."""
    thresholds = {c: t for c, t in store.conn.execute(select(Currency.currency, Currency.large_value_threshold))}
    by_sender: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for t in state.transfers:
        threshold = thresholds.get(t["currency"], 0)
        if threshold and threshold * (1 - settings.structuring_margin) <= t["amount"] < threshold:
            by_sender[(t["from_address"], t["currency"])].append(t)
    window = settings.structuring_window_seconds
    for (sender, currency), triggers in by_sender.items():
        threshold = thresholds[currency]
        history = _transfers(store, Transfer.from_address == sender, Transfer.currency == currency,
                             Transfer.amount >= threshold * (1 - settings.structuring_margin),
                             Transfer.amount < threshold,
                             Transfer.timestamp >= triggers[0]["timestamp"] - window,
                             Transfer.event_id <= triggers[-1]["event_id"])
        span = _Window(history, window)
        for t in triggers:
            count, within = span.count_and_slice(t)
            if count >= settings.structuring_min_count and not sink.quiet("structuring", sender, t["timestamp"]):
                inside = history[within]
                total = sum(h.amount for h in inside)
                sink.raise_alert("structuring", sender, t, [h.event_id for h in inside],
                                 f"{len(inside)} {currency} transfers just under the {threshold} reporting threshold "
                                 f"within {window} s (total {total})",
                                 {"count": len(inside), "threshold": threshold, "total": total, "window_seconds": window})


@rule("round_trip")
def round_trip(store: Store, state: RangeState, settings: IndexerSettings, sink: AlertSink) -> None:
    """A→B then B→A within `round_trip_window_seconds`, the return at least `round_trip_min_ratio` of an
    outgoing amount of at least `round_trip_min_amount`."""
    window = settings.round_trip_window_seconds
    for t in state.transfers:
        if t["amount"] < settings.round_trip_min_amount * settings.round_trip_min_ratio:
            continue
        origin, counterparty = t["to_address"], t["from_address"]
        outgoing = _transfers(store, Transfer.from_address == origin, Transfer.to_address == counterparty,
                              Transfer.currency == t["currency"], Transfer.amount >= settings.round_trip_min_amount,
                              Transfer.timestamp >= t["timestamp"] - window, Transfer.event_id < t["event_id"])
        matches = [o for o in outgoing if t["amount"] >= settings.round_trip_min_ratio * o.amount]
        if matches:
            first = matches[-1]
            sink.raise_alert("round_trip", origin, t, [first.event_id, t["event_id"]],
                             f"{first.amount} {t['currency']} went to {counterparty} and {t['amount']} came back "
                             f"within {t['timestamp'] - first.timestamp} s",
                             {"out": first.amount, "back": t["amount"], "seconds": t["timestamp"] - first.timestamp},
                             counterparty=counterparty)


@rule("burst")
def burst(store: Store, state: RangeState, settings: IndexerSettings, sink: AlertSink) -> None:
    """More than `burst_max_transfers` transfers from one party within `burst_window_seconds`."""
    window, limit = settings.burst_window_seconds, settings.burst_max_transfers
    by_sender: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for t in state.transfers:
        by_sender[t["from_address"]].append(t)
    for sender, triggers in by_sender.items():
        history = _transfers(store, Transfer.from_address == sender,
                             Transfer.timestamp >= triggers[0]["timestamp"] - window,
                             Transfer.event_id <= triggers[-1]["event_id"])
        if len(history) <= limit:
            continue
        span = _Window(history, window)
        for t in triggers:
            count, within = span.count_and_slice(t)
            if count > limit and not sink.quiet("burst", sender, t["timestamp"]):
                inside = history[within]
                sink.raise_alert("burst", sender, t, [h.event_id for h in inside],
                                 f"{len(inside)} transfers within {window} s (limit {limit})",
                                 {"count": len(inside), "limit": limit, "window_seconds": window})


@rule("financing_concentration")
def financing_concentration(store: Store, state: RangeState, settings: IndexerSettings, sink: AlertSink) -> None:
    """One seller's share of the outstanding financed amount (liens held) in a currency above
    `concentration_max_share`, once that total reaches `concentration_min_total`."""
    for lien in state.financings:
        if lien["seller"] is None or lien["currency"] is None:
            continue
        outstanding = and_(Lien.currency == lien["currency"], Lien.released_event_id.is_(None))
        total = store.conn.execute(select(func.coalesce(func.sum(Lien.amount), 0)).where(outstanding)).scalar()
        if total < settings.concentration_min_total:
            continue
        rows = store.conn.execute(select(Lien.taken_event_id, Lien.amount)
                                  .where(outstanding, Lien.seller == lien["seller"])).all()
        share = sum(r.amount for r in rows) / total
        if share > settings.concentration_max_share:
            sink.raise_alert("financing_concentration", lien["seller"], {**lien, "timestamp": lien["taken_at"]},
                             [r.taken_event_id for r in rows],
                             f"{share:.0%} of the {total} {lien['currency']} financed is against one seller "
                             f"(limit {settings.concentration_max_share:.0%})",
                             {"share": round(share, 4), "seller_total": sum(r.amount for r in rows), "total": total})
