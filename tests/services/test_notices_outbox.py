"""The notices outbox on SQLite and PostgreSQL: a notice queued with the act that causes it (and logged
as a contact), delivered to a real local SMTP server, to a local SMS gateway that fails and recovers,
to the folder when nothing is configured; quiet hours; interrupted sends taken up again; two senders
at once."""
from __future__ import annotations

import email
import email.policy
import json
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from portal.adapters.notices import (DeliveryError, FolderAdapter, SmsGatewayAdapter, SmsSettings, SmtpAdapter,
                                     SmtpSettings, Transports, configured_transports)
from portal.domain.errors import DomainError
from portal.persistence.models import ContactLog, Complaint, Notice, NoticeTemplate, Setting
from portal.services import complaints
from portal.services.notices_outbox import queue_notice, recover_interrupted, send_due
from tests.conftest import T0
from tests.services.notices_servers import registered_case, sms_gateway, smtp_server

MORNING = datetime(2025, 10, 1, 10, 0)


def queue(uow, case_id, kind="acknowledgement", *, now=MORNING, **kwargs):  # noqa: ANN001, ANN003
    with uow.write() as session:
        notice = queue_notice(session, complaint=session.get(Complaint, case_id), kind=kind, now=now, **kwargs)
        return None if notice is None else notice.id


def notice(uow, notice_id) -> Notice:  # noqa: ANN001
    with uow.read() as session:
        return session.get(Notice, notice_id)


def folder_only(tmp_path: Path) -> Transports:
    outbox = FolderAdapter(tmp_path / "outbox")
    return Transports(email=outbox, sms=outbox)


def test_a_notice_is_queued_in_the_transaction_of_its_act_and_logged_as_a_contact(uow, people):
    case_id = registered_case(uow, people)
    notice_id = queue(uow, case_id)
    with uow.read() as session:
        queued = session.get(Notice, notice_id)
        contact = session.scalar(select(ContactLog).where(ContactLog.notice_id == notice_id))
    assert queued.state == "queued" and queued.channel == "email" and queued.recipient == "chen@example.com"
    assert queued.key.startswith("<notice-") and queued.next_attempt_at == MORNING and queued.attempts == 0
    assert queued.subject == f"您的投诉已受理登记（登记号 {case_id}）"
    assert "尊敬的陈小明" in queued.body and "2025年9月30日" in queued.body and "客户服务中心" in queued.body
    assert (contact.step, contact.channel, contact.proof, contact.by_id) == ("acknowledgement", "email", queued.key, None)
    assert queued.subject in contact.content

    # An act that fails after queueing leaves no notice and no contact behind.
    with pytest.raises(RuntimeError):
        with uow.write() as session:
            queue_notice(session, complaint=session.get(Complaint, case_id), kind="closure", now=MORNING)
            raise RuntimeError("the act was refused")
    with uow.read() as session:
        assert session.scalar(select(func.count()).select_from(Notice)) == 1
        assert session.scalar(select(func.count()).select_from(ContactLog)) == 1


def test_nothing_is_queued_where_a_person_must_make_the_contact_or_the_customer_declined(uow, people):
    by_phone = registered_case(uow, people, preferred="phone")
    assert queue(uow, by_phone) is None                                 # the contact clock prompts a call
    assert queue(uow, by_phone, channel="sms") is not None              # unless the act names a channel
    no_email = registered_case(uow, people, preferred="email", customer_email="")
    assert queue(uow, no_email) is None
    declined = registered_case(uow, people, preferred="sms", optional=False)
    assert queue(uow, declined, "follow_up_invitation") is None         # optional: declined
    assert queue(uow, declined, "closure") is not None                  # required: sent anyway


def test_a_notice_reaches_a_real_smtp_server_with_its_message_id(uow, people):
    case_id = registered_case(uow, people)
    notice_id = queue(uow, case_id)
    with smtp_server() as (server, port):
        transport = Transports(email=SmtpAdapter(SmtpSettings("127.0.0.1", port, security="none",
                                                              from_address="客户服务中心 <cs@insurer.example>")),
                               sms=FolderAdapter(Path("/nonexistent")))
        summary = send_due(uow, now=MORNING, transport=transport)
        assert (summary.sent, summary.failed) == (1, 0)
        assert send_due(uow, now=MORNING + timedelta(minutes=1), transport=transport).sent == 0   # once
    [mail] = server.parsed()
    sent = notice(uow, notice_id)
    assert mail["Message-ID"] == sent.key and mail["To"] == "chen@example.com"
    assert mail["Subject"] == sent.subject and "尊敬的陈小明" in mail.get_content()
    assert (sent.state, sent.attempts, sent.sent_at, sent.transport_id) == ("sent", 1, MORNING, sent.key)


def test_a_refused_recipient_fails_at_once_and_a_server_away_is_retried_until_attempts_run_out(uow, people):
    case_id = registered_case(uow, people)
    with uow.write() as session:
        session.execute(update(Setting).where(Setting.key == "notices.max_attempts").values(value="2"))

    class RefusingRecipient:
        name, resend_recognised = "smtp", True

        def where(self) -> str:
            return "test"

        def delivered(self, message):  # noqa: ANN001, ANN201
            return None

        def connection(self):  # noqa: ANN201
            from contextlib import nullcontext

            def send(message):  # noqa: ANN001, ANN202
                raise DeliveryError("SMTP 550 5.1.1 no such user", permanent=True)
            return nullcontext(send)

    refused = queue(uow, case_id)
    summary = send_due(uow, now=MORNING, transport=Transports(email=RefusingRecipient(), sms=RefusingRecipient()))
    assert summary.failed == 1
    assert (notice(uow, refused).state, notice(uow, refused).last_error) == ("failed", "SMTP 550 5.1.1 no such user")

    away = queue(uow, case_id, "closure")
    closed_port = SmtpAdapter(SmtpSettings("127.0.0.1", 9, security="none", timeout=2))
    transport = Transports(email=closed_port, sms=closed_port)
    assert send_due(uow, now=MORNING, transport=transport).retrying == 1
    first = notice(uow, away)
    assert (first.state, first.attempts, first.next_attempt_at) == ("queued", 1, MORNING + timedelta(minutes=5))
    assert send_due(uow, now=MORNING + timedelta(minutes=4), transport=transport).retrying == 0   # not due yet
    assert send_due(uow, now=MORNING + timedelta(minutes=5), transport=transport).failed == 1
    assert (notice(uow, away).state, notice(uow, away).attempts) == ("failed", 2)


def test_an_sms_to_a_failing_gateway_is_retried_and_then_delivered(uow, people):
    case_id = registered_case(uow, people, preferred="sms")
    notice_id = queue(uow, case_id)
    with sms_gateway([500, 500, 200]) as (gateway, url):
        transport = Transports(email=FolderAdapter(Path("/nonexistent")), sms=SmsGatewayAdapter(SmsSettings(
            url=url, api_key="k-123", signature="某某保险", templates={"acknowledgement": "SMS_100001"})))
        assert send_due(uow, now=MORNING, transport=transport).retrying == 1
        failed_once = notice(uow, notice_id)
        assert failed_once.state == "queued" and "HTTP 500" in failed_once.last_error
        assert failed_once.next_attempt_at == MORNING + timedelta(minutes=5)
        assert send_due(uow, now=MORNING + timedelta(minutes=5), transport=transport).retrying == 1
        assert notice(uow, notice_id).next_attempt_at == MORNING + timedelta(minutes=15)   # doubled
        assert send_due(uow, now=MORNING + timedelta(minutes=15), transport=transport).sent == 1
    sent = notice(uow, notice_id)
    assert (sent.state, sent.attempts, sent.transport_id, sent.last_error) == ("sent", 3, "gw-3", "")
    assert len(gateway.requests) == 3 and all(r == gateway.requests[0] for r in gateway.requests)
    request = gateway.requests[-1]
    assert request == {"phone": "13812345678", "signature": "某某保险", "template_id": "SMS_100001",
                       "params": {"name": "陈小明", "date": "2025年9月30日", "code": f"登记号 {case_id}"},
                       "out_id": sent.key}
    assert gateway.headers[-1]["Authorization"] == "Bearer k-123"
    assert gateway.headers[-1]["Idempotency-Key"] == sent.key


def test_quiet_hours_hold_an_sms_until_morning_but_not_an_email(uow, people, tmp_path):
    case_id = registered_case(uow, people, preferred="sms")
    evening = datetime(2025, 10, 1, 22, 30)
    sms = queue(uow, case_id, now=evening)
    mail = queue(uow, case_id, "closure", now=evening, channel="email")
    assert notice(uow, sms).next_attempt_at == datetime(2025, 10, 2, 8, 0)
    transport = folder_only(tmp_path)
    assert send_due(uow, now=evening, transport=transport).sent == 1          # the e-mail
    assert notice(uow, mail).state == "sent" and notice(uow, sms).state == "queued"
    assert send_due(uow, now=datetime(2025, 10, 2, 7, 59), transport=transport).sent == 0
    assert send_due(uow, now=datetime(2025, 10, 2, 8, 0), transport=transport).sent == 1
    assert notice(uow, sms).state == "sent"


def test_a_retry_falling_in_quiet_hours_waits_for_the_morning(uow, people):
    case_id = registered_case(uow, people, preferred="sms")
    late = datetime(2025, 10, 1, 20, 58)
    notice_id = queue(uow, case_id, now=late)
    with sms_gateway([503]) as (_, url):
        send_due(uow, now=late, transport=Transports(email=FolderAdapter(Path("/x")), sms=SmsGatewayAdapter(
            SmsSettings(url=url, templates={"acknowledgement": "SMS_1"}))))
    assert notice(uow, notice_id).next_attempt_at == datetime(2025, 10, 2, 8, 0)


def test_the_folder_outbox_works_with_nothing_configured(uow, people, tmp_path, monkeypatch, database_url):
    for name in ("PORTAL_SMTP_HOST", "PORTAL_SMS_URL", "PORTAL_OUTBOX_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORTAL_SECRETS_FILE", str(tmp_path / "no-secrets.toml"))
    from portal import config
    config._secrets_file.cache_clear()
    try:
        transport = configured_transports(database_url)
    finally:
        config._secrets_file.cache_clear()
    assert transport.email.name == transport.sms.name == "folder"
    if database_url.startswith("sqlite"):       # beside the database file (db/outbox/ for the default one)
        assert Path(transport.email.where()) == Path(database_url[len("sqlite:///"):]).parent / "outbox"
    monkeypatch.setenv("PORTAL_OUTBOX_DIR", str(tmp_path / "outbox"))
    transport = configured_transports(database_url)
    folder = tmp_path / "outbox"
    assert transport.email.where() == str(folder)
    by_mail = registered_case(uow, people)
    by_sms = registered_case(uow, people, preferred="sms")
    mail_id, sms_id = queue(uow, by_mail), queue(uow, by_sms, "closure")
    assert send_due(uow, now=MORNING, transport=transport).sent == 2
    mail_notice, sms_notice = notice(uow, mail_id), notice(uow, sms_id)
    mail = email.message_from_bytes((folder / mail_notice.transport_id).read_bytes(), policy=email.policy.default)
    assert mail_notice.transport_id.endswith(".eml") and mail["Message-ID"] == mail_notice.key
    assert mail["Subject"] == mail_notice.subject and "陈小明" in mail.get_content()
    written = json.loads((folder / sms_notice.transport_id).read_text(encoding="utf-8"))
    assert sms_notice.transport_id.endswith(".json")
    assert written["out_id"] == sms_notice.key and written["phone"] == "13812345678"
    assert written["text"] == sms_notice.body and written["params"]["date"] == "2025年10月1日"
    assert sorted(p.name for p in folder.iterdir()) == sorted([mail_notice.transport_id, sms_notice.transport_id])


def _interrupt(uow, notice_id, *, minutes_ago: int) -> None:  # noqa: ANN001
    """As a sender that claimed the notice `minutes_ago` and died before recording the result."""
    with uow.write() as session:
        session.execute(update(Notice).where(Notice.id == notice_id).values(
            state="sending", attempts=1, claimed_at=MORNING - timedelta(minutes=minutes_ago)))


def test_an_interrupted_email_is_sent_again_with_the_same_message_id_once_its_lease_passed(uow, people):
    case_id = registered_case(uow, people)
    notice_id = queue(uow, case_id)
    _interrupt(uow, notice_id, minutes_ago=5)
    with smtp_server() as (server, port):
        transport = Transports(email=SmtpAdapter(SmtpSettings("127.0.0.1", port, security="none")),
                               sms=FolderAdapter(Path("/x")))
        assert send_due(uow, now=MORNING, transport=transport).sent == 0        # a live sender may have it
        _interrupt(uow, notice_id, minutes_ago=11)                              # the 10-minute lease passed
        summary = send_due(uow, now=MORNING, transport=transport)
    assert (summary.recovered, summary.sent) == (1, 1)
    [mail] = server.parsed()
    again = notice(uow, notice_id)
    assert mail["Message-ID"] == again.key and (again.state, again.attempts) == ("sent", 2)


def test_an_interrupted_file_already_written_is_found_sent_and_not_written_again(uow, people, tmp_path):
    case_id = registered_case(uow, people)
    notice_id = queue(uow, case_id)
    transport = folder_only(tmp_path)
    send_due(uow, now=MORNING, transport=transport)
    written = notice(uow, notice_id).transport_id
    stamp = (tmp_path / "outbox" / written).stat().st_mtime_ns
    _interrupt(uow, notice_id, minutes_ago=30)          # as if the sender died after the rename
    summary = recover_interrupted(uow, now=MORNING, transport=transport)
    assert (summary.recovered, summary.sent) == (1, 1)
    assert notice(uow, notice_id).state == "sent"
    assert (tmp_path / "outbox" / written).stat().st_mtime_ns == stamp
    assert [p.name for p in (tmp_path / "outbox").iterdir()] == [written]


def test_an_interrupted_sms_to_a_gateway_that_cannot_recognise_a_repeat_awaits_confirmation(uow, people):
    case_id = registered_case(uow, people, preferred="sms")
    plain, idempotent = queue(uow, case_id), queue(uow, case_id, "closure")
    _interrupt(uow, plain, minutes_ago=30)
    _interrupt(uow, idempotent, minutes_ago=30)
    with sms_gateway([200]) as (gateway, url):
        settings = dict(url=url, templates={"acknowledgement": "SMS_1", "closure": "SMS_2"})
        first = Transports(email=FolderAdapter(Path("/x")), sms=SmsGatewayAdapter(SmsSettings(**settings)))
        assert recover_interrupted(uow, now=MORNING, transport=first).unconfirmed == 2
        assert notice(uow, plain).state == "unconfirmed"
        assert notice(uow, plain).last_error == "outbox.error.interrupted_unconfirmed"
        _interrupt(uow, idempotent, minutes_ago=30)
        second = Transports(email=FolderAdapter(Path("/x")),
                            sms=SmsGatewayAdapter(SmsSettings(**settings, idempotent=True)))
        assert send_due(uow, now=MORNING, transport=second).sent == 1
    assert notice(uow, idempotent).state == "sent" and notice(uow, plain).state == "unconfirmed"
    assert [r["out_id"] for r in gateway.requests] == [notice(uow, idempotent).key]


class SlowFolder(FolderAdapter):
    """A folder that takes its time and counts what it was asked to write."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.calls: list[str] = []
        self.lock = threading.Lock()

    def send(self, message):  # noqa: ANN001, ANN201
        with self.lock:
            self.calls.append(message.key)
        time.sleep(0.05)
        return super().send(message)


def test_two_senders_at_once_deliver_each_notice_exactly_once(uow, people, tmp_path):
    case_id = registered_case(uow, people)
    ids = [queue(uow, case_id, kind) for kind in ("acknowledgement", "progress", "closure", "follow_up_invitation")
           for _ in range(3) if kind != "progress"]
    adapter = SlowFolder(tmp_path / "outbox")
    transport = Transports(email=adapter, sms=adapter)
    results = []
    threads = [threading.Thread(target=lambda: results.append(send_due(uow, now=MORNING, transport=transport)))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(r.sent for r in results) == len(ids) == 9
    assert len(adapter.calls) == len(set(adapter.calls)) == 9
    with uow.read() as session:
        assert set(session.scalars(select(Notice.state))) == {"sent"}


def test_a_progress_notice_tells_the_expected_completion_date(uow, people, tmp_path):
    case_id = registered_case(uow, people)
    with pytest.raises(DomainError) as refused:        # not accepted yet: no closure clock, no date given
        queue(uow, case_id, "progress")
    assert refused.value.message.key == "notices.missing_value"
    given = queue(uow, case_id, "progress", extra={"expected_completion_date": datetime(2025, 10, 20)})
    assert "预计将于2025年10月20日前办结" in notice(uow, given).body and "“已登记”" in notice(uow, given).body
    complaints.accept_complaint(uow, actor=people.gmo, complaint_id=case_id, category="claim",
                                severity="general", departments=["operations"], now=T0 + timedelta(hours=1))
    from_clock = queue(uow, case_id, "expected_completion")
    with uow.read() as session:
        number = session.get(Complaint, case_id).number
    text = notice(uow, from_clock).body
    assert number in text and "预计将于2025年10月" in text and "“调查处理中”" in text


def test_the_decision_email_carries_the_letter_and_the_decision_sms_only_points_to_it(uow, people):
    case_id = registered_case(uow, people)
    with uow.write() as session:
        session.execute(update(Complaint).where(Complaint.id == case_id).values(
            approval_instructions="按合同约定赔付人民币3000元", decision_checked="核对了理赔系统与查勘记录",
            decision_basis="保险合同第五条", decision_remedies="review,litigation",
            consolidated_opinion="内部综合意见：理赔部责任", penalty_persons="张某")
            .execution_options(synchronize_session=False))
    mail = notice(uow, queue(uow, case_id, "decision"))
    sms = notice(uow, queue(uow, case_id, "decision", channel="sms"))
    for text in ("投诉处理决定告知书", "核对了理赔系统与查勘记录", "保险合同第五条", "按合同约定赔付人民币3000元",
                 "1. 自收到本告知书之日起30日内向我司申请核查", "2. 向人民法院提起诉讼"):
        assert text in mail.body
    for internal in ("内部综合意见", "张某"):
        assert internal not in mail.body and internal not in sms.body
    assert "保险合同第五条" not in sms.body and "核查" not in json.dumps(sms.params, ensure_ascii=False)
    assert sms.params == {"template_id": "", "params": {"name": "陈小明", "code": f"登记号 {case_id}"}}


class BrokenOnce(FolderAdapter):
    """A folder whose first write fails with an error no adapter should raise."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.failures = 1

    def send(self, message):  # noqa: ANN001, ANN201
        if self.failures:
            self.failures -= 1
            raise ValueError("disk controller confused")
        return super().send(message)


def test_the_sender_loop_keeps_going_past_an_adapters_own_fault(uow, people, tmp_path):
    from portal.services.notices_outbox import run_sender
    case_id = registered_case(uow, people)
    notice_id = queue(uow, case_id)
    adapter = BrokenOnce(tmp_path / "outbox")
    moments = iter([MORNING, MORNING + timedelta(minutes=5)])
    run_sender(uow, clock=lambda: next(moments), transport=Transports(email=adapter, sms=adapter), interval=0,
               rounds=2)
    sent = notice(uow, notice_id)
    assert (sent.state, sent.attempts, sent.last_error) == ("sent", 2, "")
    assert [p.name for p in (tmp_path / "outbox").iterdir()] == [sent.transport_id]


def test_a_header_never_breaks_on_what_a_value_holds(uow, people):
    case_id = registered_case(uow, people)
    with uow.write() as session:
        session.execute(update(Complaint).where(Complaint.id == case_id).values(
            approval_instructions="第一行\n第二行" + "很长" * 200).execution_options(synchronize_session=False))
        template = session.get(NoticeTemplate, ("decision", "email"))
        template.subject = "决定：{approved_instructions}"
    subject = notice(uow, queue(uow, case_id, "decision")).subject
    assert "\n" not in subject and subject.startswith("决定：第一行 第二行") and len(subject) == 200
