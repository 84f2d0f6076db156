"""Instrument states as the contracts' views derive them, derived once for the read side.

The contracts store a few facts and derive the state a caller sees in a view (`InvoiceRegistry._stateOf`,
`LetterOfCredit._state` and `_presentationState`): some of it from the facts alone (an invoice paid in full reads
`Paid`, a credit drawn in full `Exhausted`), some of it from the time (an invoice past its due date plus the grace
period reads `Defaulted`, a credit past its expiry day `Expired`, a presentation past the bank's examination
deadline `Precluded`). The indexer stores the part derived from facts in the instrument's `state` column
(`stored_*` below) and the moment from which time changes it in `due_at`; the queries add the part derived from
time, in Python (`current_state`) and in SQL (`state_condition`), both from one table (`TIME_RULES`), at the
chain's "now" as far as the index knows (the last indexed block's timestamp). tests/app/test_read_states.py
checks the result against the contracts' views after every step of `scripts/demo.py` and after time passes.

Certificates' `Due` and `Defaulted` (maturity, and a grace period the contract is deployed with and announces in
no event) are not derived here yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_

from app.core.enums import CreditState, Discrepancy, InvoiceState, PresentationState

DAY = 86_400
# `LetterOfCredit._EXAMINATION_BANKING_DAYS`: the bank examines a presentation within five banking days (UCP 600
# Art. 14(b)).
EXAMINATION_BANKING_DAYS = 5


# ───────────────────────────── Invoices ─────────────────────────────

def stored_invoice_state(cancelled: bool, paid_amount: int, face_amount: int, lien_financier: str | None,
                         confirmed: bool) -> InvoiceState:
    """`InvoiceRegistry._stateOf` but for `Defaulted`, which time adds (`TIME_RULES`): Cancelled > Paid >
    (Defaulted) > Financed > Confirmed > Registered."""
    if cancelled:
        return InvoiceState.Cancelled
    if paid_amount >= face_amount:
        return InvoiceState.Paid
    if lien_financier:
        return InvoiceState.Financed
    return InvoiceState.Confirmed if confirmed else InvoiceState.Registered


# ───────────────────────────── Letters of credit ─────────────────────────────

def stored_credit_state(stored: CreditState, drawn: int, amount: int, partial_shipments_allowed: bool) -> CreditState:
    """`LetterOfCredit._state` but for `Expired`, which time adds: an issued or advised credit drawn in full (or
    drawn at all when partial shipments are not allowed) reads `Exhausted`."""
    if stored in (CreditState.Issued, CreditState.Advised) and drawn != 0 \
            and (drawn >= amount or not partial_shipments_allowed):
        return CreditState.Exhausted
    return stored


def examined_state(discrepancies: int) -> PresentationState:
    """A presentation after the bank's examination: Compliant when neither the contract (at presentation) nor
    the bank found a discrepancy (`discrepancies`: both bitmasks or-ed), Discrepant otherwise."""
    return PresentationState.Discrepant if discrepancies else PresentationState.Compliant


def _is_weekend(day: int) -> bool:
    return (day + 3) % 7 >= 5  # `UcpCalendar.isWeekend`: unix day 0 was a Thursday


def banking_deadline(t: int) -> int:
    """`LetterOfCredit._bankingDeadline`: the last second of the fifth banking day following the day of `t` (a
    day on a weekend counts from the next banking day)."""
    day = t // DAY
    while _is_weekend(day):
        day += 1
    left = EXAMINATION_BANKING_DAYS
    while left:
        day += 1
        if not _is_weekend(day):
            left -= 1
    return (day + 1) * DAY - 1


def presentation_deadline(presented_at: int, waived_at: int | None, frozen_seconds: int) -> int:
    """`LetterOfCredit._deadline`: five banking days after the presentation (after the waiver, if later), moved on
    by the seconds the credit was frozen since the presentation."""
    deadline = banking_deadline(presented_at)
    if waived_at:
        deadline = max(deadline, banking_deadline(waived_at))
    return deadline + frozen_seconds


def can_be_precluded(discrepancies: int) -> bool:
    """A claim beyond the tolerance is outside the undertaking: its presentation is never precluded."""
    return not discrepancies & Discrepancy.OVER_TOLERANCE


# ───────────────────────────── What time adds ─────────────────────────────

@dataclass(frozen=True)
class TimeRule:
    """An instrument of `kind` in one of the `live` states reads `becomes` once the chain's time is past its
    deadline: `due_at` (plus the grace period when `grace`), or with `whole_day` the last second of `due_at`'s
    UTC day. Works on integers and on SQL column expressions alike."""

    kind: str
    live: tuple[str, ...]
    becomes: str
    grace: bool = False
    whole_day: bool = False

    def deadline(self, due_at: Any, grace: int) -> Any:
        if self.whole_day:
            return due_at - due_at % DAY + (DAY - 1)
        return due_at + grace if self.grace else due_at


TIME_RULES = {rule.kind: rule for rule in (
    # `InvoiceRegistry._stateOf`: past due date plus grace, an unpaid invoice is Defaulted.
    TimeRule("invoice", tuple(s.name for s in (InvoiceState.Registered, InvoiceState.Confirmed,
                                                InvoiceState.Financed)), InvoiceState.Defaulted.name, grace=True),
    # `LetterOfCredit._state`: after its expiry day, a credit neither cancelled nor exhausted is Expired.
    TimeRule("letter_of_credit", tuple(s.name for s in (CreditState.Applied, CreditState.Issued, CreditState.Advised)),
             CreditState.Expired.name, whole_day=True),
    # `LetterOfCredit._presentationState`: past the examination deadline (`due_at`, kept by the indexer: none
    # for a presentation over tolerance, none while its credit is frozen before the deadline), Precluded.
    TimeRule("presentation", tuple(s.name for s in (PresentationState.Presented, PresentationState.Compliant,
                                                     PresentationState.Waived)), PresentationState.Precluded.name),
)}


def current_state(kind: str, stored: str, due_at: int | None, now: int, grace: int) -> str:
    """The state the contract's view answers at time `now`, from the stored state and deadline."""
    rule = TIME_RULES.get(kind)
    if rule is not None and stored in rule.live and due_at is not None and now > rule.deadline(due_at, grace):
        return rule.becomes
    return stored


def state_condition(kind: str, state: str, state_column: Any, due_column: Any, now: int, grace: int) -> Any:
    """SQL: an instrument of `kind` reads `state` at `now` (`current_state` as a condition on the columns)."""
    rule = TIME_RULES.get(kind)
    if rule is None:
        return state_column == state
    past = and_(due_column.is_not(None), rule.deadline(due_column, grace) < now)
    if state == rule.becomes:
        return and_(state_column.in_(rule.live), past) | (state_column == state)
    if state in rule.live:
        return and_(state_column == state, ~past)
    return state_column == state
