"""The service desk's section of the statistics page: requests by kind and month, the hand-over on time,
refusal reasons and surrender reasons — Altair charts with whole-number axes and the numbers one click away."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from portal.domain.aftersales import RequestKind
from portal.ui.charts import COUNT_AXIS, draw, enc
from portal.ui.context import t


def _bars(data: pd.DataFrame, x: str, y: str, colour: str | None = None) -> alt.Chart:
    encoding = {"x": enc(alt.X, f"{x}:N", sort=None, title=None),
                "y": enc(alt.Y, f"{y}:Q", title=t("stats.axis.count"), axis=alt.Axis(**COUNT_AXIS)),
                # Tooltip objects, not column names: Altair turns a bare name in the list into a channel through its
                # whole schema (7 ms a chart, against 0.1)
                "tooltip": [enc(alt.Tooltip, f"{x}:N"), enc(alt.Tooltip, f"{y}:Q", format="d"),
                            *([enc(alt.Tooltip, f"{colour}:N")] if colour else [])]}
    if colour:
        encoding["color"] = enc(alt.Color, f"{colour}:N", title=None)
    return alt.Chart(data).mark_bar().encode(**encoding)


def _show(title: str, help_text: str, data: pd.DataFrame, chart: alt.Chart, value_column: str) -> None:
    st.subheader(title, help=help_text)
    if data.empty or not data[value_column].fillna(0).any():
        st.info(t("stats.no_data"))
    else:
        draw(chart, width="stretch")
    with st.expander(t("stats.numbers")):
        st.dataframe(data, hide_index=True, width="stretch")


def desk_section(figures: dict, surrender_names: dict[str, str]) -> None:
    st.caption(t("desk.stats.caption", period=figures["period"]["label"]))
    handover = figures["handover"]
    left, mid, right, far, last = st.columns(5)
    left.metric(t("desk.stats.received"), figures["received"], help=t("desk.stats.help.received"))
    last.metric(t("desk.stats.reminders"), figures["reminders"], help=t("desk.stats.help.reminders"))
    rate = handover["rate"]
    mid.metric(t("desk.stats.handover_rate"), "—" if rate is None else f"{rate:.1%}",
               help=t("desk.stats.help.handover_rate"))
    right.metric(t("desk.stats.handover_late"), handover["late"], help=t("desk.stats.help.handover_late"))
    far.metric(t("desk.stats.handover_overdue"), handover["overdue_now"], help=t("desk.stats.help.handover_overdue"))
    kind, month, count = t("desk.stats.kind"), t("desk.stats.month"), t("stats.axis.count")
    by_kind = pd.DataFrame([{month: row["month"], kind: t(f"desk.kind.{k.value}"), count: row[k.value]}
                            for row in figures["by_kind"] for k in RequestKind], columns=[month, kind, count])
    reason = t("desk.stats.reason")
    refusals = pd.DataFrame([{reason: t(f"desk.stats.refusal.{code}"), count: n}
                             for code, n in figures["refusals"]["reasons"].items()], columns=[reason, count])
    surrenders = pd.DataFrame([{reason: surrender_names.get(code, code), count: n}
                               for code, n in sorted(figures["surrenders"].items(), key=lambda kv: -kv[1])],
                              columns=[reason, count])
    outcome = t("desk.stats.outcome")
    handed = pd.DataFrame([{outcome: t("desk.stats.on_time"), count: handover["on_time"]},
                           {outcome: t("desk.stats.late"), count: handover["late"]}], columns=[outcome, count])
    left, right = st.columns(2)
    with left:
        _show(t("desk.stats.by_kind"), t("desk.stats.help.by_kind"), by_kind, _bars(by_kind, month, count, kind), count)
    with right:
        _show(t("desk.stats.handover"), t("desk.stats.help.handover"), handed, _bars(handed, outcome, count), count)
    left, right = st.columns(2)
    with left:
        _show(t("desk.stats.refusals"), t("desk.stats.help.refusals", reports=figures["refusals"]["reports"]),
              refusals, _bars(refusals, reason, count), count)
    with right:
        _show(t("desk.stats.surrenders"), t("desk.stats.help.surrenders"), surrenders,
              _bars(surrenders, reason, count), count)
