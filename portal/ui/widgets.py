"""Widgets and table formatting shared by the pages. User text is always shown as text."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from portal.domain.errors import Message
from portal.i18n.format import badge_text, fmt_time
from portal.services.rules import Choice, ClockInfo
from portal.ui.context import lang, say, t
from portal.ui.navigation import BY_KEY


def field_error(errors: dict[str, Message], name: str) -> None:
    if name in errors:
        st.error(say(errors[name]), icon="⚠️")


def labels(choices: list[Choice]) -> dict[str, str]:
    return {c.code: c.label(lang()) for c in choices}


def case_label(number: str | None, complaint_id: int) -> str:
    return number if isinstance(number, str) and number else t("case.unnumbered", id=complaint_id)


def cases_table(frame: pd.DataFrame, clocks: list[ClockInfo], *, categories: dict[str, str],
                departments: dict[str, str], with_due: bool = True) -> pd.DataFrame:
    """Display columns for a slice of a ledger frame: labels, badges and due times per clock."""
    out = pd.DataFrame({
        t("field.number"): [case_label(n, i) for n, i in zip(frame["number"], frame["id"])],
        t("field.state"): [t(f"state.{s}") for s in frame["state"]],
        t("field.severity"): [t(f"severity.{s}") for s in frame["severity"]],
        t("field.customer"): frame["customer_name"].astype(str),
        t("field.category"): [categories.get(c, c) for c in frame["category"]],
        t("field.departments"): ["、".join(departments.get(d, d) for d in ds) for ds in frame["departments"]],
        t("field.received"): [fmt_time(v.to_pydatetime()) for v in frame["received_at"]],
    })
    for info in clocks:
        key, name = info.rule.key, info.label(lang())
        out[name] = [badge_text(code, lang()) for code in frame[f"{key}_badge"]]
        if with_due:
            out[t("ledger.due", clock=name)] = [
                fmt_time(pd.Timestamp(v).to_pydatetime()) if not pd.isna(v) else "—"
                for v in frame[f"{key}_due"]]
    return out


def open_case(reference: str) -> None:
    """Go to the case page showing this case (by number, or internal id before numbering)."""
    st.switch_page(BY_KEY["case"].path, query_params={"case": reference})
