"""Who is acting: the logged-in user as the services see them, re-read from the database."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain.errors import PermissionDenied
from portal.domain.roles import Role
from portal.persistence.database import UnitOfWork
from portal.persistence.models import User


@dataclass(frozen=True)
class Actor:
    id: int
    username: str
    display_name: str
    roles: frozenset[Role]
    department_id: int | None
    department_code: str | None
    approval_level: str | None = None

    def has(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles))


SYSTEM_LABEL = "cli"


def to_actor(user: User) -> Actor:
    return Actor(user.id, user.username, user.display_name,
                 frozenset(Role(k) for k in user.role_keys), user.department_id,
                 user.department.code if user.department else None, user.approval_level)


def load_actor(uow: UnitOfWork, username: str) -> Actor | None:
    """The active user with this name, or None (unknown or disabled by an administrator)."""
    with uow.read() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None or not user.active:
            return None
        return to_actor(user)


def fresh_actor(session: Session, actor: Actor, *required: Role) -> User:
    """Re-check inside the transaction: the user still exists, is active, and holds a role."""
    user = session.get(User, actor.id)
    if user is None or not user.active:
        raise PermissionDenied("auth.disabled")
    if required and not set(user.role_keys) & {r.value for r in required}:
        raise PermissionDenied("auth.missing_role")
    return user
