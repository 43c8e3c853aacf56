"""Migration 0013 on a database that already holds cases: each case's place in the queues is filled
from its stored clocks exactly as the portal keeps it afterwards, the new flags and settings are there,
and the downgrade removes what the revision added."""
from __future__ import annotations

from datetime import datetime, timedelta

from alembic import command
from sqlalchemy import inspect, select, text

from portal.persistence.database import UnitOfWork, make_engine
from portal.domain.priority import next_due, queue_rank
from portal.persistence.migrate import alembic_config
from portal.persistence.models import Complaint, Setting
from portal.services import complaints
from portal.services.setup import open_database
from tests.conftest import T0
from tests.helpers import a_form


def _moment(value):  # noqa: ANN001, ANN202
    """A stored time as read by a bare connection (text on SQLite)."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _places(uow) -> dict[int, tuple]:  # noqa: ANN001
    with uow.read() as session:
        return {i: (due, rank) for i, due, rank in session.execute(
            select(Complaint.id, Complaint.next_due_at, Complaint.queue_rank))}


def test_existing_cases_get_their_queue_place_from_their_stored_clocks(database_url, uow, people):
    for n, (hours, urgency, flag) in enumerate(((50, "normal", False), (2, "urgent", False), (1, "normal", True))):
        case_id = complaints.register_complaint(uow, actor=people.clerk, attachments=[], now=T0, form=a_form(
            received_at=T0 - timedelta(hours=hours), urgency=urgency, flag_regulator=flag,
            customer_phone=f"1390000{n:04d}", policy_number=f"P-MIG13-{n}")).id
        if n == 1:
            complaints.accept_complaint(uow, actor=people.gmo, complaint_id=case_id, category="claim",
                                        severity="general", departments=["operations"], now=T0)
    kept = _places(uow)
    assert len({rank for _, rank in kept.values()}) == 3
    uow.engine.dispose()

    command.downgrade(alembic_config(database_url), "0012")
    engine = make_engine(database_url)
    try:
        columns = {c["name"] for c in inspect(engine).get_columns("complaints")}
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"next_due_at", "queue_rank", "flag_deaths", "flag_association"}.isdisjoint(columns)
    assert {"case_assignments", "working_group_members"}.isdisjoint(tables)

    command.upgrade(alembic_config(database_url), "0013")        # this revision alone: its SQL fill
    at_0013 = UnitOfWork(make_engine(database_url))
    try:
        with at_0013.engine.connect() as connection:
            clocks: dict[int, list] = {}
            for case_id, due, stopped, held in connection.execute(text(
                    "SELECT complaint_id, due_at, stopped_at, held_since FROM case_clocks")):
                clocks.setdefault(case_id, []).append(tuple(_moment(v) for v in (due, stopped, held)))
            rows = connection.execute(text("SELECT id, state, severity, urgency, next_due_at, queue_rank "
                                           "FROM complaints")).all()
        for case_id, state, severity, urgency, due, rank in rows:      # what the domain rule makes of them
            expected = next_due(clocks.get(case_id, []))
            assert _moment(due) == expected, case_id
            assert rank == queue_rank(open_=state not in ("closed", "archived"), severity=severity, urgency=urgency,
                                      has_due=expected is not None), case_id
    finally:
        at_0013.engine.dispose()

    open_database(database_url).engine.dispose()     # the rest of the chain, and the start's refill of clocks
    fresh = UnitOfWork(make_engine(database_url))
    try:
        assert _places(fresh) == kept
        with fresh.read() as session:
            values = dict(session.execute(select(Setting.key, Setting.value).where(Setting.key.in_(
                ["major.flag_deaths", "major.flag_association", "assignment.flag_hours"]))).all())
            assert values == {"major.flag_deaths": "1", "major.flag_association": "1", "assignment.flag_hours": "24"}
            assert not any(session.scalars(select(Complaint.flag_deaths)))
    finally:
        fresh.engine.dispose()
