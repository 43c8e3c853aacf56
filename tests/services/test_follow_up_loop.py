"""Issue 18: follow-ups after closure — how and by whom, a dissatisfied one sent to the responsible departments
(what they did recorded) with a second visit scheduled; causes chosen from the taxonomy at report and closure."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.domain.errors import TransitionNotAllowed, ValidationFailed
from portal.domain.satisfaction import Survey
from portal.persistence.models import (CauseClass, Complaint, ComplaintDepartment, Department, Event, FollowUp,
                                       FollowUpAction, FollowUpSchedule)
from portal.services import closing, follow_ups, handling, rules
from portal.services.queries import current_version
from tests.conftest import T0
from tests.services.test_handling import DECISION, REPORT, accepted, state, to_approval
from tests.helpers import final_approve

CLOSED_AT = T0 + timedelta(days=3, hours=6)
UNHAPPY = Survey(2, 2, 3, 2, 1)
HAPPY = Survey(5, 4, 4, 5, 5)


def closed_case(uow, people, *, shares=None, level="general", result="accepted", agreed="3000"):
    """A case through its final 核决 (closed), the agreed payment `agreed`, responsibility as `shares`."""
    case_id, _ = to_approval(uow, people)
    handling.approve(uow, actor=people.approver, complaint_id=case_id, instructions="按3000元赔付",
                     amount_limit="3000", now=T0 + timedelta(days=2), expected_version=current_version(uow, case_id))
    handling.record_negotiation(uow, decision=DECISION, actor=people.clerk, complaint_id=case_id, result=result,
                                note="客户意见", agreed_amount=agreed, now=T0 + timedelta(days=3),
                                expected_version=current_version(uow, case_id))
    handling.review_negotiation(uow, actor=people.lead, complaint_id=case_id, approve=True, comment="",
                                now=T0 + timedelta(days=3, hours=1), expected_version=current_version(uow, case_id))
    handling.close_case(uow, actor=people.gmo, complaint_id=case_id, final_opinion="结案",
                        shares=shares if shares is not None else ({} if level == "none" else {"operations": 100}),
                        responsibility_level=level, penalty_persons="", cause_code="process.execution",
                        now=T0 + timedelta(days=3, hours=5), expected_version=current_version(uow, case_id))
    final_approve(uow, people, case_id, CLOSED_AT)
    return case_id


def follow_up(uow, people, case_id, survey, days, method="phone"):
    return handling.record_follow_up(uow, actor=people.clerk, complaint_id=case_id, outcome="回访记录", survey=survey,
                                     method=method, now=T0 + timedelta(days=days),
                                     expected_version=current_version(uow, case_id))


def actions(uow, case_id):
    with uow.read() as session:
        return session.execute(select(Department.code, FollowUpAction.acted_at).join(
            Department, Department.id == FollowUpAction.department_id)
            .where(FollowUpAction.complaint_id == case_id).order_by(FollowUpAction.id)).all()


def schedules(uow, case_id):
    with uow.read() as session:
        return session.execute(select(FollowUpSchedule.due_on, FollowUpSchedule.follow_up_id)
                               .where(FollowUpSchedule.complaint_id == case_id)
                               .order_by(FollowUpSchedule.id)).all()


def test_a_dissatisfied_follow_up_reaches_every_responsible_department_and_schedules_a_second_visit(uow, people):
    case_id = closed_case(uow, people, shares={"operations": 60, "technical": 40})
    assert follow_up(uow, people, case_id, UNHAPPY, 5, method="visit").value == "closed"
    assert [code for code, _ in actions(uow, case_id)] == ["operations", "technical"]
    assert all(acted is None for _, acted in actions(uow, case_id))
    assert schedules(uow, case_id) == [((T0 + timedelta(days=35)).date(), None)]     # 30 days (the setting)
    with uow.read() as session:
        case = session.get(Complaint, case_id)
        visit = session.scalars(select(FollowUp).where(FollowUp.complaint_id == case_id)).one()
        event = session.scalars(select(Event).where(Event.complaint_id == case_id)
                                .order_by(Event.id.desc()).limit(1)).one()
    assert case.state == "closed" and case.follow_up_task is True
    assert (visit.method, visit.dissatisfied, visit.by_id) == ("visit", True, people.clerk.id)
    assert event.changes["sent_to"] == ["operations", "technical"] and event.changes["dissatisfied"] is True


def test_the_second_visit_follows_the_setting_and_a_satisfied_visit_sends_nothing(uow, people):
    with uow.write() as session:
        rules.settings(session)      # warm
        from portal.persistence.models import Setting
        session.get(Setting, "follow_up.second_visit_days").value = "14"
    case_id = closed_case(uow, people)
    other = closed_case(uow, people)
    follow_up(uow, people, case_id, UNHAPPY, 5)
    follow_up(uow, people, other, HAPPY, 5, method="online")
    assert schedules(uow, case_id) == [((T0 + timedelta(days=19)).date(), None)]
    assert actions(uow, other) == [] and schedules(uow, other) == []
    assert state(uow, other) == "closed"          # a follow-up never archives


def test_a_dissatisfied_follow_up_falls_back_to_the_routed_departments_without_a_responsible_one(uow, people):
    case_id = closed_case(uow, people, level="none", result="rejected", agreed=None)
    follow_up(uow, people, case_id, UNHAPPY, 5)
    assert [code for code, _ in actions(uow, case_id)] == ["operations"]     # the case was routed there


def test_the_department_records_what_it_did_and_only_its_own_handlers_may(uow, people):
    case_id = closed_case(uow, people, shares={"operations": 60, "technical": 40})
    follow_up(uow, people, case_id, UNHAPPY, 5)
    mine = follow_ups.department_follow_ups(uow, actor=people.opshandler)
    assert [(item.complaint_id, item.department, item.overall, item.method) for item in mine] == [
        (case_id, "operations", 1, "phone")]
    assert follow_ups.count_department_follow_ups(uow, actor=people.opshandler) == 1
    with pytest.raises(ValidationFailed) as refused:
        follow_ups.act_on_follow_up(uow, actor=people.opshandler, action_id=mine[0].id, action="  ",
                                    now=T0 + timedelta(days=6))
    assert refused.value.errors["action"].key == "form.required"
    with pytest.raises(TransitionNotAllowed) as refused:
        follow_ups.act_on_follow_up(uow, actor=people.techhandler, action_id=mine[0].id, action="不是我们部门",
                                    now=T0 + timedelta(days=6))
    assert refused.value.message.key == "case.not_yours"
    assert all(acted is None for _, acted in actions(uow, case_id))      # nothing saved
    follow_ups.act_on_follow_up(uow, actor=people.opshandler, action_id=mine[0].id, action="重新培训理赔审核人员",
                                now=T0 + timedelta(days=6))
    assert actions(uow, case_id) == [("operations", T0 + timedelta(days=6)), ("technical", None)]
    assert follow_ups.department_follow_ups(uow, actor=people.opshandler) == []
    done = follow_ups.department_follow_ups(uow, actor=people.opshandler, open_only=False)
    assert [(d.action, d.acted_by) for d in done] == [("重新培训理赔审核人员", people.opshandler.display_name)]
    with pytest.raises(TransitionNotAllowed) as refused:
        follow_ups.act_on_follow_up(uow, actor=people.opshandler, action_id=mine[0].id, action="再次",
                                    now=T0 + timedelta(days=7))
    assert refused.value.message.key == "follow_up.action_done"


def test_the_scheduled_visit_fulfils_the_schedule_and_a_still_dissatisfied_one_schedules_no_third(uow, people):
    case_id = closed_case(uow, people)
    follow_up(uow, people, case_id, UNHAPPY, 5)
    with pytest.raises(TransitionNotAllowed):                     # the GM office's task first
        follow_up(uow, people, case_id, HAPPY, 6)
    handling.resolve_follow_up(uow, actor=people.gmo, complaint_id=case_id, comment="已再次沟通",
                               now=T0 + timedelta(days=6), expected_version=current_version(uow, case_id))
    assert state(uow, case_id) == "closed"
    follow_up(uow, people, case_id, UNHAPPY, 35, method="visit")
    with uow.read() as session:
        second = session.scalar(select(func.max(FollowUp.id)).where(FollowUp.complaint_id == case_id))
    assert schedules(uow, case_id) == [((T0 + timedelta(days=35)).date(), second)]
    assert len(actions(uow, case_id)) == 2                      # sent to the department again


def test_a_follow_up_must_say_how_it_was_done(uow, people):
    case_id = closed_case(uow, people)
    for method in (None, "", "carrier pigeon"):
        with pytest.raises(ValidationFailed) as refused:
            follow_up(uow, people, case_id, HAPPY, 5, method=method)
        assert refused.value.errors["method"].key in ("form.choose_one", "form.unknown_choice")
    with uow.read() as session:
        assert session.scalar(select(func.count()).select_from(FollowUp)) == 0


def test_another_follow_up_is_scheduled_by_a_date_with_a_reason_and_waits_in_the_queue(uow, people):
    case_id = closed_case(uow, people)
    follow_up(uow, people, case_id, HAPPY, 5)
    at = T0 + timedelta(days=6)
    for due, reason, field, key in ((None, "再访", "due_on", "form.required"),
                                    (at.date() - timedelta(days=1), "再访", "due_on", "follow_up.due_in_past"),
                                    (at.date() + timedelta(days=400), "再访", "due_on", "follow_up.due_too_far"),
                                    (at.date() + timedelta(days=10), " ", "reason", "form.required")):
        with pytest.raises(ValidationFailed) as refused:
            follow_ups.schedule_follow_up(uow, actor=people.gmo, complaint_id=case_id, due_on=due, reason=reason,
                                          expected_version=current_version(uow, case_id), now=at)
        assert refused.value.errors[field].key == key
    assert schedules(uow, case_id) == []
    with pytest.raises(TransitionNotAllowed):
        follow_ups.schedule_follow_up(uow, actor=people.opshandler, complaint_id=case_id, due_on=date(2026, 1, 1),
                                      reason="x", expected_version=current_version(uow, case_id), now=at)
    follow_ups.schedule_follow_up(uow, actor=people.gmo, complaint_id=case_id, due_on=at.date() + timedelta(days=10),
                                  reason="客户要求理赔到账后再次回访", expected_version=current_version(uow, case_id),
                                  now=at)
    with uow.read() as session:
        waiting = session.scalars(select(Complaint.id).where(follow_ups.wants_follow_up())).all()
    assert waiting == [case_id]
    todo = {t.key: t.count for t in closing.closing_todos(uow, actor=people.clerk, now=at)}
    assert todo == {"follow_up_due": 0}
    todo = {t.key: t.count for t in closing.closing_todos(uow, actor=people.clerk, now=at + timedelta(days=10))}
    assert todo == {"follow_up_due": 1}


def test_causes_are_required_from_the_active_sub_causes_at_report_and_closure(uow, people):
    from dataclasses import replace
    case_id = accepted(uow, people)
    with uow.write() as session:
        session.scalars(select(CauseClass).where(CauseClass.code == "people.skill")).one().active = False
    for code, key in ((None, "form.choose_one"), ("people", "cause.invalid"), ("people.skill", "cause.invalid"),
                      ("nothing.here", "cause.invalid")):
        with pytest.raises(ValidationFailed) as refused:
            handling.submit_report(uow, actor=people.opshandler, complaint_id=case_id,
                                   report=replace(REPORT, cause_code=code), now=T0 + timedelta(days=1),
                                   expected_version=current_version(uow, case_id))
        assert refused.value.errors["cause_code"].key == key
    with uow.read() as session:
        assert session.scalar(select(ComplaintDepartment.report_submitted_at)
                              .where(ComplaintDepartment.complaint_id == case_id)) is None
    handling.submit_report(uow, actor=people.opshandler, complaint_id=case_id,
                           report=replace(REPORT, cause_code="people.attitude"), now=T0 + timedelta(days=1),
                           expected_version=current_version(uow, case_id))
    with uow.read() as session:
        assert session.scalar(select(ComplaintDepartment.cause_code)
                              .where(ComplaintDepartment.complaint_id == case_id)) == "people.attitude"
    choices = closing.cause_choices(uow)
    assert "people.skill" not in [c.code for c in choices] and choices[0].code == "people.attitude"
    assert (choices[0].label("zh"), choices[0].label("en")) == ("人员 / 服务态度", "People / Service attitude")


def test_the_closure_needs_a_cause_and_stores_it(uow, people):
    case_id, _ = to_approval(uow, people)
    handling.approve(uow, actor=people.approver, complaint_id=case_id, instructions="按3000元赔付",
                     amount_limit="3000", now=T0 + timedelta(days=2), expected_version=current_version(uow, case_id))
    handling.record_negotiation(uow, decision=DECISION, actor=people.clerk, complaint_id=case_id, result="accepted",
                                note="客户接受", agreed_amount="3000", now=T0 + timedelta(days=3),
                                expected_version=current_version(uow, case_id))
    handling.review_negotiation(uow, actor=people.lead, complaint_id=case_id, approve=True, comment="",
                                now=T0 + timedelta(days=3, hours=1), expected_version=current_version(uow, case_id))
    for code in (None, "process", "process.nothing"):
        with pytest.raises(ValidationFailed) as refused:
            handling.close_case(uow, actor=people.gmo, complaint_id=case_id, final_opinion="结案",
                                responsible_department="operations", responsibility_level="general",
                                penalty_persons="", cause_code=code, now=T0 + timedelta(days=3, hours=5),
                                expected_version=current_version(uow, case_id))
        assert "cause_code" in refused.value.errors
    assert state(uow, case_id) == "awaiting_closure"
    handling.close_case(uow, actor=people.gmo, complaint_id=case_id, final_opinion="结案",
                        responsible_department="operations", responsibility_level="general", penalty_persons="",
                        cause_code="product.terms", now=T0 + timedelta(days=3, hours=5),
                        expected_version=current_version(uow, case_id))
    with uow.read() as session:
        assert session.get(Complaint, case_id).cause_code == "product.terms"


def test_the_printed_form_says_how_each_follow_up_was_done(uow, people):
    from portal.printing.form_sections import handling_form_sections
    from portal.services import queries
    case_id = closed_case(uow, people)
    follow_up(uow, people, case_id, HAPPY, 5, method="questionnaire")
    view = queries.case_detail(uow, actor=people.gmo, complaint_id=case_id, now=T0 + timedelta(days=6),
                               calendar=rules.load_calendar(uow))
    section = next(s for s in handling_form_sections(view, lang="zh", names={}) if s.key == "follow_up")
    assert [row["回访方式"] for row in section.grid] == ["问卷回访"]
