"""Engines and the unit of work.

SQLite: WAL, foreign keys, a busy timeout, and `BEGIN IMMEDIATE` for writing transactions so two
processes never both read a counter and then race to write it. PostgreSQL: row locks
(`SELECT … FOR UPDATE`, `UPDATE … RETURNING`) inside ordinary READ COMMITTED transactions.
"""
from __future__ import annotations

from contextlib import contextmanager
import sqlite3
import time
from pathlib import Path
from typing import Callable, Iterator, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.util import LRUCache
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from portal.domain.errors import ConcurrentChange

T = TypeVar("T")


def _wal(cursor, seconds: float = 60.0) -> None:  # noqa: ANN001
    """Put the file in WAL mode. Switching needs the file to itself and SQLite answers "locked" at
    once, without waiting, while another process is creating the same new database: try again."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class SharedStatementCache(LRUCache):
    """SQLAlchemy's cache of compiled statements, shared by every engine of this process that speaks the same
    dialect to the same server version. SQLAlchemy keeps one per engine, keyed by the dialect object itself, so
    each new engine compiled every statement anew: the trainer's sandbox after each rebuild, a command's engine,
    and each test's fresh database (the statistics rollups' 66-part union alone takes 150 ms to compile). The
    engines here are all made by `make_engine` with the same options, so two dialects of one class, driver,
    parameter style and server version compile every statement to the same SQL."""

    @staticmethod
    def _shared(key):  # noqa: ANN001, ANN205
        if isinstance(key, tuple) and key and isinstance(key[0], Dialect):
            dialect = key[0]
            return (type(dialect), dialect.driver, dialect.paramstyle, dialect.server_version_info,
                    dialect.label_length, dialect.max_identifier_length, *key[1:])
        return key

    def get(self, key, default=None):  # noqa: ANN001, ANN201
        return super().get(self._shared(key), default)

    def __getitem__(self, key):  # noqa: ANN001, ANN204
        return super().__getitem__(self._shared(key))

    def __setitem__(self, key, value) -> None:  # noqa: ANN001
        super().__setitem__(self._shared(key), value)

    def __contains__(self, key) -> bool:  # noqa: ANN001
        return super().__contains__(self._shared(key))


STATEMENTS = SharedStatementCache(2000)


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    shared = {"execution_options": {"compiled_cache": STATEMENTS}}
    if parsed.get_backend_name() != "sqlite":
        # No JIT compilation: the portal's statements are short, and where the planner overestimates one (a NOT IN
        # over a person's own acts, estimated at a quarter million rows and finding none) PostgreSQL spent half a
        # second compiling a statement that then ran in ten milliseconds (the approval page at a million cases).
        # (Added to any `options` the address gives, e.g. `-c role=…`, which connect_args would otherwise replace.)
        given = parsed.query.get("options") or ""
        options = " ".join(filter(None, [*([given] if isinstance(given, str) else given), "-c jit=off"]))
        return create_engine(url, pool_pre_ping=True, future=True, connect_args={"options": options}, **shared)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, future=True, connect_args={"timeout": 60, "check_same_thread": False}, **shared)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # noqa: ANN001
        dbapi_connection.isolation_level = None   # let SQLAlchemy's BEGIN below take over
        cursor = dbapi_connection.cursor()
        _wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # noqa: ANN001
        immediate = connection.get_execution_options().get("portal_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


@contextmanager
def bulk_sorts(connection) -> Iterator[None]:  # noqa: ANN001
    """Room for the big sorts of a bulk job inside one transaction (an index built after a load, the statistics rollup
    grouped from the whole history): on PostgreSQL 512 MB of maintenance memory for this transaction; on SQLite a
    page cache of up to 1 GB instead of the 2 MB default (each scan's lookups otherwise go back to the file) and sorts
    on two threads, as they were after. (Not `temp_store`: changing it drops the connection's temporary tables.)"""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL maintenance_work_mem = '512MB'")
        yield
        return
    pragmas = {"cache_size": -1_000_000, "threads": 2}
    saved = {name: connection.exec_driver_sql(f"PRAGMA {name}").scalar() for name in pragmas}
    for name, value in pragmas.items():
        connection.exec_driver_sql(f"PRAGMA {name} = {value}")
    try:
        yield
    finally:
        for name, value in saved.items():
            connection.exec_driver_sql(f"PRAGMA {name} = {int(value)}")


READ_MEMO = "portal_read_memo"


def remembered(session: Session, key: str, load: Callable[[], T]) -> T:
    """`load()`, or what it gave the last time in this page run: a reading session of a unit of work
    made `for_one_run` shares a memo for the rules a run reads several times (settings, clock rules,
    the masking table); any other session reads anew each time."""
    memo = session.info.get(READ_MEMO)
    if memo is None:
        return load()
    if key not in memo:
        memo[key] = load()
    return memo[key]


class UnitOfWork:
    """One transaction per use case: `with uow.write() as session:` commits once or not at all."""

    def __init__(self, engine: Engine, *, info: dict | None = None, memo: dict | None = None) -> None:
        """`info`: copied into every session's `Session.info` (e.g. a calendar a bulk writer pins);
        `memo`: shared by the reading sessions alone (`remembered`), emptied by every write."""
        self.engine = engine
        self._info = info
        self._memo = memo
        self._writer = sessionmaker(bind=engine.execution_options(portal_write=True),
                                    expire_on_commit=False, info=info)
        self._reader = sessionmaker(bind=engine, expire_on_commit=False,
                                    info=info if memo is None else {**(info or {}), READ_MEMO: memo})

    def for_one_run(self) -> "UnitOfWork":
        """The same database for one page run: rules read by several of its queries are read once
        (`remembered`), and read anew after any write of the run. Never kept beyond the run (the
        portal's processes share one database)."""
        return UnitOfWork(self.engine, info=self._info, memo={})

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def write(self) -> Iterator[Session]:
        if self._memo is not None:
            self._memo.clear()
        session = self._writer()
        try:
            yield session
            session.commit()
        except StaleDataError as stale:
            session.rollback()
            raise ConcurrentChange("case.changed_meanwhile") from stale
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
            if self._memo is not None:      # what the write changed is read anew
                self._memo.clear()

    @contextmanager
    def read(self) -> Iterator[Session]:
        session = self._reader()
        try:
            yield session
        finally:
            session.close()   # ends the transaction; loaded objects stay readable
