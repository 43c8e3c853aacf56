"""The policy register (保单登记簿, SPEC §12, issue 17): the policies the company sold for its insurers,
imported by an administrator from a file (`adapters.policy_files`), edited one policy at a time, and the one
lookup the desk makes before anything is registered (002 ch.2 4.(二)3; art.11.1(1)).

Who may do what: importing and editing, ADMIN. The lookup: the people who talk to the customer (INTAKE,
INTAKE_LEAD, GM_OFFICE), the operations handlers who hand claims over (HANDLER of 运营部) and ADMIN — each
finding by a field only where the masking table shows it to them (a lookup never confirms a value it would
mask: with the seeded table an administrator sees every personal field masked and so looks nothing up by
one; the register's listing shows them the policies masked).

Policies belong to no department: a field the masking table shows "on the own department's cases" is shown
to users of the desk's departments (市场部 `marketing`, 运营部 `operations`) and masked for everyone else.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from portal.domain.aftersales import ClaimLimit, LimitUnit, PolicyTerms
from portal.domain.errors import ConcurrentChange, DomainError, Message, NotFound, PermissionDenied, ValidationFailed
from portal.domain.privacy import MASKS, MaskingTable, PersonalField, Visibility
from portal.domain.roles import Role
from portal.domain.text import clean_code, clean_text
from portal.domain.validation import MOBILE, id_number_is_valid, parse_amount
from portal.persistence.database import UnitOfWork
from portal.persistence.models import (Complaint, DeskChoice, Policy, PolicyPerson, PolicyRisk, Product,
                                       ServiceRequest, User)
from portal.services import privacy
from portal.services.actors import Actor, fresh_actor
from portal.services.audit import record_event

ROLES = ("policyholder", "insured", "beneficiary")       # 投保人 / 被保险人 / 受益人
DESK_DEPARTMENTS = frozenset({"marketing", "operations"})
LOOKUP_ROLES = (Role.INTAKE, Role.INTAKE_LEAD, Role.GM_OFFICE, Role.HANDLER, Role.ADMIN)
HANDOVER_DEPARTMENT = "operations"          # the handlers who may look up: 运营部 hands claims to insurers
POLICY_COLUMNS = ("policy_number", "insurer", "product_code", "product_name", "claim_limit", "claim_limit_unit",
                  "sum_insured", "start_date", "end_date", "risks")
PERSON_COLUMNS = ("role", "name", "id_number", "phone")
MAX_ROWS = 50_000             # a bigger file is split by the administrator (one transaction holds it all)
MAX_LIMIT = {LimitUnit.DAYS: 36_500, LimitUnit.YEARS: 100}
LOOKUP_POLICIES = 50          # the most policies one lookup shows (`Lookup.truncated` says there were more)
LOOKUP_PERSONS = 1_000        # the most person rows a lookup by name or ID number reads
LOOKUP_HISTORY = 500          # the most requests, and complaints, one lookup lists
PAGE_SIZE = 50
_LENGTHS = {"policy_number": 40, "insurer": 100, "product_code": 40, "product_name": 100, "name": 60}
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-/]*$")
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$|^(\d{4})(\d{2})(\d{2})$")
_RISK_SEPARATORS = re.compile(r"[;,、|；，\s]+")


# -- what a row of the register is, and its checks (shared by the import and the edit) -----------------


def parse_day(value: object) -> date | None:
    """A date as a file or a form gives it: a date, or text year first (2025-01-31, 2025/1/31, 20250131,
    2025年1月31日). None: not a date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = clean_code(value) if isinstance(value, str) else None
    match = _DATE.match(text or "")
    if not match:
        return None
    year, month, day = (int(g) for g in (match.groups()[:3] if match.group(1) else match.groups()[3:]))
    try:
        parsed = date(year, month, day)
    except ValueError:
        return None
    return parsed if 1900 <= parsed.year <= 2200 else None


def split_risks(value: object) -> list[str]:
    """The risk codes of a cell: separated by ; , 、 | (or spaces), each kept once, in order."""
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [clean_code(v) or "" for v in value]
    else:
        items = _RISK_SEPARATORS.split(clean_text(value) or "")
    return list(dict.fromkeys(i for i in items if i))


def _text(errors: dict, column: str, value: object, *, required: bool = True) -> str:
    text = clean_text(value) if column not in ("policy_number", "product_code") else clean_code(value)
    if text is None:
        errors[column] = Message("form.bad_value")
        return ""
    if required and not text:
        errors[column] = Message("form.required")
    elif len(text) > _LENGTHS.get(column, 200):
        errors[column] = Message("form.too_long", {"max": _LENGTHS.get(column, 200)})
    elif text and column in ("policy_number", "product_code") and not _CODE.match(text):
        errors[column] = Message("policies.bad_code")
    return text


def _claim_limit(errors: dict, amount: object, unit: object) -> tuple[int | None, str | None]:
    """申请时效: both a whole number and a unit (days / years), or neither (none stated)."""
    amount_text = clean_code(amount) if isinstance(amount, str) else ("" if amount is None else str(amount))
    unit_text = (clean_code(unit) or "").lower() if isinstance(unit, str) else ("" if unit is None else str(unit))
    if not amount_text and not unit_text:
        return None, None
    if unit_text not in {u.value for u in LimitUnit}:
        errors["claim_limit_unit"] = Message("policies.bad_limit_unit" if unit_text else "policies.limit_needs_unit")
        return None, None
    if not (amount_text or "").isdigit() or not 1 <= int(amount_text) <= MAX_LIMIT[LimitUnit(unit_text)]:
        errors["claim_limit"] = Message("policies.bad_limit", {"max": MAX_LIMIT[LimitUnit(unit_text)]})
        return None, None
    return int(amount_text), unit_text


def check_policy(values: Mapping[str, Any], *, risks: set[str], product_name_required: bool = True
                 ) -> tuple[dict, dict[str, Message]]:
    """A policy's own fields as stored, and the problem of each refused one: the codes and names required;
    the sum insured a positive amount; the dates real, the last not before the first; every risk a code of
    the active risk list (at least one); the claim limit whole and in days or years, or not stated."""
    errors: dict[str, Message] = {}
    out: dict[str, Any] = {}
    for column in ("policy_number", "insurer", "product_code"):
        out[column] = _text(errors, column, values.get(column))
    out["product_name"] = _text(errors, "product_name", values.get("product_name"), required=product_name_required)
    out["claim_limit"], out["claim_limit_unit"] = _claim_limit(errors, values.get("claim_limit"),
                                                               values.get("claim_limit_unit"))
    try:
        amount = parse_amount(values.get("sum_insured"))
    except ValueError:
        amount = None
        errors["sum_insured"] = Message("policies.bad_sum_insured")
    else:
        if amount is None:
            errors["sum_insured"] = Message("form.required")
        elif amount <= 0:
            errors["sum_insured"] = Message("policies.bad_sum_insured")
    out["sum_insured"] = amount
    for column in ("start_date", "end_date"):
        raw = values.get(column)
        out[column] = parse_day(raw)
        if out[column] is None:
            errors[column] = Message("form.required" if raw in (None, "") else "policies.bad_date")
    if out["start_date"] and out["end_date"] and out["end_date"] < out["start_date"]:
        errors["end_date"] = Message("policies.end_before_start")
    codes = split_risks(values.get("risks"))
    unknown = [c for c in codes if c not in risks]
    if not codes:
        errors["risks"] = Message("policies.no_risk")
    elif unknown:
        errors["risks"] = Message("policies.unknown_risk", {"codes": "、".join(unknown)})
    out["risks"] = tuple(sorted(codes))
    return out, errors


def check_person(values: Mapping[str, Any], *, today: date) -> tuple[dict | None, dict[str, Message]]:
    """A person on a policy, or None when the row names nobody (a policy's own row of a two-sheet file):
    a known role and a name; an insured person's resident ID number (the lookup tells people apart by it),
    anyone else's when given, checked like the complaint form's; a phone, when given, a mobile number."""
    errors: dict[str, Message] = {}
    role = (clean_code(values.get("role")) or "").lower()
    name = clean_text(values.get("name"))
    id_number = (clean_code(values.get("id_number")) or "").upper()
    phone = clean_code(values.get("phone")) or ""
    if name is None:
        errors["name"] = Message("form.bad_value")
        name = ""
    if not (role or name or id_number or phone):
        return None, {}
    if role not in ROLES:
        errors["role"] = Message("form.choose_one" if not role else "policies.bad_role")
    if not name:
        errors["name"] = Message("form.required")
    elif len(name) > _LENGTHS["name"]:
        errors["name"] = Message("form.too_long", {"max": _LENGTHS["name"]})
    if id_number and not id_number_is_valid(id_number, today):
        errors["id_number"] = Message("form.bad_id_number")
    elif not id_number and role == "insured":
        errors["id_number"] = Message("policies.insured_needs_id")
    if phone and not MOBILE.match(phone):
        errors["phone"] = Message("form.bad_mobile")
    return {"role": role, "name": name, "id_number": id_number, "phone": phone}, errors


def _active_risks(session: Session) -> set[str]:
    return set(session.scalars(select(DeskChoice.code).where(DeskChoice.list_key == "risk",
                                                             DeskChoice.active.is_(True))))


# -- the import -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowRefusal:
    """Why one cell of the file was refused: its line (None: the file as a whole), column and sheet."""

    row: int | None
    column: str
    message: Message
    sheet: str = ""


@dataclass(frozen=True)
class ProductChange:
    code: str
    before: dict
    after: dict


@dataclass(frozen=True)
class ImportResult:
    refused: tuple[RowRefusal, ...] = ()
    rows: int = 0
    created: int = 0                 # new policy numbers
    replaced: int = 0                # policies already registered, rewritten from the file
    persons: int = 0
    products_created: tuple[str, ...] = ()
    products_updated: tuple[ProductChange, ...] = ()

    @property
    def saved(self) -> bool:
        return not self.refused


def _where(row: Mapping, column: str) -> tuple[int | None, str]:
    """The line a column of a row came from: a policy's column of a joined two-sheet row is on the policies
    sheet."""
    if column in POLICY_COLUMNS and column != "policy_number" and "policy_row" in row:
        return row.get("policy_row"), str(row.get("policy_sheet") or "")
    return row.get("row"), str(row.get("sheet") or "")


def import_policies(uow: UnitOfWork, *, actor: Actor, rows: Sequence[Mapping[str, Any]], now: datetime,
                    source: str = "") -> ImportResult:
    """Import a file's rows (one per person, the policy's fields repeated; `adapters.policy_files`) — all or
    nothing: if any cell is refused nothing is saved and the result lists each refusal (line, column, reason).

    A policy number not yet registered makes a new policy. One already registered is *replaced*: its fields
    are the file's, its covered risks and persons are rewritten from the file (the policy keeps its id, so
    the requests registered on it stay with it). Rows of one policy must agree on its fields; a policy needs
    at least one insured person.

    Products (险种) are named by their code: a new code makes a product of the file's name and claim limit
    (申请时效). For a product already registered the file is the authority: a name or a claim limit the file
    states and that differs from the stored one replaces it (each change listed in the result and in the
    audit event, since the limit applies to every policy of the product); a blank name or limit keeps the
    stored one. Rows of one product must agree on its name and limit. One audit event `policies.import`."""
    rows = list(rows)
    if not rows:
        return ImportResult(refused=(RowRefusal(None, "", Message("policies.file.empty")),))
    if len(rows) > MAX_ROWS:
        return ImportResult(refused=(RowRefusal(None, "", Message("policies.file.too_many_rows",
                                                                   {"max": MAX_ROWS})),), rows=len(rows))
    with uow.write() as session:
        admin = fresh_actor(session, actor, Role.ADMIN)
        refused: list[RowRefusal] = []

        def refuse(row: Mapping, column: str, message: Message) -> None:
            line, sheet = _where(row, column)
            refused.append(RowRefusal(line, column, message, sheet))

        risks = _active_risks(session)
        codes = {clean_code(r.get("product_code")) or "" for r in rows}
        known = {p.code: p for p in _chunked(session, select(Product), Product.code, codes)}
        policies: dict[str, dict] = {}            # policy number → its fields, first row, persons
        products: dict[str, tuple[dict, Mapping]] = {}
        for row in rows:
            if "policy_row" in row and row.get("policy_row") is None:
                refuse(row, "policy_number", Message("policies.file.not_on_policies_sheet"))
                continue
            fields, errors = check_policy(row, risks=risks, product_name_required=False)
            person, person_errors = check_person(row, today=now.date())
            code = fields["product_code"]
            if code and code not in known and not fields["product_name"] and "product_name" not in errors:
                errors["product_name"] = Message("policies.new_product_needs_name")
            for column, message in {**errors, **person_errors}.items():
                refuse(row, column, message)
            number = fields["policy_number"]
            if not number or "policy_number" in errors:
                continue
            policy = policies.setdefault(number, {"fields": fields, "row": row, "persons": [], "errors": set(errors)})
            if policy["row"] is not row:
                for column in POLICY_COLUMNS:
                    if column not in errors and column not in policy["errors"] \
                            and fields[column] != policy["fields"][column]:
                        refuse(row, column, Message("policies.disagrees", {"row": _where(policy["row"], column)[0]}))
            if person_errors:
                policy["person_refused"] = True
            elif person is not None:
                if any(p["role"] == person["role"] and p["name"] == person["name"]
                       and p["id_number"] == person["id_number"] for p in policy["persons"]):
                    refuse(row, "name", Message("policies.duplicate_person"))
                else:
                    policy["persons"].append(person)
            if code and "product_code" not in errors:
                stated = {"name": fields["product_name"], "limit": (fields["claim_limit"], fields["claim_limit_unit"])}
                first = products.setdefault(code, (stated, row))
                if first[1] is not row:
                    for key, column in (("name", "product_name"), ("limit", "claim_limit")):
                        checked = ("claim_limit", "claim_limit_unit") if key == "limit" else (column,)
                        if not any(c in errors for c in checked) and stated[key] != first[0][key]:
                            refuse(row, column, Message("policies.product_disagrees",
                                                        {"code": code, "row": _where(first[1], column)[0]}))
        for number, policy in policies.items():      # (a refused person may have been its insured)
            if not policy.get("person_refused") and not any(p["role"] == "insured" for p in policy["persons"]):
                refuse(policy["row"], "role", Message("policies.no_insured", {"policy": number}))
        if refused:
            refused = list({(r.sheet, r.row, r.column): r for r in reversed(refused)}.values())
            refused.sort(key=lambda r: (r.sheet, r.row if r.row is not None else -1, _column_order(r.column)))
            return ImportResult(refused=tuple(refused), rows=len(rows))
        created_products, product_changes = _save_products(session, known, products)
        created, replaced, persons = _save_policies(session, policies, known, now)
        result = ImportResult(rows=len(rows), created=created, replaced=replaced, persons=persons,
                              products_created=tuple(created_products), products_updated=tuple(product_changes))
        record_event(session, actor=admin, at=now, action="policies.import",
                     changes={"source": source, "rows": len(rows), "created": created, "replaced": replaced,
                              "persons": persons, "products_created": list(created_products),
                              "products_updated": [{"code": c.code, "before": c.before, "after": c.after}
                                                   for c in product_changes]})
        return result


_ORDER = {c: i for i, c in enumerate(POLICY_COLUMNS + PERSON_COLUMNS)}


def _column_order(column: str) -> int:
    return _ORDER.get(column, -1)


def _chunked(session: Session, statement, column, values, size: int = 500) -> list:  # noqa: ANN001
    values = sorted(v for v in values if v)
    out = []
    for start in range(0, len(values), size):
        out.extend(session.scalars(statement.where(column.in_(values[start:start + size]))))
    return out


def _save_products(session: Session, known: dict[str, Product], products: dict[str, tuple[dict, Mapping]]
                   ) -> tuple[list[str], list[ProductChange]]:
    created, changed = [], []
    for code, (stated, _row) in sorted(products.items()):
        amount, unit = stated["limit"]
        product = known.get(code)
        if product is None:
            product = Product(code=code, name=stated["name"], claim_limit=amount, claim_limit_unit=unit, active=True)
            session.add(product)
            known[code] = product
            created.append(code)
            continue
        before = {"name": product.name, "claim_limit": product.claim_limit, "claim_limit_unit": product.claim_limit_unit}
        if stated["name"]:
            product.name = stated["name"]
        if amount is not None:
            product.claim_limit, product.claim_limit_unit = amount, unit
        after = {"name": product.name, "claim_limit": product.claim_limit, "claim_limit_unit": product.claim_limit_unit}
        if after != before:
            changed.append(ProductChange(code, before, after))
    session.flush()
    return created, changed


def _save_policies(session: Session, policies: dict[str, dict], products: dict[str, Product], now: datetime
                   ) -> tuple[int, int, int]:
    existing = {p.policy_number: p for p in _chunked(session, select(Policy), Policy.policy_number, policies)}
    stored: list[tuple[Policy, dict]] = []
    for number, policy in policies.items():
        fields = policy["fields"]
        row = existing.get(number)
        if row is None:
            row = Policy(policy_number=number, created_at=now)
            session.add(row)
        _apply(row, fields, products[fields["product_code"]], now)
        stored.append((row, policy))
    replaced_ids = [p.id for p in existing.values()]
    for start in range(0, len(replaced_ids), 500):
        chunk = replaced_ids[start:start + 500]
        session.execute(delete(PolicyRisk).where(PolicyRisk.policy_id.in_(chunk)))
        session.execute(delete(PolicyPerson).where(PolicyPerson.policy_id.in_(chunk)))
    session.flush()
    risks = [{"policy_id": row.id, "risk_code": code} for row, policy in stored for code in policy["fields"]["risks"]]
    persons = [{"policy_id": row.id, **person} for row, policy in stored for person in policy["persons"]]
    for batch in (risks, persons):
        if batch:
            session.execute(insert(PolicyRisk if batch is risks else PolicyPerson), batch)
    return len(policies) - len(existing), len(existing), len(persons)


def _apply(row: Policy, fields: Mapping, product: Product, now: datetime) -> None:
    row.insurer, row.product_id, row.sum_insured = fields["insurer"], product.id, fields["sum_insured"]
    row.start_date, row.end_date, row.updated_at = fields["start_date"], fields["end_date"], now
    flag_modified(row, "updated_at")        # a save is a new version even when only its risks or persons changed


# -- editing one policy ---------------------------------------------------------------------------------


def update_policy(uow: UnitOfWork, *, actor: Actor, policy_id: int, expected_version: int, insurer: str,
                  product_code: str, sum_insured: object, start_date: object, end_date: object,
                  risks: Sequence[str] | str, persons: Sequence[Mapping[str, Any]] | None = None,
                  now: datetime) -> int:
    """Change one policy (ADMIN), checked as the import checks a row: its insurer, product (one already
    registered), sum insured, period and covered risks; with `persons`, its persons too (a policy keeps at
    least one insured) — only for an administrator the masking table shows every person's field to. The
    policy number is the policy's name and is not edited (a policy under another number is imported).
    Refused if it changed since the form read `expected_version`. Audited with before and after (personal
    data masked). Returns the policy's new version."""
    with uow.write() as session:
        admin = fresh_actor(session, actor, Role.ADMIN)
        policy = session.get(Policy, policy_id)
        if policy is None:
            raise NotFound("policies.not_found")
        if policy.version != expected_version:
            raise ConcurrentChange("policies.changed_meanwhile")
        product = session.scalar(select(Product).where(Product.code == (clean_code(product_code) or "")))
        fields, errors = check_policy({"policy_number": policy.policy_number, "insurer": insurer,
                                       "product_code": product_code, "sum_insured": sum_insured,
                                       "start_date": start_date, "end_date": end_date, "risks": risks},
                                      risks=_active_risks(session) | _risks_of(session, policy.id),
                                      product_name_required=False)
        if product is None and "product_code" not in errors:
            errors["product_code"] = Message("policies.unknown_product")
        new_persons = None
        if persons is not None:
            if _shown(privacy.masking_table(session), admin) & _PERSON_FIELDS != _PERSON_FIELDS:
                raise PermissionDenied("policies.persons_masked")
            new_persons = []
            for index, values in enumerate(persons):
                person, person_errors = check_person(values, today=now.date())
                for column, message in person_errors.items():
                    errors[f"persons.{index}.{column}"] = message
                if person is not None:
                    new_persons.append(person)
            if not errors and not any(p["role"] == "insured" for p in new_persons):
                errors["persons"] = Message("policies.no_insured", {"policy": policy.policy_number})
        if errors:
            raise ValidationFailed(errors)
        before = _snapshot(session, policy)
        _apply(policy, fields, product, now)
        session.execute(delete(PolicyRisk).where(PolicyRisk.policy_id == policy.id))
        session.execute(insert(PolicyRisk), [{"policy_id": policy.id, "risk_code": c} for c in fields["risks"]])
        if new_persons is not None:
            session.execute(delete(PolicyPerson).where(PolicyPerson.policy_id == policy.id))
            if new_persons:
                session.execute(insert(PolicyPerson), [{"policy_id": policy.id, **p} for p in new_persons])
        session.flush()
        after = _snapshot(session, policy)
        record_event(session, actor=admin, at=now, action="policies.update",
                     changes={"policy": MASKS[PersonalField.POLICY_NUMBER](policy.policy_number),
                              "before": {k: v for k, v in before.items() if after[k] != v},
                              "after": {k: v for k, v in after.items() if before[k] != v}})
        return policy.version


def _risks_of(session: Session, policy_id: int) -> set[str]:
    """A policy may keep a risk the list has since retired; a risk added must be active."""
    return set(session.scalars(select(PolicyRisk.risk_code).where(PolicyRisk.policy_id == policy_id)))


def _snapshot(session: Session, policy: Policy) -> dict:
    product = session.get(Product, policy.product_id)
    persons = session.execute(select(PolicyPerson.role, PolicyPerson.name, PolicyPerson.id_number)
                              .where(PolicyPerson.policy_id == policy.id).order_by(PolicyPerson.id)).all()
    return {"insurer": policy.insurer, "product_code": product.code if product else "",
            "sum_insured": f"{Decimal(policy.sum_insured):.2f}", "start_date": policy.start_date.isoformat(),
            "end_date": policy.end_date.isoformat(),
            "risks": sorted(session.scalars(select(PolicyRisk.risk_code).where(PolicyRisk.policy_id == policy.id))),
            "persons": [f"{p.role}:{MASKS[PersonalField.NAME](p.name)}:{MASKS[PersonalField.ID_NUMBER](p.id_number)}"
                        for p in persons]}


# -- what the preliminary check reads ---------------------------------------------------------------------


def policy_terms(session: Session, policy_id: int | None) -> PolicyTerms | None:
    """The policy's period, covered risk codes and its product's claim time limit (None: the product states
    none), for the preliminary check (4.(二)4); None when there is no such policy (the check then says
    `NO_POLICY`)."""
    if policy_id is None:
        return None
    row = session.execute(select(Policy.start_date, Policy.end_date, Product.claim_limit, Product.claim_limit_unit)
                          .join(Product, Product.id == Policy.product_id).where(Policy.id == policy_id)).first()
    if row is None:
        return None
    covered = frozenset(session.scalars(select(PolicyRisk.risk_code).where(PolicyRisk.policy_id == policy_id)))
    limit = (ClaimLimit(row.claim_limit, LimitUnit(row.claim_limit_unit))
             if row.claim_limit and row.claim_limit_unit in {u.value for u in LimitUnit} else None)
    return PolicyTerms(start=row.start_date, end=row.end_date, covered=covered, limit=limit)


# -- who sees what of a policy --------------------------------------------------------------------------

_PERSON_FIELDS = frozenset({PersonalField.NAME, PersonalField.ID_NUMBER, PersonalField.PHONE})


def _shown(table: MaskingTable, user: User | Actor) -> frozenset[PersonalField]:
    """The personal fields of a policy its reader sees: shown, or "own department" for the desk's departments."""
    roles = user.roles if isinstance(user, Actor) else [Role(k) for k in user.role_keys]
    department = (user.department_code if isinstance(user, Actor)
                  else user.department.code if user.department else None)
    out = set()
    for personal in (*_PERSON_FIELDS, PersonalField.POLICY_NUMBER):
        seen = table.visibility(roles, personal)
        if seen is Visibility.SHOWN or (seen is Visibility.OWN_DEPARTMENT and department in DESK_DEPARTMENTS):
            out.add(personal)
    return frozenset(out)


def _masked(value: str, personal: PersonalField, shown: frozenset[PersonalField]) -> str:
    return value if personal in shown else MASKS[personal](value)


# -- the one lookup before anything is registered ---------------------------------------------------------


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
    roles = set(user.role_keys)
    if roles & {Role.INTAKE.value, Role.INTAKE_LEAD.value, Role.GM_OFFICE.value, Role.ADMIN.value}:
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
        shown = _shown(privacy.masking_table(session), user)
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
            return Lookup(policies=tuple(_policies(session, [found], shown)), shown=shown)
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
    return Lookup(policies=tuple(_policies(session, ids[:LOOKUP_POLICIES], shown)),
                  truncated=len(ids) > LOOKUP_POLICIES, shown=shown)


def _policies(session: Session, ids: list[int], shown: frozenset[PersonalField], *, history: bool = True
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


# -- the register as the administrator browses it ---------------------------------------------------------


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
        shown = _shown(privacy.masking_table(session), user)
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
        found = {p.id: p for p in _policies(session, ids, shown, history=False)}
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
