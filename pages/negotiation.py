"""交涉与回访: tell the customer the approved conclusion and record the result (never beyond the
approved instructions, 002 art.13.10); the supervisor's review; the follow-up visit and survey."""
from __future__ import annotations

import streamlit as st

from portal.domain.lifecycle import State
from portal.domain.regulatory import DECISION_VIA, REMEDIES, Decision
from portal.ui.notices import decision_letter_download
from portal.domain.roles import Role
from portal.domain.satisfaction import DIMENSIONS, Survey
from portal.services import closing, complaints, follow_ups, handling, queries
from portal.ui.closing_section import follow_up_history, remedy_form
from portal.ui.literal import literal
from portal.ui.form_panels import decision_context
from portal.ui.auth import require_page
from portal.ui.contacts import due_contacts
from portal.ui.context import calendar, now, reference, t, uow
from portal.ui.widgets import lazy_tabs, page_of
from portal.ui.widgets import act, field_error, form_errors, pick_from_queue, remember_versions, seen_version, show_notice

actor = require_page("negotiation")
st.title(t("neg.title"))
show_notice()
ref = reference()


def pick(state: State, key: str, **kwargs):  # noqa: ANN003, ANN202
    queue = queries.work_queue(uow(), actor=actor, state=state, now=now(), calendar=calendar(), page=page_of(key),
                               **kwargs)
    return pick_from_queue(queue, key=key, actor=actor)


def negotiate_tab() -> None:
    case = pick(State.NEGOTIATING, "neg_pick")
    if case:
        h = case.handling
        st.info(t("neg.instructions", text=literal(h["approval_instructions"])))
        st.caption(t("neg.limit", limit=h["amount_limit"] if h["amount_limit"] is not None else "—"))
        errors = form_errors(f"neg_{case.id}")
        with st.form(f"neg_{case.id}", enter_to_submit=False):
            result = st.radio(t("field.result"), list(handling.NEGOTIATION_RESULTS), horizontal=True, index=None,
                              format_func=lambda v: t(f"result.{v}"), key=f"neg_result_{case.id}")
            field_error(errors, "result")
            note = st.text_area(t("field.note"), key=f"neg_note_{case.id}")
            field_error(errors, "note")
            amount = st.text_input(t("field.agreed_amount"), key=f"neg_amount_{case.id}")
            field_error(errors, "agreed_amount")
            checked = st.text_area(t("field.decision_checked"), key=f"neg_checked_{case.id}")
            field_error(errors, "decision_checked")
            basis = st.text_area(t("field.decision_basis"), key=f"neg_basis_{case.id}")
            field_error(errors, "decision_basis")
            remedies = st.multiselect(t("field.decision_remedies"), list(REMEDIES), default=[],
                                      placeholder=t("widget.choose"),
                                      format_func=lambda v: t(f"remedy.{v}"), key=f"neg_remedies_{case.id}")
            field_error(errors, "decision_remedies")
            left, right = st.columns(2)
            via = left.selectbox(t("field.decision_told_via"), list(DECISION_VIA), format_func=lambda v: t(f"via.{v}"),
                                 index=None, placeholder=t("widget.choose"), key=f"neg_via_{case.id}")
            field_error(errors, "decision_told_via")
            proof = right.text_input(t("field.decision_proof"), key=f"neg_proof_{case.id}")
            field_error(errors, "decision_proof")
            left, right = st.columns(2)
            # the decision letter is built from what is typed here (a second button: nothing is recorded)
            right.form_submit_button(t("neg.letter_preview"))
            if left.form_submit_button(t("neg.record"), type="primary"):
                decision = Decision(checked, basis, list(remedies), via, proof)
                act(lambda: handling.record_negotiation(uow(), actor=actor, complaint_id=case.id, result=result,
                                                        note=note, agreed_amount=amount, decision=decision,
                                                        expected_version=seen_version(case), now=now()),
                    notice=t("neg.recorded"), form=f"neg_{case.id}")
        # 002 art.13.10: the customer gets a letter built from the template (or a call), never the internal form
        decision_letter_download(uow(), actor, case.id, decision=Decision(checked, basis, list(remedies), via, proof))


def review_tab() -> None:
    case = pick(State.AWAITING_REVIEW, "review_pick")
    if case:
        h = case.handling
        # The approved instructions and limit, and what was told to the customer, how, with its proof.
        decision_context(case, ("approval", "negotiation"))
        errors = form_errors(f"review_{case.id}")
        with st.form(f"review_{case.id}", enter_to_submit=False):
            comment = st.text_input(t("field.comment"), key=f"review_comment_{case.id}")
            field_error(errors, "comment")
            left, right = st.columns(2)
            ok = left.form_submit_button(t("neg.review_ok"), type="primary")
            back = right.form_submit_button(t("neg.review_back"))
            if ok or back:
                act(lambda: handling.review_negotiation(uow(), actor=actor, complaint_id=case.id,
                                                        approve=ok, comment=comment,
                                                        expected_version=seen_version(case), now=now()),
                    notice=t("neg.reviewed"), form=f"review_{case.id}")
        if h["negotiation_result"] == "rejected" and not case.repeats:
            errors = form_errors(f"repeat_{case.id}")
            with st.form(f"repeat_{case.id}", enter_to_submit=False):
                description = st.text_area(t("field.description"), key=f"repeat_desc_{case.id}")
                field_error(errors, "description")
                wish = st.text_input(t("field.expected_resolution"), key=f"repeat_wish_{case.id}")
                field_error(errors, "expected_resolution")
                opinion = st.text_area(t("field.clerk_opinion"), key=f"repeat_opinion_{case.id}")
                field_error(errors, "clerk_opinion")
                if st.form_submit_button(t("neg.repeat")):
                    act(lambda: complaints.register_repeat(uow(), actor=actor, original_id=case.id,
                                                           description=description, expected_resolution=wish,
                                                           clerk_opinion=opinion, now=now()),
                        notice=lambda done: t("neg.repeat_done", id=done.id), form=f"repeat_{case.id}")


def follow_up_tab() -> None:
    # closed cases with no follow-up yet, or one scheduled (the second visit after a dissatisfied one) not made
    queue = follow_ups.follow_up_queue(uow(), actor=actor, now=now(), calendar=calendar(), page=page_of("follow_pick"))
    case = pick_from_queue(queue, key="follow_pick", actor=actor)
    if case:
        decision_context(case, ("negotiation", "closure"))      # what the customer was told, how it closed
        follow_up_history(closing.after_closure(uow(), actor=actor, complaint_id=case.id))
        errors = form_errors(f"follow_{case.id}")
        with st.form(f"follow_{case.id}", enter_to_submit=False):
            method = st.radio(t("field.follow_up_method"), list(handling.FOLLOW_UP_METHODS), index=None,
                              horizontal=True, format_func=lambda v: t(f"method.{v}"), key=f"follow_method_{case.id}")
            field_error(errors, "method")
            outcome = st.text_area(t("field.outcome"), key=f"follow_outcome_{case.id}")
            field_error(errors, "outcome")
            st.caption(t("survey.scale_help"))
            columns = st.columns(len(DIMENSIONS))
            scores = {name: column.selectbox(t(f"survey.{name}"), [1, 2, 3, 4, 5], index=None,
                                             format_func=lambda v: t(f"survey.scale.{v}"),
                                             placeholder=t("widget.choose"), key=f"follow_{name}_{case.id}")
                      for name, column in zip(DIMENSIONS, columns)}
            for name, column in zip(DIMENSIONS, columns):
                with column:
                    field_error(errors, name)
            if st.form_submit_button(t("neg.follow_up"), type="primary"):
                act(lambda: handling.record_follow_up(uow(), actor=actor, complaint_id=case.id, outcome=outcome,
                                                      survey=Survey(**scores), method=method,
                                                      expected_version=seen_version(case), now=now()),
                    notice=lambda target: t("neg.followed_up", state=t(f"state.{target.value}")),
                    form=f"follow_{case.id}")


def remedy_tab() -> None:
    """The payment agreed with the customer recorded as made (004 §5.1.5), before the case is archived."""
    queue = closing.remedy_queue(uow(), actor=actor, now=now(), calendar=calendar(), page=page_of("remedy_pick"))
    case = pick_from_queue(queue, key="remedy_pick", actor=actor)
    if case:
        remedy_form(case, actor)


def contacts_tab() -> None:
    due_contacts(actor)         # acknowledgements, progress and closure notices due (SPEC §11)


# Only the open tab runs (its queue alone is read); the review is the 市场部主管's.
lazy_tabs({"neg.tab.negotiate": negotiate_tab}
          | ({"neg.tab.review": review_tab} if actor.has(Role.INTAKE_LEAD) else {})
          | {"neg.tab.follow_up": follow_up_tab, "neg.tab.remedy": remedy_tab, "neg.tab.contacts": contacts_tab},
          key="negotiation_tabs")
remember_versions()
