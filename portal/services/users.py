"""Users, their roles and departments (SPEC §1). Passwords are bcrypt hashes, never stored plain."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import bcrypt
from sqlalchemy import select

from portal.domain.errors import DomainError, Message, ValidationFailed
from portal.domain.passwords import password_problem
from portal.domain.text import clean_text
from portal.domain.roles import Role
from portal.persistence.database import UnitOfWork
from portal.persistence.models import Department, User, UserRole
from portal.services.actors import Actor, fresh_actor
from portal.services.audit import record_event
from portal.services.eligibility import refresh_all_stuck
from portal.services.sessions import revoke_user_sessions

USERNAME = re.compile(r"^[a-z][a-z0-9_.-]{2,39}$")
APPROVAL_LEVELS = ("dept_manager", "deputy_gm", "gm")   # 业务部经理 / 副总经理 / 总经理


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()


def add_user(uow: UnitOfWork, *, actor: Actor | None, username: str, display_name: str,
             password: str, roles: list[str], department: str | None,
             approval_level: str | None = None, email: str = "", now: datetime) -> int:
    """Create a user. `actor` None means the command line run by whoever operates the server."""
    username = username.strip().lower() if isinstance(username, str) else ""
    display_name = clean_text(display_name) or ""
    errors: dict[str, Message] = {}
    if not USERNAME.fullmatch(username):
        errors["username"] = Message("users.bad_username")
    if not display_name or len(display_name) > 60:
        errors["display_name"] = Message("form.required")
    if password_problem(password) is not None:
        errors["password"] = password_problem(password)
    roles, department = _check_duties(errors, roles, department, approval_level)
    email = clean_text(email) or ""
    if len(email) > 100:
        errors["email"] = Message("form.too_long", {"max": 100})
    if errors:
        raise ValidationFailed(errors)
    with uow.write() as session:
        admin = fresh_actor(session, actor, Role.ADMIN) if actor is not None else None
        if session.scalar(select(User.id).where(User.username == username)) is not None:
            raise ValidationFailed({"username": Message("users.exists")})
        department_id = None
        if department:
            department_id = session.scalar(select(Department.id).where(Department.code == department))
            if department_id is None:
                raise ValidationFailed({"department": Message("form.unknown_choice")})
        user = User(username=username, display_name=display_name, email=email,
                    password_hash=hash_password(password), department_id=department_id,
                    approval_level=approval_level, active=True, created_at=now,
                    role_links=[UserRole(role_key=r) for r in sorted(set(roles))])
        session.add(user)
        session.flush()
        record_event(session, actor=admin, at=now, action="user.add",
                     changes={"username": username, "roles": sorted(set(roles)),
                              "department": department, "approval_level": approval_level})
        refresh_all_stuck(session)
        return user.id


def _check_duties(errors: dict[str, Message], roles: object, department: object,
                  approval_level: object) -> tuple[list[str], str | None]:
    """Roles, department and approval level that fit together: a handler belongs to a department,
    an approver has a level."""
    valid_roles = {r.value for r in Role}
    if not isinstance(roles, (list, tuple)) or not roles or any(not isinstance(r, str) or r not in valid_roles
                                                                for r in roles):
        roles = []
        errors["roles"] = Message("users.bad_roles", {"allowed": ", ".join(sorted(valid_roles))})
    if department is not None and not isinstance(department, str):
        errors["department"] = Message("form.unknown_choice")
        department = None
    if approval_level is not None and (not isinstance(approval_level, str) or approval_level not in APPROVAL_LEVELS):
        errors["approval_level"] = Message("form.unknown_choice")
    elif approval_level is None and Role.APPROVER.value in roles:
        errors["approval_level"] = Message("users.approver_needs_level")
    if not department and Role.HANDLER.value in roles:
        errors["department"] = Message("users.handler_needs_department")
    elif not department and Role.DEPT_LEAD.value in roles:
        errors["department"] = Message("users.lead_needs_department")
    return list(roles), department


def update_user(uow: UnitOfWork, *, actor: Actor, username: str, roles: list[str], department: str | None,
                approval_level: str | None, now: datetime, seen: dict | None = None) -> bool:
    """Change a user's roles, department and approval level (never their history): the user works
    under them from their next click; the audit event holds the duties before and after. False:
    nothing to change. `seen`: the duties the form showed when it opened (`duties_of`); if another
    administrator changed them since, nothing is saved (their change would be undone)."""
    errors: dict[str, Message] = {}
    roles, department = _check_duties(errors, roles, department, approval_level)
    if errors:
        raise ValidationFailed(errors)
    with uow.write() as session:
        admin = fresh_actor(session, actor, Role.ADMIN)
        user = session.scalar(select(User).where(User.username == username).with_for_update(of=User))
        if user is None:
            raise DomainError("users.not_found", username=username)
        if seen is not None and _duties(user) != _duties_seen(seen):
            raise DomainError("users.changed_meanwhile", username=username)
        department_id = None
        if department:
            department_id = session.scalar(select(Department.id).where(Department.code == department))
            if department_id is None:
                raise ValidationFailed({"department": Message("form.unknown_choice")})
        if admin.id == user.id and Role.ADMIN.value not in roles:
            raise ValidationFailed({"roles": Message("users.cannot_drop_own_admin")})
        before = _duties(user)
        after = {"roles": sorted(set(roles)), "department": department, "approval_level": approval_level}
        if before == after:
            return False
        for link in [link for link in user.role_links if link.role_key not in after["roles"]]:
            user.role_links.remove(link)
        held = {link.role_key for link in user.role_links}
        user.role_links.extend(UserRole(role_key=r) for r in after["roles"] if r not in held)
        user.department_id, user.approval_level = department_id, approval_level
        record_event(session, actor=admin, at=now, action="user.update",
                     changes={"username": username, "before": before, "after": after})
        refresh_all_stuck(session)      # a duty given or taken may free or strand a case (无可处理人)
        return True


def _duties(user: User) -> dict:
    return {"roles": sorted(user.role_keys), "department": user.department.code if user.department else None,
            "approval_level": user.approval_level}


def _duties_seen(seen: dict) -> dict:
    return {"roles": sorted(seen.get("roles") or []), "department": seen.get("department"),
            "approval_level": seen.get("approval_level")}


def duties_of(row: "UserRow") -> dict:
    """A user's duties as a form shows them (handed back to `update_user` as `seen`)."""
    return _duties_seen({"roles": row.roles, "department": row.department, "approval_level": row.approval_level})


def set_user_active(uow: UnitOfWork, *, actor: Actor | None, username: str, active: bool,
                    now: datetime) -> None:
    """Disable or re-enable a user; a disabled user is refused at their next click."""
    with uow.write() as session:
        admin = fresh_actor(session, actor, Role.ADMIN) if actor is not None else None
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise DomainError("users.not_found", username=username)
        if admin is not None and admin.id == user.id and not active:
            raise DomainError("users.cannot_disable_self")
        user.active = active
        ended = 0 if active else revoke_user_sessions(session, user_id=user.id, now=now, reason="disabled")
        record_event(session, actor=admin, at=now, action="user.enable" if active else "user.disable",
                     changes={"username": username, "active": active, "sessions_ended": ended})
        refresh_all_stuck(session)


def set_sso_subject(uow: UnitOfWork, *, actor: Actor | None, username: str, subject: str | None,
                    now: datetime) -> None:
    """Tie a user to the subject (`sub`) of their company account, or untie them (None): a single sign-on with
    that subject signs in as this user. One subject belongs to one user."""
    from portal.services.sessions import sso_subject_text      # stored as a sign-on compares it
    if subject is not None:
        subject = sso_subject_text(subject)
        if not subject:
            raise DomainError("users.sso_subject_empty")
    with uow.write() as session:
        admin = fresh_actor(session, actor, Role.ADMIN) if actor is not None else None
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise DomainError("users.not_found", username=username)
        holder = session.scalar(select(User).where(User.sso_subject == subject, User.id != user.id)) if subject else None
        if holder is not None:
            raise DomainError("users.sso_subject_taken", username=holder.username)
        user.sso_subject = subject or None
        record_event(session, actor=admin, at=now, action="user.sso_subject",
                     changes={"username": username, "sso_subject": user.sso_subject})


def reset_password(uow: UnitOfWork, *, actor: Actor | None, username: str | None, password: str,
                   now: datetime) -> None:
    """Set a new password; every session of the user ends (their cookies are refused from now on)."""
    problems = {}
    if not username:
        problems["username"] = Message("form.choose_one")
    if password_problem(password) is not None:
        problems["password"] = password_problem(password)
    if problems:
        raise ValidationFailed(problems)
    with uow.write() as session:
        admin = fresh_actor(session, actor, Role.ADMIN) if actor is not None else None
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise DomainError("users.not_found", username=username)
        user.password_hash = hash_password(password)
        ended = revoke_user_sessions(session, user_id=user.id, now=now, reason="password_reset")
        record_event(session, actor=admin, at=now, action="user.password_reset",
                     changes={"username": username, "sessions_ended": ended})


@dataclass(frozen=True)
class UserRow:
    username: str
    display_name: str
    roles: list[str]
    department: str | None
    approval_level: str | None
    active: bool


def list_users(uow: UnitOfWork) -> list[UserRow]:
    with uow.read() as session:
        return [UserRow(u.username, u.display_name, u.role_keys,
                        u.department.code if u.department else None, u.approval_level, u.active)
                for u in session.scalars(select(User).order_by(User.username))]
