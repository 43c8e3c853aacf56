"""Read models for the pages: the GM office queue, the tracking ledger (登记追踪表), a clerk's own
cases, and one case in full. Badges are computed here, at read time, from the milestones."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import ColumnElement, Select, String, and_, distinct, exists, false, func, or_, select, true, type_coerce
from sqlalchemy.orm import Session, aliased

from portal.domain import clocks as clock_rules
from portal.domain.calendar import WorkingCalendar
from portal.domain.clocks import Badge, ClockRule, Explanation, Milestone
from portal.domain.errors import NotFound, PermissionDenied
from portal.domain.four_eyes import WAITING_DECISION, Decision
from portal.domain.lifecycle import OPEN_STATES, State
from portal.domain.privacy import (DEFAULT_TABLE, FIELDS, MaskingTable, PersonalField, Visibility, mask_record,
                                   may_view_case, redact)
from portal.domain.roles import Role
from portal.domain.satisfaction import DIMENSIONS
from portal.persistence.database import UnitOfWork
from portal.persistence.models import (AttachmentRow, AuthorityLevel, CaseClock, Category, Channel,
                                       Complaint,
                                       ComplaintDepartment, Department, Event, FollowUp, Reminder, ResponsibilityShare,
                                       SlaClockVersion, User)
from portal.services import priority, privacy, rules
from portal.services.actors import Actor
from portal.services.eligibility import ANALYSIS_STATES, is_gm, not_excluded, waiting
from portal.services.rules import ClockInfo

MILESTONES = [m.value for m in Milestone]
_Clerk = aliased(User)
_Acceptor = aliased(User)
_Responsible = aliased(Department)
SUMMARY_CHARS = 60          # 内容摘要: the description's start, as the seed's ledger keeps it


def _ledger_select() -> Select:
    # Milestones are fetched as the driver gives them (text on SQLite) and parsed by pandas in
    # one vectorised pass: converting 100,000 × 11 values one by one in Python would dominate.
    # The seed's 登记追踪表 columns (002 art.13.3) come along: who accepted, a summary, where the
    # responsibility fell, the result, how often the case was chased, and the customer's satisfaction;
    # the two counts are correlated subqueries, run only for the rows of the page.
    reminders = (select(func.count()).where(Reminder.complaint_id == Complaint.id, Reminder.kind == "reminder")
                 .correlate(Complaint).scalar_subquery())
    satisfaction = (select(FollowUp.overall).where(FollowUp.complaint_id == Complaint.id)
                    .order_by(FollowUp.id.desc()).limit(1).correlate(Complaint).scalar_subquery())
    return (select(Complaint.id, Complaint.number, Complaint.state, Complaint.severity,
                   Complaint.urgency, Complaint.customer_name, Complaint.policy_number,
                   Category.code.label("category"), Channel.code.label("channel"),
                   _Clerk.display_name.label("clerk"), Complaint.receiving_clerk_id,
                   _Acceptor.display_name.label("acceptor"),
                   func.substr(Complaint.description, 1, SUMMARY_CHARS).label("summary"),
                   _Responsible.code.label("responsible_department"), Complaint.responsibility_level,
                   Complaint.negotiation_result, Complaint.negotiated_amount,
                   reminders.label("reminder_count"), satisfaction.label("satisfaction"),
                   Complaint.paused, Complaint.paused_seconds, Complaint.regulatory_extension_days,
                   Complaint.outside_seconds, Complaint.outside_process.is_not(None).label("outside"),
                   *[type_coerce(getattr(Complaint, m), String).label(m) for m in MILESTONES])
            .join(Category, Category.id == Complaint.category_id)
            .join(Channel, Channel.id == Complaint.channel_id)
            .join(_Clerk, _Clerk.id == Complaint.receiving_clerk_id)
            .outerjoin(_Acceptor, _Acceptor.id == Complaint.accepted_by_id)
            .outerjoin(_Responsible, _Responsible.id == Complaint.responsibility_department_id))


@dataclass
class LedgerFilter:
    states: list[str] = field(default_factory=list)
    category: str | None = None
    department: str | None = None
    text: str = ""
    received_from: date | None = None
    received_to: date | None = None
    badge: str | None = None          # "overdue", "due_soon", "paused", "calendar_missing"
    open_only: bool = False


_OPEN = [s.value for s in OPEN_STATES]
BADGE_FILTERS = ("overdue", "due_soon", "paused", "calendar_missing")


def case_clock_version() -> ColumnElement[bool]:
    """Join condition: the version of its clock's rule a stored clock is governed by (the one in force
    when its case was received)."""
    return and_(SlaClockVersion.clock_key == CaseClock.clock_key,
                SlaClockVersion.effective_from <= CaseClock.case_received_at,
                or_(SlaClockVersion.effective_until.is_(None), CaseClock.case_received_at < SlaClockVersion.effective_until))


def running_clock_condition(badge: str, now: datetime) -> ColumnElement[bool]:
    """A stored clock whose badge, at `now`, is `badge` (SPEC §4): the SQL twin of the
    load-time badge rule, over the due times stored in `case_clocks`."""
    running = CaseClock.stopped_at.is_(None)
    if badge == "overdue":
        return and_(running, CaseClock.held_since.is_(None), CaseClock.due_at < now)
    if badge == "due_soon":
        return and_(running, CaseClock.held_since.is_(None), CaseClock.soon_at < now, CaseClock.due_at >= now)
    if badge == "paused":
        return and_(running, CaseClock.held_since.is_not(None))
    if badge == "calendar_missing":
        return CaseClock.calendar_missing == true()      # "= true": an indexable comparison on both backends
    raise ValueError(badge)


def _with_badge(badge: str, now: datetime) -> ColumnElement[bool]:
    if badge == "overdue":
        # a running, unheld clock past its due time exactly when the earliest of them is: the case's stored
        # `next_due_at` (written with its clocks, `services.priority`), one index range instead of an IN over
        # every overdue clock
        return Complaint.next_due_at < now
    return Complaint.id.in_(select(CaseClock.complaint_id).where(running_clock_condition(badge, now)))


def filter_conditions(filters: LedgerFilter, reader: Actor | None = None,
                      masking: MaskingTable | None = None) -> list[ColumnElement[bool]]:
    """The ledger's filters as conditions on the complaints table alone (no joins), so that
    counting and paging stay index scans. The text matches a case number, and the customer's name or
    policy number only where the masking table shows them to `reader` (a search never confirms a
    masked value)."""
    out: list[ColumnElement[bool]] = []
    if filters.states:
        out.append(Complaint.state.in_(filters.states))
    if filters.open_only:
        out.append(Complaint.state.in_(_OPEN))
    if filters.category:
        out.append(Complaint.category_id == select(Category.id).where(Category.code == filters.category)
                   .scalar_subquery())
    if filters.department:
        out.append(Complaint.id.in_(
            select(ComplaintDepartment.complaint_id).join(Department)
            .where(Department.code == filters.department)))
    if filters.text.strip():
        like = f"%{filters.text.strip()}%"
        matches = [Complaint.number.like(like)]
        for field, column in ((PersonalField.NAME, Complaint.customer_name),
                              (PersonalField.POLICY_NUMBER, Complaint.policy_number)):
            seen = Visibility.SHOWN if reader is None else (masking or DEFAULT_TABLE).visibility(reader.roles, field)
            if seen is Visibility.SHOWN:
                matches.append(column.like(like))
            elif seen is Visibility.OWN_DEPARTMENT and reader is not None:
                matches.append(and_(column.like(like), own_case_condition(reader)))
        out.append(or_(*matches))
    if filters.received_from:
        out.append(Complaint.received_at >= datetime.combine(filters.received_from, datetime.min.time()))
    if filters.received_to:
        out.append(Complaint.received_at < datetime.combine(filters.received_to + timedelta(days=1),
                                                            datetime.min.time()))
    return out


def routed_to(department_id: int, *routing: ColumnElement[bool]) -> ColumnElement[bool]:
    """The case is routed to the department (with its routing matching `routing`). A queue's state picks its open
    cases in queue order (ix_complaints_queue) and each one's routing is looked up by its key: a correlated EXISTS,
    not an IN over the department's routings, which grow with its whole history (595,000 at a million cases)
    where the state holds only the open work."""
    return exists().where(ComplaintDepartment.complaint_id == Complaint.id,
                          ComplaintDepartment.department_id == department_id, *routing)


def own_case_condition(reader: Actor) -> ColumnElement[bool]:
    """The cases routed to the reader's department or whose working group they are in."""
    from portal.persistence.models import WorkingGroupMember
    member = Complaint.id.in_(select(WorkingGroupMember.complaint_id).where(WorkingGroupMember.user_id == reader.id))
    if reader.department_id is None:
        return member
    return or_(member, Complaint.id.in_(select(ComplaintDepartment.complaint_id)
                                        .where(ComplaintDepartment.department_id == reader.department_id)))


def ledger_statements(query: Select) -> tuple[Select, Select]:
    """A page of cases (the query, already ordered and limited) and their departments."""
    ids = query.with_only_columns(Complaint.id).subquery()
    return (query,
            select(ComplaintDepartment.complaint_id, Department.code)
            .join(Department, Department.id == ComplaintDepartment.department_id)
            .where(ComplaintDepartment.complaint_id.in_(select(ids.c.id)))
            .order_by(ComplaintDepartment.complaint_id, Department.sort))


def ledger_rows(session: Session, query: Select) -> pd.DataFrame:
    """The ledger's two queries turned into one frame."""
    connection = session.connection()
    names = list(query.selected_columns.keys())
    cases, links = ledger_statements(query)
    rows = connection.execute(cases).all()
    data: dict[str, object] = dict(zip(names, map(list, zip(*rows)))) if rows else {name: [] for name in names}
    routed: dict[int, list[str]] = {}
    if rows:
        for complaint_id, code in connection.execute(links).all():
            routed.setdefault(complaint_id, []).append(code)
    data["departments"] = [routed.get(i, []) for i in data["id"]]
    data["paused"] = [bool(p) for p in data["paused"]]
    # every milestone column in one conversion (one parse of n × 15 values, not fifteen of n), one constructor:
    # a queue page's fixed cost is mostly pandas' per-call overhead
    milestones = [c for c in MILESTONES if c in data]
    stamps = pd.to_datetime(pd.Series([v for c in milestones for v in data[c]], dtype=object), format="ISO8601")
    stamps = stamps.to_numpy(dtype="datetime64[ns]").reshape(len(milestones), len(rows))
    data.update({c: stamps[i] for i, c in enumerate(milestones)})
    return pd.DataFrame(data)


@dataclass
class Ledger:
    frame: pd.DataFrame          # one page of cases: case columns + `<clock>_badge`, `<clock>_due`
    clocks: list[ClockInfo]
    total: int = 0               # cases matching, over all pages
    page: int = 1
    page_size: int = 50
    counts: dict[str, int] = field(default_factory=dict)   # total, open, overdue, due_soon, calendar_missing
    order: str = "priority"      # how the cases are ordered (ORDERS): pages say so

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def with_badges(frame: pd.DataFrame, clocks: list[ClockInfo], calendar: WorkingCalendar,
                now: datetime, fraction: float) -> pd.DataFrame:
    badges = clock_rules.evaluate([c.rule for c in clocks], frame, now, calendar, fraction)
    return pd.concat([frame, badges], axis=1)


def count_statement(conditions: list[ColumnElement[bool]], now: datetime) -> Select:
    """Every ledger metric in one round trip, each an index-backed count."""
    def cases(*more: ColumnElement[bool]):  # noqa: ANN202
        return select(func.count()).select_from(Complaint).where(*conditions, *more).scalar_subquery()

    def flagged(badge: str, open_only: bool = True):  # noqa: ANN202
        # A case is open exactly while it has no closure time, which each clock row carries: without
        # filters this is one covering index, no join.
        inner = select(func.count(distinct(CaseClock.complaint_id))).where(
            running_clock_condition(badge, now), *([CaseClock.case_closed_at.is_(None)] if open_only else []))
        if conditions:
            inner = inner.join(Complaint, Complaint.id == CaseClock.complaint_id).where(*conditions)
        return inner.scalar_subquery()

    return select(cases().label("total"), cases(Complaint.state.in_(_OPEN)).label("open"),
                  flagged("overdue").label("overdue"), flagged("due_soon").label("due_soon"),
                  flagged("calendar_missing", open_only=False).label("calendar_missing"))


# How a list of cases is ordered: a queue by priority (重大, urgency, the earliest running due time,
# the oldest: `portal.domain.priority`, an index scan), a register by receipt.
ORDERS = {"priority": priority.QUEUE_ORDER,
          "newest": (Complaint.received_at.desc(), Complaint.id.desc()),
          "oldest": (Complaint.received_at.asc(), Complaint.id.asc())}


def queue_ids_statement(conditions: list[ColumnElement[bool]], order: str = "priority") -> Select:
    """The ids of the cases matching `conditions` in the list's order (paged by the caller)."""
    return select(Complaint.id).where(*conditions).order_by(*ORDERS[order])


def _ledger(uow: UnitOfWork, conditions: list[ColumnElement[bool]], now: datetime, calendar: WorkingCalendar,
            *, reader: Actor, page: int, page_size: int, oldest_first: bool | None = None, order: str | None = None,
            badge: str | None = None, with_counts: bool = False, decorate=None) -> Ledger:  # noqa: ANN001
    """One page of cases matching `conditions` in `order` (ORDERS; a queue — `oldest_first` — is in
    priority order, the register newest first), the number matching, and (for the ledger) its
    metrics: all filtered, counted and paged in SQL. `decorate(session, frame)` adds columns for the
    page's cases (who is assigned). The customer's data is masked for `reader` as the masking table says."""
    order = order or ("priority" if oldest_first or oldest_first is None else "newest")
    where = [*conditions, *([_with_badge(badge, now)] if badge in BADGE_FILTERS else [])]
    order_by = ORDERS[order]
    with uow.read() as session:
        counts: dict[str, int] = {}
        if with_counts:
            counts = dict(session.execute(count_statement(conditions, now)).one()._mapping)
        total = (counts["total"] if with_counts and badge not in BADGE_FILTERS else
                 session.scalar(select(func.count()).select_from(Complaint).where(*where)))
        pages = max(1, -(-total // page_size))
        page = min(max(1, page), pages)
        # The page's ids first, from the complaints table alone (its index gives the order), then
        # their display columns: a join never decides the plan of the ordered scan.
        ids = list(session.scalars(queue_ids_statement(where, order).limit(page_size)
                                   .offset((page - 1) * page_size)))
        frame = ledger_rows(session, _ledger_select().where(Complaint.id.in_(ids)).order_by(*order_by))
        frame = privacy.mask_frame(session, reader, frame)
        if decorate is not None:
            frame = decorate(session, frame)
        clocks = rules.clock_infos(session)
        fraction = rules.due_soon_fraction(rules.settings(session))
    frame = with_badges(frame, clocks, calendar, now, fraction)
    return Ledger(frame.reset_index(drop=True), clocks, int(total), page, page_size, counts, order)


LEDGER_PAGE = 200
QUEUE_PAGE = 50


def tracking_ledger(uow: UnitOfWork, *, actor: Actor, filters: LedgerFilter, now: datetime,
                    calendar: WorkingCalendar, page: int = 1, page_size: int = LEDGER_PAGE) -> Ledger:
    """登记追踪表: every case with its state, departments and every clock's badge and due time."""
    if not actor.has(Role.GM_OFFICE, Role.MANAGER, Role.ADMIN):
        raise PermissionDenied("auth.missing_role")
    with uow.read() as session:
        masking = privacy.masking_table(session)
    return _ledger(uow, filter_conditions(filters, actor, masking), now, calendar, reader=actor, page=page, page_size=page_size,
                   oldest_first=False, badge=filters.badge, with_counts=True)


def acceptance_queue(uow: UnitOfWork, *, actor: Actor, now: datetime, calendar: WorkingCalendar,
                     page: int = 1, page_size: int = QUEUE_PAGE) -> Ledger:
    """Cases waiting for the GM office to accept them (待受理), in queue order."""
    if not actor.has(Role.GM_OFFICE):
        raise PermissionDenied("auth.missing_role")
    return _ledger(uow, [Complaint.state == State.REGISTERED.value], now, calendar, reader=actor, page=page,
                   page_size=page_size, oldest_first=True)


def my_complaints(uow: UnitOfWork, *, actor: Actor, now: datetime, calendar: WorkingCalendar,
                  page: int = 1, page_size: int = QUEUE_PAGE, open_only: bool = True) -> Ledger:
    """The cases this intake clerk registered: the open ones in queue order, or (`open_only` False)
    all of them, newest first."""
    if not actor.has(Role.INTAKE, Role.INTAKE_LEAD):
        raise PermissionDenied("auth.missing_role")
    mine = [Complaint.receiving_clerk_id == actor.id]
    if open_only:
        return _ledger(uow, [*mine, priority.still_open()], now, calendar, reader=actor, page=page, page_size=page_size,
                       order="priority")
    return _ledger(uow, mine, now, calendar, reader=actor, page=page, page_size=page_size, order="newest")


def department_queue(uow: UnitOfWork, *, actor: Actor, now: datetime, calendar: WorkingCalendar,
                     page: int = 1, page_size: int = QUEUE_PAGE, to_report: bool = False) -> Ledger:
    """部门处理: open cases routed to the handler's department that still await its report; with
    `to_report`, cases whose investigation is done and whose report to the GM office is due
    (002 art.13.2), for any department the case was routed to."""
    if not actor.has(Role.HANDLER) or actor.department_id is None:
        raise PermissionDenied("auth.missing_role")
    if to_report:
        conditions = [Complaint.state == State.AWAITING_REPORT.value, routed_to(actor.department_id)]
    else:
        conditions = [Complaint.state == State.INVESTIGATING.value,
                      routed_to(actor.department_id, ComplaintDepartment.report_submitted_at.is_(None))]
    from portal.services.assignment import with_assignments     # who of the department works on each case
    return _ledger(uow, conditions, now, calendar, reader=actor, page=page, page_size=page_size, order="priority",
                   decorate=lambda session, frame: with_assignments(session, frame, now, actor.department_id))


def _approval_conditions(session: Session, actor: Actor, state: State) -> list[ColumnElement[bool]]:
    """The cases in `state` this approver may decide: within their level (the first 核决 by the
    consolidated amount, the final one by the amount agreed with the customer; the GM's 批示 by the
    GM alone), and none they are recused from or whose work they did (four eyes)."""
    ranks = dict(session.execute(select(AuthorityLevel.key, AuthorityLevel.rank)).all())
    mine = ranks.get(actor.approval_level or "", 0)
    covered = [key for key, rank in ranks.items() if rank <= mine]
    decision = WAITING_DECISION[state]
    if state is State.AWAITING_GM_INSTRUCTION:
        the_gm = is_gm(session, actor.approval_level)
        return [Complaint.state == state.value, true() if the_gm else false(), not_excluded(actor.id, decision)]
    column = Complaint.final_required_level if state is State.AWAITING_FINAL_APPROVAL else Complaint.required_level
    return [Complaint.state == state.value, column.in_(covered), not_excluded(actor.id, decision)]


def approval_queue(uow: UnitOfWork, *, actor: Actor, now: datetime, calendar: WorkingCalendar,
                   page: int = 1, page_size: int = QUEUE_PAGE, state: State = State.AWAITING_APPROVAL) -> Ledger:
    """核决: cases awaiting this approver's first 核决, final 核决 or (the GM) 批示 of the investigation
    report (`state`); only the ones they may take (authority, recusal, four eyes)."""
    if not actor.has(Role.APPROVER) or state not in WAITING_DECISION or state is State.AWAITING_REVIEW:
        raise PermissionDenied("auth.missing_role")
    with uow.read() as session:
        conditions = _approval_conditions(session, actor, state)
    return _ledger(uow, conditions, now, calendar, reader=actor, page=page, page_size=page_size, oldest_first=True)


def stuck_cases(uow: UnitOfWork, *, actor: Actor, now: datetime, calendar: WorkingCalendar,
                page: int = 1, page_size: int = QUEUE_PAGE) -> Ledger:
    """无可处理人: cases whose next decision no active user may take (four eyes, recusal, nobody holding
    the duty); the frame's `stuck_decision` and `stuck_reason` say which and why."""
    if not actor.has(Role.GM_OFFICE, Role.ADMIN):
        raise PermissionDenied("auth.missing_role")
    ledger = _ledger(uow, [Complaint.stuck_decision.is_not(None)], now, calendar, reader=actor, page=page, page_size=page_size,
                     oldest_first=True)
    with uow.read() as session:
        why = {i: (d, r) for i, d, r in session.execute(
            select(Complaint.id, Complaint.stuck_decision, Complaint.stuck_reason)
            .where(Complaint.id.in_([int(i) for i in ledger.frame["id"]])))}
    frame = ledger.frame.assign(stuck_decision=[why.get(int(i), (None, None))[0] for i in ledger.frame["id"]],
                                stuck_reason=[why.get(int(i), (None, None))[1] for i in ledger.frame["id"]])
    return replace(ledger, frame=frame)


def analyses_to_instruct(uow: UnitOfWork, *, actor: Actor, now: datetime, calendar: WorkingCalendar,
                         page: int = 1, page_size: int = QUEUE_PAGE) -> Ledger:
    """A department lead's queue: their department's reported analyses awaiting their 批示 (002
    art.13.3), none they wrote themselves."""
    if not actor.has(Role.DEPT_LEAD) or actor.department_id is None:
        raise PermissionDenied("auth.missing_role")
    waiting_routing = select(ComplaintDepartment.complaint_id).join(
        Department, Department.id == ComplaintDepartment.department_id).where(
        ComplaintDepartment.department_id == actor.department_id, Department.lead_instructs.is_(True),
        ComplaintDepartment.report_submitted_at.is_not(None), ComplaintDepartment.lead_instructed_at.is_(None))
    conditions = [Complaint.id.in_(waiting_routing), Complaint.state.in_([s.value for s in ANALYSIS_STATES]),
                  not_excluded(actor.id, Decision.INSTRUCT_ANALYSIS)]
    return _ledger(uow, conditions, now, calendar, reader=actor, page=page, page_size=page_size, oldest_first=True)


def sanction_cases(uow: UnitOfWork, *, actor: Actor, now: datetime, calendar: WorkingCalendar,
                   page: int = 1, page_size: int = QUEUE_PAGE) -> Ledger:
    """Confirmed administrative sanctions (002 art.13.6) not yet referred, or whose outcome is not yet
    recorded."""
    if not actor.has(Role.GM_OFFICE):
        raise PermissionDenied("auth.missing_role")
    with uow.read() as session:
        kinds = [k.strip() for k in rules.settings(session).get("penalty.administrative_types", "").split(",")
                 if k.strip()]
    conditions = [Complaint.state.in_([State.CLOSED.value, State.ARCHIVED.value]),
                  Complaint.final_approved_at.is_not(None), Complaint.penalty_type.in_(kinds),
                  Complaint.penalty_type != "", Complaint.sanction_outcome_at.is_(None)]    # ix_complaints_penalty_open
    return _ledger(uow, conditions, now, calendar, reader=actor, page=page, page_size=page_size, oldest_first=True)


_WORK_ROLES = {
    State.INVESTIGATING: {Role.GM_OFFICE}, State.AWAITING_REPORT: {Role.GM_OFFICE},
    State.AWAITING_CONSOLIDATION: {Role.GM_OFFICE}, State.AWAITING_CLOSURE: {Role.GM_OFFICE},
    State.NEGOTIATING: {Role.INTAKE, Role.INTAKE_LEAD}, State.AWAITING_REVIEW: {Role.INTAKE_LEAD},
    State.CLOSED: {Role.INTAKE, Role.INTAKE_LEAD, Role.GM_OFFICE},
}


def work_queue(uow: UnitOfWork, *, actor: Actor, state: State, now: datetime, calendar: WorkingCalendar,
               follow_up_task: bool | None = None, page: int = 1, page_size: int = QUEUE_PAGE) -> Ledger:
    """Cases waiting in one state for the role that acts next, in queue order; under investigation,
    with who is assigned in each department and whether one waits past the time to name someone."""
    if not actor.has(*_WORK_ROLES.get(state, set())):
        raise PermissionDenied("auth.missing_role")
    conditions = [Complaint.state == state.value]
    if state in WAITING_DECISION:        # the supervisor's 核阅: not their own negotiation (four eyes)
        conditions.append(not_excluded(actor.id, WAITING_DECISION[state]))
    if follow_up_task is not None:
        conditions.append(Complaint.follow_up_task.is_(follow_up_task))
    decorate = None
    if state is State.INVESTIGATING:
        from portal.services.assignment import with_assignments
        decorate = lambda session, frame: with_assignments(session, frame, now)  # noqa: E731
    return _ledger(uow, conditions, now, calendar, reader=actor, page=page, page_size=page_size, order="priority",
                   decorate=decorate)


def open_cases_without_calendar(uow: UnitOfWork) -> int:
    """Open cases with a working-day deadline in a year no calendar covers (its due time unknown)."""
    with uow.read() as session:
        return int(session.scalar(select(func.count(distinct(CaseClock.complaint_id))).where(
            CaseClock.calendar_missing == true(), CaseClock.case_closed_at.is_(None))))


@dataclass(frozen=True)
class Todo:
    key: str        # what waits (catalogue `todo.<key>`)
    count: int
    page: str       # the page where it is done


def todo_counts(uow: UnitOfWork, *, actor: Actor, now: datetime) -> list[Todo]:
    """The home page's to-do list: for each queue of the actor's roles, how many cases wait there
    (each the same condition as the queue's own), and the open cases past a deadline for those
    who watch them. Counted in SQL, one round trip."""
    def cases(*conditions: ColumnElement[bool]):  # noqa: ANN202
        return select(func.count()).select_from(Complaint).where(*conditions).scalar_subquery()

    def overdue(*conditions: ColumnElement[bool]):  # noqa: ANN202
        inner = (select(func.count(distinct(CaseClock.complaint_id)))
                 .where(running_clock_condition("overdue", now), CaseClock.case_closed_at.is_(None)))
        if conditions:
            inner = inner.join(Complaint, Complaint.id == CaseClock.complaint_id).where(*conditions)
        return inner.scalar_subquery()

    from portal.services.follow_ups import wants_follow_up
    wanted: list[tuple[str, str, object]] = []
    if actor.has(Role.INTAKE, Role.INTAKE_LEAD):
        wanted += [("negotiate", "negotiation", cases(Complaint.state == State.NEGOTIATING.value)),
                   ("follow_up", "negotiation", cases(wants_follow_up())),      # none yet, or one scheduled
                   ("my_overdue", "my_complaints", overdue(Complaint.receiving_clerk_id == actor.id))]
        from portal.services.contacts import due_count_statement       # 待联系客户 (SPEC §11)
        wanted.append(("contact_due", "negotiation", due_count_statement(now)))
    if actor.has(Role.INTAKE_LEAD):
        wanted.append(("review", "negotiation", cases(Complaint.state == State.AWAITING_REVIEW.value,
                                                      not_excluded(actor.id, WAITING_DECISION[State.AWAITING_REVIEW]))))
    if actor.has(Role.GM_OFFICE):
        wanted += [("accept", "gm_office", cases(Complaint.state == State.REGISTERED.value)),
                   ("consolidate", "gm_office", cases(Complaint.state == State.AWAITING_CONSOLIDATION.value)),
                   ("close", "gm_office", cases(Complaint.state == State.AWAITING_CLOSURE.value)),
                   ("stuck", "gm_office", cases(Complaint.stuck_decision.is_not(None))),
                   ("follow_up_task", "gm_office", cases(Complaint.state == State.CLOSED.value,
                                                        Complaint.follow_up_task.is_(True)))]
        from portal.persistence.models import Notice       # 通知发件箱: failed and 待确认 notices (SPEC §11)
        wanted.append(("notices_attention", "outbox", select(func.count()).select_from(Notice).where(
            Notice.state.in_(("failed", "unconfirmed"))).scalar_subquery()))
    if actor.has(Role.HANDLER) and actor.department_id is not None:
        mine = routed_to(actor.department_id, ComplaintDepartment.report_submitted_at.is_(None))
        wanted += [("investigate", "department", cases(Complaint.state == State.INVESTIGATING.value, mine)),
                   ("report_to_gm", "department", cases(Complaint.state == State.AWAITING_REPORT.value,
                                                        routed_to(actor.department_id))),
                   ("answer", "department", select(func.count()).select_from(Reminder).where(
                       Reminder.department_id == actor.department_id, Reminder.answered_at.is_(None))
                    .scalar_subquery()),
                   ("department_overdue", "department", overdue(Complaint.state == State.INVESTIGATING.value,
                                                                mine))]
    if actor.has(Role.APPROVER):
        with uow.read() as session:
            the_gm = is_gm(session, actor.approval_level)
            wanted += [(key, "approval", cases(*_approval_conditions(session, actor, state))) for key, state in
                       (("approve", State.AWAITING_APPROVAL), ("final_approve", State.AWAITING_FINAL_APPROVAL),
                        *([("instruct_report", State.AWAITING_GM_INSTRUCTION)] if the_gm else []))]
    if actor.has(Role.DEPT_LEAD) and actor.department_id is not None:     # 待指派: nobody named yet (000 §5)
        wanted.append(("assign", "department", cases(Complaint.state.in_(_OPEN), routed_to(
            actor.department_id, ComplaintDepartment.report_submitted_at.is_(None),
            ComplaintDepartment.assigned_at.is_(None)))))
    if actor.has(Role.GM_OFFICE, Role.MANAGER, Role.ADMIN):
        wanted.append(("overdue", "ledger", overdue()))
    if not wanted:
        return []
    with uow.read() as session:
        counts = session.execute(select(*[count.label(f"c{i}") for i, (_, _, count) in enumerate(wanted)])).one()
    return [Todo(key, int(n), page) for (key, page, _), n in zip(wanted, counts)]


@dataclass(frozen=True)
class ClockStatus:
    info: ClockInfo
    rule: ClockRule             # the version the case is governed by
    badge: Badge
    start: datetime | None
    stop: datetime | None
    due: datetime | None
    explanation: Explanation | None


@dataclass(frozen=True)
class EventView:
    at: datetime
    actor: str
    action: str
    from_state: str | None
    to_state: str | None
    comment: str
    changes: dict


@dataclass(frozen=True)
class AttachmentView:
    id: int
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class CaseView:
    id: int
    number: str | None
    state: str
    version: int
    fields: dict            # the form's fields, personal data masked when the reader may not see it
    masked: bool
    category: str
    channel: str
    departments: list[dict]
    complained_staff: list[str]
    clocks: list[ClockStatus]
    events: list[EventView]
    attachments: list[AttachmentView]
    handling: dict = field(default_factory=dict)   # consolidation, approval, negotiation, closure
    original: str | None = None                     # the case this one repeats (customer rejected)
    repeats: list[str] = field(default_factory=list)


_FORM_FIELDS = ("customer_name", "customer_gender", "customer_age_band", "customer_occupation",
                "customer_phone", "customer_id_number", "customer_address", "customer_email",
                "policy_number", "product", "insured_name", "claim_report_number", "received_at",
                "description", "product_involved", "expected_resolution", "clerk_opinion", "complained_staff_other",
                "severity", "urgency", "flag_media", "flag_regulator", "flag_litigation", "flag_deaths",
                "flag_association",
                "amount_at_stake", "joint_complainants", "accepted_at", "created_at")


def find_case_id(uow: UnitOfWork, reference: str) -> int | None:
    """A case by its number (`2511-0042`) or its internal id (before it is numbered)."""
    reference = reference.strip()
    with uow.read() as session:
        found = session.scalar(select(Complaint.id).where(Complaint.number == reference))
        if found is None and reference.isdigit():
            found = session.scalar(select(Complaint.id).where(Complaint.id == int(reference)))
        return found


def current_version(uow: UnitOfWork, complaint_id: int) -> int:
    """The case's version now: what a command or the demo seeder reads right before it acts on the
    case, as a page passes the version it showed (`steps.case_step`)."""
    with uow.read() as session:
        version = session.scalar(select(Complaint.version).where(Complaint.id == complaint_id))
    if version is None:
        raise NotFound("case.not_found")
    return version


def case_detail(uow: UnitOfWork, *, actor: Actor, complaint_id: int, now: datetime,
                calendar: WorkingCalendar) -> CaseView:
    with uow.read() as session:
        complaint = session.get(Complaint, complaint_id)
        if complaint is None:
            raise NotFound("case.not_found")
        department_ids = [d.department_id for d in complaint.departments]
        from portal.services.assignment import case_people
        people = case_people(session, complaint.id)       # assignees per department, the working group
        member = any(m["user_id"] == actor.id for m in people["working_group"])    # 专项工作组: reads it in full
        if not may_view_case(actor.roles, actor.department_id, department_ids) and not member:
            raise PermissionDenied("case.not_yours")
        raw = {name: getattr(complaint, name) for name in _FORM_FIELDS}
        own = actor.department_id in department_ids or member      # routed to the reader's department
        shown = privacy.shown_on_case(session, actor, complaint.id, own=own)
        masked = shown != frozenset(FIELDS)
        # the fields the reader may not see, masked; and their values wherever free text repeats them
        fields = {name: redact(value, raw, shown) for name, value in mask_record(raw, shown).items()}
        staff_ids = [link.user_id for link in complaint.staff_links]
        _prefetch_names(session, [complaint.receiving_clerk_id, complaint.accepted_by_id, complaint.approved_by_id,
                                  complaint.penalty_confirmed_by_id, complaint.gm_instructed_by_id,
                                  complaint.final_approved_by_id, *staff_ids,
                                  *[d.lead_instructed_by_id for d in complaint.departments]])
        fields["receiving_clerk"] = _name(session, complaint.receiving_clerk_id)
        staff = [_name(session, user_id) for user_id in staff_ids]
        # the codes and counts the page names, in one statement
        reminders, late_inquiries, category, channel, responsible, original = session.execute(select(
            _count_reminders(complaint.id, "reminder"), _count_reminders(complaint.id, "late_inquiry"),
            select(Category.code).where(Category.id == complaint.category_id).scalar_subquery(),
            select(Channel.code).where(Channel.id == complaint.channel_id).scalar_subquery(),
            select(Department.code).where(Department.id == complaint.responsibility_department_id).scalar_subquery(),
            select(Complaint.number).where(Complaint.id == complaint.original_id).scalar_subquery())).one()
        departments = [{"code": d.department.code, "name_zh": d.department.name_zh,
                        "name_en": d.department.name_en, "routed_at": d.routed_at,
                        "initial_plan_at": d.initial_plan_at, "initial_plan": d.initial_plan,
                        "report_submitted_at": d.report_submitted_at, "evidence": d.evidence,
                        "cause": d.cause, "finding": d.finding, "responsible_unit": d.responsible_unit,
                        "responsible_persons": d.responsible_persons, "measures": d.measures,
                        "proposed_amount": d.proposed_amount, "lead_instructs": d.department.lead_instructs,
                        "lead_instruction": d.lead_instruction, "lead_instructed_at": d.lead_instructed_at,
                        "lead_instructed_by": _name(session, d.lead_instructed_by_id)}
                       for d in complaint.departments]
        handling = {
            **people,
            "consolidated_opinion": complaint.consolidated_opinion,
            "proposed_amount": complaint.proposed_amount, "required_level": complaint.required_level,
            "approval_instructions": complaint.approval_instructions,
            "amount_limit": complaint.amount_limit,
            "negotiation_result": complaint.negotiation_result,
            "negotiation_note": complaint.negotiation_note,
            "negotiated_amount": complaint.negotiated_amount, "closure_note": complaint.closure_note,
            "responsible_department": responsible,
            "responsibility_level": complaint.responsibility_level,
            "department_loss": complaint.department_loss, "penalty_type": complaint.penalty_type,
            "penalty_persons": complaint.penalty_persons, "paused": complaint.paused,
            "follow_up_task": complaint.follow_up_task, "other_company": complaint.other_company,
            "decision_checked": complaint.decision_checked, "decision_basis": complaint.decision_basis,
            "decision_remedies": [r for r in (complaint.decision_remedies or "").split(",") if r],
            "decision_told_via": complaint.decision_told_via, "decision_proof": complaint.decision_proof,
            "decision_told_at": complaint.decision_told_at,
            "regulatory_extension_days": complaint.regulatory_extension_days,
            "outside_process": complaint.outside_process,
            "review_requested_at": complaint.review_requested_at, "review_decision": complaint.review_decision,
            "staff_ids": staff_ids,
            "accepted_by": _name(session, complaint.accepted_by_id),
            "approved_by": _name(session, complaint.approved_by_id),
            "gm_report": complaint.gm_report, "reported_to_gm_at": complaint.reported_to_gm_at,
            "penalty_confirmed_at": complaint.penalty_confirmed_at,
            "penalty_confirmed_by": _name(session, complaint.penalty_confirmed_by_id),
            "gm_instruction": complaint.gm_instruction, "gm_instructed_at": complaint.gm_instructed_at,
            "gm_instructed_by": _name(session, complaint.gm_instructed_by_id),
            "final_required_level": complaint.final_required_level,
            "final_approved_at": complaint.final_approved_at, "final_comment": complaint.final_comment,
            "final_approved_by": _name(session, complaint.final_approved_by_id),
            "sanction_referred_to": complaint.sanction_referred_to,
            "sanction_referred_at": complaint.sanction_referred_at,
            "sanction_outcome": complaint.sanction_outcome, "sanction_outcome_at": complaint.sanction_outcome_at,
            # the decisions the case waits for and who may take them (four eyes, recusal, duties)
            "waiting": [{"decision": w.decision.value, "department": w.department, "reason": w.reason,
                         "eligible": [u.display_name for u in w.eligible]}
                        for w in waiting(session, complaint)],
            "shares": [(code, ratio) for code, ratio in session.execute(
                select(Department.code, ResponsibilityShare.ratio)
                .join(Department, Department.id == ResponsibilityShare.department_id)
                .where(ResponsibilityShare.complaint_id == complaint.id)
                .order_by(ResponsibilityShare.ratio.desc(), Department.sort))],
            "reminders": reminders, "late_inquiries": late_inquiries,
            "follow_ups": [{"visited_at": f.visited_at, "by": name, "outcome": f.outcome, "method": f.method,
                            **{d: getattr(f, d) for d in DIMENSIONS}}
                           for f, name in session.execute(
                               select(FollowUp, User.display_name).join(User, User.id == FollowUp.by_id)
                               .where(FollowUp.complaint_id == complaint.id).order_by(FollowUp.id))],
        }
        repeats = [n or f"#{i}" for i, n in session.execute(
            select(Complaint.id, Complaint.number).where(Complaint.original_id == complaint.id))]
        events = [EventView(e.at, name or e.actor_label, e.action, e.from_state, e.to_state,
                            redact(e.comment, raw, shown), _masked_changes(e.changes, raw, shown))
                  for e, name in session.execute(
                      select(Event, User.display_name).outerjoin(User, User.id == Event.actor_id)
                      .where(Event.complaint_id == complaint.id).order_by(Event.id))]
        attachments = [AttachmentView(a.id, a.filename, a.content_type, a.size)
                       for a in session.execute(select(AttachmentRow.id, AttachmentRow.filename,
                                                       AttachmentRow.content_type, AttachmentRow.size)
                                                .where(AttachmentRow.complaint_id == complaint.id)
                                                .order_by(AttachmentRow.id))]
        clocks = rules.clock_infos(session)
        fraction = rules.due_soon_fraction(rules.settings(session))
        holds = clock_rules.Holds(complaint.paused, complaint.paused_seconds,
                                  complaint.outside_process is not None, complaint.outside_seconds,
                                  complaint.regulatory_extension_days)
        statuses = []
        for info in clocks:
            rule = info.rule.for_received(complaint.received_at)     # the version the case was received under
            start = getattr(complaint, rule.start.value)
            stop = getattr(complaint, rule.stop.value)
            badge, due = clock_rules.badge_one(rule, start, stop, now, calendar, fraction, holds)
            explanation = (clock_rules.explain(rule.unit, rule.target, start, calendar)
                           if start is not None else None)
            if explanation is not None and explanation.due is not None and holds.shift(rule):
                explanation = replace(explanation, due=due, shifted=holds.shift(rule))
            statuses.append(ClockStatus(info, rule, badge, start, stop, due, explanation))
        if masked:      # what people wrote about the case may repeat the customer's data
            departments = [{k: redact(v, raw, shown) for k, v in d.items()} for d in departments]
            handling = {k: redact(v, raw, shown) for k, v in handling.items()}
        return CaseView(complaint.id, complaint.number, complaint.state, complaint.version, fields,
                        masked, category, channel, departments, staff, statuses,
                        events, attachments, handling, original, repeats)


def _count_reminders(complaint_id: int, kind: str):  # noqa: ANN202
    return (select(func.count()).select_from(Reminder)
            .where(Reminder.complaint_id == complaint_id, Reminder.kind == kind).scalar_subquery())


def _prefetch_names(session, user_ids: list[int | None]) -> None:  # noqa: ANN001
    """The display names of the people a page names, in one read (`_name` then finds them)."""
    names = session.info.setdefault("portal_display_names", {})
    wanted = {i for i in user_ids if i is not None and i not in names}
    if wanted:
        names.update(dict(session.execute(select(User.id, User.display_name).where(User.id.in_(wanted))).all()))


def _name(session, user_id: int | None) -> str:  # noqa: ANN001
    """A user's display name: one small read per person per transaction (not the user with their roles)."""
    if user_id is None:
        return ""
    names = session.info.setdefault("portal_display_names", {})
    if user_id not in names:
        names[user_id] = session.scalar(select(User.display_name).where(User.id == user_id)) or ""
    return names[user_id]


def _masked_changes(changes: dict, raw: dict, shown: frozenset) -> dict:
    """An event's changed fields as the reader may read them: the personal ones masked, and the case's
    masked values replaced wherever a changed text repeats them."""
    if shown == frozenset(FIELDS) or not isinstance(changes, dict):
        return changes
    return {k: (_masked_changes(v, raw, shown) if isinstance(v, dict) else redact(v, raw, shown))
            for k, v in mask_record(changes, shown).items()}


def attachment_content(uow: UnitOfWork, *, actor: Actor, attachment_id: int) -> tuple[str, str, bytes]:
    with uow.read() as session:
        row = session.get(AttachmentRow, attachment_id)
        if row is None:
            raise NotFound("case.not_found")
        complaint = session.get(Complaint, row.complaint_id)
        from portal.services.assignment import in_working_group
        if not may_view_case(actor.roles, actor.department_id, [d.department_id for d in complaint.departments]) \
                and not in_working_group(session, complaint.id, actor.id):
            raise PermissionDenied("case.not_yours")
        return row.filename, row.content_type, row.data
