"""Reminders (催办单) for overdue open cases and late-inquiries (洽办单) for cases closed late
(002 art.15), issued idempotently: one per case, clock, department and kind, whoever issues it and
however often (page loads, `python -m portal sla sweep`)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from portal.domain.clocks import CHASED_DEPARTMENT_STEPS
from portal.domain.validation import choice_message, moment_field, text_field
from portal.domain.errors import Message, NotFound, PermissionDenied, ValidationFailed
from portal.domain.lifecycle import OPEN_STATES, State
from portal.domain.roles import Role
from portal.persistence.database import UnitOfWork
from portal.persistence.models import (CaseClock, Complaint, ComplaintDepartment, Department, Event, Reminder,
                                       SlaClockVersion, User)
from portal.services import rules, stats_rollup
from portal.services.actors import Actor, fresh_actor
from portal.services.audit import record_event
from portal.services.queries import case_clock_version, running_clock_condition


def _owned_by_department(*, late: bool):  # noqa: ANN202
    """A clock the routed department itself answers for (its own step, `CHASED_DEPARTMENT_STEPS`), and that
    department's part not done (a reminder) or done after the due time (a late-inquiry). Steps of
    the GM office (确认受理, 综合意见, 结案, 重大上报, …) are never sent to a department."""
    parts = []
    for milestone, column in CHASED_DEPARTMENT_STEPS.items():
        own = getattr(ComplaintDepartment, column)
        pending = own.is_(None) | (own > CaseClock.due_at) if late else own.is_(None)
        parts.append(and_(SlaClockVersion.stop_milestone == milestone.value, pending))
    return or_(*parts)


def issue_reminders(uow: UnitOfWork, *, now: datetime) -> int:
    """The sweep: due reminders and late-inquiries (`_issue_reminders`), then the progress contacts due
    when a clock turned 临期 (`contacts.queue_progress_notices`: the GM office's own clocks and the
    contact clocks belong to no department, so they prompt the intake clerks in 待联系客户 instead).
    Returns how many reminders and late-inquiries were issued (0 on a second call)."""
    from portal.services.contacts import queue_progress_notices
    from portal.services.desk_reminders import issue_desk_reminders
    from portal.services.rectification import issue_rectification_reminders
    issued = _issue_reminders(uow, now=now)
    issued += issue_rectification_reminders(uow, now=now)     # overdue rectification items (issue 18)
    queue_progress_notices(uow, now=now)
    issue_desk_reminders(uow, now=now)          # the service desk's clocks (issue 17), counted on their own
    from portal.services.warning_alerts import raise_warnings
    raise_warnings(uow, now=now)                # breached early warnings pushed (issue 18, 004 ch.9)
    return issued


def _issue_reminders(uow: UnitOfWork, *, now: datetime) -> int:
    """Issue what is due and not yet issued; returns how many new ones (0 on a second call).

    Read from the stored clock dues (`case_clocks`), so a sweep costs what is overdue, not the
    size of the ledger. Late-inquiries cover clocks that ended late within the last
    `reminders.late_inquiry_window_days` days (a sweep runs at least that often). Each goes only
    to the departments that own the late step and have not done (or were late with) their part.
    """
    with uow.write() as session:
        window = int(rules.settings(session).get("reminders.late_inquiry_window_days", "90"))

        def not_issued(kind: str):  # noqa: ANN202
            return ~exists().where(Reminder.complaint_id == CaseClock.complaint_id,
                                   Reminder.department_id == ComplaintDepartment.department_id,
                                   Reminder.clock_key == CaseClock.clock_key, Reminder.kind == kind)

        def candidates(kind: str, *conditions):  # noqa: ANN001, ANN202
            return (select(CaseClock.complaint_id, ComplaintDepartment.department_id, CaseClock.clock_key,
                           CaseClock.due_at)
                    .join(Complaint, Complaint.id == CaseClock.complaint_id)
                    .join(SlaClockVersion, case_clock_version())
                    .join(ComplaintDepartment, ComplaintDepartment.complaint_id == CaseClock.complaint_id)
                    .where(*conditions, not_issued(kind)))

        wanted = [(c, d, k, due, "reminder") for c, d, k, due in session.execute(candidates(
            "reminder", running_clock_condition("overdue", now), Complaint.state.in_([s.value for s in OPEN_STATES]),
            Complaint.accepted_at.is_not(None), _owned_by_department(late=False)))]
        wanted += [(c, d, k, due, "late_inquiry") for c, d, k, due in session.execute(candidates(
            "late_inquiry", CaseClock.late.is_(True), CaseClock.stopped_at >= now - timedelta(days=window),
            Complaint.state.in_([State.CLOSED.value, State.ARCHIVED.value]), _owned_by_department(late=True)))]
        if not wanted:
            return 0
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        table = Reminder.__table__
        statement = (dialect.insert(table)
                     .on_conflict_do_nothing(index_elements=["complaint_id", "department_id", "clock_key", "kind"])
                     .returning(table.c.complaint_id, table.c.department_id, table.c.clock_key, table.c.kind))
        connection = session.connection()
        inserted = connection.execute(statement, [dict(complaint_id=c, department_id=d, clock_key=k, kind=kind,
                                                       issued_at=now, due_at=due, answer="", content="")
                                                  for c, d, k, due, kind in wanted]).all()
        names = dict(session.execute(select(Department.id, Department.code)).all())
        events = [dict(complaint_id=complaint_id, actor_id=None, actor_label="system", at=now,
                       action=f"{kind}.issue", from_state=None, to_state=None,
                       comment=f"{names[department_id]}:{clock_key}",
                       changes={"department": names[department_id], "clock": clock_key})
                  for complaint_id, department_id, clock_key, kind in inserted]
        if events:                                        # one event per issued item, written in bulk
            connection.execute(insert(Event.__table__), events)
        if inserted:                                      # the statistics count them on the day they were issued
            stats_rollup.mark_days(connection, [now.date()])
        return len(inserted)


KINDS = ("reminder", "late_inquiry")


def issue_by_hand(uow: UnitOfWork, *, actor: Actor, complaint_id: int, department: str, kind: str,
                  content: str, reply_by: datetime | None, now: datetime) -> int:
    """The GM office issues a 催办单 (open case) or 洽办单 (closed case) by hand (002 art.15), to one
    department the case is routed to, with its own text and the time the answer is due."""
    errors: dict[str, Message] = {}
    content = text_field(errors, "content", content, limit=2000)
    if kind not in KINDS:
        errors["kind"] = choice_message(kind)
    reply_by = moment_field(errors, "reply_by", reply_by)
    if reply_by is None and "reply_by" not in errors:
        errors["reply_by"] = Message("form.required")
    elif reply_by is not None and reply_by <= now:
        errors["reply_by"] = Message("reminder.reply_in_future")
    with uow.write() as session:
        user = fresh_actor(session, actor, Role.GM_OFFICE)
        complaint = session.get(Complaint, complaint_id)
        if complaint is None:
            raise NotFound("case.not_found")
        routed = {r.department.code: r.department_id for r in complaint.departments}
        if not isinstance(department, str) or department not in routed:
            errors["department"] = Message("reminder.not_routed")
        open_case = State(complaint.state) in OPEN_STATES
        if kind == "reminder" and not open_case:
            errors["kind"] = Message("reminder.reminder_needs_open")
        elif kind == "late_inquiry" and complaint.state not in (State.CLOSED.value, State.ARCHIVED.value):
            errors["kind"] = Message("reminder.inquiry_needs_closed")
        if errors:
            raise ValidationFailed(errors)
        item = Reminder(complaint_id=complaint.id, department_id=routed[department], clock_key=None, kind=kind,
                        issued_at=now, issued_by_id=user.id, content=content, due_at=reply_by, answer="")
        session.add(item)
        session.flush()
        record_event(session, actor=user, at=now, action=f"{kind}.issue", complaint_id=complaint.id,
                     comment=content, changes={"department": department, "reply_by": reply_by})
        return item.id


@dataclass(frozen=True)
class ReminderView:
    id: int
    complaint_id: int
    number: str | None
    department: str
    clock_key: str | None     # None: issued by hand
    kind: str
    issued_at: datetime
    answer: str
    answered_at: datetime | None
    issuer: str | None = None  # None: the sweep
    content: str = ""
    due_at: datetime | None = None

    def overdue(self, now: datetime) -> timedelta | None:
        """How far past its deadline: the step's (a sweep's item) or the reply's (by hand), until answered."""
        if self.due_at is None:
            return None
        late = (self.answered_at or now) - self.due_at
        return late if late > timedelta(0) else None


def _reminder_query(actor: Actor, department: str | None, open_only: bool):  # noqa: ANN202
    if actor.has(Role.GM_OFFICE):
        pass
    elif actor.has(Role.HANDLER):
        department = actor.department_code
    else:
        raise PermissionDenied("auth.missing_role")
    conditions = []
    if department:
        conditions.append(Reminder.department_id == select(Department.id).where(Department.code == department)
                          .scalar_subquery())
    if open_only:
        conditions.append(Reminder.answered_at.is_(None))
    return conditions


def list_reminders(uow: UnitOfWork, *, actor: Actor, department: str | None = None,
                   open_only: bool = False, limit: int | None = None) -> list[ReminderView]:
    """A department's own reminders (handlers), or every department's (GM office), newest first;
    `limit` keeps a page to the newest few (the count is `count_reminders`)."""
    conditions = _reminder_query(actor, department, open_only)
    order = (Reminder.issued_at.desc(), Reminder.id.desc())
    # The newest ids from the reminders table alone (its index gives the order), then their details.
    newest = select(Reminder.id).where(*conditions).order_by(*order).limit(limit).subquery()
    query = (select(Reminder, Complaint.number, Department.code, User.display_name)
             .join(Complaint, Complaint.id == Reminder.complaint_id)
             .join(Department, Department.id == Reminder.department_id)
             .outerjoin(User, User.id == Reminder.issued_by_id)
             .where(Reminder.id.in_(select(newest.c.id))).order_by(*order))
    with uow.read() as session:
        return [ReminderView(r.id, r.complaint_id, number, code, r.clock_key, r.kind, r.issued_at,
                             r.answer, r.answered_at, issuer, r.content, r.due_at)
                for r, number, code, issuer in session.execute(query)]


def count_reminders(uow: UnitOfWork, *, actor: Actor, department: str | None = None,
                    open_only: bool = False) -> int:
    conditions = _reminder_query(actor, department, open_only)
    with uow.read() as session:
        return int(session.scalar(select(func.count()).select_from(Reminder).where(*conditions)))


def answer_reminder(uow: UnitOfWork, *, actor: Actor, reminder_id: int, answer: str, now: datetime) -> None:
    """The department answers a reminder (what it is doing) or a late-inquiry (why it was late)."""
    errors: dict[str, Message] = {}
    answer = text_field(errors, "answer", answer, limit=2000)
    if errors:
        raise ValidationFailed(errors)
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
