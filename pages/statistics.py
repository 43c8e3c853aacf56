"""统计分析: the monthly complaint statistics table, live charts, early warnings and exports;
the GM office compiles the month's table here (due by the 10th of the next month)."""
from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import streamlit as st

from portal.domain.errors import DomainError
from portal.domain.roles import Role
from portal.domain.statistics import Period, indicator_text
from portal.domain.statistics_drill import Drill, Figure
from portal.domain.validation import SEVERITIES
from portal.i18n.format import fmt_time
from portal.printing.statistics_tables import Names, percent
from portal.services import desk_statistics, exports, statistics
from portal.ui import charts
from portal.ui.desk_actions import lists_of
from portal.ui.desk_charts import desk_section
from portal.ui.auth import require_page
from portal.ui.navigation import BY_KEY
from portal.ui.context import lang, now, reference, say, t, uow
from portal.ui.warning_panel import warnings_panel
from portal.ui.widgets import DATE_FORMAT, clear_notices, date_label, labels, show_notice

actor = require_page("statistics")
st.title(t("stats.title"))
show_notice()
ref = reference()
categories, channels = labels(ref.categories), labels(ref.channels)
departments = labels(ref.investigating)


LEDGER = BY_KEY["ledger"].path
LISTED = {"received", "accepted", "closed", "closed_on_time", "overdue_open", "repeats", "open_at_end"}


def warning_text(item: dict, key: str = "stats.warning") -> str:
    return t(key, indicator=t(f"stats.rate.{item['indicator']}"), value=indicator_text(item["indicator"], item["value"]),
             threshold=indicator_text(item["indicator"], item["threshold"]), period=item["period"])


def growth_text(comparison: dict | None) -> str:
    """What 投诉量环比增长 compares, in words: a running month against the same days before it."""
    if comparison is None:
        return t("stats.growth.none")
    first, last = (datetime.fromisoformat(d).date() for d in comparison["previous"])
    if comparison["in_progress"]:
        through = datetime.fromisoformat(comparison["current"][1]).date()
        day = "%m-%d" if first.year == through.year else "%Y-%m-%d"
        return t("stats.growth.in_progress", through=f"{through:{day}}", first=f"{first:{day}}", last=f"{last:{day}}")
    return t("stats.growth.whole", previous=Period(first, last).label)


def drill_link(column, drill: Drill, label: str) -> None:  # noqa: ANN001
    """A link to the ledger listing exactly the cases a figure counted."""
    column.page_link(LEDGER, label=label, icon="📒", query_params=drill.params())


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
    chosen = st.date_input(date_label("stats.range"), value=(date(today.year, today.month, 1), today),
                           key="stats_range", format=DATE_FORMAT)
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


def loop_figures(figures: dict) -> None:
    """Issue 18's figures: rectification effectiveness, the complaint rate (and where the policies came
    from), and satisfaction beside the seed's baselines (004 §1.2)."""
    rates, summary = figures["rates"], figures["summary"]
    left, mid, right = st.columns(3)
    left.metric(t("stats.rate.rectification_effectiveness"), percent(rates.get("rectification_effectiveness")),
                help=t("insight.help.rectification_effectiveness"))
    left.caption(t("insight.rectification_counts", due=summary.get("rectifications_due", 0),
                   done=summary.get("rectifications_done", 0), confirmed=summary.get("effect_confirmations", 0),
                   effective=summary.get("effective", 0)))
    complaint_rate = rates.get("complaint_rate")
    mid.metric(t("stats.rate.complaint_rate"), "—" if complaint_rate is None else f"{complaint_rate:.2f}",
               help=t("insight.help.complaint_rate"))
    source = figures.get("policies_source", "none")
    mid.caption(t(f"insight.policies_source.{source}", n=summary.get("policies_in_force") or 0))
    baselines = [r for r in figures["satisfaction"] if r.get("baseline") is not None]
    right.markdown(f"**{t('insight.baselines_title')}**")
    right.dataframe(pd.DataFrame({
        t("stats.col.dimension"): [t(f"survey.{r['dimension']}") for r in baselines],
        t("stats.col.rate"): [percent(r["rate"]) for r in baselines],
        t("insight.col.baseline"): [percent(r["baseline"]) for r in baselines],
        t("insight.col.gap"): ["—" if r.get("gap") is None else f"{r['gap'] * 100:+.1f}" for r in baselines],
    }), hide_index=True, width="stretch")


@st.fragment(run_every=60)
def live_figures() -> Names:
    """Recomputed every minute without reloading the page (the wall screen stays current). Returns the
    display names it read, for the rest of this run (a rerun of the fragment alone reads its own)."""
    moment = now()
    figures = statistics.monthly_table(uow(), actor=actor, filters=filters, now=moment)
    names = exports.names(uow(), lang())
    st.caption(t("stats.computed_at", at=f"{moment:%Y-%m-%d %H:%M:%S}") + " · " + t("stats.as_of", at=figures["as_of"]))
    for item in figures["warnings"]:
        st.warning(warning_text(item))
    if not figures["warnings"]:
        st.success(t("stats.warnings_none"))
    summary, rates = figures["summary"], figures["rates"]
    base = {k: v for k, v in figures["filters"].items() if v}

    def counts(keys) -> None:  # noqa: ANN001
        for column, key in zip(st.columns(len(keys)), keys):
            column.metric(t(f"stats.summary.{key}"), summary[key], help=t(f"stats.help.{key}"))
            if key in LISTED and summary[key]:
                drill_link(column, Drill(Figure(key), filters.period, **base), t("stats.drill.metric_link"))

    counts(("received", "accepted", "closed", "closed_on_time", "overdue_open", "repeats"))
    row = st.columns(6)
    for column, key in zip(row, ("on_time_rate", "overdue_rate", "repeat_rate", "satisfaction", "volume_growth",
                                 "rectification_rate")):
        column.metric(t(f"stats.rate.{key}"), percent(rates[key]), help=t(f"stats.help.{key}"))
    comparison = figures["comparison"]
    row[4].caption(growth_text(comparison))
    if comparison is not None and summary["previous_received"]:
        previous = Period(*(datetime.fromisoformat(d).date() for d in comparison["previous"]))
        drill_link(row[4], Drill(Figure.RECEIVED, previous, **base), t("stats.drill.previous"))
    st.caption(t("stats.drill.rates_note"))
    loop_figures(figures)
    counts(("reminders", "late_inquiries", "surveys", "open_at_end"))
    st.caption(t("stats.drill.counts_note"))
    drawn = charts.build(figures, names, lang(), now=moment)
    for first, second in zip(drawn[::2], drawn[1::2]):
        for column, chart in zip(st.columns(2), (first, second)):
            with column:
                st.subheader(chart.title, help=chart.help)
                if chart.note:
                    st.caption(chart.note)
                numbers = chart.data.select_dtypes("number")
                if chart.data.empty or numbers.empty or not numbers.notna().any().any() or not numbers.fillna(0).any().any():
                    st.info(t("stats.no_data"))      # an empty chart would draw axes labelled "NaN"
                else:
                    charts.draw(chart.chart, width="stretch")
                if chart.drills:
                    choice = st.selectbox(t("stats.drill.pick"), range(len(chart.drills)), key=f"drill_{chart.key}",
                                          format_func=lambda i, chart=chart: chart.drills[i][0][0])
                    (_, n), drill = chart.drills[choice]
                    drill_link(st, drill, t("stats.drill.link", n=n))
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
    return names


names = live_figures()

# -- pushed early warnings (004 ch.9): their state, and the response of the GM office or a manager --
st.divider()
st.subheader(t("insight.warning.section"))
warnings_panel(actor, key="stats")

# -- the after-sales service desk (SPEC §12): the same period; the complaint filters do not apply --
st.divider()
st.header(t("desk.stats.section"))
desk_section(desk_statistics.desk_figures(uow(), actor=actor, period=filters.period, now=now()),
             lists_of(str(uow().engine.url), lang())["surrender_reason"])

# -- compiling the month (GM office) and the compiled tables --
st.divider()
clock = statistics.compile_clock(uow(), now=now())
clock_month = clock.month
st.subheader(t("stats.compile.section", day=clock.compile_day))
st.write(t("stats.compile.status", month=clock_month, status=t(f"stats.compile_status.{clock.status.value}"),
           due=fmt_time(clock.due)))
if clock.snapshot is None and actor.has(Role.GM_OFFICE, Role.MANAGER):
    # 月度检查 (002 art.13.9): who confirmed the month's ratios, who has not (listed, not blocking), open disputes
    from portal.services import monthly_review
    review = monthly_review.review_status(uow(), actor=actor, month=clock_month)
    department_names = names.departments
    if review.open_disputes:
        st.warning(t("review.compile_disputed", month=clock_month,
                     cases="、".join(sorted({d.number for d in review.open_disputes}))))
    for item in review.departments:
        st.text(t("review.compile_line", department=department_names.get(item.department, item.department),
                  cases=item.cases, status=t(f"review.status.{item.status}"),
                  by=f"{item.confirmed_by} {item.confirmed_at:%Y-%m-%d %H:%M}" if item.confirmed_at else "",
                  open=item.disputes_open, resolved=item.disputes_resolved))
    if review.unconfirmed:
        st.caption(t("review.unconfirmed", departments="、".join(department_names.get(d, d)
                                                                  for d in review.unconfirmed)))
    st.page_link(BY_KEY["monthly_review"].path, label=t("nav.monthly_review"), icon=BY_KEY["monthly_review"].icon)
if actor.has(Role.GM_OFFICE) and clock.snapshot is None:
    if st.button(t("stats.compile.button", month=clock_month), type="primary", key="stats_compile"):
        clear_notices()
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
