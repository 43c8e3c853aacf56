"""The service desk's rules an administrator edits in 系统配置 (issue 17, SPEC §12): its lists (risks, report
channels, claim kinds, surrender reasons, relations), the materials checklists, its clocks, its parameters and
each product's claim time limit (申请时效). What makes a row, and a whole table, acceptable — as
`portal.domain.configuration` does for the complaint tables, with its helpers and its `Refusal`.

Codes are what policies and requests keep: a code once saved is never removed or renamed (a row is deactivated
instead), and the process keeps something to choose where it needs it."""
from __future__ import annotations

from decimal import Decimal

from portal.domain.aftersales import BASIC_KIND, LimitUnit
from portal.domain.clocks import Unit
from portal.domain.configuration import (CLOCK_TARGET_LIMITS, TABLE, Refusal, _codes, _flag, _name, _whole,
                                         validate_parameters)
from portal.domain.errors import Message
from portal.domain.policies import MAX_LIMIT

DESK_LISTS = ("risk", "channel", "claim_kind", "surrender_reason", "relation")

# The desk's parameters (Settings rows, checked as the business parameters are): the amount above which a
# claim is major (4.(二)6), the hours within which a reported event keeps its scene (4.(二)5).
DESK_PARAMETERS: dict[str, tuple[str, Decimal, Decimal]] = {
    "desk.major_threshold": ("amount", Decimal(1), Decimal("1e12")),
    "desk.scene_hours": ("whole", Decimal(1), Decimal(720)),
}


def _never_removed(rows: list[dict], existing: set[str], in_use: set[str], out: list[Refusal]) -> None:
    """A saved code stays: one that policies or requests name says so; either way it is deactivated instead."""
    codes = {row.get("code") for row in rows}
    for code in sorted(existing - codes):
        key = "config.desk.code_in_use" if code in in_use else "config.never_delete"
        out.append(Refusal(TABLE, "code", Message(key, {"code": code})))


def validate_desk_list(list_key: str, rows: list[dict], *, existing: set[str], in_use: set[str],
                       waiting: set[str] = frozenset()) -> list[Refusal]:
    """One of the desk's lists: codes in the portal's format, each once; both names (≤ 60); active and order;
    for risks whether the scene is kept. Every list is a required choice of some form, so one row stays active.
    A claim kind is never called `basic` (the checklist every claim has), nor deactivated while incomplete
    applications of that kind wait (`waiting`: they could not be completed)."""
    out: list[Refusal] = []
    _codes(rows, "code", out)
    for index, row in enumerate(rows):
        _name(row, "name_zh", 60, index, out)
        _name(row, "name_en", 60, index, out)
        active = _flag(row, "active", index, out)
        _whole(row, "sort", index, out)
        if list_key == "risk":
            _flag(row, "keeps_scene", index, out)
        if list_key == "claim_kind" and row.get("code") == BASIC_KIND:
            out.append(Refusal(index, "code", Message("config.desk.basic_reserved", {"code": BASIC_KIND})))
        if list_key == "claim_kind" and not active and row.get("code") in waiting:
            out.append(Refusal(index, "active", Message("config.desk.kind_waiting", {"code": row.get("code")})))
    _never_removed(rows, existing, in_use, out)
    if not any(row.get("active") is True for row in rows):
        out.append(Refusal(TABLE, "active", Message("config.desk.none_active")))
    return out


def validate_materials(rows: list[dict], *, existing: set[str], in_use: set[str], claim_kinds: set[str],
                       received_waiting: set[str] = frozenset()) -> list[Refusal]:
    """The materials checklists (4.(四)2), one row per document: its claim kind (`basic` for every claim, or a
    claim kind of the list), a code unique in the whole table (an application records the documents it
    received by code), both names (≤ 100), active and order. The basic checklist keeps an active item; a
    document an incomplete application already received is not deactivated while it waits
    (`received_waiting`)."""
    out: list[Refusal] = []
    _codes(rows, "code", out)
    for index, row in enumerate(rows):
        kind = row.get("claim_kind")
        if not isinstance(kind, str) or kind not in {BASIC_KIND, *claim_kinds}:
            out.append(Refusal(index, "claim_kind", Message("config.desk.unknown_kind")))
        _name(row, "name_zh", 100, index, out)
        _name(row, "name_en", 100, index, out)
        active = _flag(row, "active", index, out)
        _whole(row, "sort", index, out)
        if not active and row.get("code") in received_waiting:
            out.append(Refusal(index, "active", Message("config.desk.material_waiting", {"code": row.get("code")})))
    _never_removed(rows, existing, in_use, out)
    if not any(row.get("active") is True and row.get("claim_kind") == BASIC_KIND for row in rows):
        out.append(Refusal(TABLE, "claim_kind", Message("config.desk.no_basic")))
    return out


def validate_desk_clocks(rows: list[dict]) -> list[Refusal]:
    """The desk's clocks: a known unit (hours, calendar days, working days) and a whole target from 1 to about
    a year in that unit."""
    out: list[Refusal] = []
    for index, row in enumerate(rows):
        unit = row.get("unit")
        if not isinstance(unit, str) or unit not in {u.value for u in Unit}:
            out.append(Refusal(index, "unit", Message("form.bad_value")))
            continue
        _whole(row, "target", index, out, low=1, high=CLOCK_TARGET_LIMITS[unit])
    return out


def validate_desk_parameters(rows: list[dict]) -> list[Refusal]:
    return validate_parameters(rows, spec=DESK_PARAMETERS)


def validate_products(rows: list[dict]) -> list[Refusal]:
    """Each product's name (≤ 100) and claim time limit (申请时效): a whole number of days or years within the
    register's bounds, or neither (no limit: the check then never refuses for time)."""
    out: list[Refusal] = []
    for index, row in enumerate(rows):
        _name(row, "name", 100, index, out)
        amount, unit = row.get("claim_limit"), row.get("claim_limit_unit")
        if amount is None and unit is None:
            continue
        if not isinstance(unit, str) or unit not in {u.value for u in LimitUnit}:
            out.append(Refusal(index, "claim_limit_unit", Message("config.desk.limit_unit")))
            continue
        _whole(row, "claim_limit", index, out, low=1, high=MAX_LIMIT[LimitUnit(unit)])
    return out
