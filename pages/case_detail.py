"""案件详情: the form, each clock's badge and due time (with why), departments, attachments and
the full, immutable event history."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from portal.domain.errors import DomainError, NotFound, PermissionDenied
from portal.domain.roles import Role
from portal.i18n.format import badge_text, describe, describe_changes, fmt_time, unit_text
from portal.ui.form_panels import whole_form
from portal.printing.handling_form import handling_form_html
from portal.services import case_search, contacts, handling, queries
from portal.services.complaints import report_major_case
from portal.ui.literal import literal
from portal.ui.auth import require_page
from portal.ui.context import calendar, lang, now, reference, say, t, uow
from portal.ui.process import HOLDABLE, process_drawing
from portal.ui.contacts import contact_section
from portal.ui.regulatory_section import regulatory_section
from portal.ui.closing_section import after_closure_section, cause_names
from portal.ui.assignment_section import case_people_section
from portal.ui.widgets import act, case_label, field_error, form_errors, labels, remember_versions, seen_version, show_notice



def open_case(key: str) -> None:
    chosen = st.session_state.get(key)
    if chosen:
        st.session_state["case_ref"] = chosen


def case_list(found: list, key: str) -> None:
    """Cases found (or the recent ones): a table, and a choice that opens one."""
    st.dataframe(pd.DataFrame({
        t("field.number"): [case_label(c.number, c.id) for c in found],
        t("field.received"): [fmt_time(c.received_at) for c in found],
        t("field.state"): [t(f"state.{c.state}") for c in found],
        t("field.customer"): [c.customer_name for c in found],
        t("field.policy_number"): [c.policy_number for c in found],
    }), hide_index=True, width="stretch")
    refs = {c.number or str(c.id): case_label(c.number, c.id) for c in found}
    st.selectbox(t("search.open"), [None, *refs], key=key, on_change=open_case, args=(key,),
                 format_func=lambda r: t("search.choose") if r is None else refs[r])


def case_finder(actor) -> None:  # noqa: ANN001
    st.info(t("case.enter_reference"))
    options = case_search.search_options(uow(), actor=actor)
    if len(options) > 1:
        with st.form("case_search", enter_to_submit=True):
            left, right = st.columns([1, 2])
            by = left.selectbox(t("search.by"), options[1:], key="case_search_by",
                                format_func=lambda o: t(f"search.by.{o}"))
            text = right.text_input(t("search.value"), key="case_search_text")
            st.caption(t("search.audited"))
            if st.form_submit_button(t("search.submit")):
                try:
                    st.session_state["case_search_found"] = (by, case_search.find_cases(
                        uow(), actor=actor, by=by, text=text, now=now()))
                except DomainError as refused:
                    st.session_state.pop("case_search_found", None)
                    st.error(say(refused.message))
    found = st.session_state.get("case_search_found")
    if found is not None:
        by, cases = found
        st.subheader(t("search.found", count=len(cases)))
        if cases:
            case_list(cases, "case_search_pick")
    st.subheader(t("search.recent"))
    recent = case_search.recent_cases(uow(), actor=actor)
    if not recent:
        st.text(t("search.none_recent"))
    else:
        case_list(recent, "case_recent_pick")


actor = require_page("case")
st.title(t("case.title"))
wanted = st.text_input(t("case.reference"), value=st.query_params.get("case", ""), key="case_ref")
if not wanted.strip():
    case_finder(actor)       # by personal data where the masking table shows it; the recent cases
    st.stop()
complaint_id = queries.find_case_id(uow(), wanted)
try:
    if complaint_id is None:
        raise NotFound("case.not_found")
    case = queries.case_detail(uow(), actor=actor, complaint_id=complaint_id, now=now(),
                               calendar=calendar())
except (NotFound, PermissionDenied) as refused:
    st.error(say(refused.message))
    st.stop()
st.query_params["case"] = case.number or str(case.id)
seen_version(case)   # remembered for the next run's forms
show_notice()

ref = reference()
st.header(t("case.header", number=case_label(case.number, case.id), state=t(f"state.{case.state}")))
if case.masked:
    st.caption(t("case.masked"))
if case.original:
    st.info(t("case.original", number=case.original))
if case.repeats:
    st.warning(t("case.repeats", numbers="、".join(case.repeats)))
if case.handling["paused"]:
    st.warning(t("case.on_hold"))
for waiting in case.handling["waiting"]:      # the decision the case waits for, and who may take it (four eyes)
    decision = t(f"four_eyes.decision.{waiting['decision']}")
    if waiting["eligible"]:
        st.text(t("case.who_may", decision=decision, names="、".join(waiting["eligible"])))
    else:
        st.error(t("case.nobody_may", decision=decision, reason=t(f"four_eyes.reason.{waiting['reason']}")))
st.graphviz_chart(process_drawing(case.state, lambda s: t(f"state.{s}")))
names = {"channel": labels(ref.channels), "category": labels(ref.categories), "department": labels(ref.departments),
         "clock": {c.info.rule.key: c.info.label(lang()) for c in case.clocks},
         "cause": cause_names()}         # the taxonomy's sub-causes (issue 18)
# built when clicked, not on every run: the whole contact log is read only for the printout
st.download_button(t("print.download"), file_name=f"complaint-{case.number or case.id}.html", mime="text/html",
                   on_click="ignore", data=lambda: handling_form_html(
                       case, lang=lang(), printed_at=now(), names=names,
                       contacts=contacts.contact_timeline(uow(), actor=actor, complaint_id=case.id, page_size=None,
                                                          newest_first=False)))

if actor.has(Role.GM_OFFICE, Role.INTAKE, Role.INTAKE_LEAD) and case.state in HOLDABLE:
    errors = form_errors(f"hold_{case.id}")
    with st.form(f"hold_{case.id}", enter_to_submit=False):
        reason = st.text_input(t("field.reason"), key=f"hold_reason_{case.id}")
        field_error(errors, "reason")
        if case.handling["paused"]:
            if st.form_submit_button(t("case.resume")):
                act(lambda: handling.resume(uow(), actor=actor, complaint_id=case.id, comment=reason,
                                            expected_version=seen_version(case), now=now()),
                    notice=t("case.resumed"), form=f"hold_{case.id}")
        elif st.form_submit_button(t("case.hold")):
            act(lambda: handling.hold(uow(), actor=actor, complaint_id=case.id, reason=reason,
                                      expected_version=seen_version(case), now=now()),
                notice=t("case.held"), form=f"hold_{case.id}")

st.subheader(t("case.clocks"))
st.dataframe(pd.DataFrame({
    t("case.clock"): [c.info.label(lang()) for c in case.clocks],
    t("case.target"): [unit_text(c.rule.unit, c.rule.target, lang()) for c in case.clocks],
    t("case.badge"): [badge_text(c.badge, lang()) for c in case.clocks],
    t("case.start"): [fmt_time(c.start) for c in case.clocks],
    t("case.due"): [fmt_time(c.due) for c in case.clocks],
    t("case.stop"): [fmt_time(c.stop) for c in case.clocks],
}), hide_index=True, width="stretch")
with st.expander(t("case.why")):
    for status in case.clocks:
        if status.explanation is None:
            continue
        st.markdown(f"**{literal(status.info.label(lang()))}** · {unit_text(status.rule.unit, status.rule.target, lang())}")
        for line in describe(status.explanation, lang()):
            st.text(line)

if (Role.GM_OFFICE in actor.roles and case.fields["severity"] == "major"
        and not any(c.info.rule.key == "major_report" and c.stop for c in case.clocks)):
    errors = form_errors("report_major")
    with st.form("report_major", enter_to_submit=False):
        comment = st.text_input(t("case.report_major_comment"))
        field_error(errors, "comment")
        if st.form_submit_button(t("case.report_major")):
            act(lambda: report_major_case(uow(), actor=actor, complaint_id=case.id, comment=comment, now=now()),
                notice=t("case.major_reported"), form="report_major")

st.subheader(t("case.form"))
whole_form(case)

case_people_section(case, actor)      # named handlers per department, the working group (000 §5, §8)

regulatory_section(case, actor)

after_closure_section(case, actor)    # follow-ups (how, by whom), departments' actions, remedy, 总结 (issue 18)

contact_section(case, actor)

st.subheader(t("case.attachments"))
if not case.attachments:
    st.text(t("case.no_attachments"))
for item in case.attachments:
    name, content_type, data = queries.attachment_content(uow(), actor=actor, attachment_id=item.id)
    st.download_button(f"{t('case.download')} {literal(name)} ({item.size // 1024 + 1} KB)", data=data,
                       file_name=name, mime=content_type, key=f"attachment_{item.id}")

st.subheader(t("case.history"))
st.dataframe(pd.DataFrame({
    t("case.event.at"): [fmt_time(e.at) for e in case.events],
    # the reminder sweep and the command line act as no user: named in the reader's language
    t("case.event.actor"): [t("case.event.system") if e.actor in ("system", "cli") else e.actor for e in case.events],
    t("case.event.action"): [t(f"action.{e.action}") for e in case.events],
    t("case.event.from"): [t(f"state.{e.from_state or ''}") for e in case.events],
    t("case.event.to"): [t(f"state.{e.to_state or ''}") for e in case.events],
    t("case.event.comment"): [e.comment for e in case.events],
    t("case.event.changes"): [describe_changes(e.changes, lang(), names) for e in case.events],
}), hide_index=True, width="stretch")

remember_versions()
