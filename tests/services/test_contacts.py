"""The contact log (SPEC §11) on both databases: a contact recorded by the people who talk to the
customer, refused with a message per field and nothing saved; the acknowledgement clock stopped by
the first acknowledgement contact only; the timeline paged in SQL; 待联系客户 listing the
acknowledgements, progress contacts and closure notices due; the sweep's expected-completion notice,
once per case and clock."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.domain.errors import PermissionDenied, TransitionNotAllowed, ValidationFailed
from portal.domain.validation import Attachment
from portal.persistence.models import (AttachmentRow, CaseClock, Complaint, ContactLog, ContactPrompt, Event,
                                       Notice)
from portal.services import complaints, contacts, handling, reminders
from portal.services.queries import current_version
from tests.conftest import T0
from tests.helpers import a_form, final_approve, instruct_report
from tests.services.test_handling import DECISION, REPORT, accepted

RECEIVED = datetime(2025, 9, 30, 9, 0)      # a_form's receipt; registered at T0 (10:00)


def _count(uow, model, **where) -> int:
    with uow.read() as session:
        return session.scalar(select(func.count()).select_from(model).filter_by(**where))


def _case(uow, case_id) -> Complaint:
    with uow.read() as session:
        return session.get(Complaint, case_id)


def _clock(uow, case_id, key) -> CaseClock | None:
    with uow.read() as session:
        return session.get(CaseClock, (case_id, key))


def _registered(uow, people, **form) -> int:
    return complaints.register_complaint(uow, actor=people.clerk, form=a_form(**form), attachments=[], now=T0).id


def _record(uow, actor, case_id, **values):
    values = {"channel": "phone", "step": "progress", "content": "已电话告知客户调查进展。", "proof": "录音 REC-1",
              "now": T0 + timedelta(hours=2), **values}
    return contacts.record_contact(uow, actor=actor, complaint_id=case_id, **values)


def test_a_clerk_records_a_call_and_only_an_acknowledgement_stops_the_acknowledgement_clock(uow, people):
    case_id = _registered(uow, people)
    before = _case(uow, case_id).customer_acknowledged_at          # the outbox's acknowledgement, if logged yet
    _record(uow, people.clerk, case_id, step="progress", at=RECEIVED + timedelta(minutes=10))
    assert _case(uow, case_id).customer_acknowledged_at == before  # a progress call is not the acknowledgement
    _record(uow, people.clerk, case_id, step="acknowledgement", content="来电当即确认受理，告知 24 小时内回复。",
            at=RECEIVED + timedelta(minutes=30))
    case = _case(uow, case_id)
    assert case.customer_acknowledged_at == RECEIVED + timedelta(minutes=30)
    ack = _clock(uow, case_id, "customer_acknowledgement")
    assert ack.stopped_at == RECEIVED + timedelta(minutes=30) and ack.late is False
    assert ack.due_at == RECEIVED + timedelta(hours=24)
    # a later acknowledgement (a letter confirming the call) does not move the clock's stop
    _record(uow, people.lead, case_id, step="acknowledgement", channel="letter", content="寄出受理确认函。",
            proof="挂号信 XA123", at=T0 + timedelta(hours=1))
    assert _case(uow, case_id).customer_acknowledged_at == RECEIVED + timedelta(minutes=30)
    with uow.read() as session:
        event = session.scalars(select(Event).where(Event.complaint_id == case_id, Event.action == "record_contact")
                                .order_by(Event.id)).first()
    assert event.actor_label == "clerk" and event.changes["contact_step"] == "progress"
    assert event.changes["contact_channel"] == "phone" and event.comment == "已电话告知客户调查进展。"
    page = contacts.contact_timeline(uow, actor=people.gmo, complaint_id=case_id)
    mine = [c for c in page.rows if c.by is not None]
    assert [(c.step, c.channel, c.by, c.proof) for c in mine] == [
        ("acknowledgement", "letter", "主管乙", "挂号信 XA123"), ("acknowledgement", "phone", "受理员甲", "录音 REC-1"),
        ("progress", "phone", "受理员甲", "录音 REC-1")]       # newest first
    assert mine[-1].at == RECEIVED + timedelta(minutes=10)


@pytest.mark.parametrize("values, field, key", [
    ({"content": "   "}, "content", "form.required"),
    ({"channel": "fax"}, "channel", "form.unknown_choice"),
    ({"channel": None}, "channel", "form.choose_one"),
    ({"step": "gossip"}, "step", "form.unknown_choice"),
    ({"step": "decision", "channel": "sms"}, "channel", "contact.decision_in_writing"),
    ({"at": T0 + timedelta(hours=3)}, "at", "contact.at_in_future"),
    ({"at": RECEIVED - timedelta(minutes=1)}, "at", "contact.before_receipt"),
    ({"at": "yesterday"}, "at", "form.bad_value"),
    ({"proof": ""}, "proof", "contact.proof_required"),
    ({"step": "closure"}, "step", "contact.closure_before_closed"),
    ({"attachment": Attachment("录音.exe", "application/octet-stream", b"MZ")}, "attachment", "form.bad_file_type"),
])
def test_a_bad_contact_is_refused_beside_its_field_and_nothing_is_saved(uow, people, values, field, key):
    case_id = _registered(uow, people)
    contacts_before, events_before = _count(uow, ContactLog), _count(uow, Event)
    version = _case(uow, case_id).version
    with pytest.raises(ValidationFailed) as refused:
        _record(uow, people.clerk, case_id, **values)
    assert refused.value.errors[field].key == key
    assert _count(uow, ContactLog) == contacts_before and _count(uow, Event) == events_before
    assert _count(uow, AttachmentRow) == 0 and _case(uow, case_id).version == version


def test_staff_the_complaint_names_and_people_who_do_not_talk_to_the_customer_may_not_record(uow, people):
    case_id = accepted(uow, people, complained_staff=["lead"])
    before = _count(uow, ContactLog)
    with pytest.raises(TransitionNotAllowed) as recused:
        _record(uow, people.lead, case_id)
    assert recused.value.message.key == "recusal.named_in_complaint"
    for outsider in (people.approver, people.boss, people.techhandler):     # techhandler: 技术部 is not routed
        with pytest.raises(PermissionDenied):
            _record(uow, outsider, case_id)
    assert _count(uow, ContactLog) == before
    _record(uow, people.opshandler, case_id, content="运营部核实材料时致电客户。")   # a routed department may
    _record(uow, people.gmo, case_id, step="other", channel="visit", content="客户来访，面谈说明。", proof="来访登记 V-7")
    assert _count(uow, ContactLog) == before + 2


def test_an_attachment_is_the_proof_and_lands_among_the_case_attachments(uow, people):
    case_id = _registered(uow, people)
    contact_id = _record(uow, people.clerk, case_id, proof="", channel="letter", step="acknowledgement",
                         content="寄出受理确认函。", attachment=Attachment("回执.pdf", "application/pdf", b"%PDF-1.4 x"))
    with uow.read() as session:
        row = session.get(ContactLog, contact_id)
        stored = session.get(AttachmentRow, row.attachment_id)
    assert stored.complaint_id == case_id and stored.filename == "回执.pdf"
    shown = next(c for c in contacts.contact_timeline(uow, actor=people.clerk, complaint_id=case_id).rows
                 if c.id == contact_id)
    assert shown.attachment_name == "回执.pdf" and shown.proof == ""


def test_the_timeline_is_paged_in_sql_newest_first_and_whole_for_the_printed_form(uow, people):
    case_id = _registered(uow, people)
    base = contacts.contact_timeline(uow, actor=people.gmo, complaint_id=case_id).total
    for minute in range(25):
        _record(uow, people.clerk, case_id, content=f"第 {minute} 次通话", at=T0 + timedelta(minutes=minute))
    first = contacts.contact_timeline(uow, actor=people.gmo, complaint_id=case_id, page=1, page_size=10)
    assert first.total == base + 25 and len(first.rows) == 10 and first.rows[0].content == "第 24 次通话"
    last = contacts.contact_timeline(uow, actor=people.gmo, complaint_id=case_id, page=99, page_size=10)
    assert last.page == first.pages and len(last.rows) == (base + 25) - 10 * (first.pages - 1)
    whole = contacts.contact_timeline(uow, actor=people.gmo, complaint_id=case_id, page_size=None, newest_first=False)
    assert len(whole.rows) == base + 25 and whole.rows[-1].content == "第 24 次通话"
    with pytest.raises(PermissionDenied):
        contacts.contact_timeline(uow, actor=people.techhandler, complaint_id=case_id)   # not routed to 技术部


def _due(uow, people, at, **kw):
    return {(r.complaint_id, r.step): r for r in contacts.contacts_due(uow, actor=people.clerk, now=at, **kw).rows}


def test_a_clock_turning_due_soon_asks_for_a_progress_contact_until_one_is_logged(uow, people):
    # A customer who takes only the required notices: the sweep queues nothing, the clerk is asked to call.
    case_id = accepted(uow, people, optional_notices=False)
    _record(uow, people.clerk, case_id, step="acknowledgement", at=T0)
    # 初步方案 (48 h from receipt) turns 临期 with a quarter left: at 09:00 + 36 h
    assert (case_id, "progress") not in _due(uow, people, RECEIVED + timedelta(hours=35))
    at = RECEIVED + timedelta(hours=37)
    due = _due(uow, people, at)[(case_id, "progress")]
    closure = _clock(uow, case_id, "closure").due_at
    assert due.expected_completion == closure and due.due_at == RECEIVED + timedelta(hours=48)
    assert due.preferred_contact == "phone" and due.optional_notices is False
    reminders.issue_reminders(uow, now=at)                           # the sweep: the customer takes no such notice
    assert (case_id, "progress") in _due(uow, people, at)
    assert _count(uow, Notice, complaint_id=case_id, kind="expected_completion") == 0
    assert _count(uow, ContactPrompt, complaint_id=case_id) == 1
    _record(uow, people.clerk, case_id, step="expected_completion", content="告知预计 10 月 14 日前办结。",
            at=at, now=at + timedelta(minutes=5))
    assert (case_id, "progress") not in _due(uow, people, at + timedelta(minutes=5))
    # later the investigation (7 working days from acceptance) turns 临期 too: asked again
    later = _clock(uow, case_id, "investigation").soon_at + timedelta(minutes=1)
    assert (case_id, "progress") in _due(uow, people, later)
    from portal.services import queries
    todo = {item.key: item.count for item in queries.todo_counts(uow, actor=people.clerk, now=later)}
    assert todo["contact_due"] == contacts.contacts_due(uow, actor=people.clerk, now=later).total >= 1
    reminders.issue_reminders(uow, now=later)
    reminders.issue_reminders(uow, now=later + timedelta(minutes=1))      # idempotent: once per case and clock
    with uow.read() as session:
        prompted = sorted(session.scalars(select(ContactPrompt.clock_key).where(ContactPrompt.complaint_id == case_id)))
        events = session.scalar(select(func.count()).select_from(Event).where(
            Event.complaint_id == case_id, Event.action == "contact.progress_due"))
    assert "initial_plan" in prompted and "investigation" in prompted and events == 2


def test_the_sweep_queues_the_expected_completion_notice_once(uow, people):
    case_id = accepted(uow, people, preferred_contact="email")       # takes optional notices, by e-mail
    at = RECEIVED + timedelta(hours=37)
    assert (case_id, "progress") in _due(uow, people, at)
    assert contacts.queue_progress_notices(uow, now=at) == 1
    assert (case_id, "progress") not in _due(uow, people, at)        # the notice is the progress contact
    assert contacts.queue_progress_notices(uow, now=at + timedelta(minutes=1)) == 0
    with uow.read() as session:
        notice = session.scalars(select(Notice).where(Notice.complaint_id == case_id,
                                                      Notice.kind == "expected_completion")).one()
        prompt = session.scalars(select(ContactPrompt).where(ContactPrompt.complaint_id == case_id)).one()
    assert prompt.notice_id == notice.id and prompt.clock_key == "initial_plan"
    assert prompt.due_soon_at == RECEIVED + timedelta(hours=36)
    closure = _clock(uow, case_id, "closure").due_at                   # 24:00 of the 13th day: that day is told
    last = closure - timedelta(days=1)
    assert f"{last.year}年{last.month}月{last.day}日" in notice.body
    shown = next(c for c in contacts.contact_timeline(uow, actor=people.clerk, complaint_id=case_id).rows
                 if c.step == "expected_completion")
    assert shown.by is None and shown.notice_state == "queued" and shown.proof == notice.key


def _closed(uow, people) -> int:
    case_id = accepted(uow, people)
    at = T0 + timedelta(days=1)
    handling.submit_report(uow, actor=people.opshandler, complaint_id=case_id, report=REPORT, now=at,
                           expected_version=current_version(uow, case_id))
    handling.report_to_gm(uow, actor=people.opshandler, complaint_id=case_id, report="调查完毕", now=at,
                          expected_version=current_version(uow, case_id))
    instruct_report(uow, people, case_id, at)
    handling.consolidate(uow, actor=people.gmo, complaint_id=case_id, opinion="同意", proposed_amount="100", now=at,
                         expected_version=current_version(uow, case_id))
    handling.approve(uow, actor=people.approver, complaint_id=case_id, instructions="按100元赔付", amount_limit="100",
                     now=at, expected_version=current_version(uow, case_id))
    handling.record_negotiation(uow, decision=DECISION, actor=people.clerk, complaint_id=case_id, result="accepted",
                                note="客户接受", agreed_amount="100", now=at,
                                    expected_version=current_version(uow, case_id))
    handling.review_negotiation(uow, actor=people.lead, complaint_id=case_id, approve=True, comment="", now=at,
                                expected_version=current_version(uow, case_id))
    handling.close_case(uow, cause_code="process.execution", actor=people.gmo, complaint_id=case_id, final_opinion="结案", responsible_department=None,
                        responsibility_level="none", penalty_persons="", now=at,
                            expected_version=current_version(uow, case_id))
    final_approve(uow, people, case_id, at + timedelta(hours=1))
    return case_id


def test_a_closed_case_asks_for_its_closure_notice_until_it_is_told(uow, people):
    case_id = _closed(uow, people)
    closed = _case(uow, case_id).closed_at
    notice_clock = _clock(uow, case_id, "closure_notice")
    assert notice_clock.started_at == closed and notice_clock.due_at == datetime(closed.year, closed.month,
                                                                                 closed.day) + timedelta(days=2)
    at = closed + timedelta(hours=2)
    if _case(uow, case_id).closure_notified_at is None:             # unless the outbox already told the customer
        assert (case_id, "closure") in _due(uow, people, at)
    with pytest.raises(ValidationFailed) as refused:
        _record(uow, people.clerk, case_id, step="closure", at=closed - timedelta(minutes=1), now=at)
    assert refused.value.errors["at"].key == "contact.before_closure"
    _record(uow, people.clerk, case_id, step="closure", channel="phone", content="告知客户已结案。", at=closed, now=at)
    assert (case_id, "closure") not in _due(uow, people, at)
    stored = _clock(uow, case_id, "closure_notice")
    assert stored.stopped_at == closed and stored.late is False


def test_the_acknowledgement_is_asked_for_while_no_acknowledgement_is_on_record(uow, people):
    case_id = _registered(uow, people)                  # prefers phone: a person calls, nothing is queued
    ack = _clock(uow, case_id, "customer_acknowledgement")
    assert ack is not None and ack.started_at == RECEIVED and ack.due_at == RECEIVED + timedelta(hours=24)
    assert _case(uow, case_id).customer_acknowledged_at is None
    assert _due(uow, people, T0)[(case_id, "acknowledgement")].due_at == RECEIVED + timedelta(hours=24)
    _record(uow, people.clerk, case_id, step="acknowledgement", at=RECEIVED + timedelta(minutes=5))
    assert (case_id, "acknowledgement") not in _due(uow, people, T0)
    with pytest.raises(PermissionDenied):
        contacts.contacts_due(uow, actor=people.opshandler, now=T0)


def test_registration_records_the_preferred_channel_and_queues_the_acknowledgement(uow, people):
    case_id = _registered(uow, people, preferred_contact="sms", optional_notices=False)
    case = _case(uow, case_id)
    assert case.preferred_contact == "sms" and case.optional_notices is False
    assert _count(uow, Notice, complaint_id=case_id, kind="acknowledgement") == 1
    # queued with the registration and logged as the acknowledgement contact: its clock stops there
    assert case.customer_acknowledged_at == T0 and _clock(uow, case_id, "customer_acknowledgement").stopped_at == T0
    assert (case_id, "acknowledgement") not in _due(uow, people, T0)
    shown = contacts.contact_timeline(uow, actor=people.clerk, complaint_id=case_id).rows
    assert [(c.step, c.channel, c.by, c.notice_state) for c in shown] == [("acknowledgement", "sms", "受理员甲", "queued")]


def test_registration_without_a_preferred_channel_is_refused_and_saves_nothing(uow, people):
    with pytest.raises(ValidationFailed) as refused:
        _registered(uow, people, preferred_contact="")
    assert refused.value.errors["preferred_contact"].key == "form.choose_one"
    with pytest.raises(ValidationFailed) as refused:
        _registered(uow, people, preferred_contact="letter", customer_address="")
    assert refused.value.errors["customer_address"].key == "contact.address_needed"
    assert _count(uow, Complaint) == 0 and _count(uow, Notice) == 0 and _count(uow, ContactLog) == 0


def test_the_printed_form_lists_every_contact_with_its_text_escaped(uow, people):
    from portal.printing.handling_form import handling_form_html
    from portal.services import queries, rules
    case_id = _registered(uow, people, preferred_contact="sms")          # the outbox's acknowledgement first
    _record(uow, people.clerk, case_id, step="progress", content="<script>alert(1)</script>告知调查进展",
            proof="录音 <REC-2>", at=T0 + timedelta(minutes=30))
    view = queries.case_detail(uow, actor=people.gmo, complaint_id=case_id, now=T0 + timedelta(hours=2),
                               calendar=rules.load_calendar(uow))
    log = contacts.contact_timeline(uow, actor=people.gmo, complaint_id=case_id, page_size=None, newest_first=False)
    html = handling_form_html(view, lang="zh", printed_at=T0 + timedelta(hours=2), names={}, contacts=log)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;告知调查进展" in html
    assert "录音 &lt;REC-2&gt;" in html
    assert html.count("data-section='contacts'") == 3                   # on each of the three copies
    copy = html.split("data-copy='2'")[0]
    for shown in ("客户联系记录", "客户希望的联系方式", "短信", "确认受理告知", "进度告知", "受理员甲", "待发送"):
        assert shown in copy, shown
    assert copy.index("确认受理告知") < copy.index("进度告知")             # in the order they happened


def test_the_contacts_due_put_major_cases_first_then_urgency_then_the_earliest_due(uow, people):
    general = _registered(uow, people)
    urgent = _registered(uow, people, customer_phone="13900000001", policy_number="P2", urgency="urgent",
                         received_at=RECEIVED + timedelta(minutes=20))
    major = _registered(uow, people, customer_phone="13900000002", policy_number="P3", severity="major",
                        received_at=RECEIVED + timedelta(minutes=40))
    later = _registered(uow, people, customer_phone="13900000003", policy_number="P4",
                        received_at=RECEIVED + timedelta(minutes=10))
    rows = contacts.contacts_due(uow, actor=people.clerk, now=T0).rows
    assert [r.complaint_id for r in rows if r.step == "acknowledgement"] == [major, urgent, general, later]
    page = contacts.contacts_due(uow, actor=people.clerk, now=T0, page=2, page_size=3)
    assert page.total == len(rows) and page.page == 2 and [r.complaint_id for r in page.rows] == [later]


def test_an_acknowledgement_whose_notice_failed_is_asked_for_again(uow, people):
    case_id = _registered(uow, people, preferred_contact="sms")         # acknowledged by the queued SMS
    assert (case_id, "acknowledgement") not in _due(uow, people, T0)
    with uow.write() as session:                                          # the gateway refused it for good
        notice = session.scalars(select(Notice).where(Notice.complaint_id == case_id)).one()
        notice.state, notice.last_error = "failed", "400 bad number"
    due = _due(uow, people, T0 + timedelta(hours=1))[(case_id, "acknowledgement")]
    assert due.notice_failed is True and due.due_at == RECEIVED + timedelta(hours=24)
    shown = contacts.contact_timeline(uow, actor=people.clerk, complaint_id=case_id).rows
    assert [c.notice_state for c in shown] == ["failed"]
    _record(uow, people.clerk, case_id, step="acknowledgement", content="短信未送达，改为电话确认受理。",
            now=T0 + timedelta(hours=2))
    assert (case_id, "acknowledgement") not in _due(uow, people, T0 + timedelta(hours=2))
