import itertools

import pytest

from portal.domain.errors import TransitionNotAllowed
from portal.domain.lifecycle import (TRANSITIONS, Action, State, after_gm_report, after_report, authorize,
                                     next_state)
from portal.domain.roles import Role

SOURCES = [None, *State]


def _allowed(action, state, role):
    return any(t.action == action and t.source == state and role in t.roles for t in TRANSITIONS)


@pytest.mark.parametrize("action, state, role", list(itertools.product(Action, SOURCES, Role)))
def test_every_transition_is_allowed_exactly_as_the_table_says(action, state, role):
    if _allowed(action, state, role):
        assert authorize(action, state, [role])
    else:
        with pytest.raises(TransitionNotAllowed) as refused:
            authorize(action, state, [role])
        has_source = any(t.action == action and t.source == state for t in TRANSITIONS)
        expected = "lifecycle.not_your_role" if has_source else "lifecycle.not_in_state"
        assert refused.value.message.key == expected


def test_the_main_path_runs_from_registration_to_archive():
    path = [(Action.REGISTER, None, Role.INTAKE), (Action.ACCEPT, State.REGISTERED, Role.GM_OFFICE),
            (Action.INSTRUCT_REPORT, State.AWAITING_GM_INSTRUCTION, Role.APPROVER),
            (Action.CONSOLIDATE, State.AWAITING_CONSOLIDATION, Role.GM_OFFICE),
            (Action.APPROVE, State.AWAITING_APPROVAL, Role.APPROVER),
            (Action.RECORD_NEGOTIATION, State.NEGOTIATING, Role.INTAKE),
            (Action.REVIEW_NEGOTIATION, State.AWAITING_REVIEW, Role.INTAKE_LEAD),
            (Action.CLOSE, State.AWAITING_CLOSURE, Role.GM_OFFICE),
            (Action.FINAL_APPROVE, State.AWAITING_FINAL_APPROVAL, Role.APPROVER),
            (Action.RECORD_FOLLOW_UP, State.CLOSED, Role.INTAKE),
            (Action.QUALITY_CHECK, State.CLOSED, Role.HANDLER),
            (Action.ARCHIVE, State.CLOSED, Role.GM_OFFICE)]
    targets = [next_state(a, s, [r]) for a, s, r in path]
    assert targets == [State.REGISTERED, State.INVESTIGATING, State.AWAITING_CONSOLIDATION, State.AWAITING_APPROVAL,
                       State.NEGOTIATING, State.AWAITING_REVIEW, State.AWAITING_CLOSURE,
                       State.AWAITING_FINAL_APPROVAL, State.CLOSED, State.CLOSED, State.CLOSED, State.ARCHIVED]


def test_only_the_gm_office_archives_and_a_follow_up_never_does():
    assert next_state(Action.RECORD_FOLLOW_UP, State.CLOSED, [Role.INTAKE]) is State.CLOSED
    assert next_state(Action.RESOLVE_FOLLOW_UP, State.CLOSED, [Role.GM_OFFICE]) is State.CLOSED
    for role in (Role.INTAKE, Role.INTAKE_LEAD, Role.HANDLER, Role.APPROVER, Role.MANAGER):
        with pytest.raises(TransitionNotAllowed):
            next_state(Action.ARCHIVE, State.CLOSED, [role])


def test_the_report_instruction_and_the_final_approval_are_steps_of_their_own():
    assert after_report(remaining_departments=0) is State.AWAITING_REPORT
    assert after_gm_report(gm_instructs=True) is State.AWAITING_GM_INSTRUCTION
    assert after_gm_report(gm_instructs=False) is State.AWAITING_CONSOLIDATION
    # every case, with or without a penalty, goes from the GM office's final opinion to the final 核决
    assert {t.target for t in authorize(Action.CLOSE, State.AWAITING_CLOSURE, [Role.GM_OFFICE])} == {
        State.AWAITING_FINAL_APPROVAL}
    assert [t for t in TRANSITIONS if t.target is State.CLOSED and t.source is not State.CLOSED] == [
        t for t in TRANSITIONS if t.action is Action.FINAL_APPROVE]
    assert next_state(Action.RETURN_FINAL, State.AWAITING_FINAL_APPROVAL, [Role.APPROVER]) is State.AWAITING_CLOSURE
    assert next_state(Action.INSTRUCT_REPORT, State.AWAITING_GM_INSTRUCTION, [Role.APPROVER]) is \
        State.AWAITING_CONSOLIDATION
    with pytest.raises(TransitionNotAllowed):
        authorize(Action.INSTRUCT_ANALYSIS, State.INVESTIGATING, [Role.HANDLER])
    for role in (Role.HANDLER, Role.INTAKE):              # 技术部 is the GM office's to send (art.13.3)
        with pytest.raises(TransitionNotAllowed):
            authorize(Action.REQUEST_TECHNICAL_ANALYSIS, State.INVESTIGATING, [role])
    for source in (State.INVESTIGATING, State.AWAITING_REPORT, State.AWAITING_CONSOLIDATION):
        assert next_state(Action.REQUEST_TECHNICAL_ANALYSIS, source, [Role.GM_OFFICE]) is State.INVESTIGATING


def test_gm_office_cannot_accept_a_case_twice():
    with pytest.raises(TransitionNotAllowed) as refused:
        authorize(Action.ACCEPT, State.INVESTIGATING, [Role.GM_OFFICE])
    assert refused.value.message.params == {"action": "accept", "state": "investigating"}


def test_an_intake_clerk_cannot_accept():
    with pytest.raises(TransitionNotAllowed):
        authorize(Action.ACCEPT, State.REGISTERED, [Role.INTAKE])


def test_a_case_routed_to_several_departments_waits_for_all_of_them():
    assert after_report(remaining_departments=1) is State.INVESTIGATING
    assert after_report(remaining_departments=0) is State.AWAITING_REPORT
    with pytest.raises(ValueError):
        next_state(Action.SUBMIT_REPORT, State.INVESTIGATING, [Role.HANDLER])
