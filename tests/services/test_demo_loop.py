"""The demo closes the loop too (issue 18): a 客户投诉立会 on recent closed cases with the item it decided, an
item past its deadline (chased by one 催办单) and one done waiting for its effect to be confirmed."""
from __future__ import annotations

import shutil
from datetime import datetime

from sqlalchemy import select

from portal import demo
from portal.domain.closing import reminder_key
from portal.persistence.database import UnitOfWork, make_engine
from portal.persistence.models import (Complaint, ComplaintMeeting, MeetingCase, Rectification, Reminder, User)

NOW = datetime(2025, 11, 24, 9, 0)          # a Monday


def test_the_demo_holds_a_meeting_and_items_in_each_state(sqlite_template, tmp_path):
    path = tmp_path / "demo.sqlite3"
    shutil.copy(sqlite_template, path)
    unit = UnitOfWork(make_engine(f"sqlite:///{path}"))
    try:
        counts = demo.seed(unit, complaints_count=30, seed_value=5, now=NOW, desk_requests=0, desk_policies=0)
        assert (counts["meetings"], counts["rectifications"]) == (1, 3)
        with unit.read() as session:
            meeting = session.scalar(select(ComplaintMeeting))
            discussed = session.scalars(select(MeetingCase.complaint_id).where(
                MeetingCase.meeting_id == meeting.id)).all()
            assert meeting.held_on < NOW.date() and discussed
            assert all(session.get(Complaint, c).closed_at is not None for c in discussed)
            items = session.scalars(select(Rectification).order_by(Rectification.id)).all()
            owners = {i.id: session.get(User, i.owner_id).username for i in items}
            decided, overdue, done = items
            assert decided.meeting_id == meeting.id and decided.complaint_id in discussed
            assert owners[decided.id] == "opslead" and decided.status == "open" and decided.deadline > NOW.date()
            assert overdue.status == "open" and overdue.deadline < NOW.date() and owners[overdue.id] == "handler"
            assert done.status == "done" and done.evidence and done.effect_due_on > NOW.date()
            assert all(i.cause_code for i in items)
            chased = session.scalars(select(Reminder.clock_key).where(Reminder.kind == "reminder",
                                                                      Reminder.clock_key.like("rect%"))).all()
            assert chased == [reminder_key(overdue.id, overdue.round)]
    finally:
        unit.engine.dispose()
