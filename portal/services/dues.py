"""Stored clock dues (`case_clocks`): what the milestones, holds, clock rules and calendar make of
each started clock, kept so that a badge filter is a SQL condition against `now` and statistics
aggregate in the database.

They are rewritten in the same transaction as any write to a case (a session hook, so no use case
can forget it), and for every case with a running clock when the calendar changes. Badges shown
on a page are still computed at load time from the milestones.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Iterable

import numpy as np
import pandas as pd
from sqlalchemy import String, bindparam, delete, event, insert, or_, select, type_coerce, update
from sqlalchemy.orm import Session

from portal.domain.calendar import WorkingCalendar
from portal.domain.clocks import NAT, Milestone, clock_states
from portal.persistence.models import CalendarDayRow, CaseClock, Complaint, ContactLog, Notice, Setting
from portal.services import archive_readiness, contact_due, priority, rules, stats_rollup

MILESTONES = [m.value for m in Milestone]
_HOLD_COLUMNS = ("paused", "paused_seconds", "regulatory_extension_days", "outside_seconds")
_SINCE_COLUMNS = ("paused_since", "outside_since")
_CHUNK = 20_000
BACKFILLED = "dues.backfilled"


_FRAME_NAMES = ["id", *_HOLD_COLUMNS, "outside", *MILESTONES, *_SINCE_COLUMNS]
_FRAME_SELECT = select(Complaint.id, *[getattr(Complaint, c) for c in _HOLD_COLUMNS],
                       Complaint.outside_process.is_not(None).label("outside"),
                       *[type_coerce(getattr(Complaint, m), String).label(m) for m in (*MILESTONES, *_SINCE_COLUMNS)])
# built once: a refresh runs with every write to a case, and composing the statement cost more than running it
_FRAME_BY_IDS = _FRAME_SELECT.where(Complaint.id.in_(bindparam("ids", expanding=True)))
_FRAME_AFTER = _FRAME_SELECT.where(Complaint.id > bindparam("after")).order_by(Complaint.id).limit(_CHUNK)


def _frame(session: Session, ids: list[int] | None, after_id: int | None = None) -> pd.DataFrame:
    if ids is not None:
        rows = session.execute(_FRAME_BY_IDS, {"ids": ids}).all()
    elif after_id is not None:
        rows = session.execute(_FRAME_AFTER, {"after": after_id}).all()
    else:
        rows = session.execute(_FRAME_SELECT).all()
    columns = list(zip(*rows)) if rows else [()] * len(_FRAME_NAMES)
    data = dict(zip(_FRAME_NAMES, columns))
    frame: dict[str, np.ndarray] = {"id": np.array(data["id"], dtype=np.int64)}
    for column in ("paused", "outside"):
        frame[column] = np.array([bool(v) for v in data[column]], dtype=bool)
    for column in ("paused_seconds", "regulatory_extension_days", "outside_seconds"):
        frame[column] = np.array([v or 0 for v in data[column]], dtype=np.int64)
    # every instant parsed in one call (per column, the fixed cost of a call outweighed a handful of rows)
    instants = (*MILESTONES, *_SINCE_COLUMNS)
    parsed = pd.to_datetime(pd.Series([v for c in instants for v in data[c]], dtype=object), format="ISO8601")
    parsed = parsed.to_numpy(dtype="datetime64[ns]").reshape(len(instants), len(rows))
    for column, values in zip(instants, parsed):
        frame[column] = values
    return pd.DataFrame(frame)


def _window_calendar(session: Session, frame: pd.DataFrame) -> WorkingCalendar:
    """The calendar days a handful of cases can need: from their earliest start to a year after
    their latest one (no deadline reaches further)."""
    starts = np.concatenate([frame[m].to_numpy(dtype="datetime64[ns]") for m in MILESTONES])
    starts = starts[~np.isnat(starts)]         # plain arrays: a pandas concat per commit cost more than the query
    if starts.size == 0:
        return WorkingCalendar([])
    first: date = starts.min().astype("datetime64[D]").item() - timedelta(days=1)
    last: date = starts.max().astype("datetime64[D]").item() + timedelta(days=400)
    return rules.calendar_from_rows(session.execute(
        select(CalendarDayRow.day, CalendarDayRow.is_working, CalendarDayRow.kind, CalendarDayRow.note)
        .where(CalendarDayRow.day.between(first, last))).all())


def _ns(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame:
        return np.full(len(frame), NAT, dtype=np.int64)
    return frame[column].to_numpy(dtype="datetime64[ns]").view(np.int64)


def clock_columns(frame: pd.DataFrame, clocks: list[rules.ClockInfo], calendar: WorkingCalendar,
                  fraction: float) -> pd.DataFrame:
    """The `case_clocks` rows of every started clock of every case in the frame, column-wise
    (instants as int64 ns, NAT for none). `held_since`: since when a hold that is still on has
    stopped the clock (the customer's material for pausable clocks; appraisal or mediation for
    the regulator's), so that "was it running at t?" is a comparison."""
    ids = frame["id"].to_numpy()
    paused_since = _ns(frame, "paused_since")
    outside_since = _ns(frame, "outside_since")
    closed = _ns(frame, "closed_at")
    received = _ns(frame, "received_at")
    parts = []
    for info, state in zip(clocks, clock_states([c.rule for c in clocks], frame, calendar, fraction)):
        where = np.flatnonzero(state.started)
        if where.size == 0:
            continue
        start, stop = state.start[where], state.stop[where]
        stopped = stop != NAT
        held = np.full(where.size, NAT, dtype=np.int64)
        if info.rule.pausable:
            held = np.where(state.paused[where] & (paused_since[where] != NAT), paused_since[where], held)
        if info.rule.regulatory:
            outside = outside_since[where]
            held = np.where(state.paused[where] & (outside != NAT) & ((held == NAT) | (outside < held)), outside, held)
        held = np.where(state.paused[where] & (held == NAT), start, held)     # a hold with no recorded start
        known = stopped & ~state.missing[where]
        parts.append({
            "complaint_id": ids[where], "clock_key": np.full(where.size, state.key, dtype=object),
            "started_at": start, "due_at": state.due[where], "soon_at": state.soon[where], "stopped_at": stop,
            "held_since": np.where(stopped, NAT, held),
            "late": np.where(known, state.late[where], False), "late_known": known,
            "calendar_missing": state.missing[where],
            "duration_s": np.where(stopped, (stop - start) // 1_000_000_000, -1),
            "case_closed_at": closed[where], "case_received_at": received[where]})
    if not parts:
        return pd.DataFrame()
    return pd.DataFrame({name: np.concatenate([part[name] for part in parts]) for name in parts[0]})


def _stamp(values: np.ndarray) -> list:
    """int64 ns → naive datetimes (None for NAT), microsecond precision as the columns keep."""
    return values.astype(np.int64).view("datetime64[ns]").astype("datetime64[us]").astype(object).tolist()


def clock_rows(frame: pd.DataFrame, clocks: list[rules.ClockInfo], calendar: WorkingCalendar,
               fraction: float) -> list[dict]:
    """`clock_columns` as rows for an INSERT."""
    if frame.empty:
        return []
    columns = clock_columns(frame, clocks, calendar, fraction)
    if columns.empty:
        return []
    times = {c: _stamp(columns[c].to_numpy()) for c in TIME_COLUMNS}
    late = [bool(x) if k else None for x, k in zip(columns["late"], columns["late_known"])]
    duration = [int(d) if d >= 0 else None for d in columns["duration_s"]]
    return [dict(complaint_id=int(c), clock_key=k, late=lt, duration_s=d, calendar_missing=bool(m),
                 **{name: values[i] for name, values in times.items()})
            for i, (c, k, lt, d, m) in enumerate(zip(columns["complaint_id"], columns["clock_key"], late, duration,
                                                     columns["calendar_missing"]))]


TIME_COLUMNS = ("started_at", "due_at", "soon_at", "stopped_at", "held_since", "case_closed_at", "case_received_at")


CLOSURE_CLOCK = "closure"     # the clock whose stop is the case's closure (结案)


def _write(session: Session, ids: list[int], rows: list[dict]) -> None:
    connection = session.connection()
    table = CaseClock.__table__
    # the statistics' days the rewrite moves: the stop days of the clocks that change, before and after
    stats_rollup.mark_clocks(connection, ids, rows)
    for start in range(0, len(ids), 5000):
        connection.execute(delete(table).where(table.c.complaint_id.in_(ids[start:start + 5000])))
    for start in range(0, len(rows), 5000):
        connection.execute(insert(table), rows[start:start + 5000])
    late = {r["complaint_id"]: r["late"] for r in rows if r["clock_key"] == CLOSURE_CLOCK}
    complaints = Complaint.__table__
    connection.execute(update(complaints).where(complaints.c.id == bindparam("case_id"))
                       .values(closed_late=bindparam("late")),
                       [{"case_id": i, "late": late.get(i)} for i in ids])
    priority.write(connection, ids, rows)      # the case's place in the queues (next due time, rank)
    contact_due.refresh(connection, ids)       # and in 待联系客户


def refresh_cases(session: Session, complaint_ids: Iterable[int],
                  calendar: WorkingCalendar | None = None) -> None:
    """Rewrite the stored clocks of these cases inside the caller's transaction."""
    ids = sorted(set(complaint_ids))
    if not ids:
        return
    clocks = rules.clock_infos(session)
    fraction = rules.due_soon_fraction(rules.settings(session))
    for start in range(0, len(ids), _CHUNK):
        frame = _frame(session, ids[start:start + _CHUNK])
        cal = calendar if calendar is not None else _window_calendar(session, frame)
        _write(session, ids[start:start + _CHUNK], clock_rows(frame, clocks, cal, fraction))


def refresh_all(session: Session, calendar: WorkingCalendar, *, only_running: bool = False) -> int:
    """Rewrite stored clocks for every case (or only cases with a running or calendar-missing
    clock, which is all a calendar change can move). Returns how many cases were rewritten."""
    if only_running:
        ids = list(session.scalars(select(CaseClock.complaint_id).where(
            or_(CaseClock.stopped_at.is_(None), CaseClock.calendar_missing)).distinct()))
        refresh_cases(session, ids, calendar)
        return len(ids)
    clocks = rules.clock_infos(session)
    fraction = rules.due_soon_fraction(rules.settings(session))
    done, last = 0, 0
    while True:
        frame = _frame(session, None, after_id=last)
        if frame.empty:
            return done
        ids = [int(i) for i in frame["id"]]
        _write(session, ids, clock_rows(frame, clocks, calendar, fraction))
        done += len(ids)
        last = ids[-1]


def backfill_if_needed(uow, calendar: WorkingCalendar) -> bool:  # noqa: ANN001
    """Once per database: fill stored clocks for cases written before they were stored."""
    with uow.write() as session:
        # Processes starting together queue here (a row lock on PostgreSQL, BEGIN IMMEDIATE on
        # SQLite), so one fills and the others find the mark.
        session.execute(select(Setting.key).where(Setting.key == "badge.due_soon_fraction").with_for_update())
        if session.get(Setting, BACKFILLED) is not None:
            return False
        refresh_all(session, calendar)
        session.add(Setting(key=BACKFILLED, value="1", description="stored clock dues filled"))
        return True


# -- the hook: any transaction that writes a complaint rewrites its stored clocks before commit --

_TOUCHED = "portal_touched_cases"
# A writer that alone writes to its database while it runs (the sandbox being built) can pin the whole
# working calendar in its sessions' info, so the hook need not read the calendar for every change.
PINNED_CALENDAR = "portal_pinned_calendar"


_CONTACTED = "portal_contacted_cases"
_ARCHIVE_FACTS = "portal_archive_fact_cases"
_STATS_MOVED = "portal_stats_moved"


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _context) -> None:  # noqa: ANN001
    written = (*session.new, *session.dirty)
    touched = [o.id for o in written if isinstance(o, Complaint)]
    if touched:
        session.info.setdefault(_TOUCHED, set()).update(touched)
    # a contact logged, a notice whose state changed: the case's place in 待联系客户 moves
    contacted = [o.complaint_id for o in written if isinstance(o, (ContactLog, Notice)) and o.complaint_id]
    if contacted:
        session.info.setdefault(_CONTACTED, set()).update(contacted)
    # a follow-up, scheduled visit, department's action, quality check or corrective action written or removed:
    # the case's readiness for the archive may move (as it may with any write to the case itself)
    facts = [o.complaint_id for o in (*written, *session.deleted)
             if isinstance(o, archive_readiness.FACT_MODELS) and o.complaint_id]
    if facts:
        session.info.setdefault(_ARCHIVE_FACTS, set()).update(facts)
    # a fact the statistics count written or removed: the days it moved, before and after
    moved = stats_rollup.moved(session.new, session.dirty, session.deleted)
    if moved:
        session.info.setdefault(_STATS_MOVED, stats_rollup.Moved(set(), set(), set())).update(moved)


@event.listens_for(Session, "before_commit")
def _refresh_touched(session: Session) -> None:
    session.flush()
    touched = session.info.pop(_TOUCHED, None) or set()
    contacted = session.info.pop(_CONTACTED, None) or set()
    facts = session.info.pop(_ARCHIVE_FACTS, None) or set()
    moved = session.info.pop(_STATS_MOVED, None)
    if touched:
        # their stored clocks, queue place and contact due
        refresh_cases(session, touched, session.info.get(PINNED_CALENDAR))
    if contacted - touched:
        contact_due.refresh(session.connection(), contacted - touched)
    if touched or facts:
        archive_readiness.refresh(session.connection(), touched | facts)
    if moved:                          # the clocks' own days were marked as they were rewritten
        stats_rollup.mark(session.connection(), moved)


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, _previous) -> None:  # noqa: ANN001
    session.info.pop(_TOUCHED, None)
    session.info.pop(_CONTACTED, None)
    session.info.pop(_ARCHIVE_FACTS, None)
    session.info.pop(_STATS_MOVED, None)
