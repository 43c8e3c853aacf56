"""The mainland-China working-day calendar (法定节假日 and 调休 make-up working days).

The calendar is data (a table filled from a maintained package plus rows an administrator adds);
this module turns those rows into arrays so that thousands of deadlines are a single
`searchsorted`, and it refuses — with `CalendarMissing` — to count through a day it does not know.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Iterable

import numpy as np

from portal.domain.errors import CalendarMissing


class DayKind(StrEnum):
    WORKDAY = "workday"   # an ordinary Monday–Friday
    WEEKEND = "weekend"   # Saturday or Sunday off
    HOLIDAY = "holiday"   # a public holiday (法定节假日) or its bridging days off
    MAKEUP = "makeup"     # a weekend day worked in exchange (调休上班)


@dataclass(frozen=True)
class CalendarDay:
    day: date
    is_working: bool
    kind: DayKind
    note: str = ""   # the holiday's name, or the administrator's remark


def classify(day: date, is_working: bool, holiday_name: str | None) -> DayKind:
    weekend = day.weekday() >= 5
    if is_working:
        return DayKind.MAKEUP if weekend else DayKind.WORKDAY
    if holiday_name or not weekend:
        return DayKind.HOLIDAY
    return DayKind.WEEKEND


_DAY = np.timedelta64(1, "D")


class WorkingCalendar:
    """Known days between the first and last loaded day; days not loaded are unknown."""

    def __init__(self, days: Iterable[CalendarDay]) -> None:
        self._days: dict[date, CalendarDay] = {d.day: d for d in days}
        if self._days:
            # One unknown day before the first: a start on that day needs only the days after it.
            first, last = min(self._days) - timedelta(days=1), max(self._days)
        else:
            first = last = date(2000, 1, 1)
        self.origin = np.datetime64(first, "D")
        size = (last - first).days + 1 if self._days else 0
        working = np.zeros(size, dtype=bool)
        known = np.zeros(size, dtype=bool)
        for d in self._days.values():
            i = (d.day - first).days
            working[i] = d.is_working
            known[i] = True
        self._working = working
        # cum_working[i]: working days in [origin, origin+i]; cum_unknown likewise for gaps.
        self._cum_working = np.cumsum(working, dtype=np.int64)
        self._cum_unknown = np.cumsum(~known, dtype=np.int64)
        self._tables: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self._days)

    def get(self, day: date) -> CalendarDay | None:
        return self._days.get(day)

    def years(self) -> list[int]:
        return sorted({d.year for d in self._days})

    # -- one deadline at a time: the readable rule, used for explanations and as the test oracle --

    def add_working_days(self, start: date, n: int) -> date:
        """The last day of an n-working-day period; the start day itself is not counted."""
        day, counted = start, 0
        while counted < n:
            day += timedelta(days=1)
            info = self._days.get(day)
            if info is None:
                raise CalendarMissing(day.year)
            counted += info.is_working
        return day

    def walk(self, start: date, end: date) -> list[CalendarDay]:
        """Every day after `start` up to `end`, as known to the calendar (for explanations)."""
        out, day = [], start
        while day < end:
            day += timedelta(days=1)
            info = self._days.get(day)
            if info is None:
                raise CalendarMissing(day.year)
            out.append(info)
        return out

    # -- many deadlines at once --

    def working_day_table(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """For every known start day i: the index of its n-th working day after, and whether the
        calendar cannot tell (runs past the last loaded day or through a gap). Cached per n."""
        cached = self._tables.get(n)
        if cached is None:
            size = len(self._cum_working)
            idx = np.arange(size)
            due = np.maximum(np.searchsorted(self._cum_working, self._cum_working + n, side="left"), idx)
            missing = due >= size
            due = np.minimum(due, size - 1)
            missing |= (self._cum_unknown[due] - self._cum_unknown[idx]) > 0
            cached = self._tables[n] = (due.astype(np.int64), missing)
        return cached

    def add_working_days_many(self, start_days: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Vectorised `add_working_days` over day numbers (days since 1970-01-01, int64): a gather
        from the per-n table. Returns (last day numbers, mask of calendar-missing)."""
        size = len(self._cum_working)
        if size == 0:
            return np.zeros(start_days.shape, np.int64), np.ones(start_days.shape, bool)
        origin = int(self.origin.astype("datetime64[D]").astype(np.int64))
        idx = start_days - origin
        outside = (idx < 0) | (idx >= size)
        idx = np.clip(idx, 0, size - 1)
        due, missing = self.working_day_table(n)
        return due[idx] + origin, missing[idx] | outside


def end_of_day(day: date) -> datetime:
    """24:00 of `day`, i.e. the first instant of the next day."""
    return datetime.combine(day + timedelta(days=1), time.min)
