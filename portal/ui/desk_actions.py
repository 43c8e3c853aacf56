"""One request at the service desk (售后受理): its essentials, its history, and the forms of what its kind and
state allow the clerk next — take a report in hand or refuse it, scene preservation, the major claim's report
to headquarters, the materials of a waiting application, guiding and finishing a surrender or endorsement.
Used by the desk's queue and right after a report is registered."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from types import SimpleNamespace

import pandas as pd
import streamlit as st

from portal.domain.aftersales import CheckResult, RequestKind, RequestState, missing_materials, required_materials
from portal.domain.errors import DomainError
from portal.i18n.format import fmt_time, fmt_times
from portal.services import aftersales, aftersales_claims, aftersales_queries, aftersales_requests, desk_documents, rules
from portal.services.actors import Actor
from portal.ui.context import lang, now, say, t, uow
from portal.ui.literal import literal
from portal.ui.navigation import BY_KEY
from portal.ui.widgets import act, field_error, form_errors, seen_version

LISTS = ("risk", "channel", "claim_kind", "surrender_reason", "relation")


def CHOOSE() -> str:  # noqa: N802 - reads as the placeholder it is
    return t("widget.choose")


@st.cache_data(ttl=60, show_spinner=False)
def lists_of(url: str, language: str) -> dict:
    """The desk's configurable lists (code → name in the reader's language), the materials checklists and
    the major-claim threshold: read at most once a minute per database and language."""
    with uow().read() as session:
        out: dict = {key: {c.code: (c.name_en if language == "en" else c.name_zh)
                           for c in aftersales.choices(session, key).values()} for key in LISTS}
        out["checklists"] = aftersales.checklists(session)
        out["materials"] = aftersales.material_names(session, language)
        out["threshold"] = rules.settings(session).get("desk.major_threshold", "")
    return out


def requests_table(frame: pd.DataFrame, lists: dict) -> pd.DataFrame:
    """A page of requests for display: labels in the reader's language, personal data as the query masked it."""
    channels = lists["channel"]
    return pd.DataFrame({
        t("desk.col.number"): frame["number"].astype(str).to_numpy(),
        t("desk.col.kind"): [t(f"desk.kind.{k}") for k in frame["kind"]],
        t("desk.col.state"): [t(f"desk.state.{s}") for s in frame["state"]],
        t("desk.col.badge"): [t(f"desk.badge.{b}") for b in frame["badge"]],
        t("desk.col.clock"): [t(f"desk.clock.{k}") if isinstance(k, str) and k else "—" for k in frame["clock_key"]],
        t("desk.col.due"): fmt_times(frame["clock_due_at"]).to_numpy(),
        t("desk.field.policy_number"): frame["policy_number"].astype(str).to_numpy(),
        t("desk.field.insured_name"): frame["insured_name"].astype(str).to_numpy(),
        t("desk.col.contact"): frame["contact_name"].astype(str).to_numpy(),
        t("desk.field.channel"): [channels.get(c, c) for c in frame["channel"]],
        t("desk.col.received"): fmt_times(frame["received_at"]).to_numpy(),
    })


def _day(value: object) -> str:
    return f"{value:%Y/%m/%d}" if value is not None else "—"


def check_lines(failures: list[str], check: CheckResult | None, request: dict) -> list[str]:
    """Each failed check in words, with the policy period and the last day to claim it names."""
    period, last = ((check.period, check.last_claim_day) if check is not None
                    else (request.get("check_period"), request.get("check_last_day")))
    start, end = (_day(period[0]), _day(period[1])) if period else ("—", "—")
    return [t(f"desk.check.{f}", start=start, end=end, last=_day(last)) for f in failures]


def major_lines(reasons: list[str], threshold: str) -> list[str]:
    try:
        amount = f"{Decimal(threshold):,.0f}"
    except (InvalidOperation, ValueError):
        amount = threshold
    return [t(f"desk.major.{r}", threshold=amount) for r in reasons]


def _essentials(view: aftersales_queries.RequestView, lists: dict) -> None:
    r = view.request
    st.markdown(f"**{literal(r['number'])}** · {t('desk.kind.' + r['kind'])} · {t('desk.state.' + r['state'])}"
                f" · {t('desk.badge.' + view.badge)}")
    names = lists          # the desk's lists: code → name
    rows: list[tuple[str, object]] = [
        ("desk.field.policy_number", r["policy_number"]), ("desk.field.insured_name", r["insured_name"]),
        ("desk.field.channel", names["channel"].get(r["channel"], r["channel"])),
        ("desk.col.received", fmt_time(r["received_at"])),
        ("desk.col.contact", r["contact_name"]), ("desk.col.phone", r["contact_phone"]),
        ("desk.col.relation", names["relation"].get(r["contact_relation"], r["contact_relation"])),
        ("desk.col.address", r["contact_address"]), ("desk.col.id_number", r["contact_id_number"])]
    if r["kind"] == RequestKind.CLAIM_REPORT:
        rows += [("desk.field.event_at", fmt_time(r["event_at"])), ("desk.field.event_place", r["event_place"]),
                 ("desk.field.cause_code", names["risk"].get(r["cause_code"], r["cause_code"])),
                 ("desk.field.event_description", r["event_description"]), ("desk.field.injury", r["injury"]),
                 ("desk.field.measures_taken", r["measures_taken"]),
                 ("desk.field.present_condition", r["present_condition"]), ("desk.field.hospital", r["hospital"]),
                 ("desk.field.insurer_report_number", r["insurer_report_number"]),
                 ("desk.detail.override", r["check_override"])]
    elif r["kind"] == RequestKind.CLAIM_APPLICATION:
        rows += [("desk.detail.report", view.report_number or ""),
                 ("desk.field.claim_kinds", "、".join(names["claim_kind"].get(k, k) for k in r["claim_kinds"] or [])),
                 ("desk.detail.complete_at", fmt_time(r["complete_at"]) if r["complete_at"] else "")]
    else:
        rows += [("desk.field.reason_code", names["surrender_reason"].get(r["reason_code"], r["reason_code"])),
                 ("desk.field.reason_text", r["reason_text"]), ("desk.field.change_requested", r["change_requested"]),
                 ("desk.field.guidance", r["guidance"]), ("desk.field.insurer_address", r["insurer_address"])]
    shown = [(t(label), str(value)) for label, value in rows if value not in (None, "")]
    st.dataframe(pd.DataFrame({t("desk.detail.field"): [a for a, _ in shown],
                               t("desk.detail.value"): [b for _, b in shown]}), hide_index=True, width="stretch")
    if view.required:
        st.dataframe(pd.DataFrame({t("desk.materials.item"): view.required,
                                   t("desk.materials.status"): [t("desk.materials.lacking") if m in view.missing
                                                                else t("desk.materials.received")
                                                                for m in view.required]}),
                     hide_index=True, width="stretch")


def _history(view: aftersales_queries.RequestView) -> None:
    with st.expander(t("desk.detail.history")):
        h = view.history
        st.dataframe(pd.DataFrame({
            t("desk.history.at"): fmt_times(h["at"]).to_numpy(),
            t("desk.history.action"): [t(f"action.{a}") for a in h["action"]],
            t("desk.history.state"): [t(f"desk.state.{s}") if s else "—" for s in h["to_state"]],
            t("desk.history.comment"): h["comment"].astype(str).to_numpy(),
            t("desk.history.by"): h["by"].astype(str).to_numpy(),
        }), hide_index=True, width="stretch")
        if not view.contacts.empty:
            c = view.contacts
            st.caption(t("desk.detail.contacts"))
            st.dataframe(pd.DataFrame({
                t("desk.history.at"): fmt_times(c["at"]).to_numpy(),
                t("desk.tell.channel"): [t(f"desk.contact.{x}") for x in c["channel"]],
                t("desk.tell.content"): c["content"].astype(str).to_numpy(),
                t("desk.history.by"): c["by"].astype(str).to_numpy(),
            }), hide_index=True, width="stretch")


def request_panel(actor: Actor, request_id: int, lists: dict, *,
                  registered: aftersales.Registered | None = None) -> None:
    """The request's essentials and the forms of what may be done with it now; `registered`: a report just
    registered (its preliminary check as computed then)."""
    try:
        view = aftersales_queries.request_detail(uow(), actor=actor, request_id=request_id, now=now(), lang=lang())
    except DomainError as refused:
        st.error(say(refused.message))
        return
    r = view.request
    version = seen_version(SimpleNamespace(id=f"desk:{request_id}", version=r["version"]))
    _essentials(view, lists)
    # 受理记录: the request in full, and its printable papers (不予受理通知书, 理赔申请书, 批改申请单)
    st.page_link(BY_KEY["request"].path, label=t("desk.detail.open", number=r["number"]), icon="🧾",
                 query_params={"number": r["number"]})
    for paper in desk_documents.documents_of(r):       # built when clicked, not on every run
        st.download_button(t(f"request.download.{paper}"), key=f"desk_download_{paper}_{request_id}",
                           mime="text/html", file_name=f"{paper}-{r['number']}.html", on_click="ignore",
                           data=lambda paper=paper: desk_documents.BUILDERS[paper](
                               uow(), actor=actor, request_id=request_id, now=now(), lang=lang()))
    if r["kind"] == RequestKind.CLAIM_REPORT:
        _report_check(actor, view, version, registered)
        _scene(actor, view, version)
        _major(actor, view, version, lists)
    elif r["kind"] == RequestKind.CLAIM_APPLICATION and r["state"] == RequestState.INCOMPLETE:
        _materials(actor, view, version, lists)
    elif r["kind"] in (RequestKind.SURRENDER, RequestKind.ENDORSEMENT):
        _guide_or_finish(actor, view, version)
    _history(view)


def _report_check(actor: Actor, view, version: int, registered) -> None:  # noqa: ANN001
    r, rid = view.request, view.request["id"]
    failures = list(r["check_failures"] or [])
    if failures:
        st.error(t("desk.report.check_failed"))
        for line in check_lines(failures, registered.check if registered else None, r):
            st.warning(line)
    else:
        st.success(t("desk.check.passed"))
    if r["state"] != RequestState.RECEIVED:
        return
    errors = form_errors(f"desk_accept_{rid}")
    with st.form(f"desk_accept_{rid}", enter_to_submit=False):
        st.caption(t("desk.accept.help_failed" if failures else "desk.accept.help"))
        override = ""
        if failures:
            override = st.text_area(t("desk.accept.override"), key=f"desk_override_{rid}")
            field_error(errors, "override")
        if st.form_submit_button(t("desk.accept.submit"), type="primary"):
            act(lambda: aftersales.accept_report(uow(), actor=actor, request_id=rid, expected_version=version,
                                                      override=override, now=now()),
                     notice=t("desk.accept.done", number=r["number"]), form=f"desk_accept_{rid}")
    if not failures:
        return
    errors = form_errors(f"desk_refuse_{rid}")
    with st.form(f"desk_refuse_{rid}", enter_to_submit=False):
        st.caption(t("desk.refuse.help"))
        copies = st.checkbox(t("desk.refuse.copies_archived"), key=f"desk_copies_{rid}")
        field_error(errors, "copies_archived")
        originals = st.checkbox(t("desk.refuse.originals_returned"), key=f"desk_originals_{rid}")
        field_error(errors, "originals_returned")
        if st.form_submit_button(t("desk.refuse.submit")):
            act(lambda: aftersales.refuse_report(uow(), actor=actor, request_id=rid, expected_version=version,
                                                      copies_archived=copies, originals_returned=originals, now=now()),
                     notice=t("desk.refuse.done", number=r["number"]), form=f"desk_refuse_{rid}")


def _scene(actor: Actor, view, version: int) -> None:  # noqa: ANN001
    r, rid = view.request, view.request["id"]
    if not r["scene_needed"] or r["state"] == RequestState.REFUSED:
        return
    told, surveyed = r["scene_told_at"], r["survey_requested_at"]
    if told and surveyed:
        st.caption(t("desk.scene.recorded", told=fmt_time(told), survey=fmt_time(surveyed)))
        return
    st.warning(t("desk.scene.prompt"))
    errors = form_errors(f"desk_scene_{rid}")
    with st.form(f"desk_scene_{rid}", enter_to_submit=False):
        reporter = st.checkbox(t("desk.scene.reporter_told"), value=bool(told), disabled=bool(told),
                               key=f"desk_scene_told_{rid}")
        field_error(errors, "reporter_told")
        survey = st.checkbox(t("desk.scene.survey_requested"), value=bool(surveyed), disabled=bool(surveyed),
                             key=f"desk_scene_survey_{rid}")
        if st.form_submit_button(t("desk.scene.submit")):
            act(lambda: aftersales.record_scene_preservation(
                uow(), actor=actor, request_id=rid, expected_version=version, reporter_told=reporter and not told,
                survey_requested=survey and not surveyed, now=now()),
                notice=t("desk.scene.done"), form=f"desk_scene_{rid}")


def _major(actor: Actor, view, version: int, lists: dict) -> None:  # noqa: ANN001
    r, rid = view.request, view.request["id"]
    if not r["major_reasons"]:
        return
    if r["major_reported_at"] is not None:
        st.caption(t("desk.major_report.recorded", at=fmt_time(r["major_reported_at"])))
        return
    due = fmt_time(r["clock_due_at"]) if r["clock_key"] == "major_report" else "—"
    st.error(t("desk.major_report.prompt", due=due))
    for line in major_lines(list(r["major_reasons"]), lists["threshold"]):
        st.warning(line)
    errors = form_errors(f"desk_major_{rid}")
    with st.form(f"desk_major_{rid}", enter_to_submit=False):
        comment = st.text_area(t("desk.major_report.comment"), key=f"desk_major_comment_{rid}")
        field_error(errors, "comment")
        key_survey = st.checkbox(t("desk.major_report.key_survey"), key=f"desk_major_survey_{rid}")
        if st.form_submit_button(t("desk.major_report.submit"), type="primary"):
            act(lambda: aftersales.report_major_claim(uow(), actor=actor, request_id=rid,
                                                           expected_version=version, comment=comment,
                                                           key_survey=key_survey, now=now()),
                     notice=t("desk.major_report.done"), form=f"desk_major_{rid}")


def _materials(actor: Actor, view, version: int, lists: dict) -> None:  # noqa: ANN001
    r, rid = view.request, view.request["id"]
    names = lists["materials"]
    codes = required_materials(lists["checklists"], r["claim_kinds"] or [])
    lacking = missing_materials(codes, r["materials_received"] or [])
    st.warning(t("desk.materials.waiting", count=len(view.missing)))
    errors = form_errors(f"desk_materials_{rid}")
    with st.form(f"desk_materials_{rid}", enter_to_submit=False):
        brought = st.multiselect(t("desk.materials.brought"), lacking, placeholder=CHOOSE(),
                                 format_func=lambda c: names.get(c, c), key=f"desk_brought_{rid}")
        field_error(errors, "materials")

        def told(done: aftersales.Registered) -> str:
            if done.state == RequestState.COMPLETE:
                return t("desk.materials.complete", number=done.number)
            return t("desk.materials.still_missing", items=literal("、".join(names.get(m, m) for m in done.missing)))

        if st.form_submit_button(t("desk.materials.submit"), type="primary"):
            act(lambda: aftersales_claims.add_materials(uow(), actor=actor, request_id=rid,
                                                             expected_version=version, materials=list(brought),
                                                             now=now()),
                     notice=told, form=f"desk_materials_{rid}")


def _guide_or_finish(actor: Actor, view, version: int) -> None:  # noqa: ANN001
    r, rid = view.request, view.request["id"]
    if r["state"] == RequestState.RECEIVED:
        errors = form_errors(f"desk_guide_{rid}")
        with st.form(f"desk_guide_{rid}", enter_to_submit=False):
            guidance = st.text_area(t("desk.guide.guidance"), key=f"desk_guidance_{rid}")
            field_error(errors, "guidance")
            address = ""
            if r["kind"] == RequestKind.SURRENDER:
                address = st.text_input(t("desk.field.insurer_address"), key=f"desk_insurer_address_{rid}")
                field_error(errors, "insurer_address")
            if st.form_submit_button(t("desk.guide.submit"), type="primary"):
                act(lambda: aftersales_requests.guide_request(uow(), actor=actor, request_id=rid,
                                                                   expected_version=version, guidance=guidance,
                                                                   insurer_address=address, now=now()),
                         notice=t("desk.guide.done", number=r["number"]), form=f"desk_guide_{rid}")
    elif r["state"] == RequestState.GUIDED:
        errors = form_errors(f"desk_finish_{rid}")
        with st.form(f"desk_finish_{rid}", enter_to_submit=False):
            comment = st.text_area(t("desk.finish.comment"), key=f"desk_finish_comment_{rid}")
            field_error(errors, "comment")
            if st.form_submit_button(t("desk.finish.submit"), type="primary"):
                act(lambda: aftersales_requests.finish_request(uow(), actor=actor, request_id=rid,
                                                                    expected_version=version, comment=comment,
                                                                    now=now()),
                         notice=t("desk.finish.done", number=r["number"]), form=f"desk_finish_{rid}")
