"""待联系客户 stored per case (SPEC §11): `complaints.contact_due_at` is the earliest instant from which
the case asks for a contact with the customer, or NULL when it asks for none, so that the list of
contacts due and the home page's count are one index range against `now`.

A case asks for a contact
- while a contact clock (the acknowledgement, the closure notice) runs in a state that prompts for it,
  or was stopped only by outbox notices that failed (the customer was not told): from its start;
- when a running, unheld clock of the process turns 临期 with no progress contact since: from its
  stored due-soon instant (000 §6: tell the customer the expected completion date).

It is rewritten with the stored clocks (`services.dues`, the same transaction, so any write to a case,
a calendar change or a clock-rule change moves it), when a contact is logged or a notice changes state
(the session hook in `dues`), and when the outbox records a notice as failed. `refill` recomputes every
case in one statement (bulk loads)."""
from __future__ import annotations

import functools
from typing import Iterable

from sqlalchemy import (ColumnElement, Connection, Select, String, bindparam, case, exists, func, literal, or_, select,
                        union_all, update)

from portal.domain.contacts import CONTACT_MILESTONES, MILESTONE_OF_STEP, PROGRESS_STEPS, PROMPT_STATES, ContactStep
from portal.domain.lifecycle import OPEN_STATES
from portal.persistence.models import CaseClock, Complaint, ContactLog, Notice, SlaClockVersion

FAILED = "failed"           # a notice refused for good or out of attempts: the customer was not told
_CHUNK = 5000
# The closure notice follows the final 核决 (002 art.13.5): a case closed under the earlier flow, before
# the final 核决 and the contact log, had its customer told outside the portal and is not asked again.
_AFTER_FINAL = {ContactStep.CLOSURE: (Complaint.final_approved_at.is_not(None),)}


def case_clock_version() -> ColumnElement[bool]:
    """Join condition: the version of its clock's rule a stored clock is governed by (the one in force
    when its case was received)."""
    from portal.services.queries import case_clock_version as version
    return version()


def contact_clocks() -> list[Select]:
    """Contact clocks asking for their contact: running, or stopped only by notices of the outbox that
    failed (`failed` 1). Each from its start."""
    parts = []
    for step, milestone in MILESTONE_OF_STEP.items():
        told = exists().where(ContactLog.complaint_id == CaseClock.complaint_id, ContactLog.step == step.value,
                              or_(ContactLog.notice_id.is_(None),
                                  ContactLog.notice_id.in_(select(Notice.id).where(Notice.state != FAILED))))
        parts.append(select(CaseClock.complaint_id.label("complaint_id"), literal(step.value, String).label("step"),
                            CaseClock.clock_key.label("clock_key"), CaseClock.due_at.label("due_at"),
                            CaseClock.soon_at.label("soon_at"),
                            case((CaseClock.stopped_at.is_(None), 0), else_=1).label("failed"),
                            CaseClock.started_at.label("wanted_from"))
                     .join(SlaClockVersion, case_clock_version())
                     .join(Complaint, Complaint.id == CaseClock.complaint_id)
                     .where(SlaClockVersion.stop_milestone == milestone,
                            Complaint.state.in_([s.value for s in PROMPT_STATES[step]]),
                            *_AFTER_FINAL.get(step, ()), or_(CaseClock.stopped_at.is_(None), ~told)))
    return parts


def progress_clocks() -> Select:
    """Running, unheld clocks of open cases (not the contact clocks, which ask for their own contact)
    with no progress or expected-completion contact since their due-soon instant: each asks for a
    progress contact once that instant has passed."""
    told_since = exists().where(ContactLog.complaint_id == CaseClock.complaint_id,
                                ContactLog.step.in_([s.value for s in PROGRESS_STEPS]),
                                ContactLog.at >= CaseClock.soon_at)
    return (select(CaseClock.complaint_id, CaseClock.clock_key, CaseClock.soon_at, CaseClock.due_at)
            .join(SlaClockVersion, case_clock_version())
            .join(Complaint, Complaint.id == CaseClock.complaint_id)
            .where(CaseClock.stopped_at.is_(None), CaseClock.held_since.is_(None), CaseClock.soon_at.is_not(None),
                   SlaClockVersion.stop_milestone.not_in(sorted(CONTACT_MILESTONES)),
                   Complaint.state.in_([s.value for s in OPEN_STATES]), ~told_since))


def _wanted(ids=None):  # noqa: ANN001, ANN202
    """(complaint_id, wanted_from): every reason a case asks for a contact, from when; `ids`: a
    condition's right-hand side restricting the cases (a list, or an expanding parameter)."""
    parts = [q.with_only_columns(CaseClock.complaint_id, CaseClock.started_at.label("wanted_from"))
             for q in contact_clocks()]
    parts.append(progress_clocks().with_only_columns(CaseClock.complaint_id,
                                                     CaseClock.soon_at.label("wanted_from")))
    if ids is not None:
        parts = [p.where(CaseClock.complaint_id.in_(ids)) for p in parts]
    return union_all(*parts).subquery("wanted")


@functools.cache
def _earliest_statement(by_ids: bool) -> Select:
    """Composed once (a refresh runs with every write to a case; composing cost more than running)."""
    wanted = _wanted(bindparam("ids", expanding=True) if by_ids else None)
    return select(wanted.c.complaint_id, func.min(wanted.c.wanted_from)).group_by(wanted.c.complaint_id)


def _earliest(connection: Connection, ids: list[int] | None) -> dict[int, object]:
    if ids is None:
        return dict(connection.execute(_earliest_statement(False)).all())
    return dict(connection.execute(_earliest_statement(True), {"ids": ids}).all())


def _store(connection: Connection, values: dict[int, object]) -> None:
    table = Complaint.__table__
    statement = update(table).where(table.c.id == bindparam("case_id")).values(contact_due_at=bindparam("due"))
    rows = [{"case_id": i, "due": due} for i, due in values.items()]
    for start in range(0, len(rows), _CHUNK):
        connection.execute(statement, rows[start:start + _CHUNK])


def refresh(connection: Connection, complaint_ids: Iterable[int]) -> None:
    """Recompute `contact_due_at` of these cases inside the caller's transaction."""
    ids = sorted(set(complaint_ids))
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        found = _earliest(connection, chunk)
        _store(connection, {i: found.get(i) for i in chunk})


def refill(connection: Connection) -> None:
    """Recompute `contact_due_at` of every case (bulk loads): cleared, then set from one grouped read
    where a contact is wanted."""
    table = Complaint.__table__
    connection.execute(update(table).where(table.c.contact_due_at.is_not(None)).values(contact_due_at=None))
    _store(connection, _earliest(connection, None))


def due_condition(now) -> ColumnElement[bool]:  # noqa: ANN001
    """A case asking for a contact at `now`: one range of `ix_complaints_contact_due`."""
    return Complaint.contact_due_at <= now
