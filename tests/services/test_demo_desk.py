"""The demo's service desk (issue 17): a policy register and requests in every state of every kind, made
through the desk's use cases, the same for a seed."""
from __future__ import annotations

import shutil
from datetime import datetime

import pytest
from sqlalchemy import func, select

from portal import demo
from portal.demo_desk import CORE_REQUESTS
from portal.domain.aftersales import STATES_OF_KIND
from portal.persistence.database import UnitOfWork, make_engine
from portal.persistence.models import Complaint, Notice, Policy, PolicyPerson, ServiceRequest

NOW = datetime(2025, 11, 3, 9, 0)          # a Monday


def every_state() -> set[tuple[str, str]]:
    return {(kind.value, state.value) for kind, states in STATES_OF_KIND.items() for state in states}


@pytest.fixture(scope="module")
def seeded(sqlite_template, tmp_path_factory):
    """Two databases seeded alike (a few complaints, the demo's desk)."""
    units = []
    for name in ("a", "b"):
        path = tmp_path_factory.mktemp("demo") / f"{name}.sqlite3"
        shutil.copy(sqlite_template, path)
        unit = UnitOfWork(make_engine(f"sqlite:///{path}"))
        demo.seed(unit, complaints_count=3, seed_value=4, now=NOW)
        units.append(unit)
    yield units
    for unit in units:
        unit.engine.dispose()


def requests_of(unit: UnitOfWork) -> list:
    with unit.read() as session:
        return session.execute(select(ServiceRequest.number, ServiceRequest.kind, ServiceRequest.state,
                                      ServiceRequest.policy_number, ServiceRequest.received_at,
                                      ServiceRequest.clock_due_at, ServiceRequest.check_failures)
                               .order_by(ServiceRequest.id)).all()


def test_the_demo_holds_policies_and_requests_in_every_state_of_every_kind(seeded):
    unit = seeded[0]
    with unit.read() as session:
        assert session.scalar(select(func.count()).select_from(Policy)) == demo.DESK_POLICIES
        seen = set(session.execute(select(ServiceRequest.kind, ServiceRequest.state)).all())
        assert session.scalar(select(func.count()).select_from(ServiceRequest)) == demo.DESK_REQUESTS
        # two people of one name on different policies, with different ID numbers
        shared = session.execute(select(PolicyPerson.name, func.count(func.distinct(PolicyPerson.id_number)))
                                 .where(PolicyPerson.role == "insured").group_by(PolicyPerson.name)
                                 .having(func.count(func.distinct(PolicyPerson.id_number)) > 1)).all()
        assert shared
        assert session.scalar(select(func.count()).select_from(Policy).where(Policy.end_date < NOW.date()))
    assert seen == every_state()


def test_the_demo_has_the_cases_the_desk_is_shown_with(seeded):
    unit = seeded[0]
    r = ServiceRequest
    running = r.clock_stopped_at.is_(None)
    with unit.read() as session:
        def count(*conditions) -> int:  # noqa: ANN002
            return session.scalar(select(func.count()).select_from(r).where(*conditions)) or 0
        refused = session.scalars(select(r.check_failures).where(r.state == "refused")).all()
        assert any(len(reasons) >= 2 for reasons in refused) and ["time_limit"] in refused
        assert count(r.state == "reported", r.check_override != "")                       # overridden, with a reason
        assert count(r.scene_told_at.is_not(None), r.survey_requested_at.is_not(None))
        assert count(r.clock_key == "major_report", r.major_reported_at.is_not(None))       # reported in time
        assert count(r.clock_key == "major_report", running, r.clock_due_at <= NOW)       # and one overdue
        assert count(r.clock_key == "handover", running, r.clock_due_at <= NOW)           # a hand-over overdue
        assert count(r.clock_key == "handover", running, r.clock_soon_at <= NOW, r.clock_due_at > NOW)  # due soon
        assert count(r.clock_key.in_(["surrender", "endorsement"]), r.clock_stopped_at.is_not(None))
        incomplete = session.scalars(select(r.id).where(r.state == "incomplete")).all()
        assert session.scalar(select(func.count()).select_from(Notice).where(Notice.request_id.in_(incomplete)))
        numbers = set(session.scalars(select(r.number).where(r.kind == "claim_report")))
        named = set(session.scalars(select(Complaint.claim_report_number)))
        assert len(numbers & named) == 2
        # numbered in the order they came in
        for kind in STATES_OF_KIND:
            rows = session.scalars(select(r.number).where(r.kind == kind.value).order_by(r.received_at, r.id)).all()
            assert rows == sorted(rows, key=lambda n: (n[2:6], int(n[7:])))


def test_the_demo_desk_is_the_same_for_a_seed(seeded):
    assert requests_of(seeded[0]) == requests_of(seeded[1])
    with seeded[0].read() as a, seeded[1].read() as b:
        people = select(PolicyPerson.policy_id, PolicyPerson.role, PolicyPerson.name, PolicyPerson.id_number) \
            .order_by(PolicyPerson.id)
        assert a.execute(people).all() == b.execute(people).all()


def test_a_demo_without_desk_requests_has_none(sqlite_url):
    unit = UnitOfWork(make_engine(sqlite_url))
    demo.seed(unit, complaints_count=1, seed_value=4, now=NOW, desk_requests=0)
    with unit.read() as session:
        assert not session.scalar(select(func.count()).select_from(ServiceRequest))
    unit.engine.dispose()
    assert CORE_REQUESTS <= demo.DESK_REQUESTS
