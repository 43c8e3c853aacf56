"""统计分析: the monthly complaint statistics table, live charts, early warnings and exports;
the GM office compiles the month's table here (due by the 10th of the next month)."""
from __future__ import annotations

from datetime import date

import streamlit as st

from portal.domain.errors import DomainError
from portal.domain.roles import Role
from portal.domain.statistics import Period
from portal.domain.validation import SEVERITIES
from portal.i18n.format import fmt_time
from portal.services import exports, statistics
from portal.ui import charts
from portal.ui.auth import require_page
from portal.ui.context import lang, now, reference, say, t, uow
from portal.ui.widgets import labels, show_notice

actor = require_page("statistics")
st.title(t("stats.title"))
show_notice()
ref = reference()
categories, channels = labels(ref.categories), labels(ref.channels)
departments = labels(ref.investigating)


def percent(value) -> str:  # noqa: ANN001
    return "—" if value is None else f"{value:.1%}"


def warning_text(item: dict, key: str = "stats.warning") -> str:
    return t(key, indicator=t(f"stats.rate.{item['indicator']}"), value=percent(item["value"]),
             threshold=percent(item["threshold"]), period=item["period"])


# -- the period and the filters --
today = now().date()
kind = st.radio(t("stats.period_kind"), ["month", "range"], horizontal=True,
                format_func=lambda v: t(f"stats.period.{v}"), key="stats_kind")
if kind == "month":
    months = [Period.month(today.year, today.month)]
    while len(months) < 36:
        months.append(months[-1].previous())
    period = st.selectbox(t("stats.month"), months, format_func=lambda p: p.label, key="stats_month")
else:
    chosen = st.date_input(t("stats.range"), value=(date(today.year, today.month, 1), today), key="stats_range",
                           format="YYYY-MM-DD")
    if not isinstance(chosen, (tuple, list)) or len(chosen) != 2:
        st.info(t("stats.range_incomplete"))
        st.stop()
    period = Period(min(chosen), max(chosen))
left, mid, right, far = st.columns(4)
any_of = lambda names: (lambda v: t("stats.any") if v is None else names[v])  # noqa: E731
department = left.selectbox(t("stats.filter.department"), [None, *departments], format_func=any_of(departments),
                            key="stats_department")
category = mid.selectbox(t("stats.filter.category"), [None, *categories], format_func=any_of(categories),
                         key="stats_category")
channel = right.selectbox(t("stats.filter.channel"), [None, *channels], format_func=any_of(channels),
                          key="stats_channel")
severity = far.selectbox(t("stats.filter.severity"), [None, *SEVERITIES],
                         format_func=lambda v: t("stats.any") if v is None else t(f"severity.{v}"), key="stats_severity")
filters = statistics.StatsFilter(period, department=department, category=category, channel=channel, severity=severity)


@st.fragment(run_every=60)
def live_figures() -> None:
    """Recomputed every minute without reloading the page (the wall screen stays current)."""
    moment = now()
    figures = statistics.monthly_table(uow(), actor=actor, filters=filters, now=moment)
    names = exports.names(uow(), lang())
    st.caption(t("stats.computed_at", at=f"{moment:%Y-%m-%d %H:%M:%S}") + " · " + t("stats.as_of", at=figures["as_of"]))
    for item in figures["warnings"]:
        st.warning(warning_text(item))
    if not figures["warnings"]:
        st.success(t("stats.warnings_none"))
    summary, rates = figures["summary"], figures["rates"]
    row = st.columns(6)
    for column, key in zip(row, ("received", "accepted", "closed", "closed_on_time", "overdue_open", "repeats")):
        column.metric(t(f"stats.summary.{key}"), summary[key])
    row = st.columns(6)
    for column, key in zip(row, ("on_time_rate", "overdue_rate", "repeat_rate", "satisfaction", "volume_growth",
                                 "rectification_rate")):
        column.metric(t(f"stats.rate.{key}"), percent(rates[key]))
    row = st.columns(4)
    for column, key in zip(row, ("reminders", "late_inquiries", "surveys", "open_at_end")):
        column.metric(t(f"stats.summary.{key}"), summary[key])
    drawn = charts.build(figures, names, lang())
    for first, second in zip(drawn[::2], drawn[1::2]):
        for column, chart in zip(st.columns(2), (first, second)):
            with column:
                st.subheader(chart.title)
                numbers = chart.data.select_dtypes("number")
                if chart.data.empty or numbers.empty or not numbers.notna().any().any() or not numbers.fillna(0).any().any():
                    st.info(t("stats.no_data"))      # an empty chart would draw axes labelled "NaN"
                else:
                    st.altair_chart(chart.chart, width="stretch")
                with st.expander(t("stats.numbers")):
                    st.dataframe(chart.data, hide_index=True, width="stretch")
    stamp = figures["period"]["label"].replace(" ", "")
    left, right = st.columns(2)
    left.download_button(t("stats.download_excel"), key="stats_xlsx", file_name=f"complaint-statistics-{stamp}.xlsx",
                         mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                         data=lambda: exports.statistics_workbook(uow(), actor=actor, figures=figures, lang=lang(),
                                                                  now=now()), on_click="ignore")
    right.download_button(t("stats.download_csv"), key="stats_csv", file_name=f"complaint-statistics-{stamp}.csv",
                          mime="text/csv", on_click="ignore",
                          data=lambda: exports.statistics_csv(uow(), actor=actor, figures=figures, lang=lang()))


live_figures()

# -- compiling the month (GM office) and the compiled tables --
st.divider()
clock = statistics.compile_clock(uow(), now=now())
clock_month = clock.month
st.subheader(t("stats.compile.section", day=clock.compile_day))
st.write(t("stats.compile.status", month=clock_month, status=t(f"stats.compile_status.{clock.status.value}"),
           due=fmt_time(clock.due)))
if actor.has(Role.GM_OFFICE) and clock.snapshot is None:
    if st.button(t("stats.compile.button", month=clock_month), type="primary", key="stats_compile"):
        try:
            statistics.compile_month(uow(), actor=actor, month=clock_month, now=now())
        except DomainError as refused:
            st.error(say(refused.message))
        else:
            st.session_state["notice"] = t("stats.compile.done", month=clock_month)
            st.rerun()
compiled = statistics.snapshots(uow(), actor=actor)
with st.expander(t("stats.compile.list"), expanded=False):
    if not compiled:
        st.info(t("stats.compile.none"))
    for item in compiled:
        st.text(t("stats.compile.compiled_by", month=item.period, at=f"{item.compiled_at:%Y-%m-%d %H:%M}",
                  name=item.compiled_by))
        st.download_button(
            t("stats.compile.download", month=item.period), key=f"snapshot_{item.period}", on_click="ignore",
            file_name=f"complaint-statistics-{item.period}-compiled.xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            data=lambda item=item: exports.statistics_workbook(uow(), actor=actor, figures=item.figures, lang=lang(),
                                                               now=now(), compiled=(item.compiled_at, item.compiled_by)))
