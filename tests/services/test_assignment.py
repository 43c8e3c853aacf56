"""Named investigators, working groups of major cases, 签呈 by any department involved, the major-case
flags and the required 签注意见 (issue 15 §4; 000 §5, §8; 002 art.13.1, 13.12, ch.2 4.(二)6), through the
services, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.domain.errors import PermissionDenied, TransitionNotAllowed, ValidationFailed
from portal.persistence.models import CaseAssignment, Complaint, Event, WorkingGroupMember
from portal.printing.handling_form import handling_form_html
from portal.services import assignment, complaints, configuration, followthrough, queries, rules, users
from tests.conftest import T0
from tests.helpers import a_form

ROUTED = T0 + timedelta(hours=1)


def register(uow, people, serial: int = 1, **overrides) -> int:  # noqa: ANN001
    return complaints.register_complaint(uow, actor=people.clerk, attachments=[], now=T0, form=a_form(
        customer_phone=f"1380000{serial:04d}", policy_number=f"P-ASSIGN-{serial}", **overrides)).id


def routed_case(uow, people, departments=("operations",), serial: int = 1, **overrides) -> int:  # noqa: ANN001
    case_id = register(uow, people, serial, **overrides)
    complaints.accept_complaint(uow, actor=people.gmo, complaint_id=case_id, category="claim", severity="general",
                                departments=list(departments), now=ROUTED)
    return case_id


def rows(uow, model) -> list:  # noqa: ANN001
    with uow.read() as session:
        return list(session.scalars(select(model)))


def events(uow, case_id: int, action: str) -> list[Event]:  # noqa: ANN001
    with uow.read() as session:
        return list(session.scalars(select(Event).where(Event.complaint_id == case_id, Event.action == action)
                                    .order_by(Event.id)))


def view(uow, actor, case_id):  # noqa: ANN001, ANN201
    return queries.case_detail(uow, actor=actor, complaint_id=case_id, now=ROUTED, calendar=rules.load_calendar(uow))


# -- named investigators --

def test_the_lead_assigns_named_handlers_and_every_reassignment_is_audited(uow, people):
    cal = rules.load_calendar(uow)
    case_id = routed_case(uow, people, ("operations", "technical"))
    done = assignment.assign_handlers(uow, actor=people.opslead, complaint_id=case_id, handlers=["opshandler"],
                                      comment="请运营丁负责", now=ROUTED + timedelta(hours=2))
    assert done == ["opshandler"]
    mine = assignment.assigned_to_me(uow, actor=people.opshandler, now=ROUTED, calendar=cal)
    assert list(mine.frame["id"]) == [case_id] and list(mine.frame["assignees"]) == [["运营丁"]]
    assert assignment.assigned_to_me(uow, actor=people.techhandler, now=ROUTED, calendar=cal).total == 0
    assignment.assign_handlers(uow, actor=people.techlead, complaint_id=case_id, handlers=["techhandler", "techlead"],
                               now=ROUTED + timedelta(hours=3))
    assignment.assign_handlers(uow, actor=people.opslead, complaint_id=case_id, handlers=["opslead"],
                               now=ROUTED + timedelta(hours=4))          # reassigned
    assert assignment.assigned_to_me(uow, actor=people.opshandler, now=ROUTED, calendar=cal).total == 0
    assert view(uow, people.gmo, case_id).handling["assignees"] == {"operations": ["运营主管子"],
                                                                     "technical": ["技术戊", "技术主管癸"]}
    trail = events(uow, case_id, "assign_handlers")
    assert [(e.actor_label, e.changes["department"], e.changes["assignees_before"], e.changes["assignees_after"])
            for e in trail] == [
        ("opslead", "operations", [], ["运营丁 (opshandler)"]),
        ("techlead", "technical", [], ["技术戊 (techhandler)", "技术主管癸 (techlead)"]),
        ("opslead", "operations", ["运营丁 (opshandler)"], ["运营主管子 (opslead)"])]
    assert trail[0].comment == "请运营丁负责"
    with pytest.raises(ValidationFailed) as same:
        assignment.assign_handlers(uow, actor=people.opslead, complaint_id=case_id, handlers=["opslead"], now=ROUTED)
    assert same.value.errors["handlers"].key == "assign.unchanged"


def test_a_handler_who_is_not_the_lead_cannot_assign_nor_a_lead_of_another_department(uow, people):
    case_id = routed_case(uow, people, ("operations", "technical"))
    for actor, department in ((people.opshandler, None), (people.techlead, "operations"), (people.clerk, "operations"),
                              (people.approver, "operations")):
        with pytest.raises(PermissionDenied) as refused:
            assignment.assign_handlers(uow, actor=actor, complaint_id=case_id, department=department,
                                       handlers=["opshandler"], now=ROUTED)
        assert refused.value.message.key == "assign.not_lead"
    with pytest.raises(TransitionNotAllowed):                # the case is not routed to 理赔部
        assignment.assign_handlers(uow, actor=people.opslead, complaint_id=case_id, department="claims",
                                   handlers=["opshandler"], now=ROUTED)
    assert rows(uow, CaseAssignment) == [] and events(uow, case_id, "assign_handlers") == []
    assert assignment.assignment_choices(uow, actor=people.opshandler, complaint_id=case_id) == {}
    assert list(assignment.assignment_choices(uow, actor=people.techlead, complaint_id=case_id)) == ["technical"]


def test_only_handlers_of_that_department_who_are_not_recused_may_be_assigned(uow, people):
    case_id = routed_case(uow, people, complained_staff=["opshandler"])       # 运营丁 is named in the complaint
    cases = {"techhandler": "assign.other_department", "clerk": "assign.not_handler",
             "opshandler": "assign.recused", "nobody": "form.unknown_staff"}
    for username, key in cases.items():
        with pytest.raises(ValidationFailed) as refused:
            assignment.assign_handlers(uow, actor=people.opslead, complaint_id=case_id, handlers=[username],
                                       now=ROUTED)
        assert refused.value.errors["handlers"].key == key, username
    for bad in ([], "opshandler", [3]):
        with pytest.raises(ValidationFailed) as refused:
            assignment.assign_handlers(uow, actor=people.opslead, complaint_id=case_id, handlers=bad, now=ROUTED)
        assert "handlers" in refused.value.errors
    assert rows(uow, CaseAssignment) == []
    offered = assignment.assignment_choices(uow, actor=people.opslead, complaint_id=case_id)
    assert {code: [c.username for c in people_] for code, people_ in offered.items()} == {"operations": ["opslead"]}
    # 运营丁 is recused; nobody of another department is offered


def test_the_gm_office_assigns_only_for_a_department_that_has_no_lead(uow, people):
    case_id = routed_case(uow, people)
    with pytest.raises(PermissionDenied) as refused:
        assignment.assign_handlers(uow, actor=people.gmo, complaint_id=case_id, department="operations",
                                   handlers=["opshandler"], now=ROUTED)
    assert refused.value.message.key == "assign.lead_assigns"
    assert "operations" not in assignment.leaderless_departments(uow)
    assert assignment.assignment_choices(uow, actor=people.gmo, complaint_id=case_id) == {}
    users.set_user_active(uow, actor=people.admin, username="opslead", active=False, now=ROUTED)   # no lead now
    assert "operations" in assignment.leaderless_departments(uow)
    offered = assignment.assignment_choices(uow, actor=people.gmo, complaint_id=case_id)
    assert [(c.username, c.chosen) for c in offered["operations"]] == [("opshandler", False)]
    assignment.assign_handlers(uow, actor=people.gmo, complaint_id=case_id, department="operations",
                               handlers=["opshandler"], now=ROUTED + timedelta(hours=1))
    assert view(uow, people.gmo, case_id).handling["assignees"] == {"operations": ["运营丁"]}


def test_a_department_nobody_was_assigned_to_in_time_is_flagged_until_someone_is(uow, people):
    cal = rules.load_calendar(uow)
    case_id = routed_case(uow, people, ("operations", "technical"))
    soon, late = ROUTED + timedelta(hours=23), ROUTED + timedelta(hours=25)
    queue = queries.department_queue(uow, actor=people.opshandler, now=soon, calendar=cal)
    assert list(queue.frame["unassigned_late"]) == [False]
    queue = queries.department_queue(uow, actor=people.opshandler, now=late, calendar=cal)
    assert list(queue.frame["unassigned_late"]) == [True] and list(queue.frame["assignees"]) == [[]]
    gm_view = queries.work_queue(uow, actor=people.gmo, state=queries.State.INVESTIGATING, now=late, calendar=cal)
    assert list(gm_view.frame["unassigned_late"]) == [True]
    count, items = assignment.unassigned_late_cases(uow, actor=people.gmo, now=late)
    assert count == 2 and sorted(i.department for i in items) == ["operations", "technical"]
    assert assignment.unassigned_late_cases(uow, actor=people.opslead, now=late)[0] == 1   # their own department
    assert assignment.unassigned_late_cases(uow, actor=people.gmo, now=soon)[0] == 0
    with pytest.raises(PermissionDenied):
        assignment.unassigned_late_cases(uow, actor=people.opshandler, now=late)
    todo = {t.key: t.count for t in queries.todo_counts(uow, actor=people.opslead, now=late)}
    assert todo["assign"] == 1
    assignment.assign_handlers(uow, actor=people.opslead, complaint_id=case_id, handlers=["opshandler"], now=late)
    queue = queries.department_queue(uow, actor=people.opshandler, now=late, calendar=cal)
    assert list(queue.frame["unassigned_late"]) == [False] and list(queue.frame["assignees"]) == [["运营丁"]]
    assert assignment.unassigned_late_cases(uow, actor=people.gmo, now=late)[0] == 1      # 技术部 still waits
    assert {t.key: t.count for t in queries.todo_counts(uow, actor=people.opslead, now=late)}["assign"] == 0


def test_the_time_before_the_flag_is_a_parameter(uow, people):
    cal = rules.load_calendar(uow)
    routed_case(uow, people)
    parameters = configuration.load_table(uow, actor=people.admin, table="parameters")
    hours = next(r for r in parameters if r["key"] == "assignment.flag_hours")
    assert hours["value"] == "24"
    hours["value"] = "0"
    with pytest.raises(configuration.ConfigurationRefused):
        configuration.save_table(uow, actor=people.admin, table="parameters", rows=parameters, now=T0)
    hours["value"] = "48"
    configuration.save_table(uow, actor=people.admin, table="parameters", rows=parameters, now=T0)
    queue = queries.department_queue(uow, actor=people.opshandler, now=ROUTED + timedelta(hours=30), calendar=cal)
    assert list(queue.frame["unassigned_late"]) == [False]


# -- the working group of a major case --

def test_the_gm_office_sets_a_working_group_whose_members_see_the_case_in_their_queue(uow, people):
    cal = rules.load_calendar(uow)
    case_id = routed_case(uow, people, flag_media=True)                  # 重大, routed to 运营部 only
    assignment.set_working_group(uow, actor=people.gmo, complaint_id=case_id, leader="vicegm",
                                 members=["techhandler", "clerk"], comment="统一指挥", now=ROUTED)
    with pytest.raises(PermissionDenied):          # not routed to 技术部, and not (yet) in the group
        view(uow, people.techlead, case_id)
    member_view = view(uow, people.techhandler, case_id)       # 技术部 was never routed, but sits on the group
    assert not member_view.masked
    assert [(m["username"], m["department"], m["leader"]) for m in member_view.handling["working_group"]] == [
        ("vicegm", "gm_office", True), ("clerk", "marketing", False), ("techhandler", "technical", False)]
    for member in (people.techhandler, people.vicegm, people.clerk):
        assert list(assignment.my_working_groups(uow, actor=member, now=ROUTED, calendar=cal).frame["id"]) == [case_id]
    assert assignment.my_working_groups(uow, actor=people.opshandler, now=ROUTED, calendar=cal).total == 0
    assignment.set_working_group(uow, actor=people.gmo, complaint_id=case_id, leader="genmgr",
                                 members=["techlead", "opslead"], now=ROUTED + timedelta(hours=1))
    assert assignment.my_working_groups(uow, actor=people.techhandler, now=ROUTED, calendar=cal).total == 0
    trail = events(uow, case_id, "set_working_group")
    assert trail[0].comment == "统一指挥"
    assert trail[1].changes == {"group_leader_before": "副总丑 (vicegm)",
                                "group_members_before": ["受理员甲 (clerk)", "技术戊 (techhandler)"],
                                "group_leader_after": "总经理寅 (genmgr)",
                                "group_members_after": ["技术主管癸 (techlead)", "运营主管子 (opslead)"]}
    html = handling_form_html(view(uow, people.gmo, case_id), lang="zh", printed_at=ROUTED, names={})
    assert "专项工作组组长</th><td>总经理寅" in html and "专项工作组组员</th><td>运营主管子、技术主管癸" in html


def test_a_working_group_is_refused_unless_it_is_complete_and_the_case_major(uow, people):
    ordinary = routed_case(uow, people, serial=1)
    with pytest.raises(TransitionNotAllowed) as refused:
        assignment.set_working_group(uow, actor=people.gmo, complaint_id=ordinary, leader="vicegm",
                                     members=["techhandler"], now=ROUTED)
    assert refused.value.message.key == "group.not_major"
    major = routed_case(uow, people, serial=2, flag_regulator=True, complained_staff=["opshandler"])
    with pytest.raises(PermissionDenied):
        assignment.set_working_group(uow, actor=people.opslead, complaint_id=major, leader="vicegm",
                                     members=["techhandler"], now=ROUTED)
    refusals = {
        ("opslead", ("opshandler",)): ("members", "assign.recused"),
        ("techlead", ("techhandler",)): ("members", "group.one_department"),
        ("", ("techhandler", "clerk")): ("leader", "form.choose_one"),
        ("admin", ("techhandler",)): ("leader", "group.not_staff"),
        ("vicegm", ("boss",)): ("members", "group.not_staff"),
        ("vicegm", ("ghost",)): ("members", "form.unknown_staff"),
    }
    for (leader, members), (field, key) in refusals.items():
        with pytest.raises(ValidationFailed) as refused:
            assignment.set_working_group(uow, actor=people.gmo, complaint_id=major, leader=leader,
                                         members=list(members), now=ROUTED)
        assert refused.value.errors[field].key == key, (leader, members)
    assert rows(uow, WorkingGroupMember) == [] and events(uow, major, "set_working_group") == []
    offered = {c.username for c in assignment.group_candidates(uow, complaint_id=major)}
    assert "opshandler" not in offered and {"admin", "boss", "trainer"}.isdisjoint(offered)
    assert {"vicegm", "techhandler", "clerk", "gmo"} <= offered


# -- 签呈 by any department involved --

def test_any_department_involved_files_a_petition_at_any_stage_after_acceptance(uow, people):
    waiting = register(uow, people, 9)
    with pytest.raises(TransitionNotAllowed):                # not accepted yet
        followthrough.file_petition(uow, actor=people.clerk, complaint_id=waiting, text="异议", now=ROUTED)
    case_id = routed_case(uow, people, flag_litigation=True)                # investigating, 运营部
    by_marketing = followthrough.file_petition(uow, actor=people.clerk, complaint_id=case_id,
                                               text="市场部对分派有异议", now=ROUTED)
    by_operations = followthrough.file_petition(uow, actor=people.opshandler, complaint_id=case_id, text="运营部异议",
                                                now=ROUTED)
    with pytest.raises(TransitionNotAllowed) as refused:             # 技术部 is not involved
        followthrough.file_petition(uow, actor=people.techhandler, complaint_id=case_id, text="异议", now=ROUTED)
    assert refused.value.message.key == "petition.not_involved"
    with pytest.raises(TransitionNotAllowed):                        # the GM office answers, it does not petition
        followthrough.file_petition(uow, actor=people.gmo, complaint_id=case_id, text="异议", now=ROUTED)
    assignment.set_working_group(uow, actor=people.gmo, complaint_id=case_id, leader="vicegm",
                                 members=["techhandler"], now=ROUTED)
    followthrough.file_petition(uow, actor=people.techhandler, complaint_id=case_id, text="工作组成员的签呈",
                                now=ROUTED)                          # now involved, through the working group
    followthrough.answer_petition(uow, actor=people.gmo, petition_id=by_marketing, answer="维持分派", now=ROUTED)
    with pytest.raises(TransitionNotAllowed):
        followthrough.answer_petition(uow, actor=people.opslead, petition_id=by_operations, answer="x", now=ROUTED)
    petitions = followthrough.list_petitions(uow, complaint_id=case_id)
    assert [(p.department, p.answer) for p in petitions] == [("marketing", "维持分派"), ("operations", ""),
                                                             ("technical", "")]


# -- major-case criteria and the clerk's opinion --

def test_two_deaths_in_one_accident_and_the_insurers_association_make_a_case_major(uow, people):
    deaths = complaints.register_complaint(uow, actor=people.clerk, attachments=[], now=T0,
                                           form=a_form(flag_deaths=True))
    assert deaths.severity == "major" and deaths.major_reasons == ["deaths"]
    association = routed_case(uow, people, serial=2)
    complaints.accept_complaint(uow, actor=people.gmo, complaint_id=register(uow, people, 3), category="claim",
                                severity="general", departments=["operations"], flag_association=True, now=ROUTED)
    with uow.read() as session:
        flagged = session.scalars(select(Complaint).where(Complaint.flag_association.is_(True))).one()
        assert flagged.severity == "major" and flagged.major_flagged_at == ROUTED
        assert session.get(Complaint, association).severity == "general"
    page = handling_form_html(view(uow, people.gmo, deaths.id), lang="zh", printed_at=T0, names={})
    assert "一次事故导致2人及以上死亡</th><td>是" in page and "已向同业公会投诉</th><td>否" in page
    parameters = configuration.load_table(uow, actor=people.admin, table="parameters")
    for row in parameters:
        if row["key"] in ("major.flag_deaths", "major.flag_association"):
            row["value"] = "0"
    configuration.save_table(uow, actor=people.admin, table="parameters", rows=parameters, now=T0)
    counted_off = complaints.register_complaint(uow, actor=people.clerk, attachments=[], now=T0, form=a_form(
        flag_deaths=True, flag_association=True, customer_phone="13900009999", policy_number="P-OFF"))
    assert counted_off.severity == "general" and counted_off.major_reasons == []


def test_a_registration_without_the_clerks_opinion_is_refused_and_saves_nothing(uow, people):
    for blank in ("", "  \n "):
        with pytest.raises(ValidationFailed) as refused:
            complaints.register_complaint(uow, actor=people.clerk, attachments=[], now=T0,
                                          form=a_form(clerk_opinion=blank))
        assert refused.value.errors["clerk_opinion"].key == "form.required"
    with uow.read() as session:
        assert session.scalar(select(func.count()).select_from(Complaint)) == 0
