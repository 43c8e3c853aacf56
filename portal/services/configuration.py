"""系统配置 (SPEC §8): an administrator edits the business rules as tables. A save validates the
whole table first (`portal.domain.configuration`), then writes it in one transaction with one audit
event holding each changed row before and after; nothing is ever deleted."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, literal, or_, select

from portal.domain import configuration as rules_of
from portal.domain import desk_configuration as desk_rules
from portal.domain.errors import DomainError, Message, PermissionDenied
from portal.domain.privacy import validate_masking_rules
from portal.domain.roles import Role
from portal.domain.text import clean_code
from portal.persistence.database import UnitOfWork
from portal.persistence.models import (AuthorityLevel, CalendarDayRow, Category, CauseClass, Channel, Complaint,
                                       ComplaintDepartment, DeskChoice, PoliciesInForce, QualityChecklistItem,
                                       Rectification,
                                       DeskClockRow, DeskMaterial, Department, Event, MaskingRule, PenaltyStandard,
                                       Product, Setting, SlaClock, SlaClockVersion, User, UserRole)
from portal.services import desk_configuration
from portal.services.actors import Actor, fresh_actor
from portal.services.audit import jsonable, record_event


class ConfigurationRefused(DomainError):
    """The table is not saved; `refusals` says which row and field, and why."""

    def __init__(self, refusals: list[rules_of.Refusal]) -> None:
        super().__init__("config.refused", count=len(refusals))
        self.refusals = refusals


class ConfigurationStale(DomainError):
    """Another save of the same table came in after this editor was opened: nothing is saved, since
    writing the editor's rows would silently undo that change. Says who saved it and when."""

    def __init__(self, who: str, at: datetime) -> None:
        super().__init__("config.stale", who=who, at=f"{at:%Y-%m-%d %H:%M}")


@dataclass(frozen=True)
class Table:
    model: Any
    key: str
    columns: tuple[str, ...]
    scope: tuple[str, str] | None = None     # the model's rows this table holds: (column, value)


TABLES = {
    "categories": Table(Category, "code", ("code", "name_zh", "name_en", "default_departments", "active", "sort")),
    "channels": Table(Channel, "code", ("code", "name_zh", "name_en", "active", "sort")),
    "departments": Table(Department, "code", ("code", "name_zh", "name_en", "investigates", "active", "sort")),
    "authority_levels": Table(AuthorityLevel, "key", ("key", "name_zh", "name_en", "rank", "max_amount",
                                                      "covers_major")),
    "penalty_standards": Table(PenaltyStandard, "level", ("level", "name_zh", "name_en", "department_loss",
                                                          "penalty_type", "sort")),
    "warnings": Table(Setting, "key", ("key", "value", "description")),
    # issue 18: the seed's satisfaction baselines (shown with the warnings), the cause taxonomy, the quality
    # checklist and the monthly policies in force (the complaint rate where no policy register is kept)
    "baselines": Table(Setting, "key", ("key", "value", "description")),
    "cause_classes": Table(CauseClass, "code", ("code", "parent_code", "name_zh", "name_en", "active", "sort")),
    "quality_checklist": Table(QualityChecklistItem, "code", ("code", "text_zh", "text_en", "active", "sort")),
    "policies_in_force": Table(PoliciesInForce, "period", ("period", "count")),
    "parameters": Table(Setting, "key", ("key", "value", "description")),
    # 个人信息脱敏: field of personal data × audience (a role, or exported files) → visibility (issue 16)
    "masking_rules": Table(MaskingRule, "audience", ("audience", "name", "phone", "id_number", "address", "email",
                                                      "policy_number")),
    # the service desk (issue 17, `services/desk_configuration.py`): its lists, checklists, clocks, parameters
    # and each product's claim time limit
    **{name: Table(DeskChoice, "code", ("code", "name_zh", "name_en", "active", "sort",
                                        *(("keeps_scene",) if key == "risk" else ())), scope=("list_key", key))
       for name, key in desk_configuration.LIST_TABLES.items()},
    "desk_materials": Table(DeskMaterial, "code", ("claim_kind", "code", "name_zh", "name_en", "active", "sort")),
    "desk_clocks": Table(DeskClockRow, "key", ("key", "unit", "target")),
    "desk_parameters": Table(Setting, "key", ("key", "value", "description")),
    "desk_products": Table(Product, "code", ("code", "name", "claim_limit", "claim_limit_unit")),
}


# Tables whose rows are fixed: the levels are named in the language catalogue and the process refers to
# them (the GM office's level, the no-fault level); their amounts, ranks and flags are what changes.
FIXED_ROWS = ("authority_levels", "penalty_standards", "warnings", "baselines", "parameters", "masking_rules",
              "desk_clocks",
              "desk_parameters", "desk_products")       # products come from the policy import


def _order(table: Table) -> tuple:
    model = table.model
    if model is AuthorityLevel:
        return (AuthorityLevel.rank,)
    if model is DeskMaterial:                   # the basic checklist first, then each claim kind's
        return DeskMaterial.claim_kind != "basic", DeskMaterial.claim_kind, DeskMaterial.sort, DeskMaterial.id
    return (getattr(model, "sort", getattr(model, table.key)),)


def _rows(session, name: str) -> list[dict]:  # noqa: ANN001
    table = TABLES[name]
    query = select(table.model).order_by(*_order(table))
    if table.scope is not None:
        query = query.where(getattr(table.model, table.scope[0]) == table.scope[1])
    if name == "warnings":
        query = query.where(Setting.key.in_(rules_of.WARNING_KEYS))
    if name == "baselines":
        query = query.where(Setting.key.in_(rules_of.BASELINE_KEYS))
    if name == "policies_in_force":
        query = select(PoliciesInForce).order_by(PoliciesInForce.period.desc())
    if name == "parameters":
        query = query.where(Setting.key.in_(list(rules_of.PARAMETERS)))
    if name == "desk_parameters":
        query = query.where(Setting.key.in_(list(desk_rules.DESK_PARAMETERS)))
    return [{c: getattr(row, c) for c in table.columns} for row in session.scalars(query)]


def table_version(uow: UnitOfWork, *, actor: Actor, table: str) -> int:
    """Where a configuration table stands: the audit event of its last save (0: as seeded). An editor
    notes it when it opens and hands it back with its save (`basis`)."""
    if not actor.has(Role.ADMIN):
        raise PermissionDenied("auth.missing_role")
    with uow.read() as session:
        return _version(session, table)


def _version(session, table: str) -> int:  # noqa: ANN001
    latest = latest_change(session, ("config.save",), comment=table)
    if table == "desk_products":       # the policy import changes products' names and claim limits too
        latest = max(latest, latest_change(session, ("policies.import",)))
    return latest


def latest_change(session, actions: tuple[str, ...], comment: str | None = None) -> int:  # noqa: ANN001
    """The newest audit event of these actions (0: none): the version an editor opens on."""
    query = select(func.max(Event.id)).where(Event.action.in_(actions))
    if comment is not None:
        query = query.where(Event.comment == comment)
    return session.scalar(query) or 0


def refuse_if_saved_since(session, basis: int | None, latest: int) -> None:  # noqa: ANN001
    """A save made on an older version than the stored one is refused, naming who saved and when."""
    if basis is not None and latest != basis:
        who, at = session.execute(select(Event.actor_label, Event.at).where(Event.id == latest)).one()
        raise ConfigurationStale(who or "—", at)


def _refuse_if_stale(session, table: str, model: Any, basis: int | None) -> None:  # noqa: ANN001, ANN401
    """Saves of one table take turns (its rows locked on PostgreSQL; SQLite writes one at a time), and a
    save made on an older version of the table than the stored one is refused."""
    session.execute(select(model).with_for_update(of=model)).all()
    refuse_if_saved_since(session, basis, _version(session, table))


def load_table(uow: UnitOfWork, *, actor: Actor, table: str) -> list[dict]:
    if not actor.has(Role.ADMIN):
        raise PermissionDenied("auth.missing_role")
    with uow.read() as session:
        return _rows(session, table)


def _refusals(session, name: str, rows: list[dict], current: list[dict]) -> list[rules_of.Refusal]:  # noqa: ANN001
    existing = {row[TABLES[name].key] for row in current}
    if name in desk_configuration.TABLE_NAMES:
        return desk_configuration.refusals(session, name, rows, current)
    if name == "categories":
        routable = set(session.scalars(select(Department.code).where(Department.active, Department.investigates)))
        return rules_of.validate_categories(rows, existing=existing, routable=routable)
    if name == "channels":
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
    if name == "masking_rules":
        return validate_masking_rules(rows)
    if name == "baselines":
        return rules_of.validate_baselines(rows)
    if name == "cause_classes":
        return rules_of.validate_causes(rows, existing=existing, in_use=_causes_in_use(session, existing))
    if name == "quality_checklist":
        return rules_of.validate_checklist(rows, existing=existing)
    if name == "policies_in_force":
        return rules_of.validate_policies_in_force(rows, existing=existing)
    return rules_of.validate_warnings(rows)


def _causes_in_use(session, codes: set[str]) -> set[str]:  # noqa: ANN001
    """The causes chosen anywhere: by a department report, a closure, a case summary or a rectification item
    (a class is in use through its sub-causes)."""
    used: set[str] = set()
    for column in (ComplaintDepartment.cause_code, Complaint.cause_code, Complaint.summary_cause_code,
                   Rectification.cause_code):
        for code in sorted(codes - used):
            if session.scalar(select(literal(1)).where(or_(column == code, column.startswith(f"{code}.", autoescape=True)))
                              .limit(1)):
                used.add(code)
    return used


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
        if column in ("sort", "rank", "target", "claim_limit") and isinstance(value, float) and value.is_integer():
            value = int(value)
        if column == "default_departments":
            value = sorted(set(value or []))           # a set of departments: order and repeats mean nothing
        if name in ("warnings", "baselines", "parameters", "desk_parameters") and column == "value":
            value = "" if value is None else f"{Decimal(str(value).strip()).normalize():f}"   # "": off
        if column == "count" and isinstance(value, float) and value.is_integer():
            value = int(value)
        if name == "cause_classes" and column == "parent_code":    # the class a sub-cause belongs to
            code = str(row.get("code") or "").strip()
            value = code.split(".", 1)[0] if "." in code else None
        out[column] = value
    return out


_NEW_CODE = {"categories": "category", "channels": "channel", "departments": "department", "desk_materials": "material",
             "quality_checklist": "check",
             **{name: key for name, key in desk_configuration.LIST_TABLES.items()}}


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


def save_table(uow: UnitOfWork, *, actor: Actor, table: str, rows: list[dict], now: datetime,
               basis: int | None = None) -> int:
    """Validate the whole table, then write what changed: one transaction, one audit event with the
    changed rows before and after. Returns how many rows changed (0: nothing written). `basis`: the
    `table_version` the editor opened on; the save is refused if the table was saved since."""
    if table not in TABLES:
        raise DomainError("config.unknown_table")
    spec = TABLES[table]
    with uow.write() as session:
        user = fresh_actor(session, actor, Role.ADMIN)
        _refuse_if_stale(session, table, spec.model, basis)
        current = _rows(session, table)
        rows = _with_codes(table, rows, current)
        refusals = _refusals(session, table, rows, current)
        if table in FIXED_ROWS and table != "masking_rules" and sorted(str(r.get(spec.key)) for r in rows) != sorted(r[spec.key] for r in current):
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
            scope = {} if spec.scope is None else {spec.scope[0]: spec.scope[1]}
            target = session.get(spec.model, key) if spec.key != "code" else session.scalar(
                select(spec.model).filter_by(code=key, **scope))
            if target is None:
                target = spec.model(**row, **scope)
                session.add(target)
            else:
                for column in spec.columns:
                    setattr(target, column, row[column])
            if table == "policies_in_force":           # who entered the month's figure, and when
                target.entered_by_id, target.entered_at = user.id, now
            changed_before[key], changed_after[key] = old, row
        if table == "cause_classes":                   # a cause nobody chose may go (the validator kept the rest)
            for key in sorted(set(before) - {row[spec.key] for row in wanted}):
                session.delete(session.scalar(select(CauseClass).where(CauseClass.code == key)))
                changed_before[key], changed_after[key] = before[key], {"removed": True}
        if not changed_after:
            return 0
        if table == "parameters" and "badge.due_soon_fraction" in changed_after:
            session.flush()                 # the stored 临期 instants of running clocks follow the new threshold
            from portal.services import desk_clocks, dues, rules
            calendar = rules.calendar_from_rows(session.execute(
                select(CalendarDayRow.day, CalendarDayRow.is_working, CalendarDayRow.kind,
                       CalendarDayRow.note)).all())
            dues.refresh_all(session, calendar, only_running=True)
            desk_clocks.refresh_running(session, calendar)
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


# -- 时限规则: clock rules with effective dates --

CLOCK_FIELDS = ("unit", "target", "start_milestone", "stop_milestone", "due_soon_percent")


@dataclass(frozen=True)
class ClockVersionView:
    key: str
    name_zh: str
    name_en: str
    effective_from: datetime
    effective_until: datetime | None
    unit: str
    target: int
    start_milestone: str
    stop_milestone: str
    due_soon_percent: int | None
    created_by: str | None
    pending: bool                   # takes effect later


def _versions(session) -> dict[str, list[SlaClockVersion]]:  # noqa: ANN001
    out: dict[str, list[SlaClockVersion]] = {}
    for row in session.scalars(select(SlaClockVersion).order_by(SlaClockVersion.clock_key,
                                                                SlaClockVersion.effective_from)):
        out.setdefault(row.clock_key, []).append(row)
    return out


def _values(version: SlaClockVersion) -> dict:
    return {f: getattr(version, f) for f in CLOCK_FIELDS}


def load_clocks(uow: UnitOfWork, *, actor: Actor, now: datetime) -> list[dict]:
    """One row per clock, as the editor shows it: the newest version's values; its effective date
    when it takes effect later (empty when it is in force)."""
    if not actor.has(Role.ADMIN):
        raise PermissionDenied("auth.missing_role")
    with uow.read() as session:
        versions = _versions(session)
        out = []
        for clock in session.scalars(select(SlaClock).where(SlaClock.active).order_by(SlaClock.sort)):
            newest = versions[clock.key][-1]
            out.append({"key": clock.key, "name_zh": clock.name_zh, "name_en": clock.name_en,
                        "regulatory": clock.regulatory, **_values(newest),
                        "effective_date": newest.effective_from.date() if newest.effective_from > now else None})
        return out


def clock_history(uow: UnitOfWork, *, actor: Actor, now: datetime) -> list[ClockVersionView]:
    """Every version of every clock, newest first within a clock: what governs which cases."""
    if not actor.has(Role.ADMIN):
        raise PermissionDenied("auth.missing_role")
    with uow.read() as session:
        versions = _versions(session)
        out = []
        for clock in session.scalars(select(SlaClock).order_by(SlaClock.sort)):
            for v in reversed(versions.get(clock.key, [])):
                out.append(ClockVersionView(clock.key, clock.name_zh, clock.name_en, v.effective_from,
                                            v.effective_until, v.unit, v.target, v.start_milestone,
                                            v.stop_milestone, v.due_soon_percent, v.created_by,
                                            v.effective_from > now))
        return out


def _clock_row(row: dict) -> dict:
    """An edited clock row as plain values: whole numbers whole, empty text None, typed numbers and
    dates (2027-01-01) read; what cannot be read is left for the validator to refuse."""
    out = dict(row)
    for field in ("target", "due_soon_percent", "effective_date"):
        value = out.get(field)
        if isinstance(value, str):
            value = clean_code(value) or None         # full-width digits are digits; blank is empty
            if value is not None:
                try:
                    value = date.fromisoformat(value) if field == "effective_date" else int(value)
                except ValueError:
                    pass
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        elif isinstance(value, float) and value != value:
            value = None
        if isinstance(value, datetime):
            value = value.date()
        out[field] = value
    return out


def _received_since(session, instant: datetime) -> bool:  # noqa: ANN001
    return session.scalar(select(Complaint.id).where(Complaint.received_at >= instant).limit(1)) is not None


def save_clocks(uow: UnitOfWork, *, actor: Actor, rows: list[dict], now: datetime, basis: int | None = None) -> int:
    """Save changed clock rules as versions (SPEC §8): a change to a rule in force is a new version
    from `now` (or from 00:00 of a later effective date); a version not yet in force is edited in
    place. A version in force is never changed, so cases received under it keep their deadlines.
    One transaction, one audit event. Returns how many clocks changed. `basis`: as for `save_table`
    (the table `clocks`)."""
    rows = [_clock_row(r) if isinstance(r, dict) else r for r in rows]
    with uow.write() as session:
        user = fresh_actor(session, actor, Role.ADMIN)
        _refuse_if_stale(session, "clocks", SlaClock, basis)
        clocks = {c.key: c for c in session.scalars(select(SlaClock).where(SlaClock.active))}
        refusals = rules_of.validate_clocks(rows, current={k: {"regulatory": c.regulatory} for k, c in clocks.items()},
                                            today=now.date())
        if sorted(str(r.get("key")) if isinstance(r, dict) else "" for r in rows) != sorted(clocks):
            refusals.append(rules_of.Refusal(rules_of.TABLE, "key", Message("config.fixed_keys")))
        if refusals:
            raise ConfigurationRefused(refusals)
        versions = _versions(session)
        # "At once" is this minute (received times are kept to the minute, so a complaint registered
        # after the change in the same minute follows it), or the next one if a complaint received
        # in this minute is already registered (it keeps the rule it was registered under).
        minute = now.replace(second=0, microsecond=0)
        at_once = minute if not _received_since(session, minute) else minute + timedelta(minutes=1)
        before, after = {}, {}
        for row in rows:
            key, wanted = row["key"], {f: row.get(f) for f in CLOCK_FIELDS}
            effective = row.get("effective_date")
            starts = at_once if effective is None or effective <= now.date() else datetime.combine(effective, time())
            newest = versions[key][-1]
            # Not yet in force, or set within this minute with no case received since: nothing is governed by it.
            pending = newest.effective_from > now or (newest.effective_from >= minute and not _received_since(
                session, newest.effective_from))
            if _values(newest) == wanted and (not pending or newest.effective_from == starts):
                continue
            old = {**_values(newest), "effective_from": newest.effective_from}
            if pending:                                   # not yet in force: no case is governed by it
                target = newest
            else:
                target = SlaClockVersion(clock_key=key)
                session.add(target)
                versions[key].append(target)
            for field, value in wanted.items():
                setattr(target, field, value)
            target.effective_from, target.created_at, target.created_by = starts, now, user.username
            before[key], after[key] = old, {**wanted, "effective_from": starts}
            chain = sorted(versions[key], key=lambda v: v.effective_from)
            for version, following in zip(chain, [*chain[1:], None]):
                version.effective_until = following.effective_from if following else None
        if not after:
            return 0
        record_event(session, actor=user, at=now, action="config.save", comment="clocks",
                     changes={"table": "clocks", "before": jsonable(before), "after": jsonable(after)})
        return len(after)
