"""After closure (issue 18; 001 总结; 004 §5.1.5, §5.3.2): causes chosen from the taxonomy, the remedy agreed
with the customer recorded as carried out, and the GM office's 总结 that archives a closed case once nothing
stands before it (`domain.closing.archive_blockers`)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import false, func, select, true
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.attributes import flag_modified

from portal.domain.closing import ArchiveBlocker, ArchiveFacts, archive_blockers, remedy_agreed, valid_cause
from portal.domain.errors import Message, PermissionDenied, TransitionNotAllowed, ValidationFailed
from portal.domain.lifecycle import Action, State
from portal.domain.roles import Role
from portal.domain.validation import amount_field, text_field
from portal.persistence.database import UnitOfWork
from portal.persistence.models import (CauseClass, Complaint, FollowUp, FollowUpAction, FollowUpSchedule,
                                       QualityCheck, Rectification)
from portal.services import archive_readiness
from portal.services.actors import Actor
from portal.services.audit import record_event
from portal.services.follow_ups import (act_on_follow_up, count_department_follow_ups,  # noqa: F401 (named here too:
                                        department_follow_ups, schedule_follow_up)      # the loop's use cases)
from portal.services.steps import case_step

TEXT_LIMIT = 4000
ARCHIVE_PAGE = 50


# -- causes: a two-level taxonomy (人员 / 流程 / 产品 / 系统 / 外部 and their sub-causes) --

@dataclass(frozen=True)
class CauseChoice:
    code: str              # `class.sub`
    parent_code: str
    label_zh: str          # 人员 / 服务态度
    label_en: str

    def label(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label_zh


def _active_choices(session: Session) -> list[CauseChoice]:
    parent = aliased(CauseClass)
    rows = session.execute(
        select(CauseClass.code, parent.code, parent.name_zh, CauseClass.name_zh, parent.name_en, CauseClass.name_en)
        .join(parent, parent.code == CauseClass.parent_code)
        .where(CauseClass.active.is_(True), parent.active.is_(True))
        .order_by(parent.sort, CauseClass.sort, CauseClass.code)).all()
    return [CauseChoice(code, parent_code, f"{pzh} / {zh}", f"{pen} / {en}")
            for code, parent_code, pzh, zh, pen, en in rows]


def cause_choices(uow: UnitOfWork) -> list[CauseChoice]:
    """The active sub-causes (under an active class), in the taxonomy's order, labelled in both languages."""
    with uow.read() as session:
        return _active_choices(session)


def cause_labels(uow: UnitOfWork) -> dict[str, tuple[str, str]]:
    """Every sub-cause's labels (zh, en), active or not: what a case recorded stays readable."""
    parent = aliased(CauseClass)
    with uow.read() as session:
        return {code: (f"{pzh} / {zh}", f"{pen} / {en}") for code, pzh, zh, pen, en in session.execute(
            select(CauseClass.code, parent.name_zh, CauseClass.name_zh, parent.name_en, CauseClass.name_en)
            .join(parent, parent.code == CauseClass.parent_code))}


def check_cause(session: Session, errors: dict[str, Message], name: str, code: object) -> None:
    """A required cause: an active sub-cause of the taxonomy (`domain.closing.valid_cause`)."""
    if code is None or code == "":
        errors[name] = Message("form.choose_one")
    elif not isinstance(code, str) or not valid_cause(code, [c.code for c in _active_choices(session)]):
        errors[name] = Message("cause.invalid")


# -- the remedy carried out (004 §5.1.5) --

def record_remedy(uow: UnitOfWork, *, actor: Actor, complaint_id: int, paid_on: date | None, amount: object,
                  reference: str, note: str = "", expected_version: int, now: datetime) -> None:
    """The payment agreed with the customer as made: the day, the amount, its reference (市场部 or the GM
    office, on a closed case that agreed one)."""
    errors: dict[str, Message] = {}
    reference = text_field(errors, "remedy_reference", reference, limit=100, multiline=False)
    note = text_field(errors, "remedy_note", note, required=False, limit=TEXT_LIMIT)
    value = amount_field(errors, "remedy_amount", amount)
    if "remedy_amount" not in errors:
        if value is None:
            errors["remedy_amount"] = Message("form.required")
        elif value <= 0:
            errors["remedy_amount"] = Message("remedy.amount_positive")
    if paid_on is None:
        errors["remedy_paid_on"] = Message("form.required")
    elif not isinstance(paid_on, date) or isinstance(paid_on, datetime):
        errors["remedy_paid_on"] = Message("form.bad_value")
    elif paid_on > now.date():
        errors["remedy_paid_on"] = Message("form.not_in_future")
    with case_step(uow, actor, complaint_id, Action.RECORD_REMEDY, expected_version) as (
            session, user, complaint, source):
        if not remedy_agreed(complaint.negotiation_result, complaint.negotiated_amount):
            raise TransitionNotAllowed("remedy.not_agreed")
        if errors:
            raise ValidationFailed(errors)
        complaint.remedy_paid_on, complaint.remedy_amount = paid_on, value
        complaint.remedy_reference, complaint.remedy_note = reference, note
        complaint.remedy_done_at, complaint.remedy_by_id = now, user.id
        flag_modified(complaint, "state")
        record_event(session, actor=user, at=now, action=Action.RECORD_REMEDY.value, complaint_id=complaint.id,
                     from_state=source.value, to_state=complaint.state, comment=note,
                     changes={"remedy_paid_on": paid_on, "remedy_amount": value, "remedy_reference": reference})


# -- the archive (001 总结) --

def _quality_facts(session: Session, complaint_id: int) -> tuple[bool, int]:
    from portal.services.quality import quality_facts
    return quality_facts(session, complaint_id)


def archive_facts(session: Session, complaint: Complaint) -> ArchiveFacts:
    """What the archive's rule needs to know about a case, read in its transaction."""
    def count(model, *conditions) -> int:  # noqa: ANN001
        return int(session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0)

    checked, corrective = _quality_facts(session, complaint.id)
    return ArchiveFacts(
        follow_ups=count(FollowUp, FollowUp.complaint_id == complaint.id),
        follow_up_task_open=bool(complaint.follow_up_task),
        pending_schedules=count(FollowUpSchedule, FollowUpSchedule.complaint_id == complaint.id,
                                FollowUpSchedule.follow_up_id.is_(None)),
        open_department_actions=count(FollowUpAction, FollowUpAction.complaint_id == complaint.id,
                                      FollowUpAction.acted_at.is_(None)),
        remedy_agreed=remedy_agreed(complaint.negotiation_result, complaint.negotiated_amount),
        remedy_recorded=complaint.remedy_done_at is not None,
        quality_checked=checked, corrective_open=corrective)


class ArchiveBlocked(ValidationFailed):
    """The archive refused: one message per blocker (`blocker.<name>`), and any field's problem."""

    def __init__(self, blockers: list[ArchiveBlocker], errors: dict[str, Message]) -> None:
        super().__init__({**{f"blocker.{b.value}": Message(f"archive.blocker.{b.value}") for b in blockers},
                          **errors})
        self.blockers = blockers


def has_rectification(session: Session, complaint_id: int) -> bool:
    """Whether a rectification item was opened for the case (the 总结's 是否整改)."""
    return session.scalar(select(Rectification.id).where(Rectification.complaint_id == complaint_id,
                                                         Rectification.kind == "rectification").limit(1)) is not None


def archive(uow: UnitOfWork, *, actor: Actor, complaint_id: int, lessons: str, cause_code: str | None,
            expected_version: int, now: datetime) -> None:
    """The GM office's 总结 (001): the lessons, the cause class, whether a rectification was opened, its
    author; the case is archived. Refused, with every blocker named, while anything stands before it."""
    errors: dict[str, Message] = {}
    lessons = text_field(errors, "lessons", lessons, limit=TEXT_LIMIT)
    with case_step(uow, actor, complaint_id, Action.ARCHIVE, expected_version) as (session, user, complaint, source):
        check_cause(session, errors, "summary_cause_code", cause_code)
        blockers = archive_blockers(archive_facts(session, complaint))
        if blockers or errors:
            raise ArchiveBlocked(blockers, errors)
        rectified = has_rectification(session, complaint.id)
        complaint.summary_lessons, complaint.summary_cause_code = lessons, cause_code
        complaint.summary_rectification, complaint.summary_by_id, complaint.summary_at = rectified, user.id, now
        complaint.archived_at, complaint.state = now, State.ARCHIVED.value
        record_event(session, actor=user, at=now, action=Action.ARCHIVE.value, complaint_id=complaint.id,
                     from_state=source.value, to_state=complaint.state, comment=lessons,
                     changes={"summary_cause_code": cause_code, "summary_rectification": rectified})


@dataclass(frozen=True)
class ArchiveRow:
    id: int
    number: str | None
    closed_at: datetime | None
    blockers: list[ArchiveBlocker]


@dataclass(frozen=True)
class ArchiveQueue:
    rows: list[ArchiveRow]
    total: int          # closed cases
    ready: int          # of them ready to archive
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def archive_queue(uow: UnitOfWork, *, actor: Actor, page: int = 1, page_size: int = ARCHIVE_PAGE) -> ArchiveQueue:
    """Closed cases with what still stands before their archive, those ready first (then by closure):
    counted and paged in SQL, for the GM office."""
    if not actor.has(Role.GM_OFFICE):
        raise PermissionDenied("auth.missing_role")
    f = archive_readiness.fact_columns()
    closed = Complaint.state == State.CLOSED.value
    # the stored readiness (`archive_readiness`): the counts and the page (ready first, then by closure) read the
    # index (state, archive_blocked, closed_at, id); only the page's own rows are probed for their blockers
    listed = select(Complaint.id).where(closed).order_by(Complaint.archive_blocked, Complaint.closed_at, Complaint.id)
    with uow.read() as session:
        total, ready_count = session.execute(select(
            select(func.count()).select_from(Complaint).where(closed).scalar_subquery(),
            select(func.count()).select_from(Complaint).where(closed, Complaint.archive_blocked == false())
            .scalar_subquery())).one()
        page = min(max(1, page), max(1, -(-int(total) // page_size)))   # past the last (archived meanwhile): the last
        ids = list(session.scalars(listed.limit(page_size).offset((page - 1) * page_size)))
        # then the page's facts: only those rows' probes
        found = {r.id: r for r in session.execute(
            select(Complaint.id, Complaint.number, Complaint.closed_at, Complaint.follow_up_task,
                   Complaint.negotiation_result, Complaint.negotiated_amount, Complaint.remedy_done_at,
                   *[column.label(name) for name, column in f.items() if name != "remedy_agreed"])
            .where(Complaint.id.in_(ids)))}
        rows = [found[i] for i in ids]
    out = []
    for r in rows:
        facts = ArchiveFacts(int(bool(r.followed)), bool(r.follow_up_task), int(bool(r.scheduled)),
                             int(bool(r.actions)), remedy_agreed(r.negotiation_result, r.negotiated_amount),
                             r.remedy_done_at is not None, bool(r.checked), int(bool(r.corrective)))
        out.append(ArchiveRow(r.id, r.number, r.closed_at, archive_blockers(facts)))
    return ArchiveQueue(out, int(total), int(ready_count), page, page_size)


def count_ready_statement():  # noqa: ANN201
    return (select(func.count()).select_from(Complaint)
            .where(Complaint.state == State.CLOSED.value, Complaint.archive_blocked == false()).scalar_subquery())


# -- what the case page and the home page read --

@dataclass(frozen=True)
class AfterClosure:
    """A case's life after closure: its follow-ups (how, by whom), the visits scheduled, what the departments
    did about a dissatisfied one, the remedy carried out, the 总结, and (while closed) what blocks the archive."""
    follow_ups: list[dict]
    schedules: list[dict]
    actions: list[dict]
    remedy: dict
    summary: dict
    blockers: list[ArchiveBlocker]


def after_closure(uow: UnitOfWork, *, actor: Actor, complaint_id: int) -> AfterClosure:
    """Read in a handful of queries (the case page's budget): the case with its archive facts in one, the
    follow-ups, schedules and departments' actions one each, and what the reader may see of the customer."""
    from portal.domain.privacy import may_view_case, redact
    from portal.persistence.models import ComplaintDepartment, Department, User
    from portal.services import privacy
    from portal.services.assignment import in_working_group
    from portal.services.queries import _FORM_FIELDS
    remedy_by, summary_by = aliased(User), aliased(User)
    facts = {name: column.label(name) for name, column in archive_readiness.fact_columns().items() if name != "remedy_agreed"}
    with uow.read() as session:
        row = session.execute(
            select(Complaint.state, Complaint.follow_up_task, Complaint.negotiation_result,
                   Complaint.negotiated_amount, Complaint.remedy_paid_on, Complaint.remedy_amount,
                   Complaint.remedy_reference, Complaint.remedy_note, Complaint.remedy_done_at,
                   Complaint.summary_lessons, Complaint.summary_cause_code, Complaint.summary_rectification,
                   Complaint.summary_at, Complaint.cause_code,
                   remedy_by.display_name.label("remedy_by"), summary_by.display_name.label("summary_by"),
                   *[getattr(Complaint, name) for name in _FORM_FIELDS], *facts.values())
            .outerjoin(remedy_by, remedy_by.id == Complaint.remedy_by_id)
            .outerjoin(summary_by, summary_by.id == Complaint.summary_by_id)
            .where(Complaint.id == complaint_id)).one_or_none()
        routed = session.scalars(select(ComplaintDepartment.department_id)
                                 .where(ComplaintDepartment.complaint_id == complaint_id)).all()
        if row is None or not (may_view_case(actor.roles, actor.department_id, routed)
                               or in_working_group(session, complaint_id, actor.id)):   # 专项工作组 members too
            raise PermissionDenied("case.not_yours")
        # what people wrote may repeat the customer's data: masked where the reader may not see it
        raw = {name: getattr(row, name) for name in _FORM_FIELDS}
        shown = privacy.shown_on_case(session, actor, complaint_id)

        def said(text: str) -> str:
            return redact(text, raw, shown)

        visits = [{"visited_at": f.visited_at, "method": f.method, "by": name or "", "overall": f.overall,
                   "dissatisfied": f.dissatisfied, "outcome": said(f.outcome), "id": f.id}
                  for f, name in session.execute(select(FollowUp, User.display_name)
                                                 .outerjoin(User, User.id == FollowUp.by_id)
                                                 .where(FollowUp.complaint_id == complaint_id).order_by(FollowUp.id))]
        schedules = [{"due_on": s.due_on, "reason": said(s.reason), "by": name or "",
                      "done": s.follow_up_id is not None}
                     for s, name in session.execute(
                         select(FollowUpSchedule, User.display_name)
                         .outerjoin(User, User.id == FollowUpSchedule.created_by_id)
                         .where(FollowUpSchedule.complaint_id == complaint_id)
                         .order_by(FollowUpSchedule.due_on, FollowUpSchedule.id))]
        actions = [{"department": code, "sent_at": a.sent_at, "action": said(a.action), "acted_at": a.acted_at,
                    "by": name or ""}
                   for a, code, name in session.execute(
                       select(FollowUpAction, Department.code, User.display_name)
                       .join(Department, Department.id == FollowUpAction.department_id)
                       .outerjoin(User, User.id == FollowUpAction.acted_by_id)
                       .where(FollowUpAction.complaint_id == complaint_id).order_by(FollowUpAction.id))]
    agreed = remedy_agreed(row.negotiation_result, row.negotiated_amount)
    remedy = {"agreed": agreed, "agreed_amount": row.negotiated_amount, "paid_on": row.remedy_paid_on,
              "amount": row.remedy_amount, "reference": said(row.remedy_reference), "note": said(row.remedy_note),
              "done_at": row.remedy_done_at, "by": row.remedy_by or ""}
    summary = {"lessons": said(row.summary_lessons), "cause_code": row.summary_cause_code,
               "rectification": row.summary_rectification, "at": row.summary_at, "by": row.summary_by or "",
               "cause_at_closure": row.cause_code}
    blockers = []
    if row.state == State.CLOSED.value:
        blockers = archive_blockers(ArchiveFacts(
            int(bool(row.followed)), bool(row.follow_up_task), int(bool(row.scheduled)), int(bool(row.actions)),
            agreed, row.remedy_done_at is not None, bool(row.checked), int(bool(row.corrective))))
    return AfterClosure(visits, schedules, actions, remedy, summary, blockers)


def closing_todos(uow: UnitOfWork, *, actor: Actor, now: datetime) -> list:
    """The home page's to-dos after closure: scheduled follow-ups due (市场部), dissatisfied follow-ups sent to
    the handler's department, closed cases ready to archive (the GM office). Counted in SQL, one round trip."""
    from portal.services.queries import Todo
    wanted: list[tuple[str, str, object]] = []
    if actor.has(Role.INTAKE, Role.INTAKE_LEAD):
        wanted.append(("follow_up_due", "negotiation", select(func.count()).select_from(FollowUpSchedule).where(
            FollowUpSchedule.follow_up_id.is_(None), FollowUpSchedule.due_on <= now.date()).scalar_subquery()))
    if actor.has(Role.HANDLER) and actor.department_id is not None:
        wanted.append(("follow_up_action", "department", select(func.count()).select_from(FollowUpAction).where(
            FollowUpAction.department_id == actor.department_id, FollowUpAction.acted_at.is_(None))
            .scalar_subquery()))
    if actor.has(Role.GM_OFFICE):
        wanted.append(("archive_ready", "gm_office", count_ready_statement()))
    if not wanted:
        return []
    with uow.read() as session:
        counts = session.execute(select(*[c.label(f"c{i}") for i, (_, _, c) in enumerate(wanted)])).one()
    return [Todo(key, int(n), page) for (key, page, _), n in zip(wanted, counts)]


def remedy_queue(uow: UnitOfWork, *, actor: Actor, now: datetime, calendar, page: int = 1):  # noqa: ANN001, ANN201
    """Closed cases whose agreed payment is not yet recorded as made (市场部 or the GM office), in queue order."""
    from portal.services import queries
    if not actor.has(Role.INTAKE, Role.INTAKE_LEAD, Role.GM_OFFICE):
        raise PermissionDenied("auth.missing_role")
    waiting = [Complaint.remedy_due == true()]        # `archive_readiness.wants_remedy`, stored: an index range
    return queries._ledger(uow, waiting, now, calendar, reader=actor, page=page,  # noqa: SLF001
                           page_size=queries.QUEUE_PAGE, order="priority")
