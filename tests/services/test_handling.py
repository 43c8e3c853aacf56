from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.domain.regulatory import Decision
from portal.domain.errors import ConcurrentChange, TransitionNotAllowed, ValidationFailed
from portal.domain.satisfaction import Survey
from portal.persistence.models import Complaint, Event, Reminder
from portal.services import complaints, handling, queries, reminders, rules, users
from portal.services.handling import InvestigationReport
from portal.services.queries import current_version
from tests.conftest import T0
from portal.services import closing, follow_ups
from tests.closing_helpers import archive
from tests.helpers import a_form, final_approve, instruct_analysis, instruct_report


DECISION = Decision(checked="核对理赔系统与查勘记录", basis="保险合同第五条", remedies=["review", "mediation"],
                    told_via="phone", proof="通话录音 REC-001")
REPORT = InvestigationReport(cause_code="process.execution", evidence="理赔系统记录", cause="审核积压", finding="company_fault",
                             responsible_unit="理赔部", measures="增派审核人员", proposed_amount="3000")


def accepted(uow, people, departments=("operations",), **form):
    done = complaints.register_complaint(uow, actor=people.clerk, form=a_form(**form), attachments=[], now=T0)
    complaints.accept_complaint(uow, actor=people.gmo, complaint_id=done.id, category="claim",
                                severity=done.severity, departments=list(departments),
                                now=T0 + timedelta(hours=1))
    return done.id


def state(uow, case_id):
    with uow.read() as session:
        return session.get(Complaint, case_id).state


def to_approval(uow, people, amount="3000", **form):
    case_id = accepted(uow, people, **form)
    handling.submit_report(uow, actor=people.opshandler, complaint_id=case_id, report=REPORT, now=T0 + timedelta(days=1),
                           expected_version=current_version(uow, case_id))
    handling.report_to_gm(uow, actor=people.opshandler, complaint_id=case_id, report="调查完毕，呈总经理室",
                          now=T0 + timedelta(days=1, hours=1), expected_version=current_version(uow, case_id))
    instruct_report(uow, people, case_id, T0 + timedelta(days=1, hours=1, minutes=30))
    level = handling.consolidate(uow, actor=people.gmo, complaint_id=case_id, opinion="同意赔付",
                                 proposed_amount=amount, now=T0 + timedelta(days=1, hours=2),
                                     expected_version=current_version(uow, case_id))
    return case_id, level


def test_a_complaint_travels_from_registration_to_archive(uow, people):
    case_id, level = to_approval(uow, people)
    assert level == "dept_manager" and state(uow, case_id) == "awaiting_approval"
    handling.approve(uow, actor=people.approver, complaint_id=case_id, instructions="按3000元赔付",
                     amount_limit="3000", now=T0 + timedelta(days=2), expected_version=current_version(uow, case_id))
    handling.record_negotiation(uow, decision=DECISION, actor=people.clerk, complaint_id=case_id, result="accepted",
                                note="客户接受", agreed_amount="3000", now=T0 + timedelta(days=3),
                                    expected_version=current_version(uow, case_id))
    handling.review_negotiation(uow, actor=people.lead, complaint_id=case_id, approve=True, comment="",
                                now=T0 + timedelta(days=3, hours=1), expected_version=current_version(uow, case_id))
    assert handling.close_case(uow, cause_code="process.execution", actor=people.gmo, complaint_id=case_id, final_opinion="结案",
                               responsible_department="operations", responsibility_level="general",
                               penalty_persons="张某", now=T0 + timedelta(days=3, hours=5),
                                   expected_version=current_version(uow, case_id)) == "dept_manager"
    assert state(uow, case_id) == "awaiting_penalty"       # the final 核决, the loss and the warning confirmed in it
    final_approve(uow, people, case_id, T0 + timedelta(days=3, hours=6))
    assert handling.record_follow_up(uow, method="phone", actor=people.clerk, complaint_id=case_id, outcome="客户满意",
                                     survey=Survey(5, 5, 4, 5, 5), now=T0 + timedelta(days=5),
                                                   expected_version=current_version(uow, case_id)).value == "closed"
    # a follow-up no longer archives: the remedy agreed is recorded as paid, then the GM office's 总结
    closing.record_remedy(uow, actor=people.clerk, complaint_id=case_id, paid_on=(T0 + timedelta(days=4)).date(),
                          amount="3000", reference="PAY-001", now=T0 + timedelta(days=5, hours=1),
                          expected_version=current_version(uow, case_id))
    archive(uow, people, case_id, T0 + timedelta(days=5, hours=2))
    assert state(uow, case_id) == "archived"
    with uow.read() as session:
        case = session.get(Complaint, case_id)
        actions = session.scalars(select(Event.action).where(Event.complaint_id == case_id).order_by(Event.id)).all()
    assert case.department_loss == Decimal("2000") and case.penalty_type == "warning"
    assert actions == ["register", "accept", "submit_report", "report_to_gm", "instruct_report", "consolidate",
                       "approve", "record_negotiation", "review_negotiation", "close", "final_approve",
                       "record_follow_up", "record_remedy", "archive"]
    assert case.closed_at == T0 + timedelta(days=3, hours=6) and case.penalty_confirmed_by_id is not None
    view = queries.case_detail(uow, actor=people.gmo, complaint_id=case_id, now=T0 + timedelta(days=6),
                               calendar=rules.load_calendar(uow))
    badges = {c.info.rule.key: c.badge.name for c in view.clocks}
    assert badges["investigation"] == "MET" and badges["consolidation"] == "MET" and badges["closure"] == "MET"


@pytest.mark.parametrize("amount, severity_flag, level", [
    ("5000", False, "dept_manager"), ("5000.01", False, "deputy_gm"),
    ("50000", False, "deputy_gm"), ("50000.01", False, "gm"), ("10", True, "gm"),
])
def test_authority_routing_at_each_threshold_edge(uow, people, amount, severity_flag, level):
    _, routed = to_approval(uow, people, amount=amount, flag_media=severity_flag)
    assert routed == level


def test_an_approver_is_refused_beyond_their_level(uow, people):
    case_id, level = to_approval(uow, people, amount="8000")
    assert level == "deputy_gm"
    with pytest.raises(TransitionNotAllowed) as refused:
        handling.approve(uow, actor=people.approver, complaint_id=case_id, instructions="x",
                         amount_limit="8000", now=T0 + timedelta(days=2),
                                                                 expected_version=current_version(uow, case_id))
    assert refused.value.message.key == "approval.beyond_authority"
    assert state(uow, case_id) == "awaiting_approval"


def test_a_handler_is_refused_on_another_departments_case(uow, people):
    case_id = accepted(uow, people, departments=("claims",))
    with pytest.raises(TransitionNotAllowed) as refused:
        handling.submit_report(uow, actor=people.opshandler, complaint_id=case_id, report=REPORT, now=T0,
                               expected_version=current_version(uow, case_id))
    assert refused.value.message.key == "case.not_yours"


def test_a_case_routed_to_several_departments_waits_for_all(uow, people):
    case_id = accepted(uow, people, departments=("operations",))
    with pytest.raises(TransitionNotAllowed):       # a department does not send to 技术部 itself (art.13.3)
        handling.request_technical_analysis(uow, actor=people.opshandler, complaint_id=case_id,
                                            reason="需系统日志分析", now=T0 + timedelta(hours=3),
                                                expected_version=current_version(uow, case_id))
    handling.request_technical_analysis(uow, actor=people.gmo, complaint_id=case_id,
                                        reason="需系统日志分析", now=T0 + timedelta(hours=3),
                                            expected_version=current_version(uow, case_id))
    assert handling.submit_report(uow, actor=people.opshandler, complaint_id=case_id, report=REPORT,
                                  now=T0 + timedelta(days=1),
                                                     expected_version=current_version(uow, case_id)).value == "investigating"
    assert handling.submit_report(uow, actor=people.techhandler, complaint_id=case_id, report=REPORT,
                                  now=T0 + timedelta(days=2),
                                                     expected_version=current_version(uow, case_id)).value == "awaiting_report"
    handling.report_to_gm(uow, actor=people.techhandler, complaint_id=case_id, report="两部门调查完毕",
                          now=T0 + timedelta(days=3), expected_version=current_version(uow, case_id))
    assert state(uow, case_id) == "awaiting_gm_instruction"


def test_hold_pauses_and_resume_moves_the_resolution_deadline(uow, people):
    case_id = accepted(uow, people)
    cal = rules.load_calendar(uow)

    def closure(at):
        view = queries.case_detail(uow, actor=people.gmo, complaint_id=case_id, now=at, calendar=cal)
        return next(c for c in view.clocks if c.info.rule.key == "closure")

    before = closure(T0 + timedelta(days=1)).due
    handling.hold(uow, actor=people.gmo, complaint_id=case_id, reason="等待客户补充病历", now=T0 + timedelta(days=2),
                  expected_version=current_version(uow, case_id))
    assert closure(T0 + timedelta(days=30)).badge.name == "PAUSED"
    with pytest.raises(TransitionNotAllowed):
        handling.hold(uow, actor=people.gmo, complaint_id=case_id, reason="again", now=T0 + timedelta(days=3),
                      expected_version=current_version(uow, case_id))
    handling.resume(uow, actor=people.clerk, complaint_id=case_id, now=T0 + timedelta(days=5),
                    expected_version=current_version(uow, case_id))
    after = closure(T0 + timedelta(days=6))
    assert after.due == before + timedelta(days=3) and after.badge.name == "ON_TRACK"


def test_reminders_and_late_inquiries_are_issued_once(uow, people):
    case_id = accepted(uow, people)
    cal = rules.load_calendar(uow)
    late = T0 + timedelta(days=20)
    first = reminders.issue_reminders(uow, now=late)
    assert first > 0
    assert reminders.issue_reminders(uow, now=late + timedelta(minutes=1)) == 0
    mine = reminders.list_reminders(uow, actor=people.opshandler)
    assert {r.clock_key for r in mine} >= {"investigation", "closure"} and all(r.kind == "reminder" for r in mine)
    reminders.answer_reminder(uow, actor=people.opshandler, reminder_id=mine[0].id, answer="本周内提交", now=late)
    with pytest.raises(Exception):
        reminders.answer_reminder(uow, actor=people.techhandler, reminder_id=mine[0].id, answer="x", now=late)
    handling.submit_report(uow, actor=people.opshandler, complaint_id=case_id, report=REPORT, now=late,
                           expected_version=current_version(uow, case_id))
    handling.report_to_gm(uow, actor=people.opshandler, complaint_id=case_id, report="r", now=late,
                          expected_version=current_version(uow, case_id))
    instruct_report(uow, people, case_id, late)
    handling.consolidate(uow, actor=people.gmo, complaint_id=case_id, opinion="o", proposed_amount="100", now=late,
                         expected_version=current_version(uow, case_id))
    handling.approve(uow, actor=people.approver, complaint_id=case_id, instructions="i", amount_limit="100", now=late,
                     expected_version=current_version(uow, case_id))
    handling.record_negotiation(uow, decision=DECISION, actor=people.clerk, complaint_id=case_id, result="accepted", note="n",
                                agreed_amount="100", now=late, expected_version=current_version(uow, case_id))
    handling.review_negotiation(uow, actor=people.lead, complaint_id=case_id, approve=True, comment="", now=late,
                                expected_version=current_version(uow, case_id))
    handling.close_case(uow, cause_code="process.execution", actor=people.gmo, complaint_id=case_id, final_opinion="f", responsible_department=None,
                        responsibility_level="none", penalty_persons="", now=late,
                            expected_version=current_version(uow, case_id))
    final_approve(uow, people, case_id, late)
    assert reminders.issue_reminders(uow, now=late + timedelta(hours=1)) > 0
    assert reminders.issue_reminders(uow, now=late + timedelta(hours=2)) == 0
    with uow.read() as session:
        kinds = session.scalars(select(Reminder.kind).where(Reminder.complaint_id == case_id)).all()
    assert "late_inquiry" in kinds


def test_recusal_a_named_staff_member_cannot_investigate_or_approve(uow, people):
    case_id = accepted(uow, people, complained_staff=["opshandler", "approver"])
    with pytest.raises(TransitionNotAllowed) as refused:
        handling.submit_report(uow, actor=people.opshandler, complaint_id=case_id, report=REPORT, now=T0,
                               expected_version=current_version(uow, case_id))
    assert refused.value.message.key == "recusal.named_in_complaint"


def test_intake_cannot_promise_beyond_the_approved_limit(uow, people):
    case_id, _ = to_approval(uow, people, amount="3000")
    handling.approve(uow, actor=people.approver, complaint_id=case_id, instructions="最多2000",
                     amount_limit="2000", now=T0 + timedelta(days=2), expected_version=current_version(uow, case_id))
    with pytest.raises(ValidationFailed) as refused:
        handling.record_negotiation(uow, decision=DECISION, actor=people.clerk, complaint_id=case_id, result="partly", note="n",
                                    agreed_amount="2500", now=T0 + timedelta(days=3),
                                        expected_version=current_version(uow, case_id))
    assert refused.value.errors["agreed_amount"].key == "negotiation.beyond_limit"


def test_a_dissatisfied_customer_opens_a_follow_up_task_instead_of_archiving(uow, people):
    case_id, _ = to_approval(uow, people, amount="100")
    for step in (lambda: handling.approve(uow, actor=people.approver, complaint_id=case_id, instructions="i",
                                          amount_limit="100", now=T0 + timedelta(days=2),
                                              expected_version=current_version(uow, case_id)),
                 lambda: handling.record_negotiation(uow, decision=DECISION, actor=people.clerk, complaint_id=case_id,
                                                     result="partly", note="n", agreed_amount="100",
                                                     now=T0 + timedelta(days=2),
                                                         expected_version=current_version(uow, case_id)),
                 lambda: handling.review_negotiation(uow, actor=people.lead, complaint_id=case_id, approve=True,
                                                     comment="", now=T0 + timedelta(days=2),
                                                         expected_version=current_version(uow, case_id)),
                 lambda: handling.close_case(uow, cause_code="process.execution", actor=people.gmo, complaint_id=case_id, final_opinion="f",
                                             responsible_department=None, responsibility_level="none",
                                             penalty_persons="", now=T0 + timedelta(days=2),
                                                 expected_version=current_version(uow, case_id)),
                 lambda: final_approve(uow, people, case_id, T0 + timedelta(days=2))):
        step()
    target = handling.record_follow_up(uow, method="phone", actor=people.clerk, complaint_id=case_id, outcome="不满意",
                                       survey=Survey(2, 3, 2, 1, 2), now=T0 + timedelta(days=4),
                                                     expected_version=current_version(uow, case_id))
    assert target.value == "closed"
    handling.resolve_follow_up(uow, actor=people.gmo, complaint_id=case_id, comment="已再次沟通",
                               now=T0 + timedelta(days=5), expected_version=current_version(uow, case_id))
    assert state(uow, case_id) == "closed"      # the task resolved; the second visit is still to be made
    handling.record_follow_up(uow, method="visit", actor=people.clerk, complaint_id=case_id, outcome="满意",
                              survey=Survey(4, 4, 4, 4, 4), now=T0 + timedelta(days=35),
                              expected_version=current_version(uow, case_id))
    with uow.read() as session:        # the department acts on the dissatisfied visit
        from portal.persistence.models import FollowUpAction
        action_ids = session.scalars(select(FollowUpAction.id).where(FollowUpAction.complaint_id == case_id)).all()
    for action_id in action_ids:
        follow_ups.act_on_follow_up(uow, actor=people.opshandler, action_id=action_id, action="已复核流程",
                                    now=T0 + timedelta(days=36))
    closing.record_remedy(uow, actor=people.clerk, complaint_id=case_id, paid_on=(T0 + timedelta(days=3)).date(),
                          amount="100", reference="PAY-100", now=T0 + timedelta(days=36),
                          expected_version=current_version(uow, case_id))
    archive(uow, people, case_id, T0 + timedelta(days=37))
    assert state(uow, case_id) == "archived"


def test_the_second_of_two_simultaneous_saves_is_told_the_case_changed(uow, people):
    case_id = accepted(uow, people)
    with uow.read() as session:
        version = session.get(Complaint, case_id).version
    handling.record_initial_plan(uow, actor=people.opshandler, complaint_id=case_id, plan="先调取记录",
                                 expected_version=version, now=T0 + timedelta(hours=2))
    with pytest.raises(ConcurrentChange):
        handling.hold(uow, actor=people.gmo, complaint_id=case_id, reason="等待资料",
                      expected_version=version, now=T0 + timedelta(hours=2))
    with uow.read() as session:
        case = session.get(Complaint, case_id)
        assert not case.paused and case.initial_plan_at is not None
        assert session.scalar(select(func.count()).select_from(Event).where(Event.action == "hold")) == 0


def test_a_customer_rejection_registers_a_new_case_linked_to_the_original(uow, people):
    case_id, _ = to_approval(uow, people, amount="100")
    handling.approve(uow, actor=people.approver, complaint_id=case_id, instructions="i", amount_limit="100",
                     now=T0 + timedelta(days=2), expected_version=current_version(uow, case_id))
    from portal.services.complaints import register_repeat
    with pytest.raises(TransitionNotAllowed):
        register_repeat(uow, actor=people.clerk, original_id=case_id, description="d", expected_resolution="e",
                        now=T0 + timedelta(days=2))
    handling.record_negotiation(uow, decision=DECISION, actor=people.clerk, complaint_id=case_id, result="rejected",
                                note="客户不接受", agreed_amount=None, now=T0 + timedelta(days=3),
                                    expected_version=current_version(uow, case_id))
    repeat = register_repeat(uow, actor=people.clerk, original_id=case_id, description="客户不接受100元",
                             expected_resolution="全额赔付", now=T0 + timedelta(days=3))
    cal = rules.load_calendar(uow)
    new = queries.case_detail(uow, actor=people.gmo, complaint_id=repeat.id, now=T0, calendar=cal)
    old = queries.case_detail(uow, actor=people.gmo, complaint_id=case_id, now=T0, calendar=cal)
    assert new.state == "registered" and new.original == old.number
    assert old.repeats == [f"#{repeat.id}"] and old.state == "awaiting_review"
    assert new.fields["customer_phone"] == old.fields["customer_phone"]


def test_the_decision_must_state_what_the_regulator_requires(uow, people):
    case_id, _ = to_approval(uow, people, amount="100")
    handling.approve(uow, actor=people.approver, complaint_id=case_id, instructions="i", amount_limit="100",
                     now=T0 + timedelta(days=2), expected_version=current_version(uow, case_id))
    with pytest.raises(ValidationFailed) as refused:
        handling.record_negotiation(uow, decision=Decision(told_via="fax"), actor=people.clerk,
                                    complaint_id=case_id, result="accepted", note="n", agreed_amount="100",
                                    now=T0 + timedelta(days=3), expected_version=current_version(uow, case_id))
    assert set(refused.value.errors) >= {"decision_checked", "decision_basis", "decision_proof",
                                         "decision_remedies", "decision_told_via"}
    assert state(uow, case_id) == "negotiating"


def test_regulatory_extensions_need_the_named_approval_and_stop_at_sixty_days(uow, people):
    from portal.services import regulatory
    case_id = accepted(uow, people)
    with pytest.raises(TransitionNotAllowed):          # a department manager may not extend
        regulatory.extend_regulatory_clock(uow, actor=people.approver, complaint_id=case_id, reason="复杂",
                                           told_via="phone", now=T0 + timedelta(days=5),
                                               expected_version=current_version(uow, case_id))
    users.add_user(uow, actor=None, username="deputy", display_name="副总", password="long-password",
                   roles=["approver"], department="gm_office", approval_level="deputy_gm", now=T0)
    users.add_user(uow, actor=None, username="chief", display_name="总经理", password="long-password",
                   roles=["approver"], department="gm_office", approval_level="gm", now=T0)
    assert regulatory.extend_regulatory_clock(uow, actor=people.deputy, complaint_id=case_id, reason="案情复杂",
                                              told_via="sms", now=T0 + timedelta(days=5),
                                                  expected_version=current_version(uow, case_id)) == 30
    with pytest.raises(TransitionNotAllowed):          # the second needs senior (GM) approval
        regulatory.extend_regulatory_clock(uow, actor=people.deputy, complaint_id=case_id, reason="特别复杂",
                                           told_via="sms", now=T0 + timedelta(days=20),
                                               expected_version=current_version(uow, case_id))
    assert regulatory.extend_regulatory_clock(uow, actor=people.chief, complaint_id=case_id, reason="特别复杂",
                                              told_via="written", now=T0 + timedelta(days=20),
                                                  expected_version=current_version(uow, case_id)) == 60
    with pytest.raises(TransitionNotAllowed):
        regulatory.extend_regulatory_clock(uow, actor=people.chief, complaint_id=case_id, reason="again",
                                           told_via="written", now=T0 + timedelta(days=40),
                                               expected_version=current_version(uow, case_id))
    view = queries.case_detail(uow, actor=people.gmo, complaint_id=case_id, now=T0 + timedelta(days=40),
                               calendar=rules.load_calendar(uow))
    clock = next(c for c in view.clocks if c.info.rule.key == "regulatory")
    assert clock.due.date().isoformat() == "2025-11-30" and clock.badge.name == "ON_TRACK"


def test_appraisal_stops_the_regulatory_clock_and_review_opens_its_own(uow, people):
    from portal.services import regulatory
    case_id, _ = to_approval(uow, people, amount="100")
    regulatory.start_outside_process(uow, actor=people.gmo, complaint_id=case_id, kind="appraisal",
                                     note="委托第三方鉴定", now=T0 + timedelta(days=2),
                                         expected_version=current_version(uow, case_id))
    cal = rules.load_calendar(uow)
    view = queries.case_detail(uow, actor=people.gmo, complaint_id=case_id, now=T0 + timedelta(days=20), calendar=cal)
    assert next(c for c in view.clocks if c.info.rule.key == "regulatory").badge.name == "PAUSED"
    regulatory.end_outside_process(uow, actor=people.gmo, complaint_id=case_id, note="鉴定完成",
                                   now=T0 + timedelta(days=12), expected_version=current_version(uow, case_id))
    handling.approve(uow, actor=people.approver, complaint_id=case_id, instructions="i", amount_limit="100",
                     now=T0 + timedelta(days=13), expected_version=current_version(uow, case_id))
    handling.record_negotiation(uow, decision=DECISION, actor=people.clerk, complaint_id=case_id, result="rejected",
                                note="n", agreed_amount=None, now=T0 + timedelta(days=14),
                                    expected_version=current_version(uow, case_id))
    view = queries.case_detail(uow, actor=people.gmo, complaint_id=case_id, now=T0 + timedelta(days=20), calendar=cal)
    assert next(c for c in view.clocks if c.info.rule.key == "regulatory").badge.name == "MET"   # 15 + 10 days
    with pytest.raises(TransitionNotAllowed):
        regulatory.request_review(uow, actor=people.clerk, complaint_id=case_id, reason="r",
                                  now=T0 + timedelta(days=45), expected_version=current_version(uow, case_id))
    regulatory.request_review(uow, actor=people.clerk, complaint_id=case_id, reason="要求核查",
                              now=T0 + timedelta(days=20), expected_version=current_version(uow, case_id))
    view = queries.case_detail(uow, actor=people.gmo, complaint_id=case_id, now=T0 + timedelta(days=21), calendar=cal)
    review = next(c for c in view.clocks if c.info.rule.key == "review")
    assert review.badge.name == "ON_TRACK" and review.due.date().isoformat() == "2025-11-20"
    regulatory.decide_review(uow, actor=people.gmo, complaint_id=case_id, decision="维持原结论",
                             now=T0 + timedelta(days=25), expected_version=current_version(uow, case_id))


def test_petitions_other_company_and_rectifications(uow, people):
    from datetime import date
    from portal.services import followthrough
    case_id, _ = to_approval(uow, people, amount="100")
    followthrough.mark_other_company(uow, actor=people.gmo, complaint_id=case_id, company="某再保险公司",
                                     now=T0 + timedelta(days=2), expected_version=current_version(uow, case_id))
    item = followthrough.add_rectification(uow, actor=people.gmo, complaint_id=case_id, cause="审核积压",
                                           description="建立审核时效提醒", owner_department="operations",
                                           cause_code="process.execution", owner_id=people.opshandler.id,
                                           deadline=date(2025, 12, 31), now=T0 + timedelta(days=2))
    assert [r.description for r in followthrough.list_rectifications(uow, actor=people.opshandler)] == ["建立审核时效提醒"]
    assert followthrough.list_rectifications(uow, actor=people.techhandler) == []
    with pytest.raises(Exception):
        followthrough.set_rectification_status(uow, actor=people.techhandler, rectification_id=item,
                                               status="done", now=T0 + timedelta(days=3))
    followthrough.complete_rectification(uow, actor=people.opshandler, rectification_id=item, evidence="已上线",
                                         now=T0 + timedelta(days=3))
    with pytest.raises(ValidationFailed):
        followthrough.add_rectification(uow, actor=people.gmo, complaint_id=case_id, cause="c", description="d",
                                        cause_code="process.execution", owner_id=people.opshandler.id,
                                        owner_department="operations", deadline=date(2025, 1, 1),
                                        now=T0 + timedelta(days=2))
    handling.approve(uow, actor=people.approver, complaint_id=case_id, instructions="i", amount_limit="100",
                     now=T0 + timedelta(days=3), expected_version=current_version(uow, case_id))
    with pytest.raises(TransitionNotAllowed):          # 技术部 was never routed this case
        followthrough.file_petition(uow, actor=people.techhandler, complaint_id=case_id, text="异议",
                                    now=T0 + timedelta(days=4))
    petition = followthrough.file_petition(uow, actor=people.opshandler, complaint_id=case_id,
                                           text="对责任认定有异议", now=T0 + timedelta(days=4))
    followthrough.answer_petition(uow, actor=people.gmo, petition_id=petition, answer="维持", now=T0 + timedelta(days=5))
    assert [p.answer for p in followthrough.list_petitions(uow, complaint_id=case_id)] == ["维持"]


def test_the_printable_form_has_three_copies_and_escapes_user_text(uow, people):
    from portal.printing.handling_form import handling_form_html
    case_id = accepted(uow, people, description="<script>alert(1)</script> 定损过低")
    view = queries.case_detail(uow, actor=people.gmo, complaint_id=case_id, now=T0, calendar=rules.load_calendar(uow))
    html = handling_form_html(view, lang="zh", printed_at=T0, names={})
    assert html.count("class='copy'") == 3 and "第 3 联 / 共 3 联" in html
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; 定损过低" in html
    assert view.number in html


def test_every_side_action_writes_exactly_one_audit_event(uow, people):
    from datetime import date
    from portal.services import followthrough, regulatory
    case_id = accepted(uow, people)
    at = T0 + timedelta(hours=2)
    handling.record_initial_plan(uow, actor=people.opshandler, complaint_id=case_id, plan="先调取记录", now=at,
                                 expected_version=current_version(uow, case_id))
    handling.request_technical_analysis(uow, actor=people.gmo, complaint_id=case_id, reason="日志", now=at,
                                        expected_version=current_version(uow, case_id))
    handling.hold(uow, actor=people.gmo, complaint_id=case_id, reason="等资料", now=at,
                  expected_version=current_version(uow, case_id))
    handling.resume(uow, actor=people.gmo, complaint_id=case_id, now=at + timedelta(hours=5),
                    expected_version=current_version(uow, case_id))
    regulatory.start_outside_process(uow, actor=people.gmo, complaint_id=case_id, kind="mediation", note="", now=at,
                                     expected_version=current_version(uow, case_id))
    regulatory.end_outside_process(uow, actor=people.gmo, complaint_id=case_id, note="", now=at + timedelta(hours=1),
                                   expected_version=current_version(uow, case_id))
    handling.submit_report(uow, actor=people.opshandler, complaint_id=case_id, report=REPORT, now=at,
                           expected_version=current_version(uow, case_id))
    handling.submit_report(uow, actor=people.techhandler, complaint_id=case_id, report=REPORT, now=at,
                           expected_version=current_version(uow, case_id))
    handling.report_to_gm(uow, actor=people.opshandler, complaint_id=case_id, report="r", now=at,
                          expected_version=current_version(uow, case_id))
    instruct_analysis(uow, people, case_id, at)
    instruct_report(uow, people, case_id, at)
    handling.consolidate(uow, actor=people.gmo, complaint_id=case_id, opinion="o", proposed_amount="100", now=at,
                         expected_version=current_version(uow, case_id))
    handling.send_back(uow, actor=people.approver, complaint_id=case_id, reason="补充依据", now=at,
                       expected_version=current_version(uow, case_id))
    handling.consolidate(uow, actor=people.gmo, complaint_id=case_id, opinion="o2", proposed_amount="100", now=at,
                         expected_version=current_version(uow, case_id))
    handling.approve(uow, actor=people.approver, complaint_id=case_id, instructions="i", amount_limit="100", now=at,
                     expected_version=current_version(uow, case_id))
    handling.record_negotiation(uow, decision=DECISION, actor=people.clerk, complaint_id=case_id, result="accepted",
                                note="n", agreed_amount="100", now=at, expected_version=current_version(uow, case_id))
    handling.review_negotiation(uow, actor=people.lead, complaint_id=case_id, approve=False, comment="再沟通", now=at,
                                expected_version=current_version(uow, case_id))
    handling.record_negotiation(uow, decision=DECISION, actor=people.clerk, complaint_id=case_id, result="accepted",
                                note="n2", agreed_amount="100", now=at, expected_version=current_version(uow, case_id))
    handling.review_negotiation(uow, actor=people.lead, complaint_id=case_id, approve=True, comment="", now=at,
                                expected_version=current_version(uow, case_id))
    followthrough.mark_other_company(uow, actor=people.gmo, complaint_id=case_id, company="某公司", now=at,
                                     expected_version=current_version(uow, case_id))
    item = followthrough.add_rectification(uow, actor=people.gmo, complaint_id=case_id, cause="c", description="d",
                                           cause_code="process.execution", owner_id=people.opshandler.id,
                                           owner_department="operations", deadline=date(2026, 1, 1), now=at)
    followthrough.complete_rectification(uow, actor=people.opshandler, rectification_id=item, evidence="e", now=at)
    petition = followthrough.file_petition(uow, actor=people.opshandler, complaint_id=case_id, text="异议", now=at)
    followthrough.answer_petition(uow, actor=people.gmo, petition_id=petition, answer="维持", now=at)
    handling.close_case(uow, cause_code="process.execution", actor=people.gmo, complaint_id=case_id, final_opinion="f", responsible_department=None,
                        responsibility_level="none", penalty_persons="", now=at,
                            expected_version=current_version(uow, case_id))
    final_approve(uow, people, case_id, at)
    regulatory.request_review(uow, actor=people.clerk, complaint_id=case_id, reason="核查", now=at,
                              expected_version=current_version(uow, case_id))
    regulatory.decide_review(uow, actor=people.gmo, complaint_id=case_id, decision="维持", now=at,
                             expected_version=current_version(uow, case_id))
    handling.record_follow_up(uow, method="phone", actor=people.clerk, complaint_id=case_id, outcome="不满意",
                              survey=Survey(1, 1, 1, 1, 1), now=at, expected_version=current_version(uow, case_id))
    handling.resolve_follow_up(uow, actor=people.gmo, complaint_id=case_id, comment="已处理", now=at,
                               expected_version=current_version(uow, case_id))
    with uow.read() as session:
        events = session.execute(select(Event.action, Event.from_state, Event.to_state)
                                 .where(Event.complaint_id == case_id).order_by(Event.id)).all()
    counts = {}
    for action, _, _ in events:
        counts[action] = counts.get(action, 0) + 1
    once = ["register", "accept", "record_initial_plan", "request_technical_analysis", "hold", "resume",
            "start_outside", "end_outside", "send_back", "approve", "return_negotiation", "review_negotiation",
            "mark_other_company", "add_rectification", "update_rectification", "file_petition", "answer_petition",
            "close", "report_to_gm", "request_review", "decide_review", "record_follow_up", "resolve_follow_up",
            "instruct_analysis", "instruct_report", "final_approve"]
    assert {a: counts.get(a) for a in once} == {a: 1 for a in once}
    assert counts["submit_report"] == 2 and counts["consolidate"] == 2 and counts["record_negotiation"] == 2
    assert events[-1] == ("resolve_follow_up", "closed", "closed")     # a follow-up never archives


def test_a_report_carries_evidence_files_within_the_attachment_limits(uow, people):
    from portal.domain.validation import Attachment
    from portal.persistence.models import AttachmentRow
    case_id = accepted(uow, people)
    with pytest.raises(ValidationFailed) as refused:
        handling.submit_report(uow, actor=people.opshandler, complaint_id=case_id, report=REPORT,
                               attachments=[Attachment("run.exe", "", b"MZ")], now=T0 + timedelta(days=1),
                                                       expected_version=current_version(uow, case_id))
    assert refused.value.errors["attachments"].key == "form.bad_file_type"
    handling.submit_report(uow, actor=people.opshandler, complaint_id=case_id, report=REPORT,
                           attachments=[Attachment("查勘照片.jpg", "image/jpeg", b"\xff\xd8jpeg")],
                           now=T0 + timedelta(days=1), expected_version=current_version(uow, case_id))
    with uow.read() as session:
        files = session.scalars(select(AttachmentRow).where(AttachmentRow.complaint_id == case_id)).all()
    assert [(f.filename, f.size) for f in files] == [("查勘照片.jpg", 6)]


def test_the_printable_form_has_the_seeds_fields_from_registration_to_satisfaction(uow, people):
    """002 art.13: the copies and who keeps each, the clerk's 签注意见, each department's report,
    responsibility, losses and penalties, the review opinion, follow-up and satisfaction, the approver."""
    from portal.printing.handling_form import handling_form_html
    case_id, _ = to_approval(uow, people, clerk_opinion="客户情绪激动，建议优先处理")
    handling.approve(uow, actor=people.approver, complaint_id=case_id, instructions="按3000元赔付",
                     amount_limit="3000", now=T0 + timedelta(days=2), expected_version=current_version(uow, case_id))
    handling.record_negotiation(uow, decision=DECISION, actor=people.clerk, complaint_id=case_id, result="accepted",
                                note="客户接受", agreed_amount="3000", now=T0 + timedelta(days=3),
                                    expected_version=current_version(uow, case_id))
    handling.review_negotiation(uow, actor=people.lead, complaint_id=case_id, approve=True, comment="交涉记录完整",
                                now=T0 + timedelta(days=3, hours=1), expected_version=current_version(uow, case_id))
    handling.close_case(uow, cause_code="process.execution", actor=people.gmo, complaint_id=case_id, final_opinion="同意结案",
                        shares={"operations": 60, "technical": 40}, responsibility_level="general",
                        penalty_persons="张某", now=T0 + timedelta(days=3, hours=5),
                                                                 expected_version=current_version(uow, case_id))
    final_approve(uow, people, case_id, T0 + timedelta(days=3, hours=6))
    handling.record_follow_up(uow, method="phone", actor=people.clerk, complaint_id=case_id, outcome="客户认可处理结果",
                              survey=Survey(5, 4, 3, 4, 4), now=T0 + timedelta(days=5),
                                            expected_version=current_version(uow, case_id))
    view = queries.case_detail(uow, actor=people.gmo, complaint_id=case_id, now=T0 + timedelta(days=6),
                               calendar=rules.load_calendar(uow))
    html = handling_form_html(view, lang="zh", printed_at=T0,
                              names={"department": {"operations": "运营部", "technical": "技术部"}})
    for keeper in ("第一联 · 市场部门存", "第二联 · 运营部门存", "第三联 · 总经理室存"):
        assert html.count(keeper) == 1
    assert html.count("<section class='copy'") == 3
    for label, value in [("签注意见（受理人）", "客户情绪激动，建议优先处理"), ("受理人", "受理员甲"),
                         ("调查报告 · 运营部", None), ("证据（业务记录", "理赔系统记录"), ("原因分析", "审核积压"),
                         ("责任部门及比例", "运营部 60%、技术部 40%"), ("责任程度", None),
                         ("罚扣确认人（核决）", "核决己"), ("呈总经理室的调查报告", "调查完毕，呈总经理室"), ("责任部门损失金额", None), ("个人惩处种类", None),
                         ("受罚人员", "张某"), ("核阅意见", "交涉记录完整"), ("核阅人（受理主管）", "主管乙"),
                         ("核决人", "核决己"), ("核决指示", "按3000元赔付"), ("回访时间", None),
                         ("第 1 次回访结果", "客户认可处理结果"), ("服务态度", "4 · 满意"), ("服务效率", "3 · 一般"),
                         ("催办次数", None), ("综合意见人（总经理室）", "总经理室丙"),
                         ("总经理批示", "同意调查结论，请综合意见。"), ("批示人（总经理）", "总经理寅"),
                         ("最终核决人（核签结案）", "核决己"), ("最终核决级别", "业务部经理"),
                         ("内部资料 · 不得交付客户", None)]:
        assert label in html, label
        if value:
            assert value in html, value


def _to_closure(uow, people):
    case_id, _ = to_approval(uow, people, amount="100")
    handling.approve(uow, actor=people.approver, complaint_id=case_id, instructions="i", amount_limit="100",
                     now=T0 + timedelta(days=2), expected_version=current_version(uow, case_id))
    handling.record_negotiation(uow, decision=DECISION, actor=people.clerk, complaint_id=case_id, result="accepted",
                                note="n", agreed_amount="100", now=T0 + timedelta(days=2),
                                    expected_version=current_version(uow, case_id))
    handling.review_negotiation(uow, actor=people.lead, complaint_id=case_id, approve=True, comment="",
                                now=T0 + timedelta(days=2, hours=1), expected_version=current_version(uow, case_id))
    return case_id


@pytest.mark.parametrize("shares, level, field", [
    ({"operations": 60, "technical": 30}, "general", "shares"),           # adds up to 90
    ({"operations": 0, "technical": 100}, "general", "shares"),           # a zero share
    ({"operations": "60", "technical": 40}, "general", "shares"),         # not a whole number
    ({"nowhere": 100}, "general", "responsible_department"),
    ({}, "general", "responsible_department"),                             # a fault with nobody responsible
    ({"operations": 100}, "none", "responsible_department"),              # no fault yet a department
    ([("operations", 100)], "general", "responsible_department"),
])
def test_responsibility_shares_are_refused_unless_they_add_up(uow, people, shares, level, field):
    case_id = _to_closure(uow, people)
    with pytest.raises(ValidationFailed) as refused:
        handling.close_case(uow, cause_code="process.execution", actor=people.gmo, complaint_id=case_id, final_opinion="f", shares=shares,
                            responsibility_level=level, penalty_persons="", now=T0 + timedelta(days=3),
                                expected_version=current_version(uow, case_id))
    assert field in refused.value.errors
    assert state(uow, case_id) == "awaiting_closure"


def test_several_departments_share_the_responsibility_and_the_approver_confirms_the_penalty(uow, people):
    from portal.persistence.models import Department, ResponsibilityShare
    case_id = _to_closure(uow, people)
    at = T0 + timedelta(days=3)
    assert handling.close_case(uow, cause_code="process.execution", actor=people.gmo, complaint_id=case_id, final_opinion="共同责任",
                               shares={"technical": 30, "operations": 70}, responsibility_level="minor",
                               penalty_persons="", now=at,
                                   expected_version=current_version(uow, case_id)) == "dept_manager"
    with uow.read() as session:
        shares = dict(session.execute(select(Department.code, ResponsibilityShare.ratio).join(
            Department, Department.id == ResponsibilityShare.department_id)
            .where(ResponsibilityShare.complaint_id == case_id)).all())
        case = session.get(Complaint, case_id)
        assert shares == {"operations": 70, "technical": 30} and case.closed_at is None
        assert session.get(Department, case.responsibility_department_id).code == "operations"   # the largest
    with pytest.raises(TransitionNotAllowed):              # the GM office proposes; it does not confirm
        handling.final_approve(uow, actor=people.gmo, complaint_id=case_id, approve=True, comment="", now=at,
                               expected_version=current_version(uow, case_id))
    with pytest.raises(ValidationFailed):                  # a return says why
        handling.final_approve(uow, actor=people.approver, complaint_id=case_id, approve=False, comment=" ", now=at,
                               expected_version=current_version(uow, case_id))
    handling.final_approve(uow, actor=people.approver, complaint_id=case_id, approve=False, comment="比例需复核",
                           now=at + timedelta(hours=1), expected_version=current_version(uow, case_id))
    assert state(uow, case_id) == "awaiting_closure"
    handling.close_case(uow, cause_code="process.execution", actor=people.gmo, complaint_id=case_id, final_opinion="复核后", responsibility_level="minor",
                        shares={"operations": 50, "technical": 50}, penalty_persons="", now=at + timedelta(hours=2),
                            expected_version=current_version(uow, case_id))
    handling.final_approve(uow, actor=people.approver, complaint_id=case_id, approve=True, comment="",
                           now=at + timedelta(hours=3), expected_version=current_version(uow, case_id))
    with uow.read() as session:
        case = session.get(Complaint, case_id)
        assert case.state == "closed" and case.closed_at == at + timedelta(hours=3)
        assert session.scalar(select(func.count()).select_from(ResponsibilityShare)
                              .where(ResponsibilityShare.complaint_id == case_id)) == 2


def test_a_department_named_alone_bears_the_whole_responsibility(uow, people):
    from portal.persistence.models import ResponsibilityShare
    case_id = _to_closure(uow, people)
    handling.close_case(uow, cause_code="process.execution", actor=people.gmo, complaint_id=case_id, final_opinion="f", shares={"operations": None},
                        responsibility_level="minor", penalty_persons="", now=T0 + timedelta(days=3),
                            expected_version=current_version(uow, case_id))
    with uow.read() as session:
        assert session.scalars(select(ResponsibilityShare.ratio)
                               .where(ResponsibilityShare.complaint_id == case_id)).all() == [100]
    with pytest.raises(ValidationFailed):               # among several, each needs its ratio
        handling.close_case(uow, cause_code="process.execution", actor=people.gmo, complaint_id=_to_closure(uow, people), final_opinion="f",
                            shares={"operations": None, "technical": 100}, responsibility_level="minor",
                            penalty_persons="", now=T0 + timedelta(days=3), expected_version=current_version(uow, _to_closure(uow, people)))


def test_a_case_without_a_penalty_is_closed_only_by_the_final_approval(uow, people):
    case_id = _to_closure(uow, people)
    assert handling.close_case(uow, cause_code="process.execution", actor=people.gmo, complaint_id=case_id, final_opinion="客户误解",
                               responsible_department=None, responsibility_level="none", penalty_persons="",
                               now=T0 + timedelta(days=3),
                                                  expected_version=current_version(uow, case_id)) == "dept_manager"
    with uow.read() as session:
        case = session.get(Complaint, case_id)
        assert case.state == "awaiting_penalty" and case.closed_at is None
    assert final_approve(uow, people, case_id, T0 + timedelta(days=3, hours=1)).value == "closed"
    with uow.read() as session:
        case = session.get(Complaint, case_id)
        assert case.closed_at == T0 + timedelta(days=3, hours=1) and case.penalty_confirmed_at is None
        assert case.final_approved_by_id == people.approver.id


def test_the_gm_office_routes_to_technical_after_the_reports_and_the_investigation_reopens(uow, people):
    case_id = accepted(uow, people)
    handling.submit_report(uow, actor=people.opshandler, complaint_id=case_id, report=REPORT, now=T0 + timedelta(days=1),
                           expected_version=current_version(uow, case_id))
    with uow.read() as session:
        assert session.get(Complaint, case_id).investigation_done_at is not None
    with pytest.raises(TransitionNotAllowed):               # only a routed department reports to the GM office
        handling.report_to_gm(uow, actor=people.techhandler, complaint_id=case_id, report="r",
                              now=T0 + timedelta(days=1, hours=1), expected_version=current_version(uow, case_id))
    with pytest.raises(ValidationFailed):
        handling.report_to_gm(uow, actor=people.opshandler, complaint_id=case_id, report="  ",
                              now=T0 + timedelta(days=1, hours=1), expected_version=current_version(uow, case_id))
    handling.report_to_gm(uow, actor=people.opshandler, complaint_id=case_id, report="疑似系统缺陷",
                          now=T0 + timedelta(days=1, hours=1), expected_version=current_version(uow, case_id))
    handling.request_technical_analysis(uow, actor=people.gmo, complaint_id=case_id, reason="报告显示系统缺陷",
                                        now=T0 + timedelta(days=1, hours=2),
                                                           expected_version=current_version(uow, case_id))
    with uow.read() as session:
        case = session.get(Complaint, case_id)
        assert case.state == "investigating" and case.investigation_done_at is None and case.reported_to_gm_at is None
    with pytest.raises(TransitionNotAllowed):
        handling.request_technical_analysis(uow, actor=people.gmo, complaint_id=case_id, reason="again",
                                            now=T0 + timedelta(days=1, hours=3),
                                                               expected_version=current_version(uow, case_id))
    assert handling.submit_report(uow, actor=people.techhandler, complaint_id=case_id, report=REPORT,
                                  now=T0 + timedelta(days=2),
                                                     expected_version=current_version(uow, case_id)).value == "awaiting_report"
