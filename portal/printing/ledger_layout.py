"""The 客户抱怨案件登记追踪表 (002 art.13.3) columns in the seed's order, for the ledger page, its
CSV and its Excel workbook: number, 受理日期, customer, 保单号, 受理人, 内容摘要, departments, 责任归属,
结案日期, 处理结果, 催办次数, 满意度; then the state and each clock's badge and due time."""
from __future__ import annotations

from decimal import Decimal

import pandas as pd

from portal.i18n import translate
from portal.services.queries import SUMMARY_CHARS

SEED_COLUMNS = ("accepted_on", "policy_number", "acceptor", "summary", "responsibility", "closed_on", "result",
                "reminder_count", "satisfaction")


def _day(values: pd.Series) -> list[str]:
    return ["" if pd.isna(v) else f"{v:%Y-%m-%d}" for v in values]


def seed_columns(frame: pd.DataFrame, lang: str, departments: dict[str, str]) -> dict[str, list]:
    """The seed's columns for a ledger frame, labelled in `lang` (keys `ledger.col.<name>`)."""
    tr = lambda key, **kw: translate(key, lang, **kw)  # noqa: E731

    def responsibility(code, level) -> str:  # noqa: ANN001
        if not isinstance(code, str) or not code:
            return tr(f"resp.{level}") if isinstance(level, str) and level else ""
        name = departments.get(code, code)
        return f"{name}（{tr(f'resp.{level}')}）" if isinstance(level, str) and level else name

    def result(code, amount) -> str:  # noqa: ANN001
        if not isinstance(code, str) or not code:
            return ""
        text = tr(f"result.{code}")
        if amount is not None and not (isinstance(amount, float) and pd.isna(amount)):
            text += f" · {Decimal(str(amount)):,.2f}"
        return text

    def summary(text) -> str:  # noqa: ANN001
        text = "" if not isinstance(text, str) else " ".join(text.split())
        return text + "…" if len(text) >= SUMMARY_CHARS else text

    def score(value) -> str:  # noqa: ANN001
        return "" if value is None or pd.isna(value) else tr(f"survey.scale.{int(value)}")

    values = {
        "accepted_on": _day(frame["accepted_at"]),
        "policy_number": frame["policy_number"].astype(str).tolist(),
        "acceptor": [a if isinstance(a, str) else "" for a in frame["acceptor"]],
        "summary": [summary(s) for s in frame["summary"]],
        "responsibility": [responsibility(c, lv) for c, lv in zip(frame["responsible_department"],
                                                                  frame["responsibility_level"])],
        "closed_on": _day(frame["closed_at"]),
        "result": [result(c, a) for c, a in zip(frame["negotiation_result"], frame["negotiated_amount"])],
        "reminder_count": [0 if pd.isna(n) else int(n) for n in frame["reminder_count"]],
        "satisfaction": [score(v) for v in frame["satisfaction"]],
    }
    return {tr(f"ledger.col.{name}"): values[name] for name in SEED_COLUMNS}
