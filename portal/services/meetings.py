"""客户投诉立会 (002 art.11.3(3)): the GM office records a complaint meeting — when, who attended, the
cases discussed, what was decided — and rectification items may be opened from it."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from portal.domain.errors import Message, NotFound, PermissionDenied, ValidationFailed
from portal.domain.roles import Role
from portal.domain.validation import text_field
from portal.persistence.database import UnitOfWork
from portal.persistence.models import (Complaint, ComplaintMeeting, Department, MeetingCase, Rectification, User)
from portal.services.actors import Actor, fresh_actor
from portal.services.audit import record_event

READERS = (Role.GM_OFFICE, Role.MANAGER, Role.DEPT_LEAD)
TEXT_LIMIT = 4000
MAX_CASES = 50
_SEPARATORS = re.compile(r"[\s,，、;；]+")


def split_numbers(text: str) -> list[str]:
    """Case numbers typed in one field, separated by spaces, commas or 、."""
    return [n for n in _SEPARATORS.split(text or "") if n]


def record_meeting(uow: UnitOfWork, *, actor: Actor, held_on: date | None, title: str, attendees: str,
                   case_numbers: list[str], decisions: str, now: datetime) -> int:
    """Record a meeting that was held (not one planned): its date is today or earlier; attendees and
    decisions are required; every case number named must be a case of the portal."""
    errors: dict[str, Message] = {}
    if held_on is None:
        errors["held_on"] = Message("form.required")
    elif not isinstance(held_on, date) or isinstance(held_on, datetime):
        errors["held_on"] = Message("form.bad_value")
    elif held_on > now.date():
        errors["held_on"] = Message("form.not_in_future")
    title = text_field(errors, "title", title, required=False, limit=200, multiline=False)
    attendees = text_field(errors, "attendees", attendees, limit=TEXT_LIMIT)
    decisions = text_field(errors, "decisions", decisions, limit=TEXT_LIMIT)
    numbers: list[str] = []
    if not isinstance(case_numbers, (list, tuple)) or not all(isinstance(n, str) for n in case_numbers):
        errors["case_numbers"] = Message("form.bad_value")
    else:
        numbers = list(dict.fromkeys(n.strip() for n in case_numbers if n.strip()))
        if len(numbers) > MAX_CASES:
            errors["case_numbers"] = Message("meeting.too_many_cases", {"max": MAX_CASES})
            numbers = []
    with uow.write() as session:
        user = fresh_actor(session, actor, Role.GM_OFFICE)
        found = dict(session.execute(select(Complaint.number, Complaint.id)
                                     .where(Complaint.number.in_(numbers))).all()) if numbers else {}
        unknown = [n for n in numbers if n not in found]
        if unknown:
            errors["case_numbers"] = Message("meeting.unknown_cases", {"numbers": "、".join(unknown)})
        if errors:
            raise ValidationFailed(errors)
        meeting = ComplaintMeeting(held_on=held_on, title=title, attendees=attendees, decisions=decisions,
                                   recorded_by_id=user.id, recorded_at=now)
        session.add(meeting)
        session.flush()
        session.add_all([MeetingCase(meeting_id=meeting.id, complaint_id=found[n]) for n in numbers])
        record_event(session, actor=user, at=now, action="meeting.record", comment=decisions,
                     changes={"meeting": meeting.id, "held_on": held_on, "title": title, "attendees": attendees,
                              "cases": numbers})
        return meeting.id


@dataclass(frozen=True)
class MeetingRow:
    id: int
    held_on: date
    title: str
    attendees: str
    decisions: str
    cases: int
    rectifications: int
    recorded_by: str


@dataclass(frozen=True)
class MeetingPage:
    rows: list[MeetingRow]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _reader(actor: Actor) -> None:
    if not actor.has(*READERS):
        raise PermissionDenied("auth.missing_role")


def list_meetings(uow: UnitOfWork, *, actor: Actor, page: int = 1, page_size: int = 20) -> MeetingPage:
    """The meetings, latest first, a page at a time (counted and paged in SQL)."""
    _reader(actor)
    with uow.read() as session:
        total = int(session.scalar(select(func.count()).select_from(ComplaintMeeting)))
        pages = max(1, -(-total // page_size))
        page = min(max(1, int(page)), pages)
        meetings = session.execute(
            select(ComplaintMeeting, User.display_name).join(User, User.id == ComplaintMeeting.recorded_by_id)
            .order_by(ComplaintMeeting.held_on.desc(), ComplaintMeeting.id.desc())
            .offset((page - 1) * page_size).limit(page_size)).all()
        ids = [m.id for m, _ in meetings]
        cases = dict(session.execute(select(MeetingCase.meeting_id, func.count())
                                     .where(MeetingCase.meeting_id.in_(ids)).group_by(MeetingCase.meeting_id)).all())
        items = dict(session.execute(select(Rectification.meeting_id, func.count())
                                     .where(Rectification.meeting_id.in_(ids))
                                     .group_by(Rectification.meeting_id)).all())
    return MeetingPage([MeetingRow(m.id, m.held_on, m.title, m.attendees, m.decisions, int(cases.get(m.id, 0)),
                                   int(items.get(m.id, 0)), name) for m, name in meetings], total, page, page_size)


@dataclass(frozen=True)
class MeetingItem:
    id: int
    number: str
    description: str
    owner_department: str
    owner: str
    deadline: date
    status: str


@dataclass(frozen=True)
class MeetingView:
    id: int
    held_on: date
    title: str
    attendees: str
    decisions: str
    recorded_by: str
    recorded_at: datetime
    cases: list[tuple[int, str]]          # (complaint id, number)
    rectifications: list[MeetingItem]     # the items opened from the meeting


def meeting(uow: UnitOfWork, *, actor: Actor, meeting_id: int) -> MeetingView:
    _reader(actor)
    with uow.read() as session:
        found = session.execute(select(ComplaintMeeting, User.display_name)
                                .join(User, User.id == ComplaintMeeting.recorded_by_id)
                                .where(ComplaintMeeting.id == meeting_id)).first()
        if found is None:
            raise NotFound("meeting.not_found")
        row, name = found
        cases = [(i, n or str(i)) for i, n in session.execute(
            select(Complaint.id, Complaint.number).join(MeetingCase, MeetingCase.complaint_id == Complaint.id)
            .where(MeetingCase.meeting_id == row.id).order_by(Complaint.number))]
        items = [MeetingItem(r.id, number or str(r.complaint_id), r.description, code, owner or "", r.deadline,
                             r.status)
                 for r, number, code, owner in session.execute(
                     select(Rectification, Complaint.number, Department.code, User.display_name)
                     .join(Complaint, Complaint.id == Rectification.complaint_id)
                     .join(Department, Department.id == Rectification.owner_department_id)
                     .outerjoin(User, User.id == Rectification.owner_id)
                     .where(Rectification.meeting_id == row.id).order_by(Rectification.id))]
    return MeetingView(row.id, row.held_on, row.title, row.attendees, row.decisions, name, row.recorded_at, cases,
                       items)


def open_rectification(uow: UnitOfWork, *, actor: Actor, meeting_id: int, complaint_id: int, now: datetime,
                       **item) -> int:  # noqa: ANN003
    """A rectification item decided at the meeting, on one of the cases it discussed: the ordinary
    rectification use case (`rectification.add_rectification`: cause, owner, deadline), tied to the meeting."""
    from portal.services import rectification
    view = meeting(uow, actor=actor, meeting_id=meeting_id)
    if complaint_id not in {i for i, _ in view.cases}:
        raise ValidationFailed({"complaint": Message("meeting.case_not_discussed")})
    return rectification.add_rectification(uow, actor=actor, complaint_id=complaint_id, meeting_id=meeting_id,
                                           now=now, **item)
