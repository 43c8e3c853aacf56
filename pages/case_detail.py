"""案件详情: the form, each clock's badge and due time (with why), departments, attachments and
the full, immutable event history."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from portal.domain.errors import NotFound, PermissionDenied, TransitionNotAllowed, ValidationFailed
from portal.domain.roles import Role
from portal.i18n.format import badge_text, describe, fmt_time, unit_text
from portal.services import queries, rules
from portal.services.complaints import report_major_case
from portal.ui.auth import require_page
from portal.ui.context import calendar, lang, now, say, t, uow
from portal.ui.widgets import case_label, labels

actor = require_page("case")
st.title(t("case.title"))
reference = st.text_input(t("case.reference"), value=st.query_params.get("case", ""), key="case_ref")
if not reference.strip():
    st.info(t("case.enter_reference"))
    st.stop()
complaint_id = queries.find_case_id(uow(), reference)
try:
    if complaint_id is None:
        raise NotFound("case.not_found")
    case = queries.case_detail(uow(), actor=actor, complaint_id=complaint_id, now=now(),
                               calendar=calendar())
except (NotFound, PermissionDenied) as refused:
    st.error(say(refused.message))
    st.stop()
st.query_params["case"] = case.number or str(case.id)
if "case_notice" in st.session_state:
    st.success(st.session_state.pop("case_notice"))

ref = rules.load_reference_data(uow())
st.header(t("case.header", number=case_label(case.number, case.id), state=t(f"state.{case.state}")))
if case.masked:
    st.caption(t("case.masked"))

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
        st.markdown(f"**{status.info.label(lang())}** · {unit_text(status.info.rule.unit, status.info.rule.target, lang())}")
        for line in describe(status.explanation, lang()):
            st.text(line)

if (Role.GM_OFFICE in actor.roles and case.fields["severity"] == "major"
        and not any(c.info.rule.key == "major_report" and c.stop for c in case.clocks)):
    with st.form("report_major"):
        comment = st.text_input(t("case.report_major_comment"))
        if st.form_submit_button(t("case.report_major")):
            try:
                report_major_case(uow(), actor=actor, complaint_id=case.id, comment=comment, now=now())
            except ValidationFailed as refused:
                st.error(say(refused.errors["comment"]))
            except (TransitionNotAllowed, PermissionDenied) as refused:
                st.error(say(refused.message))
            else:
                st.session_state["case_notice"] = t("case.major_reported")
                st.rerun()

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
        t("case.report_submitted_at"): [fmt_time(d["report_submitted_at"]) for d in case.departments],
    }), hide_index=True, width="stretch")
else:
    st.text("—")

st.subheader(t("case.attachments"))
if not case.attachments:
    st.text(t("case.no_attachments"))
for item in case.attachments:
    name, content_type, data = queries.attachment_content(uow(), actor=actor, attachment_id=item.id)
    st.download_button(f"{t('case.download')} {name} ({item.size // 1024 + 1} KB)", data=data,
                       file_name=name, mime=content_type, key=f"attachment_{item.id}")

st.subheader(t("case.history"))
st.dataframe(pd.DataFrame({
    t("case.event.at"): [fmt_time(e.at) for e in case.events],
    t("case.event.actor"): [e.actor for e in case.events],
    t("case.event.action"): [t(f"action.{e.action}") for e in case.events],
    t("case.event.from"): [t(f"state.{e.from_state or ''}") for e in case.events],
    t("case.event.to"): [t(f"state.{e.to_state or ''}") for e in case.events],
    t("case.event.comment"): [e.comment for e in case.events],
    t("case.event.changes"): [", ".join(f"{k}={v}" for k, v in e.changes.items()) for e in case.events],
}), hide_index=True, width="stretch")
