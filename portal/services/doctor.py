"""`python -m portal doctor`: what an operator's monitoring asks of a running installation, one check a line.

- database: the address answers;
- migrations: the database is at the migration head this code expects;
- calendar: every year from today to the latest open deadline has its official working-day calendar, and no
  running clock waits for one (a clock that crosses into a year nobody entered has no due time);
- outbox: no notice to a customer waits past its time (the sender is not running or cannot deliver), none is stuck
  half-sent;
- sessions: the login sessions table has not grown past its limit (ended sessions are purged with
  `python -m portal sessions purge`).
"""
from __future__ import annotations

import calendar as month_calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, and_, func, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from portal.domain.errors import first_line
from portal.domain.notices import NoticeState
from portal.persistence.database import make_engine
from portal.persistence.migrate import alembic_config
from portal.persistence.models import CalendarDayRow, CaseClock, LoginSession, Notice, ServiceRequest

CHECKS = ("database", "migrations", "calendar", "outbox", "sessions")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'OK  ' if self.ok else 'FAIL'} {self.name:<10} {self.detail}"


@dataclass(frozen=True)
class Limits:
    outbox_minutes: int = 30          # a notice due longer than this and not sent: the sender is not doing its work
    max_sessions: int = 100_000       # rows in login_sessions, live and ended


def check_migrations(engine: Engine, url: str) -> Check:
    heads = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    if current == heads:
        return Check("migrations", True, f"at head {', '.join(sorted(heads))}")
    script = ScriptDirectory.from_config(alembic_config(url))
    known = {revision.revision for revision in script.walk_revisions()}
    if current - known:
        return Check("migrations", False, f"the database is at {', '.join(sorted(current))}, which this code does not "
                                          "know (a newer version of the portal migrated it)")
    return Check("migrations", False, f"the database is at {', '.join(sorted(current)) or 'no revision'}, this code "
                                      f"expects {', '.join(sorted(heads))}: run `python -m portal db upgrade`")


def _days_in(year: int) -> int:
    return 366 if month_calendar.isleap(year) else 365


def check_calendar(engine: Engine, now: datetime) -> Check:
    running = and_(CaseClock.stopped_at.is_(None), CaseClock.case_closed_at.is_(None))
    desk_running = and_(ServiceRequest.clock_started_at.is_not(None), ServiceRequest.clock_stopped_at.is_(None))
    with engine.connect() as connection:
        latest = [connection.scalar(select(func.max(CaseClock.due_at)).where(running)),
                  connection.scalar(select(func.max(ServiceRequest.clock_due_at)).where(desk_running))]
        waiting = (connection.scalar(select(func.count()).select_from(CaseClock)
                                     .where(running, CaseClock.calendar_missing.is_(True)))
                   + connection.scalar(select(func.count()).select_from(ServiceRequest)
                                       .where(desk_running, ServiceRequest.clock_calendar_missing.is_(True))))
        last_due = max([d for d in latest if d is not None], default=None)
        years = range(now.year, max(now.year, last_due.year if last_due else now.year) + 1)
        counted = {int(year): days for year, days in connection.execute(
            select(func.extract("year", CalendarDayRow.day), func.count())
            .where(CalendarDayRow.day >= date(years[0], 1, 1), CalendarDayRow.day <= date(years[-1], 12, 31))
            .group_by(func.extract("year", CalendarDayRow.day)))}
    missing = [year for year in years if counted.get(year, 0) < _days_in(year)]
    span = f"{years[0]}" if len(years) == 1 else f"{years[0]}–{years[-1]}"
    latest_text = f"the latest open deadline {last_due:%Y-%m-%d}" if last_due else "no open deadline"
    if missing or waiting:
        problems = []
        if missing:
            problems.append(f"no complete official calendar for {', '.join(map(str, missing))} (needed: {span}, "
                            f"{latest_text})")
        if waiting:
            problems.append(f"{waiting} running clock(s) wait for a calendar year")
        return Check("calendar", False, "; ".join(problems) + ": upgrade chinesecalendar or enter the year "
                                                              "(`python -m portal calendar set`, or 系统配置 → 日历)")
    return Check("calendar", True, f"{span} covered ({latest_text})")


def check_outbox(engine: Engine, now: datetime, limits: Limits) -> Check:
    """Three ways a notice to a customer is stuck: due and not tried for a while (no sender running), tried and not
    delivered for a while (the gateway refuses or is down: each failure moves the next attempt on, so the due time
    alone never looks late), or given up on in the last day (`failed`, for the GM office to resolve)."""
    cutoff = now - timedelta(minutes=limits.outbox_minutes)
    queued = Notice.state == NoticeState.QUEUED.value
    with engine.connect() as connection:
        by_state = dict(connection.execute(select(Notice.state, func.count()).group_by(Notice.state)).all())
        late = connection.execute(select(func.count(), func.min(Notice.next_attempt_at)).where(
            queued, Notice.next_attempt_at <= cutoff)).one()
        retrying = connection.scalar(select(func.count()).select_from(Notice).where(
            queued, Notice.attempts > 0, Notice.queued_at <= cutoff))
        stuck = connection.scalar(select(func.count()).select_from(Notice).where(
            Notice.state == NoticeState.SENDING.value, Notice.claimed_at <= cutoff))
        failed = connection.scalar(select(func.count()).select_from(Notice).where(
            Notice.state == NoticeState.FAILED.value, Notice.queued_at >= now - timedelta(days=1)))
    if not by_state:
        return Check("outbox", True, "no notices yet")
    attention = (f"{by_state.get(NoticeState.FAILED.value, 0)} failed and "
                 f"{by_state.get(NoticeState.UNCONFIRMED.value, 0)} unconfirmed for the GM office (通知 page)")
    parts = []
    if late[0]:
        parts.append(f"{late[0]} notice(s) due since {late[1]:%Y-%m-%d %H:%M} not sent (more than "
                     f"{limits.outbox_minutes} min): is `python -m portal notices send --loop` or the portal's sender "
                     "running?")
    if retrying:
        parts.append(f"{retrying} notice(s) tried and still not delivered after {limits.outbox_minutes} min: check "
                     "the SMTP server or SMS gateway (the 通知 page shows each one's last error)")
    if stuck:
        parts.append(f"{stuck} claimed by a sender more than {limits.outbox_minutes} min ago and not finished")
    if failed:
        parts.append(f"{failed} notice(s) given up on in the last day")
    if parts:
        return Check("outbox", False, "; ".join(parts) + f" ({attention})")
    return Check("outbox", True, f"{by_state.get(NoticeState.QUEUED.value, 0)} queued, none late; {attention}")


def check_sessions(engine: Engine, now: datetime, limits: Limits) -> Check:
    with engine.connect() as connection:
        total = connection.scalar(select(func.count()).select_from(LoginSession))
        live = connection.scalar(select(func.count()).select_from(LoginSession).where(
            LoginSession.revoked_at.is_(None), LoginSession.expires_at > now))
    detail = f"{total:,} rows ({live:,} live, {total - live:,} ended)"
    if total > limits.max_sessions:
        return Check("sessions", False, f"{detail}, over the limit of {limits.max_sessions:,}: purge ended ones with "
                                        "`python -m portal sessions purge`")
    return Check("sessions", True, f"{detail}, limit {limits.max_sessions:,}")


def run_checks(url: str, *, now: datetime, limits: Limits = Limits()) -> list[Check]:
    """Every check, in order; after a failed connection the others say they could not run."""
    parsed = make_url(url)
    where = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).is_file():
        return [Check("database", False, f"{where}: no such file (not created by this check)")] + [
            Check(name, False, "not checked: no database") for name in CHECKS[1:]]
    engine = make_engine(url)
    try:
        try:
            with engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
                tables = set(inspect(connection).get_table_names())
        except SQLAlchemyError as error:
            return [Check("database", False, f"{where}: {first_line(error)}")] + [
                Check(name, False, "not checked: no database connection") for name in CHECKS[1:]]
        checks = [Check("database", True, f"{where} answers")]
        checks.append(check_migrations(engine, url))
        if not {"case_clocks", "calendar_days", "notices", "login_sessions", "service_requests"} <= tables:
            return checks + [Check(name, False, "not checked: the portal's tables are missing (`db upgrade`)")
                             for name in CHECKS[2:]]
        for name, check in (("calendar", lambda: check_calendar(engine, now)),
                            ("outbox", lambda: check_outbox(engine, now, limits)),
                            ("sessions", lambda: check_sessions(engine, now, limits))):
            try:
                checks.append(check())
            except SQLAlchemyError as error:
                checks.append(Check(name, False, f"could not be checked: {first_line(error)}"))
        return checks
    finally:
        engine.dispose()
