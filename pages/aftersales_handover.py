"""理赔移交 (002 ch.2 4.(五)): 运营部 hands complete claim applications to the insurer within 3 working days —
the queue by due time with its badges, the hand-over of the one chosen (insurer, date, the items handed, the
receipt) and, when it comes back, the insurer's decision told to the customer. The GM office reads it."""
from __future__ import annotations

from types import SimpleNamespace
from urllib.parse import quote

import pandas as pd
import streamlit as st

from portal.domain.aftersales import RequestState
from portal.domain.errors import DomainError
from portal.domain.roles import Role
from portal.i18n.format import fmt_time, fmt_times
from portal.services import aftersales_claims, aftersales_queries, desk_documents
from portal.services.aftersales import CONTACT_CHANNELS, may_hand_over
from portal.ui.auth import require_page
from portal.ui.context import lang, now, say, t, uow
from portal.ui.literal import literal
from portal.ui.widgets import (DATE_FORMAT, act, date_label, field_error, form_errors, page_of, pager,
                               remember_versions, seen_version, show_notice)

KEY = "handover_pick"

actor = require_page("handover")
if not (may_hand_over(actor) or actor.has(Role.GM_OFFICE)):
    st.error(t("handover.refused_department"))       # a handler of another department
    st.stop()
st.title(t("handover.title"))
show_notice()
st.caption(t("handover.intro"))
if not may_hand_over(actor):
    st.info(t("handover.read_only"))

chased = aftersales_queries.reminders_waiting(uow(), actor=actor)
if chased:
    st.warning(t("desk.reminders.open", count=chased), icon="⏰")
queue = aftersales_queries.handover_queue(uow(), actor=actor, now=now(), page=page_of(KEY))
if queue.frame.empty:
    st.info(t("handover.nothing"))
    st.stop()
frame = queue.frame
pager(queue, key=KEY)
st.dataframe(pd.DataFrame({
    # a link to the request's page; the label after "#" is what the cell shows
    t("handover.col.number"): [f"request?number={quote(n)}#{n}" for n in frame["number"]],
    t("handover.col.state"): [t(f"desk.state.{s}") for s in frame["state"]],
    t("handover.col.badge"): [t(f"desk.badge.{b}") for b in frame["badge"]],
    t("handover.col.due"): fmt_times(frame["clock_due_at"]).to_numpy(),
    t("handover.col.handed"): fmt_times(frame["clock_stopped_at"]).to_numpy(),
    t("handover.col.policy_number"): frame["policy_number"].astype(str).to_numpy(),
    t("handover.col.insured"): frame["insured_name"].astype(str).to_numpy(),
    t("handover.col.applicant"): frame["contact_name"].astype(str).to_numpy(),
    t("handover.col.received"): fmt_times(frame["received_at"]).to_numpy(),
}), hide_index=True, width="stretch",
    column_config={t("handover.col.number"): st.column_config.LinkColumn(display_text=r"#(.*)$")})

ids = [int(i) for i in frame["id"]]
labels = {int(i): f"{n} · {t(f'desk.state.{s}')} · {name}"
          for i, n, s, name in zip(frame["id"], frame["number"], frame["state"], frame["insured_name"])}
chosen = st.selectbox(t("handover.pick"), ids, key=f"{KEY}_id", format_func=labels.get)
try:
    view = aftersales_queries.request_detail(uow(), actor=actor, request_id=chosen, now=now(), lang=lang())
except DomainError as refused:
    st.error(say(refused.message))
    st.stop()
request = view.request

# the version this person saw when the form was drawn (a save made meanwhile by someone else is refused);
# keyed apart from the complaints' versions the same memory holds
version = seen_version(SimpleNamespace(id=("request", request["id"]), version=request["version"]))

st.subheader(request["number"])
st.text(t("handover.essentials", number=request["number"], state=t(f"desk.state.{request['state']}"),
          badge=t(f"desk.badge.{view.badge}"), due=fmt_time(request["clock_due_at"])))
st.text(t("handover.applicant", name=request["contact_name"], phone=request["contact_phone"],
          insured=request["insured_name"], policy=request["policy_number"]))
if view.report_number:
    st.text(t("handover.report", number=view.report_number))
materials = desk_documents.list_names(uow(), lang=lang())["material"]
received = list(request["materials_received"] or [])
st.text(t("handover.materials", items="、".join(materials.get(c, c) for c in received)))


if may_hand_over(actor) and request["state"] == RequestState.COMPLETE:
    form = f"handover_{request['id']}"
    errors = form_errors(form)
    item_keys = {code: f"{form}_item_{code}" for code in received}

    def tick_all() -> None:
        for key in item_keys.values():
            st.session_state[key] = True

    st.subheader(t("handover.form"))
    st.button(t("handover.all_items"), key=f"{form}_all", on_click=tick_all)
    with st.form(form, enter_to_submit=False):
        insurer = st.text_input(t("handover.insurer"), key=f"{form}_insurer")
        field_error(errors, "insurer")
        handed_on = st.date_input(date_label("handover.handed_on"), value=None, format=DATE_FORMAT,
                                  max_value=now().date(), key=f"{form}_on")
        field_error(errors, "handed_on")
        st.caption(t("handover.items"))
        # the configured names shown as typed
        ticked = {code: st.checkbox(literal(materials.get(code, code)), key=key) for code, key in item_keys.items()}
        field_error(errors, "items")
        receipt = st.text_input(t("handover.receipt"), key=f"{form}_receipt")
        field_error(errors, "receipt")
        if st.form_submit_button(t("handover.submit"), type="primary"):
            act(lambda: aftersales_claims.hand_over(
                    uow(), actor=actor, request_id=request["id"], expected_version=version, insurer=insurer,
                    handed_on=handed_on, items=[c for c, on in ticked.items() if on], receipt=receipt, now=now()),
                notice=t("handover.saved", number=request["number"]), form=form)
elif request["state"] == RequestState.HANDED_OVER:
    st.subheader(t("handover.decision_form"))
    st.text(t("handover.handed_summary", at=fmt_time(request["handed_over_at"]), insurer=request["handover_insurer"],
              receipt=request["handover_receipt"]))
    if may_hand_over(actor):
        form = f"decision_{request['id']}"
        errors = form_errors(form)
        with st.form(form, enter_to_submit=False):
            decision = st.text_area(t("handover.decision"), key=f"{form}_text")
            field_error(errors, "decision")
            channel = st.selectbox(t("handover.told_channel"), list(CONTACT_CHANNELS), index=None,
                                   placeholder=t("widget.choose"), format_func=lambda c: t(f"desk.contact.{c}"),
                                   key=f"{form}_channel")
            field_error(errors, "told_channel")
            if st.form_submit_button(t("handover.decision_submit"), type="primary"):
                act(lambda: aftersales_claims.record_insurer_decision(
                        uow(), actor=actor, request_id=request["id"], expected_version=version, decision=decision,
                        told_channel=channel or "", now=now()),
                    notice=t("handover.decision_saved", number=request["number"]), form=form)
remember_versions()
