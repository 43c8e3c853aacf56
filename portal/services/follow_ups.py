"""The follow-up loop after closure (回访, issue 18; 000 §7; 004 ch.5): a dissatisfied follow-up goes to the
responsible department(s), whose action is recorded, and schedules a second visit; the GM office or 市场部 may
schedule another follow-up by a date. The visit itself is `handling.record_follow_up`."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from portal.domain.errors import Message, NotFound, PermissionDenied, TransitionNotAllowed, ValidationFailed
from portal.domain.lifecycle import Action, State
from portal.domain.roles import Role
from portal.domain.validation import text_field
from portal.persistence.database import UnitOfWork
from portal.persistence.models import (Complaint, Department, FollowUp, FollowUpAction,
                                       FollowUpSchedule, ResponsibilityShare, User)
from portal.services import rules
from portal.services.actors import Actor
from portal.services.audit import record_event
from portal.services.steps import case_step

TEXT_LIMIT = 4000
FAR_AHEAD_DAYS = 366        # a follow-up is scheduled within a year


def _event(session: Session, user: User, complaint: Complaint, action: Action, source: State, now: datetime,
           comment: str = "", changes: dict | None = None) -> None:
    record_event(session, actor=user, at=now, action=action.value, complaint_id=complaint.id,
                 from_state=source.value, to_state=complaint.state, comment=comment, changes=changes)


# -- what `handling.record_follow_up` does inside its transaction --

def responsible_department_ids(session: Session, complaint: Complaint) -> list[int]:
    """The departments a dissatisfied follow-up goes to: those with a share of the responsibility; else the
    responsible department; else every department the case was routed to."""
    shares = list(session.scalars(select(ResponsibilityShare.department_id)
                                  .where(ResponsibilityShare.complaint_id == complaint.id)
                                  .order_by(ResponsibilityShare.ratio.desc(), ResponsibilityShare.department_id)))
    if shares:
        return shares
    if complaint.responsibility_department_id is not None:
        return [complaint.responsibility_department_id]
    return [routing.department_id for routing in complaint.departments]


def send_to_departments(session: Session, complaint: Complaint, follow_up_id: int, now: datetime) -> list[str]:
    """One `FollowUpAction` per responsible department; returns their codes."""
    ids = responsible_department_ids(session, complaint)
    session.add_all([FollowUpAction(follow_up_id=follow_up_id, complaint_id=complaint.id, department_id=d,
                                    sent_at=now, action="") for d in ids])
    codes = dict(session.execute(select(Department.id, Department.code).where(Department.id.in_(ids))).all())
    return [codes[d] for d in ids]


def fulfil_schedule(session: Session, complaint_id: int, follow_up_id: int) -> int | None:
    """The earliest pending scheduled follow-up of the case is done by this one (its id, or None)."""
    pending = session.scalars(select(FollowUpSchedule).where(FollowUpSchedule.complaint_id == complaint_id,
                                                             FollowUpSchedule.follow_up_id.is_(None))
                              .order_by(FollowUpSchedule.due_on, FollowUpSchedule.id).limit(1)).first()
    if pending is None:
        return None
    pending.follow_up_id = follow_up_id
    return pending.id


def schedule_second_visit(session: Session, complaint_id: int, user_id: int, now: datetime) -> date:
    """The second visit after a dissatisfied one, `follow_up.second_visit_days` after the visit (a setting)."""
    days = int(rules.settings(session).get("follow_up.second_visit_days", "30") or 30)
    due = now.date() + timedelta(days=days)
    session.add(FollowUpSchedule(complaint_id=complaint_id, due_on=due, reason="second_visit", created_at=now,
                                 created_by_id=user_id))
    return due


# -- use cases --

def schedule_follow_up(uow: UnitOfWork, *, actor: Actor, complaint_id: int, due_on: date | None, reason: str,
                       expected_version: int, now: datetime) -> int:
    """Another follow-up of a closed case by a date, with the reason (the GM office or 市场部)."""
    errors: dict[str, Message] = {}
    reason = text_field(errors, "reason", reason, limit=TEXT_LIMIT)
    if due_on is None:
        errors["due_on"] = Message("form.required")
    elif not isinstance(due_on, date) or isinstance(due_on, datetime):
        errors["due_on"] = Message("form.bad_value")
    elif due_on < now.date():
        errors["due_on"] = Message("follow_up.due_in_past")
    elif due_on > now.date() + timedelta(days=FAR_AHEAD_DAYS):
        errors["due_on"] = Message("follow_up.due_too_far")
    with case_step(uow, actor, complaint_id, Action.SCHEDULE_FOLLOW_UP, expected_version) as (
            session, user, complaint, source):
        if errors:
            raise ValidationFailed(errors)
        schedule = FollowUpSchedule(complaint_id=complaint.id, due_on=due_on, reason=reason, created_at=now,
                                    created_by_id=user.id)
        session.add(schedule)
        session.flush()
        flag_modified(complaint, "state")     # the case's version moves (a form shown before is stale)
        _event(session, user, complaint, Action.SCHEDULE_FOLLOW_UP, source, now, reason, {"due_on": due_on})
        return schedule.id


def act_on_follow_up(uow: UnitOfWork, *, actor: Actor, action_id: int, action: str, now: datetime) -> None:
    """A handler of the department a dissatisfied follow-up was sent to records what the department did."""
    errors: dict[str, Message] = {}
    action = text_field(errors, "action", action, limit=TEXT_LIMIT)
    with uow.read() as session:
        complaint_id = session.scalar(select(FollowUpAction.complaint_id).where(FollowUpAction.id == action_id))
    if complaint_id is None:
        raise NotFound("follow_up.action_not_found")
    with case_step(uow, actor, complaint_id, Action.ACT_ON_FOLLOW_UP, None, appends=True) as (
            session, user, complaint, source):
        item = session.get(FollowUpAction, action_id, with_for_update=True)
        if item.department_id != user.department_id:
            raise TransitionNotAllowed("case.not_yours")
        if item.acted_at is not None:
            raise TransitionNotAllowed("follow_up.action_done")
        if errors:
            raise ValidationFailed(errors)
        item.action, item.acted_at, item.acted_by_id = action, now, user.id
        _event(session, user, complaint, Action.ACT_ON_FOLLOW_UP, source, now, action,
               {"department": user.department.code, "follow_up_action": item.id})


# -- what the pages read --

def wants_follow_up():  # noqa: ANN201
    """A closed case waiting for a follow-up (`archive_readiness.wants_follow_up`), as its stored flag: one index
    range in queue order."""
    return Complaint.follow_up_due == true()


@dataclass(frozen=True)
class DepartmentFollowUp:
    """A dissatisfied follow-up sent to a department (what the customer said) and what it did."""
    id: int
    complaint_id: int
    number: str | None
    department: str
    sent_at: datetime
    visited_at: datetime
    method: str
    overall: int
    outcome: str
    action: str
    acted_at: datetime | None
    acted_by: str | None


def _department_of(actor: Actor) -> int:
    if not actor.has(Role.HANDLER) or actor.department_id is None:
        raise PermissionDenied("auth.missing_role")
    return actor.department_id


def department_follow_ups(uow: UnitOfWork, *, actor: Actor, open_only: bool = True,
                          limit: int = 20) -> list[DepartmentFollowUp]:
    """The follow-ups sent to the actor's department, oldest first (those not acted on, or all)."""
    department_id = _department_of(actor)
    conditions = [FollowUpAction.department_id == department_id]
    if open_only:
        conditions.append(FollowUpAction.acted_at.is_(None))
    with uow.read() as session:
        rows = session.execute(
            select(FollowUpAction, Complaint.number, Department.code, FollowUp.visited_at, FollowUp.method,
                   FollowUp.overall, FollowUp.outcome, User.display_name)
            .join(Complaint, Complaint.id == FollowUpAction.complaint_id)
            .join(Department, Department.id == FollowUpAction.department_id)
            .join(FollowUp, FollowUp.id == FollowUpAction.follow_up_id)
            .outerjoin(User, User.id == FollowUpAction.acted_by_id)
            .where(*conditions).order_by(FollowUpAction.sent_at, FollowUpAction.id).limit(limit)).all()
    return [DepartmentFollowUp(a.id, a.complaint_id, number, code, a.sent_at, visited, method, overall, outcome,
                               a.action, a.acted_at, name)
            for a, number, code, visited, method, overall, outcome, name in rows]


def count_department_follow_ups(uow: UnitOfWork, *, actor: Actor, open_only: bool = True) -> int:
    department_id = _department_of(actor)
    conditions = [FollowUpAction.department_id == department_id]
    if open_only:
        conditions.append(FollowUpAction.acted_at.is_(None))
    with uow.read() as session:
        return int(session.scalar(select(func.count()).select_from(FollowUpAction).where(*conditions)))


def follow_up_queue(uow: UnitOfWork, *, actor: Actor, now: datetime, calendar, page: int = 1):  # noqa: ANN001, ANN201
    """市场部's 待回访: closed cases with no follow-up yet or a scheduled one not made, in queue order."""
    from portal.services import queries
    if not actor.has(Role.INTAKE, Role.INTAKE_LEAD, Role.GM_OFFICE):
        raise PermissionDenied("auth.missing_role")
    return queries._ledger(uow, [wants_follow_up()], now, calendar, reader=actor, page=page,  # noqa: SLF001
                           page_size=queries.QUEUE_PAGE, order="priority")
