"""The contact log (SPEC §11): every contact with the customer is a row; the first contact of a step
that has a contact clock sets the milestone that stops it. Recording a contact, the case's timeline,
the contacts due (待联系客户) and the progress contacts the reminder sweep asks for when a clock turns
临期 (000 §6: tell the customer the expected completion date)."""
from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy import Select, String, case, exists, func, literal, null, select, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from portal.domain.contacts import (MILESTONE_OF_STEP,
                                    ContactChannel, ContactStep, channel_refusal, may_record_contact)
from portal.domain.errors import DomainError, Message, NotFound, PermissionDenied, ValidationFailed
from portal.domain.priority import OTHER_SEVERITY, OTHER_URGENCY, SEVERITY_RANK, URGENCY_RANK
from portal.domain.privacy import may_view_case
from portal.domain.recusal import check_not_named
from portal.domain.roles import Role
from portal.domain.validation import (Attachment, choice_message, clean_attachment, moment_field, text_field,
                                      validate_attachments)
from portal.persistence.database import UnitOfWork
from portal.persistence.models import (AttachmentRow, CaseClock, Complaint, ComplaintDepartment, ContactLog,
                                       ContactPrompt, Event, Notice, SlaClock, User)
from portal.services import contact_due, rules
from portal.services.actors import Actor, fresh_actor
from portal.services.audit import jsonable, record_event
from portal.services.complaints import attachment_row
from portal.services.steps import locked_case, locked_cases

log = logging.getLogger(__name__)

CONTENT_LIMIT = 2000
PROOF_LIMIT = 200          # the column's size: a message id, a call recording's number, a registered letter's
CONTACT_PAGE = 20
DUE_PAGE = 50
CLOSURE_CLOCK = "closure"  # the 13-day closure clock: its due is the expected completion date told
# Notice states (the outbox's) as the timeline names them: 待发送 / 已发送 / 失败 / 待确认.
NOTICE_STATES = {"queued": "queued", "sending": "queued", "sent": "sent", "failed": "failed",
                 "unconfirmed": "unconfirmed"}


def log_contact(session: Session, *, complaint: Complaint, step: ContactStep, channel: ContactChannel,
                content: str, now: datetime, by: User | None = None, proof: str = "",
                notice_id: int | None = None, attachment_id: int | None = None,
                at: datetime | None = None) -> ContactLog:
    """Add the contact row inside the caller's transaction (the caller checks permission and writes
    the audit event of its act). `by` None: the outbox sent it. `at`: when the contact happened (a
    call recorded afterwards), `now` when not given. The earliest contact of a step with a contact
    clock is the moment that stops it."""
    when = now if at is None else at
    row = ContactLog(complaint_id=complaint.id, at=when, channel=ContactChannel(channel).value,
                     step=ContactStep(step).value, content=content, proof=proof,
                     by_id=by.id if by is not None else None, notice_id=notice_id,
                     attachment_id=attachment_id)
    session.add(row)
    column = MILESTONE_OF_STEP.get(ContactStep(step))
    if column is not None and (getattr(complaint, column) is None or when < getattr(complaint, column)):
        setattr(complaint, column, when)
    return row


def _choice(errors: dict[str, Message], name: str, value: object, kind):  # noqa: ANN001, ANN202
    if isinstance(value, str) and value in {member.value for member in kind}:
        return kind(value)
    errors[name] = choice_message(value)
    return None


def record_contact(uow: UnitOfWork, *, actor: Actor, complaint_id: int, channel: str, step: str, content: str,
                   proof: str = "", attachment: Attachment | None = None, at: datetime | None = None,
                   now: datetime) -> int:
    """A member of staff records a contact with the customer (a call, a letter, a visit…): when it
    happened (`at`, not in the future, not before the complaint was received; `now` when not given),
    the channel, the step it serves, what was said, and its proof (a message id, a recording's
    number, or an attachment). Returns the contact's id. Staff the complaint names may not."""
    errors: dict[str, Message] = {}
    channel_ = _choice(errors, "channel", channel, ContactChannel)
    step_ = _choice(errors, "step", step, ContactStep)
    if channel_ is not None and step_ is not None and channel_refusal(step_, channel_):
        errors["channel"] = Message(channel_refusal(step_, channel_))
    content = text_field(errors, "content", content, limit=CONTENT_LIMIT)
    proof = text_field(errors, "proof", proof, required=False, limit=PROOF_LIMIT, multiline=False)
    when = moment_field(errors, "at", at) if at is not None else now
    if when is not None and when > now:
        errors["at"] = Message("contact.at_in_future")
    item = None
    if attachment is not None:
        item = clean_attachment(attachment)
        if item is None:
            errors["attachment"] = Message("form.bad_value")
    with uow.write() as session:
        user = fresh_actor(session, actor)
        complaint = locked_case(session, complaint_id)
        routed = [link.department_id for link in complaint.departments]
        if not may_record_contact({Role(k) for k in user.role_keys}, user.department_id, routed):
            raise PermissionDenied("contact.not_allowed")
        check_not_named(user.id, [link.user_id for link in complaint.staff_links])
        if when is not None and "at" not in errors and when < complaint.received_at:
            errors["at"] = Message("contact.before_receipt")
        if step_ is ContactStep.CLOSURE:
            if complaint.closed_at is None:
                errors["step"] = Message("contact.closure_before_closed")
            elif when is not None and "at" not in errors and when < complaint.closed_at:
                errors["at"] = Message("contact.before_closure")
        if item is not None:
            refused = validate_attachments([item], rules.attachment_limits(rules.settings(session)))
            if refused is not None:
                errors["attachment"] = refused
        if not proof and attachment is None and "proof" not in errors:
            errors["proof"] = Message("contact.proof_required")
        if errors:
            raise ValidationFailed(errors)
        stored = None
        if item is not None:
            stored = attachment_row(complaint.id, item, user.id, now)
            session.add(stored)
            session.flush()
        contact = log_contact(session, complaint=complaint, step=step_, channel=channel_, content=content,
                              now=now, by=user, proof=proof, attachment_id=stored.id if stored else None, at=when)
        session.flush()
        record_event(session, actor=user, at=now, action="record_contact", complaint_id=complaint.id,
                     from_state=complaint.state, to_state=complaint.state, comment=content,
                     changes={"contact_step": step_.value, "contact_channel": channel_.value, "contact_at": when,
                              "contact_proof": proof, "attachments": [item.filename] if item else []})
        return contact.id


# -- the timeline (case page, printable form) --

@dataclass(frozen=True)
class ContactView:
    id: int
    at: datetime
    channel: str
    step: str
    content: str
    proof: str
    by: str | None                 # None: sent by the outbox (系统发送)
    notice_state: str | None       # queued / sent / failed / unconfirmed, for a notice of the outbox
    attachment_id: int | None
    attachment_name: str | None


@dataclass(frozen=True)
class ContactPage:
    rows: list[ContactView]
    total: int
    page: int
    page_size: int
    preferred_contact: str = "phone"       # how the customer wants to be told (chosen at intake)
    optional_notices: bool = True          # whether they take the notices that are not required

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _readable_case(session: Session, actor: Actor, complaint_id: int):  # noqa: ANN202
    """What the timeline needs of the case (the customer's contact choices), once the reader may see it."""
    complaint = session.execute(select(Complaint.preferred_contact, Complaint.optional_notices)
                                .where(Complaint.id == complaint_id)).first()
    if complaint is None:
        raise NotFound("case.not_found")
    routed = session.scalars(select(ComplaintDepartment.department_id)
                             .where(ComplaintDepartment.complaint_id == complaint_id)).all()
    from portal.services.assignment import in_working_group     # the case's working group reads it too (000 §8)
    if not may_view_case(actor.roles, actor.department_id, routed) and not in_working_group(session, complaint_id,
                                                                                            actor.id):
        raise PermissionDenied("case.not_yours")
    return complaint


def _timeline_select(complaint_id: int) -> Select:
    return (select(ContactLog.id, ContactLog.at, ContactLog.channel, ContactLog.step, ContactLog.content,
                   ContactLog.proof, User.display_name, Notice.state, ContactLog.attachment_id, AttachmentRow.filename)
            .outerjoin(User, User.id == ContactLog.by_id)
            .outerjoin(Notice, Notice.id == ContactLog.notice_id)
            .outerjoin(AttachmentRow, AttachmentRow.id == ContactLog.attachment_id)
            .where(ContactLog.complaint_id == complaint_id))


def _view(row) -> ContactView:  # noqa: ANN001
    cid, at, channel, step, content, proof, by, state, attachment_id, filename = row
    return ContactView(cid, at, channel, step, content, proof, by, NOTICE_STATES.get(state, state) if state else None,
                       attachment_id, filename)


def contact_timeline(uow: UnitOfWork, *, actor: Actor, complaint_id: int, page: int = 1,
                     page_size: int | None = CONTACT_PAGE, newest_first: bool = True) -> ContactPage:
    """The case's contacts, one page of them (newest first on the case page; every one, oldest first,
    with `page_size` None, for the printable form): counted and paged in SQL."""
    with uow.read() as session:
        complaint = _readable_case(session, actor, complaint_id)
        total = int(session.scalar(select(func.count()).select_from(ContactLog)
                                   .where(ContactLog.complaint_id == complaint_id)))
        order = (ContactLog.at.desc(), ContactLog.id.desc()) if newest_first else (ContactLog.at, ContactLog.id)
        query = _timeline_select(complaint_id).order_by(*order)
        size = page_size or max(total, 1)
        pages = max(1, -(-total // size))
        page = min(max(1, page), pages)
        if page_size:
            query = query.limit(page_size).offset((page - 1) * page_size)
        from portal.services.privacy import case_masker        # the masking table (issue 16)
        mask = case_masker(session, actor, [complaint_id])
        views = [_view(r) for r in session.execute(query)]
        views = [replace(v, **mask(complaint_id, {"content": v.content, "proof": v.proof})) for v in views]
        return ContactPage(views, total, page, size,
                           complaint.preferred_contact, complaint.optional_notices)


# -- contacts due (待联系客户) --

def _progress_clocks(now: datetime) -> Select:
    """Clocks that have turned 临期 by `now` with no progress contact since (`contact_due`)."""
    return contact_due.progress_clocks().where(CaseClock.soon_at <= now)


def _due_rows(now: datetime, ids: list[int]):  # noqa: ANN202
    """What each of these cases asks for at `now`: a row per contact clock asking for its contact, and
    one progress row per case (its earliest clock turned 临期)."""
    progress = _progress_clocks(now).where(CaseClock.complaint_id.in_(ids)).subquery()
    by_case = select(progress.c.complaint_id, literal(ContactStep.PROGRESS.value, String).label("step"),
                     null().label("clock_key"), func.min(progress.c.due_at).label("due_at"),
                     func.min(progress.c.soon_at).label("soon_at"), literal(0).label("failed")
                     ).group_by(progress.c.complaint_id)
    contact = [q.with_only_columns(*[c for c in q.selected_columns if c.name != "wanted_from"])
               .where(CaseClock.complaint_id.in_(ids)) for q in contact_due.contact_clocks()]
    return union_all(*contact, by_case).subquery("due_contacts")


def due_count_statement(now: datetime):  # noqa: ANN201
    """How many customers are to be contacted (the home page's to-do count): the cases `contacts_due`
    lists, one index range."""
    return select(func.count()).select_from(Complaint).where(contact_due.due_condition(now)).scalar_subquery()


@dataclass(frozen=True)
class DueContact:
    complaint_id: int
    number: str | None
    customer_name: str
    customer_phone: str
    preferred_contact: str
    optional_notices: bool
    step: str                       # acknowledgement / closure / progress
    clock_key: str | None           # the contact clock (None for a progress contact)
    due_at: datetime | None
    soon_at: datetime | None
    expected_completion: datetime | None   # for a progress contact: the date to tell the customer
    clerk: str
    notice_failed: bool = False     # its clock was stopped only by a notice that failed to go out


@dataclass(frozen=True)
class DuePage:
    rows: list[DueContact]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def contacts_due(uow: UnitOfWork, *, actor: Actor, now: datetime, page: int = 1,
                 page_size: int = DUE_PAGE) -> DuePage:
    """待联系客户: the cases whose acknowledgement or closure notice is due, or a clock of which turned
    临期 with no progress contact since (`contact_due`): 重大 first, then by urgency, then the earliest;
    counted and paged in SQL by case, each case with a row per thing to tell."""
    if not actor.has(Role.INTAKE, Role.INTAKE_LEAD, Role.GM_OFFICE):
        raise PermissionDenied("auth.missing_role")
    with uow.read() as session:
        total = int(session.scalar(select(func.count()).select_from(Complaint)
                                   .where(contact_due.due_condition(now))))
        pages = max(1, -(-total // page_size))
        page = min(max(1, page), pages)
        ids = list(session.scalars(select(Complaint.id).where(contact_due.due_condition(now))
                                   .order_by(*_queue_order(), Complaint.contact_due_at, Complaint.id)
                                   .limit(page_size).offset((page - 1) * page_size)))
        place = {complaint_id: n for n, complaint_id in enumerate(ids)}
        due = _due_rows(now, ids)
        rows = sorted(session.execute(select(due)).all(),
                      key=lambda r: (place[r.complaint_id], _moment(r.due_at) is None, _moment(r.due_at) or now,
                                     r.step))
        cases = {c.id: (c, clerk) for c, clerk in session.execute(
            select(Complaint, User.display_name).join(User, User.id == Complaint.receiving_clerk_id)
            .where(Complaint.id.in_(ids)))}
        expected = expected_completion(session, ids)
        from portal.services.privacy import case_masker        # the masking table (issue 16)
        mask = case_masker(session, actor, ids)
        reach = {i: mask(i, {"customer_name": c.customer_name, "customer_phone": c.customer_phone})
                 for i, (c, _) in cases.items()}
    out = []
    for r in rows:
        complaint, clerk = cases[r.complaint_id]
        out.append(DueContact(r.complaint_id, complaint.number, reach[r.complaint_id]["customer_name"],
                              reach[r.complaint_id]["customer_phone"],
                              complaint.preferred_contact, complaint.optional_notices, r.step, r.clock_key,
                              _moment(r.due_at), _moment(r.soon_at),
                              expected.get(r.complaint_id) if r.step == ContactStep.PROGRESS.value else None, clerk,
                              bool(r.failed)))
    return DuePage(out, total, page, page_size)


def _queue_order() -> tuple:
    """重大 first, then urgency (`domain.priority`, as every queue), then the contact's own due time."""
    return (case(*[(Complaint.severity == k, v) for k, v in SEVERITY_RANK.items()], else_=OTHER_SEVERITY),
            case(*[(Complaint.urgency == k, v) for k, v in URGENCY_RANK.items()], else_=OTHER_URGENCY))


def _last_day(due: datetime) -> date:
    """The day a deadline falls on as a customer reads it (an end-of-day deadline is stored as the
    next midnight)."""
    return (due - timedelta(microseconds=1)).date()


def _moment(value: object) -> datetime | None:
    """A time read through a UNION (SQLite gives it back as text)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def expected_completion(session: Session, complaint_ids: list[int]) -> dict[int, datetime]:
    """The completion date to tell the customer: the closure clock's due (13 days from acceptance),
    or before acceptance the regulator's decision due."""
    if not complaint_ids:
        return {}
    regulatory = session.scalars(select(SlaClock.key).where(SlaClock.regulatory)).all()
    found: dict[int, dict[str, datetime]] = defaultdict(dict)
    for complaint_id, key, due in session.execute(
            select(CaseClock.complaint_id, CaseClock.clock_key, CaseClock.due_at)
            .where(CaseClock.complaint_id.in_(complaint_ids), CaseClock.clock_key.in_([CLOSURE_CLOCK, *regulatory]),
                   CaseClock.due_at.is_not(None))):
        found[complaint_id][key] = due
    out = {}
    for complaint_id, dues in found.items():
        chosen = dues.get(CLOSURE_CLOCK) or next((dues[k] for k in regulatory if k in dues), None)
        if chosen is not None:
            out[complaint_id] = chosen
    return out


# -- the reminder sweep: a progress notice when a clock turns 临期 --

def queue_progress_notices(uow: UnitOfWork, *, now: datetime) -> int:
    """For every clock that turned 临期 with no progress contact since, and not prompted before, queue
    an expected-completion notice to the customer (once per case and clock, however often the sweep
    runs; one notice per case when several clocks turn at once). Returns how many cases were prompted.
    A customer who opted out of notices that are not required gets none (`queue_notice` says so);
    the case then stays in 待联系客户 for a call."""
    from portal.services.notices_outbox import queue_notice
    with uow.write() as session:
        fresh = _progress_clocks(now).where(~exists().where(ContactPrompt.complaint_id == CaseClock.complaint_id,
                                                            ContactPrompt.clock_key == CaseClock.clock_key))
        wanted = session.execute(fresh).all()
        if not wanted:
            return 0
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        table = ContactPrompt.__table__
        statement = (dialect.insert(table).on_conflict_do_nothing(index_elements=["complaint_id", "clock_key"])
                     .returning(table.c.complaint_id, table.c.clock_key))
        inserted = session.connection().execute(statement, [
            dict(complaint_id=c, clock_key=k, due_soon_at=soon, prompted_at=now) for c, k, soon, _ in wanted]).all()
        prompted: dict[int, list[str]] = defaultdict(list)
        for complaint_id, key in inserted:
            prompted[complaint_id].append(key)
        dates = expected_completion(session, list(prompted))
        cases = locked_cases(session, list(prompted))             # an automatic change: the rows locked
        for complaint_id, keys in sorted(prompted.items()):
            complaint = cases[complaint_id]
            expected = dates.get(complaint_id)
            told = {} if expected is None else {"expected_completion_date": _last_day(expected)}
            try:
                notice = queue_notice(session, complaint=complaint, kind=ContactStep.EXPECTED_COMPLETION.value,
                                      now=now, extra=told)
            except DomainError as refused:      # a template this case cannot fill: a person calls instead
                log.warning("case %s: expected-completion notice not queued: %s", complaint_id, refused.message.key)
                notice = None
            if notice is not None:
                session.flush()
                for prompt in session.scalars(select(ContactPrompt).where(ContactPrompt.complaint_id == complaint_id,
                                                                          ContactPrompt.clock_key.in_(keys))):
                    prompt.notice_id = notice.id
            session.add(Event(complaint_id=complaint_id, actor_id=None, actor_label="system", at=now,
                              action="contact.progress_due", from_state=None, to_state=None, comment="",
                              changes=jsonable({"clocks": sorted(keys), "expected_completion": expected,
                                                "notice_queued": notice is not None})))
        return len(prompted)
