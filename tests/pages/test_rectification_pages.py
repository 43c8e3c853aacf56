"""Rectification and the quality check on the pages (issue 18): an owner sees and completes their items on the
department page, 运营部 sees its quality-check queue and records a check (four eyes shown as a refusal), the GM
office confirms an item's effect, and the home page lists what waits."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from portal.domain.clocks import Badge
from portal.i18n.format import badge_text
from portal.persistence.models import QualityCheck, Rectification
from portal.services import rectification
from portal.ui.context import now as wall_now
from tests.conftest import People
from tests.pages.conftest import app_as, open_tab, page_path, texts
from tests.services.test_quality_check import CODES, closed_case
from tests.services.test_rectification import AT, user_id


def an_item(uow, people, description="建立审核时效提醒") -> int:
    from tests.services.test_handling import to_approval
    case_id, _ = to_approval(uow, people)
    return rectification.add_rectification(uow, actor=people.gmo, complaint_id=case_id, cause="审核积压",
                                           cause_code="process.execution", description=description,
                                           owner_id=user_id(uow, "opshandler"), deadline=date(2025, 10, 10), now=AT)


def frames(at) -> list[dict]:
    return [df.value.to_dict("list") for df in at.dataframe]


def test_the_owner_sees_their_overdue_item_and_completes_it_with_evidence(page_db):
    people = People(page_db)
    item_id = an_item(page_db, people)
    page = app_as("opshandler", page_path("department"))
    assert not page.exception, page.exception
    assert "我负责的整改事项" in texts(page)
    table = next(f for f in frames(page) if "整改内容" in f)
    assert table["整改内容"] == ["建立审核时效提醒"] and table["责任人"] == ["运营丁"]
    assert table["原因分类"] == ["流程 / 执行不到位"] and table["时效"] == [badge_text(Badge.OVERDUE, "zh")]
    page.selectbox(key="rect_complete_item").set_value(item_id)
    next(b for b in page.button if b.label == "记录完成").click().run()
    assert "不能为空" in texts(page) or page.session_state["errors_rect_complete"]["evidence"].key == "form.required"
    page.text_area(key="rect_complete_evidence").input("提醒功能已上线，截图存档")
    next(b for b in page.button if b.label == "记录完成").click().run()
    assert not page.exception, page.exception
    assert "已记录完成" in texts(page)
    with page_db.read() as session:
        row = session.get(Rectification, item_id)
        assert (row.status, row.evidence) == ("done", "提醒功能已上线，截图存档")
    # another handler of the department does not own it: no item, no completion form
    lead = app_as("opslead", page_path("department"))
    assert not any("建立审核时效提醒" in f.get("整改内容", []) for f in frames(lead))
    assert not [b for b in lead.button if b.label == "记录完成"]


def test_operations_sees_the_quality_queue_and_records_a_check(page_db):
    people = People(page_db)
    case_id = closed_case(page_db, people)
    home = app_as("opshandler")
    assert "待质量检验的案件" in texts(home) or any(m.label == "待质量检验的案件" for m in home.metric)
    page = app_as("opshandler", page_path("department"))
    open_tab(page, "dept_tabs", "dept.tab.quality")
    assert not page.exception, page.exception
    assert "待检验的已结案案件：显示 1 件，共 1 件" in texts(page)
    page.selectbox(key="quality_pick").set_value(case_id).run()
    for code in CODES:
        assert page.radio(key=f"quality_{case_id}_{code}").value is None        # the checker decides each one
        page.radio(key=f"quality_{case_id}_{code}").set_value(True)
    next(b for b in page.button if b.label == "记录检验结果").click().run()
    assert "四眼原则" in texts(page)                        # 运营丁 wrote the case's report
    checker = app_as("opslead", page_path("department"))
    open_tab(checker, "dept_tabs", "dept.tab.quality")
    checker.selectbox(key="quality_pick").set_value(case_id).run()
    for code in CODES:
        checker.radio(key=f"quality_{case_id}_{code}").set_value(code != "records")
    next(b for b in checker.button if b.label == "记录检验结果").click().run()
    assert not checker.exception, checker.exception
    assert "检验不通过时须录入纠正措施" in texts(checker)
    checker.text_area(key=f"quality_{case_id}_corrective").input("补齐通话录音并归档")
    checker.selectbox(key=f"quality_{case_id}_owner").set_value(user_id(page_db, "opshandler"))
    checker.date_input(key=f"quality_{case_id}_deadline").set_value(wall_now().date() + timedelta(days=7))
    next(b for b in checker.button if b.label == "记录检验结果").click().run()
    assert "已记录质量检验结果" in texts(checker)
    with page_db.read() as session:
        check = session.scalars(select(QualityCheck).where(QualityCheck.complaint_id == case_id)).one()
        assert check.passed is False and check.answers["records"] is False
        corrective = session.scalars(select(Rectification).where(Rectification.quality_check_id == check.id)).one()
        assert corrective.kind == "corrective" and corrective.description == "补齐通话录音并归档"
    assert "没有待检验的案件" in texts(checker)
    # the case page shows the result, each item met or not
    from portal.persistence.models import Complaint
    with page_db.read() as session:
        number = session.get(Complaint, case_id).number
    case_page = app_as("gmo", page_path("case"))
    case_page.text_input(key="case_ref").input(number).run()
    assert not case_page.exception, case_page.exception
    assert "检验人：运营主管子" in texts(case_page) and "结果：不通过" in texts(case_page)
    answers = next(f for f in frames(case_page) if "检验项目" in f)
    assert answers["检验结论"] == ["符合", "符合", "符合", "符合", "不符合"]


def test_the_gm_office_confirms_an_effect(page_db):
    people = People(page_db)
    item_id = an_item(page_db, people)
    rectification.complete_rectification(page_db, actor=people.opshandler, rectification_id=item_id,
                                         evidence="已上线", now=datetime(2025, 10, 5, 9, 0))
    home = app_as("gmo")
    assert any(m.label == "待确认效果的整改事项" for m in home.metric)
    page = app_as("gmo", page_path("gm_office"))
    open_tab(page, "gm_tabs", "gm.tab.rectifications")
    assert not page.exception, page.exception
    assert "待确认效果的整改事项" in texts(page)
    page.selectbox(key="effect_item").set_value(item_id)
    assert page.radio(key="effect_result").value is None and page.radio(key="effect_after").value is None
    page.radio(key="effect_result").set_value("effective")
    next(b for b in page.button if b.label == "确认效果").click().run()
    assert not page.exception, page.exception
    assert "已确认整改效果" in texts(page)
    with page_db.read() as session:
        assert session.get(Rectification, item_id).effect_result == "effective"


def test_the_pages_keep_within_forty_queries(page_db):
    from tests.pages.test_appraisal_page import selects
    people = People(page_db)
    item_id = an_item(page_db, people)
    rectification.complete_rectification(page_db, actor=people.opshandler, rectification_id=item_id,
                                         evidence="已上线", now=datetime(2025, 10, 5, 9, 0))
    an_item(page_db, people, description="第二项")
    case_id = closed_case(page_db, people)
    department = app_as("opslead", page_path("department"))
    open_tab(department, "dept_tabs", "dept.tab.quality")
    department.selectbox(key="quality_pick").set_value(case_id).run()
    with selects() as seen:
        department.run()
    assert not department.exception and "客户投诉质量的检验确认" in texts(department)
    assert 0 < len(seen) <= 40, len(seen)
    office = app_as("gmo", page_path("gm_office"))
    open_tab(office, "gm_tabs", "gm.tab.rectifications")
    with selects() as seen:
        office.run()
    assert not office.exception and "待确认效果的整改事项" in texts(office)
    assert 0 < len(seen) <= 40, len(seen)


def test_the_sections_read_in_english(page_db):
    people = People(page_db)
    an_item(page_db, people)
    case_id = closed_case(page_db, people)
    page = app_as("opshandler", page_path("department"))
    page.selectbox(key="lang").select("en").run()
    assert "My rectification items" in texts(page)
    table = next(f for f in frames(page) if "Owner" in f)
    assert table["Cause class"] == ["Process / Process not followed"] and table["Kind"] == ["Rectification"]
    page.session_state["dept_tabs"] = "Quality check"
    page.run()
    page.selectbox(key="quality_pick").set_value(case_id).run()
    assert not page.exception, page.exception
    assert page.radio(key=f"quality_{case_id}_records").label == "The records and documents are complete"
    assert page.radio(key=f"quality_{case_id}_records").options == ["Met", "Not met"]
