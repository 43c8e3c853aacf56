"""Queue order (SPEC §3, issue 15 §4): 重大 first, then urgency, then the earliest due time among the
case's running clocks (overdue ones are the earliest), then the oldest.

A case's place is kept as two stored columns so that every queue is an index scan: `queue_rank`
(open before closed, major before the rest, very urgent before urgent before normal, a case with a
due time before one without) and `next_due_at` (the earliest due time of its running, unheld clocks).
Within one rank either every case has a due time or none has, so NULLs never decide the order on
either database. The tables below are the rule; `portal.services.priority` turns them into SQL.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable

# lower comes first
SEVERITY_RANK = {"major": 0}            # every other severity: OTHER_SEVERITY
OTHER_SEVERITY = 1
URGENCY_RANK = {"very_urgent": 0, "urgent": 1, "normal": 2}
OTHER_URGENCY = 2
URGENCY_LEVELS = 3

# the weight of each part, most significant first: closed · severity · urgency · no due time
NO_DUE_WEIGHT = 1
URGENCY_WEIGHT = 2
SEVERITY_WEIGHT = URGENCY_WEIGHT * URGENCY_LEVELS                  # 6
CLOSED_WEIGHT = SEVERITY_WEIGHT * (OTHER_SEVERITY + 1)             # 12
LAST_RANK = CLOSED_WEIGHT * 2 - 1                                  # 23


def queue_rank(*, open_: bool, severity: str, urgency: str, has_due: bool) -> int:
    """The stored rank of one case: the smaller, the earlier in every queue."""
    return ((0 if open_ else CLOSED_WEIGHT)
            + SEVERITY_RANK.get(severity, OTHER_SEVERITY) * SEVERITY_WEIGHT
            + URGENCY_RANK.get(urgency, OTHER_URGENCY) * URGENCY_WEIGHT
            + (0 if has_due else NO_DUE_WEIGHT))


def next_due(clocks: Iterable[tuple[datetime | None, datetime | None, datetime | None]]) -> datetime | None:
    """The earliest due time among a case's stored clocks given as (due, stopped, held since): only
    clocks still running and not held by a hold count; a clock whose calendar is missing has no
    due time and does not count either."""
    dues = [due for due, stopped, held in clocks if due is not None and stopped is None and held is None]
    return min(dues) if dues else None


def next_soon(clocks: Iterable[tuple[datetime | None, datetime | None, datetime | None]]) -> datetime | None:
    """The earliest due-soon time (黄牌) among a case's stored clocks given as (soon, stopped, held since): the same
    clocks as `next_due`. With no clock overdue, the case is due soon at `now` exactly when this is before it."""
    return next_due(clocks)


def any_held(clocks: Iterable[tuple[datetime | None, datetime | None]]) -> bool:
    """Whether one of a case's clocks given as (stopped, held since) is running but held (paused)."""
    return any(stopped is None and held is not None for stopped, held in clocks)


def worst_badge(*, next_due_at: datetime | None, next_soon_at: datetime | None, held: bool,
                now: datetime) -> str:
    """The worst badge of a case's running clocks at `now` from its stored times: overdue, then due soon,
    then paused, else on track (the statistics' ageing of open cases)."""
    if next_due_at is not None and next_due_at < now:
        return "overdue"
    if next_soon_at is not None and next_soon_at < now:
        return "due_soon"
    return "paused" if held else "on_track"


def sort_key(*, open_: bool, severity: str, urgency: str, due: datetime | None, received: datetime,
             case_id: int) -> tuple:
    """The order of a queue as a Python key (what the SQL ORDER BY does), for tests and small lists."""
    return (queue_rank(open_=open_, severity=severity, urgency=urgency, has_due=due is not None),
            due or datetime.max, received, case_id)
