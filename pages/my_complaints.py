"""我的投诉: the cases this clerk registered, with state and every clock's badge."""
from __future__ import annotations

import streamlit as st

from portal.services import queries
from portal.ui.auth import require_page
from portal.ui.context import calendar, now, reference, t, uow
from portal.ui.widgets import case_label, case_links, cases_table, labels, open_case, page_of, pager

actor = require_page("my_complaints")
st.title(t("mine.title"))
ledger = queries.my_complaints(uow(), actor=actor, now=now(), calendar=calendar(), page=page_of("mine"))
ref = reference()
if ledger.frame.empty:
    st.info(t("mine.empty"))
    st.stop()

pager(ledger, key="mine")
table = cases_table(ledger.frame, ledger.clocks, categories=labels(ref.categories),
                    departments=labels(ref.departments), with_due=False)
st.dataframe(table, hide_index=True, width="stretch", column_config=case_links())

options = {case_label(n, i): (n if isinstance(n, str) else str(i))
           for n, i in zip(ledger.frame["number"], ledger.frame["id"])}
choice = st.selectbox(t("mine.open_case"), list(options), key="mine_case")
if st.button(t("case.open")):
    open_case(options[choice])
