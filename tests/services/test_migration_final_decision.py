"""Migration 0012 on a database holding cases of the old flow: closed cases keep their history as it
was; a case waiting for the old penalty confirmation (待确认罚扣) now waits for the final 核决, with the
level the amount agreed with the customer calls for; a case at 待结案 goes on at the final opinion."""
from __future__ import annotations

from datetime import timedelta

from alembic import command
from sqlalchemy import select

from portal.persistence.migrate import alembic_config, upgrade
from portal.persistence.models import Complaint, Event
from portal.services import handling
from portal.services.actors import load_actor
from portal.services.queries import current_version
from tests.conftest import T0
from tests.services.test_final_decision import _case, _to_final

AT = T0 + timedelta(hours=2)


def test_open_cases_go_on_in_the_new_flow_and_closed_ones_keep_their_history(database_url, uow, people):
    waiting = _case(uow, people)
    _to_final(uow, people, waiting, agreed="8000", amount="8000", approver="vicegm", level="general")
    at_closure = _case(uow, people, customer_phone="13900002222", policy_number="P-MIG-2")
    _to_final(uow, people, at_closure)
    handling.final_approve(uow, actor=people.approver, complaint_id=at_closure, approve=False, comment="重拟", now=AT,
                           expected_version=current_version(uow, at_closure))
    closed = _case(uow, people, customer_phone="13900003333", policy_number="P-MIG-3")
    _to_final(uow, people, closed)
    handling.final_approve(uow, actor=people.approver, complaint_id=closed, approve=True, comment="", now=AT,
                           expected_version=current_version(uow, closed))
    with uow.read() as session:
        history = session.execute(select(Event.id, Event.action, Event.from_state, Event.to_state, Event.at)
                                  .where(Event.complaint_id == closed).order_by(Event.id)).all()
    uow.engine.dispose()

    command.downgrade(alembic_config(database_url), "0011")      # back to the old flow's schema
    upgrade(database_url)                                         # and through 0012 again

    from portal.persistence.database import UnitOfWork, make_engine
    fresh = UnitOfWork(make_engine(database_url))
    with fresh.read() as session:
        case = session.get(Complaint, waiting)
        assert case.state == "awaiting_penalty" and case.final_required_level == "deputy_gm"   # 8,000 agreed
        assert session.get(Complaint, at_closure).state == "awaiting_closure"
        assert session.execute(select(Event.id, Event.action, Event.from_state, Event.to_state, Event.at)
                               .where(Event.complaint_id == closed).order_by(Event.id)).all() == history
    deputy = load_actor(fresh, "vicegm")
    handling.final_approve(fresh, actor=deputy, complaint_id=waiting, approve=True, comment="同意", now=AT,
                           expected_version=current_version(fresh, waiting))
    with fresh.read() as session:
        assert session.get(Complaint, waiting).state == "closed"
    fresh.engine.dispose()
