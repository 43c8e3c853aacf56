"""What people do with notices, on SQLite and PostgreSQL: the GM office lists the outbox (filtered and
paged in SQL), confirms a 待确认 notice delivered or sends a failed one again (audited); the
administrator edits the templates (validated, audited, stale saves refused); the negotiator prints the
decision letter, which carries nothing internal."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select, update

from portal.domain.errors import ConcurrentChange, DomainError, PermissionDenied, TransitionNotAllowed
from portal.domain.regulatory import Decision
from portal.persistence.models import ComplainedStaff, Complaint, Event, Notice, NoticeTemplate, User
from portal.services import notices_office, notices_templates, queries
from portal.services.configuration import ConfigurationRefused, ConfigurationStale, change_log
from portal.services.notices_outbox import queue_notice
from tests.services.notices_servers import registered_case

MORNING = datetime(2025, 10, 1, 10, 0)


def queued(uow, case_id, kind="acknowledgement", **kwargs) -> int:  # noqa: ANN001, ANN003
    with uow.write() as session:
        return queue_notice(session, complaint=session.get(Complaint, case_id), kind=kind, now=MORNING, **kwargs).id


def set_state(uow, notice_id, state, attempts=3) -> None:  # noqa: ANN001
    with uow.write() as session:
        session.execute(update(Notice).where(Notice.id == notice_id).values(state=state, attempts=attempts,
                                                                            last_error="SMTP 550"))


def test_the_gm_office_lists_the_outbox_filtered_and_paged(uow, people):
    case_id = registered_case(uow, people)
    ids = [queued(uow, case_id, kind) for kind in ("acknowledgement", "closure", "decision")]
    sms = queued(uow, case_id, "closure", channel="sms")
    set_state(uow, ids[1], "failed")
    page = notices_office.list_notices(uow, actor=people.gmo)
    assert page.total == 4 and page.counts == {"queued": 3, "failed": 1}
    assert list(page.frame["id"]) == sorted([*ids, sms], reverse=True)          # newest first
    assert set(page.frame["customer_name"]) == {"陈小明"}
    assert notices_office.list_notices(uow, actor=people.gmo, state="failed").frame["id"].tolist() == [ids[1]]
    assert notices_office.list_notices(uow, actor=people.gmo, channel="sms").frame["id"].tolist() == [sms]
    assert notices_office.list_notices(uow, actor=people.gmo, kind="closure", channel="email").total == 1
    assert notices_office.list_notices(uow, actor=people.gmo, kind="no_such_kind").total == 0
    second = notices_office.list_notices(uow, actor=people.gmo, page=2, page_size=3)
    assert (second.page, second.pages, len(second.frame)) == (2, 2, 1)
    with pytest.raises(PermissionDenied):
        notices_office.list_notices(uow, actor=people.clerk)


def test_an_unconfirmed_notice_is_confirmed_sent_and_a_failed_one_resent_both_audited(uow, people):
    case_id = registered_case(uow, people, preferred="sms")
    unconfirmed, failed = queued(uow, case_id), queued(uow, case_id, "closure")
    set_state(uow, unconfirmed, "unconfirmed", attempts=1)
    set_state(uow, failed, "failed", attempts=6)
    todo = {item.key: (item.count, item.page) for item in queries.todo_counts(uow, actor=people.gmo, now=MORNING)}
    assert todo["notices_attention"] == (2, "outbox")                  # on the GM office's home page
    with pytest.raises(PermissionDenied):
        notices_office.confirm_sent(uow, actor=people.clerk, notice_id=unconfirmed, now=MORNING)
    with pytest.raises(ConcurrentChange):           # only a 待确认 notice can be confirmed
        notices_office.confirm_sent(uow, actor=people.gmo, notice_id=failed, now=MORNING)
    notices_office.confirm_sent(uow, actor=people.gmo, notice_id=unconfirmed, now=MORNING,
                                comment="网关记录显示已送达")
    evening = datetime(2025, 10, 1, 22, 0)
    notices_office.resend_notice(uow, actor=people.gmo, notice_id=failed, now=evening)
    with uow.read() as session:
        done, again = session.get(Notice, unconfirmed), session.get(Notice, failed)
        events = session.scalars(select(Event).where(Event.action.like("notice_%")).order_by(Event.id)).all()
    assert (done.state, done.sent_at) == ("sent", MORNING)
    assert (again.state, again.attempts, again.next_attempt_at) == ("queued", 0, datetime(2025, 10, 2, 8, 0))
    assert [(e.action, e.complaint_id, e.actor_label) for e in events] == [
        ("notice_confirm_sent", case_id, "gmo"), ("notice_resend", case_id, "gmo")]
    assert events[0].comment == "网关记录显示已送达" and events[1].changes["state"] == ["failed", "queued"]
    assert events[1].changes["attempts_before"] == 6 and events[1].changes["notice"] == again.key
    assert {i.key: i.count for i in queries.todo_counts(uow, actor=people.gmo, now=MORNING)}["notices_attention"] == 0
    with pytest.raises(ConcurrentChange):           # queued again: nothing left to resend
        notices_office.resend_notice(uow, actor=people.gmo, notice_id=failed, now=evening)


# -- the templates editor --

def test_the_administrator_edits_a_template_and_the_change_is_audited(uow, people):
    rows = notices_templates.load_templates(uow, actor=people.admin)
    basis = notices_templates.templates_version(uow, actor=people.admin)
    ack = next(r for r in rows if (r["kind"], r["channel"]) == ("acknowledgement", "email"))
    ack["subject"] = "我们已收到您的投诉（{case_reference}）"
    sms = next(r for r in rows if (r["kind"], r["channel"]) == ("acknowledgement", "sms"))
    sms["gateway_template"] = "SMS_200001"
    assert notices_templates.save_templates(uow, actor=people.admin, rows=rows, now=MORNING, basis=basis) == 2
    assert notices_templates.save_templates(uow, actor=people.admin, rows=rows, now=MORNING) == 0
    with uow.read() as session:
        stored = session.get(NoticeTemplate, ("acknowledgement", "email"))
    assert stored.subject == "我们已收到您的投诉（{case_reference}）"
    [subject_change, sms_change] = sorted(change_log(uow, actor=people.admin, table="notice_templates"),
                                          key=lambda c: c.key)
    assert subject_change.key == "acknowledgement.email" and subject_change.before["subject"] == "您的投诉已受理登记（{case_reference}）"
    assert sms_change.after["gateway_template"] == "SMS_200001"
    with pytest.raises(ConfigurationStale):          # an editor opened before that save
        notices_templates.save_templates(uow, actor=people.admin, rows=rows, now=MORNING, basis=basis)
    with pytest.raises(PermissionDenied):
        notices_templates.save_templates(uow, actor=people.gmo, rows=rows, now=MORNING)


def test_an_unknown_placeholder_or_a_letter_without_art19_parts_is_refused_and_nothing_saved(uow, people):
    rows = notices_templates.load_templates(uow, actor=people.admin)
    ack = next(r for r in rows if (r["kind"], r["channel"]) == ("acknowledgement", "email"))
    ack["body"] += "\n{customer_phone}"
    letter = next(r for r in rows if (r["kind"], r["channel"]) == ("decision", "letter"))
    letter["body"] = letter["body"].replace("{decision_remedies}", "")
    with pytest.raises(ConfigurationRefused) as refused:
        notices_templates.save_templates(uow, actor=people.admin, rows=rows, now=MORNING)
    assert [(r.row, r.field, r.message.key, r.message.params) for r in refused.value.refusals] == [
        (rows.index(ack), "body", "notices.unknown_placeholder", {"name": "customer_phone"}),
        (rows.index(letter), "body", "notices.art19_missing.decision_remedies", {})]
    with uow.read() as session:
        assert "{customer_phone}" not in session.get(NoticeTemplate, ("acknowledgement", "email")).body
        assert session.scalar(select(Event.id).where(Event.action == "config.save")) is None


def test_an_edited_template_is_what_the_next_notice_says(uow, people):
    rows = notices_templates.load_templates(uow, actor=people.admin)
    next(r for r in rows if (r["kind"], r["channel"]) == ("signature", "text"))["body"] = "某某保险 客服热线 95500"
    notices_templates.save_templates(uow, actor=people.admin, rows=rows, now=MORNING)
    case_id = registered_case(uow, people)
    with uow.read() as session:
        assert session.get(Notice, queued(uow, case_id)).body.endswith("某某保险 客服热线 95500")


# -- the decision letter --

def approved_case(uow, people) -> int:  # noqa: ANN001
    case_id = registered_case(uow, people, customer_name="陈<b>小明</b>")
    with uow.write() as session:
        approver = session.scalar(select(User.id).where(User.username == "approver"))
        session.execute(update(Complaint).where(Complaint.id == case_id).values(
            approval_instructions="按合同赔付3000元 <script>alert(1)</script>", approved_by_id=approver,
            consolidated_opinion="内部综合意见：理赔部负主要责任", penalty_persons="张某",
            clerk_opinion="签注：客户情绪激动", negotiation_note="内部交涉记录")
            .execution_options(synchronize_session=False))
    return case_id


def test_the_decision_letter_carries_art19_and_nothing_internal(uow, people):
    case_id = approved_case(uow, people)
    with pytest.raises(DomainError) as incomplete:
        notices_templates.decision_letter(uow, actor=people.clerk, complaint_id=case_id, now=MORNING)
    assert incomplete.value.message.key == "notices.letter_incomplete"
    decision = Decision(checked="核对了理赔系统 & 查勘记录", basis="保险合同第五条", remedies=["review", "mediation"])
    html = notices_templates.decision_letter(uow, actor=people.clerk, complaint_id=case_id, now=MORNING,
                                             decision=decision)
    for text in ("投诉处理决定告知书", "一、我司核查的情况", "核对了理赔系统 &amp; 查勘记录", "保险合同第五条",
                 "1. 自收到本告知书之日起30日内向我司申请核查", "2. 向保险消费纠纷调解组织申请调解",
                 "2025年10月1日", f"登记号 {case_id}", "尊敬的陈&lt;b&gt;小明&lt;/b&gt;",
                 "&lt;script&gt;alert(1)&lt;/script&gt;"):
        assert text in html, text
    assert "<script>" not in html and "<b>" not in html
    for internal in ("内部综合意见", "张某", "客户情绪激动", "内部交涉记录", "客户抱怨处理表"):
        assert internal not in html
    with uow.write() as session:
        session.execute(update(Complaint).where(Complaint.id == case_id).values(
            decision_checked="已记录的核查", decision_basis="已记录的依据", decision_remedies="litigation")
            .execution_options(synchronize_session=False))
    recorded = notices_templates.decision_letter(uow, actor=people.gmo, complaint_id=case_id, now=MORNING)
    assert "已记录的核查" in recorded and "1. 向人民法院提起诉讼" in recorded


def test_the_decision_letter_is_for_intake_and_the_gm_office_once_a_decision_exists(uow, people):
    case_id = registered_case(uow, people)
    with pytest.raises(DomainError) as early:
        notices_templates.decision_letter(uow, actor=people.clerk, complaint_id=case_id, now=MORNING)
    assert early.value.message.key == "notices.letter_no_decision"
    case_id = approved_case(uow, people)
    decision = Decision(checked="核查", basis="依据", remedies=["review"])
    for outsider in (people.opshandler, people.approver, people.boss):
        with pytest.raises(PermissionDenied):
            notices_templates.decision_letter(uow, actor=outsider, complaint_id=case_id, now=MORNING,
                                              decision=decision)
    with uow.write() as session:
        session.add(ComplainedStaff(complaint_id=case_id, user_id=people.lead.id))
    with pytest.raises(TransitionNotAllowed):        # staff the complaint names stay recused
        notices_templates.decision_letter(uow, actor=people.lead, complaint_id=case_id, now=MORNING,
                                          decision=decision)
    assert "依据" in notices_templates.decision_letter(uow, actor=people.lead2, complaint_id=case_id, now=MORNING,
                                                      decision=decision)
