"""Deadline clocks and badges (SPEC §4).

A clock rule (a database row) names the milestone that starts it, the milestone that stops it, a
unit and a target. Badges are computed on page load from those milestones, never stored:
`evaluate` does every open case at once with numpy; `badge_one` is the same rule for one case,
written plainly, used for explanations and to check the vectorised path.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import IntEnum, StrEnum

import numpy as np
import pandas as pd

from portal.domain.calendar import CalendarDay, DayKind, WorkingCalendar, end_of_day
from portal.domain.errors import CalendarMissing


class Unit(StrEnum):
    HOURS = "hours"                  # runs on the clock
    DAYS = "days"                    # calendar days; receipt day not counted; not moved off holidays
    WORKING_DAYS = "working_days"    # official working days, make-up days included


class Milestone(StrEnum):
    """Moments in a case's life; each is a column on the complaint, set by the event that makes it."""

    RECEIVED = "received_at"
    ACCEPTED = "accepted_at"
    INITIAL_PLAN = "initial_plan_at"
    INVESTIGATION_DONE = "investigation_done_at"
    REPORTED_TO_GM = "reported_to_gm_at"
    NEGOTIATION_RETURNED = "negotiation_returned_at"
    CONSOLIDATED = "consolidated_at"
    CLOSED = "closed_at"
    MAJOR_FLAGGED = "major_flagged_at"
    MAJOR_REPORTED = "major_reported_at"
    DECISION_TOLD = "decision_told_at"
    REVIEW_REQUESTED = "review_requested_at"
    REVIEW_DECIDED = "review_decided_at"
    # contact with the customer (SPEC §11): the first contact of a step sets it (services.contacts)
    CUSTOMER_ACKNOWLEDGED = "customer_acknowledged_at"
    CLOSURE_NOTIFIED = "closure_notified_at"


# The steps a routed department itself performs (002 art.13.2-13.3): a clock that stops at one of these
# is that department's to answer for (its reminders, late-inquiries and SLA compliance); the value is the
# department's own moment for it on its routing.
DEPARTMENT_STEPS = {Milestone.INITIAL_PLAN: "initial_plan_at", Milestone.INVESTIGATION_DONE: "report_submitted_at",
                    Milestone.REPORTED_TO_GM: "report_submitted_at"}
# Whom a reminder or late-inquiry goes to (002 art.15): the departments whose own part of a step is not
# done, or was done after its due time. The case's own deadlines - the 13-day closure and the regulator's
# decision - wait on every department's report too; the GM office's own steps (确认受理, 综合意见,
# 重大上报, 月度统计) go to no department.
CHASED_DEPARTMENT_STEPS = {**DEPARTMENT_STEPS, Milestone.CLOSED: "report_submitted_at",
                           Milestone.DECISION_TOLD: "report_submitted_at"}


class Badge(IntEnum):
    NOT_STARTED = 0
    ON_TRACK = 1          # 正常
    DUE_SOON = 2          # 临期
    OVERDUE = 3           # 超期
    MET = 4               # 已达成
    MET_LATE = 5          # 超期完成
    PAUSED = 6            # 暂停
    CALENDAR_MISSING = 7  # 日历缺失


# The process line: every case passes these milestones in this order (002 art.13). A clock stops at a
# milestone that comes after its start, or it would never stop; the two side branches (a major case's
# report, a review of a decision) stop only at their own ends (and a major case also at closure).
PROCESS_LINE = (Milestone.RECEIVED, Milestone.ACCEPTED, Milestone.INITIAL_PLAN, Milestone.INVESTIGATION_DONE,
                Milestone.REPORTED_TO_GM, Milestone.DECISION_TOLD, Milestone.NEGOTIATION_RETURNED,
                Milestone.CONSOLIDATED, Milestone.CLOSED)
_BRANCHES = {Milestone.MAJOR_FLAGGED: (Milestone.MAJOR_REPORTED, Milestone.CLOSED),
             Milestone.REVIEW_REQUESTED: (Milestone.REVIEW_DECIDED,)}
# Contacts with the customer the process requires beside its line (000 §6, SPEC §11): the acknowledgement
# after receipt, the closure notice after closure. Only these ends; no process step waits for them.
CONTACT_STOPS = {Milestone.RECEIVED: (Milestone.CUSTOMER_ACKNOWLEDGED,),
                 Milestone.CLOSED: (Milestone.CLOSURE_NOTIFIED,)}
EARLIEST = datetime(2000, 1, 1)     # no case is received before 2000


def stops_after(start: Milestone) -> tuple[Milestone, ...]:
    """The milestones a clock started at `start` can stop at: those every such case reaches later."""
    if start in _BRANCHES:
        return _BRANCHES[start]
    if start in PROCESS_LINE:
        return PROCESS_LINE[PROCESS_LINE.index(start) + 1:] + CONTACT_STOPS.get(start, ())
    return ()


@dataclass(frozen=True)
class ClockRule:
    """A clock's rule as in force for the cases received from `effective_from`; `later` holds the
    versions that take over for cases received from their own `effective_from` (SPEC §8: a change
    never rewrites the deadlines of cases already running)."""

    key: str
    unit: Unit
    target: int
    start: Milestone
    stop: Milestone
    pausable: bool = False      # waiting for the customer's material stops this clock
    regulatory: bool = False    # the regulator's clock: extensions; appraisal and mediation stop it
    due_soon: float | None = None           # this clock's own 临期 fraction; None: the portal's
    effective_from: datetime = EARLIEST
    later: tuple[ClockRule, ...] = ()

    def describe_target(self) -> tuple[int, str]:
        return self.target, self.unit.value

    @property
    def versions(self) -> tuple[ClockRule, ...]:
        return (self, *self.later)

    def for_received(self, received: datetime | None) -> ClockRule:
        """The version that governs a case received at `received` (the first one when unknown)."""
        chosen = self
        for version in self.later:
            if received is not None and received >= version.effective_from:
                chosen = version
        return chosen

    def fraction(self, default: float) -> float:
        return default if self.due_soon is None else self.due_soon


_NAT = np.iinfo(np.int64).min      # datetime64's NaT, seen as int64
_S = 1_000_000_000                  # instants are int64 nanoseconds since the epoch (local time)
_DAY = 86_400 * _S


class _Columns:
    """Milestone columns as int64 nanoseconds, with their derived arrays computed once each."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self._cache: dict[tuple[str, str], np.ndarray] = {}

    def _get(self, kind: str, name: str) -> np.ndarray:
        key = (kind, name)
        if key not in self._cache:
            if kind == "ns":
                values = self.frame[name].to_numpy()
                if values.dtype != np.dtype("datetime64[ns]"):
                    values = values.astype("datetime64[ns]")
                self._cache[key] = values.view(np.int64)
            elif kind == "unset":
                self._cache[key] = self.ns(name) == _NAT
            else:
                self._cache[key] = self.ns(name) // _DAY
        return self._cache[key]

    def ns(self, name: str) -> np.ndarray:
        return self._get("ns", name)

    def unset(self, name: str) -> np.ndarray:
        return self._get("unset", name)

    def days(self, name: str) -> np.ndarray:
        return self._get("days", name)


def _due(rule: ClockRule, columns: _Columns, calendar: WorkingCalendar) -> tuple[np.ndarray, np.ndarray | None]:
    """Due instants (int64 ns) and, for working-day clocks, the calendar-missing mask."""
    name = rule.start.value
    if rule.unit is Unit.HOURS:
        return columns.ns(name) + rule.target * 3600 * _S, None
    if rule.unit is Unit.DAYS:
        return (columns.days(name) + (rule.target + 1)) * _DAY, None
    last, missing = calendar.add_working_days_many(columns.days(name), rule.target)
    return (last + 1) * _DAY, missing


def _holds(rule: ClockRule, frame: pd.DataFrame, due: np.ndarray, paused: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray]:
    """Move dues later by the time a case spent on hold (and, for the regulator's clock, its
    extensions and outside appraisal or mediation); say which clocks are stopped right now."""
    stopped = np.zeros(len(frame), bool)
    if rule.pausable:
        if "paused_seconds" in frame:
            due = due + frame["paused_seconds"].to_numpy(dtype=np.int64) * _S
        stopped = stopped | paused
    if rule.regulatory:
        if "regulatory_extension_days" in frame:
            due = due + frame["regulatory_extension_days"].to_numpy(dtype=np.int64) * _DAY
        if "outside_seconds" in frame:
            due = due + frame["outside_seconds"].to_numpy(dtype=np.int64) * _S
        if "outside" in frame:
            stopped = stopped | frame["outside"].to_numpy(dtype=bool)
    return due, stopped


def _badges(rule: ClockRule, columns: _Columns, paused: np.ndarray, now_ns: int,
            calendar: WorkingCalendar, due_soon_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Badge codes (int8) and due instants (int64 ns, `_NAT` where there is none)."""
    due, missing = _due(rule, columns, calendar)
    due, paused = _holds(rule, columns.frame, due, paused)
    starts, stops = columns.ns(rule.start.value), columns.ns(rule.stop.value)
    not_started, not_stopped = columns.unset(rule.start.value), columns.unset(rule.stop.value)
    left = due - now_ns
    if rule.unit is Unit.HOURS and not (rule.pausable or rule.regulatory):   # a constant due-soon line
        soon = left < rule.target * 3600 * _S * due_soon_fraction
    else:
        soon = left < (due - starts) * due_soon_fraction
    # Later lines win: the order is the badges' priority, lowest first.
    codes = np.where(soon, np.int8(Badge.DUE_SOON), np.int8(Badge.ON_TRACK))
    np.putmask(codes, left < 0, Badge.OVERDUE)
    np.putmask(codes, paused, Badge.PAUSED)
    np.putmask(codes, ~not_stopped, np.where(stops <= due, np.int8(Badge.MET), np.int8(Badge.MET_LATE)))
    no_due = not_started
    if missing is not None:
        np.putmask(codes, missing, Badge.CALENDAR_MISSING)
        no_due = no_due | missing
    np.putmask(codes, not_started, Badge.NOT_STARTED)
    np.putmask(due, no_due, _NAT)
    return codes, due


def _later_versions(rule: ClockRule, columns: _Columns):  # noqa: ANN202
    """Each later version of a rule with the rows it governs (received from its effective instant)."""
    if not rule.later:
        return
    received = columns.ns(Milestone.RECEIVED.value)
    for version in rule.later:
        yield version, (received != _NAT) & (received >= np.datetime64(version.effective_from, "ns").astype(np.int64))


def evaluate(rules: list[ClockRule], frame: pd.DataFrame, now: datetime, calendar: WorkingCalendar,
             due_soon_fraction: float) -> pd.DataFrame:
    """Badge and due time of every clock for every row of `frame` (milestone columns, `paused`):
    columns `<clock>_badge` (a `Badge` code) and `<clock>_due` (datetime64, NaT when none)."""
    columns = _Columns(frame)
    now_ns = int(np.datetime64(now, "ns").astype(np.int64))
    paused = frame["paused"].to_numpy(dtype=bool) if "paused" in frame else np.zeros(len(frame), bool)
    out = {}
    for rule in rules:
        codes, due = _badges(rule, columns, paused, now_ns, calendar, rule.fraction(due_soon_fraction))
        for version, takes in _later_versions(rule, columns):
            later_codes, later_due = _badges(version, columns, paused, now_ns, calendar,
                                             version.fraction(due_soon_fraction))
            codes, due = np.where(takes, later_codes, codes), np.where(takes, later_due, due)
        out[f"{rule.key}_badge"] = codes
        out[f"{rule.key}_due"] = due.view("datetime64[ns]")
    return pd.DataFrame(out, index=frame.index, copy=False)


# -- one case at a time --

@dataclass(frozen=True)
class Holds:
    """What moves one case's dues: time on hold for the customer's material (pausable clocks),
    and for the regulator's clock its extensions and outside appraisal or mediation."""

    paused: bool = False
    paused_seconds: int = 0
    outside: bool = False
    outside_seconds: int = 0
    extension_days: int = 0

    def shift(self, rule: ClockRule) -> timedelta:
        seconds = self.paused_seconds if rule.pausable else 0
        if rule.regulatory:
            seconds += self.outside_seconds + self.extension_days * 86400
        return timedelta(seconds=seconds)

    def stopped(self, rule: ClockRule) -> bool:
        return (rule.pausable and self.paused) or (rule.regulatory and self.outside)


NO_HOLDS = Holds()


def due_one(rule: ClockRule, start: datetime, calendar: WorkingCalendar, holds: Holds = NO_HOLDS) -> datetime:
    """The due instant of one clock for one case."""
    if rule.unit is Unit.HOURS:
        due = start + timedelta(hours=rule.target)
    elif rule.unit is Unit.DAYS:
        due = end_of_day(start.date() + timedelta(days=rule.target))
    else:
        due = end_of_day(calendar.add_working_days(start.date(), rule.target))
    return due + holds.shift(rule)


def badge_one(rule: ClockRule, start: datetime | None, stop: datetime | None, now: datetime,
              calendar: WorkingCalendar, due_soon_fraction: float, holds: Holds = NO_HOLDS
              ) -> tuple[Badge, datetime | None]:
    if start is None:
        return Badge.NOT_STARTED, None
    try:
        due = due_one(rule, start, calendar, holds)
    except CalendarMissing:
        return Badge.CALENDAR_MISSING, None
    if stop is not None:
        return (Badge.MET if stop <= due else Badge.MET_LATE), due
    if holds.stopped(rule):
        return Badge.PAUSED, due
    left = (due - now).total_seconds()
    if left < 0:
        return Badge.OVERDUE, due
    if left < (due - start).total_seconds() * rule.fraction(due_soon_fraction):
        return Badge.DUE_SOON, due
    return Badge.ON_TRACK, due


@dataclass(frozen=True)
class Explanation:
    """Why a due time is what it is: the days passed over and the make-up days that counted."""

    unit: Unit
    target: int
    start: datetime
    due: datetime | None
    skipped: tuple[CalendarDay, ...] = ()      # weekends and holidays not counted
    makeup: tuple[CalendarDay, ...] = ()       # weekend days worked in exchange, counted
    holidays_inside: tuple[CalendarDay, ...] = ()  # calendar-day clocks: holidays that still count
    missing_year: int | None = None
    shifted: timedelta = timedelta(0)               # moved later by holds, extensions, appraisal


def explain(unit: Unit, target: int, start: datetime, calendar: WorkingCalendar) -> Explanation:
    rule = ClockRule("explain", unit, target, Milestone.RECEIVED, Milestone.ACCEPTED)
    try:
        due = due_one(rule, start, calendar)
    except CalendarMissing as missing:
        return Explanation(unit, target, start, None, missing_year=missing.year)
    if unit is Unit.HOURS:
        return Explanation(unit, target, start, due)
    last: date = due.date() - timedelta(days=1)
    if unit is Unit.DAYS:
        inside = tuple(d for d in _known_days(calendar, start.date(), last) if not d.is_working)
        return Explanation(unit, target, start, due, holidays_inside=inside)
    days = calendar.walk(start.date(), last)
    return Explanation(
        unit, target, start, due,
        skipped=tuple(d for d in days if not d.is_working),
        makeup=tuple(d for d in days if d.kind is DayKind.MAKEUP),
    )


def _known_days(calendar: WorkingCalendar, start: date, last: date) -> list[CalendarDay]:
    out, day = [], start
    while day < last:
        day += timedelta(days=1)
        info = calendar.get(day)
        if info is not None:
            out.append(info)
    return out


# -- the stored form: what filters and statistics read (SPEC §4, issue: badges as SQL conditions) --

@dataclass(frozen=True)
class ClockState:
    """One rule's stored columns for every row of a frame (numpy arrays, aligned with the frame).

    `due` and `soon` are int64 ns (`NAT` where none); the badge a page shows follows from them and
    `now`: overdue when running, not paused and due < now; due soon when soon ≤ now ≤ due."""

    key: str
    started: np.ndarray      # bool: the clock has a start
    start: np.ndarray        # int64 ns
    due: np.ndarray          # int64 ns, NAT when the calendar is missing
    soon: np.ndarray         # int64 ns, NAT when there is no due
    stop: np.ndarray         # int64 ns, NAT while running
    paused: np.ndarray       # bool: stopped right now by a hold or an outside process
    late: np.ndarray         # bool: stopped after its due (meaningful where stopped and due known)
    missing: np.ndarray      # bool: calendar missing


NAT = _NAT


def clock_states(rules: list[ClockRule], frame: pd.DataFrame, calendar: WorkingCalendar,
                 due_soon_fraction: float) -> list[ClockState]:
    """Due, due-soon and stop instants of every clock for every row: the same arithmetic as
    `evaluate`, without `now`, so the result can be stored and compared with `now` in SQL."""
    columns = _Columns(frame)
    paused_now = frame["paused"].to_numpy(dtype=bool) if "paused" in frame else np.zeros(len(frame), bool)
    out = []
    for rule in rules:
        state = _state(rule, columns, calendar, paused_now, rule.fraction(due_soon_fraction))
        for version, takes in _later_versions(rule, columns):
            later = _state(version, columns, calendar, paused_now, version.fraction(due_soon_fraction))
            state = ClockState(rule.key, *(np.where(takes, getattr(later, f), getattr(state, f))
                                           for f in _STATE_ARRAYS))
        out.append(state)
    return out


_STATE_ARRAYS = ("started", "start", "due", "soon", "stop", "paused", "late", "missing")


def _state(rule: ClockRule, columns: _Columns, calendar: WorkingCalendar, paused_now: np.ndarray,
           fraction: float) -> ClockState:
    due, missing = _due(rule, columns, calendar)
    due, paused = _holds(rule, columns.frame, due, paused_now)
    starts, stops = columns.ns(rule.start.value), columns.ns(rule.stop.value)
    if rule.unit is Unit.HOURS and not (rule.pausable or rule.regulatory):
        soon = due - int(rule.target * 3600 * _S * fraction)
    else:
        soon = due - ((due - starts) * fraction).astype(np.int64)
    missing = np.zeros(len(columns.frame), bool) if missing is None else missing
    started = ~columns.unset(rule.start.value)
    stopped = ~columns.unset(rule.stop.value)
    due = np.where(missing, _NAT, due)
    soon = np.where(missing, _NAT, soon)
    return ClockState(rule.key, started, starts, due, soon, stops, paused & ~stopped,
                      stopped & ~missing & (stops > due), missing)
