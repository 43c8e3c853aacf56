"""What the desk's pages read: the clerk's queue (what waits on 市场部), 运营部's hand-over queue (by due time),
the register of requests (filtered, counted and paged in SQL), one request with its history, and the counts
for the home page. Personal data as the masking table shows it to the reader; a request is "their own
department's" for the desk's departments (市场部 receives, 运营部 hands over)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from portal.domain.aftersales import OPEN_STATES, RequestKind, RequestState, missing_materials, required_materials
from portal.domain.errors import NotFound, PermissionDenied
from portal.domain.privacy import MASKS, PersonalField, redact
from portal.domain.roles import Role
from portal.persistence.database import UnitOfWork
from portal.persistence.models import Policy, RequestContact, RequestEvent, ServiceRequest, User
from portal.services import privacy
from portal.services.actors import Actor
from portal.services.aftersales import HANDOVER_DEPARTMENT, checklists, material_names, may_hand_over, may_receive

DESK_DEPARTMENTS = frozenset({"marketing", HANDOVER_DEPARTMENT})
READERS = (Role.INTAKE, Role.INTAKE_LEAD, Role.GM_OFFICE, Role.MANAGER, Role.ADMIN)
PAGE = 50
# each request column holding personal data, and the field of the masking table that governs it
PERSONAL = {"insured_name": PersonalField.NAME, "contact_name": PersonalField.NAME,
            "contact_phone": PersonalField.PHONE, "contact_id_number": PersonalField.ID_NUMBER,
            "contact_address": PersonalField.ADDRESS, "policy_number": PersonalField.POLICY_NUMBER}
LIST_COLUMNS = ("id", "number", "kind", "state", "policy_number", "insured_name", "contact_name", "channel",
                "received_at", "clock_key", "clock_due_at", "clock_soon_at", "clock_stopped_at", "clock_late",
                "clock_calendar_missing", "major_reasons", "major_reported_at", "check_failures", "version")


def may_read(actor: Actor) -> bool:
    return actor.has(*READERS) or may_hand_over(actor)


def _shown(session: Session, actor: Actor) -> frozenset[PersonalField]:
    return privacy.masking_table(session).shown_fields(actor.roles,
                                                       on_own_case=actor.department_code in DESK_DEPARTMENTS)


def searchable_fields(uow: UnitOfWork, *, actor: Actor) -> frozenset[PersonalField]:
    """The personal fields a reader may search the register by (a search never confirms a masked value)."""
    with uow.read() as session:
        return _shown(session, actor)


def mask_row(row: dict, shown: frozenset[PersonalField]) -> dict:
    return {k: (MASKS[PERSONAL[k]](v) if k in PERSONAL and PERSONAL[k] not in shown and isinstance(v, str) else v)
            for k, v in row.items()}


def badge_of(now: datetime) -> ColumnElement[str]:
    """The running clock's badge at `now`, in SQL: overdue, due_soon, on_track, met, met_late, missing, none."""
    r = ServiceRequest
    return case((r.clock_key.is_(None), "none"),
                (r.clock_stopped_at.is_not(None), case((r.clock_late.is_(True), "met_late"), else_="met")),
                (r.clock_calendar_missing.is_(True), "calendar_missing"),
                (r.clock_due_at <= now, "overdue"), (r.clock_soon_at <= now, "due_soon"), else_="on_track")


def badge_condition(badge: str, now: datetime) -> ColumnElement[bool]:
    r, running = ServiceRequest, ServiceRequest.clock_stopped_at.is_(None)
    return {"overdue": and_(running, r.clock_due_at <= now),
            "due_soon": and_(running, r.clock_soon_at <= now, r.clock_due_at > now),
            "calendar_missing": and_(running, r.clock_calendar_missing.is_(True))}[badge]


@dataclass
class RequestPage:
    frame: pd.DataFrame
    total: int
    page: int = 1
    page_size: int = PAGE
    order: str = "due"

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _page(session: Session, actor: Actor, conditions: list, order: list, now: datetime, page: int,
          page_size: int, label: str) -> RequestPage:
    total = session.scalar(select(func.count()).select_from(ServiceRequest).where(*conditions)) or 0
    pages = max(1, -(-total // page_size))
    page = min(max(1, int(page)), pages)
    rows = session.execute(select(*[getattr(ServiceRequest, c) for c in LIST_COLUMNS], badge_of(now).label("badge"))
                           .where(*conditions).order_by(*order).offset((page - 1) * page_size)
                           .limit(page_size)).mappings().all()
    shown = _shown(session, actor)
    frame = pd.DataFrame([mask_row(dict(r), shown) for r in rows], columns=[*LIST_COLUMNS, "badge"])
    return RequestPage(frame, total, page, page_size, label)


_BY_DUE = (ServiceRequest.clock_due_at.is_(None), ServiceRequest.clock_due_at, ServiceRequest.received_at,
           ServiceRequest.id)


def desk_queue(uow: UnitOfWork, *, actor: Actor, now: datetime, page: int = 1, page_size: int = PAGE) -> RequestPage:
    """What waits on the desk's clerks: reports awaiting their decision, major claims not yet reported to
    headquarters, applications waiting for materials, surrenders and endorsements not finished — the one
    falling due first at the top."""
    if not may_receive(actor):
        raise PermissionDenied("auth.missing_role")
    r = ServiceRequest
    waiting = or_(and_(r.kind == RequestKind.CLAIM_REPORT, r.state == RequestState.RECEIVED),
                  and_(r.kind == RequestKind.CLAIM_REPORT, r.clock_key == "major_report", r.clock_stopped_at.is_(None)),
                  and_(r.kind == RequestKind.CLAIM_APPLICATION, r.state == RequestState.INCOMPLETE),
                  and_(r.kind.in_([RequestKind.SURRENDER, RequestKind.ENDORSEMENT]),
                       r.state.in_([RequestState.RECEIVED, RequestState.GUIDED])))
    with uow.read() as session:
        return _page(session, actor, [waiting], list(_BY_DUE), now, page, page_size, "due")


def handover_queue(uow: UnitOfWork, *, actor: Actor, now: datetime, page: int = 1,
                   page_size: int = PAGE) -> RequestPage:
    """理赔移交: complete applications 运营部 has still to hand to the insurer, the earliest due first; and
    those handed over whose decision has not come back (below them)."""
    if not (may_hand_over(actor) or actor.has(Role.GM_OFFICE)):
        raise PermissionDenied("auth.missing_role")
    r = ServiceRequest
    with uow.read() as session:
        return _page(session, actor, [r.kind == RequestKind.CLAIM_APPLICATION,
                                      r.state.in_([RequestState.COMPLETE, RequestState.HANDED_OVER])],
                     [r.state != RequestState.COMPLETE, *_BY_DUE], now, page, page_size, "due")


@dataclass
class RequestFilter:
    kind: str | None = None
    states: list[str] = field(default_factory=list)
    open_only: bool = False
    text: str = ""                        # a request number, or a policy number where the reader may see them
    received_from: date | None = None
    received_to: date | None = None
    badge: str | None = None


def register_conditions(session: Session, actor: Actor, filters: RequestFilter, now: datetime) -> list:
    """The register's filters as conditions on the requests table alone (counting and paging stay index scans).
    The text matches a request number, and a policy number only where the reader may see policy numbers."""
    r = ServiceRequest
    conditions: list = []
    if filters.kind:
        conditions.append(r.kind == filters.kind)
    if filters.states:
        conditions.append(r.state.in_(filters.states))
    if filters.open_only:
        conditions.append(r.state.in_([s.value for s in OPEN_STATES]))
    if filters.received_from:
        conditions.append(r.received_at >= datetime.combine(filters.received_from, datetime.min.time()))
    if filters.received_to:
        conditions.append(r.received_at < datetime.combine(filters.received_to + timedelta(days=1),
                                                           datetime.min.time()))
    if filters.badge:
        conditions.append(badge_condition(filters.badge, now))
    text = filters.text.strip()
    if text:
        matches = [r.number == text.upper()]
        if PersonalField.POLICY_NUMBER in _shown(session, actor):     # a search never confirms a masked value
            matches.append(r.policy_id.in_(select(Policy.id).where(Policy.policy_number == text)))
        conditions.append(or_(*matches))
    return conditions


def request_register(uow: UnitOfWork, *, actor: Actor, filters: RequestFilter, now: datetime, page: int = 1,
                     page_size: int = 100) -> RequestPage:
    """The register of requests (the ledger idea for the desk): newest first, filtered in SQL."""
    if not may_read(actor):
        raise PermissionDenied("auth.missing_role")
    with uow.read() as session:
        conditions = register_conditions(session, actor, filters, now)
        return _page(session, actor, conditions, [ServiceRequest.received_at.desc(), ServiceRequest.id.desc()], now,
                     page, page_size, "newest")


@dataclass
class RequestView:
    request: dict
    history: pd.DataFrame
    contacts: pd.DataFrame
    required: list[str]                  # an application's checklist (names)
    missing: list[str]                   # what it still lacks (names)
    badge: str
    report_number: str | None = None


def request_detail(uow: UnitOfWork, *, actor: Actor, request_id: int, now: datetime, lang: str = "zh"
                   ) -> RequestView:
    if not may_read(actor):
        raise PermissionDenied("auth.missing_role")
    with uow.read() as session:
        row = session.execute(select(ServiceRequest.__table__, badge_of(now).label("badge"))
                              .where(ServiceRequest.id == request_id)).mappings().first()
        if row is None:
            raise NotFound("desk.not_found")
        shown = _shown(session, actor)
        raw = dict(row)
        request = mask_row(raw, shown)
        # free text (a comment, a contact's words) may repeat what the reader may not see: masked there too
        personal = {"customer_name": raw["contact_name"], "insured_name": raw["insured_name"],
                    "customer_phone": raw["contact_phone"], "customer_id_number": raw["contact_id_number"],
                    "customer_address": raw["contact_address"], "policy_number": raw["policy_number"]}
        users = select(User.id, User.display_name).subquery()
        history = pd.DataFrame(session.execute(
            select(RequestEvent.at, RequestEvent.action, RequestEvent.from_state, RequestEvent.to_state,
                   RequestEvent.comment, func.coalesce(users.c.display_name, RequestEvent.actor_label).label("by"))
            .outerjoin(users, users.c.id == RequestEvent.actor_id)
            .where(RequestEvent.request_id == request_id).order_by(RequestEvent.id)).mappings().all(),
            columns=["at", "action", "from_state", "to_state", "comment", "by"])
        contacts = pd.DataFrame(session.execute(
            select(RequestContact.at, RequestContact.channel, RequestContact.content,
                   func.coalesce(users.c.display_name, "").label("by"))
            .outerjoin(users, users.c.id == RequestContact.by_id)
            .where(RequestContact.request_id == request_id).order_by(RequestContact.at, RequestContact.id))
            .mappings().all(), columns=["at", "channel", "content", "by"])
        # the preliminary check as it was made at registration: the period and last day its reasons name
        made = session.scalar(select(RequestEvent.changes).where(RequestEvent.request_id == request_id,
                                                                 RequestEvent.action == "desk.register")
                              .order_by(RequestEvent.id).limit(1)) or {}
        request["check_period"] = (tuple(date.fromisoformat(d) for d in made["period"])
                                   if made.get("period") else None)
        request["check_last_day"] = date.fromisoformat(made["last_claim_day"]) if made.get("last_claim_day") else None
        for frame, column in ((history, "comment"), (contacts, "content")):
            frame[column] = [redact(text, personal, shown) for text in frame[column]]
        for column in ("event_description", "reason_text", "change_requested", "guidance", "insurer_decision",
                       "check_override"):
            request[column] = redact(request[column], personal, shown)
        required, missing = [], []
        if request["kind"] == RequestKind.CLAIM_APPLICATION:
            names = material_names(session, lang)
            codes = required_materials(checklists(session), request["claim_kinds"] or [])
            required = [names.get(c, c) for c in codes]
            missing = [names.get(c, c) for c in missing_materials(codes, request["materials_received"] or [])]
        report = (session.scalar(select(ServiceRequest.number).where(ServiceRequest.id == request["report_id"]))
                  if request["report_id"] else None)
        return RequestView(request, history, contacts, required, missing, request["badge"], report)


def desk_counts(uow: UnitOfWork, *, actor: Actor, now: datetime) -> dict[str, int]:
    """For the home page: what waits on the reader at the desk, and what is overdue."""
    r = ServiceRequest
    out: dict[str, int] = {}
    with uow.read() as session:
        if may_receive(actor):
            out["reports_to_decide"] = session.scalar(select(func.count()).select_from(r).where(
                r.kind == RequestKind.CLAIM_REPORT, r.state == RequestState.RECEIVED)) or 0
            out["major_to_report"] = session.scalar(select(func.count()).select_from(r).where(
                r.clock_key == "major_report", r.clock_stopped_at.is_(None))) or 0
            out["incomplete"] = session.scalar(select(func.count()).select_from(r).where(
                r.kind == RequestKind.CLAIM_APPLICATION, r.state == RequestState.INCOMPLETE)) or 0
        if may_hand_over(actor):
            out["to_hand_over"] = session.scalar(select(func.count()).select_from(r).where(
                r.kind == RequestKind.CLAIM_APPLICATION, r.state == RequestState.COMPLETE)) or 0
            out["handover_overdue"] = session.scalar(select(func.count()).select_from(r).where(
                r.clock_key == "handover", badge_condition("overdue", now))) or 0
    return out



def reminders_waiting(uow: UnitOfWork, *, actor: Actor) -> int:
    """催办单 to the reader's part of the desk whose step is still not done (运营部: hand-overs; 市场部: the rest)."""
    from portal.services.desk_reminders import open_reminders
    department = HANDOVER_DEPARTMENT if may_hand_over(actor) else "marketing" if may_receive(actor) else None
    if department is None:
        return 0
    with uow.read() as session:
        return open_reminders(session, department)
