"""Business rules stored as rows: clocks, thresholds, limits, reference lists, the calendar."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain.calendar import CalendarDay, DayKind, WorkingCalendar
from portal.domain.clocks import ClockRule, Milestone, Unit
from portal.domain.severity import FLAGS as MAJOR_FLAGS, MajorThresholds
from portal.domain.validation import AttachmentLimits
from portal.persistence.database import UnitOfWork, remembered
from portal.persistence.models import (CalendarDayRow, Category, Channel, Department, Setting,
                                       SlaClock, SlaClockVersion, User)


@dataclass(frozen=True)
class Choice:
    code: str
    name_zh: str
    name_en: str

    def label(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_zh


@dataclass(frozen=True)
class ClockInfo:
    rule: ClockRule
    name_zh: str
    name_en: str

    def label(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_zh


@dataclass(frozen=True)
class ReferenceData:
    categories: list[Choice]
    channels: list[Choice]
    departments: list[Choice]           # every active department
    investigating: list[Choice]         # those a case may be routed to
    staff: list[Choice]                 # active users (username, display name)
    default_routes: dict[str, list[str]] = field(default_factory=dict)   # category → departments proposed


def settings(session: Session) -> dict[str, str]:
    """Every setting, key → value (read once per page run: `remembered`)."""
    return dict(remembered(session, "settings",
                           lambda: {row.key: row.value for row in session.scalars(select(Setting))}))


def due_soon_fraction(values: dict[str, str]) -> float:
    return float(values["badge.due_soon_fraction"])


def major_thresholds(values: dict[str, str]) -> MajorThresholds:
    flags = frozenset(f for f in MAJOR_FLAGS if values.get(f"major.flag_{f}", "1") != "0")
    return MajorThresholds(Decimal(values["major.amount_threshold"]), int(values["major.joint_complainants"]), flags)


def attachment_limits(values: dict[str, str]) -> AttachmentLimits:
    return AttachmentLimits(
        max_bytes=int(float(values["attachments.max_mb"]) * 1024 * 1024),
        max_files=int(values["attachments.max_files"]),
        allowed_extensions=tuple(e.strip().lower() for e in values["attachments.extensions"].split(",")
                                 if e.strip()))


def clock_infos(session: Session) -> list[ClockInfo]:
    """Every active clock with its versions (the first in force, then those taking over later); read
    once per page run (`remembered`)."""
    return list(remembered(session, "clock_infos", lambda: _clock_infos(session)))


def _clock_infos(session: Session) -> list[ClockInfo]:
    clocks = session.scalars(select(SlaClock).where(SlaClock.active).order_by(SlaClock.sort)).all()
    versions: dict[str, list[SlaClockVersion]] = {}
    for row in session.scalars(select(SlaClockVersion).order_by(SlaClockVersion.clock_key,
                                                                SlaClockVersion.effective_from)):
        versions.setdefault(row.clock_key, []).append(row)
    out = []
    for clock in clocks:
        rules = [ClockRule(clock.key, Unit(v.unit), v.target, Milestone(v.start_milestone), Milestone(v.stop_milestone),
                           clock.pausable, clock.regulatory,
                           None if v.due_soon_percent is None else v.due_soon_percent / 100, v.effective_from)
                 for v in versions.get(clock.key, [])]
        if rules:
            out.append(ClockInfo(replace(rules[0], later=tuple(rules[1:])), clock.name_zh, clock.name_en))
    return out


def load_clocks(uow: UnitOfWork) -> list[ClockInfo]:
    with uow.read() as session:
        return clock_infos(session)


def load_settings(uow: UnitOfWork) -> dict[str, str]:
    with uow.read() as session:
        return settings(session)


def reference_data(session: Session) -> ReferenceData:
    def choices(model) -> list[Choice]:  # noqa: ANN001
        rows = session.scalars(select(model).where(model.active).order_by(model.sort))
        return [Choice(r.code, r.name_zh, r.name_en) for r in rows]

    departments = session.scalars(select(Department).where(Department.active).order_by(Department.sort)).all()
    routable = {d.code for d in departments if d.investigates}
    routes = {code: [d for d in (chosen or []) if d in routable]
              for code, chosen in session.execute(select(Category.code, Category.default_departments)
                                                  .where(Category.active))}
    staff = session.scalars(select(User).where(User.active).order_by(User.username))
    return ReferenceData(
        categories=choices(Category), channels=choices(Channel),
        departments=[Choice(d.code, d.name_zh, d.name_en) for d in departments],
        investigating=[Choice(d.code, d.name_zh, d.name_en) for d in departments if d.investigates],
        staff=[Choice(u.username, u.display_name, u.display_name) for u in staff], default_routes=routes)


def load_reference_data(uow: UnitOfWork) -> ReferenceData:
    with uow.read() as session:
        return reference_data(session)


def calendar_from_rows(rows) -> WorkingCalendar:  # noqa: ANN001
    return WorkingCalendar(CalendarDay(r.day, r.is_working, DayKind(r.kind), r.note) for r in rows)


def load_calendar(uow: UnitOfWork) -> WorkingCalendar:
    with uow.read() as session:
        return calendar_from_rows(session.execute(
            select(CalendarDayRow.day, CalendarDayRow.is_working, CalendarDayRow.kind,
                   CalendarDayRow.note)).all())



def days_of_year(year: int) -> list[date]:
    start = date(year, 1, 1)
    return [date.fromordinal(start.toordinal() + i)
            for i in range((date(year + 1, 1, 1) - start).days)]
