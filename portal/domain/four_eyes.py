"""Four eyes (四眼原则, SPEC §3): nobody reviews, instructs, approves, confirms or closes their own work
on a case. The table says, for each decision, whose earlier work on the same case rules a person out;
the approver of the first 核决 may give the final one too (002 art.13.5 routes both by authority), but
never one who wrote a department report or an opinion the decision weighs. Staff the complaint names
are recused from everything (portal/domain/recusal.py)."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Iterable

from portal.domain.errors import TransitionNotAllowed
from portal.domain.lifecycle import Action, State


class Decision(StrEnum):
    REVIEW_NEGOTIATION = "review_negotiation"    # 市场部主管 核阅 (art.13.4)
    INSTRUCT_ANALYSIS = "instruct_analysis"      # a department lead's 批示 (art.13.3)
    INSTRUCT_REPORT = "instruct_report"          # the GM's 批示 on the investigation report (art.13.2)
    APPROVE = "approve"                          # the first 核决 (art.13.3)
    FINAL_APPROVE = "final_approve"              # the final 核决 and the penalty confirmation (art.13.5-13.7)


A = Action
# Whoever did one of these on the case may not take the decision. `SUBMIT_REPORT` for the analysis
# instruction counts only the report of the department being instructed (see `conflicting_work`).
CONFLICTS: dict[Decision, frozenset[Action]] = {
    Decision.REVIEW_NEGOTIATION: frozenset({A.RECORD_NEGOTIATION}),
    Decision.INSTRUCT_ANALYSIS: frozenset({A.SUBMIT_REPORT}),
    Decision.INSTRUCT_REPORT: frozenset({A.SUBMIT_REPORT, A.REPORT_TO_GM}),
    Decision.APPROVE: frozenset({A.SUBMIT_REPORT, A.REPORT_TO_GM, A.CONSOLIDATE}),
    Decision.FINAL_APPROVE: frozenset({A.SUBMIT_REPORT, A.REPORT_TO_GM, A.CONSOLIDATE, A.RECORD_NEGOTIATION,
                                       A.CLOSE}),
}

# The decision a case waits for in each state (the 无可处理人 check looks at these).
WAITING_DECISION: dict[State, Decision] = {
    State.AWAITING_REVIEW: Decision.REVIEW_NEGOTIATION,
    State.AWAITING_GM_INSTRUCTION: Decision.INSTRUCT_REPORT,
    State.AWAITING_APPROVAL: Decision.APPROVE,
    State.AWAITING_FINAL_APPROVAL: Decision.FINAL_APPROVE,
}


@dataclass(frozen=True)
class Work:
    """One earlier act on the case: who did it, and for a department report, which department's."""
    action: str
    actor_id: int | None
    department: str | None = None


def conflicting_work(decision: Decision, user_id: int, history: Iterable[Work],
                     department: str | None = None) -> Action | None:
    """The first earlier act of `user_id` that rules them out of `decision`, or None."""
    for work in history:
        if work.actor_id != user_id or work.action not in CONFLICTS[decision]:
            continue
        if decision is Decision.INSTRUCT_ANALYSIS and work.department != department:
            continue
        return Action(work.action)
    return None


def check_four_eyes(decision: Decision, user_id: int, history: Iterable[Work],
                    department: str | None = None) -> None:
    own = conflicting_work(decision, user_id, history, department)
    if own is not None:
        raise TransitionNotAllowed("four_eyes.own_work", decision=decision.value, action=own.value)
