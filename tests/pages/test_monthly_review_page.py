"""月度检查 under AppTest: a department head confirms last month's ratios (and sees it on the home page until
then), disputes a case; the GM office resolves with new ratios; a complaint meeting is recorded; who may
not open the page is refused; the page keeps within forty queries."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from portal.domain.statistics import Period
from portal.persistence.models import ComplaintMeeting, Department, MonthConfirmation, ResponsibilityShare
from portal.services import monthly_review
from portal.ui.context import now as wall_now
from tests.conftest import People
from tests.pages.conftest import app_as, open_tab, page_path, selects, texts
from portal.ui.literal import literal
from tests.review_helpers import closed_case


def last_month() -> Period:
    today = wall_now()
    return Period.month(today.year, today.month).previous()


def build(uow) -> dict[str, int]:  # noqa: ANN001
    """Two cases closed last month: A (运营部 100 %) and B (运营部 60 %, 技术部 40 %)."""
    people = People(uow)
    first = datetime.combine(last_month().first, datetime.min.time())
    return {"A": closed_case(uow, people, first + timedelta(days=9, hours=10), {"operations": 100}),
            "B": closed_case(uow, people, first + timedelta(days=19, hours=10), {"operations": 60, "technical": 40})}


def confirmations(uow) -> dict[str, str]:  # noqa: ANN001
    with uow.read() as session:
        return {code: status for code, status in session.execute(
            select(Department.code, MonthConfirmation.status).join(Department)
            .where(MonthConfirmation.complaint_id.is_(None)))}


def todo_labels(at) -> list[str]:  # noqa: ANN001
    return [m.label for m in at.metric]


def test_a_department_head_confirms_last_months_ratios_from_the_home_to_do(page_db):
    build(page_db)
    home = app_as("opslead")
    assert "确认上月责任比例" in todo_labels(home)
    at = app_as("opslead", page_path("monthly_review"))
    assert not at.exception
    assert at.selectbox(key="review_month").value == last_month().label
    assert len(at.dataframe[0].value) == 2                       # the month's closed cases
    open_tab(at, "review_tabs", "review.tab.department")
    shown = at.dataframe[0].value
    assert list(shown["责任比例"]) == ["运营部 100%", "运营部 60%、技术部 40%"]
    at.button(key="review_confirm").click().run()
    assert not at.exception
    assert f"已确认 {last_month().label} 的责任比例。" in texts(at)
    assert confirmations(page_db) == {"operations": "confirmed"}
    assert "运营部 已由 运营主管子" in texts(at)
    assert "确认上月责任比例" not in todo_labels(app_as("opslead"))


def test_a_department_head_disputes_a_case_with_a_reason(page_db):
    ids = build(page_db)
    at = app_as("techlead", page_path("monthly_review"))
    open_tab(at, "review_tabs", "review.tab.department")
    form_button = next(b for b in at.button if b.label == "提出异议")
    assert at.selectbox(key="review_dispute_case").value is None          # the head picks the case
    at.selectbox(key="review_dispute_case").set_value(ids["B"])
    form_button.click().run()                                             # no reason: refused beside the field
    assert not at.exception and "此项为必填项。" in texts(at)
    with page_db.read() as session:
        assert session.scalar(select(MonthConfirmation.id)) is None
    at.selectbox(key="review_dispute_case").set_value(ids["B"])
    at.text_area(key="review_dispute_reason").input("系统无故障记录，应由运营部全责")
    next(b for b in at.button if b.label == "提出异议").click().run()
    assert not at.exception and "待总经理室处理" in texts(at)
    with page_db.read() as session:
        row = session.scalar(select(MonthConfirmation))
    assert (row.status, row.complaint_id, row.reason) == ("disputed", ids["B"], "系统无故障记录，应由运营部全责")


def test_the_gm_office_resolves_a_dispute_with_new_ratios(page_db):
    ids = build(page_db)
    uow, people = page_db, People(page_db)
    monthly_review.confirm_month(uow, actor=people.opslead, month=last_month().label, now=wall_now())
    dispute = monthly_review.dispute_case(uow, actor=people.techlead, month=last_month().label,
                                          complaint_id=ids["B"], reason="<b>系统</b> *无故障*", now=wall_now())
    assert "待处理的责任比例异议" in todo_labels(app_as("gmo"))
    at = app_as("gmo", page_path("monthly_review"))
    assert "尚有 1 项异议未处理" in texts(at)
    open_tab(at, "review_tabs", "review.tab.disputes")
    assert list(at.dataframe[0].value["异议理由"]) == ["<b>系统</b> *无故障*"]     # what was typed, as text
    assert at.selectbox(key="review_pick_dispute").value is None
    at.selectbox(key="review_pick_dispute").set_value(dispute).run()
    at.text_area(key=f"review_resolution_{dispute}").input("经复核，技术部承担七成")
    at.checkbox(key=f"review_change_{dispute}").check()
    at.number_input(key=f"review_share_{dispute}_technical").set_value(70)
    at.number_input(key=f"review_share_{dispute}_operations").set_value(30)
    next(b for b in at.button if b.label == "处理异议").click().run()
    assert not at.exception
    assert "已处理案件" in texts(at) and "比例有变的部门须重新确认：运营部" in texts(at)
    with uow.read() as session:
        shares = dict(session.execute(select(Department.code, ResponsibilityShare.ratio).join(Department)
                                      .where(ResponsibilityShare.complaint_id == ids["B"])).all())
    assert shares == {"technical": 70, "operations": 30}
    assert confirmations(uow) == {"operations": "withdrawn"}
    assert "待处理的责任比例异议" not in todo_labels(app_as("gmo"))


def test_the_gm_office_records_a_complaint_meeting(page_db):
    build(page_db)
    with page_db.read() as session:
        from portal.persistence.models import Complaint
        numbers = list(session.scalars(select(Complaint.number).order_by(Complaint.id)))
    at = app_as("gmo", page_path("monthly_review"))
    open_tab(at, "review_tabs", "review.tab.meetings")
    assert "尚无会议记录。" in texts(at)
    at.date_input(key="meeting_held_on").set_value(wall_now().date() - timedelta(days=1))
    at.text_input(key="meeting_title").input("月度投诉立会")
    at.text_input(key="meeting_cases").input(f"{numbers[0]}、9999-0001")
    next(b for b in at.button if b.label == "保存会议记录").click().run()
    assert not at.exception
    shown = texts(at)
    assert "找不到这些案件编号：" + literal("9999-0001") in shown and shown.count("此项为必填项。") == 2
    with page_db.read() as session:
        assert session.scalar(select(ComplaintMeeting.id)) is None
    at.text_input(key="meeting_cases").input(", ".join(numbers))
    at.text_area(key="meeting_attendees").input("总经理室、运营部、技术部")
    at.text_area(key="meeting_decisions").input("运营部整改审核时效")
    next(b for b in at.button if b.label == "保存会议记录").click().run()
    assert not at.exception and "会议记录已保存。" in texts(at)
    listed = at.dataframe[0].value
    assert list(listed["会议主题"]) == ["月度投诉立会"] and list(listed["案件数"]) == [2]
    with page_db.read() as session:
        meeting = session.scalar(select(ComplaintMeeting))
    assert (meeting.title, meeting.attendees, meeting.held_on) == (
        "月度投诉立会", "总经理室、运营部、技术部", wall_now().date() - timedelta(days=1))
    at.selectbox(key="meeting_pick").set_value(meeting.id).run()
    assert not at.exception and "本次会议尚未开立整改项。" in texts(at)
    assert at.selectbox(key=f"meeting_item_{meeting.id}_owner").value is None


def test_who_holds_none_of_its_duties_is_refused_the_page(page_db):
    from streamlit.testing.v1 import AppTest
    from portal.ui.auth import TOKEN
    from tests.pages.conftest import session_token
    for username in ("clerk", "techhandler", "admin"):
        at = app_as(username)                       # the address typed: a refusal at it
        at._page_hash = next(h for h, info in at._registered_pages.items()
                             if info.get("url_pathname") == "monthly_review")
        at.run()
        assert "您没有访问“月度检查”的权限" in texts(at), username
        assert not at.dataframe
        at = AppTest.from_file(page_path("monthly_review"), default_timeout=60)     # the script checks it itself
        at.session_state[TOKEN] = session_token(username)
        at.run()
        assert "没有访问" in texts(at) and not at.dataframe, username
    for username in ("boss", "techlead", "gmo"):
        at = app_as(username, page_path("monthly_review"))
        assert not at.exception and "月度检查" in texts(at), username


def test_the_page_keeps_within_forty_queries(page_db):
    build(page_db)
    at = app_as("opslead", page_path("monthly_review"))
    open_tab(at, "review_tabs", "review.tab.department")
    with selects() as seen:
        at.run()
    assert not at.exception and len(at.dataframe) == 1
    assert 0 < len(seen) <= 40, len(seen)


def test_the_statistics_page_shows_the_review_and_refuses_to_compile_while_a_dispute_is_open(page_db):
    from portal.persistence.models import StatsSnapshot
    ids = build(page_db)
    uow, people = page_db, People(page_db)
    month = last_month().label
    monthly_review.confirm_month(uow, actor=people.opslead, month=month, now=wall_now())
    dispute = monthly_review.dispute_case(uow, actor=people.techlead, month=month, complaint_id=ids["B"],
                                          reason="比例偏高", now=wall_now())
    at = app_as("gmo", page_path("statistics"))
    assert not at.exception
    lines = [t.value for t in at.text]
    assert any(line.startswith("运营部：2 件 · 已确认 运营主管子") for line in lines), lines
    assert any(line.startswith("技术部：1 件 · 未确认") and "待处理 1" in line for line in lines), lines
    [button] = [b for b in at.button if b.key == "stats_compile"]
    button.click().run()
    assert not at.exception and "尚有未处理的责任比例异议" in texts(at)
    with uow.read() as session:
        assert session.scalar(select(StatsSnapshot.id)) is None
    monthly_review.resolve_dispute(uow, actor=people.gmo, confirmation_id=dispute, resolution="维持", now=wall_now())
    at = app_as("gmo", page_path("statistics"))
    [button] = [b for b in at.button if b.key == "stats_compile"]
    button.click().run()
    assert not at.exception
    with uow.read() as session:
        figures = session.scalar(select(StatsSnapshot.figures))
    assert figures["review"]["unconfirmed"] == ["technical"] and len(figures["review"]["closed_cases"]) == 2


def test_the_gm_office_opens_a_rectification_item_from_a_meeting(page_db):
    from portal.persistence.models import Complaint, Rectification
    from portal.services import meetings
    ids = build(page_db)
    people = People(page_db)
    with page_db.read() as session:
        number = session.get(Complaint, ids["B"]).number
    meeting_id = meetings.record_meeting(page_db, actor=people.gmo, held_on=wall_now().date(), title="立会",
                                         attendees="总经理室、运营部", case_numbers=[number],
                                         decisions="运营部梳理审核流程", now=wall_now())
    at = app_as("gmo", page_path("monthly_review"))
    open_tab(at, "review_tabs", "review.tab.meetings")
    at.selectbox(key="meeting_pick").set_value(meeting_id).run()
    form = f"meeting_item_{meeting_id}"
    for key in ("case", "cause_code", "owner"):                 # each chosen by the person
        assert at.selectbox(key=f"{form}_{key}").value is None
    at.selectbox(key=f"{form}_case").set_value(ids["B"])
    at.selectbox(key=f"{form}_cause_code").set_value("process.execution")
    at.text_input(key=f"{form}_cause").input("审核积压")
    at.text_area(key=f"{form}_description").input("梳理理赔审核流程")
    at.selectbox(key=f"{form}_owner").set_value(people.opshandler.id)
    next(b for b in at.button if b.label == "开立整改项").click().run()      # no deadline yet
    assert not at.exception and "此项为必填项。" in texts(at)
    with page_db.read() as session:
        assert session.scalar(select(Rectification.id)) is None
    at.date_input(key=f"{form}_deadline").set_value(wall_now().date() + timedelta(days=30))
    next(b for b in at.button if b.label == "开立整改项").click().run()
    assert not at.exception and "整改项已开立。" in texts(at)
    with page_db.read() as session:
        item = session.scalar(select(Rectification))
    assert (item.meeting_id, item.complaint_id, item.owner_id) == (meeting_id, ids["B"], people.opshandler.id)
    at.selectbox(key="meeting_pick").set_value(meeting_id).run()
    items = next(df.value for df in at.dataframe if "整改内容" in df.value.columns)
    assert list(items["整改内容"]) == ["梳理理赔审核流程"] and list(items["责任人"]) == ["运营丁"]
