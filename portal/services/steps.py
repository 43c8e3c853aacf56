"""The frame every use case on an existing case shares: one transaction, the acting user re-read
(still active), the case row locked and compared with the version the user saw, the action
allowed in the case's state; afterwards, whether anyone may take the decision it now waits for."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain import lifecycle
from portal.domain.errors import ConcurrentChange, NotFound
from portal.domain.lifecycle import Action, State
from portal.persistence.database import UnitOfWork
from portal.persistence.models import Complaint, User
from portal.services.actors import Actor, fresh_actor
from portal.services.eligibility import refresh_stuck


def locked_case(session: Session, complaint_id: int, expected_version: int | None = None) -> Complaint:
    """The case row, locked for this transaction. A person's change passes the version they were
    shown (refused if the case changed since); an automatic change (the sweep, the notice sender)
    passes none and only locks the row."""
    complaint = session.get(Complaint, complaint_id, with_for_update=True)
    if complaint is None:
        raise NotFound("case.not_found")
    if expected_version is not None and complaint.version != expected_version:
        raise ConcurrentChange("case.changed_meanwhile")
    return complaint


def locked_cases(session: Session, complaint_ids: list[int], chunk: int = 500) -> dict[int, Complaint]:
    """Several case rows locked for an automatic change (the sweep), read in a few statements rather than one
    per case, in id order (so two sweeps lock in the same order and cannot deadlock)."""
    found: dict[int, Complaint] = {}
    ids = sorted(set(complaint_ids))
    for begin in range(0, len(ids), chunk):
        part = ids[begin:begin + chunk]
        found.update((c.id, c) for c in session.scalars(
            select(Complaint).where(Complaint.id.in_(part)).order_by(Complaint.id).with_for_update(of=Complaint)))
    missing = set(ids) - set(found)
    if missing:
        raise NotFound("case.not_found")
    return found


@contextmanager
def case_step(uow: UnitOfWork, actor: Actor, complaint_id: int, action: Action,
              expected_version: int | None, *, appends: bool = False
              ) -> Iterator[tuple[Session, User, Complaint, State]]:
    """A person's step on a case. It needs the version they were shown, so that it never overwrites
    what someone saved meanwhile; only a step that adds a record of its own (a 签呈, a rectification
    item, a report to the regulator) may go without (`appends`)."""
    if expected_version is None and not appends:
        raise ConcurrentChange("case.version_required")
    with uow.write() as session:
        user = fresh_actor(session, actor)
        complaint = locked_case(session, complaint_id, expected_version)
        source = State(complaint.state)
        lifecycle.authorize(action, source, actor.roles)
        yield session, user, complaint, source
        refresh_stuck(session, complaint)      # who may take the decision the case now waits for
