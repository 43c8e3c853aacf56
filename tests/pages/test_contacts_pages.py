"""The contact log in the pages (SPEC §11): the case page's timeline and its form to record a contact
(refused input shown beside its field, nothing saved), the clerks' 待联系客户, and the registration
form's preferred channel, chosen by the clerk."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from portal.persistence.models import Complaint, ContactLog
from portal.services import complaints
from portal.services.actors import load_actor
from portal.ui.context import now as wall_now
from tests.helpers import a_form
from tests.pages.conftest import app_as, open_tab, page_path, texts


def _registered(uow, **form) -> int:
    at = wall_now() - timedelta(hours=2)
    return complaints.register_complaint(uow, actor=load_actor(uow, "clerk"), form=a_form(received_at=at, **form),
                                         attachments=[], now=at).id


def _contacts(uow, case_id) -> list[ContactLog]:
    with uow.read() as session:
        return session.scalars(select(ContactLog).where(ContactLog.complaint_id == case_id).order_by(ContactLog.id)).all()


def _submit(at):  # noqa: ANN001, ANN202
    return next(b for b in at.button if b.label == "保存联系记录").click().run()


def test_the_case_page_records_a_call_and_shows_it_on_the_timeline(page_db):
    case_id = _registered(page_db)
    at = app_as("clerk", page_path("case"))
    at.text_input(key="case_ref").input(str(case_id)).run()
    assert not at.exception
    shown = texts(at)
    assert "客户联系记录" in shown and "尚无与客户的联系记录。" in shown and "客户希望的联系方式：电话" in shown
    key = f"contact_form_{case_id}_"
    assert at.selectbox(key=key + "channel").value is None and at.selectbox(key=key + "step").value is None
    _submit(at)                                                    # nothing chosen, nothing said
    shown = texts(at)
    assert shown.count("请选择。") >= 2 and "此项为必填项。" in shown
    assert "请填写凭证（录音编号、短信或邮件编号、挂号信单号等）或上传凭证附件。" in shown
    assert _contacts(page_db, case_id) == []
    at.selectbox(key=key + "channel").select("sms")
    at.selectbox(key=key + "step").select("decision")
    at.text_area(key=key + "content").input("**处理决定**已告知 <b>客户</b>")
    at.text_input(key=key + "proof").input("短信回执 SMS-88")
    _submit(at)
    assert "处理决定须以信函、电子邮件或电话告知" in texts(at) and _contacts(page_db, case_id) == []
    at.selectbox(key=key + "channel").select("phone")
    at.selectbox(key=key + "step").select("acknowledgement")
    _submit(at)
    assert not at.exception and "已记录与客户的联系。" in texts(at)
    saved = _contacts(page_db, case_id)
    assert [(c.channel, c.step, c.content, c.proof) for c in saved] == [
        ("phone", "acknowledgement", "**处理决定**已告知 <b>客户</b>", "短信回执 SMS-88")]
    timeline = next(d.value for d in at.dataframe if "告知内容" in d.value.columns)
    assert list(timeline["告知内容"]) == ["**处理决定**已告知 <b>客户</b>"]           # the text as typed, in a cell
    assert list(timeline["方式"]) == ["电话"] and list(timeline["环节"]) == ["确认受理告知"]
    assert list(timeline["联系人"]) == ["受理员甲"]
    with page_db.read() as session:
        assert session.get(Complaint, case_id).customer_acknowledged_at is not None


def test_people_who_may_not_talk_to_the_customer_see_the_timeline_without_the_form(page_db):
    case_id = _registered(page_db, complained_staff=["lead"])
    for username in ("lead", "boss"):                 # named in the complaint; a manager (read-only)
        at = app_as(username, page_path("case"))
        at.text_input(key="case_ref").input(str(case_id)).run()
        assert not at.exception and "客户联系记录" in texts(at)
        assert not [b for b in at.button if b.label == "保存联系记录"], username


def test_the_clerks_see_the_customers_to_contact_and_record_the_call_there(page_db):
    case_id = _registered(page_db, customer_name="待联系客户甲")
    at = open_tab(app_as("clerk", page_path("negotiation")), "negotiation_tabs", "neg.tab.contacts")
    assert not at.exception
    due = next(d.value for d in at.dataframe if "需联系事项" in d.value.columns)
    row = due[due["客户"] == "待联系客户甲"]
    assert list(row["需联系事项"]) == ["确认受理告知"] and list(row["客户希望的联系方式"]) == ["电话"]
    at.selectbox(key="contacts_due_pick").select(case_id).run()
    key = f"contact_form_{case_id}_"
    at.selectbox(key=key + "channel").select("phone")
    at.selectbox(key=key + "step").select("acknowledgement")
    at.text_area(key=key + "content").input("致电客户确认已受理，告知 15 日内答复。")
    at.text_input(key=key + "proof").input("录音 REC-77")
    _submit(at)
    assert not at.exception and "已记录与客户的联系。" in texts(at)
    assert len(_contacts(page_db, case_id)) == 1
    after = [d.value for d in at.dataframe if "需联系事项" in d.value.columns]
    assert not after or "待联系客户甲" not in list(after[0]["客户"])


def test_the_registration_form_asks_for_the_preferred_channel_and_saves_nothing_without_it(page_db):
    at = app_as("clerk", page_path("register"))
    assert at.selectbox(key="reg_preferred_contact").value is None         # the clerk asks the customer
    assert at.checkbox(key="reg_optional_notices").value is True
    fields = {"customer_name": "偏好客户", "customer_phone": "13900002222", "policy_number": "P900002",
              "product": "意外伤害保险", "description": "理赔进度不明。", "expected_resolution": "告知进度",
              "clerk_opinion": "需尽快联系客户。"}
    for name, value in fields.items():
        area = name in ("description", "expected_resolution", "clerk_opinion")
        (at.text_area if area else at.text_input)(key="reg_" + name).input(value)
    for name, value in (("channel", "phone"), ("category", "claim_speed"), ("severity", "general"),
                        ("urgency", "normal")):
        at.selectbox(key="reg_" + name).select(value)
    next(b for b in at.button if b.label == "提交登记").click().run()
    assert "请选择。" in texts(at)
    with page_db.read() as session:
        assert session.scalar(select(func.count()).select_from(Complaint)) == 0
    at.selectbox(key="reg_preferred_contact").select("email")
    at.checkbox(key="reg_optional_notices").uncheck()
    next(b for b in at.button if b.label == "提交登记").click().run()
    assert "客户希望以电子邮件联系，请填写电子邮件地址。" in texts(at)       # e-mail preferred: an address to write to
    at.text_input(key="reg_customer_email").input("pian@example.com")
    next(b for b in at.button if b.label == "提交登记").click().run()
    assert "已登记" in texts(at)
    with page_db.read() as session:
        saved = session.scalars(select(Complaint)).one()
    assert (saved.preferred_contact, saved.optional_notices) == ("email", False)


def test_the_sweeps_progress_prompt_reads_in_chinese_in_the_case_history(page_db):
    from portal.services import reminders
    received = wall_now() - timedelta(hours=40)          # 初步方案 (48 h) turned 临期 at 36 h
    case_id = complaints.register_complaint(page_db, actor=load_actor(page_db, "clerk"),
                                            form=a_form(received_at=received), attachments=[], now=received).id
    reminders.issue_reminders(page_db, now=wall_now())
    at = open_tab(app_as("clerk", page_path("negotiation")), "negotiation_tabs", "neg.tab.contacts")
    due = next(d.value for d in at.dataframe if "需联系事项" in d.value.columns)
    assert "进度告知（时限临期）" in list(due["需联系事项"])
    at = app_as("clerk", page_path("case"))
    at.text_input(key="case_ref").input(str(case_id)).run()
    history = next(d.value for d in at.dataframe if "操作" in d.value.columns)
    prompt = history[history["操作"] == "时限临期，提示告知客户进度"]
    assert list(prompt["操作人"]) == ["系统"]
    changes = prompt.iloc[0]["变更内容"]
    assert "初步方案" in changes and "initial_plan" not in changes
