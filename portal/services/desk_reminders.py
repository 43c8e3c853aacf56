"""催办单 of the service desk: the sweep chases every running desk clock past its due instant, once per request
and clock, to the department that owns the step — 运营部 for the hand-over to the insurer (4.(五)), 市场部 for
the major claim's report to headquarters, a surrender or an endorsement. Read from the stored clock columns,
so a sweep costs what is overdue, not the size of the register."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from portal.domain.aftersales import DeskClock
from portal.persistence.database import UnitOfWork
from portal.persistence.models import RequestEvent, RequestReminder, ServiceRequest

OWNER = {DeskClock.HANDOVER.value: "operations", DeskClock.MAJOR_REPORT.value: "marketing",
         DeskClock.SURRENDER.value: "marketing", DeskClock.ENDORSEMENT.value: "marketing"}
_BATCH = 5000


def issue_desk_reminders(uow: UnitOfWork, *, now: datetime) -> int:
    """A reminder for each running clock past due with none yet, in its own transaction; returns how many
    (0 on a second call). Sweeps of several processes at once issue each reminder once (the unique key, a
    conflict skipped)."""
    r = ServiceRequest
    reminded = exists().where(RequestReminder.request_id == r.id, RequestReminder.clock_key == r.clock_key)
    issued = 0
    with uow.write() as session:
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        table = RequestReminder.__table__
        statement = (dialect.insert(table).on_conflict_do_nothing(index_elements=["request_id", "clock_key"])
                     .returning(table.c.request_id, table.c.clock_key, table.c.department_code, table.c.due_at))
        while True:
            rows = session.execute(select(r.id, r.clock_key, r.clock_due_at, r.state).where(
                r.clock_key.is_not(None), r.clock_stopped_at.is_(None), r.clock_due_at <= now, ~reminded)
                .order_by(r.clock_due_at, r.id).limit(_BATCH)).all()
            if not rows:
                return issued
            states = {request_id: state for request_id, _, _, state in rows}
            connection = session.connection()
            inserted = connection.execute(statement, [
                dict(request_id=request_id, clock_key=key, department_code=OWNER.get(key, "marketing"),
                     issued_at=now, due_at=due) for request_id, key, due, _ in rows]).all()
            if inserted:
                connection.execute(insert(RequestEvent.__table__), [
                    dict(request_id=request_id, actor_id=None, actor_label="system", at=now, action="desk.reminder",
                         from_state=states[request_id], to_state=states[request_id], comment="",
                         changes={"clock": key, "department": department, "due": due.isoformat()})
                    for request_id, key, department, due in inserted])
            issued += len(inserted)
            if len(inserted) < len(rows):           # another sweep took the rest meanwhile
                return issued


def open_reminders(session: Session, department_code: str) -> int:
    """Reminders to a department whose clock still runs (the step not yet done)."""
    return int(session.scalar(select(func.count()).select_from(RequestReminder)
                              .join(ServiceRequest, ServiceRequest.id == RequestReminder.request_id)
                              .where(RequestReminder.department_code == department_code,
                                     RequestReminder.clock_key == ServiceRequest.clock_key,
                                     ServiceRequest.clock_stopped_at.is_(None))) or 0)
