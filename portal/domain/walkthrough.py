"""The six steps of complaint handling taught in training (受理、调查、处理、反馈、跟进、总结, 001 §2),
mapped onto the portal's process: the states each step covers, who acts, what the form needs and
which clocks run. The trainer's guided walk-through reads this table."""
from __future__ import annotations

from dataclasses import dataclass

from portal.domain.lifecycle import State
from portal.domain.roles import Role


@dataclass(frozen=True)
class Step:
    key: str                       # catalogue: walk.<key>.title / .what / .form
    states: tuple[State, ...]      # where a case stands during the step
    roles: tuple[Role, ...]        # who acts
    clocks: tuple[str, ...]        # the clocks that run (keys of the clock rows)


STEPS: tuple[Step, ...] = (
    Step("accept", (State.REGISTERED,), (Role.INTAKE, Role.GM_OFFICE),
         ("acknowledge", "customer_acknowledgement", "regulatory")),
    Step("investigate", (State.INVESTIGATING, State.AWAITING_REPORT, State.AWAITING_GM_INSTRUCTION),
         (Role.HANDLER, Role.APPROVER),
         ("initial_plan", "investigation", "investigation_report")),
    Step("handle", (State.AWAITING_CONSOLIDATION, State.AWAITING_APPROVAL), (Role.GM_OFFICE, Role.APPROVER),
         ("closure",)),
    Step("feedback", (State.NEGOTIATING, State.AWAITING_REVIEW), (Role.INTAKE, Role.INTAKE_LEAD),
         ("regulatory", "closure")),
    Step("follow_up", (State.AWAITING_CLOSURE, State.AWAITING_FINAL_APPROVAL, State.CLOSED),
         (Role.GM_OFFICE, Role.APPROVER, Role.INTAKE, Role.HANDLER),      # 运营部's quality check (issue 18)
         ("consolidation", "closure", "closure_notice")),
    Step("review", (State.ARCHIVED,), (Role.GM_OFFICE, Role.MANAGER), ()),     # the month is compiled by the 10th
)


def step_of(state: str) -> Step:
    """The training step a case in `state` is in."""
    for step in STEPS:
        if any(s.value == state for s in step.states):
            return step
    raise ValueError(f"no training step covers {state}")
