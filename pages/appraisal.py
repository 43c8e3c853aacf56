"""人员考核: per-person figures for appraisal for a month or a date range — every member of staff sees their own,
managers and the GM office everyone's (or one person's); both tables download as Excel and CSV."""
from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from portal.domain.errors import DomainError, ValidationFailed
from portal.domain.statistics import Period
from portal.services import appraisal
from portal.ui.auth import require_page
from portal.ui.context import lang, now, say, t, uow
from portal.ui.widgets import DATE_FORMAT, date_label

actor = require_page("appraisal")
st.title(t("appraisal.title"))
everyone = actor.has(*appraisal.READERS)
st.caption(t("appraisal.intro_all") if everyone else t("appraisal.intro_own"))

# -- the period: a month, or any first..last day --
today = now().date()
kind = st.radio(t("appraisal.period_kind"), ["month", "range"], horizontal=True, key="appraisal_kind",
                format_func=lambda v: t(f"appraisal.kind.{v}"))
if kind == "month":
    months = [Period.month(today.year, today.month)]
    while len(months) < 36:
        months.append(months[-1].previous())
    period = st.selectbox(t("appraisal.month"), months, format_func=lambda p: p.label, key="appraisal_month")
else:
    chosen = st.date_input(date_label("appraisal.range"), value=(date(today.year, today.month, 1), today),
                           key="appraisal_range", format=DATE_FORMAT)
    if not isinstance(chosen, (tuple, list)) or len(chosen) != 2:
        st.info(t("appraisal.range_incomplete"))
        st.stop()
    period = Period(min(chosen), max(chosen))

try:
    figures = appraisal.person_figures(uow(), actor=actor, period=period)
except ValidationFailed as refused:
    for message in refused.errors.values():
        st.error(say(message))
    st.stop()
except DomainError as refused:
    st.error(say(refused.message))
    st.stop()

person_id = None
if everyone and len(figures.people) > 1:
    names = {p.user_id: p.name for p in figures.people}
    person_id = st.selectbox(t("appraisal.person"), [None, *names], key="appraisal_person",
                             format_func=lambda v: t("appraisal.everyone") if v is None else names[v])
    if person_id is not None:
        figures = appraisal.Appraisal(figures.period, [p for p in figures.people if p.user_id == person_id],
                                      figures.satisfied_min_score, figures.clock_names, figures.department_names)

built = appraisal.tables(figures, lang())
st.subheader(t("appraisal.table"), help=t("appraisal.help", min_score=figures.satisfied_min_score))
st.caption(t("appraisal.period_shown", period=figures.period.label))
st.dataframe(pd.DataFrame(appraisal.shown_rows(built.people, appraisal.PEOPLE_COLUMNS), columns=built.people_headers,
                          dtype=object), hide_index=True, width="stretch", key="appraisal_table")
st.subheader(t("appraisal.clocks"))
if built.clocks:
    st.dataframe(pd.DataFrame(appraisal.shown_rows(built.clocks, appraisal.CLOCK_COLUMNS),
                              columns=built.clock_headers, dtype=object),
                 hide_index=True, width="stretch", key="appraisal_clocks")
else:
    st.info(t("appraisal.no_clocks"))
with st.expander(t("appraisal.definitions")):
    st.markdown(t("appraisal.help", min_score=figures.satisfied_min_score))

stamp = figures.period.label.replace(" ", "")
left, right = st.columns(2)
left.download_button(t("appraisal.download_excel"), key="appraisal_xlsx", file_name=f"appraisal-{stamp}.xlsx",
                     mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", on_click="ignore",
                     data=lambda: appraisal.appraisal_workbook(uow(), actor=actor, period=period, now=now(),
                                                               lang=lang(), person_id=person_id))
right.download_button(t("appraisal.download_csv"), key="appraisal_csv", file_name=f"appraisal-{stamp}.csv",
                      mime="text/csv", on_click="ignore",
                      data=lambda: appraisal.appraisal_csv(uow(), actor=actor, period=period, now=now(), lang=lang(),
                                                           person_id=person_id))
