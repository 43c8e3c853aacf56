"""Named investigators and the working group of a 重大 case (issue 15 §4; 000 §5, §8): assigning a
routed department's part of a case to named handlers, the working group set by the GM office, the
queues of what is assigned to a person or whose group they sit on, and the flag on departments
nobody was assigned to in time. The rules are `portal.domain.assignment`."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import and_, delete, exists, func, select
from sqlalchemy.orm import Session

from portal.domain.assignment import (MAX_ASSIGNEES, MAX_GROUP, MEMBER_ROLES, Person, assignee_problem,
                                      check_group, check_may_assign, may_assign, unassigned_late)
from portal.domain.calendar import WorkingCalendar
from portal.domain.errors import Message, PermissionDenied, TransitionNotAllowed, ValidationFailed
from portal.domain.lifecycle import OPEN_STATES
from portal.domain.roles import Role
from portal.domain.validation import text_field
from portal.persistence.database import UnitOfWork
from portal.persistence.models import (CaseAssignment, ComplainedStaff, Complaint, ComplaintDepartment, Department,
                                       User, UserRole, WorkingGroupMember)
from portal.services import rules
from portal.services.actors import Actor, fresh_actor
from portal.services.audit import record_event
from portal.services.steps import locked_case

FLAG_SETTING = "assignment.flag_hours"
ASSIGN_ACTION = "assign_handlers"
GROUP_ACTION = "set_working_group"
_OPEN = [s.value for s in OPEN_STATES]


def flag_hours(session: Session) -> int:
    value = rules.settings(session).get(FLAG_SETTING)
    return int(value) if value is not None else 24


def _roles(user: User) -> frozenset[Role]:
    return frozenset(Role(k) for k in user.role_keys)


def _person(user: User) -> Person:
    return Person(user.id, user.username, user.display_name, user.department_id,
                  user.department.code if user.department else None, _roles(user), user.active)


def has_lead(session: Session, department_id: int) -> bool:
    """Whether an active user holds the department's lead duty (部门主管)."""
    return bool(session.scalar(select(exists().where(
        User.id == UserRole.user_id, UserRole.role_key == Role.DEPT_LEAD.value, User.department_id == department_id,
        User.active.is_(True)))))


def _recused(complaint: Complaint) -> set[int]:
    return {link.user_id for link in complaint.staff_links}


def _usernames(errors: dict[str, Message], field: str, value: object, limit: int) -> list[str]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        errors[field] = Message("form.bad_value")
        return []
    names = list(dict.fromkeys(v.strip().lower() for v in value if v.strip()))
    if not names:
        errors[field] = Message("form.choose_one")
    elif len(names) > limit:
        errors[field] = Message("group.too_many", {"max": limit})
    return names


def _load(session: Session, errors: dict[str, Message], field: str, names: list[str]) -> list[User]:
    found = {u.username: u for u in session.scalars(select(User).where(User.username.in_(names)))} if names else {}
    unknown = [n for n in names if n not in found]
    if unknown:
        errors.setdefault(field, Message("form.unknown_staff", {"names": ", ".join(unknown)}))
    return [found[n] for n in names if n in found]


# -- named investigators (指定责任人员) --

def assign_handlers(uow: UnitOfWork, *, actor: Actor, complaint_id: int, handlers: list[str],
                    department: str | None = None, comment: str = "", now: datetime) -> list[str]:
    """The department's lead names the handlers who investigate its part of the case (replacing any
    named before: a reassignment), audited with who was assigned before and after. `department` is
    the routed department's code (default: the actor's own); the GM office assigns only for a
    department that has no active lead. Returns the usernames now assigned."""
    errors: dict[str, Message] = {}
    names = _usernames(errors, "handlers", handlers, MAX_ASSIGNEES)
    comment = text_field(errors, "comment", comment, required=False, limit=1000)
    with uow.write() as session:
        user = fresh_actor(session, actor)
        complaint = locked_case(session, complaint_id)
        code = department if department is not None else (user.department.code if user.department else None)
        routing = next((r for r in complaint.departments if r.department.code == code), None)
        if routing is None:
            raise TransitionNotAllowed("assign.not_routed")
        check_may_assign(roles=_roles(user), department_id=user.department_id,
                         routed_department_id=routing.department_id,
                         department_has_lead=has_lead(session, routing.department_id))
        if complaint.state not in _OPEN or routing.report_submitted_at is not None:
            raise TransitionNotAllowed("assign.report_done")
        chosen = _load(session, errors, "handlers", names)
        recused = _recused(complaint)
        for person in chosen:
            problem = assignee_problem(_person(person), department_id=routing.department_id, recused=recused)
            if problem:
                errors.setdefault("handlers", problem)
        current = session.execute(select(CaseAssignment, User).join(User, User.id == CaseAssignment.user_id)
                                  .where(CaseAssignment.complaint_id == complaint.id,
                                         CaseAssignment.department_id == routing.department_id)
                                  .order_by(CaseAssignment.assigned_at, User.username)).all()
        before = [u for _, u in current]
        if not errors and {u.id for u in before} == {u.id for u in chosen}:
            errors["handlers"] = Message("assign.unchanged")
        if errors:
            raise ValidationFailed(errors)
        kept = {row.user_id: row.assigned_at for row, _ in current}
        session.execute(delete(CaseAssignment).where(CaseAssignment.complaint_id == complaint.id,
                                                     CaseAssignment.department_id == routing.department_id))
        session.add_all([CaseAssignment(complaint_id=complaint.id, user_id=person.id, department_id=routing.department_id,
                                        assigned_at=kept.get(person.id, now), assigned_by_id=user.id)
                         for person in chosen])
        routing.assigned_at = routing.assigned_at or now
        record_event(session, actor=user, at=now, action=ASSIGN_ACTION, complaint_id=complaint.id,
                     from_state=complaint.state, to_state=complaint.state, comment=comment,
                     changes={"department": code, "assignees_before": [_label(u) for u in before],
                              "assignees_after": [_label(u) for u in chosen]})
        return [u.username for u in chosen]


def _label(user: User) -> str:
    return f"{user.display_name} ({user.username})"


@dataclass(frozen=True)
class Candidate:
    username: str
    display_name: str
    department: str | None       # department code
    chosen: bool                 # assigned now (handlers), or in the group now (members)
    leader: bool = False

    @property
    def label(self) -> str:
        return f"{self.display_name} ({self.username})"


def assignment_choices(uow: UnitOfWork, *, actor: Actor, complaint_id: int) -> dict[str, list[Candidate]]:
    """For each routed department of the case whose handlers the actor may name now (its lead; the GM
    office for a department with no lead; not once the department has reported or the case is closed),
    in routing order: who may be named (its active handlers, none named in the complaint), those named
    now marked. Two queries, however many departments."""
    led = exists().where(User.department_id == ComplaintDepartment.department_id, User.active.is_(True),
                         UserRole.user_id == User.id, UserRole.role_key == Role.DEPT_LEAD.value)
    with uow.read() as session:
        waiting = session.execute(
            select(ComplaintDepartment.department_id, Department.code, led.label("led"))
            .join(Department, Department.id == ComplaintDepartment.department_id)
            .join(Complaint, Complaint.id == ComplaintDepartment.complaint_id)
            .where(ComplaintDepartment.complaint_id == complaint_id, Complaint.state.in_(_OPEN),
                   ComplaintDepartment.report_submitted_at.is_(None))
            .order_by(ComplaintDepartment.department_id)).all()
        mine = [r for r in waiting if may_assign(roles=actor.roles, department_id=actor.department_id,
                                                 routed_department_id=r.department_id,
                                                 department_has_lead=bool(r.led))]
        if not mine:
            return {}
        assigned = exists().where(CaseAssignment.complaint_id == complaint_id, CaseAssignment.user_id == User.id,
                                  CaseAssignment.department_id == User.department_id)
        recused = exists().where(ComplainedStaff.complaint_id == complaint_id, ComplainedStaff.user_id == User.id)
        handlers = session.execute(
            select(User.username, User.display_name, User.department_id, assigned.label("assigned"))
            .where(User.active.is_(True), User.department_id.in_([r.department_id for r in mine]), ~recused,
                   exists().where(UserRole.user_id == User.id, UserRole.role_key == Role.HANDLER.value))
            .order_by(User.username)).all()
        return {r.code: [Candidate(u.username, u.display_name, r.code, bool(u.assigned))
                         for u in handlers if u.department_id == r.department_id]
                for r in mine}


def leaderless_departments(uow: UnitOfWork) -> list[str]:
    """Departments that take cases but have no active lead: the GM office assigns for them."""
    lead = exists().where(User.department_id == Department.id, User.active.is_(True),
                          UserRole.user_id == User.id, UserRole.role_key == Role.DEPT_LEAD.value)
    with uow.read() as session:
        return list(session.scalars(select(Department.code).where(Department.active, Department.investigates, ~lead)
                                    .order_by(Department.sort)))


# -- the working group of a major case (专项工作组) --

def set_working_group(uow: UnitOfWork, *, actor: Actor, complaint_id: int, leader: str | None,
                      members: list[str], comment: str = "", now: datetime) -> None:
    """The GM office sets (or changes) the working group of a 重大 case: a leader and named members from
    at least two departments; audited with the group before and after."""
    errors: dict[str, Message] = {}
    names = _usernames(errors, "members", members, MAX_GROUP) if members else []
    if not isinstance(leader, str) or not leader.strip():
        leader_name = None
    else:
        leader_name = leader.strip().lower()
    comment = text_field(errors, "comment", comment, required=False, limit=1000)
    with uow.write() as session:
        user = fresh_actor(session, actor, Role.GM_OFFICE)
        complaint = locked_case(session, complaint_id)
        if complaint.state not in _OPEN:
            raise TransitionNotAllowed("group.case_closed")
        if complaint.severity != "major":
            raise TransitionNotAllowed("group.not_major")
        head = _load(session, errors, "leader", [leader_name]) if leader_name else []
        chosen = _load(session, errors, "members", [n for n in names if n != leader_name])
        group_errors = check_group(_person(head[0]) if head else None, [_person(u) for u in chosen],
                                   recused=_recused(complaint))
        for key, message in group_errors.items():
            errors.setdefault(key, message)
        current = session.execute(select(WorkingGroupMember, User).join(User, User.id == WorkingGroupMember.user_id)
                                  .where(WorkingGroupMember.complaint_id == complaint.id)
                                  .order_by(WorkingGroupMember.leader.desc(), User.username)).all()
        after = head + chosen
        if not errors and {(m.user_id, m.leader) for m, _ in current} == (
                {(head[0].id, True)} | {(u.id, False) for u in chosen}):
            errors["members"] = Message("group.unchanged")
        if errors:
            raise ValidationFailed(errors)
        added = {m.user_id: m.added_at for m, _ in current}
        session.execute(delete(WorkingGroupMember).where(WorkingGroupMember.complaint_id == complaint.id))
        session.add_all([WorkingGroupMember(complaint_id=complaint.id, user_id=person.id, leader=person is head[0],
                                            added_at=added.get(person.id, now), added_by_id=user.id)
                         for person in after])
        record_event(session, actor=user, at=now, action=GROUP_ACTION, complaint_id=complaint.id,
                     from_state=complaint.state, to_state=complaint.state, comment=comment,
                     changes={"group_leader_before": next((_label(u) for m, u in current if m.leader), None),
                              "group_members_before": [_label(u) for m, u in current if not m.leader],
                              "group_leader_after": _label(head[0]),
                              "group_members_after": [_label(u) for u in chosen]})


def group_candidates(uow: UnitOfWork, *, complaint_id: int) -> list[Candidate]:
    """Who may sit on the case's working group (active staff with a department, none named in the
    complaint), with the members and leader now marked, by department."""
    with uow.read() as session:
        complaint = session.get(Complaint, complaint_id)
        if complaint is None:
            return []
        recused = _recused(complaint)
        members = {m.user_id: m.leader for m in session.scalars(
            select(WorkingGroupMember).where(WorkingGroupMember.complaint_id == complaint_id))}
        staff = session.scalars(select(User).where(
            User.active.is_(True), User.department_id.is_not(None),
            exists().where(UserRole.user_id == User.id, UserRole.role_key.in_([r.value for r in MEMBER_ROLES])))
            .join(Department, Department.id == User.department_id).order_by(Department.sort, User.username)).unique()
        return [Candidate(u.username, u.display_name, u.department.code if u.department else None,
                          u.id in members, members.get(u.id, False)) for u in staff if u.id not in recused]


def in_working_group(session: Session, complaint_id: int, user_id: int) -> bool:
    return bool(session.scalar(select(exists().where(WorkingGroupMember.complaint_id == complaint_id,
                                                     WorkingGroupMember.user_id == user_id))))


def case_people(session: Session, complaint_id: int) -> dict:
    """Who works on the case by name, for its page and its printed form: the handlers assigned per
    department (code → [names]) and the working group ([{name, username, user_id, department, leader}],
    leader first). Two queries."""
    assignees: dict[str, list[str]] = {}
    for code, name in session.execute(
            select(Department.code, User.display_name).join(CaseAssignment, CaseAssignment.department_id == Department.id)
            .join(User, User.id == CaseAssignment.user_id).where(CaseAssignment.complaint_id == complaint_id)
            .order_by(Department.sort, CaseAssignment.assigned_at, User.username)):
        assignees.setdefault(code, []).append(name)
    group = [{"name": name, "username": username, "user_id": user_id, "department": code, "leader": leader}
             for name, username, user_id, code, leader in session.execute(
                 select(User.display_name, User.username, User.id, Department.code, WorkingGroupMember.leader)
                 .join(WorkingGroupMember, WorkingGroupMember.user_id == User.id)
                 .outerjoin(Department, Department.id == User.department_id)
                 .where(WorkingGroupMember.complaint_id == complaint_id)
                 .order_by(WorkingGroupMember.leader.desc(), Department.sort, User.username))]
    return {"assignees": assignees, "working_group": group}


# -- queues and flags --

def with_assignments(session: Session, frame: pd.DataFrame, now: datetime,
                     department_id: int | None = None) -> pd.DataFrame:
    """A page of cases with who is assigned (`assignees`: names, for one department or all) and
    whether a routed department has waited past `assignment.flag_hours` with nobody named
    (`unassigned_late`): two queries for the page's cases, whatever its size."""
    ids = [int(i) for i in frame["id"]]
    names: dict[int, list[str]] = {}
    late: set[int] = set()
    if ids:
        hours = flag_hours(session)
        query = (select(ComplaintDepartment.complaint_id, ComplaintDepartment.routed_at,
                        ComplaintDepartment.assigned_at, ComplaintDepartment.report_submitted_at, User.display_name)
                 .outerjoin(CaseAssignment, and_(CaseAssignment.complaint_id == ComplaintDepartment.complaint_id,
                                                 CaseAssignment.department_id == ComplaintDepartment.department_id))
                 .outerjoin(User, User.id == CaseAssignment.user_id)
                 .where(ComplaintDepartment.complaint_id.in_(ids))
                 .order_by(ComplaintDepartment.complaint_id, ComplaintDepartment.department_id,
                           CaseAssignment.assigned_at, User.username))
        if department_id is not None:
            query = query.where(ComplaintDepartment.department_id == department_id)
        for case_id, routed_at, assigned_at, reported, name in session.execute(query):
            if name is not None:
                names.setdefault(case_id, []).append(name)
            if unassigned_late(routed_at=routed_at, assigned_at=assigned_at, report_submitted_at=reported,
                               now=now, hours=hours):
                late.add(case_id)
    out = frame.copy()
    out["assignees"] = [names.get(i, []) for i in ids]
    out["unassigned_late"] = [i in late and s in _OPEN for i, s in zip(ids, frame["state"])]
    return out


@dataclass(frozen=True)
class Unassigned:
    complaint_id: int
    number: str | None
    department: str
    routed_at: datetime


def unassigned_late_cases(uow: UnitOfWork, *, actor: Actor, now: datetime,
                          limit: int = 20) -> tuple[int, list[Unassigned]]:
    """待指派超时: routed departments nobody was assigned to within `assignment.flag_hours`, on open cases
    (the GM office sees every department's, a department's lead their own), oldest first: how many,
    and the first `limit`."""
    if not actor.has(Role.GM_OFFICE, Role.DEPT_LEAD):
        raise PermissionDenied("auth.missing_role")
    with uow.read() as session:
        since = now - timedelta(hours=flag_hours(session))
        where = [ComplaintDepartment.report_submitted_at.is_(None), ComplaintDepartment.assigned_at.is_(None),
                 ComplaintDepartment.routed_at < since, Complaint.state.in_(_OPEN)]
        if not actor.has(Role.GM_OFFICE):
            where.append(ComplaintDepartment.department_id == actor.department_id)
        base = (select(ComplaintDepartment.complaint_id).join(Complaint, Complaint.id == ComplaintDepartment.complaint_id)
                .where(*where))
        count = session.scalar(select(func.count()).select_from(base.subquery()))
        rows = session.execute(
            select(Complaint.id, Complaint.number, Department.code, ComplaintDepartment.routed_at)
            .join(ComplaintDepartment, ComplaintDepartment.complaint_id == Complaint.id)
            .join(Department, Department.id == ComplaintDepartment.department_id)
            .where(*where).order_by(ComplaintDepartment.routed_at, Complaint.id).limit(limit)).all()
        return int(count or 0), [Unassigned(*row) for row in rows]


def assigned_to_me(uow: UnitOfWork, *, actor: Actor, now: datetime, calendar: WorkingCalendar,
                   page: int = 1, page_size: int = 50):  # noqa: ANN201
    """我的案件: the open cases a handler has been assigned to, in queue order."""
    from portal.services.queries import _ledger
    if not actor.has(Role.HANDLER):
        raise PermissionDenied("auth.missing_role")
    conditions = [Complaint.id.in_(select(CaseAssignment.complaint_id).where(CaseAssignment.user_id == actor.id)),
                  Complaint.state.in_(_OPEN)]
    return _ledger(uow, conditions, now, calendar, reader=actor, page=page, page_size=page_size, order="priority",
                   decorate=lambda session, frame: with_assignments(session, frame, now, actor.department_id))


def my_working_groups(uow: UnitOfWork, *, actor: Actor, now: datetime, calendar: WorkingCalendar,
                      page: int = 1, page_size: int = 50):  # noqa: ANN201
    """我的案件: the open cases whose working group the person leads or sits on, in queue order."""
    from portal.services.queries import _ledger
    if not actor.has(*MEMBER_ROLES):
        raise PermissionDenied("auth.missing_role")
    conditions = [Complaint.id.in_(select(WorkingGroupMember.complaint_id).where(WorkingGroupMember.user_id == actor.id)),
                  Complaint.state.in_(_OPEN)]
    return _ledger(uow, conditions, now, calendar, reader=actor, page=page, page_size=page_size, order="priority")


def lead_of(session: Session, department_id: int) -> list[str]:
    """The names of the department's active leads."""
    return list(session.scalars(select(User.display_name).where(
        User.active.is_(True), User.department_id == department_id,
        exists().where(UserRole.user_id == User.id, UserRole.role_key == Role.DEPT_LEAD.value))
        .order_by(User.username)))

