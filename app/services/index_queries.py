"""Queries over the index: instruments, audit trails, document anchors, transfers. Nothing here reads
the chain: every answer comes from the rows the indexer wrote.

Visibility (DESIGN §9): a caller sees an instrument it is a party to (any role in
`idx_instrument_parties`), through any wallet of its legal identity (wallets the operator linked, DESIGN §1);
the regulator sees everything. A bank also sees the invoice of every financing application on its desk
(a financing in state `Applied` naming it as the bank) while the application could still be approved: the
applicant still owns the invoice and no instrument holds its lien. Its state, confirmation, customs declaration and
match, liens and trail are what the decision needs; the access ends with the application (approved: the bank is
then the invoice's financier and a party; rejected or withdrawn: no longer) or as soon as the invoice is assigned
away or liened by another instrument. An instrument the caller may not see answers 404, exactly like one that
does not exist.

A role in `PARTIAL_ROLES` sees its instrument only in part, what its trade needs: a customs attester (any attester
may attest any invoice the chain lets it, so it is no party of the trade) sees the invoice's id, state and customs
declaration and match, and its own party entry; not the trade's parties, amounts, dates, documents or their namers,
liens, nor the audit trail (404, as for a stranger). Such an instrument is read by its id only: listings and
document anchors show only instruments the caller sees whole (a filter or sort on what it may not see would tell
it). A party in any other role, the desk's bank and the regulator see the instrument whole.
"""

from __future__ import annotations

import base64
import csv
import functools
import io
import json
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    Integer,
    Select,
    Text,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import aliased

from app.core.enums import FinancingState, ParticipantKind
from app.core.errors import Forbidden, Invalid, NotFound
from app.core.states import current_state, state_condition
from app.db.index_models import (
    ChainEvent,
    ContractParameter,
    IndexBlock,
    IndexCheckpoint,
    Instrument,
    InstrumentEvent,
    InstrumentParty,
    Participant,
    Transfer,
)

MAX_SAFE_JSON_INT = 2**53 - 1
SortKey = Literal["created_at", "-created_at", "amount", "-amount", "due_at", "-due_at"]
SORT_COLUMNS = {"created_at": Instrument.created_at, "amount": Instrument.amount, "due_at": Instrument.due_at}


def json_safe(value: Any) -> Any:
    """Integers beyond JavaScript's safe range as decimal strings (uint256 ids, amounts in args)."""
    kind = type(value)
    if kind is str:
        return value
    if kind is int:
        return str(value) if not -MAX_SAFE_JSON_INT <= value <= MAX_SAFE_JSON_INT else value
    if kind is dict:
        return {k: v if type(v) is str else json_safe(v) for k, v in value.items()}
    if kind is list:
        return [json_safe(v) for v in value]
    return value  # bool, None, float


@dataclass(frozen=True)
class Viewer:
    """Who asks: its address, every wallet of its legal identity (itself first; just itself when it has no
    other), and whether it is the regulator (who sees everything)."""

    address: str
    regulator: bool
    wallets: tuple[str, ...] = ()

    def is_one_of(self, column: Any) -> Any:
        """`column` names one of the viewer's wallets."""
        return column == self.address if len(self.wallets) <= 1 else column.in_(self.wallets)


# The statements every read runs, built once: building SQLAlchemy expressions costs more CPU than SQLite spends
# answering them.
_caller = aliased(Participant)
_WALLETS = select(Participant.address, Participant.kind).where(
    Participant.identity_hash == select(_caller.identity_hash).where(_caller.address == bindparam("address"))
    .scalar_subquery())
_NOW_AND_GRACE = select(
    select(IndexBlock.timestamp).where(IndexBlock.block_number <= select(IndexCheckpoint.block_number)
                                       .scalar_subquery())
    .order_by(IndexBlock.block_number.desc()).limit(1).scalar_subquery(),
    select(func.max(ContractParameter.value)).where(ContractParameter.name == "gracePeriod").scalar_subquery())


def _read_viewer(conn: Connection, address: str) -> Viewer:
    rows = conn.execute(_WALLETS, {"address": address}).all()
    kind = next((k for a, k in rows if a == address), None)
    others = sorted(a for a, _ in rows if a != address)
    return Viewer(address, kind == ParticipantKind.Regulator.name, (address, *others))


def _read_now_and_grace(conn: Connection) -> tuple[int, int]:
    now, grace = conn.execute(_NOW_AND_GRACE).one()
    return now or 0, grace or 0


_CHECKPOINT = select(IndexCheckpoint.block_number, IndexCheckpoint.block_hash, IndexCheckpoint.updated_at)


@functools.lru_cache(maxsize=4)
def _checkpoint_sql(dialect: Dialect) -> str:
    """`_CHECKPOINT` as the database's own SQL (it has no parameters)."""
    return str(_CHECKPOINT.compile(dialect=dialect))


class IndexMemo:
    """What the reads derive from the index alone (who a caller is, the index's "now" and grace period, whether a
    party has many instruments of a kind, a bank's desk), kept while the index stays where it is. The indexer moves
    its checkpoint (block, hash, time) in the transaction of every change it makes, a range applied, rolled back or
    the index cleared (`app.indexer.worker`), and nothing else writes the index: a checkpoint this memo was not made
    at starts a new one. One statement per read instead of up to five."""

    MAX_ENTRIES = 4_096

    def __init__(self, checkpoint: tuple[Any, ...] | None) -> None:
        self.checkpoint = checkpoint
        self._values: dict[tuple[Any, ...], Any] = {}

    @classmethod
    def of(cls, conn: Connection) -> IndexMemo:
        """The memo of the index as `conn` sees it now (one statement: its checkpoint, read through the driver's own
        cursor: every read runs it, and SQLAlchemy's handling of a statement costs more CPU than SQLite answering
        this one)."""
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(_checkpoint_sql(conn.dialect))
            row = cursor.fetchone()
        finally:
            cursor.close()
        checkpoint = tuple(row) if row is not None else None
        memo = _MEMOS.get(conn.engine)
        if memo is None or memo.checkpoint != checkpoint:
            memo = _MEMOS[conn.engine] = cls(checkpoint)
        return memo

    def _get(self, key: tuple[Any, ...], read: Callable[[], Any]) -> Any:
        try:
            return self._values[key]
        except KeyError:
            pass
        value = read()
        if len(self._values) >= self.MAX_ENTRIES:
            self._values.clear()
        self._values[key] = value
        return value

    def viewer(self, conn: Connection, address: str) -> Viewer:
        """The caller and its identity's wallets, in one query (every wallet of an identity has its kind)."""
        return self._get(("viewer", address), lambda: _read_viewer(conn, address))

    def now_and_grace(self, conn: Connection) -> tuple[int, int]:
        """The index's "now" (`indexed_now`) and the invoice registry's grace period, in one query."""
        return self._get(("now",), lambda: _read_now_and_grace(conn))

    def desk(self, conn: Connection, v: Viewer) -> list[str]:
        return self._get(("desk", v.wallets), lambda: desk_invoices(conn, v))

    def many(self, conn: Connection, v: Viewer, kind: str) -> bool:
        """The viewer is party to more than SPARSE_PARTY_LIMIT instruments of `kind` (`_few_instruments_of`)."""
        return self._get(("many", v.wallets, kind, SPARSE_PARTY_LIMIT), lambda: conn.execute(
            _PARTY_ROWS, {"wallets": _wallets(v), "kind": kind}).scalar_one() > SPARSE_PARTY_LIMIT)


_MEMOS: weakref.WeakKeyDictionary[Engine, IndexMemo] = weakref.WeakKeyDictionary()


def viewer(conn: Connection, address: str) -> Viewer:
    """The caller and its identity's wallets (`IndexMemo.viewer`)."""
    return IndexMemo.of(conn).viewer(conn, address)


def now_and_grace(conn: Connection) -> tuple[int, int]:
    """The index's "now" (`indexed_now`) and the invoice registry's grace period (`IndexMemo.now_and_grace`)."""
    return IndexMemo.of(conn).now_and_grace(conn)


def require_regulator(conn: Connection, address: str) -> Viewer:
    v = viewer(conn, address)
    if not v.regulator:
        raise Forbidden("supervision is for the regulator", {"caller": address}, code="CallerKindNotAllowed")
    return v


def indexed_block(conn: Connection) -> int | None:
    """The last block the index holds (its checkpoint), or None before the first range."""
    return conn.execute(select(IndexCheckpoint.block_number)).scalar()


def indexed_now(conn: Connection) -> int:
    """The chain's "now" as far as the index knows: the timestamp of the last indexed block."""
    number = indexed_block(conn)
    if number is None:
        return 0
    return conn.execute(select(IndexBlock.timestamp).where(IndexBlock.block_number <= number)
                        .order_by(IndexBlock.block_number.desc()).limit(1)).scalar() or 0


def _safe_int(digits: str) -> int | str:
    value = int(digits)
    return value if -MAX_SAFE_JSON_INT <= value <= MAX_SAFE_JSON_INT else digits


# Decoded rows kept by `_decode_details` and `_party_list`: the pages clients read again and again (the newest
# instruments, a party's own) are decoded once per version of their row. About 2 KB each.
ROW_TEXT_MEMO_SIZE = 4096

_json_safe_decode = json.JSONDecoder(parse_int=_safe_int).decode


@functools.lru_cache(maxsize=ROW_TEXT_MEMO_SIZE)
def _decode_details(text: str) -> dict[str, Any]:
    """`details` as the API answers it, decoded from the stored JSON text in one pass (`json_safe` while parsing).
    A pure function of the text, memoized (`ROW_TEXT_MEMO_SIZE`): a row that changes has another text, so nothing
    stale is answered; what it returns is shared, and nothing may change it."""
    return _json_safe_decode(text)


def _details(stored: Any) -> dict[str, Any]:
    """An instrument's `details` (`_ROW`) or an event's `args` (`_EVENT_ROW`) read as text: on SQLite the stored
    JSON; a driver that decodes JSON columns itself (PostgreSQL) hands over the value."""
    if isinstance(stored, str):
        return _decode_details(stored)
    return json_safe(stored or {})


# Each instrument's parties in one text, `<role> <participant>` joined by commas (neither has a space or a comma),
# read with its row: one statement per page instead of a second one over the page's uids.
_PARTIES_TEXT = select(func.aggregate_strings(InstrumentParty.role + " " + InstrumentParty.participant, ",")) \
    .where(InstrumentParty.instrument == Instrument.uid).scalar_subquery()
# An instrument row as the read routes answer it: `details` as text, decoded by `_details`; `parties` as text,
# split by `_party_list`.
_ROW = (Instrument.uid, Instrument.kind, Instrument.instrument_id, Instrument.contract, Instrument.state,
        Instrument.currency, Instrument.amount, Instrument.document_hash, Instrument.due_at, Instrument.frozen,
        Instrument.created_block, Instrument.created_at, Instrument.updated_block, Instrument.updated_at,
        type_coerce(Instrument.details, Text).label("details"), _PARTIES_TEXT.label("parties"))


@functools.lru_cache(maxsize=ROW_TEXT_MEMO_SIZE)
def _party_list(text: str | None) -> list[dict[str, str]]:
    """An instrument's parties (`_PARTIES_TEXT`) by role, then participant. Memoized as `_decode_details` is: what
    it returns is shared, and nothing may change it."""
    if not text:
        return []
    return [{"participant": participant, "role": role}
            for role, participant in sorted(entry.split(" ", 1) for entry in text.split(","))]


def _wallets(v: Viewer) -> list[str]:
    return list(v.wallets or (v.address,))


_DESK_APPLICATIONS = select(Instrument.details).join(InstrumentParty, InstrumentParty.instrument == Instrument.uid) \
    .where(InstrumentParty.participant.in_(bindparam("wallets", expanding=True)), InstrumentParty.kind == "financing",
           InstrumentParty.role == "bank", Instrument.state == FinancingState.Applied.name)
_DESK_INVOICES = select(Instrument.uid, Instrument.details).where(Instrument.uid.in_(bindparam("uids", expanding=True)))


def desk_invoices(conn: Connection, v: Viewer) -> list[str]:
    """Uids of the invoices of financing applications pending with the viewer as the bank (see above) that the
    application could still finance: the applicant still owns the invoice (an invoice assigned away since is no
    longer the applicant's to pledge) and no instrument holds its lien (financed by another bank, presented under a
    credit, pledged to certificates). Otherwise the bank is answered as any stranger."""
    if v.regulator:
        return []
    applications = [d for d in conn.execute(_DESK_APPLICATIONS, {"wallets": _wallets(v)}).scalars()
                    if d and d.get("invoice_id")]
    if not applications:
        return []
    invoices = dict(conn.execute(_DESK_INVOICES, {"uids": sorted({f"invoice:{d['invoice_id']}"
                                                                 for d in applications})}).all())
    desk = set()
    for d in applications:
        key = f"invoice:{d['invoice_id']}"
        invoice = invoices.get(key) or {}
        if invoice.get("seller") and invoice["seller"] == d.get("seller") and not invoice.get("lien_financier"):
            desk.add(key)
    return sorted(desk)


# Party roles that see an instrument only in part (see the module notes), each with the `details` it sees.
PARTIAL_ROLES: dict[str, tuple[str, ...]] = {"attester": ("customs",)}


def _visible(desk: bool = False, whole: bool = False) -> Any:
    """SQL: a viewer who is not the regulator may see the instrument: one of its wallets (parameter `wallets`) is a
    party to it, or (`desk`) its uid is one of the parameter `desk` (desk invoices). `whole`: only an instrument it
    sees whole, as a party in a role outside PARTIAL_ROLES (or a desk invoice)."""
    conditions = [InstrumentParty.instrument == Instrument.uid,
                  InstrumentParty.participant.in_(bindparam("wallets", expanding=True))]
    if whole:
        conditions.append(InstrumentParty.role.not_in(sorted(PARTIAL_ROLES)))
    party = exists().where(*conditions)
    return or_(party, Instrument.uid.in_(bindparam("desk", expanding=True))) if desk else party


_PARTIAL_ROLES_OF = select(InstrumentParty.role).where(
    InstrumentParty.instrument == bindparam("uid"), InstrumentParty.participant.in_(bindparam("wallets", expanding=True)))


def _partial_roles(conn: Connection, v: Viewer, uid: str, also: list[str]) -> set[str]:
    """The viewer's roles in instrument `uid` when it sees it only in part (every role of any of its wallets in
    PARTIAL_ROLES, the uid not in `also`, not the regulator); empty when it sees it whole."""
    if v.regulator or uid in also:
        return set()
    roles = set(conn.execute(_PARTIAL_ROLES_OF, {"uid": uid, "wallets": _wallets(v)}).scalars())
    return roles if roles and roles <= PARTIAL_ROLES.keys() else set()


def _in_part(row: Any, v: Viewer, roles: set[str], now: int, grace: int) -> dict[str, Any]:
    """What a viewer in PARTIAL_ROLES `roles` sees of an instrument: its id, its state and the `details` its roles
    see; of the parties only its own entries; nothing else (null)."""
    seen = {key for role in roles for key in PARTIAL_ROLES[role]}
    details = _details(row.details)
    return {
        "uid": row.uid, "kind": row.kind, "id": row.instrument_id, "contract": row.contract,
        "state": current_state(row.kind, row.state, row.due_at, now, grace), "currency": None, "amount": None,
        "document_hash": None, "due_at": None, "frozen": None, "created_block": None, "created_at": None,
        "updated_block": None, "updated_at": None,
        "parties": [p for p in _party_list(row.parties) if p["participant"] in v.wallets and p["role"] in roles],
        "details": {k: details.get(k) for k in sorted(seen)},
    }


# Up to this many instruments of a kind, a party's listing reads its own instruments by primary key
# and sorts them here; above, walking the instruments' sort index and checking membership per row
# finds a page sooner. (A bank with ten financings among millions of invoices must not scan them all.)
SPARSE_PARTY_LIMIT = 2_000


_PARTY_ROWS = select(func.count()).select_from(
    select(InstrumentParty.instrument).where(InstrumentParty.participant.in_(bindparam("wallets", expanding=True)),
                                             InstrumentParty.kind == bindparam("kind"))
    .limit(SPARSE_PARTY_LIMIT + 1).subquery())
_PARTY_INSTRUMENTS = select(InstrumentParty.instrument).where(
    InstrumentParty.participant.in_(bindparam("wallets", expanding=True)), InstrumentParty.kind == bindparam("kind"),
    InstrumentParty.role.not_in(sorted(PARTIAL_ROLES)))


def _few_instruments_of(conn: Connection, memo: IndexMemo, v: Viewer, kind: str) -> list[str] | None:
    """The uids of `kind` the viewer is party to (and sees whole), when there are at most SPARSE_PARTY_LIMIT; else
    None. Counted first, along the participant index alone (every role: more rows than instruments seen whole
    only ever takes the other path, which is right for any number), read only when few."""
    if memo.many(conn, v, kind):
        return None
    return sorted(set(conn.execute(_PARTY_INSTRUMENTS, {"wallets": _wallets(v), "kind": kind}).scalars()))


def _encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


# Cursor values are BIGINT columns: anything outside a signed 64-bit integer is not one this API gave.
_CURSOR_INT = range(-(2**63), 2**63)


def _bad_cursor(cursor: str, reason: str) -> Invalid:
    return Invalid(f"the cursor is not one this API gave: {reason}; pass `next_cursor` of the previous page as is",
                   {"cursor": cursor[:80], "fields": [{"field": "cursor", "reason": reason}]}, code="InvalidCursor")


def _cursor_values(cursor: str) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError):  # binascii.Error and JSONDecodeError are ValueErrors
        raise _bad_cursor(cursor, "not base64 of a JSON list") from None
    if not isinstance(values, list) or len(values) != 2:
        raise _bad_cursor(cursor, "not a pair of sort value and last item")
    return values


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value in _CURSOR_INT


def _decode_cursor(cursor: str, kind: str) -> tuple[int | None, str]:
    """An instrument page's cursor: (sort value of the last row, its uid, which names its kind)."""
    value, last_uid = _cursor_values(cursor)
    if not (value is None or _is_int(value)):
        raise _bad_cursor(cursor, "the sort value of the last instrument is not a 64-bit integer")
    if not isinstance(last_uid, str) or not last_uid.startswith(f"{kind}:") or len(last_uid) > 200:
        raise _bad_cursor(cursor, f"the last item is not the uid of a {kind} (`{kind}:<id>`)")
    return value, last_uid


def decode_id_cursor(cursor: str) -> int:
    """The cursor of a page ordered by a row id (transfers, large-value reports, alerts): the last id seen."""
    first, last = _cursor_values(cursor)
    if first != 0 or isinstance(first, bool):
        raise _bad_cursor(cursor, "not a cursor of this list")
    if not _is_int(last) or last < 0:
        raise _bad_cursor(cursor, "the last id is not a non-negative 64-bit integer")
    return last


@dataclass(frozen=True)
class InstrumentFilter:
    state: str | None = None
    counterparty: str | None = None
    currency: str | None = None
    created_from: int | None = None
    created_to: int | None = None
    sort: str = "-created_at"
    cursor: str | None = None
    limit: int = 50


@dataclass(frozen=True)
class _ListShape:
    """What a listing's statement depends on (its values are parameters): one statement built per shape."""

    kind: str
    few: bool | None  # None: the regulator (everything); True: a party's few instruments by uid; False: the walk
    desk: bool
    currency: bool
    created_from: bool
    created_to: bool
    counterparty: bool
    state: str | None
    sort: str
    cursor: Literal["value", "null"] | None  # the last row's sort value is a number or null


@functools.lru_cache(maxsize=512)
def _list_statement(shape: _ListShape) -> Select[Any]:
    """The listing's query: its rows (`_ROW`) in order, one more than the page (the regulator, or a party walking
    the sort index); or, for a party's few instruments, their uids and sort values (sorted by `list_instruments`)."""
    column = SORT_COLUMNS[shape.sort.lstrip("-")]
    descending = shape.sort.startswith("-")
    if shape.few:
        # (uids carry their kind: with the list, the kind test would only tempt the planner into a scan)
        conditions: list[Any] = [Instrument.uid.in_(bindparam("few", expanding=True))]
    else:
        conditions = [Instrument.kind == bindparam("kind")]
        if shape.few is False:
            conditions.insert(0, _visible(shape.desk, whole=True))
    if shape.currency:
        conditions.append(Instrument.currency == bindparam("currency"))
    if shape.created_from:
        conditions.append(Instrument.created_at >= bindparam("created_from"))
    if shape.created_to:
        conditions.append(Instrument.created_at < bindparam("created_to"))
    if shape.counterparty:
        conditions.append(exists().where(InstrumentParty.instrument == Instrument.uid,
                                         InstrumentParty.participant == bindparam("counterparty")))
    if shape.state is not None:
        conditions.append(state_condition(shape.kind, shape.state, Instrument.state, Instrument.due_at,
                                          bindparam("now", type_=BigInteger), bindparam("grace", type_=BigInteger)))
    if shape.cursor is not None:
        value = None if shape.cursor == "null" else bindparam("after", type_=BigInteger)
        last_uid = bindparam("last_uid")
        after = (column < value) if descending else (column > value)
        conditions.append(or_(after, and_(column == value, (Instrument.uid < last_uid) if descending
                                          else (Instrument.uid > last_uid))))
    if shape.few:
        return select(Instrument.uid, column).where(*conditions)
    order = [column.desc(), Instrument.uid.desc()] if descending else [column.asc(), Instrument.uid.asc()]
    return select(*_ROW).where(*conditions).order_by(*order).limit(bindparam("limit", type_=Integer))


_ROWS_BY_UID = select(*_ROW).where(Instrument.uid.in_(bindparam("uids", expanding=True)))


def list_instruments(engine: Engine, caller: str, kind: str, f: InstrumentFilter) -> dict[str, Any]:
    with engine.connect() as conn:
        memo = IndexMemo.of(conn)
        v = memo.viewer(conn, caller)
        now, grace = memo.now_and_grace(conn)
        params: dict[str, Any] = {"kind": kind, "limit": f.limit + 1, "now": now, "grace": grace,
                                  "currency": f.currency, "created_from": f.created_from,
                                  "created_to": f.created_to, "counterparty": f.counterparty}
        few: bool | None = None
        desk: list[str] = []
        if not v.regulator:
            uids = _few_instruments_of(conn, memo, v, kind)
            desk = memo.desk(conn, v) if kind == "invoice" else []
            few = uids is not None
            params |= {"wallets": _wallets(v), "desk": desk, "few": sorted({*(uids or ()), *desk})}
        cursor: Literal["value", "null"] | None = None
        if f.cursor:
            params["after"], params["last_uid"] = _decode_cursor(f.cursor, kind)
            cursor = "null" if params["after"] is None else "value"
        statement = _list_statement(_ListShape(
            kind, few, bool(desk), bool(f.currency), f.created_from is not None, f.created_to is not None,
            bool(f.counterparty), f.state or None, f.sort, cursor))
        if not few:
            rows = conn.execute(statement, params).all()
        else:  # a party with few instruments: read them by primary key, sort here, then load one page
            keys = conn.execute(statement, params).all()
            keys.sort(key=lambda k: (k[1] is not None, k[1], k[0]), reverse=f.sort.startswith("-"))
            page = [k[0] for k in keys[:f.limit + 1]]
            by_uid = {r.uid: r for r in conn.execute(_ROWS_BY_UID, {"uids": page})}
            rows = [by_uid[u] for u in page]
        more = len(rows) > f.limit
        rows = rows[:f.limit]
        items = [_public(r, now, grace) for r in rows]
        next_cursor = _encode_cursor([getattr(rows[-1], f.sort.lstrip("-")), rows[-1].uid]) if more and rows \
            else None
        return {"items": items, "next_cursor": next_cursor}


def _public(row: Any, now: int, grace: int) -> dict[str, Any]:
    uid, kind, instrument_id, contract, state, currency, amount, document_hash, due_at, frozen, created_block, \
        created_at, updated_block, updated_at, details, parties = row
    return {
        "uid": uid, "kind": kind, "id": instrument_id, "contract": contract,
        "state": current_state(kind, state, due_at, now, grace), "currency": currency, "amount": amount,
        "document_hash": document_hash, "due_at": due_at, "frozen": frozen, "created_block": created_block,
        "created_at": created_at, "updated_block": updated_block, "updated_at": updated_at,
        "parties": _party_list(parties), "details": _details(details),
    }


@functools.lru_cache(maxsize=8)
def _visible_row(regulator: bool, desk: bool, whole: bool) -> Select[Any]:
    statement = select(*_ROW).where(Instrument.uid == bindparam("uid"))
    return statement if regulator else statement.where(_visible(desk, whole))


def _load_visible(conn: Connection, memo: IndexMemo, v: Viewer, kind: str, instrument_id: str,
                  whole: bool = False) -> tuple[Any, set[str]]:
    """The instrument's row (`_ROW`) and the viewer's partial roles in it (empty: it sees it whole); 404 when it
    may not see it (`whole`: unless it sees it whole), exactly as for one that does not exist."""
    key = f"{kind}:{instrument_id}"
    desk = memo.desk(conn, v) if kind == "invoice" else []
    row = conn.execute(_visible_row(v.regulator, bool(desk), whole),
                       {"uid": key, "wallets": _wallets(v), "desk": desk}).first()
    if row is None:
        raise NotFound(f"no {kind} {instrument_id} that you are a party to", {"kind": kind, "id": instrument_id},
                       code="InstrumentNotFound")
    return row, set() if whole else _partial_roles(conn, v, key, desk)


def get_instrument(engine: Engine, caller: str, kind: str, instrument_id: str) -> dict[str, Any]:
    with engine.connect() as conn:
        memo = IndexMemo.of(conn)
        v = memo.viewer(conn, caller)
        row, partial = _load_visible(conn, memo, v, kind, instrument_id)
        now, grace = memo.now_and_grace(conn)
        if partial:
            return _in_part(row, v, partial, now, grace)
        return _public(row, now, grace)


def _event_public(e: Any) -> dict[str, Any]:
    return {"event_id": e.id, "block_number": e.block_number, "block_hash": e.block_hash, "tx_hash": e.tx_hash,
            "log_index": e.log_index, "timestamp": e.timestamp, "actor": e.actor, "contract": e.contract,
            "address": e.address, "event": e.event, "args": _details(e.args)}


# An event's columns, `args` read as text (decoded by `_details`, memoized like an instrument's details).
_EVENT_ROW = [c for c in ChainEvent.__table__.columns if c.name != "args"] + \
    [type_coerce(ChainEvent.args, Text).label("args")]
_TRAIL = select(*_EVENT_ROW).join(InstrumentEvent.__table__, InstrumentEvent.event_id == ChainEvent.id) \
    .where(InstrumentEvent.instrument == bindparam("uid")).order_by(ChainEvent.block_number, ChainEvent.log_index)


def audit_trail(engine: Engine, caller: str, kind: str, instrument_id: str) -> dict[str, Any]:
    """Every event of the instrument, in chain order, with block, transaction, log index, time and actor."""
    with engine.connect() as conn:
        memo = IndexMemo.of(conn)
        v = memo.viewer(conn, caller)
        row, _ = _load_visible(conn, memo, v, kind, instrument_id, whole=True)  # no trail for a partial role
        events = conn.execute(_TRAIL, {"uid": row.uid}).all()
        return {"uid": row.uid, "kind": kind, "id": instrument_id, "contract": row.contract,
                "events": [_event_public(e) for e in events]}


TRAIL_CSV_COLUMNS = ("block_number", "timestamp", "tx_hash", "log_index", "actor", "contract", "event", "args",
                     "block_hash", "event_id")


def trail_csv(trail: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(TRAIL_CSV_COLUMNS)
    for e in trail["events"]:
        writer.writerow([json.dumps(e[c], sort_keys=True, separators=(",", ":")) if c == "args" else e[c]
                         for c in TRAIL_CSV_COLUMNS])
    return out.getvalue()


def verify_document(engine: Engine, caller: str, document_hash: str) -> dict[str, Any]:
    """Which instruments (that the caller may see) carry `document_hash`, and which block anchored it."""
    with engine.connect() as conn:
        v = viewer(conn, caller)
        conditions = [Instrument.document_hash == document_hash.lower()]
        if not v.regulator:
            conditions.append(_visible(whole=True))
        rows = conn.execute(select(Instrument.uid, Instrument.kind, Instrument.instrument_id, Instrument.contract)
                            .where(*conditions), {"wallets": _wallets(v)}).all()
        anchors = []
        for r in rows:
            first = conn.execute(
                select(ChainEvent.block_number, ChainEvent.block_hash, ChainEvent.tx_hash, ChainEvent.log_index,
                       ChainEvent.timestamp, ChainEvent.event)
                .join(InstrumentEvent.__table__, InstrumentEvent.event_id == ChainEvent.id)
                .where(InstrumentEvent.instrument == r.uid)
                .order_by(ChainEvent.block_number, ChainEvent.log_index).limit(1)).first()
            if first is not None:
                anchors.append({"uid": r.uid, "kind": r.kind, "id": r.instrument_id, "contract": r.contract,
                                "event": first.event, "block_number": first.block_number,
                                "block_hash": first.block_hash, "tx_hash": first.tx_hash,
                                "log_index": first.log_index, "timestamp": first.timestamp})
        return {"document_hash": document_hash.lower(), "anchored": bool(anchors), "anchors": anchors}


def list_transfers(engine: Engine, caller: str, currency: str | None, counterparty: str | None,
                   time_from: int | None, time_to: int | None, cursor: str | None, limit: int) -> dict[str, Any]:
    """Token movements the caller (any wallet of its identity) sent or received (the regulator: all), newest
    first."""
    with engine.connect() as conn:
        v = viewer(conn, caller)
        conditions: list[Any] = []
        if not v.regulator:
            conditions.append(or_(v.is_one_of(Transfer.from_address), v.is_one_of(Transfer.to_address)))
        if counterparty:
            conditions.append(or_(Transfer.from_address == counterparty, Transfer.to_address == counterparty))
        if currency:
            conditions.append(Transfer.currency == currency)
        if time_from is not None:
            conditions.append(Transfer.timestamp >= time_from)
        if time_to is not None:
            conditions.append(Transfer.timestamp < time_to)
        if cursor:
            conditions.append(Transfer.event_id < decode_id_cursor(cursor))
        rows = conn.execute(select(Transfer.__table__).where(*conditions).order_by(Transfer.event_id.desc())
                            .limit(limit + 1)).mappings().all()
        more = len(rows) > limit
        items = [json_safe(dict(r)) for r in rows[:limit]]
        return {"items": items, "next_cursor": _encode_cursor([0, items[-1]["event_id"]]) if more and items else None}


def rows_as_dicts(rows: Iterable[Any]) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in rows]


def index_status(engine: Engine) -> dict[str, Any]:
    """How far the index has got: the checkpoint block, its time and the number of events indexed."""
    with engine.connect() as conn:
        checkpoint = conn.execute(select(IndexCheckpoint.block_number, IndexCheckpoint.block_hash)).first()
        events = conn.execute(select(func.count()).select_from(ChainEvent)).scalar() or 0
        return {"block_number": checkpoint[0] if checkpoint else None,
                "block_hash": checkpoint[1] if checkpoint else None,
                "timestamp": indexed_now(conn) or None, "events": events}
