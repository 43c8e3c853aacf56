"""Writing audit events (SPEC §3): one per accepted action, in the action's own transaction."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from portal.persistence.models import Event, User


def jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat(sep=" ", timespec="minutes") if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


def record_event(session: Session, *, actor: User | None, at: datetime, action: str,
                 complaint_id: int | None = None, from_state: str | None = None,
                 to_state: str | None = None, comment: str = "",
                 changes: dict[str, Any] | None = None) -> Event:
    event = Event(complaint_id=complaint_id, actor_id=actor.id if actor else None,
                  actor_label=actor.username if actor else "cli", at=at, action=action,
                  from_state=from_state, to_state=to_state, comment=comment,
                  changes=jsonable(changes or {}))
    session.add(event)
    return event
