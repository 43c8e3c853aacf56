"""Who may take the decision a case waits for (SPEC §3 four eyes; 002 art.13.2-13.7), enforced in the
services and kept on the case: a case whose decision no active user may take is 无可处理人 on the GM
office's page, with the decision and the reason, until an administrator gives the duty to someone."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, or_, select, true, update
from sqlalchemy.orm import Session

from portal.domain import four_eyes
from portal.domain.errors import TransitionNotAllowed
from portal.domain.four_eyes import CONFLICTS, WAITING_DECISION, Decision, Work
from portal.domain.lifecycle import Action, State
from portal.domain.recusal import check_not_named
from portal.domain.roles import Role
from portal.persistence.models import (AuthorityLevel, ComplainedStaff, Complaint, ComplaintDepartment, Department,
                                       Event, User, UserRole)

_WORK_ACTIONS = sorted({a.value for actions in CONFLICTS.values() for a in actions})
# The states in which a department lead's instruction of its analysis may be given (and is awaited).
ANALYSIS_STATES = (State.INVESTIGATING, State.AWAITING_REPORT, State.AWAITING_GM_INSTRUCTION,
                   State.AWAITING_CONSOLIDATION)


def case_history(session: Session, complaint_id: int) -> list[Work]:
    """The earlier acts on the case that can rule a person out of a decision (from the audit trail,
    so cases handled before this rule was enforced are judged by what really happened)."""
    rows = session.execute(select(Event.action, Event.actor_id, Event.changes)
                           .where(Event.complaint_id == complaint_id, Event.action.in_(_WORK_ACTIONS)))
    return [Work(action, actor_id, (changes or {}).get("department")) for action, actor_id, changes in rows]


def check_decision(session: Session, user: User, complaint: Complaint, decision: Decision,
                   department: str | None = None) -> None:
    """Refuse a user named in the complaint, or one whose own work the decision would judge."""
    check_not_named(user.id, [link.user_id for link in complaint.staff_links])
    four_eyes.check_four_eyes(decision, user.id, case_history(session, complaint.id), department)


def gm_level(session: Session) -> str | None:
    """The general manager's level: the highest authority level (the GM instructs reports, 13.2)."""
    return session.scalar(select(AuthorityLevel.key).order_by(AuthorityLevel.rank.desc()).limit(1))


def pending_analysis(complaint: Complaint) -> list[ComplaintDepartment]:
    """Reported analyses whose department's lead must still instruct them (002 art.13.3)."""
    if State(complaint.state) not in ANALYSIS_STATES:
        return []
    return [r for r in complaint.departments
            if r.report_submitted_at is not None and r.lead_instructed_at is None and r.department.lead_instructs]


@dataclass(frozen=True)
class Waiting:
    decision: Decision
    department: str | None      # the department whose lead must instruct (INSTRUCT_ANALYSIS)
    eligible: list[User]
    reason: str | None          # why nobody may: "nobody_holds" the duty, or "all_excluded"


def _needed_level(session: Session, complaint: Complaint, decision: Decision) -> str | None:
    return {Decision.INSTRUCT_REPORT: gm_level(session), Decision.APPROVE: complaint.required_level,
            Decision.FINAL_APPROVE: complaint.final_required_level}.get(decision)


def _candidates(session: Session, decision: Decision, *, level: str | None = None,
                department: str | None = None) -> list[User]:
    """The active users holding the duty a decision needs (before four eyes and recusal)."""
    users = select(User).where(User.active.is_(True))
    def with_role(role: Role):  # noqa: ANN202
        return users.where(exists().where(UserRole.user_id == User.id, UserRole.role_key == role.value))
    if decision is Decision.REVIEW_NEGOTIATION:
        query = with_role(Role.INTAKE_LEAD)
    elif decision is Decision.INSTRUCT_ANALYSIS:
        query = with_role(Role.DEPT_LEAD).join(Department, Department.id == User.department_id).where(
            Department.code == department)
    else:
        ranks = dict(session.execute(select(AuthorityLevel.key, AuthorityLevel.rank)).all())
        levels = [key for key, rank in ranks.items() if rank >= ranks.get(level or "", 0)]
        query = with_role(Role.APPROVER).where(User.approval_level.in_(levels))
    return list(session.scalars(query.order_by(User.id)).unique())


def waiting(session: Session, complaint: Complaint) -> list[Waiting]:
    """Each decision the case now waits for, who may take it, and if nobody, why."""
    wanted: list[tuple[Decision, str | None]] = []
    decision = WAITING_DECISION.get(State(complaint.state))
    if decision is not None:
        wanted.append((decision, None))
    wanted += [(Decision.INSTRUCT_ANALYSIS, r.department.code) for r in pending_analysis(complaint)]
    if not wanted:
        return []
    history = case_history(session, complaint.id)
    named = {link.user_id for link in complaint.staff_links}
    out = []
    for decision, department in wanted:
        candidates = _candidates(session, decision, level=_needed_level(session, complaint, decision),
                                 department=department)
        eligible = [u for u in candidates if u.id not in named
                    and four_eyes.conflicting_work(decision, u.id, history, department) is None]
        reason = None if eligible else ("all_excluded" if candidates else "nobody_holds")
        out.append(Waiting(decision, department, eligible, reason))
    return out


def refresh_stuck(session: Session, complaint: Complaint) -> None:
    """Keep the case's 无可处理人 mark true after a step changed it."""
    stuck = next((w for w in waiting(session, complaint) if not w.eligible), None)
    decision = stuck.decision.value if stuck else None
    reason = stuck.reason if stuck else None
    if (complaint.stuck_decision, complaint.stuck_reason) != (decision, reason):
        complaint.stuck_decision, complaint.stuck_reason = decision, reason


def refresh_all_stuck(session: Session) -> None:
    """After users' duties changed, every case waiting for a person's decision is judged again — in
    SQL, a few statements per group of cases that need the same duty (one level, one department), so
    an administrator's save stays quick at millions of cases. Same precedence as `refresh_stuck`: the
    decision of the case's state first, then a department lead's instruction."""
    session.flush()
    session.execute(update(Complaint).where(Complaint.stuck_decision.is_not(None))
                    .values(stuck_decision=None, stuck_reason=None).execution_options(synchronize_session=False))
    groups: list[tuple[Decision, ColumnElement[bool], list[User]]] = []
    for department in session.scalars(select(Department.code).where(Department.lead_instructs.is_(True))):
        pending = select(ComplaintDepartment.complaint_id).join(Department).where(
            Department.code == department, ComplaintDepartment.report_submitted_at.is_not(None),
            ComplaintDepartment.lead_instructed_at.is_(None))
        groups.append((Decision.INSTRUCT_ANALYSIS,
                       and_(Complaint.state.in_([s.value for s in ANALYSIS_STATES]), Complaint.id.in_(pending)),
                       _candidates(session, Decision.INSTRUCT_ANALYSIS, department=department)))
    for state, decision in WAITING_DECISION.items():
        in_state = Complaint.state == state.value
        if decision in (Decision.APPROVE, Decision.FINAL_APPROVE):
            column = Complaint.required_level if decision is Decision.APPROVE else Complaint.final_required_level
            for level in session.scalars(select(column).where(in_state).distinct()):
                groups.append((decision, and_(in_state, column == level),
                               _candidates(session, decision, level=level)))
        else:
            groups.append((decision, in_state, _candidates(session, decision, level=gm_level(session))))
    for decision, cases, candidates in groups:          # later groups (the state's decision) take precedence
        stuck = (~or_(*[not_excluded(u.id, decision) for u in candidates])) if candidates else true()
        session.execute(update(Complaint).where(cases, stuck).values(
            stuck_decision=decision.value, stuck_reason="all_excluded" if candidates else "nobody_holds")
            .execution_options(synchronize_session=False))
    session.expire_all()


def not_excluded(user_id: int, decision: Decision):  # noqa: ANN201
    """SQL: the case is one `user_id` may decide (not named in it, none of their own work judged). For
    a lead's instruction, any report they wrote on the case is their own department's (a handler
    reports only for their department)."""
    # The person's own acts are few: a NOT IN over them (index `ix_events_actor`) rather than a probe of
    # each case's history, which SQLite's planner may turn into a scan of the whole audit trail.
    actions = [a.value for a in CONFLICTS[decision]]
    named = Complaint.id.not_in(select(ComplainedStaff.complaint_id).where(ComplainedStaff.user_id == user_id))
    own = Complaint.id.not_in(select(Event.complaint_id).where(
        Event.actor_id == user_id, Event.action.in_(actions), Event.complaint_id.is_not(None)))
    return and_(named, own) if actions else named


def is_gm(session: Session, approval_level: str | None) -> bool:
    """Whether an approver of this level is the general manager (who instructs reports, 13.2)."""
    return approval_level is not None and approval_level == gm_level(session)


def gm_level_of(uow, actor) -> bool:  # noqa: ANN001
    """Whether `actor` is an approver at the general manager's level (`is_gm`)."""
    with uow.read() as session:
        return is_gm(session, actor.approval_level)
