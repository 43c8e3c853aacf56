"""The after-sales desk's notice through the outbox (issue 17, 002 ch.2 4.(四)), on SQLite and PostgreSQL:
an incomplete claim application gets the applicant a 补齐理赔材料通知 listing exactly what is missing,
queued in the act's transaction, logged as a contact of the request, held in SMS quiet hours, delivered
by the real local gateway or the folder; a failed one stays in the GM office's outbox under the request
number; the template is edited in 系统配置 like the others; migration 0020 seeds and removes it."""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import func, select, update

from portal.adapters.notices import FolderAdapter, SmsGatewayAdapter, SmsSettings, Transports
from portal.persistence.database import UnitOfWork, make_engine
from portal.persistence.migrate import alembic_config
from portal.persistence.models import (Complaint, ContactLog, Event, MaskingRule, Notice, NoticeTemplate,
                                       RequestContact, RequestEvent, ServiceRequest, Setting, User)
from portal.services import notices_office, notices_templates
from portal.services.configuration import ConfigurationRefused
from portal.services.desk_notices import queue_materials_notice
from portal.services.notices_outbox import queue_notice, send_due
from tests.conftest import T0
from tests.services.notices_servers import registered_case, sms_gateway

MORNING = datetime(2025, 10, 1, 10, 0)
EVENING = datetime(2025, 10, 1, 22, 30)
MISSING = ["死亡证明", "户籍注销证明"]


def an_application(uow, *, number: str = "LP2510-0001", phone: str = "13912345678") -> int:  # noqa: ANN001
    """A claim application as the desk registers it, with data a notice must never carry."""
    with uow.write() as session:
        request = ServiceRequest(kind="claim_application", number=number, state="incomplete", channel="visit",
                                 received_at=T0, policy_number="PA-2025-0000123", insured_name="李建国",
                                 contact_name="李四", contact_phone=phone, contact_relation="child",
                                 contact_id_number="110101199001011234", contact_address="北京市东城区某街1号",
                                 event_description="内部记录：疑似既往症", check_override="主管同意越过时效检查")
        session.add(request)
        session.flush()
        return request.id


def materials(uow, request_id: int, missing=MISSING, *, now: datetime = MORNING,  # noqa: ANN001, ANN201
              by: str | None = "clerk"):
    with uow.write() as session:
        user = session.scalar(select(User).where(User.username == by)) if by else None
        notice = queue_materials_notice(session, request=session.get(ServiceRequest, request_id), missing=missing,
                                        now=now, by=user)
        return None if notice is None else notice.id


def notice(uow, notice_id: int) -> Notice:  # noqa: ANN001
    with uow.read() as session:
        return session.get(Notice, notice_id)


def test_an_incomplete_application_queues_a_notice_naming_exactly_the_missing_materials(uow, people):
    request_id = an_application(uow)
    notice_id = materials(uow, request_id)
    with uow.read() as session:
        queued = session.get(Notice, notice_id)
        contact = session.scalar(select(RequestContact).where(RequestContact.request_id == request_id))
        complaint_contacts = session.scalar(select(func.count()).select_from(ContactLog))
    assert (queued.kind, queued.channel, queued.recipient, queued.state) == (
        "materials_missing", "sms", "13912345678", "queued")
    assert (queued.request_id, queued.complaint_id, queued.next_attempt_at) == (request_id, None, MORNING)
    assert queued.body == ("尊敬的李四：您的理赔申请（编号LP2510-0001）材料尚不齐全，暂不能受理，"
                           "请补充提交：死亡证明、户籍注销证明。材料补齐后我司将及时受理。")
    assert queued.params == {"template_id": "", "params": {"name": "李四", "code": "LP2510-0001",
                                                           "items": "死亡证明、户籍注销证明"}}
    for internal in ("PA-2025-0000123", "110101199001011234", "既往症", "越过时效", "李建国", "北京市"):
        assert internal not in queued.body and internal not in json.dumps(queued.params, ensure_ascii=False)
    assert (contact.channel, contact.content, contact.notice_id, contact.at) == ("sms", queued.body, notice_id, MORNING)
    assert contact.by_id == people.clerk.id
    assert complaint_contacts == 0                      # a request's contact, not a complaint's contact step


def test_each_missing_item_is_named_once_in_the_order_given(uow):
    request_id = an_application(uow)
    body = notice(uow, materials(uow, request_id, [" 医疗费用发票 ", "出院小结", "医疗费用发票", ""])).body
    assert "请补充提交：医疗费用发票、出院小结。" in body
    with pytest.raises(ValueError):                     # an application missing nothing is not incomplete
        materials(uow, request_id, ["", "  "])


def test_the_notice_is_part_of_the_act_and_nothing_is_queued_without_a_phone(uow):
    request_id = an_application(uow)
    with pytest.raises(RuntimeError):
        with uow.write() as session:
            queue_materials_notice(session, request=session.get(ServiceRequest, request_id), missing=MISSING,
                                   now=MORNING, by=None)
            raise RuntimeError("the act was refused")
    no_phone = an_application(uow, number="LP2510-0002", phone="  ")
    assert materials(uow, no_phone) is None
    with uow.read() as session:
        assert session.scalar(select(func.count()).select_from(Notice)) == 0
        assert session.scalar(select(func.count()).select_from(RequestContact)) == 0


def test_a_complaint_cannot_be_sent_the_desks_notice(uow, people):
    case_id = registered_case(uow, people, preferred="sms")
    with pytest.raises(ValueError):
        with uow.write() as session:
            queue_notice(session, complaint=session.get(Complaint, case_id), kind="materials_missing", now=MORNING)


def test_quiet_hours_hold_the_sms_until_morning_then_the_folder_delivers_it(uow, tmp_path):
    request_id = an_application(uow)
    notice_id = materials(uow, request_id, now=EVENING, by=None)
    assert notice(uow, notice_id).next_attempt_at == datetime(2025, 10, 2, 8, 0)
    outbox = FolderAdapter(tmp_path / "outbox")
    transport = Transports(email=outbox, sms=outbox)
    assert send_due(uow, now=EVENING, transport=transport).sent == 0
    assert send_due(uow, now=datetime(2025, 10, 2, 7, 59), transport=transport).sent == 0
    assert send_due(uow, now=datetime(2025, 10, 2, 8, 0), transport=transport).sent == 1
    sent = notice(uow, notice_id)
    written = json.loads((tmp_path / "outbox" / sent.transport_id).read_text(encoding="utf-8"))
    assert sent.state == "sent" and written["out_id"] == sent.key and written["phone"] == "13912345678"
    assert written["kind"] == "materials_missing" and written["params"]["items"] == "死亡证明、户籍注销证明"
    assert written["text"] == sent.body


def test_the_gateway_delivers_it_and_a_refusal_leaves_it_failed_in_the_outbox_under_the_request_number(uow, people):
    delivered = materials(uow, an_application(uow))
    refused_request = an_application(uow, number="LP2510-0002", phone="13900000000")
    refused = materials(uow, refused_request)
    settings = dict(templates={"materials_missing": "SMS_300001"})
    with sms_gateway([200, 400]) as (gateway, url):
        transport = Transports(email=FolderAdapter(Path("/nonexistent")),
                               sms=SmsGatewayAdapter(SmsSettings(url=url, **settings)))
        summary = send_due(uow, now=MORNING, transport=transport)
    assert (summary.sent, summary.failed) == (1, 1)
    assert gateway.requests[0] == {"phone": "13912345678", "signature": "", "template_id": "SMS_300001",
                                   "params": {"name": "李四", "code": "LP2510-0001", "items": "死亡证明、户籍注销证明"},
                                   "out_id": notice(uow, delivered).key}
    assert notice(uow, delivered).state == "sent"
    failed = notice(uow, refused)
    assert failed.state == "failed" and failed.last_error.startswith("SMS gateway HTTP 400")

    listing = notices_office.list_notices(uow, actor=people.gmo, state="failed")
    [row] = listing.frame.to_dict("records")
    assert (row["id"], row["number"], row["customer_name"], row["request_id"]) == (
        refused, "LP2510-0002", "李四", refused_request)
    assert row["complaint_id"] is None or row["complaint_id"] != row["complaint_id"]
    assert listing.counts == {"sent": 1, "failed": 1}

    notices_office.resend_notice(uow, actor=people.gmo, notice_id=refused, now=MORNING, comment="已核对手机号")
    with uow.read() as session:
        event = session.scalar(select(Event).where(Event.action == "notice_resend"))
        history = session.scalar(select(RequestEvent).where(RequestEvent.request_id == refused_request))
    assert (event.complaint_id, event.changes["notice"]) == (None, failed.key)
    assert (history.action, history.actor_label, history.comment) == ("notice_resend", "gmo", "已核对手机号")
    assert notice(uow, refused).state == "queued"


def test_a_failure_when_the_attempts_run_out_does_not_stop_the_sender(uow):
    with uow.write() as session:
        session.execute(update(Setting).where(Setting.key == "notices.max_attempts").values(value="1"))
    notice_id = materials(uow, an_application(uow))
    with sms_gateway([503]) as (_, url):
        transport = Transports(email=FolderAdapter(Path("/x")), sms=SmsGatewayAdapter(
            SmsSettings(url=url, templates={"materials_missing": "SMS_1"})))
        assert send_due(uow, now=MORNING, transport=transport).failed == 1
    assert (notice(uow, notice_id).state, notice(uow, notice_id).attempts) == ("failed", 1)


def test_the_outbox_masks_the_applicant_where_the_masking_table_masks_it(uow, people):
    notice_id = materials(uow, an_application(uow))
    with uow.write() as session:
        session.execute(update(MaskingRule).where(MaskingRule.audience == "gm_office")
                        .values(name="masked", phone="masked"))
    [row] = notices_office.list_notices(uow, actor=people.gmo).frame.to_dict("records")
    assert row["id"] == notice_id and row["number"] == "LP2510-0001"
    assert row["customer_name"] == "李*" and row["recipient"] == "139****5678"
    assert "李四" not in row["body"]


# -- the template in 系统配置 --

def _materials_rows(uow, people):  # noqa: ANN001, ANN202
    rows = notices_templates.load_templates(uow, actor=people.admin)
    sms = next(r for r in rows if (r["kind"], r["channel"]) == ("materials_missing", "sms"))
    mail = next(r for r in rows if (r["kind"], r["channel"]) == ("materials_missing", "email"))
    return rows, sms, mail


def test_the_editor_refuses_an_unknown_placeholder_in_the_materials_template(uow, people):
    rows, sms, mail = _materials_rows(uow, people)
    sms["body"] += "证件号{contact_id_number}"
    mail["body"] += "\n{consolidated_opinion}"
    with pytest.raises(ConfigurationRefused) as refused:
        notices_templates.save_templates(uow, actor=people.admin, rows=rows, now=MORNING)
    assert [(r.row, r.field, r.message.key, r.message.params) for r in refused.value.refusals] == [
        (rows.index(mail), "body", "notices.internal_placeholder", {"name": "consolidated_opinion"}),
        (rows.index(sms), "body", "notices.unknown_placeholder", {"name": "contact_id_number"})]
    rows, _, _ = _materials_rows(uow, people)
    ack = next(r for r in rows if (r["kind"], r["channel"]) == ("acknowledgement", "email"))
    ack["body"] += "\n{missing_materials}"          # the desk's placeholder is not a complaint's
    with pytest.raises(ConfigurationRefused) as refused:
        notices_templates.save_templates(uow, actor=people.admin, rows=rows, now=MORNING)
    assert [(r.message.key, r.message.params) for r in refused.value.refusals] == [
        ("notices.placeholder_not_here", {"name": "missing_materials"})]


def test_the_editor_accepts_missing_materials_and_the_next_notice_says_it(uow, people):
    rows, sms, _ = _materials_rows(uow, people)
    sms["body"] = "{customer_name}您好，理赔申请{case_reference}还缺：{missing_materials}，请尽快补交。"
    sms["gateway_template"] = "SMS_300001"
    assert notices_templates.save_templates(uow, actor=people.admin, rows=rows, now=MORNING) == 1
    body = notice(uow, materials(uow, an_application(uow))).body
    assert body == "李四您好，理赔申请LP2510-0001还缺：死亡证明、户籍注销证明，请尽快补交。"


# -- migration 0020 --

def _templates(url: str) -> dict[str, str]:
    unit = UnitOfWork(make_engine(url))
    try:
        with unit.read() as session:
            return {row.channel: row.body for row in session.scalars(
                select(NoticeTemplate).where(NoticeTemplate.kind == "materials_missing"))}
    finally:
        unit.engine.dispose()


def test_0020_seeds_the_materials_templates_and_its_downgrade_removes_them(database_url, uow):
    seeded = _templates(database_url)
    assert set(seeded) == {"email", "sms"} and "{missing_materials}" in seeded["sms"]
    assert "{company_contact}" in seeded["email"]
    uow.engine.dispose()
    command.downgrade(alembic_config(database_url), "0019")
    assert _templates(database_url) == {}
    command.upgrade(alembic_config(database_url), "0020")
    assert _templates(database_url) == seeded
