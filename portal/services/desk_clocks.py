"""The desk's clocks stored on their request (SPEC §12): started and stopped by the use cases, their due and
due-soon instants kept on the row so a badge or a queue's order is a SQL condition against `now`; rewritten
for every running clock when the calendar changes (the same hook as the complaint clocks).

A clock keeps the rule (unit, target) it started with, stored on the request: a target changed in 系统配置
governs clocks started after the change and never rewrites the deadline of one already running — the complaint
clocks' rule (their versions by received time)."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain.aftersales import DeskClock, DeskClockRule, desk_due, desk_soon
from portal.domain.calendar import WorkingCalendar
from portal.domain.clocks import Unit
from portal.domain.errors import CalendarMissing
from portal.persistence.models import CalendarDayRow, DeskClockRow, ServiceRequest
from portal.services import rules


def clock_rules(session: Session) -> dict[DeskClock, DeskClockRule]:
    return {DeskClock(r.key): DeskClockRule(DeskClock(r.key), Unit(r.unit), r.target)
            for r in session.scalars(select(DeskClockRow))}


def _calendar(session: Session, start: datetime) -> WorkingCalendar:
    """The calendar days a deadline from `start` can need (no desk target reaches a year)."""
    first, last = start.date() - timedelta(days=1), start.date() + timedelta(days=400)
    return rules.calendar_from_rows(session.execute(
        select(CalendarDayRow.day, CalendarDayRow.is_working, CalendarDayRow.kind, CalendarDayRow.note)
        .where(CalendarDayRow.day.between(first, last))).all())


def _set_due(request: ServiceRequest, rule: DeskClockRule, calendar: WorkingCalendar, fraction: float) -> None:
    try:
        due = desk_due(rule, request.clock_started_at, calendar)
    except CalendarMissing:
        request.clock_due_at = request.clock_soon_at = None
        request.clock_calendar_missing = True
        return
    request.clock_due_at = due
    request.clock_soon_at = desk_soon(request.clock_started_at, due, fraction)
    request.clock_calendar_missing = False


def start(session: Session, request: ServiceRequest, key: DeskClock, at: datetime) -> None:
    """Start the request's clock `key` at `at` (its one running clock) under the rule in force, kept with it."""
    rule = clock_rules(session)[key]
    request.clock_key, request.clock_started_at = key.value, at
    request.clock_unit, request.clock_target = rule.unit.value, rule.target
    request.clock_stopped_at, request.clock_late = None, None
    _set_due(request, rule, _calendar(session, at), rules.due_soon_fraction(rules.settings(session)))


def stop(request: ServiceRequest, key: DeskClock, at: datetime) -> None:
    """Stop the clock `key` if it is the one running: late when stopped after its due instant (unknown while
    the calendar lacked a day)."""
    if request.clock_key != key.value or request.clock_stopped_at is not None:
        return
    request.clock_stopped_at = at
    request.clock_late = None if request.clock_due_at is None else at > request.clock_due_at


def rule_of(request: ServiceRequest, current: dict[DeskClock, DeskClockRule]) -> DeskClockRule:
    """The rule the request's clock started with (the rule in force for one stored without it)."""
    key = DeskClock(request.clock_key)
    if request.clock_unit is None or request.clock_target is None:
        return current[key]
    return DeskClockRule(key, Unit(request.clock_unit), request.clock_target)


def refresh_running(session: Session, calendar: WorkingCalendar) -> int:
    """A calendar change moves the dues of running clocks, a new 临期 threshold their due-soon instants:
    rewrite every running clock, each with the rule it started with. Returns how many."""
    clocks = clock_rules(session)
    fraction = rules.due_soon_fraction(rules.settings(session))
    done = 0
    for request in session.scalars(select(ServiceRequest).where(
            ServiceRequest.clock_key.is_not(None), ServiceRequest.clock_stopped_at.is_(None))):
        _set_due(request, rule_of(request, clocks), calendar, fraction)
        done += 1
    return done
