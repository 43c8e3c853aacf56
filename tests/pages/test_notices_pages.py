"""The notices in the pages: the GM office's outbox (where notices go, the states counted, a failed
notice sent again and a 待确认 one confirmed, both audited; only the GM office), the 通知模板 tab of
系统配置 (an unknown placeholder refused with its row and reason, a good edit saved), and the decision
letter's download button."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from streamlit.testing.v1 import AppTest

from portal.persistence.models import Complaint, Event, Notice, NoticeTemplate
from portal.services import complaints
from portal.services.actors import load_actor
from portal.services.notices_outbox import queue_notice
from tests.helpers import a_form
from tests.pages.conftest import app_as, page_path, texts

MORNING = datetime(2025, 10, 1, 10, 0)


def case_with_notices(page_db) -> tuple[int, int, int]:  # noqa: ANN001
    """A case with an acknowledgement e-mail that failed and a closure SMS 待确认."""
    case_id = complaints.register_complaint(page_db, actor=load_actor(page_db, "clerk"), form=a_form(),
                                            attachments=[], now=MORNING).id
    with page_db.write() as session:
        complaint = session.get(Complaint, case_id)
        failed = queue_notice(session, complaint=complaint, kind="acknowledgement", now=MORNING, channel="email")
        unsure = queue_notice(session, complaint=complaint, kind="closure", now=MORNING, channel="sms")
        failed.state, failed.attempts, failed.last_error = "failed", 6, "SMTP 550 5.1.1 no such user"
        unsure.state, unsure.attempts, unsure.last_error = "unconfirmed", 1, "outbox.error.interrupted_unconfirmed"
        return case_id, failed.id, unsure.id


def test_the_gm_office_sees_the_outbox_and_resends_a_failed_notice(page_db):
    case_id, failed, unsure = case_with_notices(page_db)
    at = app_as("gmo", page_path("outbox"))
    assert not at.exception, at.exception
    shown = texts(at)
    assert "通知去向 — 邮件：文件夹（未配置服务器，通知写为文件）" in shown
    assert str(page_db.engine.url.database).rsplit("/", 1)[0] + "/outbox" in at.code[0].value
    assert "需要处理：待确认 1 条，失败 1 条。" in shown and "排序：按入队时间，最新的在前。" in shown
    table = next(df.value for df in at.dataframe if "最近错误" in df.value.columns)
    assert set(table["状态"]) == {"失败", "待确认"}
    assert "SMTP 550 5.1.1 no such user" in set(table["最近错误"])
    assert any("无法确定短信网关是否已接收" in e for e in table["最近错误"])
    at.selectbox(key="outbox_state").select("failed").run()
    assert list(next(df.value for df in at.dataframe if "最近错误" in df.value.columns)["状态"]) == ["失败"]

    assert at.selectbox(key="outbox_pick").value is None            # the person chooses
    at.selectbox(key="outbox_pick").select(failed).run()
    assert "您的投诉已受理登记" in "\n".join(str(e.value) for e in at.text)
    at.text_input(key=f"outbox_comment_{failed}").input("客户已更正邮箱")
    at.button(key=f"FormSubmitter:outbox_act_{failed}-重新发送").click().run()
    assert not at.exception, at.exception
    assert "通知已重新排队发送（内容与编号不变），并记入案件历史。" in texts(at)
    with page_db.read() as session:
        again = session.get(Notice, failed)
        event = session.scalar(select(Event).where(Event.action == "notice_resend"))
    assert (again.state, again.attempts) == ("queued", 0)
    assert (event.complaint_id, event.actor_label, event.comment) == (case_id, "gmo", "客户已更正邮箱")


def test_the_gm_office_confirms_an_unconfirmed_sms_delivered(page_db):
    _, failed, unsure = case_with_notices(page_db)
    at = app_as("gmo", page_path("outbox"))
    at.selectbox(key="outbox_pick").select(failed).run()
    confirm = at.button(key=f"FormSubmitter:outbox_act_{failed}-确认已送达")
    assert confirm.disabled                                        # only a 待确认 notice can be confirmed
    at.selectbox(key="outbox_pick").select(unsure).run()
    at.button(key=f"FormSubmitter:outbox_act_{unsure}-确认已送达").click().run()
    assert "已确认通知送达，并记入案件历史。" in texts(at)
    with page_db.read() as session:
        assert session.get(Notice, unsure).state == "sent"
        assert session.scalar(select(Event.action).where(Event.action == "notice_confirm_sent")) is not None


def test_only_the_gm_office_opens_the_outbox(page_db):
    at = app_as("clerk")
    at._page_hash = next(h for h, info in at._registered_pages.items() if info.get("url_pathname") == "outbox")
    at.run()
    assert "您没有访问“通知发件箱”的权限" in texts(at)


def test_the_administrator_edits_the_notice_templates_in_the_configuration(page_db):
    at = app_as("admin", page_path("admin_config"))
    assert not at.exception, at.exception
    assert "{decision_checked}" in "\n".join(str(df.value.to_dict()) for df in at.dataframe)   # the placeholder list
    # row 0: acknowledgement by e-mail
    at.session_state["config_notice_templates"] = {
        "edited_rows": {"0": {"body": "尊敬的{customer_name}：您的电话 {customer_phone} 已登记。"}},
        "added_rows": [], "deleted_rows": []}
    at.run()
    at.button(key="config_save_notice_templates").click().run()
    assert "配置未保存：有 1 处需要修改（见下表）。" in texts(at)
    refusal = next(df.value for df in at.dataframe if "原因" in df.value.columns)
    assert list(refusal["行"]) == ["受理告知 · 电子邮件"] and list(refusal["列"]) == ["正文"]
    assert "未知的占位符 {customer_phone}" in refusal.iloc[0]["原因"]
    with page_db.read() as session:
        assert "{customer_phone}" not in session.get(NoticeTemplate, ("acknowledgement", "email")).body

    at.session_state["config_notice_templates"] = {
        "edited_rows": {"0": {"subject": "已收到您的投诉（{case_reference}）"}}, "added_rows": [], "deleted_rows": []}
    at.run()
    at.button(key="config_save_notice_templates").click().run()
    assert "已保存 1 行修改，并记入变更记录。" in texts(at)
    with page_db.read() as session:
        assert session.get(NoticeTemplate, ("acknowledgement", "email")).subject == "已收到您的投诉（{case_reference}）"
    log = next(df.value for df in at.dataframe if "修改后" in df.value.columns)
    assert log.iloc[0]["配置表"] == "通知模板" and log.iloc[0]["行"] == "受理告知 · 电子邮件"


def _letter_page(database_url: str, username: str, complaint_id: int) -> None:
    import os

    from portal.persistence.database import UnitOfWork, make_engine
    from portal.services.actors import load_actor
    from portal.ui.notices import decision_letter_download
    os.environ["PORTAL_DATABASE_URL"] = database_url
    unit = UnitOfWork(make_engine(database_url))
    decision_letter_download(unit, load_actor(unit, username), complaint_id)


def test_the_decision_letter_button_gives_the_printable_letter_or_says_why_not(page_db, sqlite_url):
    case_id = complaints.register_complaint(page_db, actor=load_actor(page_db, "clerk"), form=a_form(),
                                            attachments=[], now=MORNING).id
    at = AppTest.from_function(_letter_page, args=(sqlite_url, "clerk", case_id), default_timeout=30).run()
    assert not at.exception, at.exception
    assert "尚无核决后的处理意见" in "\n".join(c.value for c in at.caption)
    with page_db.write() as session:
        session.execute(update(Complaint).where(Complaint.id == case_id).values(
            approval_instructions="按3000元赔付", decision_checked="核对理赔记录", decision_basis="合同第五条",
            decision_remedies="review").execution_options(synchronize_session=False))
    at = AppTest.from_function(_letter_page, args=(sqlite_url, "clerk", case_id), default_timeout=30).run()
    assert not at.exception, at.exception
    [button] = at.get("download_button")
    assert "下载决定告知书" in button.proto.label
    assert "不含内部意见" in "\n".join(c.value for c in at.caption)
