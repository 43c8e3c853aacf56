"""Reading a policy file an administrator uploads (保单登记簿的导入文件): CSV (UTF-8 with or without BOM, or
GB18030 as Chinese Excel saves it) or Excel (.xlsx): one sheet with one row per person, the policy's fields
repeated on each, or two sheets — policies (保单) and persons (人员) — joined by the policy number.

The adapter knows only how a file spells things (its headers in English or Chinese, 天/年, 投保人/被保险人/
受益人, Excel's dates and numbers); whether a row is acceptable is `services.policies.import_policies`' to say.
Each row comes back as a plain dict of the columns below (text, or a date Excel stored as one) with `row`, its
line in the file as a spreadsheet numbers it (the header is line 1), and `sheet`; a person joined from a
second sheet also carries `policy_row` and `policy_sheet`, the line of its policy (None: the policies sheet
has no such policy number).
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from datetime import date, datetime
from typing import Any

from portal.domain.errors import DomainError

POLICY_COLUMNS = ("policy_number", "insurer", "product_code", "product_name", "claim_limit", "claim_limit_unit",
                  "sum_insured", "start_date", "end_date", "risks")
PERSON_COLUMNS = ("role", "name", "id_number", "phone")
COLUMNS = POLICY_COLUMNS + PERSON_COLUMNS
REQUIRED_HEADERS = ("policy_number", "insurer", "product_code", "sum_insured", "start_date", "end_date", "risks")

# The headers a file may use for each column: the English key first, then the Chinese header of the template.
HEADERS: dict[str, tuple[str, ...]] = {
    "policy_number": ("policy_number", "保单号", "保单号码", "保单编号"),
    "insurer": ("insurer", "承保公司", "保险公司"),
    "product_code": ("product_code", "产品代码", "险种代码"),
    "product_name": ("product_name", "产品名称", "险种名称", "险种"),
    "claim_limit": ("claim_limit", "申请时效", "理赔时效"),
    "claim_limit_unit": ("claim_limit_unit", "时效单位"),
    "sum_insured": ("sum_insured", "保险金额", "保额"),
    "start_date": ("start_date", "起保日期", "生效日期"),
    "end_date": ("end_date", "终止日期", "满期日期", "终保日期"),
    "risks": ("risks", "保障风险", "承保风险", "风险代码"),
    "role": ("role", "角色", "人员角色"),
    "name": ("name", "姓名"),
    "id_number": ("id_number", "身份证号", "身份证号码", "证件号码"),
    "phone": ("phone", "电话", "手机", "联系电话", "手机号"),
}
TEMPLATE_HEADERS = tuple(HEADERS[c][1] for c in COLUMNS)
# How a file may spell a value: the stored key, or its Chinese word.
ROLE_WORDS = {"投保人": "policyholder", "被保险人": "insured", "被保人": "insured", "受益人": "beneficiary"}
UNIT_WORDS = {"天": "days", "日": "days", "年": "years", "day": "days", "year": "years"}
POLICY_SHEETS = ("policies", "保单")
PERSON_SHEETS = ("persons", "人员")
MAX_BYTES = 20 * 1024 * 1024


class PolicyFileRefused(DomainError):
    """The file cannot be read as a policy file at all (its encoding, its sheets, its headers); `missing`:
    the columns (keys) a sheet lacks, for the page to name in the reader's language."""

    def __init__(self, key: str, missing: tuple[str, ...] = (), **params: Any) -> None:
        super().__init__(key, **params)
        self.missing = missing


def _header_key(text: object) -> str:
    return re.sub(r"[\s_\-（）()*]", "", unicodedata.normalize("NFKC", str(text or "")).lstrip("\ufeff")).lower()


_BY_HEADER = {_header_key(name): column for column, names in HEADERS.items() for name in names}


def _cell(value: Any) -> Any:
    """A cell as text, or a date: Excel's datetimes at midnight are dates, its whole numbers have no `.0`."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date() if value.time() == datetime.min.time() else value
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int):
        return str(value)
    return str(value)


def _spelled(column: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    text = value.strip()
    if column == "role":
        return ROLE_WORDS.get(text, text.lower())
    if column == "claim_limit_unit":
        return UNIT_WORDS.get(text.lower(), text.lower())
    return text


def _table(rows: list[list[Any]], sheet: str, wanted: tuple[str, ...]) -> list[dict]:
    """Rows of one table (its first non-empty row the headers) as dicts of the known columns."""
    lines = [(number, row) for number, row in enumerate(rows, start=1) if any(str(_cell(v)).strip() for v in row)]
    if not lines:
        raise PolicyFileRefused("policies.file.empty")
    header_line, header = lines[0]
    columns = {index: _BY_HEADER.get(_header_key(name)) for index, name in enumerate(header)}
    found = {c for c in columns.values() if c}
    missing = [c for c in wanted if c not in found]
    if missing:
        raise PolicyFileRefused("policies.file.missing_columns", tuple(missing), columns=", ".join(missing),
                                sheet=sheet)
    out = []
    for number, row in lines[1:]:
        values: dict[str, Any] = {c: "" for c in COLUMNS}
        for index, value in enumerate(row):
            column = columns.get(index)
            if column:
                values[column] = _spelled(column, _cell(value))
        out.append({**values, "row": number, "sheet": sheet})
    return out


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise PolicyFileRefused("policies.file.unreadable")


def read_csv(data: bytes) -> list[dict]:
    text = _decode(data)
    # the separator is the header line's (a cell of risks may hold semicolons on every line)
    header = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = max(",;\t", key=header.count)
    return _table(list(csv.reader(io.StringIO(text), delimiter=delimiter)), "", REQUIRED_HEADERS + ("role", "name"))


def _sheet(book, names: tuple[str, ...]):  # noqa: ANN001, ANN202
    for sheet in book.worksheets:
        if _header_key(sheet.title) in {_header_key(n) for n in names}:
            return sheet
    return None


def read_excel(data: bytes) -> list[dict]:
    from openpyxl import load_workbook
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001 - any reason the workbook cannot be opened is the same to the user
        raise PolicyFileRefused("policies.file.unreadable") from error
    try:
        policies, persons = _sheet(book, POLICY_SHEETS), _sheet(book, PERSON_SHEETS)
        if policies is not None and persons is not None:
            return _joined(_table([list(r) for r in policies.iter_rows(values_only=True)], policies.title,
                                  REQUIRED_HEADERS),
                           _table([list(r) for r in persons.iter_rows(values_only=True)], persons.title,
                                  ("policy_number", "role", "name")))
        first = book.worksheets[0] if book.worksheets else None
        if first is None:
            raise PolicyFileRefused("policies.file.empty")
        return _table([list(r) for r in first.iter_rows(values_only=True)], first.title,
                      REQUIRED_HEADERS + ("role", "name"))
    finally:
        book.close()


def _joined(policies: list[dict], persons: list[dict]) -> list[dict]:
    """One row per person with its policy's fields; a policy without persons gives one row of its own
    (no person: the import says it has no insured person); a person whose policy number is not on the
    policies sheet keeps `policy_row` None."""
    by_number: dict[str, dict] = {}
    for policy in policies:
        by_number.setdefault(_key(policy["policy_number"]), policy)
    out, used = [], set()
    for person in persons:
        policy = by_number.get(_key(person["policy_number"]))
        row = {c: (policy or {}).get(c, "") for c in POLICY_COLUMNS}
        row.update({c: person[c] for c in PERSON_COLUMNS}, policy_number=person["policy_number"],
                   row=person["row"], sheet=person["sheet"],
                   policy_row=policy["row"] if policy else None, policy_sheet=policy["sheet"] if policy else "")
        if policy is not None:
            used.add(id(policy))
        out.append(row)
    for policy in policies:
        if id(policy) not in used:
            out.append({**policy, **{c: "" for c in PERSON_COLUMNS}, "policy_row": policy["row"],
                        "policy_sheet": policy["sheet"]})
    return out


def _key(value: Any) -> str:
    return "".join(unicodedata.normalize("NFKC", str(value or "")).split())


def read_policy_file(filename: str, data: bytes) -> list[dict]:
    """The rows of an uploaded file, by its extension: .csv, or .xlsx."""
    if len(data) > MAX_BYTES:
        raise PolicyFileRefused("policies.file.too_big", max_mb=MAX_BYTES // (1024 * 1024))
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension == "csv":
        return read_csv(data)
    if extension in ("xlsx", "xlsm"):
        return read_excel(data)
    raise PolicyFileRefused("policies.file.bad_type")


def template_csv() -> bytes:
    """An empty file with the template's headers (Chinese, UTF-8 with BOM so Excel opens it as such)."""
    out = io.StringIO()
    csv.writer(out).writerow(TEMPLATE_HEADERS)
    return ("\ufeff" + out.getvalue()).encode("utf-8")
