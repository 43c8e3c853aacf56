"""运营部's quality check of a closed case's handling (客户投诉质量的检验确认, 002 art.11.2(3)): a configurable
checklist answered by a handler of 运营部 who took no part in the case's reports, negotiation or closure (four
eyes). A failed check leaves the closed case as it is (state, closure, clocks, compiled months) and records a
corrective action, chased like a rectification item; the case is archived only once that is done."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from portal.domain.errors import Message, PermissionDenied, TransitionNotAllowed, ValidationFailed
from portal.domain.lifecycle import Action, State
from portal.domain.roles import Role
from portal.domain.validation import text_field
from portal.persistence.database import UnitOfWork
from portal.persistence.models import Complaint, Event, QualityCheck, QualityChecklistItem, Rectification, User
from portal.services.actors import Actor
from portal.services.audit import record_event
from portal.services.rectification import deadline_field, new_item, owner_field
from portal.services.steps import case_step

QUALITY_DEPARTMENT = "operations"       # 运营部 checks the handling (002 art.11.2(3))


def quality_facts(session, complaint_id: int) -> tuple[bool, int]:
    """(quality_checked, corrective_open) for `domain.closing.ArchiveFacts`: a check is on record (passed or
    failed), and how many corrective actions of the case's failed checks are not done yet."""
    checked = session.scalar(select(QualityCheck.id).where(QualityCheck.complaint_id == complaint_id).limit(1))
    open_corrective = session.scalar(
        select(func.count()).select_from(Rectification)
        .where(Rectification.complaint_id == complaint_id, Rectification.kind == "corrective",
               Rectification.status != "done"))
    return checked is not None, int(open_corrective or 0)


# -- the checklist and the check --

@dataclass(frozen=True)
class ChecklistItem:
    code: str
    text_zh: str
    text_en: str


def checklist(uow: UnitOfWork) -> list[ChecklistItem]:
    """The active checklist items in their order (the administrator edits them)."""
    with uow.read() as session:
        return [ChecklistItem(c, z, e) for c, z, e in session.execute(
            select(QualityChecklistItem.code, QualityChecklistItem.text_zh, QualityChecklistItem.text_en)
            .where(QualityChecklistItem.active.is_(True))
            .order_by(QualityChecklistItem.sort, QualityChecklistItem.code))]


@dataclass(frozen=True)
class CorrectiveAction:
    """What a failed check asks to be put right: chased like a rectification item (`kind="corrective"`)."""
    description: str
    owner_id: int | None
    deadline: date | None


# Whoever did one of these on the case does not check its handling (four eyes).
OWN_WORK = (Action.SUBMIT_REPORT.value, Action.RECORD_NEGOTIATION.value, Action.CONSOLIDATE.value,
            Action.CLOSE.value)


def own_work(session: Session, complaint_id: int, user_id: int) -> str | None:
    """The first act of `user_id` on the case that rules them out of checking it, or None."""
    return session.scalar(select(Event.action).where(Event.actor_id == user_id, Event.complaint_id == complaint_id,
                                                     Event.action.in_(OWN_WORK)).limit(1))


def record_quality_check(uow: UnitOfWork, *, actor: Actor, complaint_id: int, answers: dict[str, bool], note: str,
                         now: datetime, corrective: CorrectiveAction | None = None) -> int:
    """运营部's check of a closed case: every active checklist item answered met / not met; passed when all are
    met. A failed check records its corrective action (description, owner, deadline; required) as a
    rectification item of kind "corrective"; neither outcome changes the case (its state, closure, clocks or
    compiled months). Only a handler of 运营部 who wrote no department report on the case, recorded no
    negotiation, consolidated nothing and did not close it may check it.

    One check per case, except that a failed check may be followed by a new one once all of its corrective
    actions are done (the re-check confirms the handling was put right); a passed check is final.
    Returns the check's id."""
    errors: dict[str, Message] = {}
    note = text_field(errors, "note", note, required=False, limit=4000)
    if not isinstance(answers, dict) or not all(isinstance(k, str) and isinstance(v, bool)
                                                for k, v in answers.items()):
        errors["answers"] = Message("form.bad_value")
        answers = {}
    with case_step(uow, actor, complaint_id, Action.QUALITY_CHECK, None, appends=True) as (
            session, user, complaint, source):
        if user.department is None or user.department.code != QUALITY_DEPARTMENT \
                or Role.HANDLER.value not in user.role_keys:
            raise PermissionDenied("quality.not_operations")
        own = own_work(session, complaint.id, user.id)
        if own is not None:
            raise TransitionNotAllowed("quality.own_work", action=own)
        previous = session.scalar(select(QualityCheck).where(QualityCheck.complaint_id == complaint.id)
                                  .order_by(QualityCheck.id.desc()).limit(1))
        if previous is not None:
            if previous.passed:
                raise TransitionNotAllowed("quality.already_checked")
            if quality_facts(session, complaint.id)[1]:
                raise TransitionNotAllowed("quality.corrective_open")
        codes = list(session.scalars(select(QualityChecklistItem.code).where(QualityChecklistItem.active.is_(True))
                                     .order_by(QualityChecklistItem.sort, QualityChecklistItem.code)))
        if "answers" not in errors:
            missing = [c for c in codes if c not in answers]
            if missing or set(answers) - set(codes):
                errors["answers"] = Message("quality.answer_every_item")
        passed = not errors and all(answers[c] for c in codes)
        owner = None
        if not errors and not passed:
            if corrective is None:
                errors["corrective"] = Message("quality.corrective_required")
            else:
                corrective_text = text_field(errors, "corrective_description", corrective.description, limit=4000)
                deadline = deadline_field(errors, "corrective_deadline", corrective.deadline, now)
                owner = owner_field(errors, session, "corrective_owner", corrective.owner_id, None)
        if errors:
            raise ValidationFailed(errors)
        check = QualityCheck(complaint_id=complaint.id, checked_at=now, checked_by_id=user.id, passed=passed,
                             answers={c: answers[c] for c in codes}, note=note)
        session.add(check)
        session.flush()
        changes = {"check": check.id, "passed": passed, "answers": check.answers}
        if not passed:
            item = new_item(session, complaint_id=complaint.id, cause=note or corrective_text, cause_code=None,
                            description=corrective_text, owner=owner, deadline=deadline, now=now,
                            created_by_id=user.id, kind="corrective", quality_check_id=check.id)
            changes.update(corrective=item.id, owner=owner.username, deadline=deadline)
        record_event(session, actor=user, at=now, action=Action.QUALITY_CHECK.value, complaint_id=complaint.id,
                     from_state=source.value, to_state=source.value, comment=note, changes=changes)
        return check.id


@dataclass(frozen=True)
class QualityCheckView:
    id: int
    checked_at: datetime
    checker: str
    passed: bool
    answers: dict[str, bool]
    note: str


def case_checks(uow: UnitOfWork, *, complaint_id: int) -> list[QualityCheckView]:
    with uow.read() as session:
        return [QualityCheckView(q.id, q.checked_at, name, q.passed, dict(q.answers or {}), q.note or "")
                for q, name in session.execute(
                    select(QualityCheck, User.display_name).join(User, User.id == QualityCheck.checked_by_id)
                    .where(QualityCheck.complaint_id == complaint_id).order_by(QualityCheck.id))]


# -- 运营部's queue --

@dataclass(frozen=True)
class QueueRow:
    complaint_id: int
    number: str | None
    closed_at: datetime | None


def _waiting():  # noqa: ANN202
    return (Complaint.state == State.CLOSED.value,
            ~exists().where(QualityCheck.complaint_id == Complaint.id))


def _may_see_queue(actor: Actor) -> None:
    if not (actor.has(Role.HANDLER) and actor.department_code == QUALITY_DEPARTMENT) \
            and not actor.has(Role.GM_OFFICE, Role.MANAGER):
        raise PermissionDenied("auth.missing_role")


def waiting_cases(uow: UnitOfWork, *, actor: Actor, limit: int = 50, offset: int = 0) -> list[QueueRow]:
    """Closed cases with no quality check yet, the oldest closure first, a page at a time."""
    _may_see_queue(actor)
    with uow.read() as session:
        return [QueueRow(*row) for row in session.execute(
            select(Complaint.id, Complaint.number, Complaint.closed_at).where(*_waiting())
            .order_by(Complaint.closed_at, Complaint.id).limit(limit).offset(offset))]


COUNT_CAP = 1000     # the queue's count stops here (pages say "1000+"): a million closed cases stay cheap


def count_waiting(uow: UnitOfWork, *, actor: Actor) -> int:
    """How many closed cases wait for a check, counted up to `COUNT_CAP` + 1 (more reads as "over the cap")."""
    _may_see_queue(actor)
    with uow.read() as session:
        capped = select(Complaint.id).where(*_waiting()).limit(COUNT_CAP + 1).subquery()
        return int(session.scalar(select(func.count()).select_from(capped)))
