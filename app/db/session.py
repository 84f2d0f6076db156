"""Database engine and sessions (SQLAlchemy 2, any URL).

SQLite is the default: WAL journal (readers never block the writer), `synchronous=FULL` so a committed
outbox row survives a crash or a power cut, and a busy timeout for the rare concurrent writer. The database
file is the gateway's own (0600, created so before SQLite opens it; SQLite gives its `-wal` and `-shm` files
the database file's mode), and a folder created for it is 0700 (`app.core.files`).
PostgreSQL works by URL (`postgresql+psycopg://...`).

Tables are created as the models say (`create_all`); what an earlier version of the gateway created differently
is changed in place at start-up (`_upgrade`), so a database kept by `make run` carries on.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.orm import Session, sessionmaker

from app.core.files import PRIVATE_FILE, private_dir, private_file, tighten
from app.db.models import Base


class StepBudget:
    """A bound on the SQLite work of the statements run while it is set (`STEP_BUDGET`): counted in SQLite virtual
    machine steps, by the thousand; past it, the statement running is interrupted (`sqlite3.OperationalError`,
    "interrupted") and `spent` is true. For reads that run on the event loop (`app.api.index_deps.run_read`)."""

    GRANULARITY = 1_000  # steps between two checks

    def __init__(self, steps: int) -> None:
        self._checks = max(1, steps // self.GRANULARITY)
        self.spent = False

    def check(self) -> int:
        """SQLite's progress handler: nonzero interrupts the statement."""
        self._checks -= 1
        if self._checks < 0:
            self.spent = True
        return self.spent


STEP_BUDGET: ContextVar[StepBudget | None] = ContextVar("tradefin_sqlite_step_budget", default=None)

# A SQLite engine's pool: this many connections kept, up to SQLITE_MAX_OVERFLOW more opened when all are taken; a
# caller past that waits for one (up to 30 s).
SQLITE_POOL_SIZE = 8
SQLITE_MAX_OVERFLOW = 10


def connection_free(engine: Engine) -> bool:
    """A connection of `engine`'s pool can be taken now, without waiting: one is idle, or the pool may open another.
    Asked before a read runs on the event loop (`app.api.index_deps.run_read`), which must never wait for the pool:
    the step budget bounds a statement's work, not the wait for a connection."""
    pool = engine.pool
    return pool.checkedin() > 0 or pool.overflow() < SQLITE_MAX_OVERFLOW


def make_engine(url: str, sqlite_synchronous: str = "FULL") -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1].split("?", 1)[0] if "///" in url else ""
        if path and path != ":memory:" and not path.startswith("file:"):
            database = Path(path)
            private_dir(database.parent, tighten_existing=False)
            private_file(database)
            for suffix in ("-wal", "-shm", "-journal"):  # left by an earlier version with a wider mode
                tighten(database.with_name(database.name + suffix), PRIVATE_FILE)
        if sqlite_synchronous not in ("FULL", "NORMAL"):
            raise ValueError("sqlite_synchronous must be FULL or NORMAL")
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               pool_size=SQLITE_POOL_SIZE, max_overflow=SQLITE_MAX_OVERFLOW)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={sqlite_synchronous}")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "checkout")
        def _step_budget(dbapi_connection, _record, _proxy):  # type: ignore[no-untyped-def]
            budget = STEP_BUDGET.get()  # the budget of whoever takes the connection (usually none)
            dbapi_connection.set_progress_handler(budget.check if budget else None, StepBudget.GRANULARITY)

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=16)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions on `engine`, once its tables exist as the models say. The gateway and a separate indexer
    start together on one database: creating and upgrading the tables happens under a lock held by one
    process at a time (`_exclusive`), so the second finds the work done instead of failing half-way."""
    if _needs_schema_work(engine):
        with _exclusive(engine) as conn:
            Base.metadata.create_all(conn)
            _upgrade(conn)
    return sessionmaker(engine, expire_on_commit=False)


def _needs_schema_work(engine: Engine) -> bool:
    """A missing table or an earlier version's column: the lock is taken only when there is work to do."""
    inspector = inspect(engine)
    tables = set(inspector.get_table_names())
    return not set(Base.metadata.tables) <= tables or "content_type" in {
        c["name"] for c in inspector.get_columns("documents")}


def _upgrade(conn: Connection) -> None:
    """Content types per reader (`DocumentUpload.content_type`): an earlier version kept one per document, its
    first uploader's. That uploader's row keeps it; every other reader's says `application/octet-stream`, since
    what a later uploader declared was not kept, and a grantee must not learn the first uploader's declaration
    (which may not be its namer's).

    The upgrade is done when `documents.content_type` is gone, and each step may run again: a start killed
    half-way (SQLite's driver commits an `ALTER` on its own unless the transaction is begun explicitly, as
    `_exclusive` does) is finished by the next."""
    if not _has_column(conn, "documents", "content_type"):
        return
    if not _has_column(conn, "document_uploads", "content_type"):
        conn.exec_driver_sql("ALTER TABLE document_uploads ADD COLUMN content_type VARCHAR(120) NOT NULL "
                             "DEFAULT 'application/octet-stream'")
    conn.exec_driver_sql(
        "UPDATE document_uploads SET content_type = (SELECT d.content_type FROM documents d "
        "WHERE d.sha256 = document_uploads.sha256) WHERE created_at = (SELECT MIN(u.created_at) "
        "FROM document_uploads u WHERE u.sha256 = document_uploads.sha256)")
    conn.exec_driver_sql("ALTER TABLE documents DROP COLUMN content_type")


def _has_column(conn: Connection, table: str, column: str) -> bool:
    return column in {c["name"] for c in inspect(conn).get_columns(table)}


# PostgreSQL's advisory lock for schema creation and upgrades: any fixed 64-bit key, the same in every process.
_UPGRADE_LOCK = 0x7472616465660001


@contextmanager
def _exclusive(engine: Engine) -> Iterator[Connection]:
    """One transaction that no other process's schema work runs beside, with every statement in it (DDL
    included): SQLite's write lock (`BEGIN IMMEDIATE`, waiting out the busy timeout while another process holds
    it), PostgreSQL's transaction-scoped advisory lock."""
    if engine.dialect.name == "sqlite":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # waits (busy timeout) while another process holds it
            try:
                yield conn
            except BaseException:
                conn.exec_driver_sql("ROLLBACK")
                raise
            conn.exec_driver_sql("COMMIT")
        return
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _UPGRADE_LOCK})
        yield conn
