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
        assert session.scalar(select(func.count()).select_from(SlaClock)) == 9
        days = session.scalar(select(func.count()).select_from(CalendarDayRow))
        assert days == session.scalar(select(func.count(func.distinct(CalendarDayRow.day))))
        assert days > 365 * 20
