"""Altair charts of the statistics page. Each takes the figures (codes) and returns a chart with
Chinese (or English) labels and a tooltip, what it counts (`help`), which filter it ignores or why
its items cannot be listed (`note`), and the ledger view of each of its items (`drills`); the page
shows the numbers behind it one click away. Counts are whole numbers on every axis and legend."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import altair as alt
import pandas as pd

from portal.i18n import translate
from portal.printing.statistics_tables import Names
from portal.domain.statistics import AGE_BUCKETS, Period, ageing_in_order
from portal.domain.statistics_drill import Drill, Figure

STATUS_COLOURS = {"overdue": "#d62728", "due_soon": "#ff7f0e", "paused": "#9467bd", "on_track": "#2ca02c"}


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    chart: alt.Chart
    data: pd.DataFrame      # the numbers behind it, with translated headers
    help: str = ""          # what it counts
    note: str = ""          # the filter it ignores, or why its items are not a list of cases
    drills: list[tuple[tuple[str, int], Drill]] = field(default_factory=list)   # ((item, count), its cases)


COUNT_AXIS = {"tickMinStep": 1, "format": "d"}      # no 0.5 ticks on a count

# Altair checks each part of a chart against Vega-Lite's JSON schema as it is made (`alt.Axis(...)`, a mark): 12 ms
# of a statistics run. The whole spec of every chart the page draws is validated by the page test instead.
alt.utils.schemapi.disable_debug_mode()

_TYPES = {"N": "nominal", "Q": "quantitative", "O": "ordinal", "T": "temporal"}


def enc(channel, shorthand: str, **options):  # noqa: ANN001, ANN201
    """An encoding channel for "column:T" given as its field and type: Altair parses a shorthand string again at
    every draw (half of a chart's `to_dict`), a field and type it takes as they are. The same spec either way."""
    column, kind = shorthand.rsplit(":", 1)
    if "(" in column:                       # an aggregate ("sum(count)"): Altair's own parse
        return channel(shorthand, **options)
    return channel(field=column, type=_TYPES[kind], **options)


class _Spec:
    """What Streamlit's Altair converter asks of a chart (`to_dict()`), with Altair's validation chosen here."""

    def __init__(self, chart: alt.TopLevelMixin, validate: bool) -> None:
        self.chart, self.validate = chart, validate

    def to_dict(self) -> dict:
        return self.chart.to_dict(validate=self.validate)


def vega_lite(chart: alt.TopLevelMixin, *, validate: bool = False) -> dict:
    """The chart's Vega-Lite spec as `st.altair_chart` makes it (its data sent as Arrow, not turned into JSON
    values first), without Altair's JSON-schema validation, which `st.altair_chart` runs at every draw: it was a
    quarter of the statistics page's run (the page draws sixteen charts, each validated anew). The page test
    validates every chart the page draws instead (`tests/pages/test_statistics_page.py`)."""
    try:
        from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec
    except ImportError:             # another Streamlit: the plain spec (its data inline) still draws the same
        return chart.to_dict(validate=validate)
    return _convert_altair_to_vega_lite_spec(_Spec(chart, validate))


def draw(chart: alt.TopLevelMixin, **options) -> None:  # noqa: ANN003
    import streamlit as st
    st.vega_lite_chart(vega_lite(chart), **options)


def _count_axis() -> alt.Axis:
    return alt.Axis(**COUNT_AXIS)


def _base(figures: dict) -> tuple[Period, dict]:
    """The period and filters the figures were computed for (a drill repeats them)."""
    period = Period(date.fromisoformat(figures["period"]["first"]), date.fromisoformat(figures["period"]["last"]))
    return period, {k: v for k, v in figures["filters"].items() if v}


def _pct(lang: str) -> str:
    return translate("stats.axis.rate", lang)


def build(figures: dict, names: Names, lang: str, *, now: datetime) -> list[Chart]:
    tr = lambda key, **kw: translate(key, lang, **kw)  # noqa: E731
    count, rate_title = tr("stats.axis.count"), _pct(lang)
    charts: list[Chart] = []
    period, base = _base(figures)
    item = lambda what, n: (tr("stats.drill.item", what=what, n=n), n)  # noqa: E731

    # monthly trend: received / closed / closed late
    series = {k: tr(f"stats.series.{k}") for k in ("received", "closed", "closed_late")}
    trend = pd.DataFrame(figures["trend"], columns=["month", "received", "closed", "closed_late"])
    long = trend.melt("month", var_name="series", value_name="count")
    long["series"] = long["series"].map(series)
    month_t, series_t = tr("stats.axis.month"), tr("stats.axis.series")
    chart = alt.Chart(long).mark_line(point=True).encode(
        x=enc(alt.X, "month:N", title=month_t, sort=None),
        y=enc(alt.Y, "count:Q", title=count, axis=_count_axis()),
        color=enc(alt.Color, "series:N", title=series_t, sort=list(series.values())),
        tooltip=[enc(alt.Tooltip, "month:N", title=month_t), enc(alt.Tooltip, "series:N", title=series_t),
                 enc(alt.Tooltip, "count:Q", title=count, format="d")])
    figure_of = {"received": Figure.RECEIVED, "closed": Figure.TREND_CLOSED, "closed_late": Figure.TREND_CLOSED_LATE}
    drills = [(item(f"{row['month']} {series[k]}", row[k]), Drill(figure_of[k], Period.parse_month(row["month"]), **base))
              for row in reversed(figures["trend"]) for k in series if row[k]]
    charts.append(Chart("trend", tr("stats.chart.trend"), chart, trend.rename(columns={"month": month_t, **series}),
                        tr("stats.chart_help.trend"), tr("stats.chart_note.trend"), drills))

    # breakdowns by category and by channel
    for key, column, label in (("category", "category", names.categories), ("channel", "channel", names.channels)):
        rows = pd.DataFrame(figures[f"by_{key}"], columns=[column, "received", "closed", "closed_on_time"])
        rows[column] = rows[column].map(lambda v: label.get(v, v))
        header = tr(f"stats.col.{column}")
        received, closed = tr("stats.col.received"), tr("stats.col.closed")
        chart = alt.Chart(rows).mark_bar().encode(
            y=enc(alt.Y, f"{column}:N", title=header, sort="-x"),
            x=enc(alt.X, "received:Q", title=received, axis=_count_axis()),
            tooltip=[enc(alt.Tooltip, f"{column}:N", title=header), enc(alt.Tooltip, "received:Q", title=received, format="d"),
                     enc(alt.Tooltip, "closed:Q", title=closed, format="d"),
                     enc(alt.Tooltip, "closed_on_time:Q", title=tr("stats.col.closed_on_time"), format="d")])
        drills = [(item(label.get(row[column], row[column]), row["received"]),
                   Drill(Figure.RECEIVED, period, **{**base, column: row[column]}))
                  for row in sorted(figures[f"by_{key}"], key=lambda r: -r["received"]) if row["received"]]
        charts.append(Chart(key, tr(f"stats.chart.{key}"), chart, rows.rename(columns={
            column: header, "received": received, "closed": closed,
            "closed_on_time": tr("stats.col.closed_on_time")}), tr(f"stats.chart_help.{key}"), "", drills))

    # department × category heat map
    heat = pd.DataFrame(figures["department_category"], columns=["department", "category", "count"])
    heat["department"] = heat["department"].map(lambda v: names.departments.get(v, v))
    heat["category"] = heat["category"].map(lambda v: names.categories.get(v, v))
    dept_t, cat_t = tr("stats.col.department"), tr("stats.col.category")
    chart = alt.Chart(heat).mark_rect().encode(
        x=enc(alt.X, "category:N", title=cat_t), y=enc(alt.Y, "department:N", title=dept_t),
        color=enc(alt.Color, "count:Q", title=count, scale=alt.Scale(scheme="orangered"),
                        legend=alt.Legend(format="d", tickMinStep=1)),
        tooltip=[enc(alt.Tooltip, "department:N", title=dept_t), enc(alt.Tooltip, "category:N", title=cat_t),
                 enc(alt.Tooltip, "count:Q", title=count, format="d")])
    drills = [(item(f"{names.departments.get(r['department'], r['department'])} × "
                    f"{names.categories.get(r['category'], r['category'])}", r["count"]),
               Drill(Figure.RECEIVED, period, **{**base, "department": r["department"], "category": r["category"]}))
              for r in sorted(figures["department_category"], key=lambda r: -r["count"]) if r["count"]]
    charts.append(Chart("heat", tr("stats.chart.heat"), chart,
                        heat.rename(columns={"department": dept_t, "category": cat_t, "count": count}),
                        tr("stats.chart_help.heat"), "", drills))

    # SLA compliance per clock and per department
    clocks = pd.DataFrame(figures["clocks"], columns=["clock", "completed", "met", "late", "compliance"])
    clocks["clock"] = clocks["clock"].map(lambda v: names.clocks.get(v, v))
    clock_t = tr("stats.col.clock")
    chart = alt.Chart(clocks).mark_bar().encode(
        y=enc(alt.Y, "clock:N", title=clock_t, sort=None),
        x=enc(alt.X, "compliance:Q", title=rate_title, axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        tooltip=[enc(alt.Tooltip, "clock:N", title=clock_t), enc(alt.Tooltip, "compliance:Q", title=rate_title, format=".1%"),
                 enc(alt.Tooltip, "completed:Q", title=tr("stats.col.completed"), format="d"),
                 enc(alt.Tooltip, "late:Q", title=tr("stats.col.late"), format="d")])
    drills = []
    for row in figures["clocks"]:
        name = names.clocks.get(row["clock"], row["clock"])
        for figure, n, col in ((Figure.CLOCK_COMPLETED, row["completed"], "stats.col.completed"),
                               (Figure.CLOCK_LATE, row["late"], "stats.col.late")):
            if n:
                drills.append((item(f"{name} · {tr(col)}", n), Drill(figure, period, **base, key=row["clock"])))
    charts.append(Chart("sla_clock", tr("stats.chart.sla_clock"), chart, clocks.rename(columns={
        "clock": clock_t, "completed": tr("stats.col.completed"), "met": tr("stats.col.met"),
        "late": tr("stats.col.late"), "compliance": tr("stats.col.compliance")}), tr("stats.chart_help.sla_clock"),
        "", drills))
    departments = pd.DataFrame(figures["by_department"],
                               columns=["department", "clocks_completed", "clocks_met", "compliance"])
    departments["department"] = departments["department"].map(lambda v: names.departments.get(v, v))
    chart = alt.Chart(departments).mark_bar().encode(
        y=enc(alt.Y, "department:N", title=dept_t, sort=None),
        x=enc(alt.X, "compliance:Q", title=rate_title, axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        tooltip=[enc(alt.Tooltip, "department:N", title=dept_t),
                 enc(alt.Tooltip, "compliance:Q", title=rate_title, format=".1%"),
                 enc(alt.Tooltip, "clocks_completed:Q", title=tr("stats.col.clocks_completed"), format="d"),
                 enc(alt.Tooltip, "clocks_met:Q", title=tr("stats.col.clocks_met"), format="d")])
    charts.append(Chart("sla_department", tr("stats.chart.sla_department"), chart, departments.rename(columns={
        "department": dept_t, "clocks_completed": tr("stats.col.clocks_completed"),
        "clocks_met": tr("stats.col.clocks_met"), "compliance": tr("stats.col.compliance")}),
        tr("stats.chart_help.sla_department"), tr("stats.chart_note.sla_department")))

    # ageing of open cases, coloured by badge
    ageing = pd.DataFrame(ageing_in_order(figures["ageing"]), columns=["bucket", "status", "count"])
    order = [tr(f"stats.age.{name}") for name, _ in AGE_BUCKETS]
    statuses = list(STATUS_COLOURS)
    ageing["bucket"] = ageing["bucket"].map(lambda v: tr(f"stats.age.{v}"))
    ageing["status"] = ageing["status"].map(lambda v: tr(f"stats.status.{v}"))
    bucket_t, status_t = tr("stats.col.bucket"), tr("stats.col.status")
    chart = alt.Chart(ageing).mark_bar().encode(
        x=enc(alt.X, "bucket:N", title=bucket_t, sort=order),
        y=enc(alt.Y, "count:Q", title=count, stack=True, axis=_count_axis()),
        color=enc(alt.Color, "status:N", title=status_t,
                        scale=alt.Scale(domain=[tr(f"stats.status.{s}") for s in statuses],
                                        range=list(STATUS_COLOURS.values()))),
        tooltip=[enc(alt.Tooltip, "bucket:N", title=bucket_t), enc(alt.Tooltip, "status:N", title=status_t),
                 enc(alt.Tooltip, "count:Q", title=count, format="d")])
    age_item = lambda r: item(tr(f"stats.age.{r['bucket']}") + " · " + tr(f"stats.status.{r['status']}"), r["count"])  # noqa: E731
    drills = [(age_item(r),
               Drill(Figure.AGEING, period, **base, key=f"{r['bucket']}:{r['status']}"))
              for r in ageing_in_order(figures["ageing"]) if r["count"]]
    charts.append(Chart("ageing", tr("stats.chart.ageing"), chart,
                        ageing.rename(columns={"bucket": bucket_t, "status": status_t, "count": count}),
                        tr("stats.chart_help.ageing"), tr("stats.chart_note.ageing", at=f"{now:%Y-%m-%d %H:%M}"),
                        drills))

    # satisfaction per dimension beside its baseline (004 §1.2): a bar for the rate, a tick for the baseline
    satisfaction = pd.DataFrame(figures["satisfaction"], columns=["dimension", "surveys", "average", "rate",
                                                                  "baseline", "gap", "threshold"])
    satisfaction["dimension"] = satisfaction["dimension"].map(lambda v: tr(f"survey.{v}"))
    for column in ("average", "rate", "baseline", "gap", "threshold"):      # a missing figure is blank, not "None"
        satisfaction[column] = pd.to_numeric(satisfaction[column], errors="coerce").astype(float)
    dim_t, rate_t, baseline_t = tr("stats.col.dimension"), tr("stats.col.rate"), tr("insight.col.baseline")
    order = list(satisfaction["dimension"])
    tooltip = [enc(alt.Tooltip, "dimension:N", title=dim_t), enc(alt.Tooltip, "rate:Q", title=rate_t, format=".1%"),
               enc(alt.Tooltip, "baseline:Q", title=baseline_t, format=".0%"),
               enc(alt.Tooltip, "gap:Q", title=tr("insight.col.gap"), format="+.1%"),
               enc(alt.Tooltip, "average:Q", title=tr("stats.col.average"), format=".2f"),
               enc(alt.Tooltip, "surveys:Q", title=tr("stats.col.surveys"), format="d"),
               enc(alt.Tooltip, "threshold:Q", title=tr("stats.col.threshold"), format=".0%")]
    # the layers without data of their own and the data on the layer: `bars + ticks` with a frame each makes Altair
    # hash both frames to merge them (a fifth of the charts' build)
    bars = alt.Chart().mark_bar().encode(
        x=enc(alt.X, "dimension:N", title=dim_t, sort=order),
        y=enc(alt.Y, "rate:Q", title=rate_t, axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        tooltip=tooltip)
    ticks = alt.Chart().mark_tick(color="#d62728", thickness=3, size=40).encode(
        x=enc(alt.X, "dimension:N", sort=order), y=enc(alt.Y, "baseline:Q"), tooltip=tooltip)
    charts.append(Chart("satisfaction", tr("stats.chart.satisfaction"), alt.layer(bars, ticks, data=satisfaction),
                        satisfaction.rename(columns={
        "dimension": dim_t, "surveys": tr("stats.col.surveys"), "average": tr("stats.col.average"),
        "rate": rate_t, "baseline": baseline_t, "gap": tr("insight.col.gap"),
        "threshold": tr("stats.col.threshold")}),
        tr("stats.chart_help.satisfaction"),
        tr("stats.chart_note.satisfaction") + " " + tr("insight.chart_note.satisfaction")))

    charts.append(_causes_chart(figures, names, tr))
    charts.extend(_profile_charts(figures, tr))
    return charts


def _causes_chart(figures: dict, names: Names, tr) -> Chart:  # noqa: ANN001
    """Causes month by month: a stacked bar per month coloured by cause class, one panel per reporting
    department and one for the closures."""
    causes = getattr(names, "causes", {}) or {}
    rows = figures.get("causes") or []
    closure = tr("insight.causes.closure")
    frame = pd.DataFrame([{"month": r["month"],
                           "unit": closure if r["source"] == "closure" else
                           names.departments.get(r["department"], r["department"]),
                           "class": causes.get(r["class"], r["class"]), "cause": causes.get(r["cause"], r["cause"]),
                           "count": r["count"]} for r in rows], columns=["month", "unit", "class", "cause", "count"])
    month_t, unit_t, class_t, cause_t, count_t = (tr("stats.axis.month"), tr("insight.col.unit"),
                                                  tr("insight.col.cause_class"), tr("insight.col.cause"),
                                                  tr("stats.axis.count"))
    months = [r["month"] for r in figures.get("trend") or []]
    chart = alt.Chart(frame).mark_bar().encode(
        x=enc(alt.X, "month:N", title=month_t, sort=months or None),
        y=enc(alt.Y, "sum(count):Q", title=count_t, stack=True, axis=_count_axis()),
        color=enc(alt.Color, "class:N", title=class_t),
        tooltip=[enc(alt.Tooltip, "month:N", title=month_t), enc(alt.Tooltip, "unit:N", title=unit_t),
                 enc(alt.Tooltip, "class:N", title=class_t), enc(alt.Tooltip, "cause:N", title=cause_t),
                 enc(alt.Tooltip, "count:Q", title=count_t, format="d")],
    ).properties(width=220, height=160).facet(facet=enc(alt.Facet, "unit:N", title=unit_t), columns=2)
    return Chart("causes", tr("insight.chart.causes"), chart,
                 frame.rename(columns={"month": month_t, "unit": unit_t, "class": class_t, "cause": cause_t,
                                       "count": count_t}),
                 tr("insight.chart_help.causes"), tr("insight.chart_note.causes"))


def profile_label(kind: str, value: str, tr) -> str:  # noqa: ANN001
    """A profile value as read: gender and age band from the catalogue; an occupation as the customer gave it."""
    if value in ("unknown", "other"):
        return tr(f"insight.profile.{value}")
    if kind == "gender":
        return tr(f"gender.{value}")
    if kind == "age_band":
        return tr(f"age.{value}")
    return value


def _profile_charts(figures: dict, tr) -> list[Chart]:  # noqa: ANN001
    """Complainant profile: the period's complaints by gender, age band and occupation (counts only)."""
    out = []
    profile = figures.get("profile") or {}
    count_t = tr("stats.axis.count")
    for kind in ("gender", "age_band", "occupation"):
        label_t = tr(f"insight.profile.{kind}")
        frame = pd.DataFrame([{"value": profile_label(kind, r["value"], tr), "count": r["count"]}
                              for r in profile.get(kind, [])], columns=["value", "count"])
        chart = alt.Chart(frame).mark_bar().encode(
            y=enc(alt.Y, "value:N", title=label_t, sort="-x" if kind == "occupation" else None),
            x=enc(alt.X, "count:Q", title=count_t, axis=_count_axis()),
            tooltip=[enc(alt.Tooltip, "value:N", title=label_t), enc(alt.Tooltip, "count:Q", title=count_t, format="d")])
        out.append(Chart(f"profile_{kind}", tr(f"insight.chart.profile_{kind}"), chart,
                         frame.rename(columns={"value": label_t, "count": count_t}),
                         tr("insight.chart_help.profile"), tr("insight.chart_note.profile") if kind == "occupation"
                         else ""))
    return out
