"""The policy register's rules (保单登记簿, issue 17): what a policy row and a person on it must be, as the
import and the edit check them, and who sees a policy's personal data. Plain functions: the risk list and
the masking table they are checked against are rows an administrator edits."""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from portal.domain.aftersales import LimitUnit
from portal.domain.errors import Message
from portal.domain.privacy import MaskingTable, PersonalField, Visibility
from portal.domain.roles import Role
from portal.domain.text import clean_code, clean_text
from portal.domain.validation import MOBILE, id_number_is_valid, parse_amount

ROLES = ("policyholder", "insured", "beneficiary")       # 投保人 / 被保险人 / 受益人
# Policies belong to no department: what the masking table shows "on the own department's cases" is shown
# to users of the desk's departments (市场部, 运营部) and masked for everyone else.
DESK_DEPARTMENTS = frozenset({"marketing", "operations"})
POLICY_COLUMNS = ("policy_number", "insurer", "product_code", "product_name", "claim_limit", "claim_limit_unit",
                  "sum_insured", "start_date", "end_date", "risks")
PERSON_COLUMNS = ("role", "name", "id_number", "phone")
PERSON_FIELDS = frozenset({PersonalField.NAME, PersonalField.ID_NUMBER, PersonalField.PHONE})
MAX_LIMIT = {LimitUnit.DAYS: 36_500, LimitUnit.YEARS: 100}
_LENGTHS = {"policy_number": 40, "insurer": 100, "product_code": 40, "product_name": 100, "name": 60}
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-/]*$")
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$|^(\d{4})(\d{2})(\d{2})$")
_RISK_SEPARATORS = re.compile(r"[;,、|；，\s]+")


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


def shown_fields(table: MaskingTable, roles: Iterable[Role | str], department_code: str | None
                 ) -> frozenset[PersonalField]:
    """The personal fields of a policy a reader sees: those the table shows them, and those it shows "on
    the own department's cases" when they work in one of the desk's departments."""
    roles = list(roles)
    out = set()
    for personal in (*PERSON_FIELDS, PersonalField.POLICY_NUMBER):
        seen = table.visibility(roles, personal)
        if seen is Visibility.SHOWN or (seen is Visibility.OWN_DEPARTMENT and department_code in DESK_DEPARTMENTS):
            out.add(personal)
    return frozenset(out)


# -- a whole file, as the import checks it ------------------------------------------------------------


@dataclass(frozen=True)
class RowRefusal:
    """Why one cell of the file was refused: its line (None: the file as a whole), column and sheet."""

    row: int | None
    column: str
    message: Message
    sheet: str = ""


def _where(row: Mapping, column: str) -> tuple[int | None, str]:
    """The line a column of a row came from: a policy's column of a joined two-sheet row is on the policies
    sheet."""
    if column in POLICY_COLUMNS and column != "policy_number" and "policy_row" in row:
        return row.get("policy_row"), str(row.get("policy_sheet") or "")
    return row.get("row"), str(row.get("sheet") or "")


_ORDER = {c: i for i, c in enumerate(POLICY_COLUMNS + PERSON_COLUMNS)}


def _column_order(column: str) -> int:
    return _ORDER.get(column, -1)


def check_rows(rows: Sequence[Mapping[str, Any]], *, risks: set[str], known_products: set[str], today: date
               ) -> tuple[dict[str, dict], dict[str, tuple[dict, Mapping]], list[RowRefusal]]:
    """A file's rows (one per person, the policy's fields repeated) checked as a whole: each row by
    `check_policy` and `check_person`; the rows of one policy agreeing on its fields, each person on it once,
    at least one insured person; the rows of one product agreeing on its name and claim limit, a new product
    named. Returns the policies (number → fields, first row, persons), the products (code → what the file
    states of it, first row) and the refusals — each cell once, in the file's order."""
    refused: list[RowRefusal] = []

    def refuse(row: Mapping, column: str, message: Message) -> None:
        line, sheet = _where(row, column)
        refused.append(RowRefusal(line, column, message, sheet))

    policies: dict[str, dict] = {}            # policy number → its fields, first row, persons
    products: dict[str, tuple[dict, Mapping]] = {}
    for row in rows:
        if "policy_row" in row and row.get("policy_row") is None:
            refuse(row, "policy_number", Message("policies.file.not_on_policies_sheet"))
            continue
        fields, errors = check_policy(row, risks=risks, product_name_required=False)
        person, person_errors = check_person(row, today=today)
        code = fields["product_code"]
        if code and code not in known_products and not fields["product_name"] and "product_name" not in errors:
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
    refused = list({(r.sheet, r.row, r.column): r for r in reversed(refused)}.values())
    refused.sort(key=lambda r: (r.sheet, r.row if r.row is not None else -1, _column_order(r.column)))
    return policies, products, refused
