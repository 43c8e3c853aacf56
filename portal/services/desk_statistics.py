"""The service desk on the statistics page (SPEC §12): requests by kind and month, the hand-over to the
insurer on time, why claim reports were refused, why customers surrendered. Each figure is counted in SQL
over index ranges of the period (handed over, refused), the requests by kind and month from the statistics
rollup; the complaint filters (department, category, channel, severity) do not apply to requests."""
from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import case, func, select

from portal.domain.aftersales import CheckFailure, RequestKind, RequestState
from portal.domain.errors import PermissionDenied
from portal.domain.roles import Role
from portal.domain.statistics import Period, rate, trend_months
from portal.persistence.database import UnitOfWork
from portal.persistence.models import RequestReminder, ServiceRequest, StatsRollup
from portal.services import stats_rollup
from portal.services.stats_rollup import as_date as _as_date, span
from portal.services.actors import Actor
from portal.services.aftersales_queries import badge_condition

R = ServiceRequest


def _in(column, period: Period):  # noqa: ANN001, ANN202
    """Inside the period: one index range."""
    return (column >= period.start) & (column < period.end)


def desk_figures(uow: UnitOfWork, *, actor: Actor, period: Period, now: datetime) -> dict:
    """The desk's figures for the period: `by_kind` (month × kind counts, a year's trend), `handover`
    (handed over in the period on time / late, its rate, and applications overdue now), `refusals`
    (reports refused in the period, by reason — a report may have several), `surrenders` (surrenders
    received in the period, by reason)."""
    if not actor.has(Role.MANAGER, Role.GM_OFFICE, Role.ADMIN):
        raise PermissionDenied("auth.missing_role")
    stats_rollup.bring_up_to_date(uow)
    with uow.read() as session:
        months = trend_months(period)
        # the requests by month and kind: the statistics rollup's months (`stats_rollup`, measure `request`)
        t = StatsRollup
        counts = {(f"{_as_date(day):%Y-%m}", kind): int(n) for day, kind, n in session.execute(
            select(t.day, t.item, func.sum(t.n)).where(
                t.grain == stats_rollup.MONTH, t.measure == stats_rollup.REQUESTS, t.day >= months[0].first,
                t.day <= months[-1].first).group_by(t.day, t.item)).all()}
        by_kind = [{"month": m.label, **{k.value: counts.get((m.label, k.value), 0) for k in RequestKind}}
                   for m in months]
        # the single counts in one statement: the applications handed over (on time, late), those overdue now,
        # the requests received (the rollup) and the reminders issued in the period
        handed = select(func.sum(case((R.clock_late.is_(False), 1), else_=0)).label("on_time"),
                        func.sum(case((R.clock_late.is_(True), 1), else_=0)).label("late")).where(
            R.kind == RequestKind.CLAIM_APPLICATION, _in(R.handed_over_at, period)).subquery()
        on_time, late, overdue, received, reminders = (int(n or 0) for n in session.execute(select(
            handed.c.on_time, handed.c.late,
            select(func.count()).select_from(R).where(R.clock_key == "handover", badge_condition("overdue", now))
            .scalar_subquery(),
            select(func.coalesce(func.sum(t.n), 0)).where(t.measure == stats_rollup.REQUESTS, span(period))
            .scalar_subquery(),
            select(func.count()).select_from(RequestReminder).where(_in(RequestReminder.issued_at, period))
            .scalar_subquery())).one())
        refused = Counter()
        reports = 0
        # the refused reports of the period: a reason list each (JSON), counted here
        for failures, in session.execute(select(R.check_failures).where(
                R.kind == RequestKind.CLAIM_REPORT, R.state == RequestState.REFUSED, _in(R.refused_at, period))):
            reports += 1
            refused.update(failures or [])
        surrenders = dict(session.execute(select(R.reason_code, func.count()).where(
            R.kind == RequestKind.SURRENDER, _in(R.received_at, period)).group_by(R.reason_code)).all())
    return {"period": {"first": period.first.isoformat(), "last": period.last.isoformat(), "label": period.label},
            "received": received, "reminders": reminders, "by_kind": by_kind,
            "handover": {"on_time": on_time, "late": late, "rate": rate(on_time, on_time + late),
                         "overdue_now": overdue},
            "refusals": {"reports": reports, "reasons": {f.value: refused.get(f.value, 0) for f in CheckFailure}},
            "surrenders": {code: int(n) for code, n in surrenders.items()}}
