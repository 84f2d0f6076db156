"""The unit of work of one block range: state rows in memory, appended rows in lists, one flush.

Handlers read and change state rows through `get`/`put` (an identity map: a row read twice is the same
dict), and add append-only rows with `append`. `flush` writes everything with `executemany` and, when
the range is within the reorg window, journals every changed state row's previous value in `index_undo`
so `rollback` can restore it. All of it runs inside the caller's database transaction.
"""

from __future__ import annotations

import copy
import json
from collections import defaultdict
from collections.abc import Iterable
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Connection, Table, and_, bindparam, delete, insert, select, update

from app.db.index_models import APPEND_TABLES, STATE_TABLES, IndexUndo

Key = tuple[Any, ...]


_PK: dict[str, list[str]] = {}


def _pk(table: Table) -> list[str]:
    names = _PK.get(table.name)
    if names is None:
        names = _PK[table.name] = [c.name for c in table.primary_key.columns]
    return names


def _with_json(row: tuple[Any, ...], json_at: list[int]) -> tuple[Any, ...]:
    values = list(row)
    for i in json_at:
        if values[i] is not None:
            values[i] = json.dumps(values[i])
    return tuple(values)


class Store:
    def __init__(self, conn: Connection, journal_block: int | None) -> None:
        self.conn = conn
        self.journal_block = journal_block  # None: not journaled (deeper than the reorg window)
        self._rows: dict[tuple[str, Key], dict[str, Any]] = {}
        self._before: dict[tuple[str, Key], dict[str, Any] | None] = {}
        self._appends: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._written: dict[str, dict[Key, dict[str, Any]]] = defaultdict(dict)  # per table: rows written so far
        self._selects = {name: select(t).where(and_(*(t.c[c] == bindparam(f"k_{c}") for c in _pk(t))))
                         for name, t in STATE_TABLES.items()}

    # State rows --------------------------------------------------------------------------------------

    def get(self, table: str, *key: Any) -> dict[str, Any] | None:
        """The row of `table` with primary key `key` (as changed so far in this range), or None."""
        slot = (table, key)
        if slot in self._rows:
            return self._rows[slot]
        if slot in self._before:
            return None
        t = STATE_TABLES[table]
        found = self.conn.execute(self._selects[table], {f"k_{c}": v for c, v in zip(_pk(t), key)}).mappings().first()
        row = dict(found) if found is not None else None
        self._before[slot] = copy.deepcopy(row)
        if row is not None:
            self._rows[slot] = row
        return row

    def put(self, table: str, row: dict[str, Any], new: bool = False) -> dict[str, Any]:
        """Write `row` (a full row). `new=True` promises the key is not in the database (saves a read)."""
        pk = _PK.get(table) or _pk(STATE_TABLES[table])
        key = tuple(row[c] for c in pk)
        slot = (table, key)
        if slot not in self._before:
            if new:
                self._before[slot] = None
            else:
                self.get(table, *key)
        self._rows[slot] = row
        return row

    # Append-only rows --------------------------------------------------------------------------------

    def append(self, table: str, row: dict[str, Any]) -> dict[str, Any]:
        """Add a row to an append-only table; it may still be changed until `flush`."""
        self._appends[table].append(row)
        return row

    # Writing -----------------------------------------------------------------------------------------

    def _insert_many(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """Bulk insert. On SQLite straight through the driver's `executemany` (SQLAlchemy's per-row
        parameter processing costs more than SQLite itself at backfill rates); elsewhere through Core."""
        if self.conn.dialect.name != "sqlite":
            self.conn.execute(insert(table), rows)
            return
        columns = [c for c in table.columns if c.name in rows[0]]
        names = [c.name for c in columns]
        json_at = [i for i, c in enumerate(columns) if isinstance(c.type, JSON)]
        sql = f'INSERT INTO {table.name} ({", ".join(names)}) VALUES ({", ".join("?" for _ in names)})'
        getter = itemgetter(*names)
        try:
            values = [getter(r) for r in rows] if len(names) > 1 else [(getter(r),) for r in rows]
        except KeyError:  # rows of uneven shape: take each column or None
            values = [tuple(r.get(n) for n in names) for r in rows]
        if json_at:
            values = [_with_json(v, json_at) for v in values]
        self.conn.exec_driver_sql(sql, values)

    def flush(self) -> None:
        for name, rows in self._appends.items():
            if rows:
                self._insert_many(APPEND_TABLES[name], rows)
        inserts: dict[str, list[dict[str, Any]]] = defaultdict(list)
        updates: dict[str, list[dict[str, Any]]] = defaultdict(list)
        undo: list[dict[str, Any]] = []
        for (name, key), row in self._rows.items():
            before = self._before.get((name, key))
            if before == row:
                continue
            (inserts if before is None else updates)[name].append(row)
            self._written[name][key] = row
            if self.journal_block is not None:
                undo.append({"block_number": self.journal_block, "table_name": name, "key": list(key),
                             "before": _jsonable(before)})
        for name, rows in inserts.items():
            self._insert_many(STATE_TABLES[name], rows)
        for name, rows in updates.items():
            self._update_many(STATE_TABLES[name], rows)
        if undo:
            self._insert_many(IndexUndo.__table__, undo)
        # Flushed: later changes in this range compare against (and journal) what is now written.
        # (Handlers replace rows, `put({**row, ...})`, never mutate them in place.)
        self._appends.clear()
        self._before.update(self._rows)

    def written(self, table: str) -> list[dict[str, Any]]:
        """The rows of state table `table` this unit of work has written (inserted or changed), as flushed last."""
        return list(self._written[table].values())

    def _update_many(self, table: Table, rows: list[dict[str, Any]]) -> None:
        pk = _pk(table)
        columns = [c.name for c in table.columns if c.name not in pk]
        statement = (update(table).where(and_(*(table.c[c] == bindparam(f"k_{c}") for c in pk)))
                     .values({c: bindparam(f"v_{c}") for c in columns}))
        self.conn.execute(statement, [{**{f"k_{c}": r[c] for c in pk}, **{f"v_{c}": r[c] for c in columns}}
                                      for r in rows])


def _jsonable(row: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if row is None else {k: v for k, v in row.items()}


def rollback_state(conn: Connection, after_block: int) -> int:
    """Restore every journaled state row changed by ranges starting after `after_block`, newest first;
    delete append-only rows above it. Returns the number of rows restored."""
    from sqlalchemy import desc

    journal = IndexUndo.__table__
    entries = conn.execute(select(journal).where(journal.c.block_number > after_block)
                           .order_by(desc(journal.c.id))).mappings().all()
    for entry in entries:
        table = STATE_TABLES[entry["table_name"]]
        pk = _pk(table)
        where = and_(*(table.c[c] == v for c, v in zip(pk, entry["key"])))
        conn.execute(delete(table).where(where))
        if entry["before"] is not None:
            conn.execute(insert(table), [entry["before"]])
    conn.execute(delete(journal).where(journal.c.block_number > after_block))
    for table in APPEND_TABLES.values():
        conn.execute(delete(table).where(table.c.block_number > after_block))
    return len(entries)


def prune_journal(conn: Connection, below_block: int) -> None:
    """Forget journal entries of ranges that can no longer be reorganised away."""
    journal = IndexUndo.__table__
    conn.execute(delete(journal).where(journal.c.block_number < below_block))


def clear_index(conn: Connection, tables: Iterable[Table]) -> None:
    for table in tables:
        conn.execute(delete(table))
