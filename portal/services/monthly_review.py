"""The monthly review (月度检查, 002 art.13.9): by the 10th the GM office lists every case closed in the
last month with its responsibility, ratios, measures and results; each department head confirms the
responsibility and ratios that fall on their department, or disputes a case with a reason; the GM
office resolves a dispute (a changed ratio is audited). The month is compiled only when no dispute
is open (`statistics.compile_month`); the compiled table carries the review (`review_figures`).

Decisions where the issue leaves a choice:
- one confirmation row per department and month (`complaint_id` NULL): confirming again after it was
  withdrawn refreshes that row (who, when); a department cannot confirm while its own dispute of the
  month is open, and disputing a case withdraws the department's confirmation of the month;
- a resolution that changes ratios withdraws the confirmations of every department whose ratio on the
  case changed (they confirm again); the other departments' confirmations stand;
- compiling is refused while a dispute is open; departments that have not confirmed do not block it,
  the compiled table lists them as not confirmed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from portal.domain.errors import DomainError, Message, NotFound, PermissionDenied, ValidationFailed
from portal.domain.roles import Role
from portal.domain.statistics import Period
from portal.domain.validation import text_field
from portal.persistence.database import UnitOfWork
from portal.persistence.models import (Category, Complaint, ComplaintDepartment, Department, MonthConfirmation,
                                       Rectification, ResponsibilityShare, StatsRollup, StatsSnapshot, User)
from portal.services.actors import Actor, fresh_actor
from portal.services import stats_rollup
from portal.services.audit import record_event

READERS = (Role.GM_OFFICE, Role.MANAGER, Role.DEPT_LEAD)
CONFIRMED, WITHDRAWN, DISPUTED, RESOLVED = "confirmed", "withdrawn", "disputed", "resolved"
TEXT_LIMIT = 4000
_CHUNK = 900          # ids per IN list when the whole month is read (the snapshot, the workbook)


def parse_month(month: str) -> Period:
    try:
        return Period.parse_month(month)
    except (ValueError, TypeError, AttributeError):
        raise DomainError("stats.bad_month") from None


def last_finished_month(now: datetime) -> Period:
    return Period.month(now.year, now.month).previous()


def finished_months(now: datetime, count: int = 12) -> list[str]:
    """The months a review can be about, newest first (the running month is not over)."""
    out = [last_finished_month(now)]
    while len(out) < count:
        out.append(out[-1].previous())
    return [p.label for p in out]


# -- the month's closed cases --

def _closed_in(period: Period):  # noqa: ANN202
    return and_(Complaint.closed_at >= period.start, Complaint.closed_at < period.end)


def _closed_conditions(session: Session, period: Period, department: str | None) -> list:
    if department:
        department_id = session.scalar(select(Department.id).where(Department.code == department))
        return _closed_conditions_for(period, department_id)
    return [_closed_in(period)]


def count_closed_cases(session: Session, *, period: Period, department: str | None = None) -> int:
    return int(session.scalar(select(func.count()).select_from(Complaint)
                              .where(*_closed_conditions(session, period, department))))


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def closed_cases(session: Session, *, period: Period, department: str | None = None, offset: int = 0,
                 limit: int | None = None, conditions: list | None = None) -> list[dict]:
    """Every case closed in the period (with `department`: those with a share on it), in the order they
    closed, as JSON-ready rows: number, category, severity, responsibility (department, level) and the
    ratio of each department, the measures (each department's, the consolidated opinion and the closure
    note), the result (negotiation, agreed amount, loss and penalty), the rectification items opened."""
    codes = dict(session.execute(select(Department.id, Department.code)).all())
    categories = dict(session.execute(select(Category.id, Category.code)).all())
    query = (select(Complaint.id, Complaint.number, Complaint.closed_at, Complaint.category_id, Complaint.severity,
                    Complaint.responsibility_department_id, Complaint.responsibility_level,
                    Complaint.consolidated_opinion, Complaint.closure_note, Complaint.negotiation_result,
                    Complaint.negotiated_amount, Complaint.department_loss, Complaint.penalty_type,
                    Complaint.penalty_persons)
             .where(*_closed_conditions(session, period, department), *(conditions or []))
             .order_by(Complaint.closed_at, Complaint.id).offset(offset or None).limit(limit))
    cases = session.execute(query).all()
    ids = [c.id for c in cases]
    shares: dict[int, dict[str, int]] = {}
    measures: dict[int, dict[str, str]] = {}
    items: dict[int, list[int]] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        for complaint_id, department_id, ratio in session.execute(
                select(ResponsibilityShare.complaint_id, ResponsibilityShare.department_id, ResponsibilityShare.ratio)
                .where(ResponsibilityShare.complaint_id.in_(chunk))
                .order_by(ResponsibilityShare.complaint_id, ResponsibilityShare.ratio.desc())):
            shares.setdefault(complaint_id, {})[codes.get(department_id, str(department_id))] = int(ratio)
        for complaint_id, department_id, text in session.execute(
                select(ComplaintDepartment.complaint_id, ComplaintDepartment.department_id,
                       ComplaintDepartment.measures).where(ComplaintDepartment.complaint_id.in_(chunk))
                .order_by(ComplaintDepartment.complaint_id, ComplaintDepartment.department_id)):
            if text:
                measures.setdefault(complaint_id, {})[codes.get(department_id, str(department_id))] = text
        for complaint_id, total, done in session.execute(
                select(Rectification.complaint_id, func.count(),
                       func.sum(case((Rectification.status == "done", 1), else_=0)))
                .where(Rectification.complaint_id.in_(chunk)).group_by(Rectification.complaint_id)):
            items[complaint_id] = [int(total), int(done or 0)]
    return [{"id": c.id, "number": c.number or "", "closed_at": c.closed_at.isoformat(sep=" ", timespec="minutes"),
             "category": categories.get(c.category_id, str(c.category_id)), "severity": c.severity,
             "responsible_department": codes.get(c.responsibility_department_id),
             "responsibility_level": c.responsibility_level, "shares": shares.get(c.id, {}),
             "measures": measures.get(c.id, {}), "opinion": c.consolidated_opinion or "",
             "closure_note": c.closure_note or "", "negotiation_result": c.negotiation_result,
             "agreed_amount": _money(c.negotiated_amount), "department_loss": _money(c.department_loss),
             "penalty_type": c.penalty_type, "penalty_persons": c.penalty_persons or "",
             "rectifications": items.get(c.id, [0, 0])[0], "rectifications_done": items.get(c.id, [0, 0])[1]}
            for c in cases]


@dataclass(frozen=True)
class ClosedPage:
    rows: list[dict]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _reader(actor: Actor) -> None:
    if not actor.has(*READERS):
        raise PermissionDenied("auth.missing_role")


def closed_case_page(uow: UnitOfWork, *, actor: Actor, month: str, department: str | None = None, page: int = 1,
                     page_size: int = 20) -> ClosedPage:
    """One page of the month's closed cases (counted and paged in SQL)."""
    _reader(actor)
    period = parse_month(month)
    with uow.read() as session:
        total = count_closed_cases(session, period=period, department=department)
        pages = max(1, -(-total // page_size))
        page = min(max(1, int(page)), pages)
        rows = closed_cases(session, period=period, department=department, offset=(page - 1) * page_size,
                            limit=page_size)
    return ClosedPage(rows, total, page, page_size)


def department_month(uow: UnitOfWork, *, actor: Actor, month: str, page: int = 1, page_size: int = 20) -> ClosedPage:
    """The department head's view: the month's closed cases with a share on their own department."""
    if not actor.has(Role.DEPT_LEAD) or not actor.department_code:
        raise PermissionDenied("review.not_department_head")
    return closed_case_page(uow, actor=actor, month=month, department=actor.department_code, page=page,
                            page_size=page_size)


# -- confirmations and disputes --

def _department_head(session: Session, actor: Actor) -> User:
    user = fresh_actor(session, actor, Role.DEPT_LEAD)
    if user.department_id is None:
        raise PermissionDenied("review.not_department_head")
    return user


def _open_for_review(session: Session, period: Period, now: datetime) -> None:
    if period.end > now:
        raise DomainError("stats.month_not_over", month=period.label)
    compiled = session.scalar(select(StatsSnapshot.compiled_at).where(StatsSnapshot.period == period.label))
    if compiled is not None:
        raise DomainError("review.month_compiled", month=period.label)


def _department_shares(session: Session, period: Period, department_id: int) -> dict[str, int]:
    """Case number → the department's ratio, for the month's closed cases with a share on it."""
    ratio = (select(ResponsibilityShare.ratio).where(ResponsibilityShare.complaint_id == Complaint.id,
                                                      ResponsibilityShare.department_id == department_id)
             .scalar_subquery())
    return {number or str(i): int(r) for i, number, r in session.execute(
        select(Complaint.id, Complaint.number, ratio)       # the month's closed cases first (one index range)
        .where(*_closed_conditions_for(period, department_id)).order_by(Complaint.closed_at, Complaint.id))}


def _closed_conditions_for(period: Period, department_id: int) -> list:
    return [_closed_in(period), exists().where(ResponsibilityShare.complaint_id == Complaint.id,
                                               ResponsibilityShare.department_id == department_id)]


def _confirmation(session: Session, period: Period, department_id: int) -> MonthConfirmation | None:
    return session.scalar(select(MonthConfirmation).where(
        MonthConfirmation.period == period.label, MonthConfirmation.department_id == department_id,
        MonthConfirmation.complaint_id.is_(None)).with_for_update())


def confirm_month(uow: UnitOfWork, *, actor: Actor, month: str, now: datetime) -> int:
    """A department head confirms the responsibility and ratios of the month that fall on their department."""
    period = parse_month(month)
    with uow.write() as session:
        user = _department_head(session, actor)
        _open_for_review(session, period, now)
        ratios = _department_shares(session, period, user.department_id)
        if not ratios:
            raise DomainError("review.nothing_to_confirm", month=period.label)
        disputed = session.scalar(select(func.count()).select_from(MonthConfirmation).where(
            MonthConfirmation.period == period.label, MonthConfirmation.department_id == user.department_id,
            MonthConfirmation.status == DISPUTED))
        if disputed:
            raise DomainError("review.own_dispute_open", month=period.label)
        row = _confirmation(session, period, user.department_id)
        if row is not None and row.status == CONFIRMED:
            raise DomainError("review.already_confirmed", month=period.label,
                              at=row.at.isoformat(sep=" ", timespec="minutes"))
        if row is None:
            row = MonthConfirmation(period=period.label, department_id=user.department_id, complaint_id=None,
                                    reason="", resolution="")
            session.add(row)
        row.status, row.by_id, row.at = CONFIRMED, user.id, now
        session.flush()
        record_event(session, actor=user, at=now, action="review.confirm",
                     changes={"period": period.label, "department": user.department.code, "ratios": ratios})
        return row.id


def dispute_case(uow: UnitOfWork, *, actor: Actor, month: str, complaint_id: int, reason: str, now: datetime) -> int:
    """A department head disputes the responsibility or ratio a closed case of the month puts on their
    department, with a reason; the GM office resolves it before the month is compiled."""
    period = parse_month(month)
    errors: dict[str, Message] = {}
    reason = text_field(errors, "reason", reason, limit=TEXT_LIMIT)
    with uow.write() as session:
        user = _department_head(session, actor)
        _open_for_review(session, period, now)
        complaint = session.get(Complaint, complaint_id) if isinstance(complaint_id, int) else None
        if complaint is None:
            raise NotFound("case.not_found")
        share = session.get(ResponsibilityShare, (complaint.id, user.department_id))
        if share is None or complaint.closed_at is None or not period.start <= complaint.closed_at < period.end:
            raise DomainError("review.not_your_case", month=period.label)
        if session.scalar(select(MonthConfirmation.id).where(
                MonthConfirmation.period == period.label, MonthConfirmation.department_id == user.department_id,
                MonthConfirmation.complaint_id == complaint.id, MonthConfirmation.status == DISPUTED)):
            raise DomainError("review.already_disputed", number=complaint.number or str(complaint.id))
        if errors:
            raise ValidationFailed(errors)
        confirmed = _confirmation(session, period, user.department_id)
        withdrawn = confirmed is not None and confirmed.status == CONFIRMED
        if withdrawn:
            confirmed.status = WITHDRAWN
        row = MonthConfirmation(period=period.label, department_id=user.department_id, complaint_id=complaint.id,
                                status=DISPUTED, reason=reason, by_id=user.id, at=now, resolution="")
        session.add(row)
        session.flush()
        record_event(session, actor=user, at=now, action="review.dispute", complaint_id=complaint.id,
                     from_state=complaint.state, to_state=complaint.state, comment=reason,
                     changes={"period": period.label, "department": user.department.code, "ratio": share.ratio,
                              "confirmation_withdrawn": withdrawn})
        return row.id


def _new_shares(session: Session, errors: dict[str, Message], new_shares) -> list[tuple[int, str, int]]:  # noqa: ANN001
    """The resolution's ratios as (department id, code, percent), largest first (as `close_case` keeps
    them): each department once, known, 1-100, together 100."""
    from portal.services.handling import _shares
    try:
        pairs = [(code, ratio) for code, ratio in new_shares]
    except (TypeError, ValueError):
        errors["shares"] = Message("form.bad_value")
        return []
    if not pairs:
        errors["shares"] = Message("form.required")
        return []
    codes = [code for code, _ in pairs]
    if len(set(codes)) != len(codes):
        errors["shares"] = Message("review.share_twice")
        return []
    found: dict[str, Message] = {}
    parts = _shares(session, found, dict(pairs))
    if found:
        errors["shares"] = next(iter(found.values()))
        return []
    return parts


def resolve_dispute(uow: UnitOfWork, *, actor: Actor, confirmation_id: int, resolution: str,
                    new_shares: list[tuple[str, int]] | None = None, now: datetime) -> list[str]:
    """The GM office resolves a dispute: the resolution in words, and (if given) the case's new ratios,
    which replace its responsibility shares and its responsible department (the largest share). The
    change is audited with the ratios before and after; the departments whose ratio changed have their
    confirmation of the month withdrawn and confirm again. Returns those departments' codes."""
    errors: dict[str, Message] = {}
    resolution = text_field(errors, "resolution", resolution, limit=TEXT_LIMIT)
    with uow.write() as session:
        user = fresh_actor(session, actor, Role.GM_OFFICE)
        dispute = session.get(MonthConfirmation, confirmation_id, with_for_update=True) \
            if isinstance(confirmation_id, int) else None
        if dispute is None or dispute.complaint_id is None:
            raise NotFound("review.no_dispute")
        if dispute.status != DISPUTED:
            raise DomainError("review.dispute_closed")
        period = parse_month(dispute.period)
        compiled = session.scalar(select(StatsSnapshot.id).where(StatsSnapshot.period == period.label))
        if compiled is not None:
            raise DomainError("review.month_compiled", month=period.label)
        parts = _new_shares(session, errors, new_shares) if new_shares is not None else None
        if errors:
            raise ValidationFailed(errors)
        complaint = session.get(Complaint, dispute.complaint_id)
        codes = dict(session.execute(select(Department.id, Department.code)).all())
        before = {codes[d]: int(r) for d, r in session.execute(
            select(ResponsibilityShare.department_id, ResponsibilityShare.ratio)
            .where(ResponsibilityShare.complaint_id == complaint.id).order_by(ResponsibilityShare.ratio.desc()))}
        after = before if parts is None else {code: ratio for _, code, ratio in parts}
        changed = sorted(code for code in set(before) | set(after) if before.get(code) != after.get(code))
        if parts is not None and changed:
            session.query(ResponsibilityShare).filter(ResponsibilityShare.complaint_id == complaint.id).delete()
            session.add_all([ResponsibilityShare(complaint_id=complaint.id, department_id=d, ratio=r)
                             for d, _, r in parts])
            complaint.responsibility_department_id = parts[0][0]
            flag_modified(complaint, "state")       # the case's version moves: an open form on it is stale
        withdrawn = []
        if changed:
            ids = [d for d, code in codes.items() if code in changed]
            for row in session.scalars(select(MonthConfirmation).where(
                    MonthConfirmation.period == period.label, MonthConfirmation.department_id.in_(ids),
                    MonthConfirmation.complaint_id.is_(None), MonthConfirmation.status == CONFIRMED)):
                row.status = WITHDRAWN
                withdrawn.append(codes[row.department_id])
        dispute.status, dispute.resolution = RESOLVED, resolution
        dispute.resolved_by_id, dispute.resolved_at = user.id, now
        record_event(session, actor=user, at=now, action="review.resolve", complaint_id=complaint.id,
                     from_state=complaint.state, to_state=complaint.state, comment=resolution,
                     changes={"period": period.label, "dispute": dispute.id, "department": codes[dispute.department_id],
                              "before": before, "after": after,
                              "responsible_department": codes.get(complaint.responsibility_department_id),
                              "confirmations_withdrawn": sorted(withdrawn)})
        return sorted(withdrawn)


# -- where the month stands --

@dataclass(frozen=True)
class DisputeView:
    id: int
    department: str
    complaint_id: int
    number: str
    reason: str
    by: str
    at: datetime
    status: str
    resolution: str
    resolved_by: str | None
    resolved_at: datetime | None
    shares: dict[str, int]         # the case's ratios now (after a resolution: the new ones)

    def as_dict(self) -> dict:
        return {"id": self.id, "department": self.department, "number": self.number, "reason": self.reason,
                "shares": self.shares,
                "by": self.by, "at": self.at.isoformat(sep=" ", timespec="minutes"), "status": self.status,
                "resolution": self.resolution, "resolved_by": self.resolved_by,
                "resolved_at": None if self.resolved_at is None else self.resolved_at.isoformat(sep=" ",
                                                                                                timespec="minutes")}


@dataclass(frozen=True)
class DepartmentReview:
    department: str
    cases: int                     # the month's closed cases with a share on it
    status: str                    # confirmed / withdrawn (to confirm again) / not_confirmed
    confirmed_by: str | None
    confirmed_at: datetime | None
    disputes_open: int
    disputes_resolved: int

    def as_dict(self) -> dict:
        return {"department": self.department, "cases": self.cases, "status": self.status,
                "confirmed_by": self.confirmed_by,
                "confirmed_at": None if self.confirmed_at is None else self.confirmed_at.isoformat(sep=" ",
                                                                                                   timespec="minutes"),
                "disputes_open": self.disputes_open, "disputes_resolved": self.disputes_resolved}


def disputes(session: Session, period: Period, *, open_only: bool = False) -> list[DisputeView]:
    resolver = User.__table__.alias("resolver")
    query = (select(MonthConfirmation, Department.code, Complaint.number, User.display_name, resolver.c.display_name)
             .join(Department, Department.id == MonthConfirmation.department_id)
             .join(Complaint, Complaint.id == MonthConfirmation.complaint_id)
             .join(User, User.id == MonthConfirmation.by_id)
             .outerjoin(resolver, resolver.c.id == MonthConfirmation.resolved_by_id)
             .where(MonthConfirmation.period == period.label, MonthConfirmation.complaint_id.is_not(None),
                    MonthConfirmation.status.in_((DISPUTED,) if open_only else (DISPUTED, RESOLVED)))
             .order_by(MonthConfirmation.at, MonthConfirmation.id))
    found = session.execute(query).all()
    shares: dict[int, dict[str, int]] = {}
    if found:                   # the disputed cases' ratios now, each with its department's code
        for complaint_id, department_id, code, ratio in session.execute(
                select(ResponsibilityShare.complaint_id, ResponsibilityShare.department_id, Department.code,
                       ResponsibilityShare.ratio)
                .outerjoin(Department, Department.id == ResponsibilityShare.department_id)
                .where(ResponsibilityShare.complaint_id.in_({row.complaint_id for row, *_ in found}))
                .order_by(ResponsibilityShare.complaint_id, ResponsibilityShare.ratio.desc())):
            shares.setdefault(complaint_id, {})[code or str(department_id)] = int(ratio)
    return [DisputeView(row.id, code, row.complaint_id, number or str(row.complaint_id), row.reason, by, row.at,
                        row.status, row.resolution, resolved_by, row.resolved_at, shares.get(row.complaint_id, {}))
            for row, code, number, by, resolved_by in found]


def department_reviews(session: Session, period: Period) -> list[DepartmentReview]:
    """Each department with a share in the month's closed cases (or a dispute of the month): how many
    cases, confirmed by whom and when, or not (yet, or again), its disputes open and resolved. The cases come from
    the statistics rollup (measure `share`: each closed case's share rows by department, on its closure day; every
    case, all mixes), brought up to date by the caller: the month's closures joined to their shares cost 170 ms at a
    million cases on PostgreSQL."""
    r = StatsRollup
    cases = {int(department): int(n) for department, n in session.execute(
        select(r.bucket, func.sum(r.n)).where(r.measure == "share", stats_rollup.span(period),
                                              r.department_id == stats_rollup.EVERY_CASE,
                                              r.category_id == stats_rollup.ANY_ID)
        .group_by(r.bucket)).all() if n}
    rows = session.execute(select(MonthConfirmation, User.display_name)
                           .join(User, User.id == MonthConfirmation.by_id)
                           .where(MonthConfirmation.period == period.label)).all()
    departments = session.execute(select(Department.id, Department.code, Department.sort)).all()
    codes = {d: code for d, code, _ in departments}
    sort = {d: order for d, _, order in departments}
    out = []
    for department_id in sorted(set(cases) | {r.department_id for r, _ in rows}, key=lambda d: (sort.get(d, 0), d)):
        mine = [(r, name) for r, name in rows if r.department_id == department_id]
        confirmation = next(((r, name) for r, name in mine if r.complaint_id is None), None)
        status = "not_confirmed" if confirmation is None else confirmation[0].status
        confirmed = confirmation is not None and status == CONFIRMED
        out.append(DepartmentReview(
            codes.get(department_id, str(department_id)), int(cases.get(department_id, 0)), status,
            confirmation[1] if confirmed else None, confirmation[0].at if confirmed else None,
            sum(1 for r, _ in mine if r.status == DISPUTED), sum(1 for r, _ in mine if r.status == RESOLVED)))
    return out


@dataclass(frozen=True)
class ReviewStatus:
    month: str
    compiled: bool
    departments: list[DepartmentReview]
    disputes: list[DisputeView]

    @property
    def open_disputes(self) -> list[DisputeView]:
        return [d for d in self.disputes if d.status == DISPUTED]

    @property
    def unconfirmed(self) -> list[str]:
        return [d.department for d in self.departments if d.status != CONFIRMED and d.cases]


def review_status(uow: UnitOfWork, *, actor: Actor, month: str) -> ReviewStatus:
    _reader(actor)
    period = parse_month(month)
    stats_rollup.bring_up_to_date(uow)             # the departments' case counts are the rollup's
    with uow.read() as session:
        compiled = session.scalar(select(StatsSnapshot.id).where(StatsSnapshot.period == period.label)) is not None
        return ReviewStatus(period.label, compiled, department_reviews(session, period), disputes(session, period))


def open_dispute_numbers(session: Session, period: Period) -> list[str]:
    return sorted({d.number for d in disputes(session, period, open_only=True)})


def review_figures(session: Session, period: Period, conditions: list | None = None) -> dict:
    """What the compiled table keeps of the review: each department's confirmation (or that it has not
    confirmed), the disputes and their resolutions, and every case closed in the month (`conditions`: the
    statistics' filters, for a filtered table's export). A period that is not a month has no review."""
    departments = department_reviews(session, period) if period.is_month else []
    return {"departments": [d.as_dict() for d in departments],
            "unconfirmed": [d.department for d in departments if d.status != CONFIRMED and d.cases],
            "disputes": [d.as_dict() for d in disputes(session, period)] if period.is_month else [],
            "closed_cases": closed_cases(session, period=period, conditions=conditions)}


# -- the home page's to-dos --

def month_to_confirm(uow: UnitOfWork, *, actor: Actor, now: datetime) -> str | None:
    """The last finished month, for a department head whose department has a share in it and has not
    confirmed it (and it is not compiled yet); else None."""
    if not actor.has(Role.DEPT_LEAD) or actor.department_id is None:
        return None
    period = last_finished_month(now)
    with uow.read() as session:
        if session.scalar(select(StatsSnapshot.id).where(StatsSnapshot.period == period.label)) is not None:
            return None
        confirmed = session.scalar(select(MonthConfirmation.id).where(
            MonthConfirmation.period == period.label, MonthConfirmation.department_id == actor.department_id,
            MonthConfirmation.complaint_id.is_(None), MonthConfirmation.status == CONFIRMED))
        if confirmed is not None:
            return None
        has_share = session.scalar(select(Complaint.id)
                                   .where(*_closed_conditions_for(period, actor.department_id)).limit(1))
        return period.label if has_share is not None else None


def open_dispute_count(uow: UnitOfWork, *, actor: Actor) -> int:
    """Disputes waiting for the GM office's resolution (any month)."""
    if not actor.has(Role.GM_OFFICE):
        return 0
    with uow.read() as session:
        return int(session.scalar(select(func.count()).select_from(MonthConfirmation)
                                  .where(MonthConfirmation.status == DISPUTED)))


def open_dispute_list(uow: UnitOfWork, *, actor: Actor, month: str) -> list[DisputeView]:
    _reader(actor)
    with uow.read() as session:
        return disputes(session, parse_month(month), open_only=True)
