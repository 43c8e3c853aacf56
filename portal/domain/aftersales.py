"""The after-sales service desk (售后服务, 002 ch.2): what a request is, its numbers and states, the
preliminary check of a claim report against the policy register (4.(二)4), scene preservation (4.(二)5),
the major-claim criteria (4.(二)6), the materials rule of a claim application (4.(四)2) and the clocks of
the desk (the hand-over to the insurer within 3 working days, 4.(五)). Plain functions and tables: the
lists, limits and targets themselves are rows an administrator edits."""
from __future__ import annotations

import calendar as _months
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from portal.domain.calendar import WorkingCalendar
from portal.domain.clocks import Badge, ClockRule, Milestone, Unit, badge_one, due_one


class RequestKind(StrEnum):
    CLAIM_REPORT = "claim_report"              # 报案
    CLAIM_APPLICATION = "claim_application"    # 理赔申请
    SURRENDER = "surrender"                    # 退保
    ENDORSEMENT = "endorsement"                # 批改


# Each kind has its own series of numbers: a prefix, the month it was registered, a monthly serial.
NUMBER_PREFIX = {RequestKind.CLAIM_REPORT: "BA", RequestKind.CLAIM_APPLICATION: "LP",
                 RequestKind.SURRENDER: "TB", RequestKind.ENDORSEMENT: "PG"}
REQUEST_NUMBER = re.compile(r"^(BA|LP|TB|PG)(\d{2})(0[1-9]|1[0-2])-(\d{4,})$")


def number_period(kind: RequestKind | str, registered_at: datetime) -> str:
    """The counter a request registered at this local time draws its serial from: prefix + YYMM."""
    return f"{NUMBER_PREFIX[RequestKind(kind)]}{registered_at:%y%m}"


def format_request_number(period: str, serial: int) -> str:
    if not re.fullmatch(r"(BA|LP|TB|PG)\d{2}(0[1-9]|1[0-2])", period):
        raise ValueError(f"bad request numbering period {period!r}")
    if serial < 1:
        raise ValueError("serials start at 1")
    return f"{period}-{serial:04d}"


class RequestState(StrEnum):
    RECEIVED = "received"          # registered; a report awaits the clerk's decision on its check
    REFUSED = "refused"            # 不予受理: the report failed the preliminary check, the customer told in writing
    REPORTED = "reported"          # the report is in hand (passed the check, or overridden with a reason)
    INCOMPLETE = "incomplete"      # an application waiting for materials: not yet accepted
    COMPLETE = "complete"          # accepted with every material: 运营部 hands it over within 3 working days
    HANDED_OVER = "handed_over"    # with the insurer, awaiting its decision
    DECIDED = "decided"            # the insurer's decision recorded and told to the customer
    GUIDED = "guided"              # surrender / endorsement: the customer guided, the form prepared
    DONE = "done"                  # surrender / endorsement finished


FIRST_STATE = {RequestKind.CLAIM_REPORT: RequestState.RECEIVED, RequestKind.SURRENDER: RequestState.RECEIVED,
               RequestKind.ENDORSEMENT: RequestState.RECEIVED}
# what each use case may move, by kind: (from states) → to state
TRANSITIONS: dict[str, tuple[RequestKind, frozenset[RequestState], RequestState]] = {
    "refuse_report": (RequestKind.CLAIM_REPORT, frozenset({RequestState.RECEIVED}), RequestState.REFUSED),
    "accept_report": (RequestKind.CLAIM_REPORT, frozenset({RequestState.RECEIVED}), RequestState.REPORTED),
    "complete_application": (RequestKind.CLAIM_APPLICATION, frozenset({RequestState.INCOMPLETE}),
                             RequestState.COMPLETE),
    "hand_over": (RequestKind.CLAIM_APPLICATION, frozenset({RequestState.COMPLETE}), RequestState.HANDED_OVER),
    "record_decision": (RequestKind.CLAIM_APPLICATION, frozenset({RequestState.HANDED_OVER}), RequestState.DECIDED),
    "guide_surrender": (RequestKind.SURRENDER, frozenset({RequestState.RECEIVED}), RequestState.GUIDED),
    "finish_surrender": (RequestKind.SURRENDER, frozenset({RequestState.GUIDED}), RequestState.DONE),
    "guide_endorsement": (RequestKind.ENDORSEMENT, frozenset({RequestState.RECEIVED}), RequestState.GUIDED),
    "finish_endorsement": (RequestKind.ENDORSEMENT, frozenset({RequestState.GUIDED}), RequestState.DONE),
}
OPEN_STATES = frozenset({RequestState.RECEIVED, RequestState.REPORTED, RequestState.INCOMPLETE,
                         RequestState.COMPLETE, RequestState.HANDED_OVER, RequestState.GUIDED})
STATES_OF_KIND = {
    RequestKind.CLAIM_REPORT: (RequestState.RECEIVED, RequestState.REPORTED, RequestState.REFUSED),
    RequestKind.CLAIM_APPLICATION: (RequestState.INCOMPLETE, RequestState.COMPLETE, RequestState.HANDED_OVER,
                                    RequestState.DECIDED),
    RequestKind.SURRENDER: (RequestState.RECEIVED, RequestState.GUIDED, RequestState.DONE),
    RequestKind.ENDORSEMENT: (RequestState.RECEIVED, RequestState.GUIDED, RequestState.DONE),
}


class TransitionRefused(ValueError):
    """A use case asked of a request of another kind or in another state."""

    def __init__(self, action: str, kind: str, state: str) -> None:
        super().__init__(f"{action} is not possible on a {kind} in state {state}")
        self.action, self.kind, self.state = action, kind, state


def next_state(action: str, kind: RequestKind | str, state: RequestState | str) -> RequestState:
    wanted_kind, sources, target = TRANSITIONS[action]
    if RequestKind(kind) is not wanted_kind or RequestState(state) not in sources:
        raise TransitionRefused(action, str(kind), str(state))
    return target


# -- the policy register's two rules: the period covered and the claim time limit --------------------


class LimitUnit(StrEnum):
    DAYS = "days"
    YEARS = "years"


@dataclass(frozen=True)
class ClaimLimit:
    """申请时效: a number of days or years from the event date; the last day is included."""

    amount: int
    unit: LimitUnit

    def last_day(self, event_day: date) -> date:
        """The last day a claim may still be made: the period starts the day after the event (its day is
        not counted) and ends on the day with the event's date `amount` days or years later; a year period
        from 29 February ends on the last day of February."""
        if self.unit is LimitUnit.DAYS:
            return event_day + timedelta(days=self.amount)
        year = event_day.year + self.amount
        return date(year, event_day.month, min(event_day.day, _months.monthrange(year, event_day.month)[1]))


@dataclass(frozen=True)
class PolicyTerms:
    """What the preliminary check needs of a policy: the days it covers (from 00:00 of the first to 24:00
    of the last), the risk codes it covers, and its product's claim time limit (None: none set)."""

    start: date
    end: date
    covered: frozenset[str]
    limit: ClaimLimit | None = None


class CheckFailure(StrEnum):
    OUTSIDE_PERIOD = "outside_period"      # the event is not inside the policy's period (lapsed, not begun)
    NOT_COVERED = "not_covered"            # the cause is not among the covered risks
    TIME_LIMIT = "time_limit"              # reported after the claim time limit's last day
    NO_POLICY = "no_policy"                # no policy of ours: check whether the person is insured with us


@dataclass(frozen=True)
class CheckResult:
    failures: tuple[CheckFailure, ...]
    period: tuple[date, date] | None = None
    last_claim_day: date | None = None

    @property
    def passed(self) -> bool:
        return not self.failures


def preliminary_check(terms: PolicyTerms | None, *, event_at: datetime, cause: str, reported_at: datetime
                      ) -> CheckResult:
    """信息初步审核 (4.(二)4): the event inside the policy period, its cause among the covered risks, the
    report within the claim time limit. Every failure is listed (each is a reason in the refusal)."""
    if terms is None:
        return CheckResult((CheckFailure.NO_POLICY,))
    failures = []
    if not terms.start <= event_at.date() <= terms.end:
        failures.append(CheckFailure.OUTSIDE_PERIOD)
    if cause not in terms.covered:
        failures.append(CheckFailure.NOT_COVERED)
    last = terms.limit.last_day(event_at.date()) if terms.limit is not None else None
    if last is not None and reported_at.date() > last:
        failures.append(CheckFailure.TIME_LIMIT)
    return CheckResult(tuple(failures), (terms.start, terms.end), last)


def needs_scene_preservation(*, cause: str, event_at: datetime, reported_at: datetime,
                             scene_risks: Iterable[str], within_hours: int) -> bool:
    """现场保全 (4.(二)5): a cause whose scene is kept (e.g. an accidental death), reported promptly (within
    the configured hours of the event): the reporter is told to preserve the scene, the insurer to survey."""
    return cause in set(scene_risks) and timedelta(0) <= reported_at - event_at <= timedelta(hours=within_hours)


# -- the major claim (4.(二)6) -----------------------------------------------------------------------

DISPUTE_BODIES = ("regulator", "association", "media")      # 主管机关, 同业公会, 媒体


@dataclass(frozen=True)
class MajorClaimFacts:
    deaths: int = 0
    estimated_amount: Decimal | None = None
    sum_insured: Decimal | None = None
    outcome_uncertain: bool = False
    disputes: frozenset[str] = field(default_factory=frozenset)     # bodies the dispute was taken to
    litigation: bool = False                                         # likely or started


class MajorReason(StrEnum):
    DEATHS = "deaths"              # two or more deaths in one accident
    AMOUNT = "amount"              # estimated claim over the threshold
    SUM_UNCERTAIN = "sum_uncertain"   # sum insured over the threshold and the outcome not yet known
    DISPUTE = "dispute"            # taken to the regulator, the 同业公会 or the media
    LITIGATION = "litigation"


def major_claim_reasons(facts: MajorClaimFacts, threshold: Decimal) -> list[MajorReason]:
    """Why a claim report is a major claim, to be reported to headquarters within 24 hours; empty: it is
    not. The seed's second criterion has two halves: an estimated claim over the threshold is major by
    itself; a sum insured over it only when the outcome of the accident cannot yet be told."""
    reasons = []
    if facts.deaths >= 2:
        reasons.append(MajorReason.DEATHS)
    if facts.estimated_amount is not None and facts.estimated_amount > threshold:
        reasons.append(MajorReason.AMOUNT)
    if facts.sum_insured is not None and facts.sum_insured > threshold and facts.outcome_uncertain:
        reasons.append(MajorReason.SUM_UNCERTAIN)
    if facts.disputes & set(DISPUTE_BODIES):
        reasons.append(MajorReason.DISPUTE)
    if facts.litigation:
        reasons.append(MajorReason.LITIGATION)
    return reasons


# -- the materials of a claim application (4.(四)2) ---------------------------------------------------

BASIC_KIND = "basic"    # the basic documents every application needs


def required_materials(checklists: Mapping[str, Sequence[str]], claim_kinds: Iterable[str]) -> list[str]:
    """The checklist of an application: the basic documents, then each kind's own items, each once, in
    the configured order."""
    out: list[str] = []
    for kind in (BASIC_KIND, *[k for k in checklists if k != BASIC_KIND and k in set(claim_kinds)]):
        out.extend(item for item in checklists.get(kind, ()) if item not in out)
    return out


def missing_materials(required: Sequence[str], received: Iterable[str]) -> list[str]:
    """What the customer still has to bring, in checklist order: an application with any is not accepted."""
    have = set(received)
    return [item for item in required if item not in have]


# -- the desk's clocks ------------------------------------------------------------------------------

class DeskClock(StrEnum):
    HANDOVER = "handover"              # complete materials handed to the insurer (4.(五): 3 working days)
    MAJOR_REPORT = "major_report"      # a major claim reported to headquarters (4.(二)6: 24 hours)
    SURRENDER = "surrender"            # a surrender request finished
    ENDORSEMENT = "endorsement"        # an endorsement request finished


@dataclass(frozen=True)
class DeskClockRule:
    key: DeskClock
    unit: Unit
    target: int

    def as_clock(self) -> ClockRule:
        # the milestones only name columns of complaints; a desk clock is started and stopped by its request
        return ClockRule(self.key.value, self.unit, self.target, Milestone.RECEIVED, Milestone.CLOSED)


def desk_due(rule: DeskClockRule, start: datetime, calendar: WorkingCalendar) -> datetime:
    """When the clock started at `start` falls due (a working-day target ends at the end of its last day;
    the start day is not counted). Raises CalendarMissing when the calendar lacks a day it needs."""
    return due_one(rule.as_clock(), start, calendar)


def desk_soon(start: datetime, due: datetime, fraction: float) -> datetime:
    """From when the clock is 临期: the last `fraction` of its span."""
    return due - (due - start) * fraction


def desk_badge(rule: DeskClockRule, start: datetime | None, stop: datetime | None, now: datetime,
               calendar: WorkingCalendar, fraction: float) -> tuple[Badge, datetime | None]:
    return badge_one(rule.as_clock(), start, stop, now, calendar, fraction)
