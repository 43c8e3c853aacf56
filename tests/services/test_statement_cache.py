"""Engines made by `make_engine` share one cache of compiled statements per dialect and server version: a new
engine (the sandbox after a rebuild, a command, a test's fresh database) does not compile again what the process
has compiled."""
from __future__ import annotations

from sqlalchemy import select

from portal.persistence.database import STATEMENTS, make_engine
from portal.persistence.models import Complaint


def _hit(engine, statement) -> bool:  # noqa: ANN001
    with engine.connect() as connection:
        result = connection.execute(statement)
        hit = result.context.cache_hit == engine.dialect.CACHE_HIT
        result.close()
    return hit


def test_a_second_engine_finds_what_the_first_compiled(sqlite_template, tmp_path):
    import shutil
    statement = select(Complaint.id).where(Complaint.number == "never-compiled-before-7f3a").limit(3)
    engines = []
    for name in ("a.sqlite3", "b.sqlite3"):
        shutil.copy(sqlite_template, tmp_path / name)
        engines.append(make_engine(f"sqlite:///{tmp_path / name}"))
    try:
        assert not _hit(engines[0], statement)        # compiled once, by the first engine
        assert _hit(engines[1], statement)            # the second engine's first run finds it
        assert _hit(engines[0], statement)
    finally:
        for engine in engines:
            engine.dispose()


def test_dialects_do_not_share_what_they_compiled(sqlite_url, database_url):
    """SQLite and PostgreSQL compile the same statement to different SQL: each keeps its own entry."""
    statement = select(Complaint.id).where(Complaint.customer_name == "dialect-check-91c2").limit(2)
    lite, other = make_engine(sqlite_url), make_engine(database_url)
    try:
        _hit(lite, statement)
        assert _hit(other, statement) == (other.dialect.name == "sqlite")
        assert len({key[0] for key in STATEMENTS._data}) >= 1 + (other.dialect.name != "sqlite")
    finally:
        lite.dispose()
        other.dispose()
