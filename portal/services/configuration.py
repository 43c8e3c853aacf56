"""系统配置 (SPEC §8): an administrator edits the business rules as tables. A save validates the
whole table first (`portal.domain.configuration`), then writes it in one transaction with one audit
event holding each changed row before and after; nothing is ever deleted."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from portal.domain import configuration as rules_of
from portal.domain.errors import DomainError, Message, PermissionDenied
from portal.domain.roles import Role
from portal.persistence.database import UnitOfWork
from portal.persistence.models import (AuthorityLevel, CalendarDayRow, Category, Channel, Complaint, Department, Event,
                                       PenaltyStandard, Setting, User, UserRole)
from portal.services.actors import Actor, fresh_actor
from portal.services.audit import jsonable, record_event


class ConfigurationRefused(DomainError):
    """The table is not saved; `refusals` says which row and field, and why."""

    def __init__(self, refusals: list[rules_of.Refusal]) -> None:
        super().__init__("config.refused", count=len(refusals))
        self.refusals = refusals


@dataclass(frozen=True)
class Table:
    model: Any
    key: str
    columns: tuple[str, ...]


TABLES = {
    "categories": Table(Category, "code", ("code", "name_zh", "name_en", "active", "sort")),
    "channels": Table(Channel, "code", ("code", "name_zh", "name_en", "active", "sort")),
    "departments": Table(Department, "code", ("code", "name_zh", "name_en", "investigates", "active", "sort")),
    "authority_levels": Table(AuthorityLevel, "key", ("key", "name_zh", "name_en", "rank", "max_amount",
                                                      "covers_major")),
    "penalty_standards": Table(PenaltyStandard, "level", ("level", "name_zh", "name_en", "department_loss",
                                                          "penalty_type", "sort")),
    "warnings": Table(Setting, "key", ("key", "value", "description")),
    "parameters": Table(Setting, "key", ("key", "value", "description")),
}


# Tables whose rows are fixed: the levels are named in the language catalogue and the process refers to
# them (the GM office's level, the no-fault level); their amounts, ranks and flags are what changes.
FIXED_ROWS = ("authority_levels", "penalty_standards", "warnings", "parameters")


def _order(table: Table):  # noqa: ANN202
    model = table.model
    if model is AuthorityLevel:
        return AuthorityLevel.rank
    return getattr(model, "sort", getattr(model, table.key))


def _rows(session, name: str) -> list[dict]:  # noqa: ANN001
    table = TABLES[name]
    query = select(table.model).order_by(_order(table))
    if name == "warnings":
        query = query.where(Setting.key.in_(rules_of.WARNING_KEYS))
    if name == "parameters":
        query = query.where(Setting.key.in_(list(rules_of.PARAMETERS)))
    return [{c: getattr(row, c) for c in table.columns} for row in session.scalars(query)]


def load_table(uow: UnitOfWork, *, actor: Actor, table: str) -> list[dict]:
    if not actor.has(Role.ADMIN):
        raise PermissionDenied("auth.missing_role")
    with uow.read() as session:
        return _rows(session, table)


def _refusals(session, name: str, rows: list[dict], current: list[dict]) -> list[rules_of.Refusal]:  # noqa: ANN001
    existing = {row[TABLES[name].key] for row in current}
    if name in ("categories", "channels"):
        return rules_of.validate_choices(rows, in_use=set(), existing=existing)
    if name == "departments":
        handlers = dict(session.execute(
            select(Department.code, func.count(User.id)).join(User, User.department_id == Department.id)
            .join(UserRole, UserRole.user_id == User.id)
            .where(User.active, UserRole.role_key == Role.HANDLER.value).group_by(Department.code)).all())
        return rules_of.validate_departments(rows, existing={r["code"]: r for r in current}, handlers=handlers)
    if name == "authority_levels":
        held = set(session.scalars(select(User.approval_level).where(User.approval_level.is_not(None)).distinct()))
        held |= set(session.scalars(select(Complaint.required_level).where(Complaint.required_level.is_not(None))
                                    .distinct()))
        return rules_of.validate_authority(rows, in_use=held)
    if name == "penalty_standards":
        used = set(session.scalars(select(Complaint.responsibility_level)
                                   .where(Complaint.responsibility_level.is_not(None)).distinct()))
        return rules_of.validate_penalties(rows, in_use=used)
    if name == "parameters":
        return rules_of.validate_parameters(rows)
    return rules_of.validate_warnings(rows)


def _clean(name: str, row: dict) -> dict:
    """A row as stored: names trimmed, amounts exact, whole numbers whole."""
    out = {}
    for column in TABLES[name].columns:
        value = row.get(column)
        if isinstance(value, str):
            value = value.strip()
        if value == "":
            value = None
        if column in ("max_amount", "department_loss") and value is not None and value == value:
            value = Decimal(str(value)).quantize(Decimal("0.01"))     # 50000 and 50000.00 are one amount
        elif column in ("max_amount",):
            value = None
        if column in ("sort", "rank") and isinstance(value, float):
            value = int(value)
        if name in ("warnings", "parameters") and column == "value":
            value = f"{Decimal(str(value).strip()).normalize():f}"
        out[column] = value
    return out


_NEW_CODE = {"categories": "category", "channels": "channel", "departments": "department"}


def _with_codes(table: str, rows: list[dict], current: list[dict]) -> list[dict]:
    """A new row of a list of choices gets a code of its own (codes are identifiers nobody types)."""
    if table not in _NEW_CODE:
        return rows
    taken = {r["code"] for r in current} | {r.get("code") for r in rows}
    out, n = [], len(current)
    for row in rows:
        if row.get("code") in (None, ""):
            n += 1
            while f"{_NEW_CODE[table]}_{n}" in taken:
                n += 1
            row = {**row, "code": f"{_NEW_CODE[table]}_{n}"}
            taken.add(row["code"])
        out.append(row)
    return out


def save_table(uow: UnitOfWork, *, actor: Actor, table: str, rows: list[dict], now: datetime) -> int:
    """Validate the whole table, then write what changed: one transaction, one audit event with the
    changed rows before and after. Returns how many rows changed (0: nothing written)."""
    if table not in TABLES:
        raise DomainError("config.unknown_table")
    spec = TABLES[table]
    with uow.write() as session:
        user = fresh_actor(session, actor, Role.ADMIN)
        current = _rows(session, table)
        rows = _with_codes(table, rows, current)
        refusals = _refusals(session, table, rows, current)
        if table in FIXED_ROWS and sorted(str(r.get(spec.key)) for r in rows) != sorted(r[spec.key] for r in current):
            refusals.append(rules_of.Refusal(rules_of.TABLE, spec.key, Message("config.fixed_keys")))
        if refusals:
            raise ConfigurationRefused(refusals)
        names = {r[spec.key]: r for r in current}
        wanted = [_clean(table, row) for row in rows]
        if table in FIXED_ROWS:        # their names are the catalogue's, shown on every page in both languages
            for row in wanted:
                for column in ("name_zh", "name_en", "description"):
                    if column in row:
                        row[column] = names[row[spec.key]][column]
        before = {row[spec.key]: row for row in current}
        changed_before, changed_after = {}, {}
        for row in wanted:
            key = row[spec.key]
            old = before.get(key)
            if old is not None and all(jsonable(_clean(table, old)[c]) == jsonable(row[c]) for c in spec.columns):
                continue
            target = session.get(spec.model, key) if spec.key != "code" else session.scalar(
                select(spec.model).where(spec.model.code == key))
            if target is None:
                target = spec.model(**row)
                session.add(target)
            else:
                for column in spec.columns:
                    setattr(target, column, row[column])
            changed_before[key], changed_after[key] = old, row
        if not changed_after:
            return 0
        if table == "parameters" and "badge.due_soon_fraction" in changed_after:
            session.flush()                 # the stored 临期 instants of running clocks follow the new threshold
            from portal.services import dues, rules
            dues.refresh_all(session, rules.calendar_from_rows(session.execute(
                select(CalendarDayRow.day, CalendarDayRow.is_working, CalendarDayRow.kind,
                       CalendarDayRow.note)).all()), only_running=True)
        record_event(session, actor=user, at=now, action="config.save", comment=table,
                     changes={"table": table, "before": changed_before, "after": changed_after})
        return len(changed_after)


@dataclass(frozen=True)
class Change:
    at: datetime
    actor: str
    table: str
    key: str
    before: dict | None
    after: dict


def change_log(uow: UnitOfWork, *, actor: Actor, table: str | None = None, who: str | None = None,
               limit: int = 200) -> list[Change]:
    """Every configuration change, newest first: who changed which row of which table, when, from
    what to what (the audit events themselves, which nobody can alter)."""
    if not actor.has(Role.ADMIN):
        raise PermissionDenied("auth.missing_role")
    query = (select(Event.at, Event.actor_label, Event.comment, Event.changes)
             .where(Event.action == "config.save").order_by(Event.id.desc()).limit(limit))
    if table:
        query = query.where(Event.comment == table)
    if who:
        query = query.where(Event.actor_label == who)
    with uow.read() as session:
        out = []
        for at, label, name, changes in session.execute(query):
            for key, after in (changes or {}).get("after", {}).items():
                out.append(Change(at, label, name, key, (changes.get("before") or {}).get(key), after))
        return out
