"""Reminders (催办单) for overdue open cases and late-inquiries (洽办单) for cases closed late
(002 art.15), issued idempotently: one per case, clock, department and kind, whoever issues it and
however often (page loads, `python -m portal sla sweep`)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from portal.domain.calendar import WorkingCalendar
from portal.domain.clocks import Badge
from portal.domain.errors import Message, NotFound, PermissionDenied, ValidationFailed
from portal.domain.lifecycle import OPEN_STATES, State
from portal.domain.roles import Role
from portal.persistence.database import UnitOfWork
from portal.persistence.models import Complaint, ComplaintDepartment, Department, Reminder
from portal.services import rules
from portal.services.actors import Actor, fresh_actor
from portal.services.audit import record_event
from portal.services.queries import _ledger_select, ledger_rows, with_badges


def issue_reminders(uow: UnitOfWork, *, now: datetime, calendar: WorkingCalendar) -> int:
    """Issue what is due and not yet issued; returns how many new ones (0 on a second call)."""
    considered = [s.value for s in OPEN_STATES] + [State.CLOSED.value]
    with uow.write() as session:
        frame = ledger_rows(session, _ledger_select().where(Complaint.state.in_(considered),
                                                             Complaint.accepted_at.is_not(None)))
        if frame.empty:
            return 0
        clocks = rules.clock_infos(session)
        frame = with_badges(frame, clocks, calendar, now, rules.due_soon_fraction(rules.settings(session)))
        owing = {(c, d) for c, d in session.execute(
            select(ComplaintDepartment.complaint_id, Department.code).join(Department)
            .where(ComplaintDepartment.report_submitted_at.is_(None)))}
        codes = dict(session.execute(select(Department.code, Department.id)).all())
        wanted = []
        is_open = frame["state"].isin([s.value for s in OPEN_STATES]).to_numpy()
        for info in clocks:
            badge = frame[f"{info.rule.key}_badge"].to_numpy()
            for row in frame.index[(badge == Badge.OVERDUE) & is_open]:
                case_id = int(frame.at[row, "id"])
                for code in frame.at[row, "departments"]:
                    if (case_id, code) in owing:
                        wanted.append((case_id, codes[code], info.rule.key, "reminder"))
            for row in frame.index[(badge == Badge.MET_LATE) & ~is_open]:
                case_id = int(frame.at[row, "id"])
                for code in frame.at[row, "departments"]:
                    wanted.append((case_id, codes[code], info.rule.key, "late_inquiry"))
        if not wanted:
            return 0
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        inserted = session.execute(
            dialect.insert(Reminder).values([dict(complaint_id=c, department_id=d, clock_key=k, kind=kind,
                                                  issued_at=now, answer="") for c, d, k, kind in wanted])
            .on_conflict_do_nothing(index_elements=["complaint_id", "department_id", "clock_key", "kind"])
            .returning(Reminder.complaint_id, Reminder.department_id, Reminder.clock_key, Reminder.kind)).all()
        names = {v: k for k, v in codes.items()}
        for complaint_id, department_id, clock_key, kind in inserted:
            record_event(session, actor=None, at=now, action=f"{kind}.issue", complaint_id=complaint_id,
                         comment=f"{names[department_id]}:{clock_key}",
                         changes={"department": names[department_id], "clock": clock_key})
        return len(inserted)


@dataclass(frozen=True)
class ReminderView:
    id: int
    complaint_id: int
    number: str | None
    department: str
    clock_key: str
    kind: str
    issued_at: datetime
    answer: str
    answered_at: datetime | None


def list_reminders(uow: UnitOfWork, *, actor: Actor, department: str | None = None,
                   open_only: bool = False) -> list[ReminderView]:
    """A department's own reminders (handlers), or every department's (GM office)."""
    if actor.has(Role.GM_OFFICE):
        pass
    elif actor.has(Role.HANDLER):
        department = actor.department_code
    else:
        raise PermissionDenied("auth.missing_role")
    query = (select(Reminder, Complaint.number, Department.code)
             .join(Complaint, Complaint.id == Reminder.complaint_id)
             .join(Department, Department.id == Reminder.department_id)
             .order_by(Reminder.issued_at.desc(), Reminder.id.desc()))
    if department:
        query = query.where(Department.code == department)
    if open_only:
        query = query.where(Reminder.answered_at.is_(None))
    with uow.read() as session:
        return [ReminderView(r.id, r.complaint_id, number, code, r.clock_key, r.kind, r.issued_at,
                             r.answer, r.answered_at) for r, number, code in session.execute(query)]


def answer_reminder(uow: UnitOfWork, *, actor: Actor, reminder_id: int, answer: str, now: datetime) -> None:
    """The department answers a reminder (what it is doing) or a late-inquiry (why it was late)."""
    answer = answer.strip()
    if not answer or len(answer) > 2000:
        raise ValidationFailed({"answer": Message("form.required" if not answer else "form.too_long",
                                                  {"max": 2000})})
    with uow.write() as session:
        user = fresh_actor(session, actor, Role.HANDLER)
        reminder = session.get(Reminder, reminder_id, with_for_update=True)
        if reminder is None:
            raise NotFound("case.not_found")
        if reminder.department_id != user.department_id:
            raise PermissionDenied("case.not_yours")
        reminder.answer, reminder.answered_at, reminder.answered_by_id = answer, now, user.id
        record_event(session, actor=user, at=now, action=f"{reminder.kind}.answer",
                     complaint_id=reminder.complaint_id, comment=answer,
                     changes={"clock": reminder.clock_key})
