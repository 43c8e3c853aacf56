"""Named investigators, working groups, the 签呈 table, the major-case criteria and the required
签注意见 (issue 15 §4): the domain rules, without a database."""
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from portal.domain.assignment import (Person, assignee_problem, check_group, check_may_assign, may_assign,
                                      unassigned_late)
from portal.domain.errors import PermissionDenied
from portal.domain.lifecycle import Action, State, authorize
from portal.domain.roles import Role
from portal.domain.severity import ALL_FLAGS, MajorThresholds, effective_severity, major_reasons
from portal.domain.validation import AttachmentLimits, validate_registration
from tests.helpers import a_form

OPS, TECH, MKT = 1, 2, 3
T = datetime(2025, 10, 9, 9, 0)


def person(pid: int, department: int | None, *roles: Role, active: bool = True) -> Person:
    return Person(pid, f"u{pid}", f"用户{pid}", department, {OPS: "operations", TECH: "technical", MKT: "marketing"}
                  .get(department), frozenset(roles), active)


def test_only_the_departments_own_lead_may_assign():
    lead = frozenset({Role.HANDLER, Role.DEPT_LEAD})
    assert may_assign(roles=lead, department_id=OPS, routed_department_id=OPS, department_has_lead=True)
    assert not may_assign(roles=lead, department_id=TECH, routed_department_id=OPS, department_has_lead=True)
    assert not may_assign(roles=frozenset({Role.HANDLER}), department_id=OPS, routed_department_id=OPS,
                          department_has_lead=True)
    with pytest.raises(PermissionDenied) as refused:
        check_may_assign(roles=frozenset({Role.HANDLER}), department_id=OPS, routed_department_id=OPS,
                         department_has_lead=True)
    assert refused.value.message.key == "assign.not_lead"


def test_the_gm_office_assigns_only_for_a_department_without_a_lead():
    gm = frozenset({Role.GM_OFFICE})
    assert may_assign(roles=gm, department_id=None, routed_department_id=OPS, department_has_lead=False)
    with pytest.raises(PermissionDenied) as refused:
        check_may_assign(roles=gm, department_id=None, routed_department_id=OPS, department_has_lead=True)
    assert refused.value.message.key == "assign.lead_assigns"


def test_only_active_unrecused_handlers_of_the_department_may_be_assigned():
    assert assignee_problem(person(1, OPS, Role.HANDLER), department_id=OPS, recused=set()) is None
    assert assignee_problem(person(2, TECH, Role.HANDLER), department_id=OPS,
                            recused=set()).key == "assign.other_department"
    assert assignee_problem(person(3, OPS, Role.INTAKE), department_id=OPS, recused=set()).key == "assign.not_handler"
    assert assignee_problem(person(4, OPS, Role.HANDLER), department_id=OPS, recused={4}).key == "assign.recused"
    assert assignee_problem(person(5, OPS, Role.HANDLER, active=False), department_id=OPS,
                            recused=set()).key == "assign.inactive"


def test_a_routing_is_flagged_once_the_set_time_passes_with_nobody_named():
    routed = T - timedelta(hours=25)
    assert unassigned_late(routed_at=routed, assigned_at=None, report_submitted_at=None, now=T, hours=24)
    assert not unassigned_late(routed_at=T - timedelta(hours=23), assigned_at=None, report_submitted_at=None,
                               now=T, hours=24)
    assert not unassigned_late(routed_at=routed, assigned_at=routed, report_submitted_at=None, now=T, hours=24)
    assert not unassigned_late(routed_at=routed, assigned_at=None, report_submitted_at=T, now=T, hours=24)


def test_a_working_group_has_a_leader_and_people_of_at_least_two_departments():
    leader = person(1, MKT, Role.APPROVER)
    ops, tech = person(2, OPS, Role.HANDLER), person(3, TECH, Role.HANDLER)
    assert check_group(leader, [ops, tech], recused=set()) == {}
    assert check_group(None, [ops, tech], recused=set())["leader"].key == "form.choose_one"
    assert check_group(ops, [person(4, OPS, Role.HANDLER)], recused=set())["members"].key == "group.one_department"
    assert check_group(leader, [ops], recused={2})["members"].key == "assign.recused"
    assert check_group(person(9, None, Role.ADMIN), [ops, tech], recused=set())["leader"].key == "group.not_staff"
    assert check_group(leader, [person(5, OPS, Role.MANAGER)], recused=set())["members"].key == "group.not_staff"


@pytest.mark.parametrize("role", [Role.HANDLER, Role.INTAKE, Role.INTAKE_LEAD])
@pytest.mark.parametrize("state", [s for s in State if s is not State.REGISTERED])
def test_any_involved_department_may_petition_at_any_stage_after_acceptance(role, state):
    assert authorize(Action.FILE_PETITION, state, [role])
    assert authorize(Action.ANSWER_PETITION, state, [Role.GM_OFFICE])


def test_no_petition_before_acceptance_and_only_the_gm_office_answers():
    from portal.domain.errors import TransitionNotAllowed
    with pytest.raises(TransitionNotAllowed):
        authorize(Action.FILE_PETITION, State.REGISTERED, [Role.INTAKE])
    with pytest.raises(TransitionNotAllowed):
        authorize(Action.ANSWER_PETITION, State.INVESTIGATING, [Role.HANDLER, Role.INTAKE_LEAD])


THRESHOLDS = MajorThresholds(Decimal(500000), 20)


@pytest.mark.parametrize("flag", ["deaths", "association", "media", "regulator", "litigation"])
def test_each_flag_makes_a_case_major_while_its_setting_counts_it(flag):
    raised = {f: f == flag for f in ("deaths", "association", "media", "regulator", "litigation")}
    reasons = major_reasons(amount=None, joint_complainants=1, thresholds=THRESHOLDS, **raised)
    assert reasons == [flag] and effective_severity("general", reasons) == "major"
    off = MajorThresholds(Decimal(500000), 20, ALL_FLAGS - {flag})
    assert major_reasons(amount=None, joint_complainants=1, thresholds=off, **raised) == []


def test_the_clerks_opinion_is_required_at_registration():
    limits = AttachmentLimits(1024, 5, ("pdf",))

    def errors(form):  # noqa: ANN001, ANN202
        return validate_registration(form, now=datetime(2025, 10, 1), channels={"phone"}, categories={"claim_speed"},
                                     staff=set(), attachments=[], limits=limits)
    assert "clerk_opinion" not in errors(a_form())
    for blank in ("", "   "):
        form, _ = a_form(clerk_opinion=blank).normalised()
        assert errors(form)["clerk_opinion"].key == "form.required"
