"""The pages of issue 15 §4 under AppTest: queues say how they are ordered and put a major case first,
a department's lead assigns handlers who then find the case in 我的案件, the GM office sets a major
case's working group on the case page, the clerk's 签注意见 and the new major-case flags on the
registration form, and a 签呈 filed by 市场部 during the investigation."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from portal.persistence.models import CaseAssignment, Complaint, Petition, WorkingGroupMember
from portal.services import complaints
from portal.services.actors import load_actor
from portal.ui.context import now as wall_now
from tests.helpers import a_form
from tests.pages.conftest import app_as, page_path, texts


def _register(uow, serial: int, *, at=None, **overrides) -> int:  # noqa: ANN001
    at = at or wall_now() - timedelta(days=2)
    return complaints.register_complaint(uow, actor=load_actor(uow, "clerk"), attachments=[], now=at, form=a_form(
        received_at=at, customer_phone=f"1370000{serial:04d}", policy_number=f"P-PAGE-{serial}",
        customer_name=f"客户{serial}", **overrides)).id


def _routed(uow, serial: int, **overrides) -> tuple[int, str]:  # noqa: ANN001
    case_id = _register(uow, serial, **overrides)
    number = complaints.accept_complaint(uow, actor=load_actor(uow, "gmo"), complaint_id=case_id, category="claim",
                                         severity="general", departments=["operations"],
                                         now=wall_now() - timedelta(days=2)).number
    return case_id, number


def _count(uow, model) -> int:  # noqa: ANN001
    with uow.read() as session:
        return session.scalar(select(func.count()).select_from(model))


def _button(at, label: str):  # noqa: ANN001, ANN202
    return next(b for b in at.button if b.label == label)


def test_the_gm_office_queue_says_its_order_and_puts_a_major_case_registered_last_first(page_db):
    for serial in range(1, 4):
        _register(page_db, serial, at=wall_now() - timedelta(hours=10 - serial))
    _register(page_db, 9, at=wall_now() - timedelta(minutes=5), flag_association=True)      # 重大, registered last
    at = app_as("gmo", page_path("gm_office"))
    assert not at.exception
    assert any("排序：重大案件在前" in c.value for c in at.caption)
    queue = at.dataframe[0].value
    assert list(queue["客户"]) == ["客户9", "客户1", "客户2", "客户3"]
    assert list(queue["严重程度"])[0] == "重大" and "紧急程度" in queue.columns


def test_the_lead_assigns_a_handler_who_then_finds_the_case_in_my_cases(page_db):
    case_id, _ = _routed(page_db, 1)
    key = f"assign_{case_id}_operations"
    at = app_as("opslead", page_path("department"))
    assert not at.exception
    shown = texts(at)
    assert "1 个分派超过规定时间仍未指派处理人" in shown and "本部门处理人：尚未指派" in shown
    queue = next(d.value for d in at.dataframe if "处理人" in d.value.columns)       # the department's queue
    assert list(queue["处理人"]) == ["尚未指派"] and list(queue["指派"]) == ["⚠️ 超时未指派"]
    assert at.multiselect(key=f"{key}_handlers").value == []          # nobody preselected
    _button(at, "保存指派").click().run()
    assert "请选择" in texts(at) and _count(page_db, CaseAssignment) == 0
    at.multiselect(key=f"{key}_handlers").select("opshandler")
    _button(at, "保存指派").click().run()
    assert not at.exception
    assert "已指派处理人：运营丁" in texts(at) and _count(page_db, CaseAssignment) == 1

    handler = app_as("opshandler", page_path("department"))
    assert not handler.exception
    assert "本部门处理人：运营丁" in texts(handler)
    assert not [m for m in handler.multiselect if m.key == f"{key}_handlers"]     # only the lead assigns
    mine = app_as("opshandler", page_path("my_complaints"))
    assert not mine.exception
    assert "指派给我的案件" in texts(mine) and list(mine.dataframe[0].value["客户"]) == ["客户1"]
    assert list(mine.dataframe[0].value["处理人"]) == ["运营丁"]
    assert "我登记的投诉" not in texts(mine)


def test_the_gm_office_sets_the_working_group_of_a_major_case_on_its_page(page_db):
    case_id, number = _routed(page_db, 1, flag_media=True)
    at = app_as("gmo", page_path("case"))
    at.text_input(key="case_ref").input(number).run()
    assert not at.exception
    assert "重大案件：请总经理室成立专项工作组" in texts(at)
    key = f"group_{case_id}"
    assert at.selectbox(key=f"{key}_leader").value is None
    at.selectbox(key=f"{key}_leader").select("vicegm")
    at.multiselect(key=f"{key}_members").select("gmo")                       # the same department only
    _button(at, "保存工作组").click().run()
    assert "专项工作组须由至少 2 个部门的人员组成" in texts(at) and _count(page_db, WorkingGroupMember) == 0
    at.multiselect(key=f"{key}_members").select("techhandler")
    _button(at, "保存工作组").click().run()
    assert not at.exception
    assert "专项工作组已保存" in texts(at) and _count(page_db, WorkingGroupMember) == 3

    member = app_as("techhandler", page_path("my_complaints"))       # 技术部: not routed, but in the group
    assert not member.exception
    assert "我参加的专项工作组" in texts(member) and list(member.dataframe[-1].value["客户"]) == ["客户1"]
    page = app_as("techhandler", page_path("case"))
    page.text_input(key="case_ref").input(number).run()
    assert not page.exception
    group = next(d.value for d in page.dataframe if "组内职务" in d.value.columns)
    assert list(group["成员"]) == ["副总丑", "总经理室丙", "技术戊"] and list(group["组内职务"])[0] == "组长"


def test_registration_needs_the_clerks_opinion_and_takes_the_new_major_flags(page_db):
    at = app_as("clerk", page_path("register"))
    for name, value in (("customer_name", "林晓"), ("customer_phone", "13900001111"), ("policy_number", "P900001"),
                        ("product", "意外伤害保险")):
        at.text_input(key=f"reg_{name}").input(value)
    at.text_area(key="reg_description").input("同一事故两人身亡，理赔未决。")
    at.text_area(key="reg_expected_resolution").input("尽快赔付")
    for name, value in (("channel", "phone"), ("category", "claim_speed"), ("severity", "general"),
                        ("urgency", "normal"), ("preferred_contact", "phone")):
        if [s for s in at.selectbox if s.key == f"reg_{name}"]:
            at.selectbox(key=f"reg_{name}").select(value)
    at.checkbox(key="reg_flag_deaths").check()
    _button(at, "提交登记").click().run()
    assert not at.exception
    assert "此项为必填项" in texts(at) and _count(page_db, Complaint) == 0
    assert at.text_area(key="reg_description").value == "同一事故两人身亡，理赔未决。"       # what was typed is kept
    at.text_area(key="reg_clerk_opinion").input("涉及人身伤亡，建议按重大案件处理。")
    _button(at, "提交登记").click().run()
    assert not at.exception
    with page_db.read() as session:
        saved = session.scalars(select(Complaint)).one()
    assert saved.clerk_opinion == "涉及人身伤亡，建议按重大案件处理。" and saved.flag_deaths and saved.severity == "major"
    assert "一次事故2人及以上死亡" in texts(at)


def test_marketing_files_a_petition_during_the_investigation_and_the_gm_office_answers(page_db):
    case_id, number = _routed(page_db, 1)
    clerk = app_as("clerk", page_path("case"))
    clerk.text_input(key="case_ref").input(number).run()
    assert not clerk.exception
    clerk.text_area(key=f"petition_text_{case_id}").input("市场部对分派部门有异议")
    _button(clerk, "提交签呈").click().run()
    assert not clerk.exception and _count(page_db, Petition) == 1
    gm = app_as("gmo", page_path("case"))
    gm.text_input(key="case_ref").input(number).run()
    with page_db.read() as session:
        petition = session.scalar(select(Petition.id))
    gm.text_input(key=f"answer_petition_{petition}_answer_{case_id}").input("维持分派")
    _button(gm, "答复签呈").click().run()
    assert not gm.exception
    with page_db.read() as session:
        assert session.scalar(select(Petition.answer)) == "维持分派"


def test_an_administrator_can_give_the_department_lead_duty(page_db):
    at = app_as("admin", page_path("admin_users"))
    assert not at.exception
    roles = next(m for m in at.multiselect if m.label == "角色")
    assert "部门主管" in roles.options
