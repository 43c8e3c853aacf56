import pytest

from portal.domain.errors import TransitionNotAllowed
from portal.domain.four_eyes import CONFLICTS, Decision, Work, check_four_eyes, conflicting_work
from portal.domain.lifecycle import Action

HISTORY = [Work("submit_report", 7, "technical"), Work("submit_report", 8, "operations"),
           Work("report_to_gm", 8), Work("consolidate", 9), Work("record_negotiation", 10), Work("close", 11),
           Work("approve", 12)]


@pytest.mark.parametrize("decision, user, refused", [
    (Decision.REVIEW_NEGOTIATION, 10, Action.RECORD_NEGOTIATION),     # record negotiation → review
    (Decision.APPROVE, 9, Action.CONSOLIDATE),                        # consolidate → approve
    (Decision.APPROVE, 8, Action.SUBMIT_REPORT),                      # report → approve
    (Decision.FINAL_APPROVE, 11, Action.CLOSE),                       # propose the penalty → confirm it
    (Decision.FINAL_APPROVE, 7, Action.SUBMIT_REPORT),
    (Decision.FINAL_APPROVE, 10, Action.RECORD_NEGOTIATION),
    (Decision.INSTRUCT_REPORT, 8, Action.SUBMIT_REPORT),
])
def test_each_pair_refuses_the_same_person(decision, user, refused):
    assert conflicting_work(decision, user, HISTORY) is refused
    with pytest.raises(TransitionNotAllowed) as error:
        check_four_eyes(decision, user, HISTORY)
    assert error.value.message.key == "four_eyes.own_work"
    assert error.value.message.params == {"decision": decision.value, "action": refused.value}


def test_the_first_approver_may_give_the_final_decision():
    assert conflicting_work(Decision.FINAL_APPROVE, 12, HISTORY) is None
    assert Action.APPROVE not in CONFLICTS[Decision.FINAL_APPROVE]


def test_a_lead_is_refused_only_on_their_own_departments_analysis():
    assert conflicting_work(Decision.INSTRUCT_ANALYSIS, 7, HISTORY, "technical") is Action.SUBMIT_REPORT
    assert conflicting_work(Decision.INSTRUCT_ANALYSIS, 8, HISTORY, "technical") is None


def test_someone_who_did_nothing_on_the_case_may_decide_everything():
    for decision in Decision:
        check_four_eyes(decision, 99, HISTORY, "technical")
