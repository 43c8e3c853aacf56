"""The trainer's sandbox (SPEC §9): a database of its own, built from a fixed seed, with its own clock.

The sandbox is a SQLite file beside the real database (or under `PORTAL_SANDBOX_DIR`), never the real
database itself: building it anew writes a fresh file and points the portal at it, so processes still
reading the previous one finish undisturbed, and the real database is not opened at all. Its clock
is the wall clock moved forward by an offset kept in the sandbox's own settings.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from portal import config
from portal.domain.calendar import WorkingCalendar
from portal.domain.errors import CalendarMissing, DomainError, Message, PermissionDenied, ValidationFailed
from portal.domain.roles import Role
from portal.persistence.database import UnitOfWork
from portal.persistence.models import Event, Setting
from portal.services.actors import Actor
from portal.services import dues, rules
from portal.services.setup import open_database

OFFSET = "sandbox.clock_offset_minutes"
SEED = 20251103                  # every sandbox is the same: the workshop material refers to its cases
COMPLAINTS = 40
DESK_POLICIES, DESK_REQUESTS = 30, 18   # the service desk: a small register, one request in each state and case
USERS_SINCE = datetime(2020, 1, 1)   # the demo users' creation time in the base file: before any sandbox case


def directory() -> Path:
    """Where sandbox files live: PORTAL_SANDBOX_DIR, or a `sandbox` folder beside a SQLite database,
    or the repository's `db/sandbox`."""
    chosen = os.environ.get("PORTAL_SANDBOX_DIR")
    if chosen:
        return Path(chosen)
    real = config.database_url()
    if real.startswith("sqlite:///"):
        return Path(real.removeprefix("sqlite:///")).resolve().parent / "sandbox"
    return config.ROOT / "db" / "sandbox"


def current_url() -> str | None:
    """The sandbox in use, or None before a trainer has built one."""
    pointer = directory() / "current"
    if not pointer.is_file():
        return None
    name = pointer.read_text(encoding="utf-8").strip()
    path = directory() / name
    return f"sqlite:///{path}" if name and path.is_file() else None


def build(*, actor: Actor, now: datetime, progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
    """Build a fresh sandbox from the fixed seed and make it the current one; the previous sandbox
    file stays until the next build (a process may still be reading it). `progress(done, total)` is
    told as the cases are made."""
    if not actor.has(Role.TRAINER, Role.ADMIN):
        raise PermissionDenied("auth.missing_role")
    from portal import demo
    folder = directory()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"sandbox-{now:%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}.sqlite3"
    url = f"sqlite:///{folder / name}"
    if Path(url.removeprefix("sqlite:///")).resolve() == _real_path():
        raise DomainError("sandbox.not_the_real_database")
    shutil.copyfile(_base(folder), folder / name)       # schema and demo users ready: only the cases are made
    unit = open_database(url)
    # no one else writes to the new file until it is made current: its calendar is pinned for the build
    unit = UnitOfWork(unit.engine, info={dues.PINNED_CALENDAR: rules.load_calendar(unit)})
    try:
        counts = demo.seed(unit, complaints_count=COMPLAINTS, seed_value=SEED, now=now, progress=progress,
                           desk_policies=DESK_POLICIES, desk_requests=DESK_REQUESTS)
        with unit.write() as session:
            session.merge(Setting(key=OFFSET, value="0", description="how far the sandbox clock is ahead (minutes)"))
            session.add(Event(complaint_id=None, actor_id=None, actor_label=actor.username, at=now,
                              action="sandbox.build", comment="", changes={"seed": SEED}))
    finally:
        unit.engine.dispose()
    previous = current_url()
    (folder / "current.tmp").write_text(name, encoding="utf-8")
    os.replace(folder / "current.tmp", folder / "current")      # the switch is one atomic rename
    _remove_old(folder, keep={name, Path(previous.removeprefix("sqlite:///")).name if previous else ""})
    return counts


def _base(folder: Path) -> Path:
    """A migrated database holding the demo users (their passwords hashed once): every build starts
    from a copy of it, so a rebuild spends its time on the cases alone. Made again when the schema
    (the migrations' head) or the demo users change; made under a temporary name and renamed, so a
    build running meanwhile never copies half of it."""
    from alembic.script import ScriptDirectory

    from portal import demo
    from portal.persistence.migrate import alembic_config
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    stamp = hashlib.sha256(f"{head}|{demo.DEMO_USERS!r}".encode()).hexdigest()[:12]
    path = folder / f"base-{stamp}.sqlite3"
    if path.is_file():
        return path
    partial = folder / f"base-{stamp}-{uuid.uuid4().hex[:6]}.partial"
    unit = open_database(f"sqlite:///{partial}")
    try:
        demo.ensure_demo_users(unit, USERS_SINCE)
    finally:
        unit.engine.dispose()
    os.replace(partial, path)
    for old in folder.glob("base-*.sqlite3"):
        if old != path:
            old.unlink(missing_ok=True)
    return path


def _real_path() -> Path | None:
    real = config.database_url()
    return Path(real.removeprefix("sqlite:///")).resolve() if real.startswith("sqlite:///") else None


def _remove_old(folder: Path, keep: set[str]) -> None:
    for path in folder.glob("sandbox-*.sqlite3*"):
        if not any(path.name.startswith(k) for k in keep if k):
            path.unlink(missing_ok=True)


def clock_offset(uow: UnitOfWork) -> timedelta:
    with uow.read() as session:
        value = session.scalar(select(Setting.value).where(Setting.key == OFFSET))
    return timedelta(minutes=int(value or 0))


def move_clock(uow: UnitOfWork, *, actor: Actor, hours: int = 0, working_days: int = 0,
               wall: datetime, calendar: WorkingCalendar) -> datetime:
    """Move the sandbox clock forward by hours, or to the same time a number of working days later
    (the official calendar, make-up days included). Returns the new sandbox time."""
    if not actor.has(Role.TRAINER):
        raise PermissionDenied("auth.missing_role")
    errors = {}
    for name, value, high in (("hours", hours, 24 * 30), ("working_days", working_days, 60)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
            errors[name] = Message("config.whole_number", {"low": 0, "high": high})
    if errors:
        raise ValidationFailed(errors)
    start = wall + clock_offset(uow)
    moved = start + timedelta(hours=hours)
    if working_days:
        try:
            moved = datetime.combine(calendar.add_working_days(moved.date(), working_days), moved.time())
        except CalendarMissing as missing:
            raise ValidationFailed({"working_days": missing.message}) from None
    with uow.write() as session:
        minutes = int((moved - wall).total_seconds() // 60)
        session.merge(Setting(key=OFFSET, value=str(minutes), description="how far the sandbox clock is ahead (minutes)"))
        session.add(Event(complaint_id=None, actor_id=None, actor_label=actor.username, at=moved,
                          action="sandbox.clock", comment="",
                          changes={"hours": hours, "working_days": working_days, "offset_minutes": minutes}))
    return moved


def enter(*, actor: Actor, address: str, now: datetime):  # noqa: ANN201
    """A login in the sandbox for a trainer signed in to the real portal: as the sandbox's user of the
    same name, or its trainer account. Returns the sandbox session (token and expiry)."""
    if not actor.has(Role.TRAINER):
        raise PermissionDenied("auth.missing_role")
    url = current_url()
    if url is None:
        raise DomainError("sandbox.not_built")
    from portal.persistence.database import make_engine
    from portal.persistence.models import User, UserRole
    from portal.services.sessions import open_session
    unit = UnitOfWork(make_engine(url))
    try:
        with unit.write() as session:
            user_id = session.scalar(select(User.id).where(User.username == actor.username, User.active))
            if user_id is None:
                user_id = session.scalar(select(User.id).join(UserRole, UserRole.user_id == User.id)
                                         .where(UserRole.role_key == Role.TRAINER.value, User.active)
                                         .order_by(User.id))
            if user_id is None:
                raise DomainError("sandbox.not_built")
            return open_session(session, user_id=user_id, address=address, now=now, hours=12)
    finally:
        unit.engine.dispose()
