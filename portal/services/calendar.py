"""The working-day calendar table: filled from the maintained `chinesecalendar` package for the
years it covers, plus days an administrator sets (years the package does not cover yet)."""
from __future__ import annotations

from datetime import date, datetime

import chinese_calendar
from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql, sqlite

from portal.domain.calendar import DayKind, classify
from portal.domain.errors import DomainError
from portal.domain.text import clean_text
from portal.domain.roles import Role
from portal.persistence.database import UnitOfWork
from portal.persistence.models import CalendarDayRow
from portal.services.actors import Actor, fresh_actor
from portal.services.audit import record_event
from portal.services import desk_clocks, dues, rules
from portal.services.rules import days_of_year

def package_years() -> range:
    """Years the installed package has official data for (it refuses any other year)."""
    years = sorted({d.year for d in chinese_calendar.constants.holidays})
    return range(years[0], years[-1] + 1)

def package_day(day: date) -> tuple[bool, DayKind, str]:
    is_working = chinese_calendar.is_workday(day)
    _, name = chinese_calendar.get_holiday_detail(day)
    return is_working, classify(day, is_working, name), name or ""

def load_package_calendar(uow: UnitOfWork) -> int:
    """Add every package-covered day the table lacks; never overwrite a row already there.

    Returns how many days were added (0 once loaded, so calling it at every start is cheap). Safe
    when several processes start at once: a day another process added meanwhile is skipped.
    """
    with uow.write() as session:
        existing = set(session.scalars(select(CalendarDayRow.day)))
        rows = []
        for year in package_years():
            for day in days_of_year(year):
                if day not in existing:
                    is_working, kind, note = package_day(day)
                    rows.append(dict(day=day, is_working=is_working, kind=kind.value, note=note,
                                     source="package"))
        if not rows:
            return 0
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        added = 0
        for start in range(0, len(rows), 2000):
            result = session.execute(dialect.insert(CalendarDayRow).values(rows[start:start + 2000])
                                     .on_conflict_do_nothing(index_elements=["day"]))
            added += result.rowcount
        if added:
            _calendar_changed(session)
        return added

def _calendar_changed(session) -> None:  # noqa: ANN001
    """A changed calendar moves the dues of running working-day clocks: rewrite them now."""
    session.flush()
    calendar = rules.calendar_from_rows(session.execute(
        select(CalendarDayRow.day, CalendarDayRow.is_working, CalendarDayRow.kind, CalendarDayRow.note)).all())
    dues.refresh_all(session, calendar, only_running=True)
    desk_clocks.refresh_running(session, calendar)

def set_calendar_day(uow: UnitOfWork, *, actor: Actor | None, day: date, is_working: bool, note: str,
                     now: datetime, force: bool = False) -> None:
    """An administrator records an official day (e.g. next year's 调休 once the State Council
    publishes it). A day the official package covers is changed only with `force`, and the
    refusal says what it would replace. `actor` None is the command line."""
    cleaned = clean_text(note)
    if cleaned is None or not isinstance(day, date) or isinstance(day, datetime):
        raise DomainError("form.bad_value")
    note = cleaned
    if len(note) > 100:
        raise DomainError("form.too_long", max=100)
    with uow.write() as session:
        user = fresh_actor(session, actor, Role.ADMIN) if actor is not None else None
        row = session.get(CalendarDayRow, day)
        if row is not None and row.source == "package" and not force:
            raise DomainError("calendar.official_day", day=day.isoformat(), kind=row.kind)
        before = None if row is None else {"is_working": row.is_working, "kind": row.kind, "note": row.note}
        kind = classify(day, is_working, note if not is_working else None)
        if row is None:
            row = CalendarDayRow(day=day, is_working=is_working, kind=kind.value, note=note,
                                 source="admin")
            session.add(row)
        else:
            row.is_working, row.kind, row.note, row.source = is_working, kind.value, note, "admin"
        record_event(session, actor=user, at=now, action="calendar.set_day",
                     changes={"day": day, "before": before,
                              "after": {"is_working": is_working, "kind": kind.value, "note": note}})
        _calendar_changed(session)


# -- a year at a time: the year view, and the administrator's days for a year the package lacks --

def calendar_year(uow: UnitOfWork, *, year: int) -> list[dict]:
    """The loaded days of a year (day, is_working, kind, note, source), in order."""
    with uow.read() as session:
        rows = session.execute(select(CalendarDayRow.day, CalendarDayRow.is_working, CalendarDayRow.kind,
                                      CalendarDayRow.note, CalendarDayRow.source)
                               .where(CalendarDayRow.day.between(date(year, 1, 1), date(year, 12, 31)))
                               .order_by(CalendarDayRow.day)).all()
    return [dict(day=d, is_working=w, kind=k, note=n, source=s) for d, w, k, n, s in rows]


CALENDAR_ACTIONS = ("calendar.set_day", "calendar.set_year")
CALENDAR_LOCK = 72_010_000          # + the year: the PostgreSQL advisory lock a year's save holds


def calendar_version(uow: UnitOfWork, *, actor: Actor) -> int:
    """Where the calendar stands (its last change by an administrator): the year editor notes it when
    it opens and hands it back with its save."""
    from portal.services.configuration import latest_change
    with uow.read() as session:
        fresh_actor(session, actor, Role.ADMIN)
        return latest_change(session, CALENDAR_ACTIONS)


def set_year(uow: UnitOfWork, *, actor: Actor | None, year: int, exceptions: list[dict], now: datetime,
             basis: int | None = None) -> int:
    """Load a whole year the official package does not cover (e.g. once the State Council publishes
    next year's arrangement): every day is an ordinary weekday or weekend except the listed ones
    (holidays off, weekend days worked). Refused with reasons per row, nothing saved, if a row is
    bad or the package covers the year (change an official day one at a time, with `force`).
    One transaction and one audit event; running working-day deadlines are recomputed. Returns how
    many days changed. `basis`: the `calendar_version` the editor opened on; refused (nothing saved)
    if the calendar was changed since. Saves of a year take turns."""
    from portal.domain import configuration as rules_of
    from portal.services.configuration import ConfigurationRefused, latest_change, refuse_if_saved_since
    if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= now.year + 5:
        raise DomainError("config.calendar.bad_year", last=now.year + 5)
    refusals = rules_of.validate_year_days(year, exceptions)
    if refusals:
        raise ConfigurationRefused(refusals)
    listed = {}
    for row in exceptions:
        day = row["day"].date() if isinstance(row["day"], datetime) else row["day"]
        listed[day] = (row["is_working"], clean_text(row["note"]))
    with uow.write() as session:
        user = fresh_actor(session, actor, Role.ADMIN) if actor is not None else None
        if session.get_bind().dialect.name == "postgresql":   # (SQLite writes one transaction at a time)
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CALENDAR_LOCK + year})
        refuse_if_saved_since(session, basis, latest_change(session, CALENDAR_ACTIONS))
        current = {r.day: r for r in session.scalars(select(CalendarDayRow).where(
            CalendarDayRow.day.between(date(year, 1, 1), date(year, 12, 31))))}
        if any(r.source == "package" for r in current.values()):
            raise DomainError("config.calendar.official_year", year=year)
        before, after = {}, {}
        for day in days_of_year(year):
            is_working, note = listed.get(day, (day.weekday() < 5, ""))
            kind = classify(day, is_working, note or None).value
            row = current.get(day)
            if row is not None and (row.is_working, row.kind, row.note) == (is_working, kind, note):
                continue
            if row is None:
                session.add(CalendarDayRow(day=day, is_working=is_working, kind=kind, note=note, source="admin"))
            else:
                before[day] = {"is_working": row.is_working, "kind": row.kind, "note": row.note}
                row.is_working, row.kind, row.note, row.source = is_working, kind, note, "admin"
            after[day] = {"is_working": is_working, "kind": kind, "note": note}
        if not after:
            return 0
        special = {d.isoformat(): v for d, v in after.items() if v["kind"] in ("holiday", "makeup")}
        record_event(session, actor=user, at=now, action="calendar.set_year",
                     changes={"year": year, "days": len(after), "special": special,
                              "before": {d.isoformat(): v for d, v in before.items()}})
        _calendar_changed(session)
        return len(after)
