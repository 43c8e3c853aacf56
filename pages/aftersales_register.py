"""售后登记簿: the register of the desk's requests (the ledger idea for claim reports, applications, surrenders
and endorsements): filters, counts and one page at a time in SQL, the Excel file of what the filters match,
and each request one click away on its own page."""
from __future__ import annotations

from urllib.parse import quote

import streamlit as st

from portal.domain.aftersales import RequestKind, RequestState
from portal.domain.privacy import PersonalField
from portal.services import aftersales_queries, desk_exports
from portal.ui.auth import require_page
from portal.ui.context import lang, now, t, uow
from portal.ui.desk_actions import lists_of, requests_table
from portal.ui.navigation import BY_KEY
from portal.ui.widgets import DATE_FORMAT, date_label, page_of, pager

actor = require_page("desk_register")
st.title(t("desk.register.title"))
st.caption(t("desk.register.caption"))

with st.expander(t("desk.register.filters"), expanded=True):
    by_policy = PersonalField.POLICY_NUMBER in aftersales_queries.searchable_fields(uow(), actor=actor)
    text = st.text_input(t("desk.register.text" if by_policy else "desk.register.text_number_only"),
                         key="register_text")
    left, mid, right = st.columns(3)
    kind = left.selectbox(t("desk.register.kind"), [None, *[k.value for k in RequestKind]], key="register_kind",
                          format_func=lambda v: t("desk.register.any") if v is None else t(f"desk.kind.{v}"))
    states = mid.multiselect(t("desk.register.states"), [s.value for s in RequestState], key="register_states",
                             placeholder=t("widget.choose"), format_func=lambda v: t(f"desk.state.{v}"))
    badge = right.selectbox(t("desk.register.badge"), [None, "overdue", "due_soon", "calendar_missing"],
                            key="register_badge",
                            format_func=lambda v: t("desk.register.any") if v is None else t(f"desk.badge.{v}"))
    left, mid, right = st.columns(3)
    open_only = left.checkbox(t("desk.register.open_only"), key="register_open")
    received_from = mid.date_input(date_label("desk.register.from"), value=None, key="register_from",
                                   format=DATE_FORMAT)
    received_to = right.date_input(date_label("desk.register.to"), value=None, key="register_to", format=DATE_FORMAT)

filters = aftersales_queries.RequestFilter(kind=kind, states=states, open_only=open_only, text=text,
                                           received_from=received_from, received_to=received_to, badge=badge)
register = aftersales_queries.request_register(uow(), actor=actor, filters=filters, now=now(),
                                               page=page_of("register"))
st.metric(t("desk.register.total"), register.total)
st.download_button(t("desk.register.excel"), key="register_xlsx", on_click="ignore",
                   file_name=f"request-register-{now():%Y%m%d-%H%M}.xlsx",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                   data=lambda: desk_exports.register_workbook(uow(), actor=actor, filters=filters, now=now(),
                                                               lang=lang()))
if register.total == 0:
    st.info(t("desk.register.empty"))
    st.stop()
pager(register, key="register")
table = requests_table(register.frame, lists_of(str(uow().engine.url), lang()))
# each number opens its own page (受理记录)
number = t("desk.col.number")
table[number] = [f"/{BY_KEY['request'].key}?number={quote(str(n))}" for n in register.frame["number"]]
st.dataframe(table, hide_index=True, width="stretch",
             column_config={number: st.column_config.LinkColumn(number, display_text=r"number=(.*)$")})
