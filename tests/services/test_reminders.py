"""催办单 / 洽办单 (002 art.15): each goes only to the departments that own the late step and have
not done (or were late with) their part; the GM office also issues one by hand with its own text
and answer deadline; every item lists its content, issuer, deadline and how far past it."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.domain.errors import PermissionDenied, ValidationFailed
from portal.persistence.models import Event, Reminder
from portal.services import handling, reminders
from portal.services.queries import current_version
from tests.helpers import final_approve, instruct_analysis, instruct_report
from tests.conftest import T0
from tests.services.test_handling import DECISION, REPORT, accepted


def _items(uow, case_id):
    with uow.read() as session:
        return set(session.execute(select(Reminder.clock_key, Reminder.kind, Reminder.department_id)
                                   .where(Reminder.complaint_id == case_id)).all())


def _department_ids(uow):
    from portal.persistence.models import Department
    with uow.read() as session:
        return dict(session.execute(select(Department.code, Department.id)).all())


def _close(uow, people, case_id, at):
    handling.report_to_gm(uow, actor=people.opshandler, complaint_id=case_id, report="r", now=at,
                          expected_version=current_version(uow, case_id))
    instruct_report(uow, people, case_id, at)
    handling.consolidate(uow, actor=people.gmo, complaint_id=case_id, opinion="o", proposed_amount="100", now=at,
                         expected_version=current_version(uow, case_id))
    handling.approve(uow, actor=people.approver, complaint_id=case_id, instructions="i", amount_limit="100", now=at,
                     expected_version=current_version(uow, case_id))
    handling.record_negotiation(uow, decision=DECISION, actor=people.clerk, complaint_id=case_id, result="accepted",
                                note="n", agreed_amount="100", now=at, expected_version=current_version(uow, case_id))
    handling.review_negotiation(uow, actor=people.lead, complaint_id=case_id, approve=True, comment="", now=at,
                                expected_version=current_version(uow, case_id))
    handling.close_case(uow, cause_code="process.execution", actor=people.gmo, complaint_id=case_id, final_opinion="f", responsible_department=None,
                        responsibility_level="none", penalty_persons="", now=at,
                            expected_version=current_version(uow, case_id))
    final_approve(uow, people, case_id, at)


def test_steps_of_the_gm_office_go_to_no_department(uow, people):
    # Accepted 3 days after receipt: 确认受理 (24 h) ended late, but it is the GM office's own step.
    from portal.services import complaints
    from tests.helpers import a_form
    done = complaints.register_complaint(uow, actor=people.clerk, form=a_form(), attachments=[], now=T0)
    complaints.accept_complaint(uow, actor=people.gmo, complaint_id=done.id, category="claim", severity="general",
                                departments=["operations"], now=T0 + timedelta(days=3))
    handling.submit_report(uow, actor=people.opshandler, complaint_id=done.id, report=REPORT,
                           now=T0 + timedelta(days=3, hours=2), expected_version=current_version(uow, done.id))
    reminders.issue_reminders(uow, now=T0 + timedelta(days=3, hours=3))
    _close(uow, people, done.id, T0 + timedelta(days=4))
    reminders.issue_reminders(uow, now=T0 + timedelta(days=4, hours=1))
    keys = {k for k, _, _ in _items(uow, done.id)}
    assert "acknowledge" not in keys and "major_report" not in keys and "consolidation" not in keys
    # the initial plan (48 h from receipt) was the department's own step and it was late
    assert ("initial_plan", "late_inquiry", _department_ids(uow)["operations"]) in _items(uow, done.id)


def test_only_the_department_that_was_late_is_asked_why(uow, people):
    ids = _department_ids(uow)
    case_id = accepted(uow, people, departments=("operations", "technical"))
    # operations reports on time, technical 30 days later: the investigation (7 working days) ended late
    handling.submit_report(uow, actor=people.opshandler, complaint_id=case_id, report=REPORT,
                           now=T0 + timedelta(hours=20), expected_version=current_version(uow, case_id))
    late = T0 + timedelta(days=30)
    assert reminders.issue_reminders(uow, now=late - timedelta(hours=1)) > 0
    reminded = {(k, d) for k, kind, d in _items(uow, case_id) if kind == "reminder"}
    assert ("investigation", ids["technical"]) in reminded and ("investigation", ids["operations"]) not in reminded
    handling.submit_report(uow, actor=people.techhandler, complaint_id=case_id, report=REPORT, now=late,
                           expected_version=current_version(uow, case_id))
    instruct_analysis(uow, people, case_id, late)
    _close(uow, people, case_id, late + timedelta(hours=1))
    reminders.issue_reminders(uow, now=late + timedelta(hours=2))
    asked = {(k, d) for k, kind, d in _items(uow, case_id) if kind == "late_inquiry"}
    assert ("investigation", ids["technical"]) in asked and ("investigation", ids["operations"]) not in asked
    assert ("closure", ids["technical"]) in asked and ("closure", ids["operations"]) not in asked


def test_a_swept_item_lists_its_clock_deadline_and_how_overdue(uow, people):
    case_id = accepted(uow, people)
    at = T0 + timedelta(days=20)
    reminders.issue_reminders(uow, now=at)
    items = {r.clock_key: r for r in reminders.list_reminders(uow, actor=people.opshandler)}
    investigation = items["investigation"]
    assert investigation.issuer is None and investigation.content == "" and investigation.due_at is not None
    assert investigation.due_at < at and investigation.overdue(at) == at - investigation.due_at
    reminders.answer_reminder(uow, actor=people.opshandler, reminder_id=investigation.id, answer="已提交", now=at)
    answered = {r.id: r for r in reminders.list_reminders(uow, actor=people.opshandler)}[investigation.id]
    assert answered.overdue(at + timedelta(days=9)) == at - investigation.due_at     # stops when answered


def test_the_gm_office_issues_one_by_hand_with_its_own_text_and_deadline(uow, people):
    case_id = accepted(uow, people)
    at = T0 + timedelta(days=2)
    item_id = reminders.issue_by_hand(uow, actor=people.gmo, complaint_id=case_id, department="operations",
                                      kind="reminder", content="请于明日前补充查勘照片", reply_by=at + timedelta(days=1),
                                      now=at)
    # a second one to the same department is its own item (no clock: never taken for a duplicate)
    reminders.issue_by_hand(uow, actor=people.gmo, complaint_id=case_id, department="operations", kind="reminder",
                            content="再次催办", reply_by=at + timedelta(days=2), now=at + timedelta(hours=1))
    mine = reminders.list_reminders(uow, actor=people.opshandler)
    assert [r.content for r in mine][:2] == ["再次催办", "请于明日前补充查勘照片"]        # newest first
    first = next(r for r in mine if r.id == item_id)
    assert first.issuer == "总经理室丙" or first.issuer                              # the GM office's name
    assert first.clock_key is None and first.due_at == at + timedelta(days=1)
    assert first.overdue(at + timedelta(days=3)) == timedelta(days=2)
    with uow.read() as session:
        event = session.scalars(select(Event).where(Event.complaint_id == case_id, Event.action == "reminder.issue")
                                .order_by(Event.id.desc())).first()
    assert event.comment == "再次催办" and event.changes["department"] == "operations"


@pytest.mark.parametrize("change, field", [
    (dict(department="technical"), "department"),              # not routed to 技术部
    (dict(department="nowhere"), "department"),
    (dict(kind="late_inquiry"), "kind"),                        # the case is still open
    (dict(kind=""), "kind"),
    (dict(content="  "), "content"),
    (dict(reply_by=None), "reply_by"),
    (dict(reply_by=T0), "reply_by"),                            # already past
])
def test_a_hand_issued_item_is_refused_with_its_reason_and_nothing_saved(uow, people, change, field):
    case_id = accepted(uow, people)
    values = dict(department="operations", kind="reminder", content="请尽快处理", reply_by=T0 + timedelta(days=5))
    values.update(change)
    with pytest.raises(ValidationFailed) as refused:
        reminders.issue_by_hand(uow, actor=people.gmo, complaint_id=case_id, now=T0 + timedelta(days=2), **values)
    assert field in refused.value.errors
    with uow.read() as session:
        assert session.scalar(select(func.count()).select_from(Reminder)) == 0


def test_only_the_gm_office_issues_by_hand(uow, people):
    case_id = accepted(uow, people)
    with pytest.raises(PermissionDenied):
        reminders.issue_by_hand(uow, actor=people.opshandler, complaint_id=case_id, department="operations",
                                kind="reminder", content="x", reply_by=T0 + timedelta(days=5),
                                now=T0 + timedelta(days=2))


def test_the_home_to_do_counts_match_each_queue(uow, people):
    from portal.services import complaints, queries
    from tests.helpers import a_form

    def counts(actor, at=T0 + timedelta(hours=2)):
        return {t.key: t.count for t in queries.todo_counts(uow, actor=actor, now=at)}

    waiting = complaints.register_complaint(uow, actor=people.clerk, form=a_form(customer_phone="13800000001",
                                                                                 policy_number="P-TODO-1"),
                                            attachments=[], now=T0).id
    routed = accepted(uow, people, customer_phone="13800000002", policy_number="P-TODO-2")
    assert counts(people.gmo)["accept"] == 1 and counts(people.gmo)["consolidate"] == 0
    assert counts(people.opshandler)["investigate"] == 1 and counts(people.techhandler)["investigate"] == 0
    assert counts(people.approver)["approve"] == 0 and "accept" not in counts(people.approver)
    assert counts(people.gmo)["overdue"] == 0
    later = T0 + timedelta(days=20)                     # both cases past deadlines
    assert counts(people.gmo, later)["overdue"] == 2 and counts(people.boss, later)["overdue"] == 2
    assert counts(people.opshandler, later)["department_overdue"] == 1
    assert counts(people.clerk, later)["my_overdue"] == 2
    reminders.issue_reminders(uow, now=later)
    queue = reminders.count_reminders(uow, actor=people.opshandler, open_only=True)
    assert counts(people.opshandler, later)["answer"] == queue > 0
    handling.submit_report(uow, actor=people.opshandler, complaint_id=routed, report=REPORT, now=later,
                           expected_version=current_version(uow, routed))
    assert counts(people.opshandler, later)["report_to_gm"] == 1 and counts(people.opshandler, later)["investigate"] == 0
    handling.report_to_gm(uow, actor=people.opshandler, complaint_id=routed, report="r", now=later,
                          expected_version=current_version(uow, routed))
    assert counts(people.genmgr, later)["instruct_report"] == 1 and counts(people.opshandler, later)["report_to_gm"] == 0
    assert "instruct_report" not in counts(people.approver, later)      # the GM's alone (002 art.13.2)
    instruct_report(uow, people, routed, later)
    assert counts(people.gmo, later)["consolidate"] == 1
    handling.consolidate(uow, actor=people.gmo, complaint_id=routed, opinion="o", proposed_amount="100", now=later,
                         expected_version=current_version(uow, routed))
    assert counts(people.approver, later)["approve"] == 1 and counts(people.approver, later)["final_approve"] == 0
    assert waiting and counts(people.admin) == {"overdue": 0}
