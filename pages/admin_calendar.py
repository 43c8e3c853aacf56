"""工作日历: the official calendar as loaded, month by month; an administrator sets days for years
the package does not cover yet (e.g. next year's holidays once they are published)."""
from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from portal.domain.errors import DomainError
from portal.i18n.format import fmt_day
from portal.services.calendar import set_calendar_day
from portal.ui.auth import require_page
from portal.ui.context import calendar, calendar_changed, lang, now, say, t, uow

actor = require_page("admin_calendar")
st.title(t("admin.calendar.title"))
if "calendar_notice" in st.session_state:
    st.success(st.session_state.pop("calendar_notice"))
cal = calendar()
years = cal.years()
st.caption(t("admin.calendar.years", years=f"{years[0]}–{years[-1]}" if years else "—"))

today = now().date()
month = st.date_input(t("admin.calendar.month"), value=today.replace(day=1), key="calendar_month")
first = month.replace(day=1)
last = (first + timedelta(days=32)).replace(day=1)
rows = []
day = first
while day < last:
    info = cal.get(day)
    rows.append({t("admin.calendar.day"): fmt_day(info, lang()) if info else f"{day:%Y-%m-%d}",
                 t("admin.calendar.working"): (t("yes") if info.is_working else t("no")) if info
                 else t("admin.calendar.unknown")})
    day += timedelta(days=1)
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")

st.subheader(t("admin.calendar.set"))
with st.form("set_day", enter_to_submit=False):
    picked: date = st.date_input(t("admin.calendar.day"), value=today)
    working = st.checkbox(t("admin.calendar.is_working"), key="calendar_working")
    note = st.text_input(t("admin.calendar.note"), max_chars=100)
    force = st.checkbox(t("admin.calendar.force"), key="calendar_force")
    if st.form_submit_button(t("admin.calendar.save"), type="primary"):
        try:
            set_calendar_day(uow(), actor=actor, day=picked, is_working=working, note=note, now=now(),
                             force=force)
        except DomainError as refused:
            st.error(say(refused.message))
        else:
            calendar_changed()
            st.session_state["calendar_notice"] = t("admin.calendar.saved", day=f"{picked:%Y-%m-%d}")
            st.rerun()
