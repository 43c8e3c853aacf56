"""The policy register (保单登记簿, SPEC §12, issue 17): the policies the company sold for its insurers,
imported by an administrator from a file (`adapters.policy_files`) and edited one policy at a time (both
ADMIN only), and what the preliminary check of a claim report reads of a policy (`policy_terms`).

The rules a row must meet are `domain/policies.py`; reading the register — the one lookup before anything is
registered and the administrator's listing — is `services/policy_lookup.py`, whose use cases are named here
too (`policies.lookup`, `policies.register_page`).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from portal.domain.aftersales import ClaimLimit, LimitUnit, PolicyTerms
from portal.domain.errors import ConcurrentChange, Message, NotFound, PermissionDenied, ValidationFailed
from portal.domain.policies import PERSON_FIELDS, RowRefusal, check_person, check_policy, check_rows
from portal.domain.privacy import MASKS, PersonalField
from portal.domain.roles import Role
from portal.domain.text import clean_code
from portal.persistence.database import UnitOfWork
from portal.persistence.models import DeskChoice, Policy, PolicyPerson, PolicyRisk, Product
from portal.services import privacy
from portal.services.actors import Actor, fresh_actor
from portal.services.audit import record_event
from portal.services.policy_lookup import (Candidate, FoundComplaint, FoundPerson, FoundPolicy, FoundRequest,  # noqa: F401
                                           Lookup, RegisterPage, RiskChoice, lookup, product_codes, reader_shown,
                                           register_page, risk_list)

MAX_ROWS = 50_000             # a bigger file is split by the administrator (one transaction holds it all)


def _active_risks(session: Session) -> set[str]:
    return set(session.scalars(select(DeskChoice.code).where(DeskChoice.list_key == "risk",
                                                             DeskChoice.active.is_(True))))


# -- the import -----------------------------------------------------------------------------------------


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
        codes = {clean_code(r.get("product_code")) or "" for r in rows}
        known = {p.code: p for p in _chunked(session, select(Product), Product.code, codes)}
        policies, products, refused = check_rows(rows, risks=_active_risks(session), known_products=set(known),
                                                 today=now.date())
        if refused:
            return ImportResult(refused=tuple(refused), rows=len(rows))
        try:
            created_products, product_changes = _save_products(session, known, products)
            created, replaced, persons = _save_policies(session, policies, known, now)
        except (IntegrityError, StaleDataError) as meanwhile:   # another import or edit of the same policies
            raise ConcurrentChange("policies.import.concurrent") from meanwhile
        result = ImportResult(rows=len(rows), created=created, replaced=replaced, persons=persons,
                              products_created=tuple(created_products), products_updated=tuple(product_changes))
        record_event(session, actor=admin, at=now, action="policies.import",
                     changes={"source": source, "rows": len(rows), "created": created, "replaced": replaced,
                              "persons": persons, "products_created": list(created_products),
                              "products_updated": [{"code": c.code, "before": c.before, "after": c.after}
                                                   for c in product_changes]})
        return result


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
            if reader_shown(privacy.masking_table(session), admin) & PERSON_FIELDS != PERSON_FIELDS:
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
        try:
            session.flush()
        except StaleDataError as meanwhile:
            raise ConcurrentChange("policies.changed_meanwhile") from meanwhile
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
