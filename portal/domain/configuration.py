"""Rules an administrator edits as tables (SPEC §8): what makes a row, and a whole table, acceptable.

Each validator takes the rows as the editor gives them (dicts of plain values) and returns the
reasons to refuse, keyed by the row's position (`TABLE` for the table as a whole). A table with any
reason is not saved at all. A configuration that would break the process is refused with the reason:
an authority gap or overlap, a department cases are routed to with nobody to handle them, a table
left with nothing to choose.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from portal.domain.clocks import Milestone, stops_after
from portal.domain.errors import Message
from portal.domain.regulatory import DECISION_DAYS
from portal.domain.text import clean_text

TABLE = -1                    # a reason about the table as a whole
CODE = re.compile(r"[a-z][a-z0-9_]{1,39}")
PENALTY_TYPES = ("none", "criticism", "warning", "fine", "demerit")
MAX_AMOUNT = Decimal("1e12")


@dataclass(frozen=True)
class Refusal:
    row: int                  # position in the table (0-based), or TABLE
    field: str
    message: Message


def _name(row: dict, key: str, limit: int, index: int, out: list[Refusal]) -> str:
    value = clean_text(row.get(key), multiline=False) if isinstance(row.get(key), str) else None
    if not value:
        out.append(Refusal(index, key, Message("form.required")))
        return ""
    if len(value) > limit:
        out.append(Refusal(index, key, Message("form.too_long", {"max": limit})))
    return value


def _codes(rows: list[dict], key: str, out: list[Refusal]) -> None:
    seen: dict[str, int] = {}
    for index, row in enumerate(rows):
        code = row.get(key)
        if not isinstance(code, str) or not CODE.fullmatch(code):
            out.append(Refusal(index, key, Message("config.bad_code")))
            continue
        if code in seen:
            out.append(Refusal(index, key, Message("config.duplicate_code", {"code": code, "row": seen[code] + 1})))
        seen.setdefault(code, index)


def _flag(row: dict, key: str, index: int, out: list[Refusal]) -> bool:
    value = row.get(key)
    if not isinstance(value, bool):
        out.append(Refusal(index, key, Message("form.bad_value")))
        return False
    return value


def _whole(row: dict, key: str, index: int, out: list[Refusal], low: int = 0, high: int = 10_000) -> int:
    value = row.get(key)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        out.append(Refusal(index, key, Message("config.whole_number", {"low": low, "high": high})))
        return low
    return value


def _amount(row: dict, key: str, index: int, out: list[Refusal], *, empty: bool) -> Decimal | None:
    value = row.get(key)
    if value is None or (isinstance(value, float) and value != value) or value == "":
        if not empty:
            out.append(Refusal(index, key, Message("form.required")))
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        out.append(Refusal(index, key, Message("form.bad_amount")))
        return None
    if not amount.is_finite() or amount < 0 or amount >= MAX_AMOUNT or amount != amount.quantize(Decimal("0.01")):
        out.append(Refusal(index, key, Message("form.bad_amount")))
        return None
    return amount


def validate_choices(rows: list[dict], *, in_use: set[str], existing: set[str]) -> list[Refusal]:
    """Categories and channels: a code (lower-case letters, digits, `_`), two names, active, order.
    A code is never removed (its cases keep it): it is made inactive instead; one must stay active."""
    out: list[Refusal] = []
    _codes(rows, "code", out)
    for index, row in enumerate(rows):
        _name(row, "name_zh", 60, index, out)
        _name(row, "name_en", 60, index, out)
        _flag(row, "active", index, out)
        _whole(row, "sort", index, out)
    codes = {row.get("code") for row in rows}
    for code in sorted(existing - codes):
        out.append(Refusal(TABLE, "code", Message("config.never_delete", {"code": code})))
    if not any(row.get("active") is True for row in rows):
        out.append(Refusal(TABLE, "active", Message("config.none_active")))
    del in_use  # a code in use may be renamed or deactivated, never removed (covered by `existing`)
    return out


def validate_categories(rows: list[dict], *, existing: set[str], routable: set[str]) -> list[Refusal]:
    """Categories: as choices, plus their default routing: departments cases may be routed to (active
    and taking cases), each named once; empty is allowed (the GM office then chooses every time)."""
    out = validate_choices(rows, in_use=set(), existing=existing)
    for index, row in enumerate(rows):
        routes = row.get("default_departments")
        if routes is None:
            continue
        if not isinstance(routes, (list, tuple)) or not all(isinstance(r, str) for r in routes):
            out.append(Refusal(index, "default_departments", Message("form.bad_value")))
            continue
        if set(routes) - routable:
            out.append(Refusal(index, "default_departments", Message("config.not_routable")))
    return out


def validate_departments(rows: list[dict], *, existing: dict[str, dict], handlers: dict[str, int]) -> list[Refusal]:
    """Departments: as choices, plus whether cases may be routed there. A department this edit opens
    to routed cases (new, reactivated, or newly routable) needs at least one active handler
    (`handlers`: code → how many); the GM office needs at least one department to route to."""
    out = validate_choices([{**r} for r in rows], in_use=set(), existing=set(existing))

    def routable(row: dict | None) -> bool:
        return bool(row) and row.get("investigates") is True and row.get("active") is True

    for index, row in enumerate(rows):
        investigates = _flag(row, "investigates", index, out)
        opened = routable(row) and not routable(existing.get(row.get("code")))
        if investigates and opened and handlers.get(row.get("code"), 0) == 0:
            out.append(Refusal(index, "investigates", Message("config.no_handler", {"code": row.get("code")})))
    if not any(row.get("active") is True and row.get("investigates") is True for row in rows):
        out.append(Refusal(TABLE, "investigates", Message("config.nowhere_to_route")))
    return out


def validate_authority(rows: list[dict], *, in_use: set[str]) -> list[Refusal]:
    """核决权限: levels by rank, each covering amounts up to its limit; the limits rise with the rank
    (two levels with the same or a falling limit overlap), the top level has no limit (else amounts
    above it have no approver: a gap), and some level covers major cases. A level users or cases
    hold cannot be removed."""
    out: list[Refusal] = []
    _codes(rows, "key", out)
    parsed = []
    for index, row in enumerate(rows):
        _name(row, "name_zh", 40, index, out)
        _name(row, "name_en", 40, index, out)
        rank = _whole(row, "rank", index, out, low=1, high=100)
        limit = _amount(row, "max_amount", index, out, empty=True)
        major = _flag(row, "covers_major", index, out)
        parsed.append((rank, limit, major, index))
    if out:
        return out
    for key in sorted(in_use - {row["key"] for row in rows}):
        out.append(Refusal(TABLE, "key", Message("config.level_in_use", {"key": key})))
    ordered = sorted(parsed, key=lambda level: (level[0], level[3]))
    for (rank, limit, _, index), (next_rank, next_limit, _, next_index) in zip(ordered, ordered[1:]):
        if rank == next_rank:
            out.append(Refusal(next_index, "rank", Message("config.same_rank", {"rank": rank})))
        elif limit is None:
            out.append(Refusal(index, "max_amount", Message("config.unlimited_not_top")))
        elif next_limit is not None and next_limit <= limit:
            out.append(Refusal(next_index, "max_amount", Message(
                "config.authority_overlap", {"amount": f"{next_limit:,.2f}", "lower": f"{limit:,.2f}"})))
    if ordered and ordered[-1][1] is not None:
        out.append(Refusal(ordered[-1][3], "max_amount", Message(
            "config.authority_gap", {"amount": f"{ordered[-1][1]:,.2f}"})))
    if not ordered:
        out.append(Refusal(TABLE, "key", Message("config.none_active")))
    elif not any(major for _, _, major, _ in parsed):
        out.append(Refusal(TABLE, "covers_major", Message("config.no_major_level")))
    return out


def validate_penalties(rows: list[dict], *, in_use: set[str]) -> list[Refusal]:
    """罚扣判定基准: each responsibility level's department loss and individual penalty; a "none" level
    with no loss and no penalty must remain (a case without fault closes at once)."""
    out: list[Refusal] = []
    _codes(rows, "level", out)
    for index, row in enumerate(rows):
        _name(row, "name_zh", 40, index, out)
        _name(row, "name_en", 40, index, out)
        _amount(row, "department_loss", index, out, empty=False)
        if row.get("penalty_type") not in PENALTY_TYPES:
            out.append(Refusal(index, "penalty_type", Message("form.choose_one")))
        _whole(row, "sort", index, out)
    none = [row for row in rows if row.get("level") == "none"]
    if not none or str(none[0].get("department_loss")) not in ("0", "0.0", "0.00") \
            or none[0].get("penalty_type") != "none":
        out.append(Refusal(TABLE, "level", Message("config.penalty_none_needed")))
    for level in sorted(in_use - {row.get("level") for row in rows}):
        out.append(Refusal(TABLE, "level", Message("config.level_in_use", {"key": level})))
    return out


# Early-warning thresholds (SPEC §6): each a rate from 0 to 1 (volume growth up to 10); the satisfaction of each
# dimension warns below its own (default: its baseline); the complaint rate is complaints per 10,000 policies in
# force, off while empty.
SATISFACTION_DIMENSIONS = ("process", "attitude", "efficiency", "result")
WARNING_KEYS = ("warning.satisfaction_min", *(f"warning.satisfaction_min.{d}" for d in SATISFACTION_DIMENSIONS),
                "warning.overdue_rate_max", "warning.repeat_rate_max", "warning.volume_growth_max",
                "warning.complaint_rate_max")
OPTIONAL_WARNINGS = ("warning.complaint_rate_max",)
PER_POLICIES_LIMIT = Decimal(10000)       # complaints per 10,000 policies: at most one per policy
# The seed's satisfaction baselines (004 §1.2): the targets the rates are shown against, each a rate 0..1.
BASELINE_KEYS = tuple(f"satisfaction.baseline.{d}" for d in ("overall", *SATISFACTION_DIMENSIONS))


def _decimal(value: object) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return Decimal("NaN")
    return number


def validate_warnings(rows: list[dict]) -> list[Refusal]:
    out: list[Refusal] = []
    keys = [row.get("key") for row in rows]
    if sorted(map(str, keys)) != sorted(WARNING_KEYS):
        out.append(Refusal(TABLE, "key", Message("config.fixed_keys")))
    for index, row in enumerate(rows):
        raw = row.get("value")
        if row.get("key") in OPTIONAL_WARNINGS:
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                continue                                   # empty: this warning is off
            value = _decimal(raw)
            if not value.is_finite() or not 0 <= value <= PER_POLICIES_LIMIT:
                out.append(Refusal(index, "value", Message("config.per_policies_range",
                                                           {"high": f"{PER_POLICIES_LIMIT:f}"})))
            continue
        value = _decimal(raw)
        limit = Decimal(10) if row.get("key") == "warning.volume_growth_max" else Decimal(1)
        if not value.is_finite() or not 0 <= value <= limit:
            out.append(Refusal(index, "value", Message("config.rate_range", {"high": str(limit)})))
    return out


def validate_baselines(rows: list[dict]) -> list[Refusal]:
    """Each baseline once, a rate from 0 to 1."""
    out: list[Refusal] = []
    if sorted(str(row.get("key")) for row in rows) != sorted(BASELINE_KEYS):
        out.append(Refusal(TABLE, "key", Message("config.fixed_keys")))
    for index, row in enumerate(rows):
        value = _decimal(row.get("value"))
        if not value.is_finite() or not 0 <= value <= 1:
            out.append(Refusal(index, "value", Message("config.rate_range", {"high": "1"})))
    return out


# -- the cause taxonomy (001 总结; 004 §5.3.2) and the quality checklist (002 art.11.2(3)) --

CAUSE_CODE = re.compile(r"[a-z][a-z0-9_]{1,19}(\.[a-z][a-z0-9_]{1,19})?")


def validate_causes(rows: list[dict], *, existing: set[str], in_use: set[str]) -> list[Refusal]:
    """Causes: two levels, a class (`people`) and its sub-causes (`people.attitude`). Each code once; a
    sub-cause's class is in the table, and an active sub-cause's class is active; names in both languages.
    A code in use (chosen by a report, a closure, a summary or a rectification item) is never removed or
    renamed: it is made inactive instead. Some sub-cause stays active (else nothing can be chosen)."""
    out: list[Refusal] = []
    seen: dict[str, int] = {}
    for index, row in enumerate(rows):
        code = row.get("code")
        if not isinstance(code, str) or not CAUSE_CODE.fullmatch(code):
            out.append(Refusal(index, "code", Message("config.cause.bad_code")))
            continue
        if code in seen:
            out.append(Refusal(index, "code", Message("config.duplicate_code", {"code": code, "row": seen[code] + 1})))
        seen.setdefault(code, index)
    classes = {row["code"]: row for row in rows if isinstance(row.get("code"), str) and "." not in row["code"]}
    for index, row in enumerate(rows):
        _name(row, "name_zh", 60, index, out)
        _name(row, "name_en", 60, index, out)
        active = _flag(row, "active", index, out)
        _whole(row, "sort", index, out)
        code = row.get("code")
        if not isinstance(code, str) or "." not in code:
            continue
        parent = classes.get(code.split(".", 1)[0])
        if parent is None:
            out.append(Refusal(index, "code", Message("config.cause.no_class", {"code": code})))
        elif active and parent.get("active") is not True:
            out.append(Refusal(index, "active", Message("config.cause.class_inactive", {"code": code})))
    codes = {row.get("code") for row in rows}
    for code in sorted((existing & in_use) - codes):
        out.append(Refusal(TABLE, "code", Message("config.cause.in_use", {"code": code})))
    for code in sorted(existing - in_use - codes):
        if any(isinstance(c, str) and c.startswith(code + ".") for c in codes):
            out.append(Refusal(TABLE, "code", Message("config.cause.class_has_subs", {"code": code})))
    if not any(row.get("active") is True and "." in str(row.get("code")) for row in rows):
        out.append(Refusal(TABLE, "active", Message("config.none_active")))
    return out


def validate_checklist(rows: list[dict], *, existing: set[str]) -> list[Refusal]:
    """质量检验 checklist: a code, the point in both languages, active, order. A point is never removed (the
    checks made keep their answers to it): it is made inactive instead; one must stay active."""
    out: list[Refusal] = []
    _codes(rows, "code", out)
    for index, row in enumerate(rows):
        _name(row, "text_zh", 200, index, out)
        _name(row, "text_en", 200, index, out)
        _flag(row, "active", index, out)
        _whole(row, "sort", index, out)
    codes = {row.get("code") for row in rows}
    for code in sorted(existing - codes):
        out.append(Refusal(TABLE, "code", Message("config.never_delete", {"code": code})))
    if not any(row.get("active") is True for row in rows):
        out.append(Refusal(TABLE, "active", Message("config.none_active")))
    return out


MONTH = re.compile(r"(\d{4})-(\d{2})")
MAX_POLICIES = 1_000_000_000


def validate_policies_in_force(rows: list[dict], *, existing: set[str]) -> list[Refusal]:
    """The monthly number of policies in force (used for the complaint rate where no policy register is kept):
    a month YYYY-MM once, a whole number from 0. A month entered is corrected, never removed."""
    out: list[Refusal] = []
    seen: dict[str, int] = {}
    for index, row in enumerate(rows):
        period = row.get("period")
        match = MONTH.fullmatch(period.strip()) if isinstance(period, str) else None
        if match is None or not 1 <= int(match.group(2)) <= 12 or not 2000 <= int(match.group(1)) <= 2100:
            out.append(Refusal(index, "period", Message("config.bad_month")))
        else:
            period = period.strip()
            if period in seen:
                out.append(Refusal(index, "period", Message("config.duplicate_code",
                                                            {"code": period, "row": seen[period] + 1})))
            seen.setdefault(period, index)
        _whole(row, "count", index, out, low=0, high=MAX_POLICIES)
    for period in sorted(existing - set(seen)):
        out.append(Refusal(TABLE, "period", Message("config.never_delete", {"code": period})))
    return out


# Business parameters (SPEC §8): each key's kind and range. The upload limit cannot exceed what the
# server accepts (`server.maxUploadSize` = 10 MB in .streamlit/config.toml).
PARAMETERS: dict[str, tuple[str, Decimal, Decimal]] = {
    "badge.due_soon_fraction": ("number", Decimal("0.01"), Decimal("0.99")),
    "major.amount_threshold": ("number", Decimal(0), Decimal("1e12")),
    "major.joint_complainants": ("whole", Decimal(2), Decimal(100000)),
    "major.flag_media": ("whole", Decimal(0), Decimal(1)),
    "major.flag_regulator": ("whole", Decimal(0), Decimal(1)),
    "major.flag_litigation": ("whole", Decimal(0), Decimal(1)),
    "major.flag_deaths": ("whole", Decimal(0), Decimal(1)),
    "major.flag_association": ("whole", Decimal(0), Decimal(1)),
    "assignment.flag_hours": ("whole", Decimal(1), Decimal(720)),
    "attachments.max_mb": ("number", Decimal("0.1"), Decimal(10)),
    "attachments.max_files": ("whole", Decimal(1), Decimal(50)),
    "follow_up.dissatisfied_max": ("whole", Decimal(1), Decimal(4)),
    "follow_up.second_visit_days": ("whole", Decimal(1), Decimal(365)),     # issue 18: the second visit
    "rectification.effect_days": ("whole", Decimal(1), Decimal(365)),      # effect confirmed after completion
    "stats.satisfied_min_score": ("whole", Decimal(1), Decimal(5)),
    "stats.compile_day": ("whole", Decimal(1), Decimal(28)),
    "reminders.late_inquiry_window_days": ("whole", Decimal(1), Decimal(3650)),
    "register.duplicate_window_days": ("whole", Decimal(0), Decimal(3650)),
    "auth.lockout_failures": ("whole", Decimal(3), Decimal(100)),
    "auth.address_lockout_failures": ("whole", Decimal(5), Decimal(1000)),
    "auth.lockout_minutes": ("whole", Decimal(1), Decimal(1440)),
    "auth.session_hours": ("whole", Decimal(1), Decimal(168)),
    # the notices outbox (SPEC §11): SMS quiet hours, attempts and backoff, the sending lease (which must
    # outlast one attempt: a transport gives up on a server after 30 seconds)
    "notices.quiet_start_hour": ("whole", Decimal(0), Decimal(23)),
    "notices.quiet_end_hour": ("whole", Decimal(0), Decimal(23)),
    "notices.max_attempts": ("whole", Decimal(1), Decimal(50)),
    "notices.retry_minutes": ("whole", Decimal(1), Decimal(1440)),
    "notices.retry_max_minutes": ("whole", Decimal(1), Decimal(10080)),
    "notices.lease_minutes": ("whole", Decimal(2), Decimal(1440)),
}


def validate_parameters(rows: list[dict], spec: dict[str, tuple[str, Decimal, Decimal]] = PARAMETERS
                        ) -> list[Refusal]:
    """Each of `spec`'s keys once, its value a number of its kind in its range (an `amount` has at most two
    decimals)."""
    out: list[Refusal] = []
    if sorted(str(row.get("key")) for row in rows) != sorted(spec):
        out.append(Refusal(TABLE, "key", Message("config.fixed_keys")))
        return out
    for index, row in enumerate(rows):
        kind, low, high = spec[row["key"]]
        try:
            value = Decimal(str(row.get("value")).strip())
        except InvalidOperation:
            value = Decimal("NaN")
        if value.is_finite() and low <= value <= high and kind == "amount" \
                and value != value.quantize(Decimal("0.01")):
            out.append(Refusal(index, "value", Message("config.cents")))
        elif not value.is_finite() or not low <= value <= high or (kind == "whole" and value != value.to_integral()):
            key = "config.whole_number" if kind == "whole" else "config.number_range"
            out.append(Refusal(index, "value", Message(key, {"low": f"{low.normalize():f}",
                                                            "high": f"{high.normalize():f}"})))
    return out


# -- clock rules (SPEC §4, §8) --

CLOCK_TARGET_LIMITS = {"hours": 8760, "days": 366, "working_days": 250}   # at most about a year


def validate_clocks(rows: list[dict], *, current: dict[str, dict], today: date) -> list[Refusal]:
    """时限规则: for each clock its unit, target, start and stop events, its own 临期 percentage (empty:
    the portal's) and the date the change takes effect (empty: at once; never before today, so a case
    already received keeps its rule). A clock must stop after it starts on the process (else it never
    stops); the regulator's clock keeps the regulation's events and calendar days (CBIRC 2020 No.3
    art.18, 43). `current`: key → the clock's nature (`regulatory`)."""
    out: list[Refusal] = []
    known = {m.value for m in Milestone}
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            out.append(Refusal(index, "key", Message("form.bad_value")))
            continue
        # Only text can name a unit, an event or a clock: anything else is refused, never looked up.
        unit, start, stop, key = (v if isinstance(v, str) else None for v in (
            row.get("unit"), row.get("start_milestone"), row.get("stop_milestone"), row.get("key")))
        target = None
        if unit not in CLOCK_TARGET_LIMITS:
            out.append(Refusal(index, "unit", Message("form.bad_value")))
        else:
            target = _whole(row, "target", index, out, low=1, high=CLOCK_TARGET_LIMITS[unit])
        for field, value in (("start_milestone", start), ("stop_milestone", stop)):
            if value not in known:
                out.append(Refusal(index, field, Message("form.bad_value")))
        if start in known and stop in known and Milestone(stop) not in stops_after(Milestone(start)):
            out.append(Refusal(index, "stop_milestone", Message("config.clock.never_stops",
                                                                {"start": start, "stop": stop})))
        if row.get("due_soon_percent") is not None:
            _whole(row, "due_soon_percent", index, out, low=1, high=99)
        effective = row.get("effective_date")
        if effective is not None and (not isinstance(effective, date) or isinstance(effective, datetime)):
            out.append(Refusal(index, "effective_date", Message("config.clock.bad_date")))
        elif effective is not None and effective < today:
            out.append(Refusal(index, "effective_date", Message("config.clock.past_date")))
        if not (current.get(key) or {}).get("regulatory"):
            continue
        if unit != "days" or start != Milestone.RECEIVED.value or stop != Milestone.DECISION_TOLD.value:
            out.append(Refusal(index, "unit", Message("config.clock.regulatory_fixed")))
        elif target is not None and target > DECISION_DAYS:
            out.append(Refusal(index, "target", Message("config.clock.regulatory_limit", {"days": DECISION_DAYS})))
    return out


# -- a year's calendar set by an administrator (SPEC §4: years the package does not cover yet) --

def validate_year_days(year: int, rows: list[dict]) -> list[Refusal]:
    """The days of `year` that differ from the ordinary week (Monday–Friday worked): holidays off,
    with their name, and weekend days worked in exchange (调休上班), with their reason. Each day once,
    inside the year; a day listed as what it ordinarily is (a weekday worked) is not an exception."""
    out: list[Refusal] = []
    seen: dict[date, int] = {}
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            out.append(Refusal(index, "day", Message("form.bad_value")))
            continue
        day = row.get("day")
        if isinstance(day, datetime):
            day = day.date()
        if not isinstance(day, date):
            out.append(Refusal(index, "day", Message("form.required")))
            continue
        if day.year != year:
            out.append(Refusal(index, "day", Message("config.calendar.other_year", {"year": year})))
            continue
        if day in seen:
            out.append(Refusal(index, "day", Message("config.calendar.duplicate_day",
                                                     {"day": day.isoformat(), "row": seen[day] + 1})))
        seen.setdefault(day, index)
        working = _flag(row, "is_working", index, out)
        _name(row, "note", 100, index, out)
        if working and day.weekday() < 5:
            out.append(Refusal(index, "is_working", Message("config.calendar.ordinary", {"day": day.isoformat()})))
    return out
