"""What waits on a closed case (issue 18), in SQL and stored on the case: its archive, 市场部's follow-up, the
agreed payment.

Three flags, each the outcome of its rule over the raw tables (`rules`):
- `archive_blocked`: what `domain.closing.archive_blockers` says (anything stands before the archive, or the case
  is not closed);
- `follow_up_due`: closed and waiting for a follow-up (none yet, or a scheduled one not made);
- `remedy_due`: closed, a payment agreed with the customer and not yet recorded as made.
They are kept in the same transaction as every write that can change them: the session hook in `dues` collects
the cases whose row, follow-ups, scheduled visits, departments' actions, quality checks or corrective actions
were written, and `refresh` rewrites their flags before the commit. The GM office's archive tab, 市场部's
待回访 and 补偿落实 queues and their to-dos then read an index (flag, queue order) instead of probing each closed
case's facts (a million cases hold some 190,000 closed ones)."""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import ColumnElement, and_, exists, func, not_, or_, select, update
from sqlalchemy.engine import Connection

from portal.domain.lifecycle import State
from portal.persistence.models import (Complaint, FollowUp, FollowUpAction, FollowUpSchedule, QualityCheck,
                                       Rectification)

# the rows whose writes can change a case's readiness (each carries `complaint_id`), besides the case itself
FACT_MODELS = (FollowUp, FollowUpSchedule, FollowUpAction, QualityCheck, Rectification)
_CHUNK = 5_000


def fact_columns() -> dict[str, object]:
    """The archive's facts of each case as SQL (each an indexed probe by complaint id). NULL-safe, so that
    each is true or false as `domain.closing` reads it (no agreed payment where the result or amount is empty)."""
    cid = Complaint.id
    return {
        "followed": exists().where(FollowUp.complaint_id == cid),
        "scheduled": exists().where(FollowUpSchedule.complaint_id == cid, FollowUpSchedule.follow_up_id.is_(None)),
        "actions": exists().where(FollowUpAction.complaint_id == cid, FollowUpAction.acted_at.is_(None)),
        "remedy_agreed": and_(func.coalesce(Complaint.negotiation_result, "").in_(("accepted", "partly")),
                              func.coalesce(Complaint.negotiated_amount, 0) > 0),
        "checked": exists().where(QualityCheck.complaint_id == cid),
        "corrective": exists().where(Rectification.complaint_id == cid, Rectification.kind == "corrective",
                                     Rectification.status != "done"),
    }


def ready_to_archive():  # noqa: ANN201
    """A closed case with nothing before its archive: `archive_blockers` empty, computed from the raw tables."""
    f = fact_columns()
    return and_(Complaint.state == State.CLOSED.value, Complaint.follow_up_task.is_(False), f["followed"],
                not_(f["scheduled"]), not_(f["actions"]),
                or_(not_(f["remedy_agreed"]), Complaint.remedy_done_at.is_not(None)),
                f["checked"], not_(f["corrective"]))


def wants_follow_up():  # noqa: ANN201
    """A closed case waiting for 市场部's follow-up: none made yet, or one scheduled and not made (and no GM-office
    task open): the 待回访 queue and its to-do."""
    f = fact_columns()
    return and_(Complaint.state == State.CLOSED.value, Complaint.follow_up_task.is_(False),
                or_(not_(f["followed"]), f["scheduled"]))


def wants_remedy():  # noqa: ANN201
    """A closed case whose agreed payment is not yet recorded as made (004 §5.1.5): the 补偿落实 queue."""
    return and_(Complaint.state == State.CLOSED.value, fact_columns()["remedy_agreed"],
                Complaint.remedy_done_at.is_(None))


def rules() -> dict[str, ColumnElement[bool]]:
    """Each stored flag and the rule it keeps, from the raw tables (never NULL)."""
    return {"archive_blocked": not_(ready_to_archive()), "follow_up_due": wants_follow_up(),
            "remedy_due": wants_remedy()}


def _stale(flags: dict[str, ColumnElement[bool]]) -> ColumnElement[bool]:
    return or_(*[getattr(Complaint, name) != rule for name, rule in flags.items()])


def refresh(connection: Connection, complaint_ids: Iterable[int]) -> None:
    """Rewrite the stored flags of these cases where one no longer matches its rule, in one statement (rows whose
    flags are right are not written: no new row version on PostgreSQL for every write to an open case)."""
    ids = sorted(set(complaint_ids))
    flags = rules()
    for start in range(0, len(ids), _CHUNK):
        connection.execute(update(Complaint).where(Complaint.id.in_(ids[start:start + _CHUNK]), _stale(flags))
                           .values(**flags))


def refresh_all(connection: Connection) -> None:
    """Every case's flags from the raw tables: after a restore, a migration, or a bulk load that wrote rows past
    the session hook."""
    flags = rules()
    # every rule holds only of a closed case, so any other case's flags are constants (blocked, nothing due): its
    # staleness is read from its own row, and the raw tables are probed for the closed cases alone
    closed = Complaint.state == State.CLOSED.value
    other_stale = or_(Complaint.archive_blocked.is_not(True), Complaint.follow_up_due.is_not(False),
                      Complaint.remedy_due.is_not(False))
    connection.execute(update(Complaint).where(or_(and_(closed, _stale(flags)), and_(not_(closed), other_stale)))
                       .values(**flags))


def mismatches(connection: Connection) -> list[int]:
    """The cases whose stored flags differ from what the raw tables say (none, when the hook kept them)."""
    return list(connection.scalars(select(Complaint.id).where(_stale(rules())).order_by(Complaint.id)))
