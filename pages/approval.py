"""核决: the first 核决 of the consolidated opinion (instructions and an amount limit, or sent back);
the general manager's 批示 of investigation reports (002 art.13.2); and the final 核决 of the GM
office's final opinion, which closes the case and confirms any penalty in it (art.13.5-13.7). Each
queue holds only what this approver may decide: their level, not recused, not their own work."""
from __future__ import annotations

import streamlit as st

from portal.domain.lifecycle import State
from portal.services import handling, queries
from portal.services.eligibility import gm_level_of
from portal.ui.auth import require_page
from portal.ui.form_panels import decision_context, instruction_form
from portal.ui.context import calendar, now, t, uow
from portal.ui.widgets import lazy_tabs, page_of
from portal.ui.widgets import act, field_error, form_errors, pick_from_queue, remember_versions, seen_version, show_notice

actor = require_page("approval")
st.title(t("appr.title"))
show_notice()
the_gm = gm_level_of(uow(), actor)
st.caption(t("appr.four_eyes"))


def first_tab() -> None:
    queue = queries.approval_queue(uow(), actor=actor, now=now(), calendar=calendar(), page=page_of("appr_pick"))
    case = pick_from_queue(queue, key="appr_pick", actor=actor)
    if case is not None:
        picked = case.id
        h = case.handling
        st.caption(t("appr.level", level=t(f"level.{h['required_level']}")))
        decision_context(case, ("department", "approval"))    # the reports, the GM's 批示, the opinion and amount
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


def final_tab() -> None:
    queue = queries.approval_queue(uow(), actor=actor, now=now(), calendar=calendar(),
                                   state=State.AWAITING_FINAL_APPROVAL, page=page_of("final_pick"))
    case = pick_from_queue(queue, key="final_pick", actor=actor, with_due=True)
    if case is not None:
        h = case.handling
        st.caption(t("appr.final_level", level=t(f"level.{h['final_required_level'] or h['required_level']}"),
                     amount=h["negotiated_amount"] if h["negotiated_amount"] is not None else "0"))
        # what the customer agreed, the GM office's final opinion, responsibility, loss and penalties
        decision_context(case, ("negotiation", "closure", "approval", "department"))
        errors = form_errors(f"final_{case.id}")
        with st.form(f"final_{case.id}", enter_to_submit=False):
            comment = st.text_area(t("appr.final_comment"), key=f"final_comment_{case.id}")
            field_error(errors, "comment")
            field_error(errors, "reason")
            left, right = st.columns(2)
            sign = left.form_submit_button(t("appr.final_approve"), type="primary")
            back = right.form_submit_button(t("appr.final_return"))
            if sign or back:
                act(lambda: handling.final_approve(uow(), actor=actor, complaint_id=case.id, approve=sign,
                                                   comment=comment, expected_version=seen_version(case), now=now()),
                    notice=t("appr.final_approved" if sign else "appr.final_returned"), form=f"final_{case.id}")


def instruct_tab() -> None:
    queue = queries.approval_queue(uow(), actor=actor, now=now(), calendar=calendar(),
                                   state=State.AWAITING_GM_INSTRUCTION, page=page_of("instruct_pick"))
    case = pick_from_queue(queue, key="instruct_pick", actor=actor, with_due=True)
    if case is not None:                    # each department's report and the 3-day report
        instruction_form(case, shown=("department", "approval"), text_key="instruction", button=t("appr.instruct"),
                         notice=t("appr.instructed"),
                         write=lambda text, version: handling.instruct_report(
                             uow(), actor=actor, complaint_id=case.id, instruction=text, expected_version=version,
                             now=now()))


# Only the open tab runs (its queue alone is read); the 批示 of reports is the general manager's alone.
lazy_tabs({"appr.queue": first_tab, "appr.final_queue": final_tab}
          | ({"appr.instruct_queue": instruct_tab} if the_gm else {}), key="approval_tabs")
remember_versions()
