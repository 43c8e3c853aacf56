"""Whether a closed case is ready for its 总结 and archive (issue 18), in SQL and stored.

`archive_blocked` on the case is what `domain.closing.archive_blockers` says of it (anything stands before the
archive, or the case is not closed), kept in the same transaction as every write that can change it: the
session hook in `dues` collects the cases whose row, follow-ups, scheduled visits, departments' actions,
quality checks or corrective actions were written, and `refresh` rewrites their flags before the commit. The
GM office's archive tab and its home to-do then read an index (state, flag, closure) instead of probing each
closed case's six facts (a million cases hold some 190,000 closed ones)."""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import and_, exists, func, not_, or_, select, update
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


def refresh(connection: Connection, complaint_ids: Iterable[int]) -> None:
    """Rewrite the stored flag of these cases where it no longer matches (rows whose flag is right are not
    written: no new row version on PostgreSQL for every write to an open case)."""
    ids = sorted(set(complaint_ids))
    ready = ready_to_archive()
    for start in range(0, len(ids), _CHUNK):
        connection.execute(update(Complaint)
                           .where(Complaint.id.in_(ids[start:start + _CHUNK]), Complaint.archive_blocked == ready)
                           .values(archive_blocked=not_(ready)))


def refresh_all(connection: Connection) -> None:
    """Every case's flag from the raw tables: after a restore, a migration, or a bulk load that wrote rows past
    the session hook (only closed cases can be ready; the rest must say blocked)."""
    ready = ready_to_archive()
    connection.execute(update(Complaint).where(Complaint.state == State.CLOSED.value,
                                               Complaint.archive_blocked == ready).values(archive_blocked=not_(ready)))
    connection.execute(update(Complaint).where(Complaint.state != State.CLOSED.value,
                                               Complaint.archive_blocked.is_(False)).values(archive_blocked=True))


def mismatches(connection: Connection) -> list[int]:
    """The cases whose stored flag differs from what the raw tables say (none, when the hook kept it)."""
    ready = ready_to_archive()
    return list(connection.scalars(select(Complaint.id).where(Complaint.archive_blocked == ready)
                                   .order_by(Complaint.id)))
