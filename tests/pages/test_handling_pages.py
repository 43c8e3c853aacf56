"""The handling pages under AppTest: each role does its step on a case set up through the services."""
from __future__ import annotations

from datetime import timedelta

from portal.domain.regulatory import Decision
from sqlalchemy import select

from portal.persistence.models import Complaint
from portal.services import complaints, handling
from portal.services.actors import load_actor
from portal.ui.context import now as wall_now
from portal.services.queries import current_version
from tests.helpers import a_form
from tests.pages.conftest import app_as, open_tab, page_path, texts


DECISION = Decision(checked="核对理赔系统与查勘记录", basis="保险合同第五条", remedies=["review", "mediation"],
                    told_via="phone", proof="通话录音 REC-001")
REPORT = handling.InvestigationReport(cause_code="process.execution", evidence="通话录音", cause="审核积压", finding="company_fault",
                                      measures="增派人员", proposed_amount="3000")


def _case(uow, until: str) -> int:
    at = wall_now() - timedelta(days=2)
    who = lambda name: load_actor(uow, name)  # noqa: E731
    case_id = complaints.register_complaint(uow, actor=who("clerk"), form=a_form(received_at=at),
                                            attachments=[], now=at).id
    complaints.accept_complaint(uow, actor=who("gmo"), complaint_id=case_id, category="claim", severity="general",
                                departments=["operations"], now=at)
    steps = [
        ("consolidate", lambda: handling.submit_report(uow, actor=who("opshandler"), complaint_id=case_id,
                                                        report=REPORT, now=at,
                                                            expected_version=current_version(uow, case_id))),
        ("gm_report", lambda: handling.report_to_gm(uow, actor=who("opshandler"), complaint_id=case_id,
                                                    report="调查完毕，呈总经理室", now=at,
                                                        expected_version=current_version(uow, case_id))),
        ("instruct", lambda: handling.instruct_report(uow, actor=who("genmgr"), complaint_id=case_id,
                                                      instruction="同意调查结论", now=at,
                                                          expected_version=current_version(uow, case_id))),
        ("approve", lambda: handling.consolidate(uow, actor=who("gmo"), complaint_id=case_id, opinion="同意",
                                                 proposed_amount="3000", now=at,
                                                     expected_version=current_version(uow, case_id))),
        ("negotiate", lambda: handling.approve(uow, actor=who("approver"), complaint_id=case_id,
                                               instructions="按3000元赔付", amount_limit="3000", now=at,
                                                   expected_version=current_version(uow, case_id))),
        ("review", lambda: handling.record_negotiation(uow, decision=DECISION, actor=who("clerk"), complaint_id=case_id,
                                                       result="accepted", note="客户接受", agreed_amount="3000",
                                                       now=at, expected_version=current_version(uow, case_id))),
        ("close", lambda: handling.review_negotiation(uow, actor=who("lead"), complaint_id=case_id, approve=True,
                                                      comment="", now=at,
                                                          expected_version=current_version(uow, case_id))),
        ("final", lambda: handling.close_case(uow, cause_code="process.execution", actor=who("gmo"), complaint_id=case_id, final_opinion="结案",
                                              shares={}, responsibility_level="none", penalty_persons="", now=at,
                                                  expected_version=current_version(uow, case_id))),
    ]
    for name, step in steps:
        if name == until:
            break
        step()
    return case_id


def _state(uow, case_id):
    with uow.read() as session:
        return session.get(Complaint, case_id).state


def test_the_department_submits_its_report(page_db):
    case_id = _case(page_db, "consolidate")
    at = app_as("opshandler", page_path("department"))
    assert not at.exception
    key = f"report_{case_id}_"
    at.text_area(key=key + "evidence").input("通话录音与系统日志")
    at.text_area(key=key + "cause").input("审核积压")
    at.text_area(key=key + "measures").input("增派审核人员")
    assert at.radio(key=key + "finding").value is None          # the handler decides, not the default
    next(b for b in at.button if b.label == "提交调查报告").click().run()
    assert "请选择。" in texts(at) and _state(page_db, case_id) == "investigating"
    at.radio(key=key + "finding").set_value("company_fault")
    assert at.selectbox(key=key + "cause_code").value is None     # the cause class too (issue 18)
    next(b for b in at.button if b.label == "提交调查报告").click().run()
    assert "请选择。" in texts(at) and _state(page_db, case_id) == "investigating"
    assert at.selectbox(key=key + "cause_code").options[0] == "人员 / 服务态度"
    at.selectbox(key=key + "cause_code").set_value("process.execution")
    next(b for b in at.button if b.label == "提交调查报告").click().run()
    assert "已提交调查报告" in texts(at)
    assert _state(page_db, case_id) == "awaiting_report"
    # the report to the GM office, its own step (002 art.13.2)
    at = open_tab(app_as("opshandler", page_path("department")), "dept_tabs", "dept.tab.report")
    assert "调查已完成，待呈报总经理室（3 天内）" in texts(at)
    next(b for b in at.button if b.label == "呈报总经理室").click().run()
    assert "此项为必填项。" in texts(at) and _state(page_db, case_id) == "awaiting_report"
    at.text_area(key=f"gm_report_text_{case_id}").input("调查完毕：审核积压，建议赔付并致歉")
    next(b for b in at.button if b.label == "呈报总经理室").click().run()
    assert "调查报告已呈报，待总经理批示。" in texts(at)
    assert _state(page_db, case_id) == "awaiting_gm_instruction"


def test_the_general_manager_instructs_the_report_and_only_the_gm_sees_it(page_db):
    case_id = _case(page_db, "instruct")
    deputy = app_as("vicegm", page_path("approval"))
    assert "待批示调查报告" not in [tab.label for tab in deputy.tabs]
    gm = open_tab(app_as("genmgr", page_path("approval")), "approval_tabs", "appr.instruct_queue")
    assert "调查完毕，呈总经理室" in _cells(gm)                 # the 3-day report beside the form
    next(b for b in gm.button if b.label == "批示").click().run()
    assert "此项为必填项。" in texts(gm) and _state(page_db, case_id) == "awaiting_gm_instruction"
    gm.text_area(key=f"instruction_{case_id}").input("同意，请总经理室综合意见")
    next(b for b in gm.button if b.label == "批示").click().run()
    assert "已批示，总经理室可汇总综合意见。" in texts(gm)
    assert _state(page_db, case_id) == "awaiting_consolidation"


def test_the_technical_lead_instructs_the_analysis_before_consolidation(page_db):
    at = wall_now() - timedelta(days=2)
    who = lambda name: load_actor(page_db, name)  # noqa: E731
    case_id = complaints.register_complaint(page_db, actor=who("clerk"), form=a_form(received_at=at), attachments=[],
                                            now=at).id
    complaints.accept_complaint(page_db, actor=who("gmo"), complaint_id=case_id, category="claim", severity="general",
                                departments=["technical"], now=at)
    handling.submit_report(page_db, actor=who("techhandler"), complaint_id=case_id, report=REPORT, now=at,
                           expected_version=current_version(page_db, case_id))
    lead = open_tab(app_as("techlead", page_path("department")), "dept_tabs", "dept.tab.instruct")
    assert "待我批示的本部门分析" in texts(lead)
    lead.text_area(key=f"lead_instruction_{case_id}").input("同意技术分析结论")
    next(b for b in lead.button if b.label == "批示").click().run()
    assert "已批示，总经理室可据此汇总综合意见。" in texts(lead)
    with page_db.read() as session:
        routing = session.get(Complaint, case_id).departments[0]
        assert routing.lead_instruction == "同意技术分析结论"


def test_a_report_missing_its_cause_is_refused_beside_the_field(page_db):
    case_id = _case(page_db, "consolidate")
    at = app_as("opshandler", page_path("department"))
    at.text_area(key=f"report_{case_id}_evidence").input("记录")
    next(b for b in at.button if b.label == "提交调查报告").click().run()
    assert "此项为必填项" in texts(at)
    assert at.text_area(key=f"report_{case_id}_evidence").value == "记录"
    assert _state(page_db, case_id) == "investigating"


def test_the_gm_office_consolidates_and_routes_to_the_right_level(page_db):
    case_id = _case(page_db, "approve")
    at = open_tab(app_as("gmo", page_path("gm_office")), "gm_tabs", "gm.tab.consolidate")
    at.text_area(key=f"opinion_{case_id}").input("同意赔付")
    at.text_input(key=f"opinion_amount_{case_id}").input("8000")
    next(b for b in at.button if b.label == "汇总并送核决").click().run()
    assert "送“副总经理”核决" in texts(at)
    assert _state(page_db, case_id) == "awaiting_approval"


def test_the_approver_approves_within_authority(page_db):
    case_id = _case(page_db, "negotiate")
    at = app_as("approver", page_path("approval"))
    assert not at.exception
    at.text_area(key=f"appr_instr_{case_id}").input("按3000元赔付并致歉")
    next(b for b in at.button if b.label == "核决通过").click().run()
    assert "已核决" in texts(at)
    assert _state(page_db, case_id) == "negotiating"


def test_intake_records_the_negotiation_within_the_limit_only(page_db):
    case_id = _case(page_db, "review")
    at = app_as("clerk", page_path("negotiation"))
    assert "按3000元赔付" in texts(at)
    at.text_area(key=f"neg_note_{case_id}").input("客户接受")
    at.text_area(key=f"neg_checked_{case_id}").input("核对理赔记录")
    at.text_area(key=f"neg_basis_{case_id}").input("合同第五条")
    at.text_input(key=f"neg_proof_{case_id}").input("录音 REC-9")
    at.text_input(key=f"neg_amount_{case_id}").input("5000")
    assert at.radio(key=f"neg_result_{case_id}").value is None
    assert at.multiselect(key=f"neg_remedies_{case_id}").value == []
    assert at.selectbox(key=f"neg_via_{case_id}").value is None
    next(b for b in at.button if b.label == "记录交涉结果").click().run()
    assert "请选择。" in texts(at) and "请至少选择一项告知客户的救济途径" in texts(at)
    assert _state(page_db, case_id) == "negotiating"
    at.radio(key=f"neg_result_{case_id}").set_value("accepted")
    at.multiselect(key=f"neg_remedies_{case_id}").select("review")
    at.selectbox(key=f"neg_via_{case_id}").select("phone")
    next(b for b in at.button if b.label == "记录交涉结果").click().run()
    assert "不得超出核决授权金额" in texts(at)
    at.text_input(key=f"neg_amount_{case_id}").input("3000")
    next(b for b in at.button if b.label == "记录交涉结果").click().run()
    assert "已记录交涉结果" in texts(at)
    assert _state(page_db, case_id) == "awaiting_review"


def test_the_gm_office_closes_with_the_penalty_standard(page_db):
    case_id = _case(page_db, "final")
    at = open_tab(app_as("gmo", page_path("gm_office")), "gm_tabs", "gm.tab.close")
    assert at.selectbox(key=f"level_{case_id}").value is None
    assert at.multiselect(key=f"responsible_{case_id}").value == []
    assert "部门损失" not in texts(at)
    at.selectbox(key=f"level_{case_id}").select("general").run()
    assert "部门损失 2000.00 元" in texts(at)
    # two departments share the responsibility: a ratio each, starting empty, adding up to 100
    at.multiselect(key=f"responsible_{case_id}").select("operations").select("technical").run()
    assert at.number_input(key=f"share_{case_id}_operations").value is None
    at.number_input(key=f"share_{case_id}_operations").set_value(60).run()
    at.text_area(key=f"final_{case_id}").input("按基准处理后结案")
    close = "作出综合意见并送最终核决"
    next(b for b in at.button if b.label == close).click().run()
    assert "每个部门的责任比例须为 1 至 100 之间的整数。" in texts(at) and _state(page_db, case_id) == "awaiting_closure"
    at.number_input(key=f"share_{case_id}_technical").set_value(30).run()
    next(b for b in at.button if b.label == close).click().run()
    assert "各部门责任比例合计须为 100%，现为 90%。" in texts(at) and _state(page_db, case_id) == "awaiting_closure"
    at.number_input(key=f"share_{case_id}_technical").set_value(40).run()
    assert at.selectbox(key=f"close_cause_{case_id}").value is None      # the cause: the GM office chooses
    next(b for b in at.button if b.label == close).click().run()
    assert "请选择。" in texts(at) and _state(page_db, case_id) == "awaiting_closure"
    at.selectbox(key=f"close_cause_{case_id}").set_value("process.handover")
    next(b for b in at.button if b.label == close).click().run()
    assert "已作出综合意见，送“业务部经理”最终核决；核签后结案。" in texts(at)
    assert _state(page_db, case_id) == "awaiting_penalty"
    # the final 核决 (002 art.13.5-13.7) confirms the loss and the penalty, seeing the shares; a return needs a reason
    approver = open_tab(app_as("approver", page_path("approval")), "approval_tabs", "appr.final_queue")
    from portal.ui.literal import literal
    assert literal("运营部 60%、技术部 40%") in _cells(approver)
    next(b for b in approver.button if b.label == "退回总经理室重拟").click().run()
    assert "此项为必填项。" in texts(approver) and _state(page_db, case_id) == "awaiting_penalty"
    next(b for b in approver.button if b.label == "核签结案").click().run()
    assert "已核签，案件已结案；结案通知已排入发送。" in texts(approver)
    assert _state(page_db, case_id) == "closed"


def test_a_case_nobody_may_decide_shows_on_the_gm_office_page(page_db):
    from portal.services import users
    case_id = _case(page_db, "review")
    who = lambda name: load_actor(page_db, name)  # noqa: E731
    users.set_user_active(page_db, actor=who("admin"), username="lead2", active=False, now=wall_now())
    handling.record_negotiation(page_db, decision=DECISION, actor=who("lead"), complaint_id=case_id,
                                result="accepted", note="主管亲自交涉", agreed_amount="3000", now=wall_now(),
                                    expected_version=current_version(page_db, case_id))
    gm = open_tab(app_as("gmo", page_path("gm_office")), "gm_tabs", "gm.tab.stuck")
    table = next(df.value for df in gm.dataframe if "等待的决定" in df.value.columns)
    assert list(table["等待的决定"]) == ["核阅交涉结果"]
    assert list(table["原因"]) == ["有此职责的用户都因四眼原则或被投诉回避而不能处理"]
    lead = open_tab(app_as("lead", page_path("negotiation")), "negotiation_tabs", "neg.tab.review")
    assert "没有待处理的案件。" in texts(lead)      # not offered to the negotiator
    with page_db.read() as session:
        number = session.get(Complaint, case_id).number
    page = app_as("gmo", page_path("case"))
    page.text_input(key="case_ref").input(number).run()
    assert "当前等待：核阅交涉结果。无可处理人：有此职责的用户都因四眼原则或被投诉回避而不能处理。" in texts(page)


def test_the_case_page_records_appraisal_and_a_rectification_the_department_completes(page_db):
    from datetime import date
    case_id = _case(page_db, "approve")
    with page_db.read() as session:
        number = session.get(Complaint, case_id).number
    at = app_as("gmo", page_path("case"))
    at.text_input(key="case_ref").input(number).run()
    assert at.selectbox(key=f"outside_kind_{case_id}").value is None
    at.selectbox(key=f"outside_kind_{case_id}").select("appraisal")
    next(b for b in at.button if b.label == "开始外部鉴定 / 调解").click().run()
    assert "外部第三方鉴定进行中" in texts(at)
    assert at.selectbox(key=f"rectify_owner_{case_id}").value is None
    assert at.selectbox(key=f"rectify_cause_code_{case_id}").value is None
    at.selectbox(key=f"rectify_cause_code_{case_id}").set_value("process.execution")
    at.selectbox(key=f"rectify_cause_{case_id}").select("审核积压")
    at.text_area(key=f"rectify_description_{case_id}").input("建立审核时效提醒")
    at.selectbox(key=f"rectify_owner_{case_id}").set_value(load_actor(page_db, "opshandler").id)
    at.date_input(key=f"rectify_deadline_{case_id}").set_value(date.today() + timedelta(days=30))
    next(b for b in at.button if b.label == "新增整改事项").click().run()
    assert "已新增整改事项" in texts(at)
    handler = app_as("opshandler", page_path("department"))
    assert not handler.exception, handler.exception
    assert "建立审核时效提醒" in list(handler.dataframe[0].value["整改内容"])
    from portal.persistence.models import Rectification
    with page_db.read() as session:
        item_id = session.scalar(select(Rectification.id).where(Rectification.complaint_id == case_id))
    handler.selectbox(key="rect_complete_item").set_value(item_id)
    handler.text_area(key="rect_complete_evidence").input("提醒功能已上线")
    next(b for b in handler.button if b.label == "记录完成").click().run()
    assert "已记录完成" in texts(handler)
    # The department's list shows what it still has to do: the completed item leaves it.
    assert not any("建立审核时效提醒" in list(df.value.get("整改内容", [])) for df in handler.dataframe)
    from portal.persistence.models import Rectification
    with page_db.read() as session:
        assert session.scalar(select(Rectification.status).where(Rectification.complaint_id == case_id)) == "done"


def test_the_second_of_two_users_saving_the_same_case_is_told_and_keeps_what_they_typed(page_db):
    case_id = _case(page_db, "approve")
    with page_db.read() as session:
        number = session.get(Complaint, case_id).number
    first, second = app_as("gmo", page_path("case")), app_as("gmo", page_path("case"))
    for at in (first, second):
        at.text_input(key="case_ref").input(number).run()
    first.text_input(key=f"other_company_{case_id}").input("甲再保险公司")
    next(b for b in first.button if b.label == "标记他公司责任").click().run()
    assert "已标记" in texts(first)
    second.text_input(key=f"other_company_{case_id}").input("乙保险公司")
    next(b for b in second.button if b.label == "标记他公司责任").click().run()
    assert "该案件已被他人修改" in texts(second)
    assert second.text_input(key=f"other_company_{case_id}").value == "乙保险公司"
    with page_db.read() as session:
        assert session.get(Complaint, case_id).other_company == "甲再保险公司"


def test_two_loads_of_the_department_page_issue_one_reminder(page_db):
    from sqlalchemy import func, select
    from portal.persistence.models import Reminder
    at = wall_now() - timedelta(days=30)
    case_id = complaints.register_complaint(page_db, actor=load_actor(page_db, "clerk"), form=a_form(received_at=at),
                                            attachments=[], now=at).id
    complaints.accept_complaint(page_db, actor=load_actor(page_db, "gmo"), complaint_id=case_id, category="claim",
                                severity="general", departments=["operations"], now=at)
    page = app_as("opshandler", page_path("department"))
    with page_db.read() as session:
        first = session.scalar(select(func.count()).select_from(Reminder))
    page.run()
    app_as("gmo", page_path("gm_office"))
    with page_db.read() as session:
        assert session.scalar(select(func.count()).select_from(Reminder)) == first > 0
    assert "催办单" in texts(page)


def test_the_history_is_told_in_chinese_words(page_db):
    import re
    case_id = _case(page_db, "never")
    with page_db.read() as session:
        number = session.get(Complaint, case_id).number
    at = app_as("gmo", page_path("case"))
    at.text_input(key="case_ref").input(number).run()
    history = next(df.value for df in at.dataframe if "变更内容" in df.value.columns)
    cells = [str(c) for c in history["变更内容"] if c]
    joined = "\n".join(cells)
    assert "渠道：电话" in joined and "投诉编号：" in joined and "需核决级别：业务部经理" in joined
    assert "交涉结果：客户接受" in joined and "告知方式：电话" in joined
    for cell in cells:
        words = re.findall(r"[A-Za-z_]{3,}", re.sub(r"\S+@\S+", "", cell))
        assert not [w for w in words if not w.isupper()], cell          # no field names, codes or dicts
        assert "=" not in cell and "{" not in cell


def test_the_gm_office_issues_a_reminder_by_hand_and_the_department_answers_it(page_db):
    from sqlalchemy import func
    from portal.persistence.models import Reminder
    case_id = _case(page_db, "consolidate")
    with page_db.read() as session:
        number = session.get(Complaint, case_id).number
    by_hand = select(func.count()).select_from(Reminder).where(Reminder.issued_by_id.is_not(None))
    gm = open_tab(app_as("gmo", page_path("gm_office")), "gm_tabs", "gm.tab.reminders")
    assert gm.selectbox(key="issue_kind").value is None and gm.selectbox(key="issue_department").value is None
    gm.text_input(key="issue_case").input(number)
    gm.selectbox(key="issue_kind").set_value("reminder")
    gm.selectbox(key="issue_department").set_value("operations")
    gm.text_area(key="issue_content").input("请补充查勘照片后答复")
    gm.button(key="FormSubmitter:issue_reminder-开立").click().run()
    # no answer date yet: refused beside the field, nothing saved
    assert "此项为必填项。" in texts(gm)
    with page_db.read() as session:
        assert session.scalar(by_hand) == 0
    gm.date_input(key="issue_day").set_value(wall_now().date() + timedelta(days=2))
    gm.button(key="FormSubmitter:issue_reminder-开立").click().run()
    assert not gm.exception
    assert "已开立并送达该部门。" in texts(gm)
    table = next(df.value for df in gm.dataframe if "开立人" in df.value.columns)
    row = table.iloc[0]
    assert row["内容"] == "请补充查勘照片后答复" and row["开立人"] == "总经理室丙" and row["类型"] == "催办单"
    assert row["截止时间"].startswith(str(wall_now().date() + timedelta(days=2)))

    dept = app_as("opshandler", page_path("department"))
    mine = next(df.value for df in dept.dataframe if "开立人" in df.value.columns)
    assert "请补充查勘照片后答复" in list(mine["内容"])
    assert dept.selectbox(key="answer_pick").value is None
    dept.text_area(key="answer_text").input("照片已补充")
    dept.button(key="FormSubmitter:answer_reminder-答复").click().run()
    assert "请选择。" in texts(dept)                                   # which item: the person decides
    with page_db.read() as session:
        item = session.scalar(select(Reminder).where(Reminder.content == "请补充查勘照片后答复"))
        assert item.answered_at is None
        item_id = item.id
    dept.selectbox(key="answer_pick").set_value(item_id)
    dept.button(key="FormSubmitter:answer_reminder-答复").click().run()
    assert "已答复。" in texts(dept)
    with page_db.read() as session:
        assert session.get(Reminder, item_id).answer == "照片已补充"


def _cells(at) -> list[str]:
    return [str(v) for table in at.table for v in table.value.to_numpy().ravel()]


def test_each_decision_is_shown_what_it_needs_beside_its_form(page_db):
    from portal.ui.literal import literal
    at = wall_now() - timedelta(days=2)
    who = lambda name: load_actor(page_db, name)  # noqa: E731
    case_id = complaints.register_complaint(page_db, actor=who("clerk"), attachments=[], now=at, form=a_form(
        received_at=at, description="客户称定损金额过低", expected_resolution="重新定损", amount_at_stake="8800",
        clerk_opinion="建议复勘")).id
    # 受理: the description, expected resolution and amount
    gm = app_as("gmo", page_path("gm_office"))
    cells = _cells(gm)
    for value in ("客户称定损金额过低", "重新定损", literal("8,800.00"), "建议复勘"):
        assert value in cells, value
    complaints.accept_complaint(page_db, actor=who("gmo"), complaint_id=case_id, category="claim", severity="general",
                                departments=["operations"], now=at)
    handling.submit_report(page_db, actor=who("opshandler"), complaint_id=case_id, now=at, report=handling.InvestigationReport(cause_code="process.execution", 
        evidence="查勘照片与定损单", cause="定损标准理解不一", finding="company_fault", responsible_unit="理赔二科",
        responsible_persons="李定损", measures="复勘", proposed_amount="3000"),
            expected_version=current_version(page_db, case_id))
    handling.report_to_gm(page_db, actor=who("opshandler"), complaint_id=case_id, report="调查完毕", now=at,
                          expected_version=current_version(page_db, case_id))
    handling.instruct_report(page_db, actor=who("genmgr"), complaint_id=case_id, instruction="同意", now=at,
                             expected_version=current_version(page_db, case_id))
    # 汇总: each department's evidence and proposed responsible unit and person
    gm = open_tab(app_as("gmo", page_path("gm_office")), "gm_tabs", "gm.tab.consolidate")
    cells = _cells(gm)
    for value in ("查勘照片与定损单", "理赔二科", "李定损", "定损标准理解不一"):
        assert value in cells, value
    handling.consolidate(page_db, actor=who("gmo"), complaint_id=case_id, opinion="同意复勘后赔付", proposed_amount="3000",
                         now=at, expected_version=current_version(page_db, case_id))
    approval = app_as("approver", page_path("approval"))
    assert approval.text_input(key=f"appr_limit_{case_id}").value == ""         # the approver decides the limit
    assert "同意复勘后赔付" in _cells(approval) and "李定损" in _cells(approval)
    handling.approve(page_db, actor=who("approver"), complaint_id=case_id, instructions="按3000元赔付",
                     amount_limit="3000", now=at, expected_version=current_version(page_db, case_id))
    handling.record_negotiation(page_db, decision=DECISION, actor=who("clerk"), complaint_id=case_id,
                                result="accepted", note="客户接受", agreed_amount="3000", now=at,
                                    expected_version=current_version(page_db, case_id))
    # 核阅: the approved instructions and limit, how the customer was told, with its proof
    review = open_tab(app_as("lead", page_path("negotiation")), "negotiation_tabs", "neg.tab.review")
    cells = _cells(review)
    for value in ("按3000元赔付", literal("3,000.00"), "电话", literal("通话录音 REC-001"), "核决己"):
        assert value in cells, value


def test_a_follow_up_task_shows_the_scores_that_opened_it(page_db):
    from portal.domain.satisfaction import Survey
    case_id = _case(page_db, "never")
    who = lambda name: load_actor(page_db, name)  # noqa: E731
    at = wall_now() - timedelta(days=1)
    handling.final_approve(page_db, actor=who("approver"), complaint_id=case_id, approve=True, comment="", now=at,
                           expected_version=current_version(page_db, case_id))
    handling.record_follow_up(page_db, method="phone", actor=who("clerk"), complaint_id=case_id, outcome="客户仍不满意",
                              survey=Survey(2, 1, 2, 1, 1), now=at, expected_version=current_version(page_db, case_id))
    gm = open_tab(app_as("gmo", page_path("gm_office")), "gm_tabs", "gm.tab.follow_up")
    grids = [t.value for t in gm.table if "服务态度" in t.value.columns]
    assert grids and grids[0].iloc[0]["服务态度"] == "1 · 非常不满意" and grids[0].iloc[0]["总体满意度"] == "1 · 非常不满意"
    assert "客户仍不满意" in _cells(gm)


def test_the_negotiator_builds_the_decision_letter_from_the_form(page_db):
    case_id = _case(page_db, "review")
    at = app_as("clerk", page_path("negotiation"))
    assert not at.get("download_button")                      # nothing to build a letter from yet
    at.text_area(key=f"neg_checked_{case_id}").input("核对理赔记录与查勘照片")
    at.text_area(key=f"neg_basis_{case_id}").input("保险合同第五条")
    at.multiselect(key=f"neg_remedies_{case_id}").select("review")
    next(b for b in at.button if b.label == "按以上内容生成决定书").click().run()
    assert not at.exception and _state(page_db, case_id) == "negotiating"     # nothing recorded
    assert [b.proto.label for b in at.get("download_button")] == ["下载决定告知书（可打印）"]
