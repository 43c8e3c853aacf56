"""Reading the policy register (保单登记簿, issue 17): the one lookup the desk makes before anything is
registered (002 ch.2 4.(二)3; art.11.1(1)) — the customer's policies with every request and complaint about
them — and the register as the administrator browses it.

Who may look up: the people who talk to the customer (INTAKE, INTAKE_LEAD, GM_OFFICE), the handlers of
运营部 who hand claims over to the insurers, and ADMIN — each by a field only where the masking table shows
it to them (a lookup never confirms a value it would mask: with the seeded table an administrator sees every
personal field masked and so looks nothing up by one). A lookup reads by indexes only (the unique policy
number, the persons' name and ID number, the requests' policy, the complaints' policy number).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.domain.errors import DomainError, PermissionDenied
from portal.domain.policies import ROLES, shown_fields
from portal.domain.privacy import MASKS, MaskingTable, PersonalField
from portal.domain.roles import Role
from portal.domain.text import clean_code, clean_text
from portal.persistence.database import UnitOfWork
from portal.persistence.models import (Complaint, DeskChoice, Policy, PolicyPerson, PolicyRisk, Product,
                                       ServiceRequest, User)
from portal.services import privacy
from portal.services.actors import Actor, fresh_actor
from portal.services.audit import record_event

LOOKUP_ROLES = frozenset({Role.INTAKE, Role.INTAKE_LEAD, Role.GM_OFFICE, Role.ADMIN})
HANDOVER_DEPARTMENT = "operations"          # and the handlers of 运营部, who hand claims over to the insurers
LOOKUP_POLICIES = 50          # the most policies one lookup shows (`Lookup.truncated` says there were more)
LOOKUP_PERSONS = 1_000        # the most person rows a lookup by name or ID number reads
LOOKUP_HISTORY = 500          # the most requests, and complaints, one lookup lists
PAGE_SIZE = 50


def reader_shown(table: MaskingTable, user: User | Actor) -> frozenset[PersonalField]:
    """The personal fields of a policy this reader sees (`domain.policies.shown_fields`)."""
    if isinstance(user, Actor):
        return shown_fields(table, user.roles, user.department_code)
    return shown_fields(table, user.role_keys, user.department.code if user.department else None)


def _masked(value: str, personal: PersonalField, shown: frozenset[PersonalField]) -> str:
    return value if personal in shown else MASKS[personal](value)


@dataclass(frozen=True)
class FoundPerson:
    role: str
    name: str
    id_number: str
    phone: str


@dataclass(frozen=True)
class FoundRequest:
    id: int
    number: str
    kind: str
    state: str
    received_at: datetime


@dataclass(frozen=True)
class FoundComplaint:
    id: int
    number: str | None             # None before the GM office numbers it: shown by its internal id
    state: str
    received_at: datetime


@dataclass(frozen=True)
class FoundPolicy:
    id: int
    version: int
    policy_number: str             # as the reader may read it
    insurer: str
    product_code: str
    product_name: str
    start_date: date
    end_date: date
    sum_insured: Decimal
    risks: tuple[str, ...]
    persons: tuple[FoundPerson, ...]
    requests: tuple[FoundRequest, ...] = ()
    complaints: tuple[FoundComplaint, ...] = ()


@dataclass(frozen=True)
class Candidate:
    """One of several people of the name searched for, always masked: the caller is asked for the ID number."""

    name: str
    id_number: str
    policies: int


@dataclass(frozen=True)
class Lookup:
    policies: tuple[FoundPolicy, ...] = ()
    no_policy: bool = False        # nothing found: check whether the person is insured with us at all
    ambiguous: bool = False        # several people of this name: the ID number is required before going on
    candidates: tuple[Candidate, ...] = ()
    truncated: bool = False        # more policies matched than one lookup shows
    shown: frozenset[PersonalField] = field(default_factory=frozenset)


def _may_look_up(user: User) -> None:
    """The desk's clerks and lead, the GM office, an administrator; a handler only of 运营部."""
    roles = set(user.role_keys)
    if roles & {r.value for r in LOOKUP_ROLES}:
        return
    if Role.HANDLER.value in roles and user.department is not None and user.department.code == HANDOVER_DEPARTMENT:
        return
    raise PermissionDenied("auth.missing_role")


def lookup(uow: UnitOfWork, *, actor: Actor, policy_number: str = "", name: str = "", id_number: str = "",
           now: datetime) -> Lookup:
    """The customer's policies and every request and complaint about them, each with its state, found by
    policy number (exactly), a person's name (exactly: the insured's or anyone's on the policy) or ID number;
    given together, the policies must match them all. A name alone that several people (several distinct ID
    numbers; a person listed without one is not counted as another) share is `ambiguous`: their masked candidates and no policy until the ID number narrows it. Nothing found
    is `no_policy`. Personal data as the masking table shows it to the reader, and a field is searched by
    only where it shows it (else `PermissionDenied`). Every lookup is an audit event `policies.lookup`
    (which fields, their values masked, how many policies matched)."""
    wanted = {PersonalField.POLICY_NUMBER: clean_code(policy_number) or "",
              PersonalField.NAME: clean_text(name) or "",
              PersonalField.ID_NUMBER: (clean_code(id_number) or "").upper()}
    wanted = {k: v for k, v in wanted.items() if v}
    if not wanted:
        raise DomainError("policies.lookup.empty")
    with uow.write() as session:
        user = fresh_actor(session, actor)
        _may_look_up(user)
        shown = reader_shown(privacy.masking_table(session), user)
        if any(personal not in shown for personal in wanted):
            raise PermissionDenied("policies.lookup.field_masked")
        result = _find(session, wanted, shown)
        record_event(session, actor=user, at=now, action="policies.lookup",
                     changes={"by": [p.value for p in wanted],
                              "value": {p.value: MASKS[p](v) for p, v in wanted.items()},
                              "matches": len(result.policies), "ambiguous": result.ambiguous})
        return result


def _find(session: Session, wanted: dict[PersonalField, str], shown: frozenset[PersonalField]) -> Lookup:
    number, name, id_number = (wanted.get(PersonalField.POLICY_NUMBER), wanted.get(PersonalField.NAME),
                               wanted.get(PersonalField.ID_NUMBER))
    if number:
        found = session.scalar(select(Policy.id).where(Policy.policy_number == number))
        if found is None:
            return Lookup(no_policy=True, shown=shown)
        if not (name or id_number):
            return Lookup(policies=tuple(read_policies(session, [found], shown)), shown=shown)
    conditions = []
    if name:
        conditions.append(PolicyPerson.name == name)
    if id_number:
        conditions.append(PolicyPerson.id_number == id_number)
    if number:
        conditions.append(PolicyPerson.policy_id == found)
    matches = session.execute(select(PolicyPerson.policy_id, PolicyPerson.name, PolicyPerson.id_number)
                              .where(*conditions).limit(LOOKUP_PERSONS)).all()
    if not matches:
        return Lookup(no_policy=True, shown=shown)
    # people are told apart by their ID numbers; a person listed without one (a policyholder, a
    # beneficiary) is taken for the one person of the name when only one ID number is known
    people: dict[str, set[int]] = {}
    for m in matches:
        if m.id_number:
            people.setdefault(m.id_number, set()).add(m.policy_id)
    if name and not id_number and not number and len(people) > 1:
        candidates = [Candidate(MASKS[PersonalField.NAME](name), MASKS[PersonalField.ID_NUMBER](i), len(ids))
                      for i, ids in sorted(people.items())]
        return Lookup(ambiguous=True, candidates=tuple(candidates), shown=shown)
    ids = sorted({m.policy_id for m in matches})
    return Lookup(policies=tuple(read_policies(session, ids[:LOOKUP_POLICIES], shown)),
                  truncated=len(ids) > LOOKUP_POLICIES, shown=shown)


def read_policies(session: Session, ids: list[int], shown: frozenset[PersonalField], *, history: bool = True
              ) -> list[FoundPolicy]:
    """The policies with these ids, newest period first, each with its risks, persons and (with `history`)
    the requests on it and the complaints naming its number."""
    if not ids:
        return []
    rows = session.execute(select(Policy, Product.code, Product.name).join(Product, Product.id == Policy.product_id)
                           .where(Policy.id.in_(ids))).all()
    risks: dict[int, list[str]] = {}
    for policy_id, code in session.execute(select(PolicyRisk.policy_id, PolicyRisk.risk_code)
                                           .where(PolicyRisk.policy_id.in_(ids)).order_by(PolicyRisk.risk_code)):
        risks.setdefault(policy_id, []).append(code)
    persons: dict[int, list[FoundPerson]] = {}
    order = {role: i for i, role in enumerate(ROLES)}
    for p in sorted(session.scalars(select(PolicyPerson).where(PolicyPerson.policy_id.in_(ids))),
                    key=lambda p: (order.get(p.role, 9), p.id)):
        persons.setdefault(p.policy_id, []).append(FoundPerson(
            p.role, _masked(p.name, PersonalField.NAME, shown), _masked(p.id_number, PersonalField.ID_NUMBER, shown),
            _masked(p.phone, PersonalField.PHONE, shown)))
    requests: dict[int, list[FoundRequest]] = {}
    complaints: dict[str, list[FoundComplaint]] = {}
    if history:
        for r in session.execute(select(ServiceRequest.id, ServiceRequest.number, ServiceRequest.kind,
                                        ServiceRequest.state, ServiceRequest.received_at, ServiceRequest.policy_id)
                                 .where(ServiceRequest.policy_id.in_(ids))
                                 .order_by(ServiceRequest.received_at.desc(), ServiceRequest.id.desc())
                                 .limit(LOOKUP_HISTORY)):
            requests.setdefault(r.policy_id, []).append(FoundRequest(r.id, r.number, r.kind, r.state, r.received_at))
        numbers = [policy.policy_number for policy, _code, _name in rows]
        for c in session.execute(select(Complaint.id, Complaint.number, Complaint.state, Complaint.received_at,
                                        Complaint.policy_number)
                                 .where(Complaint.policy_number.in_(numbers))
                                 .order_by(Complaint.received_at.desc(), Complaint.id.desc()).limit(LOOKUP_HISTORY)):
            complaints.setdefault(c.policy_number, []).append(FoundComplaint(c.id, c.number, c.state, c.received_at))
    out = [FoundPolicy(policy.id, policy.version, _masked(policy.policy_number, PersonalField.POLICY_NUMBER, shown),
                       policy.insurer, code, product_name, policy.start_date, policy.end_date, policy.sum_insured,
                       tuple(risks.get(policy.id, ())), tuple(persons.get(policy.id, ())),
                       tuple(requests.get(policy.id, ())), tuple(complaints.get(policy.policy_number, ())))
           for policy, code, product_name in rows]
    return sorted(out, key=lambda p: (p.end_date, p.id), reverse=True)



@dataclass(frozen=True)
class RegisterPage:
    policies: tuple[FoundPolicy, ...]
    total: int
    page: int
    page_size: int
    shown: frozenset[PersonalField]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def register_page(uow: UnitOfWork, *, actor: Actor, policy_number: str = "", page: int = 1,
                  page_size: int = PAGE_SIZE) -> RegisterPage:
    """One page of the register (ADMIN), newest first, counted and paged in SQL; with `policy_number`, that
    policy only — where the masking table shows policy numbers to the reader (else `PermissionDenied`).
    Personal data masked as the table says; no history (that is the lookup's)."""
    with uow.read() as session:
        user = fresh_actor(session, actor, Role.ADMIN)
        shown = reader_shown(privacy.masking_table(session), user)
        wanted = clean_code(policy_number) or ""
        conditions = []
        if wanted:
            if PersonalField.POLICY_NUMBER not in shown:
                raise PermissionDenied("policies.lookup.field_masked")
            conditions.append(Policy.policy_number == wanted)
        total = session.scalar(select(func.count()).select_from(Policy).where(*conditions)) or 0
        pages = max(1, -(-total // page_size))
        page = min(max(1, int(page)), pages)
        ids = list(session.scalars(select(Policy.id).where(*conditions).order_by(Policy.id.desc())
                                   .offset((page - 1) * page_size).limit(page_size)))
        found = {p.id: p for p in read_policies(session, ids, shown, history=False)}
        return RegisterPage(tuple(found[i] for i in ids if i in found), total, page, page_size, shown)


@dataclass(frozen=True)
class RiskChoice:
    code: str
    name_zh: str
    name_en: str


def risk_list(uow: UnitOfWork) -> list[RiskChoice]:
    """The active risk list (the codes a file and the edit form may name), in its order."""
    with uow.read() as session:
        return [RiskChoice(r.code, r.name_zh, r.name_en) for r in session.execute(
            select(DeskChoice.code, DeskChoice.name_zh, DeskChoice.name_en)
            .where(DeskChoice.list_key == "risk", DeskChoice.active.is_(True)).order_by(DeskChoice.sort, DeskChoice.code))]


def product_codes(uow: UnitOfWork) -> list[tuple[str, str]]:
    """The registered products (code, name), for the edit form."""
    with uow.read() as session:
        return [(r.code, r.name) for r in session.execute(select(Product.code, Product.name).order_by(Product.code))]
