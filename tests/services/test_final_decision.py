"""The final decision by authority (002 art.13.2-13.7) and four eyes, through the services, on both
databases: no case closes before the final 核决; its approver is chosen by the amount agreed with the
customer and the severity; a return goes back with its reason; nobody decides on their own work."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.domain.errors import TransitionNotAllowed, ValidationFailed
from portal.domain.regulatory import Decision
from portal.persistence.models import Complaint, Event
from portal.services import complaints, handling, queries, rules, users
from portal.services.handling import InvestigationReport
from portal.services.queries import current_version
from tests.conftest import T0
from tests.helpers import a_form, instruct_report

DECISION = Decision(checked="核对理赔系统与查勘记录", basis="保险合同第五条", remedies=["review", "mediation"],
                    told_via="phone", proof="通话录音 REC-001")
REPORT = InvestigationReport(cause_code="process.execution", evidence="理赔系统记录", cause="审核积压", finding="company_fault",
                             responsible_unit="理赔部", measures="增派审核人员", proposed_amount="3000")
AT = T0 + timedelta(hours=2)


def _case(uow, people, departments=("operations",), **form):
    done = complaints.register_complaint(uow, actor=people.clerk, form=a_form(**form), attachments=[], now=T0)
    complaints.accept_complaint(uow, actor=people.gmo, complaint_id=done.id, category="claim",
                                severity=done.severity, departments=list(departments), now=T0 + timedelta(hours=1))
    return done.id


def _state(uow, case_id):
    with uow.read() as session:
        return session.get(Complaint, case_id)


def _to_negotiation(uow, people, case_id, amount="3000", approver="approver", reporter="opshandler"):
    handling.submit_report(uow, actor=getattr(people, reporter), complaint_id=case_id, report=REPORT, now=AT,
                           expected_version=current_version(uow, case_id))
    handling.report_to_gm(uow, actor=getattr(people, reporter), complaint_id=case_id, report="调查完毕", now=AT,
                          expected_version=current_version(uow, case_id))
    instruct_report(uow, people, case_id, AT)
    handling.consolidate(uow, actor=people.gmo, complaint_id=case_id, opinion="同意赔付", proposed_amount=amount, now=AT,
                         expected_version=current_version(uow, case_id))
    handling.approve(uow, actor=getattr(people, approver), complaint_id=case_id, instructions="按建议赔付",
                     amount_limit=amount, now=AT, expected_version=current_version(uow, case_id))


def _to_final(uow, people, case_id, agreed="3000", level="none", negotiator="clerk", reviewer="lead", **kw):
    _to_negotiation(uow, people, case_id, amount=kw.get("amount", agreed), approver=kw.get("approver", "approver"))
    handling.record_negotiation(uow, decision=DECISION, actor=getattr(people, negotiator), complaint_id=case_id,
                                result="accepted", note="客户接受", agreed_amount=agreed, now=AT,
                                    expected_version=current_version(uow, case_id))
    handling.review_negotiation(uow, actor=getattr(people, reviewer), complaint_id=case_id, approve=True, comment="",
                                now=AT, expected_version=current_version(uow, case_id))
    return handling.close_case(uow, cause_code="process.execution", actor=people.gmo, complaint_id=case_id, final_opinion="综合意见",
                               shares={} if level == "none" else {"operations": 100}, responsibility_level=level,
                               penalty_persons="", now=AT, expected_version=current_version(uow, case_id))


def test_a_case_without_a_penalty_cannot_be_closed_before_the_final_decision(uow, people):
    case_id = _case(uow, people)
    assert _to_final(uow, people, case_id) == "dept_manager"
    case = _state(uow, case_id)
    assert case.state == "awaiting_penalty" and case.closed_at is None and case.penalty_type == "none"
    with pytest.raises(TransitionNotAllowed):            # no other way to 已结案: the GM office cannot close it
        handling.close_case(uow, cause_code="process.execution", actor=people.gmo, complaint_id=case_id, final_opinion="再结", shares={},
                            responsibility_level="none", penalty_persons="", now=AT,
                                expected_version=current_version(uow, case_id))
    with pytest.raises(TransitionNotAllowed):
        handling.final_approve(uow, actor=people.gmo, complaint_id=case_id, approve=True, comment="", now=AT,
                               expected_version=current_version(uow, case_id))
    handling.final_approve(uow, actor=people.approver, complaint_id=case_id, approve=True, comment="同意", now=AT,
                           expected_version=current_version(uow, case_id))
    case = _state(uow, case_id)
    assert case.state == "closed" and case.closed_at == AT and case.final_approved_by_id == people.approver.id


@pytest.mark.parametrize("agreed, severity, level", [("5000", "general", "dept_manager"),
                                                     ("5000.01", "general", "deputy_gm"),
                                                     ("50001", "general", "gm"),
                                                     ("100", "major", "gm")])
def test_the_final_approver_is_chosen_by_the_agreed_amount_and_the_severity(uow, people, agreed, severity, level):
    flags = {"flag_media": True} if severity == "major" else {}
    case_id = _case(uow, people, **flags)
    assert _state(uow, case_id).severity == severity
    # the first 核决 covered 60,000 (the GM); the customer settled for `agreed`
    assert _to_final(uow, people, case_id, agreed=agreed, amount="60000", approver="genmgr") == level
    below = {"dept_manager": None, "deputy_gm": "approver", "gm": "vicegm"}[level]
    if below:
        with pytest.raises(TransitionNotAllowed) as refused:
            handling.final_approve(uow, actor=getattr(people, below), complaint_id=case_id, approve=True,
                                   comment="", now=AT, expected_version=current_version(uow, case_id))
        assert refused.value.message.key == "approval.beyond_authority"
    signer = {"dept_manager": "approver", "deputy_gm": "vicegm", "gm": "genmgr"}[level]
    handling.final_approve(uow, actor=getattr(people, signer), complaint_id=case_id, approve=True, comment="", now=AT,
                           expected_version=current_version(uow, case_id))
    assert _state(uow, case_id).state == "closed"


def test_a_returned_final_decision_goes_back_to_the_gm_office_with_its_reason(uow, people):
    case_id = _case(uow, people)
    _to_final(uow, people, case_id, level="general")
    with pytest.raises(ValidationFailed) as refused:
        handling.final_approve(uow, actor=people.approver, complaint_id=case_id, approve=False, comment="  ", now=AT,
                               expected_version=current_version(uow, case_id))
    assert "reason" in refused.value.errors and _state(uow, case_id).state == "awaiting_penalty"
    handling.final_approve(uow, actor=people.approver, complaint_id=case_id, approve=False,
                           comment="责任比例需复核", now=AT + timedelta(minutes=5),
                                                                 expected_version=current_version(uow, case_id))
    case = _state(uow, case_id)
    assert case.state == "awaiting_closure" and case.closed_at is None and case.penalty_confirmed_at is None
    with uow.read() as session:
        event = session.scalars(select(Event).where(Event.complaint_id == case_id).order_by(Event.id.desc())).first()
    assert (event.action, event.comment, event.to_state) == ("return_final", "责任比例需复核", "awaiting_closure")
    view = queries.case_detail(uow, actor=people.gmo, complaint_id=case_id, now=AT + timedelta(hours=1),
                               calendar=rules.load_calendar(uow))
    assert any(e.action == "return_final" and e.comment == "责任比例需复核" for e in view.events)


def test_a_proposed_penalty_is_confirmed_in_the_final_decision(uow, people):
    case_id = _case(uow, people)
    _to_final(uow, people, case_id, level="general")
    handling.final_approve(uow, actor=people.approver, complaint_id=case_id, approve=True, comment="同意罚扣", now=AT,
                           expected_version=current_version(uow, case_id))
    case = _state(uow, case_id)
    assert case.penalty_type == "warning" and case.penalty_confirmed_by_id == people.approver.id
    assert case.state == "closed"


def _grant(uow, people, username, roles, department=None, level=None):
    users.update_user(uow, actor=people.admin, username=username, roles=roles, department=department,
                      approval_level=level, now=AT)
    from portal.services.actors import load_actor
    return load_actor(uow, username)


def test_the_negotiator_may_not_review_their_own_negotiation_whatever_their_roles(uow, people):
    case_id = _case(uow, people)
    _to_negotiation(uow, people, case_id)
    handling.record_negotiation(uow, decision=DECISION, actor=people.lead, complaint_id=case_id, result="accepted",
                                note="主管亲自交涉", agreed_amount="3000", now=AT,
                                    expected_version=current_version(uow, case_id))
    with pytest.raises(TransitionNotAllowed) as refused:
        handling.review_negotiation(uow, actor=people.lead, complaint_id=case_id, approve=True, comment="", now=AT,
                                    expected_version=current_version(uow, case_id))
    assert refused.value.message.key == "four_eyes.own_work"
    with pytest.raises(TransitionNotAllowed):          # nor return it
        handling.review_negotiation(uow, actor=people.lead, complaint_id=case_id, approve=False, comment="再谈", now=AT,
                                    expected_version=current_version(uow, case_id))
    review = queries.work_queue(uow, actor=people.lead, state=queries.State.AWAITING_REVIEW, now=AT,
                                calendar=rules.load_calendar(uow))
    assert case_id not in set(review.frame["id"])       # not offered to them either
    handling.review_negotiation(uow, actor=people.lead2, complaint_id=case_id, approve=True, comment="", now=AT,
                                expected_version=current_version(uow, case_id))
    assert _state(uow, case_id).state == "awaiting_closure"


def test_the_consolidator_may_not_approve_even_holding_the_approver_role(uow, people):
    gmo = _grant(uow, people, "gmo", ["gm_office", "approver"], "gm_office", "gm")
    case_id = _case(uow, people)
    handling.submit_report(uow, actor=people.opshandler, complaint_id=case_id, report=REPORT, now=AT,
                           expected_version=current_version(uow, case_id))
    handling.report_to_gm(uow, actor=people.opshandler, complaint_id=case_id, report="调查完毕", now=AT,
                          expected_version=current_version(uow, case_id))
    instruct_report(uow, people, case_id, AT)
    handling.consolidate(uow, actor=gmo, complaint_id=case_id, opinion="同意赔付", proposed_amount="3000", now=AT,
                         expected_version=current_version(uow, case_id))
    for attempt in (lambda: handling.approve(uow, actor=gmo, complaint_id=case_id, instructions="i",
                                             amount_limit="3000", now=AT,
                                                 expected_version=current_version(uow, case_id)),
                    lambda: handling.send_back(uow, actor=gmo, complaint_id=case_id, reason="r", now=AT,
                                               expected_version=current_version(uow, case_id))):
        with pytest.raises(TransitionNotAllowed) as refused:
            attempt()
        assert refused.value.message.key == "four_eyes.own_work"
    queue = queries.approval_queue(uow, actor=gmo, now=AT, calendar=rules.load_calendar(uow))
    assert case_id not in set(queue.frame["id"])
    handling.approve(uow, actor=people.approver, complaint_id=case_id, instructions="i", amount_limit="3000", now=AT,
                     expected_version=current_version(uow, case_id))


def test_a_reporter_may_not_approve_nor_instruct_their_own_report(uow, people):
    reporter = _grant(uow, people, "opshandler", ["handler", "approver"], "operations", "gm")
    case_id = _case(uow, people)
    handling.submit_report(uow, actor=reporter, complaint_id=case_id, report=REPORT, now=AT,
                           expected_version=current_version(uow, case_id))
    handling.report_to_gm(uow, actor=reporter, complaint_id=case_id, report="调查完毕", now=AT,
                          expected_version=current_version(uow, case_id))
    with pytest.raises(TransitionNotAllowed) as refused:
        handling.instruct_report(uow, actor=reporter, complaint_id=case_id, instruction="同意", now=AT,
                                 expected_version=current_version(uow, case_id))
    assert refused.value.message.key == "four_eyes.own_work"
    instruct_report(uow, people, case_id, AT)
    handling.consolidate(uow, actor=people.gmo, complaint_id=case_id, opinion="o", proposed_amount="3000", now=AT,
                         expected_version=current_version(uow, case_id))
    with pytest.raises(TransitionNotAllowed):
        handling.approve(uow, actor=reporter, complaint_id=case_id, instructions="i", amount_limit="3000", now=AT,
                         expected_version=current_version(uow, case_id))
    handling.approve(uow, actor=people.approver, complaint_id=case_id, instructions="i", amount_limit="3000", now=AT,
                     expected_version=current_version(uow, case_id))
    handling.record_negotiation(uow, decision=DECISION, actor=people.clerk, complaint_id=case_id, result="accepted",
                                note="n", agreed_amount="3000", now=AT, expected_version=current_version(uow, case_id))
    handling.review_negotiation(uow, actor=people.lead, complaint_id=case_id, approve=True, comment="", now=AT,
                                expected_version=current_version(uow, case_id))
    handling.close_case(uow, cause_code="process.execution", actor=people.gmo, complaint_id=case_id, final_opinion="f", shares={},
                        responsibility_level="none", penalty_persons="", now=AT,
                            expected_version=current_version(uow, case_id))
    with pytest.raises(TransitionNotAllowed):       # report → final approval
        handling.final_approve(uow, actor=reporter, complaint_id=case_id, approve=True, comment="", now=AT,
                               expected_version=current_version(uow, case_id))


def test_who_proposed_the_penalty_may_not_confirm_it_and_the_first_approver_may_give_the_final_one(uow, people):
    gmo = _grant(uow, people, "gmo", ["gm_office", "approver"], "gm_office", "gm")
    case_id = _case(uow, people)
    _to_negotiation(uow, people, case_id)
    handling.record_negotiation(uow, decision=DECISION, actor=people.clerk, complaint_id=case_id, result="accepted",
                                note="n", agreed_amount="3000", now=AT, expected_version=current_version(uow, case_id))
    handling.review_negotiation(uow, actor=people.lead, complaint_id=case_id, approve=True, comment="", now=AT,
                                expected_version=current_version(uow, case_id))
    handling.close_case(uow, cause_code="process.execution", actor=gmo, complaint_id=case_id, final_opinion="罚扣", shares={"operations": 100},
                        responsibility_level="general", penalty_persons="张某", now=AT,
                            expected_version=current_version(uow, case_id))
    with pytest.raises(TransitionNotAllowed) as refused:
        handling.final_approve(uow, actor=gmo, complaint_id=case_id, approve=True, comment="", now=AT,
                               expected_version=current_version(uow, case_id))
    assert refused.value.message.key == "four_eyes.own_work"
    handling.final_approve(uow, actor=people.approver, complaint_id=case_id, approve=True, comment="", now=AT,
                           expected_version=current_version(uow, case_id))
    assert _state(uow, case_id).penalty_confirmed_by_id == people.approver.id


def test_an_analysis_is_instructed_by_its_department_lead_before_consolidation(uow, people):
    case_id = _case(uow, people, departments=("operations", "technical"))
    handling.submit_report(uow, actor=people.opshandler, complaint_id=case_id, report=REPORT, now=AT,
                           expected_version=current_version(uow, case_id))
    handling.submit_report(uow, actor=people.techlead, complaint_id=case_id, report=REPORT, now=AT,
                           expected_version=current_version(uow, case_id))
    handling.report_to_gm(uow, actor=people.opshandler, complaint_id=case_id, report="调查完毕", now=AT,
                          expected_version=current_version(uow, case_id))
    instruct_report(uow, people, case_id, AT)
    with pytest.raises(TransitionNotAllowed) as refused:
        handling.consolidate(uow, actor=people.gmo, complaint_id=case_id, opinion="o", proposed_amount="1", now=AT,
                             expected_version=current_version(uow, case_id))
    assert refused.value.message.key == "handling.analysis_not_instructed"
    with pytest.raises(TransitionNotAllowed) as refused:       # the lead wrote it: not theirs to instruct
        handling.instruct_analysis(uow, actor=people.techlead, complaint_id=case_id, instruction="同意", now=AT,
                                   expected_version=current_version(uow, case_id))
    assert refused.value.message.key == "four_eyes.own_work"
    with pytest.raises(TransitionNotAllowed):                   # another department's lead
        handling.instruct_analysis(uow, actor=people.opslead, complaint_id=case_id, instruction="同意", now=AT,
                                   expected_version=current_version(uow, case_id))
    case = _state(uow, case_id)
    assert (case.stuck_decision, case.stuck_reason) == ("instruct_analysis", "all_excluded")   # 无可处理人
    stuck = queries.stuck_cases(uow, actor=people.gmo, now=AT, calendar=rules.load_calendar(uow))
    assert list(stuck.frame["id"]) == [case_id]
    # an administrator makes another 技术部 member its lead: the case is no longer stuck
    _grant(uow, people, "techhandler", ["handler", "dept_lead"], "technical")
    assert _state(uow, case_id).stuck_decision is None
    handling.instruct_analysis(uow, actor=people.techhandler, complaint_id=case_id, instruction="同意技术分析",
                               now=AT, expected_version=current_version(uow, case_id))
    handling.consolidate(uow, actor=people.gmo, complaint_id=case_id, opinion="o", proposed_amount="1", now=AT,
                         expected_version=current_version(uow, case_id))
    with uow.read() as session:
        routing = next(r for r in session.get(Complaint, case_id).departments if r.department.code == "technical")
        assert routing.lead_instruction == "同意技术分析" and routing.lead_instructed_by_id == people.techhandler.id


def test_the_report_waits_for_the_general_managers_instruction(uow, people):
    case_id = _case(uow, people)
    handling.submit_report(uow, actor=people.opshandler, complaint_id=case_id, report=REPORT, now=AT,
                           expected_version=current_version(uow, case_id))
    assert handling.report_to_gm(uow, actor=people.opshandler, complaint_id=case_id, report="r", now=AT,
                                 expected_version=current_version(uow, case_id)).value == \
        "awaiting_gm_instruction"
    with pytest.raises(TransitionNotAllowed):
        handling.consolidate(uow, actor=people.gmo, complaint_id=case_id, opinion="o", proposed_amount="1", now=AT,
                             expected_version=current_version(uow, case_id))
    with pytest.raises(TransitionNotAllowed) as refused:          # a deputy GM is not the general manager
        handling.instruct_report(uow, actor=people.vicegm, complaint_id=case_id, instruction="同意", now=AT,
                                 expected_version=current_version(uow, case_id))
    assert refused.value.message.key == "instruct.gm_only"
    queue = queries.approval_queue(uow, actor=people.genmgr, now=AT, calendar=rules.load_calendar(uow),
                                   state=queries.State.AWAITING_GM_INSTRUCTION)
    assert list(queue.frame["id"]) == [case_id]
    assert queries.approval_queue(uow, actor=people.vicegm, now=AT, calendar=rules.load_calendar(uow),
                                  state=queries.State.AWAITING_GM_INSTRUCTION).total == 0
    handling.instruct_report(uow, actor=people.genmgr, complaint_id=case_id, instruction="同意，抓紧", now=AT,
                             expected_version=current_version(uow, case_id))
    case = _state(uow, case_id)
    assert case.state == "awaiting_consolidation" and case.gm_instruction == "同意，抓紧"


def test_the_gm_instruction_can_be_switched_off_by_a_setting(uow, people):
    from portal.persistence.models import Setting
    with uow.write() as session:
        session.get(Setting, "process.gm_instructs_report").value = "0"
    case_id = _case(uow, people)
    handling.submit_report(uow, actor=people.opshandler, complaint_id=case_id, report=REPORT, now=AT,
                           expected_version=current_version(uow, case_id))
    assert handling.report_to_gm(uow, actor=people.opshandler, complaint_id=case_id, report="r", now=AT,
                                 expected_version=current_version(uow, case_id)).value == \
        "awaiting_consolidation"


def test_staff_complained_about_stay_recused_from_the_final_decision(uow, people):
    case_id = _case(uow, people, complained_staff=["approver"])
    _to_final(uow, people, case_id, approver="vicegm")
    with pytest.raises(TransitionNotAllowed) as refused:
        handling.final_approve(uow, actor=people.approver, complaint_id=case_id, approve=True, comment="", now=AT,
                               expected_version=current_version(uow, case_id))
    assert refused.value.message.key == "recusal.named_in_complaint"


def test_a_case_nobody_may_decide_is_shown_and_freed_when_a_duty_is_given(uow, people):
    case_id = _case(uow, people)
    _to_negotiation(uow, people, case_id)
    # both 市场部主管 are taken out: one negotiated, the other is disabled
    users.set_user_active(uow, actor=people.admin, username="lead2", active=False, now=AT)
    handling.record_negotiation(uow, decision=DECISION, actor=people.lead, complaint_id=case_id, result="accepted",
                                note="n", agreed_amount="3000", now=AT, expected_version=current_version(uow, case_id))
    case = _state(uow, case_id)
    assert (case.stuck_decision, case.stuck_reason) == ("review_negotiation", "all_excluded")
    users.set_user_active(uow, actor=people.admin, username="lead2", active=True, now=AT)
    assert _state(uow, case_id).stuck_decision is None


def test_an_administrative_sanction_is_referred_and_its_outcome_recorded(uow, people):
    case_id = _case(uow, people)
    _to_final(uow, people, case_id, level="general")         # general → a warning, an administrative sanction
    with pytest.raises(TransitionNotAllowed):                # not before the final decision
        handling.refer_sanction(uow, actor=people.gmo, complaint_id=case_id, referred_to="人事部", now=AT,
                                expected_version=current_version(uow, case_id))
    handling.final_approve(uow, actor=people.approver, complaint_id=case_id, approve=True, comment="", now=AT,
                           expected_version=current_version(uow, case_id))
    with pytest.raises(ValidationFailed) as refused:
        handling.refer_sanction(uow, actor=people.gmo, complaint_id=case_id, referred_to=" ",
                                referred_at=AT + timedelta(days=9), now=AT + timedelta(hours=1),
                                                           expected_version=current_version(uow, case_id))
    assert set(refused.value.errors) == {"referred_to", "referred_at"}
    with pytest.raises(TransitionNotAllowed):
        handling.record_sanction_outcome(uow, actor=people.gmo, complaint_id=case_id, outcome="记过", now=AT,
                                         expected_version=current_version(uow, case_id))
    handling.refer_sanction(uow, actor=people.gmo, complaint_id=case_id, referred_to="人事部（行政处理）",
                            now=AT + timedelta(hours=1), expected_version=current_version(uow, case_id))
    handling.record_sanction_outcome(uow, actor=people.gmo, complaint_id=case_id, outcome="警告处分已执行",
                                     now=AT + timedelta(days=2), expected_version=current_version(uow, case_id))
    case = _state(uow, case_id)
    assert (case.sanction_referred_to, case.sanction_outcome) == ("人事部（行政处理）", "警告处分已执行")


def test_a_decision_cannot_be_told_by_sms_alone(uow, people):
    case_id = _case(uow, people)
    _to_negotiation(uow, people, case_id)
    with pytest.raises(ValidationFailed) as refused:
        handling.record_negotiation(uow, decision=Decision(checked="c", basis="b", remedies=["review"], told_via="sms",
                                                           proof="p"),
                                    actor=people.clerk, complaint_id=case_id, result="accepted", note="n",
                                    agreed_amount="3000", now=AT, expected_version=current_version(uow, case_id))
    assert refused.value.errors["decision_told_via"].key == "regulatory.sms_not_a_decision"
    assert _state(uow, case_id).state == "negotiating"


def test_the_decision_told_by_phone_and_the_closure_are_in_the_contact_log(uow, people):
    from portal.persistence.models import ContactLog, Notice
    case_id = _case(uow, people, preferred_contact="email")
    _to_final(uow, people, case_id)
    handling.final_approve(uow, actor=people.approver, complaint_id=case_id, approve=True, comment="", now=AT,
                           expected_version=current_version(uow, case_id))
    with uow.read() as session:
        steps = [(c.step, c.channel) for c in session.scalars(
            select(ContactLog).where(ContactLog.complaint_id == case_id).order_by(ContactLog.id))]
        closure = session.scalar(select(Notice).where(Notice.complaint_id == case_id, Notice.kind == "closure"))
    assert ("decision", "phone") in steps and ("closure", "email") in steps
    assert closure is not None and closure.state == "queued" and closure.recipient == "chen@example.com"


def test_a_decision_by_email_sends_the_letter_and_needs_an_address(uow, people):
    from portal.persistence.models import Notice
    case_id = _case(uow, people, customer_email="")
    _to_negotiation(uow, people, case_id)
    by_email = Decision(checked="核对记录", basis="合同条款", remedies=["review"], told_via="email", proof="")
    with pytest.raises(ValidationFailed) as refused:
        handling.record_negotiation(uow, decision=by_email, actor=people.clerk, complaint_id=case_id,
                                    result="accepted", note="n", agreed_amount="3000", now=AT,
                                        expected_version=current_version(uow, case_id))
    assert refused.value.errors["decision_told_via"].key == "negotiation.no_email"
    other = _case(uow, people, customer_phone="13900001111", policy_number="P-MAIL-2")
    _to_negotiation(uow, people, other)
    handling.record_negotiation(uow, decision=by_email, actor=people.clerk, complaint_id=other, result="accepted",
                                note="n", agreed_amount="3000", now=AT, expected_version=current_version(uow, other))
    with uow.read() as session:
        letter = session.scalar(select(Notice).where(Notice.complaint_id == other, Notice.kind == "decision"))
    assert letter.channel == "email" and "核对记录" in letter.body and "合同条款" in letter.body


def test_a_report_waits_with_nobody_to_instruct_it_while_the_general_manager_is_disabled(uow, people):
    case_id = _case(uow, people)
    handling.submit_report(uow, actor=people.opshandler, complaint_id=case_id, report=REPORT, now=AT,
                           expected_version=current_version(uow, case_id))
    handling.report_to_gm(uow, actor=people.opshandler, complaint_id=case_id, report="r", now=AT,
                          expected_version=current_version(uow, case_id))
    assert _state(uow, case_id).stuck_decision is None
    users.set_user_active(uow, actor=people.admin, username="genmgr", active=False, now=AT)
    case = _state(uow, case_id)
    assert (case.stuck_decision, case.stuck_reason) == ("instruct_report", "nobody_holds")
    # the duty given to another user (the deputy raised to the GM's level) frees the case
    _grant(uow, people, "vicegm", ["approver"], "gm_office", "gm")
    assert _state(uow, case_id).stuck_decision is None
