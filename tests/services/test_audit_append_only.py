"""The audit trail cannot be edited: the database refuses UPDATE, DELETE (and on PostgreSQL
TRUNCATE), even under session_replication_role = replica, and the application role has no such
rights at all."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from portal.persistence.database import UnitOfWork, make_engine
from portal.persistence.models import Event
from portal.services import complaints, sessions
from portal.services.actors import load_actor
from portal.services.grants import grant_app_role
from tests.conftest import PASSWORD, T0
from tests.helpers import a_form


def _an_event(uow: UnitOfWork) -> None:
    complaints.register_complaint(uow, actor=load_actor(uow, "clerk"), form=a_form(), attachments=[], now=T0)


@pytest.mark.parametrize("statement", ["UPDATE events SET comment = 'changed'", "DELETE FROM events"])
def test_the_database_refuses_to_change_events(uow, statement):
    _an_event(uow)
    with pytest.raises(DBAPIError):
        with uow.engine.begin() as connection:
            connection.execute(text(statement))
    with uow.read() as session:
        assert session.scalar(select(func.count()).select_from(Event).where(Event.comment == "changed")) == 0
        assert session.scalar(select(func.count()).select_from(Event)) >= 1


@pytest.mark.postgres
@pytest.mark.parametrize("statement", ["UPDATE events SET comment = 'changed'", "DELETE FROM events",
                                       "TRUNCATE events CASCADE"])
def test_replica_mode_does_not_silence_the_refusal(postgres_uow, statement):
    _an_event(postgres_uow)
    with pytest.raises(DBAPIError, match="immutable|append-only"):
        with postgres_uow.engine.begin() as connection:
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            connection.execute(text(statement))


@pytest.mark.postgres
def test_the_application_role_can_run_the_portal_but_not_touch_the_trail(postgres_uow):
    role = f"portal_app_{uuid.uuid4().hex[:8]}"
    with postgres_uow.engine.begin() as connection:
        connection.execute(text(f'CREATE ROLE "{role}" NOLOGIN'))
    try:
        statements = grant_app_role(postgres_uow, role=role)
        assert 'GRANT SELECT, INSERT ON "events" TO "{}"'.format(role) in statements
        url = postgres_uow.engine.url.update_query_dict({"options": f"-c role={role}"})
        as_app = UnitOfWork(make_engine(url.render_as_string(hide_password=False)))
        try:
            with as_app.engine.connect() as connection:   # the address's options kept beside the portal's own
                assert connection.execute(text("SELECT current_user")).scalar() == role
                assert connection.execute(text("SHOW jit")).scalar() == "off"
            _an_event(as_app)                                         # the portal works under the role
            assert sessions.sign_in(as_app, username="clerk", password=PASSWORD, address="", now=T0)
            for statement in ("UPDATE events SET comment = 'x'", "DELETE FROM events", "TRUNCATE events CASCADE",
                              "ALTER TABLE events DISABLE TRIGGER ALL", "DROP TRIGGER events_immutable ON events"):
                with pytest.raises(DBAPIError):
                    with as_app.engine.begin() as connection:
                        connection.execute(text(statement))
            with pytest.raises(DBAPIError):                          # only a superuser may set it
                with as_app.engine.begin() as connection:
                    connection.execute(text("SET session_replication_role = replica"))
        finally:
            as_app.engine.dispose()
    finally:
        with postgres_uow.engine.begin() as connection:
            connection.execute(text(f'DROP OWNED BY "{role}"'))
            connection.execute(text(f'DROP ROLE "{role}"'))


def test_granting_needs_postgresql_and_a_known_role(uow):
    from portal.domain.errors import DomainError
    with pytest.raises(DomainError):
        grant_app_role(uow, role="no_such_role_here")
    with pytest.raises(DomainError):
        grant_app_role(uow, role='x"; DROP TABLE events; --')


@pytest.fixture
def postgres_uow(request):
    from tests.conftest import _drop_postgres, _fresh_postgres, _pg_url
    name = _fresh_postgres(request.getfixturevalue("postgres_template"))
    unit = UnitOfWork(make_engine(_pg_url(name)))
    try:
        yield unit
    finally:
        unit.engine.dispose()
        _drop_postgres(name)



_COLUMNS = "id, complaint_id, actor_id, actor_label, at, action, from_state, to_state, comment, changes"
_CHANGED = _COLUMNS.replace("comment", "'changed'")


@pytest.mark.parametrize("statement", [f"REPLACE INTO events ({_COLUMNS}) SELECT {_CHANGED} FROM events",
                                       f"INSERT OR REPLACE INTO events ({_COLUMNS}) SELECT {_CHANGED} FROM events"])
def test_sqlite_replace_cannot_rewrite_an_event(sqlite_url, statement):
    """SQLite's REPLACE deletes the conflicting row without firing the delete trigger: refused all the same."""
    uow = UnitOfWork(make_engine(sqlite_url))
    try:
        _an_event(uow)
        with uow.read() as session:
            before = session.execute(select(Event.id, Event.comment, Event.action).order_by(Event.id)).all()
        with pytest.raises(DBAPIError, match="append-only|immutable"):
            with uow.engine.begin() as connection:
                connection.execute(text(statement))
        with uow.read() as session:
            assert session.execute(select(Event.id, Event.comment, Event.action).order_by(Event.id)).all() == before
    finally:
        uow.engine.dispose()


def test_an_upsert_cannot_rewrite_an_event(uow):
    """INSERT … ON CONFLICT DO UPDATE (both databases) goes through the update refusal."""
    _an_event(uow)
    with pytest.raises(DBAPIError, match="immutable|append-only"):
        with uow.engine.begin() as connection:
            connection.execute(text(f"INSERT INTO events ({_COLUMNS}) SELECT {_COLUMNS} FROM events WHERE true "
                                    "ON CONFLICT (id) DO UPDATE SET comment = 'changed'"))
    with uow.read() as session:
        assert session.scalar(select(func.count()).select_from(Event).where(Event.comment == "changed")) == 0
