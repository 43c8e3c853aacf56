"""客户投诉立会 (002 art.11.3(3)) on both databases: the GM office records a meeting held about closed cases,
and rectification items are opened from it."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from portal.domain.errors import PermissionDenied, ValidationFailed
from portal.persistence.models import ComplaintMeeting, Event, Rectification
from portal.services import meetings
from tests.conftest import BACKENDS, People, built_copy
from tests.review_helpers import closed_case

AT = datetime(2025, 12, 5, 10, 0)


def _two_closed_cases(uow) -> None:  # noqa: ANN001
    people = People(uow)
    closed_case(uow, people, datetime(2025, 11, 10, 10), {"operations": 100})
    closed_case(uow, people, datetime(2025, 11, 20, 10), {"operations": 60, "technical": 40})


@pytest.fixture(params=BACKENDS)
def database_url(request):
    """Every test starts from the same two closed cases: walked through the process once per backend, copied."""
    yield from built_copy(request, _two_closed_cases)


@pytest.fixture
def cases(uow):
    from portal.persistence.models import Complaint
    with uow.read() as session:
        found = session.execute(select(Complaint.id, Complaint.number).order_by(Complaint.received_at)).all()
    assert len(found) == 2
    return [(i, number) for i, number in found]


def meeting_count(uow) -> int:  # noqa: ANN001
    with uow.read() as session:
        return int(session.scalar(select(func.count()).select_from(ComplaintMeeting)))


def test_a_meeting_needs_a_past_date_attendees_decisions_and_known_case_numbers(uow, people, cases):
    with pytest.raises(ValidationFailed) as refused:
        meetings.record_meeting(uow, actor=people.gmo, held_on=date(2025, 12, 6), title="十一月投诉立会",
                                attendees=" ", case_numbers=[cases[0][1], "2511-9999", "9999-0001"], decisions="",
                                now=AT)
    errors = refused.value.errors
    assert errors["held_on"].key == "form.not_in_future"
    assert errors["attendees"].key == "form.required" and errors["decisions"].key == "form.required"
    assert errors["case_numbers"].key == "meeting.unknown_cases"
    assert errors["case_numbers"].params == {"numbers": "2511-9999、9999-0001"}
    with pytest.raises(ValidationFailed) as no_date:
        meetings.record_meeting(uow, actor=people.gmo, held_on=None, title="", attendees="甲", case_numbers=[],
                                decisions="乙", now=AT)
    assert set(no_date.value.errors) == {"held_on"}
    with pytest.raises(PermissionDenied):
        meetings.record_meeting(uow, actor=people.boss, held_on=date(2025, 12, 4), title="", attendees="甲",
                                case_numbers=[], decisions="乙", now=AT)
    assert meeting_count(uow) == 0


def test_the_gm_office_records_a_meeting_and_the_list_is_paged(uow, people, cases):
    first = meetings.record_meeting(uow, actor=people.gmo, held_on=date(2025, 12, 4), title="十一月投诉立会",
                                    attendees="总经理室、运营部、技术部", decisions="两案均须整改审核时效",
                                    case_numbers=meetings.split_numbers(f"{cases[0][1]}，{cases[1][1]} {cases[0][1]}"),
                                    now=AT)
    view = meetings.meeting(uow, actor=people.opslead, meeting_id=first)
    assert (view.held_on, view.title, view.attendees, view.decisions, view.recorded_by) == (
        date(2025, 12, 4), "十一月投诉立会", "总经理室、运营部、技术部", "两案均须整改审核时效", "总经理室丙")
    assert sorted(view.cases) == sorted(cases) and view.rectifications == []
    with uow.read() as session:
        event = session.scalar(select(Event).where(Event.action == "meeting.record"))
    assert event.changes["cases"] == [cases[0][1], cases[1][1]] and event.actor_label == "gmo"
    for day in (1, 2):
        meetings.record_meeting(uow, actor=people.gmo, held_on=date(2025, 12, day), title=f"例会{day}",
                                attendees="总经理室", case_numbers=[], decisions="通报", now=AT)
    page = meetings.list_meetings(uow, actor=people.boss, page=1, page_size=2)
    assert page.total == 3 and page.pages == 2
    assert [m.title for m in page.rows] == ["十一月投诉立会", "例会2"] and page.rows[0].cases == 2
    assert [m.title for m in meetings.list_meetings(uow, actor=people.boss, page=2, page_size=2).rows] == ["例会1"]
    with pytest.raises(PermissionDenied):
        meetings.list_meetings(uow, actor=people.clerk)


def test_rectification_items_are_opened_from_a_meeting_on_the_cases_it_discussed(uow, people, cases):
    meeting_id = meetings.record_meeting(uow, actor=people.gmo, held_on=date(2025, 12, 4), title="立会",
                                         attendees="总经理室、运营部", case_numbers=[cases[0][1]],
                                         decisions="运营部整改审核流程", now=AT)
    item = dict(cause="审核积压", cause_code="process.execution", description="梳理理赔审核流程",
                owner_id=people.opshandler.id, deadline=date(2025, 12, 31))
    with pytest.raises(ValidationFailed) as elsewhere:
        meetings.open_rectification(uow, actor=people.gmo, meeting_id=meeting_id, complaint_id=cases[1][0], now=AT,
                                    **item)
    assert elsewhere.value.errors["complaint"].key == "meeting.case_not_discussed"
    item_id = meetings.open_rectification(uow, actor=people.gmo, meeting_id=meeting_id, complaint_id=cases[0][0],
                                          now=AT, **item)
    with uow.read() as session:
        assert session.get(Rectification, item_id).meeting_id == meeting_id
    [opened] = meetings.meeting(uow, actor=people.gmo, meeting_id=meeting_id).rectifications
    assert (opened.id, opened.number, opened.description, opened.owner_department, opened.owner, opened.status) == (
        item_id, cases[0][1], "梳理理赔审核流程", "operations", "运营丁", "open")
    assert meetings.list_meetings(uow, actor=people.gmo).rows[0].rectifications == 1
