"""Pushed early warnings (004 ch.9) on a page: each raised warning with its state (raised when; answered by
whom, with what, when) and, for the GM office and managers, the form that records the response."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from portal.domain.roles import Role
from portal.domain.statistics import indicator_text
from portal.i18n.format import fmt_time
from portal.services import warning_alerts
from portal.ui.context import now, t, uow
from portal.ui.widgets import act, field_error, form_errors

FORM = "warning_response"


def alert_label(alert: warning_alerts.AlertView) -> str:
    return t("insight.warning.item", period=alert.period, indicator=t(f"stats.rate.{alert.indicator}"),
             value=indicator_text(alert.indicator, alert.value),
             threshold=indicator_text(alert.indicator, alert.threshold))


def warnings_panel(actor, *, key: str) -> None:  # noqa: ANN001
    """The raised warnings (unanswered first) as a table — the response is the responder's text, shown as
    data — and the response form for whoever may answer."""
    raised = warning_alerts.alerts(uow(), actor=actor)
    if not raised:
        st.info(t("insight.warning.none_raised"))
        return
    st.dataframe(pd.DataFrame({
        t("insight.warning.col.warning"): [alert_label(a) for a in raised],
        t("insight.warning.col.raised_at"): [fmt_time(a.raised_at) for a in raised],
        t("insight.warning.col.state"): [t("insight.warning.answered" if a.answered else "insight.warning.open")
                                         for a in raised],
        t("insight.warning.col.by"): [a.responded_by or "" for a in raised],
        t("insight.warning.col.at"): [fmt_time(a.responded_at) if a.responded_at else "" for a in raised],
        t("insight.warning.col.response"): [a.response for a in raised],
    }), hide_index=True, width="stretch")
    waiting = {a.id: a for a in raised if not a.answered}
    if not waiting or not actor.has(Role.GM_OFFICE, Role.MANAGER):
        return
    errors = form_errors(f"{FORM}_{key}")
    with st.form(f"{FORM}_{key}", enter_to_submit=False):
        chosen = st.selectbox(t("insight.warning.pick"), list(waiting), index=None, key=f"{FORM}_{key}_alert",
                              format_func=lambda i: alert_label(waiting[i]), placeholder=t("insight.warning.choose"))
        field_error(errors, "alert")
        response = st.text_area(t("insight.warning.response"), key=f"{FORM}_{key}_text")
        field_error(errors, "response")
        if st.form_submit_button(t("insight.warning.submit"), type="primary"):
            if chosen is None:
                from portal.domain.errors import Message
                st.session_state[f"errors_{FORM}_{key}"] = {"alert": Message("form.choose_one")}
                st.rerun()
            act(lambda: warning_alerts.respond_to_warning(uow(), actor=actor, alert_id=chosen, response=response,
                                                          now=now()),
                notice=t("insight.warning.recorded"), form=f"{FORM}_{key}")
