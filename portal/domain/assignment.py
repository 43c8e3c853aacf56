"""Named investigators (指定责任人员, 000 §5) and the working group of a 重大 case (专项工作组, 000 §8).

- A department's lead (the `dept_lead` duty held with that department, SPEC §1) assigns a case routed
  to the department to one or more named handlers of the department, and may reassign. A staff member
  the complaint names is never assigned (回避). A department with no active lead is not left without
  one: the GM office assigns for it (the fallback), and only then.
- A routed department with nobody assigned a set time (`assignment.flag_hours`) after the case was
  routed to it is flagged (待指派超时) until someone is.
- The GM office sets the working group of a 重大 case: a leader and named members, from at least two
  departments (统一指挥 across the departments involved), none of them named in the complaint.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from portal.domain.errors import Message, PermissionDenied
from portal.domain.roles import Role

# who may sit on a working group: people who work on cases, each in a department
MEMBER_ROLES = frozenset({Role.INTAKE, Role.INTAKE_LEAD, Role.HANDLER, Role.GM_OFFICE, Role.APPROVER})
MIN_GROUP_DEPARTMENTS = 2
MAX_ASSIGNEES = 20
MAX_GROUP = 30


@dataclass(frozen=True)
class Person:
    id: int
    username: str
    display_name: str
    department_id: int | None
    department_code: str | None
    roles: frozenset[Role]
    active: bool = True


def may_assign(*, roles: frozenset[Role], department_id: int | None, routed_department_id: int,
               department_has_lead: bool) -> bool:
    """The lead of that department; the GM office only for a department that has no active lead."""
    if Role.DEPT_LEAD in roles and department_id == routed_department_id:
        return True
    return Role.GM_OFFICE in roles and not department_has_lead


def check_may_assign(*, roles: frozenset[Role], department_id: int | None, routed_department_id: int,
                     department_has_lead: bool) -> None:
    if not may_assign(roles=roles, department_id=department_id, routed_department_id=routed_department_id,
                      department_has_lead=department_has_lead):
        raise PermissionDenied("assign.lead_assigns" if Role.GM_OFFICE in roles else "assign.not_lead")


def assignee_problem(person: Person, *, department_id: int, recused: set[int]) -> Message | None:
    """Why this person may not investigate the department's part of the case, or None."""
    if not person.active:
        return Message("assign.inactive", {"name": person.display_name})
    if Role.HANDLER not in person.roles:
        return Message("assign.not_handler", {"name": person.display_name})
    if person.department_id != department_id:
        return Message("assign.other_department", {"name": person.display_name})
    if person.id in recused:
        return Message("assign.recused", {"name": person.display_name})
    return None


def unassigned_late(*, routed_at: datetime, assigned_at: datetime | None, report_submitted_at: datetime | None,
                    now: datetime, hours: int) -> bool:
    """Routed more than `hours` ago, nobody assigned yet, and the department has not reported."""
    return assigned_at is None and report_submitted_at is None and routed_at + timedelta(hours=hours) < now


def member_problem(person: Person, *, recused: set[int]) -> Message | None:
    """Why this person may not sit on the case's working group, or None."""
    if not person.active:
        return Message("assign.inactive", {"name": person.display_name})
    if person.department_id is None or not (person.roles & MEMBER_ROLES):
        return Message("group.not_staff", {"name": person.display_name})
    if person.id in recused:
        return Message("assign.recused", {"name": person.display_name})
    return None


def check_group(leader: Person | None, members: list[Person], *, recused: set[int]) -> dict[str, Message]:
    """The problems of a working group, by form field (leader, members); empty when it may be set.
    The leader counts as a member."""
    errors: dict[str, Message] = {}
    if leader is None:
        errors["leader"] = Message("form.choose_one")
    else:
        problem = member_problem(leader, recused=recused)
        if problem:
            errors["leader"] = problem
    for person in members:
        problem = member_problem(person, recused=recused)
        if problem:
            errors["members"] = problem
            break
    everyone = {p.id: p for p in ([leader] if leader else []) + members}
    if len(everyone) > MAX_GROUP:
        errors.setdefault("members", Message("group.too_many", {"max": MAX_GROUP}))
    departments = {p.department_id for p in everyone.values() if p.department_id is not None}
    if "members" not in errors and len(departments) < MIN_GROUP_DEPARTMENTS:
        errors["members"] = Message("group.one_department", {"min": MIN_GROUP_DEPARTMENTS})
    return errors
