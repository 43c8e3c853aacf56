"""Who sees customers' personal data (SPEC §2, issue 16), and how it is masked for everyone else.

The masking table: for each field of personal data and each audience (a role, or `export` for the
files the portal writes), one of three visibilities. Its rows are in the database (`masking_rules`,
edited in 系统配置); `DEFAULT_RULES` is what a new database is seeded with. A user with several roles
gets the most open visibility any of them has, field by field.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Iterable, Mapping

from portal.domain.errors import Message
from portal.domain.roles import Role


class Visibility(StrEnum):
    SHOWN = "shown"                       # 显示
    OWN_DEPARTMENT = "own_department"     # 仅本部门案件显示: cases routed to the user's department
    MASKED = "masked"                     # 脱敏


# From the most open to the most closed: the order in which several roles combine.
_OPENNESS = {Visibility.SHOWN: 2, Visibility.OWN_DEPARTMENT: 1, Visibility.MASKED: 0}


class PersonalField(StrEnum):
    NAME = "name"                   # customer's (and insured person's) name
    PHONE = "phone"
    ID_NUMBER = "id_number"
    ADDRESS = "address"
    EMAIL = "email"
    POLICY_NUMBER = "policy_number"


FIELDS = tuple(PersonalField)
EXPORT = "export"                   # the audience of exported files (the ledger's Excel and CSV)
AUDIENCES = (*[r.value for r in Role], EXPORT)

# The complaint's columns each field of the table governs.
COLUMNS: dict[str, PersonalField] = {
    "customer_name": PersonalField.NAME, "insured_name": PersonalField.NAME,
    "customer_phone": PersonalField.PHONE, "customer_id_number": PersonalField.ID_NUMBER,
    "customer_address": PersonalField.ADDRESS, "customer_email": PersonalField.EMAIL,
    "policy_number": PersonalField.POLICY_NUMBER,
}

_S, _D, _M = Visibility.SHOWN, Visibility.OWN_DEPARTMENT, Visibility.MASKED
# SPEC §1–§2: the people who talk to the customer or route the case see everything; handlers the data
# of their own department's cases; approvers who and which policy, not how to reach them; managers,
# administrators and trainers nothing; exported files hold who and which policy (as far as the exporting
# user sees them), never how to reach the customer (an administrator may ask for an unmasked export,
# which is audited).
DEFAULT_RULES: dict[str, dict[PersonalField, Visibility]] = {
    Role.INTAKE.value: dict.fromkeys(FIELDS, _S),
    Role.INTAKE_LEAD.value: dict.fromkeys(FIELDS, _S),
    Role.GM_OFFICE.value: dict.fromkeys(FIELDS, _S),
    Role.HANDLER.value: dict.fromkeys(FIELDS, _D),
    Role.DEPT_LEAD.value: dict.fromkeys(FIELDS, _D),
    Role.APPROVER.value: {**dict.fromkeys(FIELDS, _M), PersonalField.NAME: _S, PersonalField.POLICY_NUMBER: _S},
    Role.MANAGER.value: dict.fromkeys(FIELDS, _M),
    Role.ADMIN.value: dict.fromkeys(FIELDS, _M),
    Role.TRAINER.value: dict.fromkeys(FIELDS, _M),
    EXPORT: {**dict.fromkeys(FIELDS, _M), PersonalField.NAME: _S, PersonalField.POLICY_NUMBER: _S},
}


@dataclass(frozen=True)
class MaskingTable:
    """The rules as read from the database: audience → field → visibility. A missing cell is masked."""
    rules: Mapping[str, Mapping[PersonalField, Visibility]]

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, str]]) -> "MaskingTable":
        return cls({row["audience"]: {f: Visibility(row[f.value]) for f in FIELDS} for row in rows})

    def visibility(self, roles: Iterable[Role | str], field: PersonalField) -> Visibility:
        """The most open visibility any of the roles has for the field."""
        best = Visibility.MASKED
        for role in roles:
            seen = self.rules.get(str(role), {}).get(field, Visibility.MASKED)
            if _OPENNESS[seen] > _OPENNESS[best]:
                best = seen
        return best

    def shown_fields(self, roles: Iterable[Role | str], *, on_own_case: bool) -> frozenset[PersonalField]:
        """The fields a reader with these roles sees on one case; `on_own_case`: the case is routed to the
        reader's department (or the reader is in its working group)."""
        roles = list(roles)
        out = set()
        for field in FIELDS:
            seen = self.visibility(roles, field)
            if seen is Visibility.SHOWN or (seen is Visibility.OWN_DEPARTMENT and on_own_case):
                out.add(field)
        return frozenset(out)

    def searchable(self, roles: Iterable[Role | str], field: PersonalField) -> Visibility:
        """Whether a reader may look cases up by the field: everywhere (shown), only among their own
        department's cases, or not at all (masked) — a search never confirms a value it would mask."""
        return self.visibility(roles, field)

    def export_fields(self, roles: Iterable[Role | str], *, on_own_case: bool) -> frozenset[PersonalField]:
        """A file holds a field only where both the export row and the exporting user's own rules show it."""
        return (self.shown_fields(roles, on_own_case=on_own_case)
                & self.shown_fields([EXPORT], on_own_case=on_own_case))


DEFAULT_TABLE = MaskingTable(DEFAULT_RULES)


def default_rows() -> list[dict[str, str]]:
    """The seeded rows, one per audience."""
    return [{"audience": audience, **{f.value: v.value for f, v in DEFAULT_RULES[audience].items()}}
            for audience in AUDIENCES]


def validate_masking_rules(rows: list[dict]) -> list:
    """The whole table, as an administrator saves it: one row per audience, each cell one of the three
    visibilities. Returns the reasons to refuse (`portal.domain.configuration.Refusal`)."""
    from portal.domain.configuration import TABLE, Refusal
    out: list[Refusal] = []
    audiences = [row.get("audience") for row in rows]
    if sorted(str(a) for a in audiences) != sorted(AUDIENCES):
        out.append(Refusal(TABLE, "audience", Message("config.fixed_keys")))
    allowed = {v.value for v in Visibility}
    for index, row in enumerate(rows):
        for field in FIELDS:
            value = row.get(field.value)
            if not isinstance(value, str) or value.strip() not in allowed:
                out.append(Refusal(index, field.value, Message("masking.bad_visibility")))
    if not out:
        table = MaskingTable.from_rows([{**r, **{f.value: r[f.value].strip() for f in FIELDS}} for r in rows])
        for field in FIELDS:      # somebody must be able to reach the customer: the clerks who talk to them
            if table.visibility([Role.INTAKE, Role.INTAKE_LEAD, Role.GM_OFFICE], field) is not Visibility.SHOWN:
                out.append(Refusal(TABLE, field.value, Message("masking.nobody_sees")))
    return out


def mask_phone(value: str | None) -> str:
    if not value:
        return ""
    return value[:3] + "****" + value[-4:] if len(value) >= 8 else "****"


def mask_id_number(value: str | None) -> str:
    if not value:
        return ""
    return value[:4] + "*" * (len(value) - 8) + value[-4:] if len(value) > 8 else "****"


def mask_text(value: str | None, keep: int = 6) -> str:
    """Addresses and emails: keep the first few characters (city, district), hide the rest."""
    if not value:
        return ""
    return value[:keep] + "****" if len(value) > keep else "****"


def mask_name(value: str | None) -> str:
    """A name keeps its first character (the family name): 张** ."""
    if not value:
        return ""
    return value[0] + "*" * max(1, len(value) - 1)


def mask_policy_number(value: str | None) -> str:
    """A policy number keeps its last four characters."""
    if not value:
        return ""
    return "*" * max(4, len(value) - 4) + value[-4:] if len(value) > 6 else "****"


MASKS = {PersonalField.NAME: mask_name, PersonalField.PHONE: mask_phone, PersonalField.ID_NUMBER: mask_id_number,
         PersonalField.ADDRESS: mask_text, PersonalField.EMAIL: mask_text,
         PersonalField.POLICY_NUMBER: mask_policy_number}


def mask_value(column: str, value: object, shown: frozenset[PersonalField]) -> object:
    """The value of one complaint column as a reader who sees `shown` may read it."""
    field = COLUMNS.get(column)
    if field is None or field in shown or not isinstance(value, str):
        return value
    return MASKS[field](value)


def mask_record(record: Mapping[str, object], shown: frozenset[PersonalField]) -> dict:
    """A complaint's columns (or an event's changed fields) with every field the reader may not see masked."""
    return {k: mask_value(k, v, shown) for k, v in record.items()}


def may_see_personal_data(roles: Iterable[Role], department_id: int | None,
                          case_department_ids: Iterable[int], table: MaskingTable = DEFAULT_TABLE) -> bool:
    """Whether the reader sees every field of the case unmasked."""
    own = department_id is not None and department_id in set(case_department_ids)
    return table.shown_fields(roles, on_own_case=own) == frozenset(FIELDS)


_CASE_READERS = frozenset({Role.INTAKE, Role.INTAKE_LEAD, Role.GM_OFFICE, Role.APPROVER, Role.MANAGER})


def may_view_case(roles: Iterable[Role], department_id: int | None,
                  case_department_ids: Iterable[int]) -> bool:
    """Handlers read only cases routed to their department; admins and trainers read none."""
    roles = frozenset(roles)
    if roles & _CASE_READERS:
        return True
    return Role.HANDLER in roles and department_id is not None and department_id in set(case_department_ids)


def redact(text: object, record: Mapping[str, object], shown: frozenset[PersonalField]) -> object:
    """Free text about a case (a description, a contact's content, a notice's body) with each value of
    the case's personal data the reader may not see replaced by its masked form."""
    if not isinstance(text, str) or not text:
        return text
    for column, value in record.items():
        field = COLUMNS.get(column)
        if field is None or field in shown or not isinstance(value, str) or len(value.strip()) < 2:
            continue
        text = text.replace(value, MASKS[field](value))
    return text
