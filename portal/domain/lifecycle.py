"""The complaint lifecycle (SPEC §3, 002 art.13) as a table: state, action, next state, who may fire it.

Services ask `authorize(action, state, roles)` before changing anything; the table is the single
place that says, for example, that only the GM office accepts a case waiting in its queue.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Iterable

from portal.domain.errors import TransitionNotAllowed
from portal.domain.roles import Role


class State(StrEnum):
    REGISTERED = "registered"                         # 待受理
    INVESTIGATING = "investigating"                   # 调查中
    AWAITING_REPORT = "awaiting_report"               # 待呈报: investigation done, report to the GM (art.13.2)
    AWAITING_GM_INSTRUCTION = "awaiting_gm_instruction"  # 待总经理批示: the report awaits the GM's 批示 (art.13.2)
    AWAITING_CONSOLIDATION = "awaiting_consolidation" # 待汇总
    AWAITING_APPROVAL = "awaiting_approval"           # 待核决
    NEGOTIATING = "negotiating"                       # 待交涉
    AWAITING_REVIEW = "awaiting_review"               # 待核阅 (supervisor review of the negotiation)
    AWAITING_CLOSURE = "awaiting_closure"             # 待综合意见: the GM office's final opinion (art.13.5)
    # 待最终核决: the approver's final 核决, penalties confirmed in it (art.13.5-13.7). The stored value is the
    # old flow's (where this step confirmed penalties only), so cases open at the change went on from it.
    AWAITING_FINAL_APPROVAL = "awaiting_penalty"
    CLOSED = "closed"                                 # 已结案
    ARCHIVED = "archived"                             # 已归档


OPEN_STATES: frozenset[State] = frozenset(State) - {State.CLOSED, State.ARCHIVED}


class Action(StrEnum):
    REGISTER = "register"
    ACCEPT = "accept"
    REPORT_MAJOR = "report_major"
    RECORD_INITIAL_PLAN = "record_initial_plan"
    REQUEST_TECHNICAL_ANALYSIS = "request_technical_analysis"
    SUBMIT_REPORT = "submit_report"
    REPORT_TO_GM = "report_to_gm"
    INSTRUCT_REPORT = "instruct_report"          # the GM's 批示 on the investigation report (art.13.2)
    INSTRUCT_ANALYSIS = "instruct_analysis"      # a department lead's 批示 on its analysis (art.13.3)
    CONSOLIDATE = "consolidate"
    APPROVE = "approve"
    SEND_BACK = "send_back"
    RECORD_NEGOTIATION = "record_negotiation"
    REVIEW_NEGOTIATION = "review_negotiation"
    RETURN_NEGOTIATION = "return_negotiation"
    CLOSE = "close"                              # the GM office's final consolidated opinion (art.13.5-13.6)
    FINAL_APPROVE = "final_approve"              # 最终核决: 经核签结案 (art.13.5, 13.7)
    RETURN_FINAL = "return_final"                # the final opinion returned with a reason
    CONFIRM_PENALTY = "confirm_penalty"          # old flow only (history): penalties confirmed, case closed
    RETURN_PENALTY = "return_penalty"            # old flow only (history)
    REFER_SANCTION = "refer_sanction"            # an administrative sanction referred (行政处理原则, art.13.6)
    RECORD_SANCTION_OUTCOME = "record_sanction_outcome"
    RECORD_FOLLOW_UP = "record_follow_up"
    RESOLVE_FOLLOW_UP = "resolve_follow_up"
    HOLD = "hold"
    RESUME = "resume"
    FILE_PETITION = "file_petition"
    ANSWER_PETITION = "answer_petition"
    MARK_OTHER_COMPANY = "mark_other_company"
    EXTEND_REGULATORY = "extend_regulatory"
    START_OUTSIDE = "start_outside"          # appraisal or mediation outside the company (art. 23)
    END_OUTSIDE = "end_outside"
    REQUEST_REVIEW = "request_review"        # 核查 (art. 20)
    DECIDE_REVIEW = "decide_review"
    ADD_RECTIFICATION = "add_rectification"
    UPDATE_RECTIFICATION = "update_rectification"
    # closing the loop (issue 18)
    CONFIRM_EFFECT = "confirm_effect"            # the GM office's 效果确认 of a completed rectification
    SCHEDULE_FOLLOW_UP = "schedule_follow_up"    # another follow-up by a date (e.g. 30 days after a dissatisfied one)
    ACT_ON_FOLLOW_UP = "act_on_follow_up"        # a responsible department records what it did about one
    RECORD_REMEDY = "record_remedy"              # the remedy agreed with the customer carried out (004 §5.1.5)
    QUALITY_CHECK = "quality_check"              # 运营部's 检验确认 before archive (002 art.11.2(3))
    ARCHIVE = "archive"                          # the GM office writes the 总结 and archives (001 总结)


@dataclass(frozen=True)
class Transition:
    action: Action
    source: State | None          # None: the action creates the case
    target: State
    roles: frozenset[Role]
    note: str = ""                # when an action has two targets, what decides


def _t(action: Action, source: State | None, target: State, *roles: Role, note: str = "") -> Transition:
    return Transition(action, source, target, frozenset(roles), note)


S, A, R = State, Action, Role
_INTAKE = (R.INTAKE, R.INTAKE_LEAD)
_HOLDABLE = (S.INVESTIGATING, S.AWAITING_REPORT, S.AWAITING_GM_INSTRUCTION, S.AWAITING_CONSOLIDATION,
             S.NEGOTIATING)

TRANSITIONS: tuple[Transition, ...] = (
    _t(A.REGISTER, None, S.REGISTERED, *_INTAKE),
    _t(A.ACCEPT, S.REGISTERED, S.INVESTIGATING, R.GM_OFFICE),
    *(_t(A.REPORT_MAJOR, s, s, R.GM_OFFICE) for s in sorted(OPEN_STATES)),
    _t(A.RECORD_INITIAL_PLAN, S.INVESTIGATING, S.INVESTIGATING, R.HANDLER),
    # The GM office, not a department, sends a case to 技术部 (art.13.3); after the reports are in, the
    # case goes back to investigation until 技术部 has reported too.
    *(_t(A.REQUEST_TECHNICAL_ANALYSIS, s, S.INVESTIGATING, R.GM_OFFICE)
      for s in (S.INVESTIGATING, S.AWAITING_REPORT, S.AWAITING_GM_INSTRUCTION, S.AWAITING_CONSOLIDATION)),
    _t(A.SUBMIT_REPORT, S.INVESTIGATING, S.INVESTIGATING, R.HANDLER,
       note="other routed departments have not reported yet"),
    _t(A.SUBMIT_REPORT, S.INVESTIGATING, S.AWAITING_REPORT, R.HANDLER,
       note="the last routed department reports"),
    _t(A.REPORT_TO_GM, S.AWAITING_REPORT, S.AWAITING_GM_INSTRUCTION, R.HANDLER,
       note="the general manager instructs the report (the default)"),
    _t(A.REPORT_TO_GM, S.AWAITING_REPORT, S.AWAITING_CONSOLIDATION, R.HANDLER,
       note="an administrator switched the GM's instruction off (setting process.gm_instructs_report)"),
    _t(A.INSTRUCT_REPORT, S.AWAITING_GM_INSTRUCTION, S.AWAITING_CONSOLIDATION, R.APPROVER),
    *(_t(A.INSTRUCT_ANALYSIS, s, s, R.DEPT_LEAD) for s in (S.INVESTIGATING, S.AWAITING_REPORT,
                                                          S.AWAITING_GM_INSTRUCTION, S.AWAITING_CONSOLIDATION)),
    _t(A.CONSOLIDATE, S.AWAITING_CONSOLIDATION, S.AWAITING_APPROVAL, R.GM_OFFICE),
    _t(A.APPROVE, S.AWAITING_APPROVAL, S.NEGOTIATING, R.APPROVER),
    _t(A.SEND_BACK, S.AWAITING_APPROVAL, S.AWAITING_CONSOLIDATION, R.APPROVER),
    _t(A.RECORD_NEGOTIATION, S.NEGOTIATING, S.AWAITING_REVIEW, *_INTAKE),
    _t(A.REVIEW_NEGOTIATION, S.AWAITING_REVIEW, S.AWAITING_CLOSURE, R.INTAKE_LEAD),
    _t(A.RETURN_NEGOTIATION, S.AWAITING_REVIEW, S.NEGOTIATING, R.INTAKE_LEAD),
    # Every case, with or without a penalty, is closed only by the final 核决 (002 art.13.5, 13.7).
    _t(A.CLOSE, S.AWAITING_CLOSURE, S.AWAITING_FINAL_APPROVAL, R.GM_OFFICE),
    _t(A.FINAL_APPROVE, S.AWAITING_FINAL_APPROVAL, S.CLOSED, R.APPROVER),
    _t(A.RETURN_FINAL, S.AWAITING_FINAL_APPROVAL, S.AWAITING_CLOSURE, R.APPROVER),
    *(_t(A.REFER_SANCTION, s, s, R.GM_OFFICE) for s in (S.CLOSED, S.ARCHIVED)),
    *(_t(A.RECORD_SANCTION_OUTCOME, s, s, R.GM_OFFICE) for s in (S.CLOSED, S.ARCHIVED)),
    # A follow-up no longer archives (issue 18): a dissatisfied one opens a GM-office task and goes to the
    # responsible departments; the case is archived by the GM office's 总结 once everything before it is done
    # (`domain.closing.archive_blockers`).
    _t(A.RECORD_FOLLOW_UP, S.CLOSED, S.CLOSED, *_INTAKE),
    _t(A.RESOLVE_FOLLOW_UP, S.CLOSED, S.CLOSED, R.GM_OFFICE),
    _t(A.SCHEDULE_FOLLOW_UP, S.CLOSED, S.CLOSED, R.GM_OFFICE, *_INTAKE),
    *(_t(A.ACT_ON_FOLLOW_UP, s, s, R.HANDLER) for s in (S.CLOSED, S.ARCHIVED)),
    _t(A.RECORD_REMEDY, S.CLOSED, S.CLOSED, R.GM_OFFICE, *_INTAKE),
    _t(A.QUALITY_CHECK, S.CLOSED, S.CLOSED, R.HANDLER),
    _t(A.ARCHIVE, S.CLOSED, S.ARCHIVED, R.GM_OFFICE),
    *(_t(A.HOLD, s, s, R.GM_OFFICE, *_INTAKE) for s in _HOLDABLE),
    *(_t(A.RESUME, s, s, R.GM_OFFICE, *_INTAKE) for s in _HOLDABLE),
    # 签呈 (002 art.13.12): any department involved, 市场部 included, at any stage after acceptance; the GM
    # office answers it (which departments are involved: services.followthrough.file_petition)
    *(_t(A.FILE_PETITION, s, s, R.HANDLER, *_INTAKE) for s in State if s is not S.REGISTERED),
    *(_t(A.ANSWER_PETITION, s, s, R.GM_OFFICE) for s in State if s is not S.REGISTERED),
    *(_t(A.MARK_OTHER_COMPANY, s, s, R.GM_OFFICE) for s in sorted(OPEN_STATES)),
    *(_t(A.EXTEND_REGULATORY, s, s, R.APPROVER) for s in sorted(OPEN_STATES)),
    *(_t(A.START_OUTSIDE, s, s, R.GM_OFFICE) for s in sorted(OPEN_STATES)),
    *(_t(A.END_OUTSIDE, s, s, R.GM_OFFICE) for s in sorted(OPEN_STATES)),
    *(_t(A.REQUEST_REVIEW, s, s, *_INTAKE) for s in (S.AWAITING_REVIEW, S.AWAITING_CLOSURE, S.AWAITING_FINAL_APPROVAL,
                                                      S.CLOSED, S.ARCHIVED)),
    *(_t(A.DECIDE_REVIEW, s, s, R.GM_OFFICE) for s in (S.AWAITING_REVIEW, S.AWAITING_CLOSURE, S.AWAITING_FINAL_APPROVAL,
                                                        S.CLOSED, S.ARCHIVED)),
    *(_t(A.ADD_RECTIFICATION, s, s, R.GM_OFFICE) for s in (S.AWAITING_REPORT, S.AWAITING_GM_INSTRUCTION,
                                                            S.AWAITING_CONSOLIDATION,
                                                            S.AWAITING_APPROVAL, S.NEGOTIATING, S.AWAITING_REVIEW,
                                                            S.AWAITING_CLOSURE, S.AWAITING_FINAL_APPROVAL, S.CLOSED,
                                                            S.ARCHIVED)),
    *(_t(A.UPDATE_RECTIFICATION, s, s, R.GM_OFFICE, R.HANDLER) for s in State),
    *(_t(A.CONFIRM_EFFECT, s, s, R.GM_OFFICE) for s in State),
)


def transitions_for(action: Action, state: State | None) -> list[Transition]:
    return [t for t in TRANSITIONS if t.action == action and t.source == state]


def authorize(action: Action, state: State | None, roles: Iterable[Role]) -> list[Transition]:
    """Return the transitions `action` may take from `state` for a user with `roles`, or refuse.

    The state is checked first: a clerk told "this case is already accepted" learns more than
    one told "you may not accept".
    """
    candidates = transitions_for(action, state)
    if not candidates:
        raise TransitionNotAllowed(
            "lifecycle.not_in_state", action=action.value, state=state.value if state else "")
    role_set = frozenset(roles)
    allowed = [t for t in candidates if t.roles & role_set]
    if not allowed:
        raise TransitionNotAllowed("lifecycle.not_your_role", action=action.value)
    return allowed


def next_state(action: Action, state: State | None, roles: Iterable[Role]) -> State:
    """The single target of an action that has one; actions with two targets choose in the service."""
    targets = {t.target for t in authorize(action, state, roles)}
    if len(targets) != 1:
        raise ValueError(f"{action} from {state} has several targets; the service must choose")
    return targets.pop()


def after_follow_up(dissatisfied: bool) -> State:
    """A follow-up leaves the case closed either way: archiving is its own step (issue 18)."""
    return State.CLOSED


def after_report(remaining_departments: int) -> State:
    """A case routed to several departments waits for all of them (SPEC §3); then the investigation
    report goes to the GM office as its own step (002 art.13.2)."""
    return State.INVESTIGATING if remaining_departments > 0 else State.AWAITING_REPORT


def after_gm_report(gm_instructs: bool) -> State:
    """The 3-day investigation report goes to the general manager for 批示 (002 art.13.2) unless an
    administrator switched that off; the GM office consolidates once it is written."""
    return State.AWAITING_GM_INSTRUCTION if gm_instructs else State.AWAITING_CONSOLIDATION
