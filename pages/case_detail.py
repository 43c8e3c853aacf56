"""案件详情: the form, each clock's badge and due time (with why), departments, attachments and
the full, immutable event history."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from portal.domain.errors import NotFound, PermissionDenied
from portal.domain.roles import Role
from portal.i18n.format import badge_text, describe, describe_changes, fmt_time, unit_text
from portal.printing.handling_form import handling_form_html
from portal.services import handling, queries
from portal.services.complaints import report_major_case
from portal.ui.literal import literal
from portal.ui.auth import require_page
from portal.ui.context import calendar, lang, now, reference, say, t, uow
from portal.ui.process import HOLDABLE, process_drawing
from portal.ui.regulatory_section import regulatory_section
from portal.ui.widgets import act, case_label, field_error, form_errors, labels, remember_versions, seen_version, show_notice

actor = require_page("case")
st.title(t("case.title"))
wanted = st.text_input(t("case.reference"), value=st.query_params.get("case", ""), key="case_ref")
if not wanted.strip():
    st.info(t("case.enter_reference"))
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
st.graphviz_chart(process_drawing(case.state, lambda s: t(f"state.{s}")))
st.download_button(t("print.download"), file_name=f"complaint-{case.number or case.id}.html", mime="text/html",
                   data=handling_form_html(case, lang=lang(), printed_at=now(),
                                           category=labels(ref.categories).get(case.category, case.category),
                                           channel=labels(ref.channels).get(case.channel, case.channel)))

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
    t("case.target"): [unit_text(c.info.rule.unit, c.info.rule.target, lang()) for c in case.clocks],
    t("case.badge"): [badge_text(c.badge, lang()) for c in case.clocks],
    t("case.start"): [fmt_time(c.start) for c in case.clocks],
    t("case.due"): [fmt_time(c.due) for c in case.clocks],
    t("case.stop"): [fmt_time(c.stop) for c in case.clocks],
}), hide_index=True, width="stretch")
with st.expander(t("case.why")):
    for status in case.clocks:
        if status.explanation is None:
            continue
        st.markdown(f"**{literal(status.info.label(lang()))}** · {unit_text(status.info.rule.unit, status.info.rule.target, lang())}")
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
f = case.fields
categories, channels = labels(ref.categories), labels(ref.channels)
choice_fields = {"customer_gender": "gender", "customer_age_band": "age", "severity": "severity",
                 "urgency": "urgency"}
rows = []
for name, value in f.items():
    if name in choice_fields:
        value = t(f"{choice_fields[name]}.{value}")
    elif isinstance(value, bool):
        value = t("yes") if value else t("no")
    elif hasattr(value, "strftime"):
        value = fmt_time(value)
    rows.append((t(f"field.{name}"), "" if value is None else str(value)))
rows.insert(0, (t("field.category"), categories.get(case.category, case.category)))
rows.insert(1, (t("field.channel"), channels.get(case.channel, case.channel)))
rows.append((t("field.complained_staff"), "、".join(case.complained_staff)))
st.dataframe(pd.DataFrame(rows, columns=["", " "]), hide_index=True, width="stretch")

st.subheader(t("case.departments"))
if case.departments:
    st.dataframe(pd.DataFrame({
        t("field.departments"): [d["name_en"] if lang() == "en" else d["name_zh"] for d in case.departments],
        t("case.routed_at"): [fmt_time(d["routed_at"]) for d in case.departments],
        t("field.initial_plan"): [d["initial_plan"] for d in case.departments],
        t("case.report_submitted_at"): [fmt_time(d["report_submitted_at"]) for d in case.departments],
        t("field.finding"): [t(f"finding.{d['finding']}") if d["finding"] else "" for d in case.departments],
        t("field.cause"): [d["cause"] for d in case.departments],
        t("field.measures"): [d["measures"] for d in case.departments],
        t("field.proposed_amount"): ["" if d["proposed_amount"] is None else str(d["proposed_amount"])
                                     for d in case.departments],
    }), hide_index=True, width="stretch")
else:
    st.text("—")

h = case.handling
st.subheader(t("case.process"))
process_rows = [
    (t("field.opinion"), h["consolidated_opinion"]),
    (t("appr.level", level=""), t(f"level.{h['required_level']}") if h["required_level"] else ""),
    (t("field.instructions"), h["approval_instructions"]),
    (t("field.amount_limit"), "" if h["amount_limit"] is None else str(h["amount_limit"])),
    (t("field.result"), t(f"result.{h['negotiation_result']}") if h["negotiation_result"] else ""),
    (t("field.note"), h["negotiation_note"]),
    (t("field.agreed_amount"), "" if h["negotiated_amount"] is None else str(h["negotiated_amount"])),
    (t("field.final_opinion"), h["closure_note"]),
    (t("field.responsibility_level"), t(f"resp.{h['responsibility_level']}") if h["responsibility_level"] else ""),
    (t("field.penalty_persons"), h["penalty_persons"]),
]
st.dataframe(pd.DataFrame([r for r in process_rows if r[1]] or [("—", "")], columns=["", " "]),
             hide_index=True, width="stretch")

regulatory_section(case, actor)

st.subheader(t("case.attachments"))
if not case.attachments:
    st.text(t("case.no_attachments"))
for item in case.attachments:
    name, content_type, data = queries.attachment_content(uow(), actor=actor, attachment_id=item.id)
    st.download_button(f"{t('case.download')} {literal(name)} ({item.size // 1024 + 1} KB)", data=data,
                       file_name=name, mime=content_type, key=f"attachment_{item.id}")

st.subheader(t("case.history"))
names = {"channel": labels(ref.channels), "category": labels(ref.categories), "department": labels(ref.departments)}
st.dataframe(pd.DataFrame({
    t("case.event.at"): [fmt_time(e.at) for e in case.events],
    t("case.event.actor"): [e.actor for e in case.events],
    t("case.event.action"): [t(f"action.{e.action}") for e in case.events],
    t("case.event.from"): [t(f"state.{e.from_state or ''}") for e in case.events],
    t("case.event.to"): [t(f"state.{e.to_state or ''}") for e in case.events],
    t("case.event.comment"): [e.comment for e in case.events],
    t("case.event.changes"): [describe_changes(e.changes, lang(), names) for e in case.events],
}), hide_index=True, width="stretch")

remember_versions()
