"""售后受理 (002 ch.2): 市场部's clerks look the customer up before anything is registered (4.(二)3), register
claim reports checked against the policy register, claim applications with their materials, surrenders and
endorsements, and work what waits on the desk. Only the open tab runs; what a user typed is shown as text."""
from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from portal.domain.aftersales import DISPUTE_BODIES, RequestKind, required_materials
from portal.domain.errors import Message
from portal.domain.privacy import PersonalField
from portal.i18n.format import fmt_time
from portal.services import aftersales, aftersales_claims, aftersales_queries, aftersales_requests, policies
from portal.ui.auth import require_page
from portal.ui.context import database_url, lang, now, t, uow
from portal.ui.desk_actions import CHOOSE, lists_of, request_panel, requests_table
from portal.ui.desk_lookup import lookup_form, show_found
from portal.ui.widgets import (DATE_FORMAT, act, date_label, field_error, form_errors, lazy_tabs, page_of, pager,
                               remember_versions, show_notice)

actor = require_page("desk")
st.title(t("desk.title"))
show_notice()
TABS = "desk_tabs"
lists = lists_of(database_url(), lang())


def prefix(form: str) -> str:
    """A form's widget keys: a new generation after each save, so the browser draws the form empty."""
    return f"desk_{form}{st.session_state.get(f'desk_{form}_gen', 0)}_"


def next_generation(form: str) -> None:
    old = prefix(form)
    for key in [k for k in st.session_state if str(k).startswith(old)]:
        del st.session_state[key]
    st.session_state[f"desk_{form}_gen"] = st.session_state.get(f"desk_{form}_gen", 0) + 1


def text(errors: dict, key: str, name: str, *, area: bool = False, label: str | None = None,
         **kwargs) -> str:  # noqa: ANN003
    widget = st.text_area if area else st.text_input
    value = widget(t(label or f"desk.field.{name}"), key=key + name, **kwargs)
    field_error(errors, name)
    return value


def pick(errors: dict, key: str, name: str, options: dict[str, str], *, label: str | None = None) -> str | None:
    """A decision the clerk makes: nothing is chosen until they choose."""
    value = st.selectbox(t(label or f"desk.field.{name}"), list(options), index=None, placeholder=CHOOSE(),
                         format_func=lambda c: options.get(c, c), key=key + name)
    field_error(errors, name)
    return value


def moment(day: object, at: object) -> datetime | None:
    return datetime.combine(day, at) if day is not None and at is not None else None


# -- 查询: the one lookup before anything is registered -------------------------------------------------


def start_from(target: str, policy_number: str, insured: str, report: tuple[int, str] | None = None) -> None:
    """A button's callback (it runs before the page): the chosen form, prefilled, on its tab. An application
    on a policy with a report in hand follows that report (the newest)."""
    form = {"surrender": "request", "endorsement": "request"}.get(target, target)
    key = prefix(form)
    st.session_state[key + "policy_number"] = policy_number
    st.session_state[key + "insured_name"] = insured
    if form == "request":
        st.session_state[key + "kind"] = target
    if form == "application" and report is not None:
        st.session_state["desk_application_find"] = report[1]       # the list narrowed to it, then chosen
        st.session_state[key + "report_id"] = report[0]
    st.session_state[TABS] = t({"report": "desk.tab.report", "application": "desk.tab.application"}
                               .get(form, "desk.tab.request"))


def start_buttons(policy: policies.FoundPolicy, shown: frozenset[PersonalField]) -> None:
    """From a found policy: a report, an application, a surrender or an endorsement, prefilled."""
    if PersonalField.POLICY_NUMBER in shown:       # a masked number cannot start anything
        insured = next((p.name for p in policy.persons if p.role == "insured"), "") \
            if PersonalField.NAME in shown else ""
        in_hand = next(((r.id, r.number) for r in policy.requests
                        if r.kind == RequestKind.CLAIM_REPORT and r.state == "reported"), None)
        for column, target in zip(st.columns(4), ("report", "application", "surrender", "endorsement")):
            column.button(t(f"desk.lookup.start.{target}"), key=f"desk_start_{target}_{policy.id}",
                          on_click=start_from, args=(target, policy.policy_number, insured, in_hand))


def tell_caller_form(found: policies.Lookup) -> None:
    """A caller whose report (or request) is in hand is told so, and how far it got: a contact-log row."""
    requests = {r.id: r for p in found.policies for r in p.requests}
    if not requests:
        return
    st.subheader(t("desk.tell.header"))
    st.caption(t("desk.tell.help"))
    errors = form_errors("desk_tell")
    with st.form("desk_tell", enter_to_submit=False):
        names = {i: f"{r.number} · {t(f'desk.kind.{r.kind}')} · {t(f'desk.state.{r.state}')}"
                 for i, r in requests.items()}
        chosen = st.selectbox(t("desk.tell.request"), list(requests), index=None, placeholder=CHOOSE(),
                              key="desk_tell_request", format_func=names.get)
        field_error(errors, "request")
        channels = {c: t(f"desk.contact.{c}") for c in aftersales.CONTACT_CHANNELS}
        channel = st.selectbox(t("desk.tell.channel"), list(channels), index=None, placeholder=CHOOSE(),
                               format_func=channels.get, key="desk_tell_channel")
        field_error(errors, "channel")
        content = st.text_area(t("desk.tell.content"), key="desk_tell_content")
        field_error(errors, "content")
        if st.form_submit_button(t("desk.tell.submit"), type="primary"):
            if chosen is None:
                st.session_state["errors_desk_tell"] = {"request": Message("form.choose_one")}
                st.rerun()
            act(lambda: aftersales.tell_caller(uow(), actor=actor, request_id=chosen, channel=channel,
                                                    content=content, now=now()),
                     notice=t("desk.tell.done", number=requests[chosen].number), form="desk_tell")


def lookup_tab() -> None:
    found = lookup_form(actor, key="desk")
    if found is not None:
        show_found(found, lists["risk"], extra=start_buttons)
        if not found.no_policy and not found.ambiguous:
            tell_caller_form(found)


# -- 报案登记 -----------------------------------------------------------------------------------------


def report_saved(done: aftersales.Registered) -> str:
    st.session_state["desk_report_done"] = done
    next_generation("report")
    return t("desk.report.saved", number=done.number)


def report_tab() -> None:
    done: aftersales.Registered | None = st.session_state.get("desk_report_done")
    if done is not None:
        with st.container(border=True):
            request_panel(actor, done.id, lists, registered=done)
            if st.button(t("desk.report.dismiss"), key="desk_report_dismiss"):
                st.session_state.pop("desk_report_done", None)
                st.rerun()
    key, errors = prefix("report"), form_errors("desk_report")
    if errors:
        st.error(t("form.has_errors", count=len(errors)))
    current = now()
    with st.form("desk_report", enter_to_submit=False):
        st.subheader(t("desk.report.section.policy"))
        left, right = st.columns(2)
        with left:
            text(errors, key, "policy_number")
            text(errors, key, "insured_name")
            pick(errors, key, "channel", lists["channel"])
        with right:
            st.date_input(date_label("desk.field.received_date"), value=current.date(), max_value=current.date(),
                          format=DATE_FORMAT, key=key + "received_date")
            st.time_input(t("desk.field.received_time"), value=current.time().replace(second=0), step=60,
                          key=key + "received_time")
            field_error(errors, "received_at")
            text(errors, key, "insurer_report_number")
        st.subheader(t("desk.report.section.event"))
        left, right = st.columns(2)
        with left:
            st.date_input(date_label("desk.field.event_date"), value=None, max_value=current.date(),
                          format=DATE_FORMAT, key=key + "event_date")
            st.time_input(t("desk.field.event_time"), value=None, step=60, key=key + "event_time")
            field_error(errors, "event_at")
            text(errors, key, "event_place")
            pick(errors, key, "cause_code", lists["risk"])
        with right:
            text(errors, key, "injury")
            text(errors, key, "measures_taken")
            text(errors, key, "present_condition")
            text(errors, key, "hospital")
        text(errors, key, "event_description", area=True)
        st.subheader(t("desk.report.section.reporter"))
        left, right = st.columns(2)
        with left:
            text(errors, key, "reporter_name")
            text(errors, key, "reporter_phone")
        with right:
            text(errors, key, "reporter_address")
            pick(errors, key, "reporter_relation", lists["relation"])
        st.subheader(t("desk.report.section.major"))
        st.caption(t("desk.report.major_help"))
        left, right = st.columns(2)
        with left:
            st.number_input(t("desk.field.deaths"), min_value=0, max_value=9999, value=0, step=1, key=key + "deaths")
            field_error(errors, "deaths")
            text(errors, key, "estimated_amount")
            st.checkbox(t("desk.field.outcome_uncertain"), key=key + "outcome_uncertain")
        with right:
            bodies = {b: t(f"desk.dispute.{b}") for b in DISPUTE_BODIES}
            st.multiselect(t("desk.field.disputes"), list(bodies), placeholder=CHOOSE(), format_func=bodies.get,
                           key=key + "disputes")
            field_error(errors, "disputes")
            st.checkbox(t("desk.field.litigation"), key=key + "litigation")
        if st.form_submit_button(t("desk.report.submit"), type="primary"):
            s = st.session_state
            form = aftersales.ClaimReportForm(
                policy_number=s[key + "policy_number"], insured_name=s[key + "insured_name"],
                channel=s[key + "channel"], received_at=moment(s[key + "received_date"], s[key + "received_time"]),
                event_at=moment(s[key + "event_date"], s[key + "event_time"]), event_place=s[key + "event_place"],
                cause_code=s[key + "cause_code"], event_description=s[key + "event_description"],
                injury=s[key + "injury"], measures_taken=s[key + "measures_taken"],
                present_condition=s[key + "present_condition"], hospital=s[key + "hospital"],
                reporter_name=s[key + "reporter_name"], reporter_address=s[key + "reporter_address"],
                reporter_phone=s[key + "reporter_phone"], reporter_relation=s[key + "reporter_relation"],
                insurer_report_number=s[key + "insurer_report_number"], deaths=int(s[key + "deaths"]),
                estimated_amount=s[key + "estimated_amount"], outcome_uncertain=s[key + "outcome_uncertain"],
                disputes=list(s[key + "disputes"]), litigation=s[key + "litigation"])
            st.session_state.pop("desk_report_done", None)
            act(lambda: aftersales.register_claim_report(uow(), actor=actor, form=form, now=now()),
                     notice=report_saved, form="desk_report")


# -- 待办: what waits on the desk ---------------------------------------------------------------------


def queue_tab() -> None:
    chased = aftersales_queries.reminders_waiting(uow(), actor=actor)
    if chased:
        st.warning(t("desk.reminders.open", count=chased), icon="⏰")
    queue = aftersales_queries.desk_queue(uow(), actor=actor, now=now(), page=page_of("desk_pick"))
    if queue.frame.empty:
        st.info(t("desk.queue.empty"))
        return
    pager(queue, key="desk_pick")
    st.dataframe(requests_table(queue.frame, lists), hide_index=True, width="stretch")
    ids = [int(i) for i in queue.frame["id"]]
    rows = {int(r["id"]): r for r in queue.frame.to_dict("records")}
    names = {i: f"{r['number']} · {t('desk.kind.' + r['kind'])} · {t('desk.state.' + r['state'])} · "
                f"{r['contact_name']}" for i, r in rows.items()}
    chosen = st.selectbox(t("desk.queue.pick"), ids, key="desk_pick", format_func=names.get)
    if chosen is not None:
        request_panel(actor, chosen, lists)


# -- 理赔申请 -----------------------------------------------------------------------------------------


def application_saved(done: aftersales.Registered) -> str:
    notified = False
    if done.missing:      # the notice is queued in the same transaction, as a contact of the request
        view = aftersales_queries.request_detail(uow(), actor=actor, request_id=done.id, now=now(), lang=lang())
        notified = bool((view.contacts["channel"] == "sms").any())
    st.session_state["desk_application_done"] = (done, notified)
    next_generation("application")
    return t("desk.application.saved", number=done.number)


def application_result() -> None:
    saved = st.session_state.get("desk_application_done")
    if saved is None:
        return
    done, notified = saved
    names = lists["materials"]
    with st.container(border=True):
        if done.missing:
            st.warning(t("desk.application.incomplete", number=done.number))
            st.dataframe(pd.DataFrame({t("desk.materials.missing"): [names.get(m, m) for m in done.missing]}),
                         hide_index=True, width="stretch")
            if notified:
                st.info(t("desk.application.notice_sent"))
            else:
                st.info(t("desk.application.tell_in_person"))
        else:
            st.success(t("desk.application.complete", number=done.number))
        if st.button(t("desk.report.dismiss"), key="desk_application_dismiss"):
            st.session_state.pop("desk_application_done", None)
            st.rerun()


def application_tab() -> None:
    application_result()
    key, errors = prefix("application"), form_errors("desk_application")
    if errors:
        st.error(t("form.has_errors", count=len(errors)))
    st.subheader(t("desk.application.section.claim"))
    wanted = st.text_input(t("desk.application.find_report"), key="desk_application_find")
    in_hand = aftersales_queries.request_register(
        uow(), actor=actor, now=now(), page_size=50,
        filters=aftersales_queries.RequestFilter(kind=RequestKind.CLAIM_REPORT.value, states=["reported"],
                                                 text=wanted))
    reports = {int(r["id"]): r for r in in_hand.frame.to_dict("records")}
    if in_hand.total > len(reports):
        st.caption(t("desk.application.more_reports", shown=len(reports), total=in_hand.total))
    report_id = st.selectbox(t("desk.field.report_id"), list(reports), index=None, placeholder=CHOOSE(),
                             key=key + "report_id",
                             format_func=lambda i: f"{reports[i]['number']} · {reports[i]['insured_name']} · "
                                                   f"{reports[i]['policy_number']}")
    field_error(errors, "report_id")
    if report_id is None:
        st.caption(t("desk.application.or_policy"))
        left, right = st.columns(2)
        with left:
            text(errors, key, "policy_number")
        with right:
            text(errors, key, "insured_name")
    pick(errors, key, "channel", lists["channel"])
    st.subheader(t("desk.application.section.applicant"))
    left, right = st.columns(2)
    with left:
        text(errors, key, "applicant_name")
        text(errors, key, "applicant_id_number")
        pick(errors, key, "applicant_relation", lists["relation"])
    with right:
        text(errors, key, "applicant_phone")
        text(errors, key, "applicant_address")
    st.checkbox(t("desk.field.right_verified"), value=False, key=key + "right_verified")
    field_error(errors, "right_verified")
    st.subheader(t("desk.application.section.materials"))
    kinds = st.multiselect(t("desk.field.claim_kinds"), list(lists["claim_kind"]), placeholder=CHOOSE(),
                           format_func=lambda c: lists["claim_kind"].get(c, c), key=key + "claim_kinds")
    field_error(errors, "claim_kinds")
    st.caption(t("desk.application.tick_help"))
    required = required_materials(lists["checklists"], kinds)
    received = [code for code in required
                if st.checkbox(lists["materials"].get(code, code), key=f"{key}material_{code}")]
    field_error(errors, "materials")
    if st.button(t("desk.application.submit"), type="primary", key=key + "submit"):
        s = st.session_state
        form = aftersales_claims.ApplicationForm(
            report_id=report_id, policy_number=s.get(key + "policy_number", ""),
            insured_name=s.get(key + "insured_name", ""), channel=s[key + "channel"],
            applicant_name=s[key + "applicant_name"], applicant_id_number=s[key + "applicant_id_number"],
            applicant_phone=s[key + "applicant_phone"], applicant_address=s[key + "applicant_address"],
            applicant_relation=s[key + "applicant_relation"], right_verified=s[key + "right_verified"],
            claim_kinds=list(kinds), materials=received)
        st.session_state.pop("desk_application_done", None)
        act(lambda: aftersales_claims.record_application(uow(), actor=actor, form=form, now=now()),
                 notice=application_saved, form="desk_application")


# -- 退保 / 批改 ----------------------------------------------------------------------------------------


def request_saved(done: aftersales.Registered) -> str:
    next_generation("request")
    return t("desk.request.saved", number=done.number)


def request_tab() -> None:
    key, errors = prefix("request"), form_errors("desk_request")
    if errors:
        st.error(t("form.has_errors", count=len(errors)))
    kinds = {k.value: t(f"desk.kind.{k.value}") for k in (RequestKind.SURRENDER, RequestKind.ENDORSEMENT)}
    kind = st.radio(t("desk.field.kind"), list(kinds), index=None, horizontal=True, format_func=kinds.get,
                    key=key + "kind")
    field_error(errors, "kind")
    left, right = st.columns(2)
    with left:
        text(errors, key, "policy_number")
        text(errors, key, "insured_name")
        pick(errors, key, "channel", lists["channel"])
    with right:
        text(errors, key, "requester_name")
        text(errors, key, "requester_phone")
    if kind == RequestKind.SURRENDER:
        pick(errors, key, "reason_code", lists["surrender_reason"])
        text(errors, key, "reason_text", area=True)
    elif kind == RequestKind.ENDORSEMENT:
        text(errors, key, "change_requested", area=True)
    if st.button(t("desk.request.submit"), type="primary", key=key + "submit"):
        if kind is None:
            st.session_state["errors_desk_request"] = {"kind": Message("form.choose_one")}
            st.rerun()
        s = st.session_state
        form = aftersales_requests.PolicyRequestForm(
            kind=kind, policy_number=s[key + "policy_number"], insured_name=s[key + "insured_name"],
            channel=s[key + "channel"], requester_name=s[key + "requester_name"],
            requester_phone=s[key + "requester_phone"], reason_code=s.get(key + "reason_code"),
            reason_text=s.get(key + "reason_text", ""), change_requested=s.get(key + "change_requested", ""))
        act(lambda: aftersales_requests.register_policy_request(uow(), actor=actor, form=form, now=now()),
                 notice=request_saved, form="desk_request")


lazy_tabs({"desk.tab.lookup": lookup_tab, "desk.tab.report": report_tab, "desk.tab.queue": queue_tab,
           "desk.tab.application": application_tab, "desk.tab.request": request_tab}, key=TABS)
remember_versions()
