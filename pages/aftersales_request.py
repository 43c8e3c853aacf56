"""受理记录: one request of the service desk by its number — its fields by group, its clock and badge, its
history and contacts — and its printable papers (the refusal notice, the prefilled 理赔申请书 or 批改申请单).
Personal data as the masking table shows it to the reader."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from portal.domain.aftersales import RequestKind, RequestState
from portal.domain.errors import NotFound, PermissionDenied
from portal.i18n.format import fmt_time, fmt_times
from portal.printing.form_sections import EMPTY
from portal.services import aftersales, aftersales_queries, desk_documents
from portal.ui.auth import require_page
from portal.ui.context import lang, now, say, t, uow
from portal.ui.form_panels import show_section
from portal.ui.literal import literal
from portal.ui.widgets import act, field_error, form_errors, show_notice

actor = require_page("request")
if not aftersales_queries.may_read(actor):          # a handler of a department the desk does not involve
    st.error(t("request.refused_department"))
    st.stop()
st.title(t("request.title"))
show_notice()
wanted = st.text_input(t("request.number"), value=st.query_params.get("number", ""), key="request_number")
if not wanted.strip():
    st.info(t("request.enter_number"))
    st.stop()
try:
    request_id = desk_documents.find_request_id(uow(), actor=actor, number=wanted, now=now())
    if request_id is None:
        raise NotFound("desk.not_found")
    record = desk_documents.request_record(uow(), actor=actor, request_id=request_id, now=now(), lang=lang())
except (NotFound, PermissionDenied) as refused:
    st.error(say(refused.message))
    st.stop()
request, view = record.view.request, record.view
st.query_params["number"] = request["number"]

st.header(t("request.header", kind=t(f"desk.kind.{request['kind']}"), number=request["number"],
            state=t(f"desk.state.{request['state']}")))

# the papers, built when clicked (not on every run)
papers = desk_documents.documents_of(request)
if papers:
    st.subheader(t("request.documents"))
    for paper in papers:
        st.download_button(t(f"request.download.{paper}"), key=f"download_{paper}", mime="text/html",
                           file_name=f"{paper}-{request['number']}.html", on_click="ignore",
                           data=lambda paper=paper: desk_documents.BUILDERS[paper](
                               uow(), actor=actor, request_id=request_id, now=now(), lang=lang()))

# the insurer's 报案号, when the insurer gives one (the desk's clerks, on a report not refused)
if (request["kind"] == RequestKind.CLAIM_REPORT and request["state"] != RequestState.REFUSED
        and aftersales.may_receive(actor)):
    errors = form_errors("request_insurer_number")
    with st.form("request_insurer_number", enter_to_submit=False):
        number = st.text_input(t("desk.insurer_number.label"), value=request["insurer_report_number"] or "",
                               key="request_insurer_number_value")
        field_error(errors, "insurer_report_number")
        if st.form_submit_button(t("desk.insurer_number.submit")):
            act(lambda: aftersales.record_insurer_report_number(
                uow(), actor=actor, request_id=request_id, expected_version=request["version"], number=number,
                now=now()), notice=t("desk.insurer_number.done"), form="request_insurer_number")

st.subheader(t("request.clock"))
if request["clock_key"]:
    st.dataframe(pd.DataFrame({
        t("request.clock.name"): [t(f"desk.clock.{request['clock_key']}")],
        t("request.clock.badge"): [t(f"desk.badge.{view.badge}")],
        t("request.clock.start"): [fmt_time(request["clock_started_at"])],
        t("request.clock.due"): [fmt_time(request["clock_due_at"])],
        t("request.clock.stop"): [fmt_time(request["clock_stopped_at"])],
    }), hide_index=True, width="stretch")
else:
    st.text(t("request.no_clock"))

for section in record.sections(lang()):        # a step not reached yet stays folded
    filled = any(value != EMPTY for _, value in section.rows) or bool(section.grid)
    with st.expander(literal(section.title), expanded=filled):
        show_section(section)

st.subheader(t("request.history"))
history = view.history
st.dataframe(pd.DataFrame({
    t("request.history.at"): fmt_times(history["at"]).to_numpy(),
    t("request.history.action"): [t(f"action.{a}") for a in history["action"]],
    t("request.history.from"): [t(f"desk.state.{s}") if isinstance(s, str) and s else "" for s in history["from_state"]],
    t("request.history.to"): [t(f"desk.state.{s}") if isinstance(s, str) and s else "" for s in history["to_state"]],
    t("request.history.comment"): history["comment"].fillna("").astype(str).to_numpy(),
    t("request.history.by"): [t("request.system") if b in (None, "cli", "system") else b for b in history["by"]],
}), hide_index=True, width="stretch")

st.subheader(t("request.contacts"))
contacts = view.contacts
if contacts.empty:
    st.text(t("request.no_contacts"))
else:
    st.dataframe(pd.DataFrame({
        t("request.contacts.at"): fmt_times(contacts["at"]).to_numpy(),
        t("request.contacts.channel"): [t(f"desk.contact.{c}") for c in contacts["channel"]],
        t("request.contacts.content"): contacts["content"].fillna("").astype(str).to_numpy(),
        t("request.contacts.by"): [b or t("request.system") for b in contacts["by"]],
    }), hide_index=True, width="stretch")
