"""Parts of the 客户抱怨处理表 shown where a decision is made (what the accept, consolidation,
approval, review and closure forms need), and the whole form on the case page: full-text tables,
user text escaped for their Markdown cells."""
from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from portal.printing.form_sections import EMPTY, Section, handling_form_sections
from portal.ui.context import lang, reference, t
from portal.ui.literal import literal
from portal.ui.widgets import act, field_error, form_errors, labels, seen_version


def _names() -> dict[str, dict[str, str]]:
    ref = reference()
    return {"channel": labels(ref.channels), "category": labels(ref.categories), "department": labels(ref.departments)}


def show_section(section: Section, *, filled_only: bool = False) -> None:
    rows = [(label, value) for label, value in section.rows if not filled_only or value != EMPTY]
    if rows:
        st.table(pd.DataFrame([(literal(label), literal(value)) for label, value in rows], columns=["", " "]),
                 hide_index=True, hide_header=True)
    if section.grid:
        st.table(pd.DataFrame([{literal(k): literal(v) for k, v in row.items()} for row in section.grid]),
                 hide_index=True)


def sections(case) -> list[Section]:  # noqa: ANN001
    return handling_form_sections(case, lang=lang(), names=_names())


def decision_context(case, keys: tuple[str, ...], *, title: str | None = None) -> None:  # noqa: ANN001
    """The named sections of the case's form ("department" names every department's report), with
    only the fields that hold something: what this decision needs, beside its form."""
    st.markdown(f"**{literal(title or t('context.title'))}**")
    for section in sections(case):
        wanted = section.key in keys or (section.key.startswith("department.") and "department" in keys)
        if wanted:
            st.caption(literal(section.title))
            show_section(section, filled_only=True)


def whole_form(case) -> None:  # noqa: ANN001
    """Every field of the form in full, one folded section per step not reached yet."""
    for section in sections(case):
        filled = any(value != EMPTY for _, value in section.rows)
        with st.expander(literal(section.title), expanded=filled):
            show_section(section)


def instruction_form(case, *, shown: tuple[str, ...], text_key: str, button: str, notice: str,  # noqa: ANN001
                     write: Callable[[str, int], object]) -> None:
    """A 批示 of what a lead or the general manager is shown (the `shown` parts of the form): one text,
    written by `write(instruction, expected_version)` (the use case) and confirmed by `notice`."""
    decision_context(case, shown)
    form = f"instruct_{case.id}"
    errors = form_errors(form)
    with st.form(form, enter_to_submit=False):
        instruction = st.text_area(t("field.instruction"), key=f"{text_key}_{case.id}")
        field_error(errors, "instruction")
        if st.form_submit_button(button, type="primary"):
            act(lambda: write(instruction, seen_version(case)), notice=notice, form=form)
