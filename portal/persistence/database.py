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
from typing import Iterator

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from portal.domain.errors import ConcurrentChange


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


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, future=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, future=True, connect_args={"timeout": 60, "check_same_thread": False})

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


class UnitOfWork:
    """One transaction per use case: `with uow.write() as session:` commits once or not at all."""

    def __init__(self, engine: Engine, *, info: dict | None = None) -> None:
        """`info`: copied into every session's `Session.info` (e.g. a calendar a bulk writer pins)."""
        self.engine = engine
        self._writer = sessionmaker(bind=engine.execution_options(portal_write=True),
                                    expire_on_commit=False, info=info)
        self._reader = sessionmaker(bind=engine, expire_on_commit=False, info=info)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def write(self) -> Iterator[Session]:
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

    @contextmanager
    def read(self) -> Iterator[Session]:
        session = self._reader()
        try:
            yield session
        finally:
            session.close()   # ends the transaction; loaded objects stay readable
