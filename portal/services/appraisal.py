"""人员考核: per-person figures for appraisal (000 §10; 003 §8; 001 §1), for a month or any period (first to last
day, inclusive). Each figure is aggregated in SQL grouped by person (a handful of queries whatever the number
of people); what each counts:

- handled (经办案件): the cases on which the person recorded a handling event in the period. A handling event
  is a step of the case up to its closure (`HANDLING_ACTIONS`: the lifecycle's steps from registration to the
  final 核决, holds, petitions, the regulatory steps, assigning handlers, contacts with the customer, issuing
  and answering reminders); reads, searches, exports, notices and the after-care (follow-ups, rectification,
  quality check, remedy, archive) are not handling.
- closed (结案): the cases closed in the period on which the person recorded a handling event (at any time).
- clocks (时效): the stored clocks stopped in the period by the person's act — a clock is the person's when
  their event that sets the clock's stop milestone (`MILESTONE_ACTS`: 确认受理 by accepting, 结案 by the final
  核决, …) is at the clock's stop instant; a contact recorded afterwards for an earlier time stops its clock
  without an event at that instant and is nobody's. Per clock: how
  many they stopped, how many on time, the on-time rate and the mean time from the clock's start to the stop
  in hours (as the statistics page); in all: the same over every clock they stopped.
- satisfaction (满意度): the follow-ups visited in the period of the cases the person handled (at any time):
  how many, the mean overall score (1–5) and the share with an overall score at or above the setting
  `stats.satisfied_min_score` (the statistics page's "satisfied").
- rectification (整改): the items (rectifications and corrective actions) the person owns whose deadline falls
  in the period, how many of them are done, and how many were done by the end of their deadline day.

Who sees what: every member of staff their own figures; managers and the GM office everyone's (the active
staff, and anyone else with figures in the period); anyone else asking for another person is refused.
Exports (Excel and CSV) hold the page's two tables and are audit events.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, case, distinct, false, func, or_, select
from sqlalchemy.orm import Session

from portal.domain.clocks import Milestone
from portal.domain.errors import Message, PermissionDenied, ValidationFailed
from portal.domain.lifecycle import Action
from portal.domain.roles import Role
from portal.domain.statistics import Period, rate
from portal.i18n import translate
from portal.persistence.database import UnitOfWork
from portal.persistence.models import (CaseClock, Complaint, Department, Event, FollowUp, Rectification, SlaClock,
                                       SlaClockVersion, User, UserRole)
from portal.printing.statistics_tables import percent
from portal.services import rules
from portal.services.actors import Actor, fresh_actor
from portal.services.assignment import ASSIGN_ACTION, GROUP_ACTION
from portal.services.audit import record_event

STAFF = (Role.INTAKE, Role.INTAKE_LEAD, Role.HANDLER, Role.GM_OFFICE, Role.APPROVER, Role.MANAGER, Role.DEPT_LEAD)
READERS = (Role.MANAGER, Role.GM_OFFICE)           # see everyone's figures
# after-care: work on a case after its closure, measured by its own figures (rectification), not as handling
AFTER_CARE = frozenset({Action.RECORD_FOLLOW_UP, Action.RESOLVE_FOLLOW_UP, Action.SCHEDULE_FOLLOW_UP,
                        Action.ACT_ON_FOLLOW_UP, Action.ADD_RECTIFICATION, Action.UPDATE_RECTIFICATION,
                        Action.CONFIRM_EFFECT, Action.RECORD_REMEDY, Action.QUALITY_CHECK, Action.ARCHIVE})
HANDLING_ACTIONS = (*(a.value for a in Action if a not in AFTER_CARE), ASSIGN_ACTION, GROUP_ACTION, "record_contact",
                    "reminder.issue", "reminder.answer", "late_inquiry.issue", "late_inquiry.answer")
# the acts that set each milestone: a clock is stopped by the act that sets its stop milestone (a hold, an
# instruction or a step of someone else at the same instant does not stop it)
MILESTONE_ACTS = {
    Milestone.RECEIVED: (Action.REGISTER,), Milestone.ACCEPTED: (Action.ACCEPT,),
    Milestone.INITIAL_PLAN: (Action.RECORD_INITIAL_PLAN,), Milestone.INVESTIGATION_DONE: (Action.SUBMIT_REPORT,),
    Milestone.REPORTED_TO_GM: (Action.REPORT_TO_GM,), Milestone.NEGOTIATION_RETURNED: (Action.REVIEW_NEGOTIATION,),
    Milestone.CONSOLIDATED: (Action.CLOSE, Action.CONSOLIDATE),
    Milestone.CLOSED: (Action.FINAL_APPROVE, Action.CONFIRM_PENALTY),
    Milestone.MAJOR_FLAGGED: (Action.REGISTER, Action.ACCEPT), Milestone.MAJOR_REPORTED: (Action.REPORT_MAJOR,),
    Milestone.DECISION_TOLD: (Action.RECORD_NEGOTIATION,), Milestone.REVIEW_REQUESTED: (Action.REQUEST_REVIEW,),
    Milestone.REVIEW_DECIDED: (Action.DECIDE_REVIEW,), Milestone.CUSTOMER_ACKNOWLEDGED: ("record_contact",),
    Milestone.CLOSURE_NOTIFIED: ("record_contact",),
}
MAX_DAYS = 3660


@dataclass(frozen=True)
class ClockFigures:
    clock: str
    stopped: int
    on_time: int
    total_s: int

    @property
    def late(self) -> int:
        return self.stopped - self.on_time

    @property
    def on_time_rate(self) -> float | None:
        return rate(self.on_time, self.stopped)

    @property
    def avg_hours(self) -> float | None:
        return None if not self.stopped else self.total_s / self.stopped / 3600


@dataclass(frozen=True)
class PersonFigures:
    user_id: int
    username: str
    name: str
    department: str | None          # code
    handled: int = 0
    closed: int = 0
    clocks: tuple[ClockFigures, ...] = ()
    surveys: int = 0
    score_sum: int = 0
    satisfied: int = 0
    rect_owned: int = 0
    rect_done: int = 0
    rect_on_time: int = 0

    @property
    def clocks_stopped(self) -> int:
        return sum(c.stopped for c in self.clocks)

    @property
    def clocks_on_time(self) -> int:
        return sum(c.on_time for c in self.clocks)

    @property
    def on_time_rate(self) -> float | None:
        return rate(self.clocks_on_time, self.clocks_stopped)

    @property
    def avg_hours(self) -> float | None:
        n = self.clocks_stopped
        return None if not n else sum(c.total_s for c in self.clocks) / n / 3600

    @property
    def average_score(self) -> float | None:
        return None if not self.surveys else self.score_sum / self.surveys

    @property
    def satisfaction_rate(self) -> float | None:
        return rate(self.satisfied, self.surveys)

    @property
    def rect_rate(self) -> float | None:
        return rate(self.rect_done, self.rect_owned)


@dataclass(frozen=True)
class Appraisal:
    period: Period
    people: list[PersonFigures]
    satisfied_min_score: int
    clock_names: dict[str, tuple[str, str]] = field(default_factory=dict)     # key → (中文, English)
    department_names: dict[str, tuple[str, str]] = field(default_factory=dict)


def _in(column, period: Period):  # noqa: ANN001, ANN202
    return and_(column >= period.start, column < period.end)


def check_period(period: Period) -> None:
    """A period is whole days, first to last, at most ten years."""
    if not isinstance(period, Period) or period.last < period.first:
        raise ValidationFailed({"period": Message("appraisal.bad_period")})
    if period.days > MAX_DAYS:
        raise ValidationFailed({"period": Message("appraisal.long_period", {"days": MAX_DAYS})})


def _people(session: Session, user: User, person_id: int | None) -> list[tuple]:
    """(id, username, name, department code, department sort, active, staff) of every user the actor may see
    figures of."""
    roles = set(user.role_keys)
    if not roles & {r.value for r in STAFF}:
        raise PermissionDenied("auth.missing_role")
    everyone = bool(roles & {r.value for r in READERS})
    if person_id is not None and person_id != user.id and not everyone:
        raise PermissionDenied("appraisal.others_refused")
    staff = select(UserRole.user_id).where(UserRole.role_key.in_([r.value for r in STAFF]))
    query = (select(User.id, User.username, User.display_name, Department.code, Department.sort, User.active,
                    User.id.in_(staff))
             .outerjoin(Department, Department.id == User.department_id))
    if not everyone:
        query = query.where(User.id == user.id)
    elif person_id is not None:
        query = query.where(User.id == person_id)
    return [tuple(r) for r in session.execute(query)]


def _stopping_act(session: Session):  # noqa: ANN202
    """The clock's key and the event's action agree: the action sets the stop milestone of the clock (of any
    of its rule's versions)."""
    acts: dict[str, set[str]] = {}
    for key, stop in session.execute(select(SlaClockVersion.clock_key, SlaClockVersion.stop_milestone).distinct()):
        try:
            milestone = Milestone(stop)
        except ValueError:
            continue
        acts.setdefault(key, set()).update(str(a) for a in MILESTONE_ACTS.get(milestone, ()))
    pairs = [and_(CaseClock.clock_key == key, Event.action.in_(sorted(names))) for key, names in acts.items() if names]
    return or_(*pairs) if pairs else false()


def compute(session: Session, user: User, period: Period, person_id: int | None = None) -> Appraisal:
    check_period(period)
    candidates = _people(session, user, person_id)
    ids = [c[0] for c in candidates]
    if person_id is not None and not ids:
        raise ValidationFailed({"person": Message("form.unknown_choice")})
    settings = rules.settings(session)
    satisfied_min = int(settings.get("stats.satisfied_min_score", "4"))
    mine = and_(Event.actor_id.in_(ids), Event.action.in_(HANDLING_ACTIONS))
    # The closed cases and the follow-ups are read from the period's index range and each case's events
    # looked up by its case; written as expressions, the person and the action cannot make the planner start
    # from the person's whole history instead.
    theirs = and_((Event.actor_id + 0).in_(ids), Event.action.concat("").in_(HANDLING_ACTIONS))
    handled = dict(session.execute(
        select(Event.actor_id, func.count(distinct(Event.complaint_id)))
        .where(mine, _in(Event.at, period), Event.complaint_id.is_not(None)).group_by(Event.actor_id)).all())
    closed = dict(session.execute(
        select(Event.actor_id, func.count(distinct(Complaint.id))).select_from(Complaint)
        .join(Event, Event.complaint_id == Complaint.id)
        .where(_in(Complaint.closed_at, period), theirs).group_by(Event.actor_id)).all())
    # a clock is stopped by the person whose act setting its stop milestone is at its stop instant
    stopped = (select(Event.actor_id, CaseClock.complaint_id, CaseClock.clock_key, CaseClock.late,
                      CaseClock.duration_s).distinct().select_from(Event)
               .join(CaseClock, and_(CaseClock.complaint_id == Event.complaint_id, CaseClock.stopped_at == Event.at))
               .where(mine, _in(Event.at, period), CaseClock.late.is_not(None), _stopping_act(session))
               .subquery())
    clocks: dict[int, list[ClockFigures]] = {}
    for actor_id, key, n, late, total in session.execute(
            select(stopped.c.actor_id, stopped.c.clock_key, func.count(),
                   func.sum(case((stopped.c.late.is_(True), 1), else_=0)), func.sum(stopped.c.duration_s))
            .group_by(stopped.c.actor_id, stopped.c.clock_key)):
        clocks.setdefault(actor_id, []).append(ClockFigures(key, int(n), int(n) - int(late or 0), int(total or 0)))
    # the follow-ups of the period, each counted once for every person who handled its case
    visits = (select(FollowUp.id, FollowUp.overall, Event.actor_id).distinct().select_from(FollowUp)
              .join(Event, Event.complaint_id == FollowUp.complaint_id)
              .where(_in(FollowUp.visited_at, period), theirs).subquery())
    surveys = {a: (int(n), int(s or 0), int(h or 0)) for a, n, s, h in session.execute(
        select(visits.c.actor_id, func.count(), func.sum(visits.c.overall),
               func.sum(case((visits.c.overall >= satisfied_min, 1), else_=0))).group_by(visits.c.actor_id))}
    done = Rectification.status == "done"
    on_time = and_(done, Rectification.done_at.is_not(None), func.date(Rectification.done_at) <= Rectification.deadline)
    owned = {o: (int(n), int(d or 0), int(t or 0)) for o, n, d, t in session.execute(
        select(Rectification.owner_id, func.count(), func.sum(case((done, 1), else_=0)),
               func.sum(case((on_time, 1), else_=0)))
        .where(Rectification.owner_id.in_(ids), Rectification.deadline.between(period.first, period.last))
        .group_by(Rectification.owner_id)).all()}
    clock_names = {k: (zh, en, sort) for k, zh, en, sort in session.execute(
        select(SlaClock.key, SlaClock.name_zh, SlaClock.name_en, SlaClock.sort))}
    in_order = lambda c: (clock_names.get(c.clock, ("", "", 10 ** 6))[2], c.clock)  # noqa: E731
    people = []
    for uid, username, name, department, sort, active, staff in candidates:
        n, score, happy = surveys.get(uid, (0, 0, 0))
        r_owned, r_done, r_on_time = owned.get(uid, (0, 0, 0))
        person = PersonFigures(uid, username, name, department, int(handled.get(uid, 0)), int(closed.get(uid, 0)),
                               tuple(sorted(clocks.get(uid, []), key=in_order)), n, score, happy,
                               r_owned, r_done, r_on_time)
        involved = person.handled or person.closed or person.clocks or person.surveys or person.rect_owned
        if uid == user.id or person_id is not None or (active and staff) or involved:
            people.append((sort is None, sort or 0, department or "", name, uid, person))
    departments = {c: (zh, en) for c, zh, en in session.execute(
        select(Department.code, Department.name_zh, Department.name_en))}
    return Appraisal(period, [p[-1] for p in sorted(people, key=lambda p: p[:-1])], satisfied_min,
                     {k: (zh, en) for k, (zh, en, _) in clock_names.items()}, departments)


def person_figures(uow: UnitOfWork, *, actor: Actor, period: Period, person_id: int | None = None) -> Appraisal:
    """The figures of the period: everyone's for a manager or the GM office (or one person's, `person_id`),
    the actor's own for anyone else on the staff."""
    with uow.read() as session:
        return compute(session, fresh_actor(session, actor), period, person_id)


# -- the tables as people read them: on the page, in the workbook, in the CSV --

PEOPLE_COLUMNS = ("person", "department", "handled", "closed", "clocks_stopped", "clocks_on_time", "on_time_rate",
                  "avg_hours", "surveys", "average_score", "satisfaction_rate", "rect_owned", "rect_done",
                  "rect_on_time", "rect_rate")
CLOCK_COLUMNS = ("person", "department", "clock", "stopped", "on_time", "late", "on_time_rate", "avg_hours")
RATES = ("on_time_rate", "satisfaction_rate", "rect_rate")
DECIMALS = {"avg_hours": 1, "average_score": 2}


@dataclass(frozen=True)
class Tables:
    """The two tables: headers in the reader's language, values as numbers (rates as fractions)."""

    people_headers: list[str]
    people: list[list]
    clock_headers: list[str]
    clocks: list[list]


def _name(names: dict[str, tuple[str, str]], code: str | None, lang: str) -> str:
    if code is None:
        return "—"
    zh, en = names.get(code, (code, code))
    return en if lang == "en" else zh


def tables(appraisal: Appraisal, lang: str) -> Tables:
    tr = lambda key: translate(f"appraisal.col.{key}", lang)  # noqa: E731
    people, clocks = [], []
    for p in appraisal.people:
        department = _name(appraisal.department_names, p.department, lang)
        values = {"person": p.name, "department": department, "handled": p.handled, "closed": p.closed,
                  "clocks_stopped": p.clocks_stopped, "clocks_on_time": p.clocks_on_time,
                  "on_time_rate": p.on_time_rate, "avg_hours": p.avg_hours, "surveys": p.surveys,
                  "average_score": p.average_score, "satisfaction_rate": p.satisfaction_rate,
                  "rect_owned": p.rect_owned, "rect_done": p.rect_done, "rect_on_time": p.rect_on_time,
                  "rect_rate": p.rect_rate}
        people.append([values[c] for c in PEOPLE_COLUMNS])
        for c in p.clocks:
            row = {"person": p.name, "department": department, "clock": _name(appraisal.clock_names, c.clock, lang),
                   "stopped": c.stopped, "on_time": c.on_time, "late": c.late, "on_time_rate": c.on_time_rate,
                   "avg_hours": c.avg_hours}
            clocks.append([row[k] for k in CLOCK_COLUMNS])
    return Tables([tr(c) for c in PEOPLE_COLUMNS], people, [tr(c) for c in CLOCK_COLUMNS], clocks)


def shown(column: str, value: object) -> object:
    """A value as the page and the CSV write it: rates as 59.2%, hours to a tenth, a dash for none."""
    if column in RATES:
        return percent(value)
    if value is None:
        return "—"
    if column in DECIMALS:
        return f"{value:.{DECIMALS[column]}f}"
    return value


def shown_rows(rows: list[list], columns: tuple[str, ...]) -> list[list]:
    return [[shown(c, v) for c, v in zip(columns, row)] for row in rows]


def _export(uow: UnitOfWork, actor: Actor, period: Period, person_id: int | None, now: datetime,
            form: str) -> Appraisal:
    """The figures for an export, and its audit event in the same transaction."""
    with uow.write() as session:
        user = fresh_actor(session, actor)
        appraisal = compute(session, user, period, person_id)
        record_event(session, actor=user, at=now, action="appraisal.export",
                     changes={"period": period.label, "format": form, "rows": len(appraisal.people),
                              "people": [p.username for p in appraisal.people]})
        return appraisal


def appraisal_csv(uow: UnitOfWork, *, actor: Actor, period: Period, now: datetime, lang: str,
                  person_id: int | None = None) -> bytes:
    """Both tables in one CSV (UTF-8 with BOM so Excel reads Chinese), each under its title."""
    appraisal = _export(uow, actor, period, person_id, now, "csv")
    built = tables(appraisal, lang)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([translate("appraisal.period", lang), period.label])
    for title, headers, rows, columns in (("appraisal.table", built.people_headers, built.people, PEOPLE_COLUMNS),
                                          ("appraisal.clocks", built.clock_headers, built.clocks, CLOCK_COLUMNS)):
        writer.writerow([])
        writer.writerow([translate(title, lang)])
        writer.writerow(headers)
        writer.writerows(shown_rows(rows, columns))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def appraisal_workbook(uow: UnitOfWork, *, actor: Actor, period: Period, now: datetime, lang: str,
                       person_id: int | None = None) -> bytes:
    """An Excel workbook: the people's figures on the first sheet (period and export time above them), the
    clocks per person on the second; rates as percentages, hours to a tenth."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    appraisal = _export(uow, actor, period, person_id, now, "xlsx")
    built = tables(appraisal, lang)
    book = Workbook()
    first = book.active
    formats = {**{c: "0.0%" for c in RATES}, "avg_hours": "0.0", "average_score": "0.00"}
    for sheet, title, headers, rows, columns in (
            (first, "appraisal.table", built.people_headers, built.people, PEOPLE_COLUMNS),
            (book.create_sheet(), "appraisal.clocks", built.clock_headers, built.clocks, CLOCK_COLUMNS)):
        sheet.title = translate(title, lang)[:31]
        sheet.cell(row=1, column=1, value=translate(title, lang)).font = Font(bold=True, size=14)
        sheet.cell(row=2, column=1, value=translate("appraisal.sheet_meta", lang, period=period.label,
                                                    at=f"{now:%Y-%m-%d %H:%M}"))
        for col, header in enumerate(headers, start=1):
            sheet.cell(row=3, column=col, value=header).font = Font(bold=True)
            sheet.column_dimensions[get_column_letter(col)].width = max(10, min(len(header) * 2 + 2, 24))
        for r, row in enumerate(rows, start=4):
            for col, (column, value) in enumerate(zip(columns, row), start=1):
                cell = sheet.cell(row=r, column=col, value=value)
                if column in formats and value is not None:
                    cell.number_format = formats[column]
        sheet.freeze_panes = "C4"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
