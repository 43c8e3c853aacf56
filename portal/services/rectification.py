"""Rectification items (整改, 000 §7; 002 art.11.3(5), 11.3(7)) chased and verified: each has a named owner in a
department, the sub-cause it answers, a deadline and evidence of completion; an overdue open item gets one 催办单
per round; the GM office confirms the effect after `rectification.effect_days` days (effective, or not: the item
reopens for another round, or a new item follows it). A failed quality check's corrective action is an item too
(`kind="corrective"`, see `portal.services.quality`), chased and confirmed the same way."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, func, insert, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from portal.domain import closing, lifecycle
from portal.domain.clocks import Badge
from portal.domain.errors import Message, NotFound, PermissionDenied, TransitionNotAllowed, ValidationFailed
from portal.domain.lifecycle import Action, State
from portal.domain.roles import Role
from portal.domain.validation import text_field
from portal.persistence.database import UnitOfWork
from portal.persistence.models import (CauseClass, Complaint, ComplaintMeeting, Department, Event, Rectification,
                                       Reminder, User, UserRole)
from portal.services import rules, stats_rollup
from portal.services.actors import Actor, fresh_actor
from portal.services.audit import record_event
from portal.services.steps import case_step

RECTIFICATION_STATUSES = ("open", "in_progress", "done")
MOVABLE_STATUSES = ("open", "in_progress")       # "done" only with evidence (`complete_rectification`)
KINDS = ("rectification", "corrective")
OWNER_ROLES = (Role.HANDLER.value, Role.DEPT_LEAD.value)
TEXT_LIMIT = 4000


# -- validation shared with the quality check's corrective action --

def deadline_field(errors: dict[str, Message], name: str, deadline: object, now: datetime) -> date | None:
    if deadline is None:
        errors[name] = Message("form.required")
    elif not isinstance(deadline, date) or isinstance(deadline, datetime):
        errors[name] = Message("form.bad_value")
    elif deadline > now.date() + timedelta(days=3660):
        errors[name] = Message("rectification.far_deadline")
    elif deadline < now.date():
        errors[name] = Message("rectification.past_deadline")
    else:
        return deadline
    return None


def active_subcauses(session: Session) -> list[str]:
    parent = aliased(CauseClass)
    return list(session.scalars(
        select(CauseClass.code).join(parent, parent.code == CauseClass.parent_code)
        .where(CauseClass.parent_code.is_not(None), CauseClass.active.is_(True), parent.active.is_(True))))


def cause_field(errors: dict[str, Message], session: Session, name: str, code: object) -> str | None:
    if code is None or code == "":
        errors[name] = Message("form.required")
        return None
    if not isinstance(code, str) or not closing.valid_cause(code, active_subcauses(session)):
        errors[name] = Message("rectification.bad_cause")
        return None
    return code


def owner_field(errors: dict[str, Message], session: Session, name: str, owner_id: object,
                department_id: int | None) -> User | None:
    """A named person: active, a handler or a department lead, in the owner department (when one is given)."""
    if owner_id is None:
        errors[name] = Message("form.required")
        return None
    owner = session.get(User, owner_id) if isinstance(owner_id, int) and not isinstance(owner_id, bool) else None
    if owner is None or not owner.active or not set(owner.role_keys) & set(OWNER_ROLES) \
            or owner.department_id is None:
        errors[name] = Message("rectification.bad_owner")
        return None
    if department_id is not None and owner.department_id != department_id:
        errors[name] = Message("rectification.owner_elsewhere")
        return None
    return owner


def new_item(session: Session, *, complaint_id: int, cause: str, cause_code: str | None, description: str,
             owner: User, deadline: date, now: datetime, created_by_id: int, kind: str = "rectification",
             meeting_id: int | None = None, quality_check_id: int | None = None,
             follows_id: int | None = None) -> Rectification:
    item = Rectification(complaint_id=complaint_id, cause=cause, cause_code=cause_code, description=description,
                         owner_department_id=owner.department_id, owner_id=owner.id, deadline=deadline,
                         status="open", created_at=now, kind=kind, evidence="", round=1, effect_reason="",
                         created_by_id=created_by_id, meeting_id=meeting_id, quality_check_id=quality_check_id,
                         follows_id=follows_id)
    session.add(item)
    session.flush()
    return item


# -- the GM office opens an item --

def add_rectification(uow: UnitOfWork, *, actor: Actor, complaint_id: int, cause: str, description: str,
                      deadline: date | None, now: datetime, cause_code: str | None = None,
                      owner_id: int | None = None, owner_department: str | None = None,
                      meeting_id: int | None = None, kind: str = "rectification") -> int:
    """The GM office opens an item on a case: what to do, the sub-cause it answers (`cause_code`, an active
    second-level cause) and the cause in words, the named owner (`owner_id`, a handler or department lead; their
    department owns the item, and must be `owner_department` when that is given), the deadline. `meeting_id`:
    the 客户投诉立会 that decided it. Corrective actions (`kind="corrective"`) come from a failed quality check
    only (`quality.record_quality_check`)."""
    errors: dict[str, Message] = {}
    cause = text_field(errors, "cause", cause, limit=TEXT_LIMIT)
    description = text_field(errors, "description", description, limit=TEXT_LIMIT)
    deadline = deadline_field(errors, "deadline", deadline, now)
    if kind != "rectification":
        errors["kind"] = Message("rectification.corrective_from_check")
    with case_step(uow, actor, complaint_id, Action.ADD_RECTIFICATION, None, appends=True) as (
            session, user, complaint, source):
        department_id = None
        if owner_department is not None:
            department_id = session.scalar(select(Department.id).where(Department.code == owner_department)) \
                if isinstance(owner_department, str) else None
            if department_id is None:
                errors["owner_department"] = Message("form.unknown_choice")
        cause_code = cause_field(errors, session, "cause_code", cause_code)
        owner = owner_field(errors, session, "owner", owner_id, department_id)
        if meeting_id is not None and (not isinstance(meeting_id, int)
                                       or session.get(ComplaintMeeting, meeting_id) is None):
            errors["meeting"] = Message("rectification.no_meeting")
        if errors:
            raise ValidationFailed(errors)
        item = new_item(session, complaint_id=complaint.id, cause=cause, cause_code=cause_code,
                        description=description, owner=owner, deadline=deadline, now=now, created_by_id=user.id,
                        meeting_id=meeting_id)
        record_event(session, actor=user, at=now, action=Action.ADD_RECTIFICATION.value, complaint_id=complaint.id,
                     from_state=source.value, to_state=complaint.state, comment=description,
                     changes={"item": item.id, "cause": cause, "cause_code": cause_code, "owner": owner.username,
                              "department": owner.department.code, "deadline": deadline, "meeting": meeting_id})
        return item.id


# -- the owner moves it along and completes it --

def _item_for_owner(session: Session, actor: Actor, user: User, rectification_id: int
                    ) -> tuple[Rectification, Complaint, State]:
    item = session.get(Rectification, rectification_id, with_for_update=True)
    if item is None:
        raise NotFound("rectification.not_found")
    complaint = session.get(Complaint, item.complaint_id)
    source = State(complaint.state)
    lifecycle.authorize(Action.UPDATE_RECTIFICATION, source, actor.roles)
    if not actor.has(Role.GM_OFFICE):
        own = item.owner_id == user.id if item.owner_id is not None \
            else item.owner_department_id == user.department_id        # items from before named owners
        if not own:
            raise PermissionDenied("rectification.not_owner")
    return item, complaint, source


def set_rectification_status(uow: UnitOfWork, *, actor: Actor, rectification_id: int, status: str,
                             now: datetime) -> None:
    """The owner (or the GM office) marks an item in progress (or back to open); completing it needs
    evidence (`complete_rectification`)."""
    if status == "done":
        raise ValidationFailed({"status": Message("rectification.complete_with_evidence")})
    if status not in MOVABLE_STATUSES:
        raise ValidationFailed({"status": Message("form.unknown_choice")})
    with uow.write() as session:
        user = fresh_actor(session, actor)
        item, complaint, source = _item_for_owner(session, actor, user, rectification_id)
        if item.status == "done":
            raise TransitionNotAllowed("rectification.already_done")
        before = item.status
        item.status = status
        record_event(session, actor=user, at=now, action=Action.UPDATE_RECTIFICATION.value,
                     complaint_id=complaint.id, from_state=source.value, to_state=source.value,
                     changes={"item": item.id, "before": before, "after": status})


def complete_rectification(uow: UnitOfWork, *, actor: Actor, rectification_id: int, evidence: str,
                           now: datetime) -> date:
    """The owner (or the GM office) records the item done with its evidence; returns the day from which the GM
    office confirms its effect (`rectification.effect_days` after completion)."""
    errors: dict[str, Message] = {}
    evidence = text_field(errors, "evidence", evidence, limit=TEXT_LIMIT)
    with uow.write() as session:
        user = fresh_actor(session, actor)
        item, complaint, source = _item_for_owner(session, actor, user, rectification_id)
        if item.status == "done":
            raise TransitionNotAllowed("rectification.already_done")
        if errors:
            raise ValidationFailed(errors)
        days = int(rules.settings(session).get("rectification.effect_days", "30"))
        before = item.status
        item.status, item.done_at, item.evidence = "done", now, evidence
        item.effect_due_on = closing.effect_due_on(now, days)
        record_event(session, actor=user, at=now, action=Action.UPDATE_RECTIFICATION.value,
                     complaint_id=complaint.id, from_state=source.value, to_state=source.value, comment=evidence,
                     changes={"item": item.id, "before": before, "after": "done", "round": item.round,
                              "effect_due_on": item.effect_due_on})
        return item.effect_due_on


# -- the GM office confirms the effect (效果确认) --

def confirm_effect(uow: UnitOfWork, *, actor: Actor, rectification_id: int, result: str | None, now: datetime,
                   reason: str = "", after: str | None = None, new_deadline: date | None = None,
                   new_owner_id: int | None = None, new_description: str = "") -> int:
    """The GM office confirms a done item's effect, on or after its `effect_due_on` — an earlier confirmation is
    refused (`rectification.effect_not_due`, naming the day): the period exists to see whether the fix held.

    `result` effective, or not_effective with a `reason` and `after` (`closing.AfterNotEffective`):
    REOPEN sends the same item back to its owner (open, round + 1, `new_deadline` required; the effect fields are
    cleared, the not-effective confirmation stays in the event history), FOLLOW keeps the item done with its
    result and opens a new item following it (`new_owner_id`, `new_deadline`, `new_description` required).
    Returns the item's id (effective, reopened) or the new item's (follow)."""
    errors: dict[str, Message] = {}
    if result not in (closing.Effect.EFFECTIVE.value, closing.Effect.NOT_EFFECTIVE.value):
        errors["result"] = Message("form.required" if result is None else "form.unknown_choice")
    not_effective = result == closing.Effect.NOT_EFFECTIVE.value
    if not_effective:
        reason = text_field(errors, "reason", reason, limit=TEXT_LIMIT)
        if after not in (closing.AfterNotEffective.REOPEN.value, closing.AfterNotEffective.FOLLOW.value):
            errors["after"] = Message("form.required" if after is None else "form.unknown_choice")
        if after in (closing.AfterNotEffective.REOPEN.value, closing.AfterNotEffective.FOLLOW.value):
            new_deadline = deadline_field(errors, "new_deadline", new_deadline, now)
        if after == closing.AfterNotEffective.FOLLOW.value:
            new_description = text_field(errors, "new_description", new_description, limit=TEXT_LIMIT)
    with uow.write() as session:
        user = fresh_actor(session, actor, Role.GM_OFFICE)
        item = session.get(Rectification, rectification_id, with_for_update=True)
        if item is None:
            raise NotFound("rectification.not_found")
        complaint = session.get(Complaint, item.complaint_id)
        source = State(complaint.state)
        lifecycle.authorize(Action.CONFIRM_EFFECT, source, actor.roles)
        if item.status != "done" or item.effect_result is not None:
            raise TransitionNotAllowed("rectification.not_awaiting_effect")
        if item.effect_due_on is not None and now.date() < item.effect_due_on:
            raise TransitionNotAllowed("rectification.effect_not_due", day=item.effect_due_on.isoformat())
        new_owner = None
        if not_effective and after == closing.AfterNotEffective.FOLLOW.value:
            new_owner = owner_field(errors, session, "new_owner", new_owner_id, None)
        if errors:
            raise ValidationFailed(errors)
        changes = {"item": item.id, "round": item.round, "result": result, "evidence": item.evidence}
        outcome = item.id
        if not not_effective:
            item.effect_result, item.effect_confirmed_at, item.effect_confirmed_by_id = result, now, user.id
        elif after == closing.AfterNotEffective.REOPEN.value:
            changes.update(after=after, reason=reason, deadline=new_deadline, done_at=item.done_at)
            item.status, item.round, item.deadline = "open", item.round + 1, new_deadline
            item.done_at = item.effect_due_on = item.effect_result = item.effect_confirmed_at = None
            item.effect_confirmed_by_id = None
            item.effect_reason, item.evidence = "", ""
        else:
            item.effect_result, item.effect_reason = result, reason
            item.effect_confirmed_at, item.effect_confirmed_by_id = now, user.id
            follower = new_item(session, complaint_id=item.complaint_id, cause=item.cause, cause_code=item.cause_code,
                                description=new_description, owner=new_owner, deadline=new_deadline, now=now,
                                created_by_id=user.id, kind=item.kind, meeting_id=item.meeting_id,
                                quality_check_id=item.quality_check_id, follows_id=item.id)
            outcome = follower.id
            changes.update(after=after, reason=reason, follower=follower.id, owner=new_owner.username,
                           deadline=new_deadline)
        record_event(session, actor=user, at=now, action=Action.CONFIRM_EFFECT.value, complaint_id=complaint.id,
                     from_state=source.value, to_state=source.value, comment=reason, changes=changes)
        return outcome


# -- the sweep: one 催办单 per overdue item and round --

def issue_rectification_reminders(uow: UnitOfWork, *, now: datetime) -> int:
    """A 催办单 to the owner department of each open item past its deadline (due by the end of the deadline
    day): one per item and round (`closing.reminder_key`), so a second sweep issues nothing and a reopened
    item that runs late again is chased again. Returns how many were issued."""
    with uow.write() as session:
        rows = session.execute(select(Rectification.id, Rectification.round, Rectification.complaint_id,
                                      Rectification.owner_department_id, Rectification.deadline)
                               .where(Rectification.deadline < now.date(), Rectification.status != "done")).all()
        wanted = [dict(complaint_id=c, department_id=d, clock_key=closing.reminder_key(i, r), kind="reminder",
                       issued_at=now, due_at=closing.deadline_end(deadline), answer="", content="")
                  for i, r, c, d, deadline in rows]
        if not wanted:
            return 0
        issued = set(session.execute(select(Reminder.complaint_id, Reminder.clock_key).where(     # by case: an index
            Reminder.complaint_id.in_({w["complaint_id"] for w in wanted}), Reminder.kind == "reminder",
            Reminder.clock_key.in_([w["clock_key"] for w in wanted]))).all())
        wanted = [w for w in wanted if (w["complaint_id"], w["clock_key"]) not in issued]
        if not wanted:
            return 0
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        table = Reminder.__table__
        statement = (dialect.insert(table)
                     .on_conflict_do_nothing(index_elements=["complaint_id", "department_id", "clock_key", "kind"])
                     .returning(table.c.complaint_id, table.c.department_id, table.c.clock_key))
        connection = session.connection()
        inserted = connection.execute(statement, wanted).all()
        names = dict(session.execute(select(Department.id, Department.code)).all())
        events = [dict(complaint_id=c, actor_id=None, actor_label="system", at=now, action="reminder.issue",
                       from_state=None, to_state=None, comment=f"{names[d]}:{k}",
                       changes={"department": names[d], "clock": k}) for c, d, k in inserted]
        if events:
            connection.execute(insert(Event.__table__), events)
        if inserted:                      # the statistics count reminders on the day they were issued
            stats_rollup.mark_days(connection, [now.date()])
        return len(inserted)


# -- lists --

@dataclass(frozen=True)
class RectificationView:
    id: int
    complaint_id: int
    number: str | None
    cause: str
    description: str
    owner: str                      # the owner department's code
    deadline: date
    status: str
    owner_name: str = ""
    cause_code: str | None = None
    kind: str = "rectification"
    created_at: datetime | None = None
    done_at: datetime | None = None
    evidence: str = ""
    round: int = 1
    effect_due_on: date | None = None
    effect_result: str | None = None
    effect_reason: str = ""
    follows_id: int | None = None
    owner_id: int | None = None

    def badge(self, now: datetime, due_soon_fraction: float) -> Badge:
        return closing.rectification_badge(self.created_at or now, self.deadline, self.done_at, now,
                                           due_soon_fraction)


LISTS = ("case", "mine", "department", "open", "effect_due")


def _conditions(actor: Actor, which: str, complaint_id: int | None, now: datetime | None) -> list:
    if which not in LISTS:
        raise ValueError(which)
    conditions = []
    if which == "case":
        conditions.append(Rectification.complaint_id == complaint_id)
    elif which == "mine":
        conditions += [Rectification.owner_id == actor.id, Rectification.status != "done"]
    elif which == "department":
        conditions += [Rectification.owner_department_id == actor.department_id, Rectification.status != "done"]
    elif which == "open":
        conditions.append(Rectification.status != "done")
    else:                                                  # done, effect not confirmed, due by today
        conditions += [Rectification.effect_result.is_(None), Rectification.status == "done",
                       Rectification.effect_due_on <= (now or datetime.min).date()]
    if actor.has(Role.GM_OFFICE, Role.MANAGER):
        return conditions
    if which in ("open", "effect_due"):
        raise PermissionDenied("auth.missing_role")
    if not actor.has(Role.HANDLER):
        raise PermissionDenied("auth.missing_role")
    if which == "case":
        conditions.append(Rectification.owner_department_id == actor.department_id)
    return conditions


def _order(which: str) -> tuple:
    if which == "effect_due":
        return (Rectification.effect_due_on, Rectification.id)
    if which == "case":
        return (Rectification.id,)
    return (Rectification.deadline, Rectification.id)     # overdue first: the earliest deadline leads


def list_items(uow: UnitOfWork, *, actor: Actor, which: str, complaint_id: int | None = None,
               now: datetime | None = None, limit: int | None = None, offset: int = 0) -> list[RectificationView]:
    """`which`: case (a case's items: the GM office and managers all, a handler their department's), mine (the
    open items the actor owns), department (their department's open items), open (every open item, GM office /
    managers), effect_due (done items whose effect confirmation is due at `now`, due first)."""
    conditions = _conditions(actor, which, complaint_id, now)
    query = (select(Rectification, Complaint.number, Department.code, User.display_name)
             .join(Complaint, Complaint.id == Rectification.complaint_id)
             .join(Department, Department.id == Rectification.owner_department_id)
             .outerjoin(User, User.id == Rectification.owner_id)
             .where(*conditions).order_by(*_order(which)).limit(limit).offset(offset))
    with uow.read() as session:
        return [RectificationView(r.id, r.complaint_id, number, r.cause, r.description, code, r.deadline, r.status,
                                  owner_name or "", r.cause_code, r.kind, r.created_at, r.done_at, r.evidence or "",
                                  r.round or 1, r.effect_due_on, r.effect_result, r.effect_reason or "",
                                  r.follows_id, r.owner_id)
                for r, number, code, owner_name in session.execute(query)]


def count_items(uow: UnitOfWork, *, actor: Actor, which: str, complaint_id: int | None = None,
                now: datetime | None = None) -> int:
    conditions = _conditions(actor, which, complaint_id, now)
    with uow.read() as session:
        return int(session.scalar(select(func.count()).select_from(Rectification).where(*conditions)))


def count_overdue_mine(uow: UnitOfWork, *, actor: Actor, now: datetime) -> int:
    with uow.read() as session:
        return int(session.scalar(select(func.count()).select_from(Rectification).where(
            Rectification.owner_id == actor.id, Rectification.status != "done",
            Rectification.deadline < now.date())))


def list_rectifications(uow: UnitOfWork, *, actor: Actor, complaint_id: int | None = None,
                        open_only: bool = False, limit: int | None = None) -> list[RectificationView]:
    """The older list: the GM office sees every item, a handler their department's; earliest deadline first."""
    conditions = []
    if complaint_id is not None:
        conditions.append(Rectification.complaint_id == complaint_id)
    if open_only:
        conditions.append(Rectification.status != "done")
    if not actor.has(Role.GM_OFFICE, Role.MANAGER):
        if not actor.has(Role.HANDLER):
            raise PermissionDenied("auth.missing_role")
        conditions.append(Rectification.owner_department_id == actor.department_id)
    query = (select(Rectification, Complaint.number, Department.code, User.display_name)
             .join(Complaint, Complaint.id == Rectification.complaint_id)
             .join(Department, Department.id == Rectification.owner_department_id)
             .outerjoin(User, User.id == Rectification.owner_id)
             .where(*conditions).order_by(Rectification.deadline, Rectification.id).limit(limit))
    with uow.read() as session:
        return [RectificationView(r.id, r.complaint_id, number, r.cause, r.description, code, r.deadline, r.status,
                                  owner_name or "", r.cause_code, r.kind, r.created_at, r.done_at, r.evidence or "",
                                  r.round or 1, r.effect_due_on, r.effect_result, r.effect_reason or "",
                                  r.follows_id, r.owner_id)
                for r, number, code, owner_name in session.execute(query)]


def count_rectifications(uow: UnitOfWork, *, actor: Actor, open_only: bool = False) -> int:
    conditions = [Rectification.status != "done"] if open_only else []
    if not actor.has(Role.GM_OFFICE, Role.MANAGER):
        if not actor.has(Role.HANDLER):
            raise PermissionDenied("auth.missing_role")
        conditions.append(Rectification.owner_department_id == actor.department_id)
    with uow.read() as session:
        return int(session.scalar(select(func.count()).select_from(Rectification).where(*conditions)))


# -- choices for the forms --

@dataclass(frozen=True)
class OwnerChoice:
    id: int
    name: str
    department: str


def owner_choices(uow: UnitOfWork) -> list[OwnerChoice]:
    """Who may own an item: active handlers and department leads, by department then name."""
    with uow.read() as session:
        rows = session.execute(
            select(User.id, User.display_name, Department.code).join(Department, Department.id == User.department_id)
            .where(User.active.is_(True), User.id.in_(select(UserRole.user_id)
                                                      .where(UserRole.role_key.in_(OWNER_ROLES))))
            .order_by(Department.code, User.display_name)).all()
    return [OwnerChoice(i, n, d) for i, n, d in rows]


@dataclass(frozen=True)
class CauseChoice:
    code: str
    parent: str
    name_zh: str
    name_en: str
    parent_zh: str
    parent_en: str


def cause_choices(uow: UnitOfWork) -> list[CauseChoice]:
    """The active sub-causes with their class, in the taxonomy's order."""
    parent = aliased(CauseClass)
    with uow.read() as session:
        rows = session.execute(
            select(CauseClass.code, parent.code, CauseClass.name_zh, CauseClass.name_en, parent.name_zh,
                   parent.name_en).join(parent, parent.code == CauseClass.parent_code)
            .where(CauseClass.active.is_(True), parent.active.is_(True))
            .order_by(parent.sort, CauseClass.sort, CauseClass.code)).all()
    return [CauseChoice(*row) for row in rows]


def cause_names(uow: UnitOfWork) -> dict[str, tuple[str, str]]:
    """Every cause code (inactive too: old items keep theirs) → (中文, English) as "class / sub-cause"."""
    parent = aliased(CauseClass)
    with uow.read() as session:
        rows = session.execute(select(CauseClass.code, CauseClass.name_zh, CauseClass.name_en, parent.name_zh,
                                      parent.name_en).outerjoin(parent, parent.code == CauseClass.parent_code))
        return {code: (f"{pz} / {z}" if pz else z, f"{pe} / {e}" if pe else e) for code, z, e, pz, pe in rows}


# -- KPIs (the statistics page reads them) --

def rectification_kpis(session: Session, period_first: date, period_last: date) -> dict[str, int]:
    """due: items whose deadline falls in the period; done_on_time: of those, done by the end of the deadline
    day; confirmed: effect confirmations made in the period; effective: of those, effective. (A reopened
    item's not-effective confirmation is in its event history, not its columns: it counts from there.)"""
    start, end = datetime.combine(period_first, datetime.min.time()), \
        datetime.combine(period_last + timedelta(days=1), datetime.min.time())
    deadlines = select(func.count().label("due"), func.sum(case(
        (and_(Rectification.status == "done", Rectification.done_at.is_not(None),
              func.date(Rectification.done_at) <= Rectification.deadline), 1), else_=0)).label("on_time")).where(
        Rectification.deadline.between(period_first, period_last)).subquery()
    effects = select(func.count().label("confirmed"), func.sum(case(
        (Rectification.effect_result == closing.Effect.EFFECTIVE.value, 1), else_=0)).label("effective")).where(
        Rectification.effect_confirmed_at >= start, Rectification.effect_confirmed_at < end).subquery()
    reopened = select(func.count()).select_from(Event).where(
        Event.action == Action.CONFIRM_EFFECT.value, Event.at >= start, Event.at < end,
        Event.changes["after"].as_string() == closing.AfterNotEffective.REOPEN.value).scalar_subquery()
    due, on_time, confirmed, effective, reopened = session.execute(       # one statement, each part its own range
        select(deadlines.c.due, deadlines.c.on_time, effects.c.confirmed, effects.c.effective, reopened)
        .select_from(deadlines.join(effects, true()))).one()
    return {"due": int(due or 0), "done_on_time": int(on_time or 0), "confirmed": int(confirmed or 0) + int(reopened or 0),
            "effective": int(effective or 0)}


def badge_fraction(uow: UnitOfWork) -> float:
    """The share of an item's span shown as 临期 (the clocks' `badge.due_soon_fraction`)."""
    with uow.read() as session:
        from portal.persistence.models import Setting
        value = session.scalar(select(Setting.value).where(Setting.key == "badge.due_soon_fraction"))
    return float(value) if value else 0.2
