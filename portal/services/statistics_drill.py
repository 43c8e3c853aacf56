"""The cases behind a statistics figure (统计 → 登记追踪表): each figure of `Figure` as conditions on
the complaints table that select exactly the cases the statistics counted, so the ledger can list
them with its own filters, counts and exports. The conditions mirror the queries of
`portal.services.statistics`; a test checks that every listed figure counts the same cases."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, false, func, not_, or_, select, true
from sqlalchemy.orm import Session

from portal.domain.calendar import WorkingCalendar
from portal.domain.errors import DomainError, PermissionDenied
from portal.domain.lifecycle import OPEN_STATES
from portal.domain.statistics import AGE_BUCKETS, AGE_STATUSES
from portal.domain.statistics_drill import Drill, Figure
from portal.domain.validation import SEVERITIES
from portal.persistence.database import UnitOfWork
from portal.persistence.models import CaseClock, Category, Channel, Complaint, Department
from portal.services import privacy, queries, rules
from portal.services.actors import Actor
from portal.services.dues import CLOSURE_CLOCK
from portal.services.statistics import READERS, StatsFilter, _case_conditions, _in, overdue_clocks_at


def _check_codes(session: Session, drill: Drill) -> None:
    for code, model in ((drill.department, Department), (drill.category, Category), (drill.channel, Channel)):
        if code and session.scalar(select(model.id).where(model.code == code)) is None:
            raise DomainError("drill.unknown_code", code=code)
    if drill.severity and drill.severity not in SEVERITIES:
        raise DomainError("drill.unknown_code", code=drill.severity)


def _stopped(key: str, period, late_only: bool = False) -> ColumnElement[bool]:  # noqa: ANN001
    """The trend's 结案 / 超期结案: its clock stopped (late) in the period."""
    more = [CaseClock.late.is_(True)] if late_only else []
    return Complaint.id.in_(select(CaseClock.complaint_id).where(
        CaseClock.clock_key == key, _in(CaseClock.stopped_at, period), *more))


def _has_badge(badge: str, now: datetime) -> ColumnElement[bool]:
    return Complaint.id.in_(select(CaseClock.complaint_id).where(
        CaseClock.stopped_at.is_(None), CaseClock.case_closed_at.is_(None),
        queries.running_clock_condition(badge, now)))


def _ageing(drill: Drill, now: datetime) -> list[ColumnElement[bool]]:
    """Open now, in the bucket of days open, with this worst running badge (as `_ageing` counts)."""
    bucket, status = drill.age
    names = [name for name, _ in AGE_BUCKETS]
    position = names.index(bucket)
    limit = AGE_BUCKETS[position][1]
    out = [Complaint.state.in_([s.value for s in OPEN_STATES])]
    if limit is not None:
        out.append(Complaint.received_at > now - timedelta(days=limit))
    if position > 0:
        out.append(Complaint.received_at <= now - timedelta(days=AGE_BUCKETS[position - 1][1]))
    worse = list(AGE_STATUSES[:AGE_STATUSES.index(status)])
    out.extend(not_(_has_badge(b, now)) for b in worse if b != "on_track")
    if status != "on_track":
        out.append(_has_badge(status, now))
    return out


def drill_conditions(session: Session, drill: Drill, now: datetime) -> list[ColumnElement[bool]]:
    """The cases a figure counted, as conditions on the complaints table (the ledger's own filters
    may be added to them)."""
    _check_codes(session, drill)
    period = drill.period
    out = _case_conditions(session, StatsFilter(period, department=drill.department, category=drill.category,
                                                channel=drill.channel, severity=drill.severity))
    as_of = min(period.end, now)
    figure = drill.figure
    if figure in (Figure.CLOCK_COMPLETED, Figure.CLOCK_LATE):
        if drill.key not in [c.rule.key for c in rules.clock_infos(session)]:
            raise DomainError("drill.bad_key", figure=figure.value)
        more = [CaseClock.late.is_(True)] if figure is Figure.CLOCK_LATE else [CaseClock.late.is_not(None)]
        return [*out, Complaint.id.in_(select(CaseClock.complaint_id).where(
            CaseClock.clock_key == drill.key, _in(CaseClock.stopped_at, period), *more))]
    return [*out, *{
        Figure.RECEIVED: lambda: [_in(Complaint.received_at, period)],
        Figure.ACCEPTED: lambda: [_in(Complaint.accepted_at, period)],
        Figure.CLOSED: lambda: [_in(Complaint.closed_at, period)],
        Figure.CLOSED_ON_TIME: lambda: [_in(Complaint.closed_at, period), Complaint.closed_late == false()],
        Figure.CLOSED_LATE: lambda: [_in(Complaint.closed_at, period),
                                     or_(Complaint.closed_late.is_(None), Complaint.closed_late == true())],
        Figure.REPEATS: lambda: [_in(Complaint.received_at, period), Complaint.original_id.is_not(None)],
        Figure.OPEN_AT_END: lambda: [Complaint.received_at < as_of,
                                     or_(Complaint.closed_at.is_(None), Complaint.closed_at >= as_of)],
        Figure.OVERDUE_OPEN: lambda: [Complaint.id.in_(select(overdue_clocks_at(
            [], as_of, [c.rule.key for c in rules.clock_infos(session)]).subquery().c.complaint_id))],
        Figure.TREND_CLOSED: lambda: [_stopped(CLOSURE_CLOCK, period)],
        Figure.TREND_CLOSED_LATE: lambda: [_stopped(CLOSURE_CLOCK, period, late_only=True)],
        Figure.AGEING: lambda: _ageing(drill, now),
    }[figure]()]


def drilled_ledger(uow: UnitOfWork, *, actor: Actor, drill: Drill, filters: queries.LedgerFilter, now: datetime,
                   calendar: WorkingCalendar, page: int = 1, page_size: int = queries.LEDGER_PAGE) -> queries.Ledger:
    """登记追踪表 of the cases behind a figure, narrowed further by the ledger's own filters."""
    if not actor.has(*READERS):
        raise PermissionDenied("auth.missing_role")
    with uow.read() as session:
        conditions = drill_conditions(session, drill, now)
        masking = privacy.masking_table(session)
    return queries._ledger(uow, [*queries.filter_conditions(filters, actor, masking), *conditions], now, calendar,
                           reader=actor, page=page, page_size=page_size, oldest_first=False, badge=filters.badge,
                           with_counts=True)


def count(uow: UnitOfWork, drill: Drill, now: datetime) -> int:
    """How many cases the drill lists (tests compare it with the figure)."""
    with uow.read() as session:
        return int(session.scalar(select(func.count()).select_from(Complaint)
                                  .where(*drill_conditions(session, drill, now))))

