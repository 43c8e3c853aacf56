"""Keeping every case's place in the queues (`portal.domain.priority`): `next_due_at` and `queue_rank`
are written with the case's stored clocks (`services.dues`, the same statement and transaction), so
any write to a case, a calendar change or a clock-rule change moves it; the bench's bulk loader fills
them with `refill`. Queues order by `QUEUE_ORDER`, an index scan (`ix_complaints_queue`)."""
from __future__ import annotations

from sqlalchemy import Connection, ColumnElement, bindparam, case, func, literal, select, update

from portal.domain import priority
from portal.domain.lifecycle import State
from portal.persistence.models import CaseClock, Complaint

CLOSED_STATES = (State.CLOSED.value, State.ARCHIVED.value)
QUEUE_ORDER = (Complaint.queue_rank.asc(), Complaint.next_due_at.asc(), Complaint.received_at.asc(),
               Complaint.id.asc())


def still_open() -> ColumnElement[bool]:
    """An open case, as its stored rank says (every closed case ranks from CLOSED_WEIGHT on): with the
    clerk's queue index, a person's open cases are one index range, counted without reading a row."""
    return Complaint.queue_rank < priority.CLOSED_WEIGHT


def rank_expression(state, severity, urgency, no_due) -> ColumnElement[int]:  # noqa: ANN001
    """`priority.queue_rank` in SQL over the given columns; `no_due` is 1 when the case has no due time."""
    # each closed state compared in turn, not IN (…): an expanding IN cannot run in an executemany
    return (case(*[(state == value, literal(priority.CLOSED_WEIGHT)) for value in CLOSED_STATES], else_=literal(0))
            + case(*[(severity == value, literal(rank * priority.SEVERITY_WEIGHT))
                     for value, rank in priority.SEVERITY_RANK.items()],
                   else_=literal(priority.OTHER_SEVERITY * priority.SEVERITY_WEIGHT))
            + case(*[(urgency == value, literal(rank * priority.URGENCY_WEIGHT))
                     for value, rank in priority.URGENCY_RANK.items()],
                   else_=literal(priority.OTHER_URGENCY * priority.URGENCY_WEIGHT))
            + no_due * priority.NO_DUE_WEIGHT)


def write(connection: Connection, ids: list[int], clock_rows: list[dict]) -> None:
    """Set the place of these cases from their freshly written stored clocks (rows of `case_clocks`), and the
    times their worst badge turns (due soon, paused) that the statistics' ageing reads."""
    clocks: dict[int, list] = {}
    for row in clock_rows:
        clocks.setdefault(row["complaint_id"], []).append(row)
    table = Complaint.__table__
    c = table.c
    statement = (update(table).where(c.id == bindparam("case_id"))
                 .values(next_due_at=bindparam("next_due"), next_soon_at=bindparam("next_soon"),
                         held_clock=bindparam("held"),
                         queue_rank=rank_expression(c.state, c.severity, c.urgency, bindparam("no_due"))))
    params = []
    for case_id in ids:
        rows = clocks.get(case_id, ())
        due = priority.next_due((r["due_at"], r["stopped_at"], r["held_since"]) for r in rows)
        params.append({"case_id": case_id, "next_due": due, "no_due": 0 if due is not None else 1,
                       "next_soon": priority.next_soon((r["soon_at"], r["stopped_at"], r["held_since"]) for r in rows),
                       "held": priority.any_held((r["stopped_at"], r["held_since"]) for r in rows)})
    for start in range(0, len(params), 5000):
        connection.execute(statement, params[start:start + 5000])


def refill(connection: Connection) -> None:
    """Fill the place of every case from its stored clocks in two statements (bulk loads): the due and
    due-soon times and the hold only where a clock runs, then every rank."""
    table = Complaint.__table__
    c = table.c
    unheld = CaseClock.held_since.is_(None)
    running = (select(CaseClock.complaint_id.label("case_id"),
                      func.min(case((unheld, CaseClock.due_at))).label("due"),
                      func.min(case((unheld, CaseClock.soon_at))).label("soon"),
                      func.max(case((unheld, literal(0)), else_=literal(1))).label("held"))
               .where(CaseClock.stopped_at.is_(None)).group_by(CaseClock.complaint_id).subquery("running"))
    # one pass over the clocks, grouped, joined to the cases (not three lookups per case)
    connection.execute(update(table).where(c.id == running.c.case_id).values(
        next_due_at=running.c.due, next_soon_at=running.c.soon, held_clock=running.c.held == 1))
    no_due = case((c.next_due_at.is_(None), literal(1)), else_=literal(0))
    rank = rank_expression(c.state, c.severity, c.urgency, no_due)
    # only the ranks that change are written (a bulk loader that set each case's rank as if it had no due time
    # leaves the cases with a running clock: no new row version of every case on PostgreSQL)
    connection.execute(update(table).where(c.queue_rank.is_distinct_from(rank)).values(queue_rank=rank))
