"""核决: cases awaiting approval within the approver's authority; approve with instructions and an
amount limit, or send back to the GM office with a reason."""
from __future__ import annotations

import streamlit as st

from portal.services import handling, queries
from portal.ui.auth import require_page
from portal.ui.form_panels import decision_context
from portal.ui.context import calendar, lang, now, reference, t, uow
from portal.ui.widgets import page_of
from portal.ui.widgets import act, field_error, form_errors, pick_from_queue, remember_versions, seen_version, show_notice

actor = require_page("approval")
st.title(t("appr.title"))
show_notice()
ref = reference()
queue = queries.approval_queue(uow(), actor=actor, now=now(), calendar=calendar(), page=page_of("appr_pick"))
st.subheader(t("appr.queue"))
case = pick_from_queue(queue, key="appr_pick", actor=actor)
if case is None:
    st.stop()
picked = case.id
h = case.handling
st.caption(t("appr.level", level=t(f"level.{h['required_level']}")))
decision_context(case, ("department", "approval"))    # the reports and the GM office's opinion and amount

errors = form_errors(f"approve_{picked}")
with st.form(f"approve_{picked}", enter_to_submit=False):
    instructions = st.text_area(t("field.instructions"), key=f"appr_instr_{picked}")
    field_error(errors, "instructions")
    limit = st.text_input(t("field.amount_limit"), key=f"appr_limit_{picked}")     # the approver decides it
    field_error(errors, "amount_limit")
    if st.form_submit_button(t("appr.approve"), type="primary"):
        act(lambda: handling.approve(uow(), actor=actor, complaint_id=picked, instructions=instructions,
                                     amount_limit=limit, expected_version=seen_version(case), now=now()),
            notice=t("appr.approved"), form=f"approve_{picked}")
errors = form_errors(f"back_{picked}")
with st.form(f"back_{picked}", enter_to_submit=False):
    reason = st.text_input(t("field.reason"), key=f"appr_reason_{picked}")
    field_error(errors, "reason")
    if st.form_submit_button(t("appr.send_back")):
        act(lambda: handling.send_back(uow(), actor=actor, complaint_id=picked, reason=reason,
                                       expected_version=seen_version(case), now=now()),
            notice=t("appr.sent_back"), form=f"back_{picked}")

remember_versions()
