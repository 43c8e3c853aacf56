"""Issue 18 pages: the follow-up form (how it was done must be chosen) with the case's visits so far, the remedy
carried out, a department's dissatisfied follow-ups, the GM office's archive tab, the case page's summary."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.domain.satisfaction import Survey
from portal.persistence.models import Complaint, FollowUp, FollowUpAction
from portal.services import closing, handling
from portal.services.actors import load_actor
from portal.services.queries import current_version
from portal.ui.context import now as wall_now
from tests.closing_helpers import quality_checked
from tests.pages.conftest import app_as, open_tab, page_path, texts
from tests.pages.test_handling_pages import _case, _state


def _closed(uow) -> int:
    case_id = _case(uow, "never")
    handling.final_approve(uow, actor=load_actor(uow, "approver"), complaint_id=case_id, approve=True, comment="",
                           now=wall_now() - timedelta(days=1), expected_version=current_version(uow, case_id))
    return case_id


def _follow_up(uow, case_id, survey, method="phone"):
    handling.record_follow_up(uow, actor=load_actor(uow, "clerk"), complaint_id=case_id, outcome="客户反馈记录",
                              survey=survey, method=method, now=wall_now() - timedelta(hours=20),
                              expected_version=current_version(uow, case_id))


def _pay(uow, case_id):
    closing.record_remedy(uow, actor=load_actor(uow, "clerk"), complaint_id=case_id,
                          paid_on=(wall_now() - timedelta(days=1)).date(), amount="3000", reference="PAY-7",
                          now=wall_now() - timedelta(hours=19), expected_version=current_version(uow, case_id))


def test_the_follow_up_form_asks_how_it_was_done_and_nothing_is_chosen_for_the_clerk(page_db):
    case_id = _closed(page_db)
    at = open_tab(app_as("clerk", page_path("negotiation")), "negotiation_tabs", "neg.tab.follow_up")
    assert at.radio(key=f"follow_method_{case_id}").value is None
    assert "尚无回访记录。" in texts(at)
    at.text_area(key=f"follow_outcome_{case_id}").input("客户认可处理结果")
    for name in ("process", "attitude", "efficiency", "result", "overall"):
        at.selectbox(key=f"follow_{name}_{case_id}").set_value(4)
    record = next(b for b in at.button if b.label == "记录回访")
    record.click().run()
    assert "请选择。" in texts(at)
    with page_db.read() as session:
        assert session.scalar(select(FollowUp.id).where(FollowUp.complaint_id == case_id)) is None
    at.radio(key=f"follow_method_{case_id}").set_value("questionnaire")
    next(b for b in at.button if b.label == "记录回访").click().run()
    assert not at.exception and "已记录回访：已结案。" in texts(at)
    with page_db.read() as session:
        visit = session.scalars(select(FollowUp).where(FollowUp.complaint_id == case_id)).one()
    assert (visit.method, visit.dissatisfied) == ("questionnaire", False)
    assert _state(page_db, case_id) == "closed"          # a follow-up no longer archives


def test_a_dissatisfied_follow_up_shows_its_second_visit_and_reaches_the_department(page_db):
    case_id = _closed(page_db)
    _follow_up(page_db, case_id, Survey(2, 1, 2, 2, 1), method="visit")
    gm = open_tab(app_as("gmo", page_path("gm_office")), "gm_tabs", "gm.tab.follow_up")
    frames = [d.value for d in gm.dataframe]
    assert any("上门回访" in f.to_string() for f in frames)
    assert any("客户不满意后的二次回访" in f.to_string() for f in frames)
    dept = open_tab(app_as("opshandler", page_path("department")), "dept_tabs", "dept.tab.follow_ups")
    assert any("客户反馈记录" in d.value.to_string() for d in dept.dataframe)
    next(b for b in dept.button if b.label == "记录改进措施").click().run()
    assert "此项为必填项。" in texts(dept)
    with page_db.read() as session:
        action_id = session.scalar(select(FollowUpAction.id).where(FollowUpAction.complaint_id == case_id))
    assert dept.selectbox(key="dept_follow_pick").value == action_id
    dept.text_area(key=f"dept_follow_text_{action_id}").input("已对查勘人员再培训")
    next(b for b in dept.button if b.label == "记录改进措施").click().run()
    assert "已记录本部门的改进措施。" in texts(dept)
    with page_db.read() as session:
        assert session.scalar(select(FollowUpAction.action)) == "已对查勘人员再培训"


def test_the_remedy_is_recorded_on_the_negotiation_page(page_db):
    case_id = _closed(page_db)
    at = open_tab(app_as("clerk", page_path("negotiation")), "negotiation_tabs", "neg.tab.remedy")
    assert "与客户约定的金额：3000.00 元" in texts(at)
    at.text_input(key=f"remedy_amount_{case_id}").input("0")
    next(b for b in at.button if b.label == "记录补偿已落实").click().run()
    assert "金额须大于零。" in texts(at) and "此项为必填项。" in texts(at)
    at.date_input(key=f"remedy_paid_on_{case_id}").set_value(wall_now().date())
    at.text_input(key=f"remedy_amount_{case_id}").input("3000")
    at.text_input(key=f"remedy_reference_{case_id}").input("PAY-2611-9")
    next(b for b in at.button if b.label == "记录补偿已落实").click().run()
    assert "已记录补偿落实。" in texts(at)
    with page_db.read() as session:
        assert session.get(Complaint, case_id).remedy_reference == "PAY-2611-9"


def test_the_gm_office_archives_a_ready_case_with_its_summary_and_sees_what_blocks_the_others(page_db):
    blocked = _closed(page_db)
    ready = _closed(page_db)
    _follow_up(page_db, ready, Survey(5, 5, 5, 5, 5))
    _pay(page_db, ready)
    quality_checked(page_db, ready, load_actor(page_db, "opshandler").id, wall_now() - timedelta(hours=18))
    at = open_tab(app_as("gmo", page_path("gm_office")), "gm_tabs", "gm.tab.archive")
    assert "已结案待归档 2 件，其中 1 件可立即归档（可归档的排在前面）。" in texts(at)
    table = at.dataframe[0].value
    assert list(table["待完成事项"]) == ["可以总结归档。", "尚未回访客户。；与客户约定的补偿尚未记录为已落实。；运营部尚未完成质量检验确认。"]
    assert at.selectbox(key="archive_pick").value == ready
    assert at.selectbox(key=f"summary_cause_{ready}").value is None
    next(b for b in at.button if b.label == "总结并归档").click().run()
    assert "此项为必填项。" in texts(at) and "请选择。" in texts(at) and _state(page_db, ready) == "closed"
    at.text_area(key=f"lessons_{ready}").input("定损标准需统一培训")
    at.selectbox(key=f"summary_cause_{ready}").set_value("people.skill")
    next(b for b in at.button if b.label == "总结并归档").click().run()
    assert "案件已总结归档。" in texts(at) and _state(page_db, ready) == "archived"
    at.selectbox(key="archive_pick").set_value(blocked).run()
    assert "该案件尚不能归档：" in texts(at) and "• 尚未回访客户。" in texts(at)
    # the case page: the follow-up (how, by whom) and the 总结
    case = app_as("gmo", page_path("case"))
    case.text_input(key="case_ref").input(str(ready)).run()
    shown = texts(case)
    assert "定损标准需统一培训" in shown and "原因分类：人员 / 业务技能不足" in shown and "是否开立整改项：否" in shown
    visits = next(d.value for d in case.dataframe if "回访方式" in d.value.columns)
    assert list(visits["回访方式"]) == ["电话回访"] and list(visits["回访人"]) == [load_actor(page_db, "clerk").display_name]


def test_the_history_tells_the_steps_after_closure_in_chinese_words(page_db):
    import re
    case_id = _closed(page_db)
    _follow_up(page_db, case_id, Survey(2, 1, 2, 2, 1), method="visit")
    _pay(page_db, case_id)
    case = app_as("gmo", page_path("case"))
    case.text_input(key="case_ref").input(str(case_id)).run()
    history = next(df.value for df in case.dataframe if "变更内容" in df.value.columns)
    cells = [str(c) for c in history["变更内容"] if c]
    joined = "\n".join(cells)
    assert "原因分类：流程 / 执行不到位" in joined and "回访方式：上门回访" in joined
    assert "转责任部门：运营部" in joined and "客户不满意：是" in joined and "支付凭证号：PAY-7" in joined
    for cell in cells:
        words = re.findall(r"[A-Za-z_]{3,}", re.sub(r"\S+@\S+|PAY-7", "", cell))
        assert not [w for w in words if not w.isupper()], cell          # no field names or codes


def test_the_gm_office_schedules_another_follow_up_by_a_date_with_a_reason(page_db):
    from portal.persistence.models import FollowUpSchedule
    case_id = _closed(page_db)
    _follow_up(page_db, case_id, Survey(2, 1, 2, 2, 1))
    gm = open_tab(app_as("gmo", page_path("gm_office")), "gm_tabs", "gm.tab.follow_up")
    assert gm.date_input(key=f"schedule_due_{case_id}").value is None
    next(b for b in gm.button if b.label == "安排回访").click().run()
    assert "此项为必填项。" in texts(gm)
    with page_db.read() as session:
        assert len(session.scalars(select(FollowUpSchedule).where(FollowUpSchedule.complaint_id == case_id)).all()) == 1
    due = wall_now().date() + timedelta(days=10)
    gm.date_input(key=f"schedule_due_{case_id}").set_value(due)
    gm.text_input(key=f"schedule_reason_{case_id}").input("客户要求到账后再回访")
    next(b for b in gm.button if b.label == "安排回访").click().run()
    assert "已安排回访。" in texts(gm)
    with page_db.read() as session:
        reasons = session.scalars(select(FollowUpSchedule.reason).where(FollowUpSchedule.complaint_id == case_id)
                                  .order_by(FollowUpSchedule.id)).all()
    assert reasons == ["second_visit", "客户要求到账后再回访"]
