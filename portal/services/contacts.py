"""The contact log (SPEC §11): every contact with the customer is a row; the first contact of a step
that has a contact clock sets the milestone that stops it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from portal.domain.contacts import MILESTONE_OF_STEP, ContactChannel, ContactStep
from portal.persistence.models import Complaint, ContactLog, User


def log_contact(session: Session, *, complaint: Complaint, step: ContactStep, channel: ContactChannel,
                content: str, now: datetime, by: User | None = None, proof: str = "",
                notice_id: int | None = None, attachment_id: int | None = None) -> ContactLog:
    """Add the contact row inside the caller's transaction (the caller checks permission and writes
    the audit event of its act). `by` None: the outbox sent it."""
    row = ContactLog(complaint_id=complaint.id, at=now, channel=ContactChannel(channel).value,
                     step=ContactStep(step).value, content=content, proof=proof,
                     by_id=by.id if by is not None else None, notice_id=notice_id,
                     attachment_id=attachment_id)
    session.add(row)
    column = MILESTONE_OF_STEP.get(ContactStep(step))
    if column is not None and getattr(complaint, column) is None:
        setattr(complaint, column, now)
    return row
