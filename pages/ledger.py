"""登记追踪表: every case with its state, departments, and every clock's badge and due time. Opened from
a statistics figure (``?figure=…&from=…&to=…``), it lists exactly the cases that figure counted."""
from __future__ import annotations

import streamlit as st

from portal.domain.errors import DomainError
from portal.domain.lifecycle import State
from portal.domain.roles import Role
from portal.domain.statistics_drill import Drill
from portal.services import case_search, exports, queries, statistics_drill
from portal.ui.auth import require_page
from portal.ui.context import calendar, lang, now, reference, say, t, uow
from portal.ui.navigation import BY_KEY
from portal.ui.widgets import DATE_FORMAT, date_label, case_links, cases_table, labels, page_of, pager

actor = require_page("ledger")
st.title(t("ledger.title"))
ref = reference()
categories, departments = labels(ref.categories), labels(ref.departments)

try:
    drill = Drill.from_params(st.query_params.to_dict())
except DomainError as refused:
    st.error(say(refused.message))
    st.page_link(BY_KEY["ledger"].path, label=t("ledger.drill.clear"), icon="📒")
    st.stop()

with st.expander(t("ledger.filters"), expanded=True):
    searched = case_search.ledger_search_fields(uow(), actor=actor)     # never a field the table masks
    text = st.text_input(t("ledger.search" if len(searched) == 3 else "ledger.search." + "_".join(searched)),
                         key="ledger_text")
    left, mid, right = st.columns(3)
    states = left.multiselect(t("ledger.states"), placeholder=t("widget.choose"), options=[s.value for s in State],
                              format_func=lambda v: t(f"state.{v}"), key="ledger_states")
    category = mid.selectbox(t("ledger.category"), [None, *categories], key="ledger_category",
                             format_func=lambda v: t("ledger.any") if v is None else categories[v])
    department = right.selectbox(t("ledger.department"), [None, *labels(ref.investigating)],
                                 key="ledger_department",
                                 format_func=lambda v: t("ledger.any") if v is None else departments[v])
    left, mid, right = st.columns(3)
    badge = left.selectbox(t("ledger.badge"), [None, "overdue", "due_soon", "paused", "calendar_missing"],
                           key="ledger_badge",
                           format_func=lambda v: t("ledger.any") if v is None else t(f"badge.filter.{v}"))
    received_from = mid.date_input(date_label("ledger.from"), value=None, key="ledger_from", format=DATE_FORMAT)
    received_to = right.date_input(date_label("ledger.to"), value=None, key="ledger_to", format=DATE_FORMAT)

filters = queries.LedgerFilter(states=states, category=category, department=department, text=text,
                               received_from=received_from, received_to=received_to, badge=badge)
if drill is None:
    ledger = queries.tracking_ledger(uow(), actor=actor, filters=filters, now=now(), calendar=calendar(),
                                     page=page_of("ledger"))
else:
    try:
        ledger = statistics_drill.drilled_ledger(uow(), actor=actor, drill=drill, filters=filters, now=now(),
                                                 calendar=calendar(), page=page_of("ledger"))
    except DomainError as refused:
        st.error(say(refused.message))
        st.page_link(BY_KEY["ledger"].path, label=t("ledger.drill.clear"), icon="📒")
        st.stop()
    figure, period, within = exports.describe_drill(drill, lang(), exports.names(uow(), lang()))
    st.info(t("ledger.drill.banner", figure=figure, period=period, filters=within))
    st.page_link(BY_KEY["ledger"].path, label=t("ledger.drill.clear"), icon="📒")
# a search that could match personal data is audited once per text searched (a rerun is not a new search)
if text.strip() and st.session_state.get("ledger_text_audited") != text:
    case_search.record_ledger_search(uow(), actor=actor, text=text, matches=ledger.total, now=now())
    st.session_state["ledger_text_audited"] = text
columns = st.columns(5)
for column, key in zip(columns, ("total", "open", "overdue", "due_soon", "calendar_missing")):
    column.metric(t(f"ledger.metric.{key}"), ledger.counts[key])

unmasked = actor.has(Role.ADMIN) and st.checkbox(t("stats.ledger_csv_unmasked"), key="ledger_unmasked")
left, right = st.columns(2)
left.download_button(t("ledger.excel_unmasked" if unmasked else "ledger.excel"), key="ledger_xlsx",
                     file_name=f"complaint-ledger-{now():%Y%m%d-%H%M}.xlsx", on_click="ignore",
                     mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     data=lambda: exports.ledger_workbook(uow(), actor=actor, filters=filters, now=now(),
                                                          calendar=calendar(), lang=lang(), unmasked=unmasked,
                                                          drill=drill))
right.download_button(t("stats.ledger_csv_unmasked_button" if unmasked else "stats.ledger_csv"), key="ledger_csv",
                      file_name=f"complaint-ledger-{now():%Y%m%d-%H%M}.csv", mime="text/csv", on_click="ignore",
                      data=lambda: exports.ledger_csv(uow(), actor=actor, filters=filters, now=now(),
                                                      calendar=calendar(), lang=lang(), unmasked=unmasked,
                                                      drill=drill))

if ledger.total == 0:
    st.info(t("ledger.empty"))
    st.stop()
table = cases_table(ledger.frame, ledger.clocks, categories=categories, departments=departments, seed=True)
# A column chooser keeps the table readable: the seed's columns and every clock's badge by default;
# the due times (and the severity and receipt time) are one choice away.
dues = {t("ledger.due", clock=c.label(lang())) for c in ledger.clocks}
default = [c for c in table.columns if c not in dues and c not in (t("field.severity"), t("field.received"))]
st.session_state.setdefault("ledger_columns", default)
chosen = st.multiselect(t("ledger.columns"), list(table.columns), key="ledger_columns",
                        placeholder=t("widget.choose"))
pager(ledger, key="ledger")
st.dataframe(table, hide_index=True, width="stretch", column_config=case_links(),
             column_order=[c for c in table.columns if c in chosen] or None)
