"""我的案件: a person's own cases, each list in queue order (重大, urgency, nearest due time): the
complaints a clerk registered, the cases a department's lead assigned to a handler (000 §5), and the
cases whose working group the person leads or sits on (000 §8); with state and every clock's badge."""
from __future__ import annotations

import streamlit as st

from portal.domain.assignment import MEMBER_ROLES
from portal.domain.roles import Role
from portal.services import assignment, queries
from portal.ui.auth import require_page
from portal.ui.context import calendar, now, reference, t, uow
from portal.ui.widgets import case_label, case_links, cases_table, labels, open_case, page_of, pager

actor = require_page("my_complaints")
st.title(t("mine.title"))
ref = reference()


def case_list(ledger, *, key: str, empty: str) -> None:  # noqa: ANN001
    """One list of the page: its table (paged in SQL) and a case to open from it."""
    if ledger.frame.empty:
        st.info(t(empty))
        return
    pager(ledger, key=key)
    table = cases_table(ledger.frame, ledger.clocks, categories=labels(ref.categories),
                        departments=labels(ref.departments), with_due=False)
    st.dataframe(table, hide_index=True, width="stretch", column_config=case_links())
    options = {case_label(n, i): (n if isinstance(n, str) else str(i))
               for n, i in zip(ledger.frame["number"], ledger.frame["id"])}
    choice = st.selectbox(t("mine.open_case"), list(options), key=f"{key}_case")
    if st.button(t("case.open"), key=f"{key}_open"):
        open_case(options[choice])


if actor.has(Role.INTAKE, Role.INTAKE_LEAD):
    st.subheader(t("mine.registered"))
    open_only = st.toggle(t("mine.open_only"), value=True, key="mine_open_only")
    case_list(queries.my_complaints(uow(), actor=actor, now=now(), calendar=calendar(), page=page_of("mine"),
                                    open_only=open_only),
              key="mine", empty="mine.empty_open" if open_only else "mine.empty")
if actor.has(Role.HANDLER):
    st.subheader(t("mine.assigned"))
    case_list(assignment.assigned_to_me(uow(), actor=actor, now=now(), calendar=calendar(),
                                        page=page_of("mine_assigned")),
              key="mine_assigned", empty="mine.none_assigned")
if actor.has(*MEMBER_ROLES):
    st.subheader(t("mine.groups"))
    case_list(assignment.my_working_groups(uow(), actor=actor, now=now(), calendar=calendar(),
                                           page=page_of("mine_groups")),
              key="mine_groups", empty="mine.no_groups")
