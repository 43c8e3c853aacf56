"""核决: cases awaiting approval within the approver's authority; approve with instructions and an
amount limit, or send back to the GM office with a reason. And the penalties the GM office proposed
at closure, confirmed (the case closes) or returned (002 art.13.6)."""
from __future__ import annotations

import streamlit as st

from portal.domain.lifecycle import State
from portal.services import handling, queries
from portal.ui.auth import require_page
from portal.ui.form_panels import decision_context
from portal.ui.context import calendar, now, t, uow
from portal.ui.widgets import page_of
from portal.ui.widgets import act, field_error, form_errors, pick_from_queue, remember_versions, seen_version, show_notice

actor = require_page("approval")
st.title(t("appr.title"))
show_notice()
tab_approve, tab_penalty = st.tabs([t("appr.queue"), t("appr.penalty_queue")], key="approval_tabs")

with tab_approve:
    queue = queries.approval_queue(uow(), actor=actor, now=now(), calendar=calendar(), page=page_of("appr_pick"))
    case = pick_from_queue(queue, key="appr_pick", actor=actor)
    if case is not None:
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

with tab_penalty:
    queue = queries.approval_queue(uow(), actor=actor, now=now(), calendar=calendar(), state=State.AWAITING_PENALTY,
                                   page=page_of("penalty_pick"))
    case = pick_from_queue(queue, key="penalty_pick", actor=actor, with_due=True)
    if case is not None:
        # what the GM office proposes: responsibility with its shares, the loss and the penalties
        decision_context(case, ("closure", "department"))
        errors = form_errors(f"penalty_{case.id}")
        with st.form(f"penalty_{case.id}", enter_to_submit=False):
            comment = st.text_area(t("field.comment"), key=f"penalty_comment_{case.id}")
            field_error(errors, "comment")
            left, right = st.columns(2)
            confirm = left.form_submit_button(t("appr.confirm"), type="primary")
            back = right.form_submit_button(t("appr.return_penalty"))
            if confirm or back:
                act(lambda: handling.confirm_penalty(uow(), actor=actor, complaint_id=case.id, confirm=confirm,
                                                     comment=comment, expected_version=seen_version(case), now=now()),
                    notice=t("appr.confirmed" if confirm else "appr.penalty_returned"), form=f"penalty_{case.id}")

remember_versions()
