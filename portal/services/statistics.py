"""统计分析: the monthly complaint statistics table (客户投诉案件统计表, 002 art.13.9), early
warnings (004 ch.9), and compiled monthly snapshots.

Every figure is aggregated in the database (counts, sums, averages grouped by a handful of
codes); Python only arranges the few result rows. What each figure counts is written down in
`portal.domain.statistics`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, String, and_, case, distinct, func, literal, or_, select, true, union_all
from sqlalchemy.orm import Session

from portal.domain.errors import DomainError, NotFound, PermissionDenied
from portal.domain.lifecycle import OPEN_STATES
from portal.domain.roles import Role
from portal.domain.satisfaction import DIMENSIONS
from portal.domain.closing import baseline_gap, cause_parent, complaint_rate
from portal.domain.statistics import (AGE_BUCKETS, SATISFACTION_INDICATOR, CompileStatus, Indicator, Period,
                                      ageing_in_order, baseline_key, compile_status, early_warnings,
                                      fold_profile_fields, growth_comparison, in_force_day, minute_floor,
                                      nearest_rank_index, rate, thresholds_from, trend_months)
from portal.persistence.database import UnitOfWork
from portal.persistence.models import (CaseClock, Category, Channel, Complaint, ComplaintDepartment, Department,
                                       PoliciesInForce, Policy, StatsRollup, StatsSnapshot, User)
from portal.services import rules, stats_rollup
from portal.services.actors import Actor, fresh_actor
from portal.services.audit import record_event
from portal.services.rectification import rectification_kpis
from portal.services.reminders import KINDS as REMINDER_KINDS

READERS = (Role.MANAGER, Role.GM_OFFICE, Role.ADMIN)
_OPEN = [s.value for s in OPEN_STATES]


@dataclass(frozen=True)
class StatsFilter:
    period: Period
    department: str | None = None
    category: str | None = None
    channel: str | None = None
    severity: str | None = None

    def as_dict(self) -> dict:
        return {"department": self.department, "category": self.category, "channel": self.channel,
                "severity": self.severity}


def _code_maps(session: Session) -> dict[str, dict[int, str]]:
    """id → code of categories, channels and departments, read in one statement."""
    names = (("category", Category), ("channel", Channel), ("department", Department))
    out: dict[str, dict[int, str]] = {name: {} for name, _ in names}
    for name, key, code in session.execute(union_all(*(select(literal(name, String).label("kind"), model.id, model.code)
                                                       for name, model in names))).all():
        out[name][key] = code
    return out


def _case_conditions(session: Session, filters: StatsFilter,
                     codes: dict[str, dict[int, str]] | None = None) -> list[ColumnElement[bool]]:
    """The filters as conditions on the complaints table. `codes`: `_code_maps` when already read (the codes
    are then found there instead of read again)."""
    def id_of(kind: str, model, code: str) -> int | None:  # noqa: ANN001
        if codes is None:
            return session.scalar(select(model.id).where(model.code == code))
        return next((key for key, value in codes[kind].items() if value == code), None)

    out: list[ColumnElement[bool]] = []
    for code, kind, model, column in ((filters.category, "category", Category, Complaint.category_id),
                                      (filters.channel, "channel", Channel, Complaint.channel_id)):
        if code:
            out.append(column == id_of(kind, model, code))
    if filters.severity:
        out.append(Complaint.severity == filters.severity)
    if filters.department:
        department_id = id_of("department", Department, filters.department)
        out.append(Complaint.id.in_(select(ComplaintDepartment.complaint_id)
                                    .where(ComplaintDepartment.department_id == department_id)))
    return out


def _in(column, period: Period) -> ColumnElement[bool]:  # noqa: ANN001
    return and_(column >= period.start, column < period.end)


def _of_cases(query, key, conditions):  # noqa: ANN001, ANN202
    """Restrict a query on a table with a complaint key to the filtered cases."""
    if not conditions:
        return query
    return query.where(key.in_(select(Complaint.id).where(*conditions)))


@dataclass(frozen=True)
class _Scope:
    """The filters three ways: as conditions on the complaints table (what is read raw: open cases, overdue, ageing,
    profile, filtered percentiles); on the rollup's rows by mix of category, channel and severity (`dims`, what is
    grouped by them); on the rows a figure sums (`rows`: the total rows when no case dimension is filtered, else the
    matching mixes). `department_id`: the chosen department's id (None: every case; -1: a code that does not exist)."""
    conditions: list
    dims: list
    rows: list
    department_id: int | None


def _scope(session: Session, filters: StatsFilter, codes: dict[str, dict[int, str]]) -> _Scope:
    def id_of(kind: str, code: str) -> int:
        return next((key for key, value in codes[kind].items() if value == code), -2)

    r = StatsRollup
    department = id_of("department", filters.department) if filters.department else None
    chosen = [r.department_id == (stats_rollup.EVERY_CASE if department is None else department)]
    mixes = [r.category_id != stats_rollup.ANY_ID]                 # never a total row
    if filters.category:
        mixes.append(r.category_id == id_of("category", filters.category))
    if filters.channel:
        mixes.append(r.channel_id == id_of("channel", filters.channel))
    if filters.severity:
        mixes.append(r.severity == filters.severity)
    totals = [r.category_id == stats_rollup.ANY_ID, r.channel_id == stats_rollup.ANY_ID,
              r.severity == stats_rollup.ANY_SEVERITY]
    filtered = bool(filters.category or filters.channel or filters.severity)
    return _Scope(_case_conditions(session, filters, codes), [*chosen, *mixes],
                  [*chosen, *(mixes if filtered else totals)], department)


_span = stats_rollup.span


def _rolled(session: Session, measures: list[str], span: ColumnElement[bool], dims: list, *by) -> list:  # noqa: ANN002
    """Sums (n, a, b) of the rollup's measures over a span, grouped by measure and `by` (rollup columns)."""
    r = StatsRollup
    return session.execute(select(r.measure, *by, func.sum(r.n), func.sum(r.a), func.sum(r.b))
                           .where(r.measure.in_(measures), span, *dims).group_by(r.measure, *by)).all()


def _dimensions(session: Session, scope: _Scope, period: Period, codes) -> dict[str, list[dict]]:  # noqa: ANN001
    """By category, channel and severity: the rollup's received (with repeats) and closed (with on time) over the
    period, folded into the three breakdowns."""
    r = StatsRollup
    groups = _rolled(session, ["received", "closed"], _span(period), scope.dims, r.category_id, r.channel_id,
                     r.severity)
    out = {}
    for position, key, names in ((1, "category", codes["category"]), (2, "channel", codes["channel"]),
                                 (3, "severity", None)):
        rows: dict = {}
        for group in groups:
            row = rows.setdefault(group[position], [0, 0, 0, 0])
            at = 0 if group.measure == "received" else 2
            row[at] += int(group[4] or 0)
            row[at + 1] += int(group[5] or 0)
        out[f"by_{key}"] = [{key: names.get(value, value) if names else value, "received": n, "repeats": r_,
                             "closed": c, "closed_on_time": m, "on_time_rate": rate(m, c)}
                            for value, (n, r_, c, m) in sorted(rows.items(), key=lambda item: str(item[0]))]
    return out


def overdue_clocks_at(conditions, as_of: datetime, keys: list[str]):  # noqa: ANN001, ANN201
    """(complaint_id, clock_key) of every clock past its due at `as_of`, not on hold then, of a case
    open then. The clocks running at `as_of` are those still running (a covering partial index) and
    those that stopped after it; the case's closure time is stored on each clock row, so no join is
    needed unless the statistics are filtered."""
    def running_then(*more):  # noqa: ANN001, ANN202
        query = select(CaseClock.complaint_id, CaseClock.clock_key).where(
            CaseClock.due_at < as_of, CaseClock.started_at <= as_of,
            or_(CaseClock.case_closed_at.is_(None), CaseClock.case_closed_at >= as_of), *more)
        return _of_cases(query, CaseClock.complaint_id, conditions)

    return union_all(
        running_then(CaseClock.stopped_at.is_(None),
                     or_(CaseClock.held_since.is_(None), CaseClock.held_since > as_of)),
        running_then(CaseClock.clock_key.in_(keys), CaseClock.stopped_at > as_of))


def _overdue_at(session: Session, conditions, as_of: datetime, keys: list[str], now: datetime,  # noqa: ANN001
                ageing: list[dict] | None = None):
    """Open cases at `as_of` with a clock past its due then: per clock, and in all. Now (a period still running):
    the open cases' running clocks past their due (an index range), and the open cases whose stored `next_due_at`
    is past, which is the ageing's overdue status (`_ageing`: the same open cases, the same comparison), so it is
    summed from the ageing rows rather than counted again; at a past moment, from the clocks as they ran then."""
    if as_of >= now:
        by_clock = _of_cases(select(CaseClock.clock_key, func.count()).where(
            CaseClock.stopped_at.is_(None), CaseClock.case_closed_at.is_(None), CaseClock.held_since.is_(None),
            CaseClock.due_at < as_of, CaseClock.started_at <= as_of), CaseClock.complaint_id, conditions)
        rows = session.execute(by_clock.group_by(CaseClock.clock_key)).all()
        ageing = _ageing(session, conditions, now) if ageing is None else ageing
        return sum(r["count"] for r in ageing if r["status"] == "overdue"), {k: int(n) for k, n in rows}
    overdue = overdue_clocks_at(conditions, as_of, keys).cte("overdue_then")
    overdue = overdue.prefix_with("MATERIALIZED")
    rows = session.execute(
        union_all(select(overdue.c.clock_key, func.count().label("n")).group_by(overdue.c.clock_key),
                  select(literal(None, String).label("clock_key"),
                         func.count(distinct(overdue.c.complaint_id)).label("n")))).all()
    by_clock = {k: int(n) for k, n in rows if k is not None}
    cases = next((int(n) for k, n in rows if k is None), 0)
    return cases, by_clock


def _open_then(conditions, as_of: datetime) -> list:  # noqa: ANN001
    """How many cases were open at `as_of` (still open, or closed after it): two index ranges, as scalars."""
    return [select(func.count()).select_from(Complaint).where(
                Complaint.closed_at.is_(None), Complaint.received_at < as_of, *conditions).scalar_subquery(),
            select(func.count()).select_from(Complaint).where(
                Complaint.closed_at >= as_of, Complaint.received_at < as_of, *conditions).scalar_subquery()]


def _clock_rows(session: Session, scope: _Scope, period: Period, overdue_by_clock: dict[str, int],
                keys: list[str]) -> list[dict]:
    """Per clock: stopped in the period (with late known), met, late, average (the rollup's sums) and the 90th
    percentile (read raw, `_p90`)."""
    r = StatsRollup
    figures = {item: (int(n), int(late or 0), None if not n else float(seconds or 0) / int(n))
               for _, item, n, late, seconds in _rolled(session, ["clock"], _span(period), scope.rows, r.item)
               if item in keys}
    p90 = _p90(session, scope, period, {k: v[0] for k, v in figures.items()})
    out = []
    for key in keys:
        n, late, avg = figures.get(key, (0, 0, None))
        out.append({"clock": key, "completed": n, "met": n - late, "late": late, "compliance": rate(n - late, n),
                    "avg_hours": None if avg is None else avg / 3600,
                    "p90_hours": None if p90.get(key) is None else p90[key] / 3600,
                    "overdue_at_end": overdue_by_clock.get(key, 0)})
    return out


def _p90(session: Session, scope: _Scope, period: Period, counts: dict[str, int]) -> dict[str, float]:
    """Nearest-rank 90th percentile of each clock's duration, at whole minutes (`minute_floor`).

    Unfiltered: the rollup's stops per whole hour taken (`clock_hour`) say in which hour the rank falls and at which
    place within it; one bounded read of the durations index (clock, duration, stop) inside that hour then finds the
    value. Filtered by a case dimension: PostgreSQL's percentile_disc; on SQLite the value at that rank read from
    the top (ORDER BY … DESC LIMIT 1 OFFSET n − rank), a bounded sort of the top tenth."""
    keys = [key for key, n in counts.items() if n]
    if not keys:
        return {}
    conditions = scope.conditions
    stopped = and_(_in(CaseClock.stopped_at, period), CaseClock.late.is_not(None))
    if not conditions:
        r = StatsRollup
        hours: dict[str, list[tuple[int, int]]] = {}
        for key, hour, n in session.execute(
                select(r.item, r.bucket, func.sum(r.n)).where(r.measure == stats_rollup.CLOCK_HOURS, _span(period),
                                                             r.department_id == stats_rollup.EVERY_CASE,
                                                             r.item.in_(keys))
                .group_by(r.item, r.bucket)).all():
            hours.setdefault(key, []).append((int(hour), int(n)))
        places = {}
        for key in keys:
            rank, seen = nearest_rank_index(counts[key]), 0
            for hour, n in sorted(hours.get(key, [])):
                if seen + n > rank:
                    places[key] = (hour, rank - seen)
                    break
                seen += n
        found = [select(CaseClock.duration_s).where(
                     CaseClock.clock_key == key, CaseClock.duration_s >= hour * stats_rollup.HOUR,
                     CaseClock.duration_s < (hour + 1) * stats_rollup.HOUR, stopped)
                 .order_by(CaseClock.duration_s).limit(1).offset(offset).scalar_subquery()
                 for key, (hour, offset) in places.items()]
        values = session.execute(select(*found)).one() if found else ()
        return {key: float(minute_floor(value)) for key, value in zip(places, values) if value is not None}
    if session.get_bind().dialect.name == "postgresql":     # one pass, grouped, sorts in memory
        query = _of_cases(select(CaseClock.clock_key, func.percentile_disc(0.9).within_group(CaseClock.duration_s))
                          .where(stopped, CaseClock.clock_key.in_(keys)), CaseClock.complaint_id, conditions)
        return {k: float(minute_floor(v)) for k, v in session.execute(query.group_by(CaseClock.clock_key)).all()}
    # every clock's value at its rank, each a bounded scan of its own index range, in one statement
    ranks = [_of_cases(select(CaseClock.duration_s).where(stopped, CaseClock.clock_key == key), CaseClock.complaint_id,
                       conditions).order_by(CaseClock.duration_s.desc()).limit(1)
             .offset(counts[key] - 1 - nearest_rank_index(counts[key])).scalar_subquery() for key in keys]
    values = session.execute(select(*ranks)).one()
    # rounding down is monotonic: the minute of the value at the rank is the value at the rank of the minutes
    return {key: float(minute_floor(value)) for key, value in zip(keys, values)}


def _departments(session, scope: _Scope, period, codes) -> tuple[list[dict], list[dict]]:  # noqa: ANN001
    """By department (routed, responsible with its share, compliance of its own steps) and the
    department × category table of the cases received in the period. With a department chosen, only its rows: a
    case routed to it and to 技术部 counts for it, not for 技术部. From the rollup: the cases routed to a department
    are its rows (department d), its own steps' clocks the `owned` measure there (the clocks whose rule, in the
    version the case was received under, stops at a department's step); the shares are of every case (or the
    chosen department's)."""
    r = StatsRollup
    routed_rows = [r.department_id != stats_rollup.EVERY_CASE] if scope.department_id is None else scope.dims[:1]
    span = _span(period)
    rest = scope.dims[1:]
    groups = _rolled(session, ["received", "owned"], span, [*routed_rows, *rest], r.department_id, r.category_id)
    shares = _rolled(session, ["share"], span, scope.rows, r.bucket)
    routed = [(d, c, int(n)) for measure, d, c, n, _, _ in groups if measure == "received"]
    sla: dict[int, tuple[int, int]] = {}
    for measure, d, _c, n, late, _ in groups:
        if measure == "owned":
            done, missed = sla.get(d, (0, 0))
            sla[d] = (done + int(n), missed + int(late or 0))
    responsible = {d: int(n) for _, d, n, _, _ in shares}
    weight = {d: int(w or 0) for _, d, _, w, _ in shares}
    routed_by_department: dict[int, int] = {}
    for department_id, _category, n in routed:
        routed_by_department[department_id] = routed_by_department.get(department_id, 0) + n
    total_weight = sum(weight.values())
    rows = []
    for department_id in sorted(set(routed_by_department) | set(responsible) | set(sla)):
        n, late = sla.get(department_id, (0, 0))
        rows.append({"department": codes["department"].get(department_id, str(department_id)),
                     "routed": routed_by_department.get(department_id, 0),
                     "responsible": int(responsible.get(department_id, 0)),
                     "responsibility_ratio": rate(weight.get(department_id, 0), total_weight),
                     "clocks_completed": n, "clocks_met": n - late, "compliance": rate(n - late, n)})
    heat = [{"department": codes["department"].get(d, str(d)), "category": codes["category"].get(c, str(c)),
             "count": n} for d, c, n in routed if n]
    if scope.department_id is not None:
        only = codes["department"].get(scope.department_id)
        rows = [row for row in rows if row["department"] == only]
        heat = [row for row in heat if row["department"] == only]
    return rows, heat


def _trend(session, scope: _Scope, period) -> list[dict]:  # noqa: ANN001
    """Received, closed and closed late per month over the trend's months: the rollup's months (received; the
    closure clock's stops, which carry `late`), one statement."""
    r = StatsRollup
    months = trend_months(period)
    span = and_(r.grain == stats_rollup.MONTH, r.day >= months[0].first, r.day <= months[-1].first)
    groups = _rolled(session, ["received", "closure_stop"], span, scope.rows, r.day)
    received = {stats_rollup.as_date(d): int(n) for m, d, n, _, _ in groups if m == "received"}
    closed = {stats_rollup.as_date(d): (int(n), int(late or 0)) for m, d, n, late, _ in groups if m == "closure_stop"}
    return [{"month": month.label, "received": received.get(month.first, 0),
             "closed": closed.get(month.first, (0, 0))[0], "closed_late": closed.get(month.first, (0, 0))[1]}
            for month in months]


def _ageing(session, conditions, now: datetime) -> list[dict]:  # noqa: ANN001
    """Open cases now by days open and the worst badge of their running clocks, read from the case's stored badge
    times (`next_due_at`, `next_soon_at`, `held_clock`; `domain.priority.worst_badge` is the rule): one grouped
    range of the ageing index over the open states."""
    bucket = case(*[(Complaint.received_at > now - timedelta(days=limit), name)
                    for name, limit in AGE_BUCKETS if limit is not None], else_=AGE_BUCKETS[-1][0]).label("bucket")
    worst = case((Complaint.next_due_at < now, "overdue"), (Complaint.next_soon_at < now, "due_soon"),
                 (Complaint.held_clock == true(), "paused"), else_="on_track").label("status")
    groups = session.execute(select(bucket, worst, func.count()).where(Complaint.state.in_(_OPEN), *conditions)
                             .group_by(bucket, worst)).all()
    return ageing_in_order([{"bucket": b, "status": w, "count": int(n)} for b, w, n in groups])


def _satisfaction(session, scope: _Scope, period, satisfied: int, settings: dict[str, str],  # noqa: ANN001
                  thresholds: dict[Indicator, float]) -> list[dict]:
    """Per dimension: surveys, average, satisfied, rate, and the seed's baseline (004 §1.2) with the
    gap (rate − baseline) and the threshold that dimension warns below. From the rollup: the surveys, and how many
    answered each score on each dimension."""
    r = StatsRollup
    surveys, answered, total, happy = 0, {}, {}, {}
    for measure, dimension, score, n, _, _ in _rolled(session, ["survey", "score"], _span(period), scope.rows,
                                                      r.item, r.bucket):
        if measure == "survey":
            surveys += int(n)
            continue
        answered[dimension] = answered.get(dimension, 0) + int(n)
        total[dimension] = total.get(dimension, 0) + int(n) * int(score)
        happy[dimension] = happy.get(dimension, 0) + (int(n) if int(score) >= satisfied else 0)
    out = []
    for d in DIMENSIONS:
        actual = rate(happy.get(d, 0), surveys)
        baseline = _setting_float(settings, baseline_key(d))
        out.append({"dimension": d, "surveys": surveys,
                    "average": total[d] / answered[d] if answered.get(d) else None,
                    "satisfied": happy.get(d, 0), "rate": actual, "baseline": baseline,
                    "gap": baseline_gap(actual, baseline),
                    "threshold": thresholds.get(SATISFACTION_INDICATOR[d])})
    return out


def _setting_float(settings: dict[str, str], key: str) -> float | None:
    value = (settings.get(key) or "").strip()
    return float(value) if value else None


def policies_in_force(session: Session, period: Period) -> tuple[int | None, str]:
    """The policies in force for a period's complaint rate and where the number came from: the policy
    register (policies covering the period's last day, `in_force_day`) when it holds any policy, else the
    administrator's figure for the month of that day (`policies_in_force`), else unknown (None, "none")."""
    return _policies_from(*session.execute(select(*_policy_scalars(period))).one())


def _policy_scalars(period: Period) -> list:
    """Whether the register holds any policy, how many cover the day, the administrator's figure: as scalars."""
    day = in_force_day(period)
    return [select(Policy.id).limit(1).scalar_subquery(),
            select(func.count()).select_from(Policy).where(Policy.end_date >= day, Policy.start_date <= day)
            .scalar_subquery(),
            select(PoliciesInForce.count).where(PoliciesInForce.period == f"{day:%Y-%m}").scalar_subquery()]


def _policies_from(kept, in_force, figure) -> tuple[int | None, str]:  # noqa: ANN001
    if kept is not None:
        return int(in_force or 0), "register"
    return (None, "none") if figure is None else (int(figure), "monthly_figure")


def _month_of(session: Session, column):  # noqa: ANN001, ANN202
    """YYYY-MM of a timestamp column, in the database (one grouped query instead of one per month)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _causes(session: Session, scope: _Scope, period: Period, codes) -> list[dict]:  # noqa: ANN001
    """Causes month by month over the trend's twelve months (001 总结; 004 §5.3.2): every department report
    with a cause counts once in the month it was submitted, for the department that wrote it (source
    `report`); every closure with a cause counts once in the month the case closed (source `closure`, no
    department). Counted by sub-cause; its class is the part before the dot. With a department chosen,
    only its reports (and the closures of the cases routed to it). From the rollup's months."""
    r = StatsRollup
    months = trend_months(period)
    span = and_(r.grain == stats_rollup.MONTH, r.day >= months[0].first, r.day <= months[-1].first)
    out = []
    for measure, day, cause, department, n, _, _ in _rolled(session, ["report_cause", "closure_cause"], span,
                                                           scope.rows, r.day, r.item, r.bucket):
        if measure == "report_cause" and scope.department_id is not None and department != scope.department_id:
            continue
        out.append({"month": f"{stats_rollup.as_date(day):%Y-%m}", "source": "report" if measure == "report_cause" else "closure",
                    "cause": cause, "class": cause_parent(cause),
                    "department": (codes["department"].get(department, str(department))
                                   if measure == "report_cause" else None), "count": int(n)})
    return sorted(out, key=lambda r_: (r_["month"], r_["source"], r_["department"] or "", r_["cause"]))


def _profile(session: Session, scope: _Scope, period: Period) -> dict[str, list[dict]]:
    """Complainant profile (000 §10, 003 §8): the complaints received in the period by gender, age band and
    occupation, counts only (no names, no numbers). From the rollup (`profile`: each field's values by day)."""
    r = StatsRollup
    return fold_profile_fields([(int(field), value, int(n)) for _, field, value, n, _, _ in _rolled(
        session, [stats_rollup.PROFILE], _span(period), scope.rows, r.bucket, r.item)])


@dataclass(frozen=True)
class _Core:
    received: int
    repeats: int
    accepted: int
    previous: int | None          # received in the comparison window (None: the period has not started)
    by_category: list[dict]
    dimensions: dict[str, list[dict]]
    closed: int
    closed_on_time: int
    overdue_open: int
    overdue_by_clock: dict[str, int]
    open_at_end: int
    satisfaction: list[dict]
    thresholds: dict[Indicator, float]
    policies_in_force: int | None
    policies_source: str            # register / monthly_figure / none
    clock_keys: list[str]
    reminders: dict[str, int]       # issued in the period, by kind (催办, 超期问询)


def _core(session: Session, scope: _Scope, period: Period, now: datetime, settings: dict[str, str],
          codes: dict[str, dict[int, str]], ageing: list[dict] | None = None) -> _Core:  # noqa: ANN001
    """The figures the early warnings need (and the table's headline counts)."""
    comparison = growth_comparison(period, now)
    as_of = min(period.end, now)
    conditions = scope.conditions
    # the cases open at the end and the policies in force: index ranges, one statement
    still_open, closed_later, *policy_facts = session.execute(select(
        *_open_then(conditions, as_of), *_policy_scalars(period))).one()
    # accepted and the reminders by kind in the period, and received in the comparison window: the rollup
    counts = {(m, item): int(n) for m, item, n, _, _ in _rolled(session, ["accepted", "reminder"], _span(period),
                                                                 scope.rows, StatsRollup.item)}
    previous = None
    if comparison is not None:
        previous = sum(int(n) for *_, n, _, _ in _rolled(session, ["received"], _span(comparison.previous),
                                                         scope.rows))
    open_at_end = int(still_open or 0) + int(closed_later or 0)
    policies, policies_source = _policies_from(*policy_facts)
    dimensions = _dimensions(session, scope, period, codes)
    by_category = dimensions["by_category"]
    received = sum(r["received"] for r in by_category)
    repeats = sum(r["repeats"] for r in by_category)
    keys = [c.rule.key for c in rules.clock_infos(session)]
    overdue_open, overdue_by_clock = _overdue_at(session, conditions, as_of, keys, now, ageing)
    thresholds = thresholds_from(settings)
    satisfaction = _satisfaction(session, scope, period, int(settings.get("stats.satisfied_min_score", "4")),
                                 settings, thresholds)
    return _Core(int(received), int(repeats), counts.get(("accepted", ""), 0), previous,
                 by_category, dimensions,
                 sum(r["closed"] for r in by_category), sum(r["closed_on_time"] for r in by_category),
                 overdue_open, overdue_by_clock, open_at_end, satisfaction, thresholds, policies, policies_source,
                 keys, {kind: counts.get(("reminder", kind), 0) for kind in REMINDER_KINDS})


def _rates_and_warnings(core: _Core, period: Period) -> tuple[dict, list[dict]]:
    overall = next(r for r in core.satisfaction if r["dimension"] == "overall")
    closed_late = core.closed - core.closed_on_time
    rates = {
        "on_time_rate": rate(core.closed_on_time, core.closed),
        "overdue_rate": rate(closed_late + core.overdue_open, core.closed + core.open_at_end),
        "repeat_rate": rate(core.repeats, core.received),
        "satisfaction": overall["rate"],
        "volume_growth": None if core.previous is None else rate(core.received - core.previous, core.previous),
        "complaint_rate": complaint_rate(core.received, core.policies_in_force),
    }
    by_dimension = {r["dimension"]: r["rate"] for r in core.satisfaction}
    warnings = early_warnings({**{SATISFACTION_INDICATOR[d]: by_dimension.get(d) for d in SATISFACTION_INDICATOR},
                               Indicator.OVERDUE_RATE: rates["overdue_rate"],
                               Indicator.REPEAT_RATE: rates["repeat_rate"],
                               Indicator.VOLUME_GROWTH: rates["volume_growth"],
                               Indicator.COMPLAINT_RATE: rates["complaint_rate"]}, core.thresholds, period.label)
    return rates, [{"indicator": w.indicator.value, "value": w.value, "threshold": w.threshold, "period": w.period}
                   for w in warnings]


def compute(session: Session, filters: StatsFilter, now: datetime) -> dict:
    """Every figure of the table for the filters, as plain JSON-ready values (codes, not labels)."""
    period = filters.period
    period.validate()
    settings = rules.settings(session)
    codes = _code_maps(session)
    scope = _scope(session, filters, codes)
    conditions = scope.conditions
    ageing = _ageing(session, conditions, now)
    core = _core(session, scope, period, now, settings, codes, ageing)
    by_channel, by_severity = core.dimensions["by_channel"], core.dimensions["by_severity"]
    reminders = core.reminders
    kpis = rectification_kpis(session, period.first, period.last)
    by_department, heat = _departments(session, scope, period, codes)
    comparison = growth_comparison(period, now)
    as_of = min(period.end, now)
    rates, warnings = _rates_and_warnings(core, period)
    rates["rectification_rate"] = rate(kpis["done_on_time"], kpis["due"])
    rates["rectification_effectiveness"] = rate(kpis["effective"], kpis["confirmed"])
    overall = next(r for r in core.satisfaction if r["dimension"] == "overall")
    return {
        "period": {"first": period.first.isoformat(), "last": period.last.isoformat(), "label": period.label,
                   "in_progress": period.start <= now < period.end},
        "filters": filters.as_dict(),
        "as_of": as_of.isoformat(sep=" ", timespec="minutes"),
        "comparison": None if comparison is None else {
            "current": [comparison.current.first.isoformat(), comparison.current.last.isoformat()],
            "previous": [comparison.previous.first.isoformat(), comparison.previous.last.isoformat()],
            "in_progress": comparison.in_progress},
        "summary": {"received": core.received, "accepted": core.accepted, "closed": core.closed,
                    "closed_on_time": core.closed_on_time, "closed_late": core.closed - core.closed_on_time,
                    "open_at_end": core.open_at_end, "overdue_open": core.overdue_open, "repeats": core.repeats,
                    "previous_received": core.previous or 0, "reminders": int(reminders.get("reminder", 0)),
                    "late_inquiries": int(reminders.get("late_inquiry", 0)), "surveys": overall["surveys"],
                    "rectifications_due": kpis["due"], "rectifications_done": kpis["done_on_time"],
                    "effect_confirmations": kpis["confirmed"], "effective": kpis["effective"],
                    "policies_in_force": core.policies_in_force},
        "policies_source": core.policies_source,
        "rates": rates,
        "by_category": core.by_category, "by_channel": by_channel, "by_severity": by_severity,
        "by_department": by_department,
        "clocks": _clock_rows(session, scope, period, core.overdue_by_clock, core.clock_keys),
        "satisfaction": core.satisfaction,
        "department_category": heat,
        "trend": _trend(session, scope, period),
        "ageing": ageing,
        "warnings": warnings,
        "causes": _causes(session, scope, period, codes),
        "profile": _profile(session, scope, period),
    }


def monthly_table(uow: UnitOfWork, *, actor: Actor, filters: StatsFilter, now: datetime) -> dict:
    """The statistics table for a period and filters (managers, GM office, administrators)."""
    if not actor.has(*READERS):
        raise PermissionDenied("auth.missing_role")
    stats_rollup.bring_up_to_date(uow)
    with uow.read() as session:
        return compute(session, filters, now)


def current_warnings(uow: UnitOfWork, *, actor: Actor, now: datetime) -> list[dict]:
    """Early warnings for the month so far (the GM office page's banner)."""
    if not actor.has(*READERS):
        raise PermissionDenied("auth.missing_role")
    stats_rollup.bring_up_to_date(uow)
    with uow.read() as session:
        return month_warnings(session, now)


def verify_rollups(uow: UnitOfWork, *, month: date | None = None) -> list[str]:
    """`stats verify`: the marked days recomputed, then every rollup day and month (or one month's) compared with
    what the raw tables add up to; one line per difference."""
    with uow.write() as session:
        if month is None:               # the whole history: compared in the database, not held in the process
            return stats_rollup.differences_in_database(session)
        return stats_rollup.differences(session, month)


def rebuild_rollups(uow: UnitOfWork) -> int:
    """`stats rebuild`: every rollup row from the raw tables (after a restore, an upgrade or a bulk load)."""
    with uow.write() as session:
        return stats_rollup.rebuild(session.connection())


def month_warnings(session: Session, now: datetime) -> list[dict]:
    """The early warnings of the month `now` falls in, company-wide (what the sweep pushes)."""
    period = Period.month(now.year, now.month)
    codes = _code_maps(session)
    core = _core(session, _scope(session, StatsFilter(period), codes), period, now, rules.settings(session), codes)
    return _rates_and_warnings(core, period)[1]


# -- compiling the month (002 art.13.9: handed over by the 10th) --

class SnapshotView:
    """A compiled month. Its figures (which carry every case closed in the month) are read from the database
    only when asked for: a list of compiled months, or the compile clock, does not load them."""

    def __init__(self, period: str, compiled_at: datetime, compiled_by: str, figures: dict | None = None,
                 uow: UnitOfWork | None = None) -> None:
        self.period, self.compiled_at, self.compiled_by = period, compiled_at, compiled_by
        self._figures, self._uow = figures, uow

    @property
    def figures(self) -> dict:
        if self._figures is None:
            with self._uow.read() as session:
                self._figures = session.scalar(select(StatsSnapshot.figures)
                                               .where(StatsSnapshot.period == self.period))
        return self._figures


def compile_month(uow: UnitOfWork, *, actor: Actor, month: str, now: datetime) -> SnapshotView:
    """The GM office marks a month's table compiled: its figures are kept as they are now, with the
    monthly review (002 art.13.9): each department's confirmation or that it has not confirmed (which does
    not block), the disputes and their resolutions, and every case closed in the month. Refused while a
    department's dispute of the month is open."""
    from portal.services import monthly_review
    try:
        period = Period.parse_month(month)
    except (ValueError, TypeError):
        raise DomainError("stats.bad_month") from None
    if period.end > now:
        raise DomainError("stats.month_not_over", month=period.label)
    with uow.write() as session:
        user = fresh_actor(session, actor, Role.GM_OFFICE)
        existing = session.execute(select(StatsSnapshot.compiled_at)
                                   .where(StatsSnapshot.period == period.label)).first()
        if existing is not None:
            raise DomainError("stats.already_compiled", month=period.label,
                              at=existing.compiled_at.isoformat(sep=" ", timespec="minutes"))
        disputed = monthly_review.open_dispute_numbers(session, period)
        if disputed:
            raise DomainError("review.compile_disputed", month=period.label, cases="、".join(disputed))
        stats_rollup.refresh(session)
        figures = compute(session, StatsFilter(period), now)
        figures["review"] = monthly_review.review_figures(session, period)
        session.add(StatsSnapshot(period=period.label, compiled_at=now, compiled_by_id=user.id, figures=figures))
        summary = figures["summary"]
        record_event(session, actor=user, at=now, action="stats.compile",
                     changes={"period": period.label, "received": summary["received"], "closed": summary["closed"],
                              "unconfirmed": figures["review"]["unconfirmed"]})
        return SnapshotView(period.label, now, user.display_name, figures)


def snapshots(uow: UnitOfWork, *, actor: Actor) -> list[SnapshotView]:
    if not actor.has(*READERS):
        raise PermissionDenied("auth.missing_role")
    with uow.read() as session:
        return [SnapshotView(period, at, name, uow=uow) for period, at, name in session.execute(
            select(StatsSnapshot.period, StatsSnapshot.compiled_at, User.display_name)
            .join(User, User.id == StatsSnapshot.compiled_by_id).order_by(StatsSnapshot.period.desc()))]


def snapshot(uow: UnitOfWork, *, actor: Actor, month: str) -> SnapshotView:
    for item in snapshots(uow, actor=actor):
        if item.period == month:
            return item
    raise NotFound("stats.no_snapshot")


@dataclass(frozen=True)
class CompileClock:
    """月度统计 clock of the last finished month: due by `compile_day` of the month after it."""

    month: str
    status: CompileStatus
    due: datetime
    compile_day: int
    snapshot: SnapshotView | None


def compile_clock(uow: UnitOfWork, *, now: datetime) -> CompileClock:
    month = Period.month(now.year, now.month).previous()
    with uow.read() as session:
        settings = rules.settings(session)
        row = session.execute(select(StatsSnapshot.period, StatsSnapshot.compiled_at)
                              .where(StatsSnapshot.period == month.label)).first()
    day = int(settings.get("stats.compile_day", "10"))
    status, due = compile_status(month, day, row.compiled_at if row else None, now, rules.due_soon_fraction(settings))
    return CompileClock(month.label, status, due, day,
                        SnapshotView(row.period, row.compiled_at, "", uow=uow) if row else None)
