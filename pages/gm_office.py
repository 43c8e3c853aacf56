"""总经理室: the acceptance queue; accepting confirms category and severity, numbers, routes."""
from __future__ import annotations

import streamlit as st

from portal.domain.errors import ConcurrentChange, NotFound, PermissionDenied, TransitionNotAllowed, ValidationFailed
from portal.domain.validation import SEVERITIES
from portal.services import queries, rules
from portal.services.complaints import accept_complaint
from portal.ui.auth import require_page
from portal.ui.context import calendar, now, say, t, uow
from portal.ui.navigation import BY_KEY
from portal.ui.widgets import case_label, cases_table, field_error, labels

actor = require_page("gm_office")
st.title(t("gm.title"))
if "gm_accepted" in st.session_state:
    st.success(st.session_state.pop("gm_accepted"))
st.page_link(BY_KEY["ledger"].path, label=t("gm.ledger_link"), icon="📒")

ref = rules.load_reference_data(uow())
categories, departments = labels(ref.categories), labels(ref.departments)
investigating = labels(ref.investigating)
queue = queries.acceptance_queue(uow(), actor=actor, now=now(), calendar=calendar())

st.subheader(t("gm.queue"))
if queue.frame.empty:
    st.info(t("gm.queue_empty"))
    st.stop()
acknowledge = [c for c in queue.clocks if c.rule.start.value == "received_at"]
st.dataframe(cases_table(queue.frame, acknowledge, categories=categories, departments=departments),
             hide_index=True, width="stretch")

st.subheader(t("gm.accept_form"))
rows = {int(i): r for i, r in zip(queue.frame["id"], queue.frame.to_dict("records"))}
picked = st.selectbox(t("gm.pick"), list(rows), key="gm_pick",
                      format_func=lambda i: f"{case_label(None, i)} · {rows[i]['customer_name']} · "
                                            f"{categories.get(rows[i]['category'], '')}")
row = rows[picked]
errors = st.session_state.get("gm_errors", {}) if st.session_state.get("gm_errors_for") == picked else {}
with st.form(f"accept_{picked}"):
    category = st.selectbox(t("field.category"), list(categories), format_func=categories.get,
                            index=list(categories).index(row["category"]) if row["category"] in categories else 0)
    field_error(errors, "category")
    severity = st.radio(t("field.severity"), list(SEVERITIES), horizontal=True,
                        index=list(SEVERITIES).index(row["severity"]),
                        format_func=lambda v: t(f"severity.{v}"))
    field_error(errors, "severity")
    left, mid, right = st.columns(3)
    media = left.checkbox(t("field.flag_media"))
    regulator = mid.checkbox(t("field.flag_regulator"))
    litigation = right.checkbox(t("field.flag_litigation"))
    routed = st.multiselect(t("field.departments"), list(investigating), format_func=investigating.get,
                            default=[c for c in ("operations",) if c in investigating])
    field_error(errors, "departments")
    comment = st.text_area(t("field.comment"))
    field_error(errors, "comment")
    submitted = st.form_submit_button(t("gm.accept"), type="primary")

if submitted:
    try:
        accepted = accept_complaint(uow(), actor=actor, complaint_id=picked, category=category,
                                    severity=severity, departments=routed, flag_media=media,
                                    flag_regulator=regulator, flag_litigation=litigation,
                                    comment=comment, now=now())
    except ValidationFailed as refused:
        st.session_state["gm_errors"], st.session_state["gm_errors_for"] = refused.errors, picked
        st.rerun()
    except (TransitionNotAllowed, PermissionDenied, NotFound, ConcurrentChange) as refused:
        st.error(say(refused.message))
    else:
        st.session_state.pop("gm_errors", None)
        names = "、".join(investigating.get(d, d) for d in accepted.departments)
        st.session_state["gm_accepted"] = t("gm.accepted", number=accepted.number, departments=names)
        st.rerun()
