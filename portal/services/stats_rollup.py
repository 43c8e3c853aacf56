"""Statistics rollups (issue 19): per-day and per-month sums of what events decide, so that the statistics of a
month or a year read a few thousand rows instead of every case, clock and survey of the period.

What is kept (`stats_rollup`, one row per grain · day · measure · department · category · channel · severity · item ·
bucket, with the sums n, a, b):

| measure | day of | n | a | b | item / bucket |
|---|---|---|---|---|---|
| received | complaints.received_at | cases | repeats | | |
| accepted | complaints.accepted_at | cases | | | |
| closed | complaints.closed_at | cases | closed on time | | |
| reminder | reminders.issued_at | issued | | | kind |
| survey | follow_ups.visited_at | surveys | | | |
| score | follow_ups.visited_at | answers | | | dimension / score |
| clock | case_clocks.stopped_at (late known) | stopped | late | seconds | clock key |
| owned | the same, the clocks a department answers for | stopped | late | | |
| closure_stop | the closure clock's stop | stopped | late | | |
| share | complaints.closed_at, responsibility_shares | cases | ratio (%) | | / department |
| report_cause | complaint_departments.report_submitted_at | reports | | | cause / department |
| closure_cause | complaints.closed_at | cases | | | cause |
| profile | complaints.received_at | cases | | | the value / 0 gender, 1 age band, 2 occupation |
| request | service_requests.received_at | requests | | | kind (the desk's; no case dimensions: 0 / '') |
| clock_hour | case_clocks.stopped_at (late known) | stopped | | | clock key / whole hours taken (no case dimensions) |

The dimensions are the case's: department 0 holds every case, department d the cases routed to d (a case routed to
two departments is in both, as the department filter reads); category, channel, severity; and beside the mixes, a
total row per department (category and channel −1, severity '*') that an unfiltered figure reads instead of
summing every mix. Grain `D` is a day, `M` a
month (its first day), the sum of its days, `Y` a year (its 1 January), the sum of its months.

How it stays exact — an incremental refresh that runs before the statistics are read:
- Every transaction that writes something a measure reads marks the days it may have moved (`stats_dirty_days`, one
  row per transaction and day, so writers never wait on each other), from the ORM history of what it flushed
  (`moved`): a dated fact's old and new day; every day of a case that is new, removed, re-categorised or routed
  differently; the closure day when a share, the repeat link, the cause or the on-time result changes. The stored
  clocks' rewrite compares old and new clocks and marks the stop days of those that changed (`mark_clocks`); a bulk
  statement that issues reminders marks its day. A mark commits with the change or not at all.
- `refresh` (before each statistics read, and in `verify`) computes each marked day from the raw tables, compares it
  with the stored day rows and writes only the difference, as increments, to the day and to its month; it removes
  exactly the marks it read (by id), so a mark committed meanwhile stays for the next refresh. Refreshers take turns
  (an advisory lock on PostgreSQL; SQLite writes one at a time anyway).
- A day no one marked is unchanged since it was last computed, so every day equals the raw tables' figures once the
  marks are worked off, and every month the sum of its days; `differences` (`stats verify`) checks exactly that.
"""
from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from types import SimpleNamespace
from typing import Iterable

from sqlalchemy import (Column, Connection, ColumnElement, Date, Integer, MetaData, String, Table, and_, bindparam,
                        case, cast, delete, exists, false, func, insert, literal, or_, select, true, union, union_all)
from sqlalchemy.orm import Session, aliased

from portal.domain.clocks import DEPARTMENT_STEPS
from portal.domain.satisfaction import DIMENSIONS
from portal.persistence.database import bulk_sorts
from portal.persistence.models import (CaseClock, Complaint, ComplaintDepartment, FollowUp, Reminder,
                                       ResponsibilityShare, ServiceRequest, SlaClockVersion, StatsDirtyDay,
                                       StatsRollup)
from portal.services.queries import case_clock_version

DAY, MONTH, YEAR = "D", "M", "Y"
EVERY_CASE = 0                        # department_id of the rows that hold every case
CLOSURE_CLOCK = "closure"
DEPARTMENT_MILESTONES = tuple(m.value for m in DEPARTMENT_STEPS)   # the steps that are a department's own
_KEY = ("measure", "department_id", "category_id", "channel_id", "severity", "item", "bucket")
_CHUNK = 500
# the dated facts of a case: every day a measure may count it on
FACT_DATES = ((Complaint, Complaint.id, (Complaint.received_at, Complaint.accepted_at, Complaint.closed_at)),
              (Reminder, Reminder.complaint_id, (Reminder.issued_at,)),
              (FollowUp, FollowUp.complaint_id, (FollowUp.visited_at,)),
              (CaseClock, CaseClock.complaint_id, (CaseClock.stopped_at,)),
              (ComplaintDepartment, ComplaintDepartment.complaint_id, (ComplaintDepartment.report_submitted_at,)))
# the models whose rows a measure reads (a write to one moves its case's days)
FACT_MODELS = (Complaint, Reminder, FollowUp, ComplaintDepartment, ResponsibilityShare)


def _is_postgres(bind) -> bool:  # noqa: ANN001
    return bind.dialect.name == "postgresql"


def day_of(bind, column):  # noqa: ANN001, ANN201
    """The calendar day of a timestamp column, in the database."""
    return cast(column, Date) if _is_postgres(bind) else func.date(column)


def measure_names() -> list[str]:
    """Every measure's name: a condition on it lets the primary key (grain, measure, day, …) find a day's rows."""
    return list(_measure_names())


@lru_cache(maxsize=1)
def _measure_names() -> tuple[str, ...]:
    return tuple(sorted({m.name for m in _measures()} | {REQUESTS, CLOCK_HOURS}))


REQUESTS = "request"        # the service desk's requests by kind: no case, no dimensions
CLOCK_HOURS = "clock_hour"  # each clock's stops by whole hours taken, every case: where its percentile lies
HOUR = 3600


def _month_of_day(bind, column):  # noqa: ANN001, ANN201
    if _is_postgres(bind):
        return cast(func.date_trunc("month", column), Date)
    return func.date(column, "start of month")


# -- the measures: what each counts, as grouped selects over the raw tables ---------------------------------------

@dataclass(frozen=True)
class _Measure:
    name: str
    dated: ColumnElement            # the timestamp that decides the day
    source: object                  # the table the facts are read from (joined to their case)
    join: ColumnElement | None      # fact → case (None: the facts are the cases)
    where: tuple
    item: ColumnElement
    bucket: ColumnElement
    n: ColumnElement
    a: ColumnElement
    b: ColumnElement


def owned_clock() -> ColumnElement[bool]:
    """A stored clock a department answers for: its rule, in the version its case was received under, stops at the
    department's own step (the 部门 SLA compliance)."""
    return exists().where(case_clock_version(), SlaClockVersion.stop_milestone.in_(DEPARTMENT_MILESTONES))


def _measures() -> list[_Measure]:
    zero, empty = literal(0, Integer), literal("", String)
    late = func.sum(case((CaseClock.late == true(), 1), else_=0))
    clocks = dict(source=CaseClock, join=CaseClock.complaint_id == Complaint.id, dated=CaseClock.stopped_at)
    reported = aliased(ComplaintDepartment, name="reported")
    out = [
        _Measure("received", Complaint.received_at, Complaint, None, (), empty, zero, func.count(),
                 func.count(Complaint.original_id), zero),
        _Measure("accepted", Complaint.accepted_at, Complaint, None, (), empty, zero, func.count(), zero, zero),
        _Measure("closed", Complaint.closed_at, Complaint, None, (), empty, zero, func.count(),
                 func.sum(case((Complaint.closed_late == false(), 1), else_=0)), zero),
        _Measure("reminder", Reminder.issued_at, Reminder, Reminder.complaint_id == Complaint.id, (), Reminder.kind,
                 zero, func.count(), zero, zero),
        _Measure("survey", FollowUp.visited_at, FollowUp, FollowUp.complaint_id == Complaint.id, (), empty, zero,
                 func.count(), zero, zero),
        *[_Measure("score", FollowUp.visited_at, FollowUp, FollowUp.complaint_id == Complaint.id,
                   (getattr(FollowUp, d).is_not(None),), literal(d, String), getattr(FollowUp, d), func.count(), zero,
                   zero) for d in DIMENSIONS],
        _Measure(where=(CaseClock.late.is_not(None),), item=CaseClock.clock_key, bucket=zero,
                 n=func.count(), a=late, b=func.sum(CaseClock.duration_s), name="clock", **clocks),
        _Measure(where=(CaseClock.late.is_not(None), owned_clock()), item=empty, bucket=zero,
                 n=func.count(), a=late, b=zero, name="owned", **clocks),
        _Measure(where=(CaseClock.clock_key == CLOSURE_CLOCK,), item=empty, bucket=zero,
                 n=func.count(), a=late, b=zero, name="closure_stop", **clocks),
        _Measure("share", Complaint.closed_at, ResponsibilityShare, ResponsibilityShare.complaint_id == Complaint.id,
                 (), empty, ResponsibilityShare.department_id, func.count(), func.sum(ResponsibilityShare.ratio), zero),
        _Measure("report_cause", reported.report_submitted_at, reported, reported.complaint_id == Complaint.id,
                 (reported.cause_code.is_not(None),), reported.cause_code, reported.department_id, func.count(), zero,
                 zero),
        _Measure("closure_cause", Complaint.closed_at, Complaint, None, (Complaint.cause_code.is_not(None),),
                 Complaint.cause_code, zero, func.count(), zero, zero),
        *[_Measure(PROFILE, Complaint.received_at, Complaint, None, (), func.coalesce(column, ""),
                   literal(field, Integer), func.count(), zero, zero)
          for field, column in enumerate(PROFILE_FIELDS)],
    ]
    return out


PROFILE = "profile"     # the complainant profile: received cases by gender (bucket 0), age band (1), occupation (2)
PROFILE_FIELDS = (Complaint.customer_gender, Complaint.customer_age_band, Complaint.customer_occupation)


ANY_ID, ANY_SEVERITY = -1, "*"       # a total row: every category, channel and severity together


def _grouped(bind, measure: _Measure, routed: bool, spans: list[tuple[datetime, datetime]] | None,  # noqa: ANN001, ANN202
             total: bool = False):
    """One measure's rows by day and dimensions: every case (department 0), or by routed department; `total`: with
    every category, channel and severity together (what an unfiltered figure reads: one row, not one per mix)."""
    day = day_of(bind, measure.dated).label("day")
    department = ComplaintDepartment.department_id if routed else literal(EVERY_CASE, Integer)
    dims = ((literal(ANY_ID, Integer), literal(ANY_ID, Integer), literal(ANY_SEVERITY, String)) if total
            else (Complaint.category_id, Complaint.channel_id, Complaint.severity))
    query = select(day, literal(measure.name, String).label("measure"), department.label("department_id"),
                   dims[0].label("category_id"), dims[1].label("channel_id"), dims[2].label("severity"),
                   measure.item.label("item"), measure.bucket.label("bucket"), func.coalesce(measure.n, 0).label("n"),
                   func.coalesce(measure.a, 0).label("a"), func.coalesce(measure.b, 0).label("b"))
    if measure.join is None:
        query = query.select_from(Complaint)
    else:
        query = query.select_from(measure.source).join(Complaint, measure.join)
    if routed:
        query = query.join(ComplaintDepartment, ComplaintDepartment.complaint_id == Complaint.id)
    dated = measure.dated.is_not(None)
    if spans is not None:
        dated = or_(*[and_(measure.dated >= start, measure.dated < end) for start, end in spans])
    grouping = (day, department, measure.item, measure.bucket) if total else (
        day, department, Complaint.category_id, Complaint.channel_id, Complaint.severity, measure.item, measure.bucket)
    return query.where(dated, *measure.where).group_by(*grouping)


def _requests(bind, spans: list[tuple[datetime, datetime]] | None):  # noqa: ANN001, ANN202
    r = ServiceRequest
    day = day_of(bind, r.received_at).label("day")
    zero = literal(0, Integer)
    dated = r.received_at.is_not(None) if spans is None else or_(*[and_(r.received_at >= start, r.received_at < end)
                                                                    for start, end in spans])
    return (select(day, literal(REQUESTS, String).label("measure"), zero.label("department_id"),
                   zero.label("category_id"), zero.label("channel_id"), literal("", String).label("severity"),
                   r.kind.label("item"), zero.label("bucket"), func.count().label("n"), zero.label("a"),
                   zero.label("b"))
            .where(dated).group_by(day, r.kind))


def _clock_hours(bind, spans: list[tuple[datetime, datetime]] | None):  # noqa: ANN001, ANN202
    c = CaseClock
    day = day_of(bind, c.stopped_at).label("day")
    zero = literal(0, Integer)
    hours = (c.duration_s // HOUR).label("bucket")
    dated = c.stopped_at.is_not(None) if spans is None else or_(*[and_(c.stopped_at >= start, c.stopped_at < end)
                                                                   for start, end in spans])
    return (select(day, literal(CLOCK_HOURS, String).label("measure"), zero.label("department_id"),
                   zero.label("category_id"), zero.label("channel_id"), literal("", String).label("severity"),
                   c.clock_key.label("item"), hours, func.count().label("n"), zero.label("a"), zero.label("b"))
            .where(dated, c.late.is_not(None)).group_by(day, c.clock_key, hours))


def raw_rows(bind, spans: list[tuple[datetime, datetime]] | None = None, *, totals: bool = False) -> list:  # noqa: ANN001
    """Every measure's day rows computed from the raw tables (over the given [start, end) spans, or all time): the
    mixes of category, channel and severity, the desk's requests and the clocks' hours; with `totals`, instead each
    measure's total rows scanned on their own (what `with_totals` sums from the mixes; a test holds the two equal)."""
    if totals:
        return [_grouped(bind, m, routed, spans, True) for m in _measures() for routed in (False, True)]
    return [*[_grouped(bind, m, routed, spans) for m in _measures() for routed in (False, True)],
            _requests(bind, spans), _clock_hours(bind, spans)]


@lru_cache(maxsize=64)
def _raw_union(dialect: str, spans: int | None, totals: bool = False):  # noqa: ANN202
    """Every raw day row as one statement, built once per dialect and number of spans; the spans' instants are its
    parameters `from_<i>` and `to_<i>` (untyped: each comparison gives them its column's type). Building the
    selects costs more than running them on a small database, and the same statement object keeps SQLAlchemy's
    cache key too."""
    bind = SimpleNamespace(dialect=SimpleNamespace(name=dialect))
    bounds = None if spans is None else [(bindparam(f"from_{i}"), bindparam(f"to_{i}")) for i in range(spans)]
    return union_all(*raw_rows(bind, bounds, totals=totals))


DayRow = namedtuple("DayRow", ("day", "measure", "department_id", "category_id", "channel_id", "severity", "item",
                               "bucket", "n", "a", "b"))


def raw_day_rows(connection: Connection, spans: list[tuple[datetime, datetime]] | None = None, *,
                 scanned_totals: bool = False) -> list[DayRow]:
    """Every raw day row (over the [start, end) spans, or all time): the mixes in one statement, and each measure's
    total rows summed from them (`with_totals`: every case is in exactly one mix, so that is what a scan of its own
    would count, at half the statement). `scanned_totals`: the total rows as their own scans give them instead."""
    values = {} if spans is None else {f"{end}_{i}": at for i, pair in enumerate(spans)
                                       for end, at in zip(("from", "to"), pair)}
    count = None if spans is None else len(spans)
    if scanned_totals:
        return [DayRow(*row) for row in connection.execute(_raw_union(connection.dialect.name, count, True), values)]
    return with_totals([DayRow(*row) for row in connection.execute(_raw_union(connection.dialect.name, count),
                                                                     values)])


def with_totals(mixes: list[DayRow]) -> list[DayRow]:
    """The mixes and, for each measure of the cases, its total rows (every category, channel and severity
    together): their sums by day, department, item and bucket."""
    names = {m.name for m in _measures()}
    totals: dict[tuple, list[int]] = {}
    for row in mixes:
        if row.measure in names:
            sums = totals.setdefault((row.day, row.measure, row.department_id, row.item, row.bucket), [0, 0, 0])
            for i, value in enumerate(_sums(row)):
                sums[i] += value
    return [*mixes, *[DayRow(day, measure, department, ANY_ID, ANY_ID, ANY_SEVERITY, item, bucket, *sums)
                      for (day, measure, department, item, bucket), sums in totals.items()]]


_COLUMNS = ("day", "measure", "department_id", "category_id", "channel_id", "severity", "item", "bucket", "n", "a", "b")


def _insert_days(connection: Connection, table) -> None:  # noqa: ANN001
    """Every day row from the raw tables into `table`: each measure's mixes (one scan of its facts per department
    kind), then the total rows summed from those mixes, since every case is in exactly one mix (its category, channel
    and severity), which is what the total's own scan would count (a test holds the two equal)."""
    mixes = [_grouped(connection, m, routed, None) for m in _measures() for routed in (False, True)]
    for query in [*mixes, _requests(connection, None), _clock_hours(connection, None)]:
        selected = query.subquery()
        connection.execute(insert(table).from_select(
            ["grain", *_COLUMNS], select(literal(DAY, String), *[selected.c[c] for c in _COLUMNS])))
    t = table.c
    grouping = (t.day, t.measure, t.department_id, t.item, t.bucket)
    connection.execute(insert(table).from_select(["grain", *_COLUMNS], select(
        literal(DAY, String), t.day, t.measure, t.department_id, literal(ANY_ID, Integer), literal(ANY_ID, Integer),
        literal(ANY_SEVERITY, String), t.item, t.bucket, func.sum(t.n), func.sum(t.a), func.sum(t.b))
        .where(t.grain == DAY, t.measure.in_([m.name for m in _measures()])).group_by(*grouping)))


def _insert_months(connection: Connection, table) -> None:  # noqa: ANN001
    t = table.c
    month = _month_of_day(connection, t.day)
    query = (select(literal(MONTH, String), month, *[t[c] for c in _KEY], func.sum(t.n), func.sum(t.a), func.sum(t.b))
             .where(t.grain == DAY, t.measure.in_(measure_names())).group_by(month, *[t[c] for c in _KEY]))
    connection.execute(insert(table).from_select(["grain", *_COLUMNS], query))


def _insert_years(connection: Connection, table) -> None:  # noqa: ANN001
    t = table.c
    year = (cast(func.date_trunc("year", t.day), Date) if _is_postgres(connection)
            else func.date(t.day, "start of year"))
    connection.execute(insert(table).from_select(["grain", *_COLUMNS], select(
        literal(YEAR, String), year, *[t[c] for c in _KEY], func.sum(t.n), func.sum(t.a), func.sum(t.b))
        .where(t.grain == MONTH, t.measure.in_(measure_names())).group_by(year, *[t[c] for c in _KEY])))


def _next_month(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1)


def _spans(days: list[date]) -> list[tuple[datetime, datetime]]:
    """Consecutive days as [start, end) instants."""
    out: list[list[date]] = []
    for day in sorted(set(days)):
        if out and day == out[-1][1] + timedelta(days=1):
            out[-1][1] = day
        else:
            out.append([day, day])
    return [(datetime.combine(a, datetime.min.time()), datetime.combine(b + timedelta(days=1), datetime.min.time()))
            for a, b in out]


# -- marking: what a transaction may have moved ---------------------------------------------------------------------

def mark_days(connection: Connection, days: Iterable[date]) -> None:
    days = sorted({d for d in days if d is not None})
    if days:
        connection.execute(insert(StatsDirtyDay.__table__), [{"day": d} for d in days])


def mark_cases(connection: Connection, ids: Iterable[int], days: Iterable[date] = ()) -> None:
    """Mark every day these cases count on (each of their dated facts, as they are now), and `days`."""
    ids = sorted(set(ids))
    marked: set[date] = {d for d in days if d is not None}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        parts = [select(day_of(connection, column).label("day")).where(key.in_(chunk), column.is_not(None))
                 for _, key, columns in FACT_DATES for column in columns]
        marked.update(as_date(d) for d in connection.execute(union(*parts)).scalars())
    mark_days(connection, marked)


def as_date(value) -> date:  # noqa: ANN001
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


@dataclass
class Moved:
    """What a transaction's ORM writes may have moved: cases whose every day is marked (a new or removed case, a
    dimension or routing changed), cases whose closure day is (a responsibility share written), and days."""
    whole: set[int]
    closure: set[int]
    days: set[date]

    def __bool__(self) -> bool:
        return bool(self.whole or self.closure or self.days)

    def update(self, other: "Moved") -> None:
        self.whole |= other.whole
        self.closure |= other.closure
        self.days |= other.days


_DIMENSIONS = ("category_id", "channel_id", "severity")
# a case column a measure counts on one of the case's days (received: repeats; closed: on time, cause)
_ON_DAY = {"original_id": "received_at", "closed_late": "closed_at", "cause_code": "closed_at",
           **{column.key: "received_at" for column in PROFILE_FIELDS}}


def moved(new: Iterable[object], dirty: Iterable[object], deleted: Iterable[object]) -> Moved:
    """From a flush's new, changed and removed rows and their ORM history: the days each may have moved, before and
    after. The stored clocks, rewritten past the ORM, mark their own (`mark_clocks`)."""
    from sqlalchemy import inspect
    out = Moved(set(), set(), set())

    def values(state, key: str) -> list:  # noqa: ANN001
        history = state.attrs[key].history
        return [v for v in (*history.added, *history.deleted, *history.unchanged) if v is not None]

    def changed(state, key: str) -> bool:  # noqa: ANN001
        return state.attrs[key].history.has_changes()

    for kind, objects in (("new", new), ("dirty", dirty), ("deleted", deleted)):
        for obj in objects:
            if isinstance(obj, ServiceRequest):
                state = inspect(obj)
                if kind != "dirty" or changed(state, "received_at") or changed(state, "kind"):
                    out.days.update(as_date(v) for v in values(state, "received_at"))
                continue
            if not isinstance(obj, FACT_MODELS):
                continue
            state = inspect(obj)
            if isinstance(obj, Complaint):
                if kind != "dirty" or any(changed(state, key) for key in _DIMENSIONS):
                    out.whole.add(obj.id)
                    for key in ("received_at", "accepted_at", "closed_at"):
                        out.days.update(as_date(v) for v in values(state, key))
                    continue
                for key in ("received_at", "accepted_at", "closed_at"):
                    if changed(state, key):
                        out.days.update(as_date(v) for v in values(state, key))
                for key, day in _ON_DAY.items():
                    if changed(state, key):
                        out.days.update(as_date(v) for v in values(state, day))
            elif isinstance(obj, ComplaintDepartment):
                if kind != "dirty" or changed(state, "department_id") or changed(state, "complaint_id"):
                    out.whole.add(obj.complaint_id)          # routed or unrouted: the case moves department
                    out.days.update(as_date(v) for v in values(state, "report_submitted_at"))
                elif changed(state, "report_submitted_at") or changed(state, "cause_code"):
                    out.days.update(as_date(v) for v in values(state, "report_submitted_at"))
            elif isinstance(obj, ResponsibilityShare):
                out.closure.add(obj.complaint_id)
            else:                                            # a reminder or a follow-up: its own day
                key = "issued_at" if isinstance(obj, Reminder) else "visited_at"
                if kind != "dirty" or any(changed(state, a.key) for a in state.mapper.column_attrs):
                    out.days.update(as_date(v) for v in values(state, key))
                    if kind == "dirty" and changed(state, "complaint_id"):
                        out.whole.update(v for v in values(state, "complaint_id"))
    out.whole.discard(None)
    out.closure.discard(None)
    return out


def mark(connection: Connection, what: Moved) -> None:
    days = set(what.days)
    if what.closure:
        closure = sorted(what.closure)
        for start in range(0, len(closure), _CHUNK):
            days.update(as_date(d) for d in connection.execute(
                select(Complaint.closed_at).where(Complaint.id.in_(closure[start:start + _CHUNK]),
                                                  Complaint.closed_at.is_not(None))).scalars())
    mark_cases(connection, what.whole, days)


_CLOCK_FIGURES = ("stopped_at", "late", "duration_s", "case_received_at")


def mark_clocks(connection: Connection, ids: list[int], rows: list[dict]) -> None:
    """Before the stored clocks of these cases are replaced by `rows`: mark the stop days of the clocks whose stop,
    lateness, duration or rule version changes (the old one and the new one), and the closure day of a case whose
    closure clock changes (its on-time count)."""
    old: dict[tuple, tuple] = {}
    t = CaseClock.__table__.c
    for start in range(0, len(ids), _CHUNK):
        for row in connection.execute(select(t.complaint_id, t.clock_key, *[t[c] for c in _CLOCK_FIGURES])
                                      .where(t.complaint_id.in_(ids[start:start + _CHUNK]))):
            old[(row.complaint_id, row.clock_key)] = tuple(row[2:])
    new = {(r["complaint_id"], r["clock_key"]): tuple(r[c] for c in _CLOCK_FIGURES) for r in rows}
    days: set[date] = set()
    closure: set[int] = set()
    for key in set(old) | set(new):
        before, after = old.get(key), new.get(key)
        if _same_clock(before, after):
            continue
        for figures in (before, after):
            if figures is not None and figures[0] is not None:
                days.add(as_date(figures[0]))
        if key[1] == CLOSURE_CLOCK:
            closure.add(key[0])
    mark(connection, Moved(set(), closure, days))


def _same_clock(before: tuple | None, after: tuple | None) -> bool:
    if before is None or after is None:
        return before is None and after is None or (before or after)[0] is None   # never stopped: counts nowhere
    return all(_comparable(a) == _comparable(b) for a, b in zip(before, after))


def _comparable(value):  # noqa: ANN001, ANN202
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return int(value) if float(value).is_integer() else value
    return value


# -- refreshing, rebuilding, verifying ----------------------------------------------------------------------------

def _take_turn(connection: Connection) -> None:
    if _is_postgres(connection):
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(190419)")


def pending(session: Session) -> bool:
    return session.execute(select(StatsDirtyDay.id).limit(1)).first() is not None


def span(period) -> ColumnElement[bool]:  # noqa: ANN001
    """The rollup rows that add up to a period (`domain.statistics.Period`): its whole years (grain Y), its other
    whole months (grain M), and its other days (grain D)."""
    r = StatsRollup
    return or_(*[and_(r.grain == grain, r.day >= first, r.day <= last) for grain, first, last in pieces(period)])


def pieces(period) -> list[tuple[str, date, date]]:  # noqa: ANN001
    """(grain, first key, last key) ranges that cover the period's days exactly once."""
    one = timedelta(days=1)
    months = [m for m in period.months() if m.first >= period.first and m.last <= period.last]
    if not months:
        return [(DAY, period.first, period.last)]
    out = []
    if period.first < months[0].first:
        out.append((DAY, period.first, months[0].first - one))
    if months[-1].last < period.last:
        out.append((DAY, months[-1].last + one, period.last))
    first, last = months[0].first, months[-1].first
    years = [y for y in range(first.year, last.year + 1) if date(y, 1, 1) >= first and date(y, 12, 1) <= last]
    if not years:
        return [*out, (MONTH, first, last)]
    if first < date(years[0], 1, 1):
        out.append((MONTH, first, date(years[0] - 1, 12, 1)))
    if date(years[-1], 12, 1) < last:
        out.append((MONTH, date(years[-1] + 1, 1, 1), last))
    return [*out, (YEAR, date(years[0], 1, 1), date(years[-1], 1, 1))]


def bring_up_to_date(uow) -> int:  # noqa: ANN001
    """Before a read of the statistics: the marked days recomputed in a short transaction of their own (nothing is
    written when no day is marked). Returns how many days."""
    with uow.read() as session:
        if not pending(session):
            return 0
    with uow.write() as session:
        return refresh(session)


def refresh(session: Session) -> int:
    """Bring every marked day up to date; returns how many days. Each day's rows are computed from the raw tables and
    compared with the stored ones; only the difference is written, to the day and (summed) to its month, as
    increments (an upsert adding the change), and rows that fall to zero go. So a refresh costs what the day holds,
    not what its month holds."""
    connection = session.connection()
    _take_turn(connection)
    marks = connection.execute(select(StatsDirtyDay.id, StatsDirtyDay.day)).all()
    if not marks:
        return 0
    days = sorted({as_date(d) for _, d in marks})
    names = measure_names()
    t = StatsRollup.__table__.c
    for start in range(0, len(days), 31):
        chunk = days[start:start + 31]
        change: dict[tuple, list[int]] = {}
        for row in raw_day_rows(connection, _spans(chunk)):
            change[_key(row)] = list(_sums(row))
        for row in connection.execute(select(StatsRollup.__table__).where(
                t.grain == DAY, t.measure.in_(names), t.day.in_(chunk))):
            sums = change.setdefault(_key(row), [0, 0, 0])
            for i, value in enumerate(_sums(row)):
                sums[i] -= value
        change = {key: sums for key, sums in change.items() if any(sums)}
        months: dict[tuple, list[int]] = {}
        for key, sums in change.items():
            total = months.setdefault((key[0].replace(day=1), *key[1:]), [0, 0, 0])
            for i, value in enumerate(sums):
                total[i] += value
        years: dict[tuple, list[int]] = {}
        for key, sums in months.items():
            total = years.setdefault((key[0].replace(month=1), *key[1:]), [0, 0, 0])
            for i, value in enumerate(sums):
                total[i] += value
        _add(connection, DAY, change)
        _add(connection, MONTH, {k: v for k, v in months.items() if any(v)})
        _add(connection, YEAR, {k: v for k, v in years.items() if any(v)})
        keys = {*chunk, *(d.replace(day=1) for d in chunk), *(d.replace(month=1, day=1) for d in chunk)}
        connection.execute(delete(StatsRollup.__table__).where(
            t.grain.in_([DAY, MONTH, YEAR]), t.measure.in_(names), t.day.in_(sorted(keys)),
            t.n == 0, t.a == 0, t.b == 0))
    ids = [i for i, _ in marks]
    for start in range(0, len(ids), 1000):
        connection.execute(delete(StatsDirtyDay.__table__).where(StatsDirtyDay.id.in_(ids[start:start + 1000])))
    return len(days)


def _add(connection: Connection, grain: str, change: dict[tuple, list[int]]) -> None:
    """Add each change to its row (grain, key), creating the row when there is none."""
    if not change:
        return
    from sqlalchemy.dialects import postgresql, sqlite
    dialect = postgresql if _is_postgres(connection) else sqlite
    table = StatsRollup.__table__
    statement = dialect.insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=[c.name for c in table.primary_key.columns],
        set_={name: table.c[name] + statement.excluded[name] for name in ("n", "a", "b")})
    rows = [dict(zip(("day", *_KEY), key), grain=grain, n=n, a=a, b=b) for key, (n, a, b) in change.items()]
    for start in range(0, len(rows), 2000):
        connection.execute(statement, rows[start:start + 2000])


def rebuild(connection: Connection) -> int:
    """Every rollup row from the raw tables (after a restore, a migration or a bulk load); returns the rows."""
    _take_turn(connection)
    connection.execute(delete(StatsDirtyDay.__table__))
    connection.execute(delete(StatsRollup.__table__))
    _build(connection, StatsRollup.__table__)
    if _is_postgres(connection):
        # the rows in key order (SQLite keeps the table in its key's order itself): a year's rows of a measure are
        # then a few hundred pages, not one page each (the year view read 25,000 scattered pages at a million cases)
        connection.exec_driver_sql("CLUSTER stats_rollup USING stats_rollup_pkey")
        connection.exec_driver_sql("ANALYZE stats_rollup")
    return connection.execute(select(func.count()).select_from(StatsRollup)).scalar_one()


def _build(connection: Connection, table) -> None:  # noqa: ANN001
    """Every day, month and year row from the raw tables into `table` (the rollup's own, or a check's copy)."""
    with bulk_sorts(connection):
        _insert_days(connection, table)
        _insert_months(connection, table)
        _insert_years(connection, table)


def _key(row) -> tuple:  # noqa: ANN001
    return (as_date(row.day), row.measure, int(row.department_id), int(row.category_id), int(row.channel_id),
            str(row.severity), str(row.item), int(row.bucket))


def _sums(row) -> tuple[int, int, int]:  # noqa: ANN001
    return (int(row.n or 0), int(row.a or 0), int(row.b or 0))


def differences_in_database(session: Session) -> list[str]:
    """`differences` over the whole history with the database doing the work (what `stats verify` runs: at a million
    cases the raw rows are tens of millions, more than a process should hold): refresh, build every row from the raw
    tables into a temporary table as `rebuild` would, then read only the rows that differ, each way (a stored row of
    zeros counts as none). One line per difference, empty when they agree."""
    if pending(session):
        refresh(session)
    connection = session.connection()
    stored = StatsRollup.__table__
    check = Table("stats_rollup_check", MetaData(), *[Column(c.name, c.type) for c in stored.columns],
                  prefixes=["TEMPORARY"])
    check.drop(connection, checkfirst=True)
    check.create(connection)            # (a failure rolls the transaction back, the temporary table with it)
    _build(connection, check)
    columns = ["grain", *_COLUMNS]

    def only_in(first, second):  # noqa: ANN001, ANN202
        rows = select(*[first.c[c] for c in columns]).where(or_(first.c.n != 0, first.c.a != 0, first.c.b != 0))
        return rows.except_(select(*[second.c[c] for c in columns]))
    raw = {(row.grain, _key(row)): _sums(row) for row in connection.execute(only_in(check, stored))}
    kept = {(row.grain, _key(row)): _sums(row) for row in connection.execute(only_in(stored, check))}
    check.drop(connection)
    grains = {DAY: 0, MONTH: 1, YEAR: 2}
    return [f"{grain} {key[0]} {'/'.join(str(k) for k in key[1:])}: raw {raw.get((grain, key))}, "
            f"rollup {kept.get((grain, key))}"
            for grain, key in sorted(set(raw) | set(kept), key=lambda k: (grains[k[0]], str(k[1])))]


def differences(session: Session, month: date | None = None) -> list[str]:
    """Refresh, then compare every rollup row (days and months, or one month's) with the raw tables; one line per
    difference, empty when they agree."""
    if pending(session):
        refresh(session)
    connection = session.connection()
    spans = None if month is None else [(datetime.combine(month, datetime.min.time()),
                                         datetime.combine(_next_month(month), datetime.min.time()))]
    raw_days: dict[tuple, tuple] = {}
    for row in raw_day_rows(connection, spans):
        raw_days[_key(row)] = _sums(row)
    raw_months: dict[tuple, list[int]] = {}
    raw_years: dict[tuple, list[int]] = {}
    for key, sums in raw_days.items():
        for into, first in ((raw_months, key[0].replace(day=1)), (raw_years, key[0].replace(month=1, day=1))):
            total = into.setdefault((first, *key[1:]), [0, 0, 0])
            for i, v in enumerate(sums):
                total[i] += v
    t = StatsRollup.__table__.c
    kept: dict[str, dict[tuple, tuple]] = {DAY: {}, MONTH: {}, YEAR: {}}
    query = select(StatsRollup.__table__)
    if month is not None:              # the month's days and month row (its year holds other months too)
        query = query.where(t.grain != YEAR, t.day >= month, t.day < _next_month(month))
    for row in connection.execute(query):
        kept[row.grain][_key(row)] = _sums(row)
    out = []
    grains = [(DAY, raw_days), (MONTH, {k: tuple(v) for k, v in raw_months.items()})]
    if month is None:
        grains.append((YEAR, {k: tuple(v) for k, v in raw_years.items()}))
    for grain, raw in grains:
        for key in sorted(set(raw) | set(kept[grain]), key=str):
            want, have = raw.get(key), kept[grain].get(key)
            if want != have and not (want is None and have == (0, 0, 0)):
                out.append(f"{grain} {key[0]} {'/'.join(str(k) for k in key[1:])}: raw {want}, rollup {have}")
    return out
