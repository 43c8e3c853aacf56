"""工作日历: a year at a glance (holidays, make-up working days, days not loaded), preloaded from the
official package; for a year the package does not cover yet the administrator enters its holidays and
make-up days as a table, and any single day can be set (an official one only when overriding)."""
from __future__ import annotations

from datetime import date, timedelta

import altair as alt
import pandas as pd
import streamlit as st

from portal.domain.errors import DomainError
from portal.i18n.format import day_note
from portal.services.calendar import calendar_version, calendar_year, set_calendar_day, set_year
from portal.ui.auth import require_page
from portal.ui.context import calendar, calendar_changed, lang, now, say, t, uow
from portal.ui.widgets import DATE_FORMAT, clear_notices, date_label, editor_basis, empty_cell, show_notice, table_save

KIND_COLOURS = {"workday": "#e3ecf5", "weekend": "#b0bec5", "holiday": "#d62728", "makeup": "#ff7f0e",
                "unknown": "#ffffff"}

actor = require_page("admin_calendar")
st.title(t("admin.calendar.title"))
show_notice("calendar_notice")
cal = calendar()
years = cal.years()
st.caption(t("admin.calendar.years", years=f"{years[0]}–{years[-1]}" if years else "—"))

today = now().date()
choices = list(range(min([*years, today.year]), max([*years, today.year]) + 2))
year = st.selectbox(t("admin.calendar.year"), choices, index=choices.index(today.year), key="calendar_year",
                    format_func=lambda y: t("admin.calendar.year_label", year=y))
loaded = {row["day"]: row for row in calendar_year(uow(), year=year)}
official = any(row["source"] == "package" for row in loaded.values())


def kind_of(day: date) -> str:
    return loaded[day]["kind"] if day in loaded else "unknown"


days = [date(year, 1, 1) + timedelta(days=i) for i in range((date(year + 1, 1, 1) - date(year, 1, 1)).days)]
kinds = [kind_of(d) for d in days]
st.text(t("admin.calendar.official" if official else "admin.calendar.by_admin" if loaded
          else "admin.calendar.not_loaded", year=year))
figures = st.columns(5)
for column, kind in zip(figures, ("workday", "weekend", "holiday", "makeup", "unknown")):
    column.metric(t(f"admin.calendar.count.{kind}"), kinds.count(kind))

# The year view: twelve month grids, one square a day, coloured by what the day is.
frame = pd.DataFrame({
    "date": [f"{d:%Y-%m-%d}" for d in days],
    "month": [t("admin.calendar.month_label", month=d.month) for d in days],
    "week": [(d.day + date(d.year, d.month, 1).weekday() - 1) // 7 for d in days],
    "weekday": [t(f"weekday.short.{d.weekday()}") for d in days],
    "day": [d.day for d in days],
    "kind": [t(f"admin.calendar.kind.{k}") for k in kinds],
    "note": [day_note(loaded[d]["note"], lang()) if d in loaded else "" for d in days],
})
weekdays = [t(f"weekday.short.{i}") for i in range(7)]
colour = alt.Color("kind:N", title=t("admin.calendar.kind"),
                   scale=alt.Scale(domain=[t(f"admin.calendar.kind.{k}") for k in KIND_COLOURS],
                                   range=list(KIND_COLOURS.values())),
                   legend=alt.Legend(orient="bottom"))
tooltip = [alt.Tooltip("date:N", title=t("admin.calendar.day")), alt.Tooltip("kind:N", title=t("admin.calendar.kind")),
           alt.Tooltip("note:N", title=t("admin.calendar.note_short"))]
base = alt.Chart().encode(x=alt.X("weekday:N", sort=weekdays, title=None, axis=alt.Axis(orient="top", labelAngle=0)),
                          y=alt.Y("week:O", title=None, axis=None))
grid = alt.layer(base.mark_rect(stroke="#90a4ae", strokeWidth=0.5).encode(color=colour, tooltip=tooltip),
                 base.mark_text(fontSize=9).encode(text="day:Q", tooltip=tooltip), data=frame)
chart = grid.properties(width=170, height=110).facet(
    facet=alt.Facet("month:N", sort=[t("admin.calendar.month_label", month=m) for m in range(1, 13)],
                    title=None, header=alt.Header(labelFontSize=13, labelFontWeight="bold")),
    columns=4).configure_view(stroke=None)
st.altair_chart(chart, key="calendar_chart")

special = [d for d in days if d in loaded and loaded[d]["kind"] in ("holiday", "makeup")]
st.subheader(t("admin.calendar.special", year=year))
if special:
    st.dataframe(pd.DataFrame({
        t("admin.calendar.day"): [f"{d:%Y-%m-%d} {t(f'weekday.{d.weekday()}')}" for d in special],
        t("admin.calendar.kind"): [t(f"admin.calendar.kind.{loaded[d]['kind']}") for d in special],
        t("admin.calendar.note_short"): [day_note(loaded[d]["note"], lang()) for d in special],
        t("admin.calendar.source"): [t(f"admin.calendar.source.{loaded[d]['source']}") for d in special],
    }), hide_index=True, width="stretch")
else:
    st.info(t("admin.calendar.no_special"))

if not official:
    # A year the official package does not cover: its holidays and make-up working days as one table.
    st.subheader(t("admin.calendar.set_year", year=year))
    st.caption(t("admin.calendar.set_year_help"))
    current = pd.DataFrame({"day": pd.Series(pd.to_datetime(special), dtype="datetime64[ns]"),
                            "is_working": pd.Series([loaded[d]["is_working"] for d in special], dtype=bool),
                            "note": pd.Series([loaded[d]["note"] for d in special], dtype="object")})
    basis = editor_basis(f"calendar_year_editor_{year}", lambda: calendar_version(uow(), actor=actor))
    edited = st.data_editor(current, key=f"calendar_year_editor_{year}", num_rows="dynamic", hide_index=True,
                            width="stretch", column_config={
                                "day": st.column_config.DateColumn(t("admin.calendar.day"), format="YYYY-MM-DD",
                                                                   min_value=date(year, 1, 1),
                                                                   max_value=date(year, 12, 31), width=160),
                                "is_working": st.column_config.CheckboxColumn(t("admin.calendar.is_working"),
                                                                              default=False, width=100),
                                "note": st.column_config.TextColumn(t("admin.calendar.note"), max_chars=100,
                                                                    width=400)})
    def save() -> int:
        rows = []
        for record in edited.to_dict("records"):
            row = {k: None if empty_cell(v) else v for k, v in record.items()}
            if isinstance(row.get("day"), (pd.Timestamp, str)):
                row["day"] = pd.Timestamp(row["day"]).date()
            row["is_working"] = bool(row.get("is_working"))
            if any(row.get(k) not in (None, "") for k in ("day", "note")):
                rows.append(row)
        return set_year(uow(), actor=actor, year=year, exceptions=rows, now=now(), basis=basis)

    table_save(save, label=t("admin.calendar.save_year", year=year), button_key="calendar_save_year",
               refusals_key="calendar_year_refusals", editor_key=f"calendar_year_editor_{year}",
               after=calendar_changed, notice="calendar_notice", column_prefix="admin.calendar.col",
               saved_text=lambda changed: t("admin.calendar.year_saved", year=year, count=changed))

st.subheader(t("admin.calendar.set"))
with st.form("set_day", enter_to_submit=False):
    picked: date = st.date_input(date_label("admin.calendar.day"), value=today, key="calendar_day", format=DATE_FORMAT)
    working = st.checkbox(t("admin.calendar.is_working"), key="calendar_working")
    note = st.text_input(t("admin.calendar.note"), max_chars=100, key="calendar_note")
    force = st.checkbox(t("admin.calendar.force"), key="calendar_force")
    if st.form_submit_button(t("admin.calendar.save"), type="primary"):
        clear_notices()
        try:
            set_calendar_day(uow(), actor=actor, day=picked, is_working=working, note=note, now=now(),
                             force=force)
        except DomainError as refused:
            st.error(say(refused.message))
        else:
            calendar_changed()
            st.session_state["calendar_notice"] = t("admin.calendar.saved", day=f"{picked:%Y-%m-%d}")
            st.rerun()
