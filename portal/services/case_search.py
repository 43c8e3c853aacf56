"""案件查找 (issue 16): everyone finds the cases they may see — by case number for every role; by policy
number, customer name or phone only where the masking table shows that field to them (so a search
never confirms a value it would mask). Every search by personal data is an audit event."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.orm import Session

from portal.domain.errors import DomainError, PermissionDenied
from portal.domain.privacy import MASKS, PersonalField, Visibility
from portal.domain.roles import Role
from portal.domain.text import clean_code, clean_text
from portal.persistence.database import UnitOfWork
from portal.persistence.models import Complaint, ComplaintDepartment, WorkingGroupMember
from portal.services import privacy
from portal.services.actors import Actor, fresh_actor
from portal.services.audit import record_event
from portal.services.queries import own_case_condition

# What a search may be by, in the order offered: the case number, then the personal fields.
BY_NUMBER = "number"
BY_FIELD = {"policy_number": PersonalField.POLICY_NUMBER, "name": PersonalField.NAME, "phone": PersonalField.PHONE}
_COLUMN = {PersonalField.POLICY_NUMBER: Complaint.policy_number, PersonalField.NAME: Complaint.customer_name,
           PersonalField.PHONE: Complaint.customer_phone}
RECENT = 15
FOUND_LIMIT = 50
_READERS = frozenset({Role.INTAKE, Role.INTAKE_LEAD, Role.GM_OFFICE, Role.APPROVER, Role.MANAGER})


@dataclass(frozen=True)
class FoundCase:
    id: int
    number: str | None
    state: str
    received_at: datetime
    customer_name: str          # as the reader may read it
    policy_number: str


def viewable_condition(actor: Actor) -> ColumnElement[bool]:
    """The cases the reader may open (`domain.privacy.may_view_case`, plus their working groups), in SQL."""
    if actor.roles & _READERS:
        return true()
    member = Complaint.id.in_(select(WorkingGroupMember.complaint_id).where(WorkingGroupMember.user_id == actor.id))
    if Role.HANDLER in actor.roles and actor.department_id is not None:
        return or_(member, Complaint.id.in_(select(ComplaintDepartment.complaint_id)
                                            .where(ComplaintDepartment.department_id == actor.department_id)))
    return member if actor.roles else false()


def search_options(uow: UnitOfWork, *, actor: Actor) -> list[str]:
    """What this reader may search by: the case number always; a personal field unless the masking
    table masks it for every case they could see."""
    with uow.read() as session:
        table = privacy.masking_table(session)
    return [BY_NUMBER, *[key for key, field in BY_FIELD.items()
                         if table.searchable(actor.roles, field) is not Visibility.MASKED]]


def _found(session: Session, actor: Actor, conditions: list, order, limit: int) -> list[FoundCase]:  # noqa: ANN001
    rows = session.execute(select(Complaint.id, Complaint.number, Complaint.state, Complaint.received_at,
                                  Complaint.customer_name, Complaint.policy_number)
                           .where(viewable_condition(actor), *conditions).order_by(*order).limit(limit)).all()
    mask = privacy.case_masker(session, actor, [r.id for r in rows])
    out = []
    for r in rows:
        shown = mask(r.id, {"customer_name": r.customer_name, "policy_number": r.policy_number})
        out.append(FoundCase(r.id, r.number, r.state, r.received_at, shown["customer_name"] or "",
                             shown["policy_number"] or ""))
    return out


_NEWEST = (Complaint.received_at.desc(), Complaint.id.desc())


def recent_cases(uow: UnitOfWork, *, actor: Actor, limit: int = RECENT) -> list[FoundCase]:
    """The newest cases the reader may open, their customer data as the masking table shows it."""
    with uow.read() as session:
        return _found(session, actor, [], _NEWEST, limit)


def find_cases(uow: UnitOfWork, *, actor: Actor, by: str, text: str, now: datetime,
               limit: int = FOUND_LIMIT) -> list[FoundCase]:
    """The cases the reader may open matching `text`: a case number (or internal no.) exactly; a policy
    number or phone exactly, a name as part of the name — each only where the masking table shows the
    field to the reader (on their own department's cases only, where it says so). A search by personal
    data is recorded as an audit event (which field, the value masked, how many cases matched)."""
    if by != BY_NUMBER and by not in BY_FIELD:
        raise DomainError("search.unknown_field")
    if by == BY_NUMBER:
        wanted = clean_code(text) or ""
        if not wanted:
            raise DomainError("search.empty")
        matches = [Complaint.number == wanted]
        if wanted.isdigit() and len(wanted) < 12:
            matches.append(Complaint.id == int(wanted))
        with uow.read() as session:
            return _found(session, actor, [or_(*matches)], _NEWEST, limit)
    field = BY_FIELD[by]
    wanted = (clean_text(text, multiline=False) if field is PersonalField.NAME else clean_code(text)) or ""
    if not wanted:
        raise DomainError("search.empty")
    with uow.write() as session:
        user = fresh_actor(session, actor)
        table = privacy.masking_table(session)
        seen = table.searchable(actor.roles, field)
        if seen is Visibility.MASKED:
            raise PermissionDenied("search.field_masked")
        column = _COLUMN[field]
        match = column.contains(wanted, autoescape=True) if field is PersonalField.NAME else column == wanted
        conditions = [match] if seen is Visibility.SHOWN else [match, own_case_condition(actor)]
        found = _found(session, actor, conditions, _NEWEST, limit)
        record_event(session, actor=user, at=now, action="case.search",
                     changes={"by": by, "value": MASKS[field](wanted), "matches": len(found)})
        return found


def ledger_search_fields(uow: UnitOfWork, *, actor: Actor) -> tuple[str, ...]:
    """What the ledger's search text matches for this reader: the case number always; the customer's
    name and policy number unless the masking table masks them for every case (`queries.filter_conditions`
    applies the same table)."""
    with uow.read() as session:
        table = privacy.masking_table(session)
    return (BY_NUMBER, *[key for key, field in (("name", PersonalField.NAME),
                                                ("policy_number", PersonalField.POLICY_NUMBER))
                         if table.visibility(actor.roles, field) is not Visibility.MASKED])


def record_ledger_search(uow: UnitOfWork, *, actor: Actor, text: str, matches: int, now: datetime) -> bool:
    """A search of the ledger that could match personal data (a name or a policy number the reader may
    see) is an audit event, like a search on the case page: the fields, the text masked, how many cases
    matched. A reader whose search matches case numbers only leaves none. Returns whether one was written."""
    wanted = clean_text(text, multiline=False) or ""
    fields = [f for f in ledger_search_fields(uow, actor=actor) if f != BY_NUMBER]
    if not wanted or not fields:
        return False
    # which field the person meant is unknown: a text with Chinese characters is masked as a name
    field = PersonalField.NAME if any(ord(c) > 127 for c in wanted) else PersonalField.POLICY_NUMBER
    with uow.write() as session:
        record_event(session, actor=fresh_actor(session, actor), at=now, action="ledger.search",
                     changes={"by": fields, "value": MASKS[field](wanted), "matches": matches})
    return True
