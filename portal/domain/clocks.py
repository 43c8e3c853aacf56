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


class Badge(IntEnum):
    NOT_STARTED = 0
    ON_TRACK = 1          # 正常
    DUE_SOON = 2          # 临期
    OVERDUE = 3           # 超期
    MET = 4               # 已达成
    MET_LATE = 5          # 超期完成
    PAUSED = 6            # 暂停
    CALENDAR_MISSING = 7  # 日历缺失


@dataclass(frozen=True)
class ClockRule:
    key: str
    unit: Unit
    target: int
    start: Milestone
    stop: Milestone

    def describe_target(self) -> tuple[int, str]:
        return self.target, self.unit.value


_NAT = np.datetime64("NaT", "s")


def due_many(rule: ClockRule, starts: np.ndarray, calendar: WorkingCalendar) -> tuple[np.ndarray, np.ndarray]:
    """Due instants (datetime64[s]) for many starts, and the mask of those the calendar cannot give."""
    starts = starts.astype("datetime64[s]")
    if rule.unit is Unit.HOURS:
        return starts + np.timedelta64(rule.target * 3600, "s"), np.zeros(starts.shape, bool)
    if rule.unit is Unit.DAYS:
        last = starts.astype("datetime64[D]") + np.timedelta64(rule.target, "D")
        return (last + np.timedelta64(1, "D")).astype("datetime64[s]"), np.zeros(starts.shape, bool)
    last, missing = calendar.add_working_days_many(starts, rule.target)
    due = (last + np.timedelta64(1, "D")).astype("datetime64[s]")
    return np.where(missing, _NAT, due), missing & ~np.isnat(starts)


def badges_many(rule: ClockRule, starts: np.ndarray, stops: np.ndarray, paused: np.ndarray,
                now: datetime, calendar: WorkingCalendar, due_soon_fraction: float
                ) -> tuple[np.ndarray, np.ndarray]:
    starts = starts.astype("datetime64[s]")
    stops = stops.astype("datetime64[s]")
    due, missing = due_many(rule, starts, calendar)
    now64 = np.datetime64(now, "s")
    started = ~np.isnat(starts)
    stopped = ~np.isnat(stops)
    window = (due - starts).astype("int64")
    left = (due - now64).astype("int64")
    codes = np.full(starts.shape, Badge.ON_TRACK, dtype=np.int8)
    codes[left < window * due_soon_fraction] = Badge.DUE_SOON
    codes[left < 0] = Badge.OVERDUE
    codes[paused] = Badge.PAUSED
    codes[stopped & (stops <= due)] = Badge.MET
    codes[stopped & (stops > due)] = Badge.MET_LATE
    codes[missing] = Badge.CALENDAR_MISSING
    codes[~started] = Badge.NOT_STARTED
    return codes, np.where(started, due, _NAT)


def evaluate(rules: list[ClockRule], frame: pd.DataFrame, now: datetime, calendar: WorkingCalendar,
             due_soon_fraction: float) -> pd.DataFrame:
    """Badge and due time of every clock for every row of `frame` (milestone columns, `paused`)."""
    out = {}
    paused = frame["paused"].to_numpy(dtype=bool) if "paused" in frame else np.zeros(len(frame), bool)
    for rule in rules:
        starts = _as_datetime64(frame[rule.start.value])
        stops = _as_datetime64(frame[rule.stop.value])
        codes, due = badges_many(rule, starts, stops, paused, now, calendar, due_soon_fraction)
        out[f"{rule.key}_badge"] = codes
        out[f"{rule.key}_due"] = due
    return pd.DataFrame(out, index=frame.index)


def _as_datetime64(column: pd.Series) -> np.ndarray:
    return pd.to_datetime(column).to_numpy(dtype="datetime64[s]")


# -- one case at a time --

def due_one(rule: ClockRule, start: datetime, calendar: WorkingCalendar) -> datetime:
    if rule.unit is Unit.HOURS:
        return start + timedelta(hours=rule.target)
    if rule.unit is Unit.DAYS:
        return end_of_day(start.date() + timedelta(days=rule.target))
    return end_of_day(calendar.add_working_days(start.date(), rule.target))


def badge_one(rule: ClockRule, start: datetime | None, stop: datetime | None, paused: bool,
              now: datetime, calendar: WorkingCalendar, due_soon_fraction: float
              ) -> tuple[Badge, datetime | None]:
    if start is None:
        return Badge.NOT_STARTED, None
    try:
        due = due_one(rule, start, calendar)
    except CalendarMissing:
        return Badge.CALENDAR_MISSING, None
    if stop is not None:
        return (Badge.MET if stop <= due else Badge.MET_LATE), due
    if paused:
        return Badge.PAUSED, due
    left = (due - now).total_seconds()
    if left < 0:
        return Badge.OVERDUE, due
    if left < (due - start).total_seconds() * due_soon_fraction:
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
