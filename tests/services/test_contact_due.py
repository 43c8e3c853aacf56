"""待联系客户 stored per case (`complaints.contact_due_at`): it follows every change that moves it (a
registration, a contact, a notice failing at the gateway, a closure by the final 核决), the list and the
count read it, and migration 0016 fills it for cases already there exactly as the portal keeps it."""
from __future__ import annotations

from contextlib import nullcontext
from datetime import datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import func, inspect, select

from portal.adapters.notices import DeliveryError, Transports
from portal.persistence.database import UnitOfWork, make_engine
from portal.persistence.migrate import alembic_config
from portal.persistence.models import CaseClock, Complaint, Notice
from portal.services import contacts, queries
from portal.services.notices_outbox import send_due
from portal.services.setup import open_database
from tests.conftest import T0
from tests.helpers import final_approve
from tests.services.test_contacts import RECEIVED, _record, _registered
from tests.services.test_final_decision import AT, _case, _to_final


def _stored(uow, case_id) -> datetime | None:  # noqa: ANN001
    with uow.read() as session:
        return session.scalar(select(Complaint.contact_due_at).where(Complaint.id == case_id))


def _earliest_soon(uow, case_id) -> datetime:  # noqa: ANN001
    """The earliest due-soon instant among the case's running, unheld clocks of the process."""
    with uow.read() as session:
        return session.scalar(select(CaseClock.soon_at).where(
            CaseClock.complaint_id == case_id, CaseClock.stopped_at.is_(None), CaseClock.held_since.is_(None),
            CaseClock.clock_key.not_in(["customer_acknowledgement", "closure_notice"])).order_by(CaseClock.soon_at)
            .limit(1))


def test_the_stored_instant_follows_the_registration_and_each_contact(uow, people):
    case_id = _registered(uow, people)                     # by phone: nothing sent, the clerk calls
    assert _stored(uow, case_id) == RECEIVED               # the acknowledgement is asked for from receipt
    _record(uow, people.clerk, case_id, step="acknowledgement", at=RECEIVED + timedelta(minutes=30))
    first_soon = _earliest_soon(uow, case_id)
    assert _stored(uow, case_id) == first_soon             # next: when the first clock turns 临期
    assert case_id not in {r.complaint_id for r in contacts.contacts_due(uow, actor=people.clerk, now=T0).rows}
    _record(uow, people.clerk, case_id, step="progress", at=first_soon + timedelta(minutes=1),
            now=first_soon + timedelta(minutes=1))
    later = _stored(uow, case_id)
    assert later is None or later > first_soon             # that clock's progress contact was made
    todo = {i.key: i.count for i in queries.todo_counts(uow, actor=people.clerk, now=first_soon + timedelta(hours=1))}
    assert todo.get("contact_due", 0) == contacts.contacts_due(uow, actor=people.clerk,
                                                               now=first_soon + timedelta(hours=1)).total


class _Refusing:
    """A gateway that refuses every message for good (an unknown number)."""
    name, resend_recognised = "sms", True

    def where(self) -> str:
        return "test"

    def delivered(self, message):  # noqa: ANN001, ANN201
        return None

    def connection(self):  # noqa: ANN201
        def send(message):  # noqa: ANN001, ANN202
            raise DeliveryError("400 unknown number", permanent=True)
        return nullcontext(send)


def test_a_notice_the_gateway_refuses_for_good_asks_for_the_contact_again(uow, people):
    case_id = _registered(uow, people, preferred_contact="sms")          # acknowledged by the queued SMS
    assert _stored(uow, case_id) != RECEIVED
    morning = T0.replace(hour=10)
    summary = send_due(uow, now=morning, transport=Transports(email=_Refusing(), sms=_Refusing()))
    assert summary.failed == 1
    with uow.read() as session:
        assert session.scalar(select(Notice.state).where(Notice.complaint_id == case_id)) == "failed"
    assert _stored(uow, case_id) == RECEIVED                 # the customer was not told: asked for again
    due = {(r.complaint_id, r.step): r for r in contacts.contacts_due(uow, actor=people.clerk, now=morning).rows}
    assert due[(case_id, "acknowledgement")].notice_failed is True


@pytest.mark.parametrize("preferred", ["phone", "sms"])
def test_the_closure_notice_is_asked_for_after_the_final_decision_until_the_customer_is_told(uow, people, preferred):
    case_id = _case(uow, people, preferred_contact=preferred)
    _record(uow, people.clerk, case_id, step="acknowledgement", at=RECEIVED + timedelta(minutes=5))
    _to_final(uow, people, case_id)
    assert _stored(uow, case_id) is None or _stored(uow, case_id) > AT      # nothing asked before closure
    final_approve(uow, people, case_id, AT)
    with uow.read() as session:
        closed_at = session.get(Complaint, case_id).closed_at
        notices = session.scalar(select(func.count()).select_from(Notice).where(
            Notice.complaint_id == case_id, Notice.kind == "closure"))
    due = {(r.complaint_id, r.step) for r in contacts.contacts_due(uow, actor=people.clerk, now=AT).rows}
    if preferred == "sms":          # the closure notice went into the outbox with the approval
        assert notices == 1 and _stored(uow, case_id) is None and (case_id, "closure") not in due
        return
    assert notices == 0 and _stored(uow, case_id) == closed_at          # the clerk calls
    assert (case_id, "closure") in due
    _record(uow, people.clerk, case_id, step="closure", at=AT, now=AT)
    assert _stored(uow, case_id) is None


def test_migration_0016_fills_existing_cases_as_the_portal_keeps_them(database_url, uow, people):
    by_phone = _registered(uow, people)
    acknowledged = _registered(uow, people, customer_phone="13900000011", policy_number="P-MIG16-1")
    _record(uow, people.clerk, acknowledged, step="acknowledgement", at=RECEIVED + timedelta(minutes=5))
    by_sms = _registered(uow, people, customer_phone="13900000012", policy_number="P-MIG16-2",
                         preferred_contact="sms")
    with uow.read() as session:
        kept = dict(session.execute(select(Complaint.id, Complaint.contact_due_at)).all())
    assert kept[by_phone] == RECEIVED and kept[acknowledged] != RECEIVED and by_sms in kept
    uow.engine.dispose()

    command.downgrade(alembic_config(database_url), "0015")
    engine = make_engine(database_url)
    try:
        assert "contact_due_at" not in {c["name"] for c in inspect(engine).get_columns("complaints")}
    finally:
        engine.dispose()
    command.upgrade(alembic_config(database_url), "0016")           # this revision alone: its own fill
    fresh = UnitOfWork(make_engine(database_url))
    try:
        with fresh.read() as session:
            assert dict(session.execute(select(Complaint.id, Complaint.contact_due_at)).all()) == kept
    finally:
        fresh.engine.dispose()
    open_database(database_url).engine.dispose()
