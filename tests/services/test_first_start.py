"""Several portal processes starting at once on a database that does not exist yet."""
from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
from sqlalchemy import func, select, text

from portal.config import ROOT
from portal.persistence.database import UnitOfWork, make_engine
from portal.persistence.models import CalendarDayRow, SlaClock


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'new.sqlite3'}"
        return
    request.getfixturevalue("postgres_template")       # skips (or fails in CI) without PostgreSQL
    from tests.conftest import _admin_engine, _drop_postgres, _pg_url
    name = f"portal_new_{uuid.uuid4().hex[:10]}"
    with _admin_engine().connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield _pg_url(name)
    _drop_postgres(name)


def test_four_processes_create_and_migrate_a_new_database_together(empty_database):
    workers = [subprocess.Popen([sys.executable, "-m", "portal", "db", "upgrade"], cwd=ROOT,
                                env={"PORTAL_DATABASE_URL": empty_database, "PATH": ""},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(4)]
    for worker in workers:
        _, err = worker.communicate(timeout=180)
        assert worker.returncode == 0, err[-2000:]
    with UnitOfWork(make_engine(empty_database)).read() as session:
        assert session.scalar(select(func.count()).select_from(SlaClock)) == 11     # 9 + the two contact clocks
        days = session.scalar(select(func.count()).select_from(CalendarDayRow))
        assert days == session.scalar(select(func.count(func.distinct(CalendarDayRow.day))))
        assert days > 365 * 20


def test_the_migrations_build_exactly_the_schema_the_models_declare(empty_database):
    """Alembic's own comparison of the migrated database with the models: every table, column, index
    and constraint the code relies on is made by a migration (and nothing else is there). On SQLite
    the one reference added to an existing table (0008) is declared by the column alone, because
    SQLite cannot add a constraint in place without rebuilding the table."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from portal.persistence.migrate import upgrade
    from portal.persistence.models import Base
    upgrade(empty_database)
    engine = make_engine(empty_database)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    if empty_database.startswith("sqlite"):
        differences = [d for d in differences if not (
            d[0] == "add_fk" and [c.name for c in d[1].columns] == ["penalty_confirmed_by_id"])]
    assert differences == []
