"""投诉登记: the registration form of SPEC §2. Each refused field shows its message beside it."""
from __future__ import annotations

from datetime import datetime

import uuid

import streamlit as st

from portal.domain.contacts import ContactChannel
from portal.domain.errors import ConcurrentChange, NotFound, PermissionDenied, TransitionNotAllowed, ValidationFailed
from portal.domain.validation import AGE_BANDS, GENDERS, SEVERITIES, URGENCIES, Attachment, RegistrationForm
from portal.services.complaints import PossibleDuplicate, register_complaint
from portal.ui.auth import require_page
from portal.ui.context import database_url, lang, now, reference, say, t, uow
from portal.ui.desk_actions import lists_of
from portal.ui.desk_lookup import lookup_form, show_found
from portal.ui.navigation import BY_KEY
from portal.i18n.format import fmt_time
from portal.ui.widgets import DATE_FORMAT, attachments_uploader, case_label, date_label, field_error, labels

actor = require_page("register")
CONTACT_CHANNELS = [c.value for c in ContactChannel]
ref = reference()
errors = st.session_state.get("register_errors", {})

st.title(t("register.title"))
# Widget keys, so a refused form keeps what was typed. After a registration the keys change, so
# the browser draws an empty form (deleting the old keys would not clear what it shows). Every key
# and button of the form is bound to its generation: a send of an earlier generation's form (the
# second click of a double click, answered after the first was saved) submits nothing here.
GENERATION = st.session_state.setdefault("register_generation", 0)
K = f"reg{GENERATION or ''}_"
TOKEN = st.session_state.setdefault(f"register_token_{GENERATION}", uuid.uuid4().hex)

# the same lookup as the service desk: the customer's policies, claim reports, requests and complaints
with st.expander(t("register.lookup"), expanded="register_found" in st.session_state):
    found = lookup_form(actor, key="register")
    if found is not None:
        show_found(found, lists_of(database_url(), lang())["risk"])
saved = st.session_state.get("register_done")      # shown until the next submission, like the others
if saved:
    st.success(t("register.saved", id=saved.id, severity=t(f"severity.{saved.severity}")))
    st.page_link(BY_KEY["case"].path, label=t("register.open_new_case", id=saved.id), icon="📄",
                 query_params={"case": str(saved.id)})
    if saved.major_reasons:
        st.warning(t("register.major_saved",
                     reasons="、".join(t(f"major.reason.{r}") for r in saved.major_reasons)))
similar = st.session_state.get("register_similar")
if similar:
    cases, days, reports = similar
    if cases:
        st.warning(t("register.possible_duplicate", count=len(cases), days=days))
    if reports:                         # the customer's claim reports at the service desk (002 ch.2 4.(二)3)
        st.info(t("register.related_reports", count=len(reports)))
        for report in reports:
            st.page_link(BY_KEY["request"].path, icon="🧾", query_params={"number": report.number},
                         label=t("register.related_report", number=report.number,
                                 received=fmt_time(report.received_at), state=t(f"desk.state.{report.state}"),
                                 matched="、".join(t(f"field.{m}") for m in report.matched)))
    for item in cases:
        left, right = st.columns([3, 2])
        left.page_link(BY_KEY["case"].path, icon="📄", query_params={"case": item.number or str(item.id)},
                       label=t("register.similar_case", number=case_label(item.number, item.id),
                               received=fmt_time(item.received_at), state=t(f"state.{item.state}"),
                               matched="、".join(t(f"field.{m}") for m in item.matched)))
        if right.button(t("register.link_to", number=case_label(item.number, item.id)), key=f"{K}link_{item.id}"):
            st.session_state["register_resolution"] = ("link", item.id)
    if st.button(t("register.confirm_new"), key=K + "confirm_new"):
        st.session_state["register_resolution"] = ("new", None)
if errors:
    st.error(t("form.has_errors", count=len(errors)))
if "register_refused" in st.session_state:          # refused as a whole (a role or state changed meanwhile)
    st.error(say(st.session_state["register_refused"]))


def text(name: str, area: bool = False, **kwargs) -> None:  # noqa: ANN003
    widget = st.text_area if area else st.text_input
    widget(t(f"field.{name}"), key=K + name, **kwargs)
    field_error(errors, name)


def choose(name: str, options: list[str], label_prefix: str, **kwargs) -> None:  # noqa: ANN003
    st.selectbox(t(f"field.{name}"), options, key=K + name,
                 format_func=lambda v: t(f"{label_prefix}.{v}"), **kwargs)
    field_error(errors, name)


with st.form(K + "form", clear_on_submit=False, enter_to_submit=False):
    st.subheader(t("register.section.customer"))
    left, right = st.columns(2)
    with left:
        text("customer_name")
        choose("customer_gender", list(GENDERS), "gender", index=2)
        choose("customer_age_band", list(AGE_BANDS), "age", index=len(AGE_BANDS) - 1)
        text("customer_occupation")
    with right:
        text("customer_phone", placeholder="13812345678")
        text("customer_id_number")
        text("customer_address")
        text("customer_email")
    # How the customer wants to be told (SPEC §11): the clerk asks, nothing is preset.
    left, right = st.columns(2)
    with left:
        choose("preferred_contact", CONTACT_CHANNELS, "contact.channel", index=None, placeholder=t("widget.choose"))
    with right:
        st.checkbox(t("field.optional_notices"), value=True, key=K + "optional_notices")
    st.subheader(t("register.section.policy"))
    left, right = st.columns(2)
    with left:
        text("policy_number")
        text("product")
    with right:
        text("insured_name")
        text("claim_report_number")
    st.subheader(t("register.section.complaint"))
    current = now()
    left, right = st.columns(2)
    channels, categories = labels(ref.channels), labels(ref.categories)
    with left:
        st.date_input(date_label("field.received_date"), value=current.date(), key=K + "received_date",
                      max_value=current.date(), format=DATE_FORMAT)
        st.time_input(t("field.received_time"), value=current.time().replace(second=0),
                      key=K + "received_time", step=60)
        field_error(errors, "received_at")
        # How it came in, what it is about, how serious and how urgent: the clerk decides, nothing preset.
        st.selectbox(t("field.channel"), list(channels), format_func=channels.get, key=K + "channel",
                     index=None, placeholder=t("widget.choose"))
        field_error(errors, "channel")
        st.selectbox(t("field.category"), list(categories), format_func=categories.get, key=K + "category",
                     index=None, placeholder=t("widget.choose"))
        field_error(errors, "category")
    with right:
        choose("severity", list(SEVERITIES), "severity", index=None, placeholder=t("widget.choose"))
        choose("urgency", list(URGENCIES), "urgency", index=None, placeholder=t("widget.choose"))
        staff = {s.code: f"{s.name_zh} ({s.code})" for s in ref.staff}
        st.multiselect(t("field.complained_staff"), list(staff), format_func=staff.get, placeholder=t("widget.choose"),
                       key=K + "complained_staff")
        field_error(errors, "complained_staff")
        text("complained_staff_other")
    text("description", area=True)
    text("product_involved")
    text("expected_resolution", area=True)
    text("clerk_opinion", area=True, help=t("register.clerk_opinion_help"))     # required (002 art.13.1)
    attachments_uploader(t("field.attachments"), K + "attachments")
    field_error(errors, "attachments")
    st.subheader(t("register.section.major"))
    left, right = st.columns(2)
    with left:
        st.checkbox(t("field.flag_deaths"), key=K + "flag_deaths")
        st.checkbox(t("field.flag_media"), key=K + "flag_media")
        st.checkbox(t("field.flag_regulator"), key=K + "flag_regulator")
        st.checkbox(t("field.flag_association"), key=K + "flag_association")
        st.checkbox(t("field.flag_litigation"), key=K + "flag_litigation")
    with right:
        text("amount_at_stake")
        st.number_input(t("field.joint_complainants"), min_value=1, max_value=100000, value=1,
                        step=1, key=K + "joint_complainants")
        field_error(errors, "joint_complainants")
    submitted = st.form_submit_button(t("register.submit"), type="primary")


def collect() -> tuple[RegistrationForm, list[Attachment]]:
    s = st.session_state
    received = datetime.combine(s[K + "received_date"], s[K + "received_time"]) \
        if s[K + "received_date"] and s[K + "received_time"] else None
    form = RegistrationForm(
        customer_name=s[K + "customer_name"], customer_gender=s[K + "customer_gender"],
        customer_age_band=s[K + "customer_age_band"], customer_occupation=s[K + "customer_occupation"],
        customer_phone=s[K + "customer_phone"], customer_id_number=s[K + "customer_id_number"],
        customer_address=s[K + "customer_address"], customer_email=s[K + "customer_email"],
        policy_number=s[K + "policy_number"], product=s[K + "product"],
        insured_name=s[K + "insured_name"], claim_report_number=s[K + "claim_report_number"],
        received_at=received, channel=s[K + "channel"] or "", category=s[K + "category"] or "",
        description=s[K + "description"], product_involved=s[K + "product_involved"],
        expected_resolution=s[K + "expected_resolution"], clerk_opinion=s[K + "clerk_opinion"],
        complained_staff=list(s[K + "complained_staff"]),
        complained_staff_other=s[K + "complained_staff_other"],
        severity=s[K + "severity"] or "", urgency=s[K + "urgency"] or "", flag_media=s[K + "flag_media"],
        flag_regulator=s[K + "flag_regulator"], flag_litigation=s[K + "flag_litigation"],
        flag_deaths=s[K + "flag_deaths"], flag_association=s[K + "flag_association"],
        amount_at_stake=s[K + "amount_at_stake"], joint_complainants=int(s[K + "joint_complainants"]),
        preferred_contact=s[K + "preferred_contact"] or "", optional_notices=s[K + "optional_notices"])
    files = [Attachment(f.name, f.type or "", f.getvalue()) for f in (s[K + "attachments"] or [])]
    return form, files


resolution = st.session_state.pop("register_resolution", None)
if submitted or resolution:
    form, files = collect()
    # the messages shown belong to the last submission only: this one's replace the earlier ones
    for stale in ("register_done", "register_similar", "register_errors", "register_refused"):
        st.session_state.pop(stale, None)
    kind, original = resolution or ("check", None)
    try:
        done = register_complaint(uow(), actor=actor, form=form, attachments=files, now=now(),
                                  original_id=original, confirmed_new=kind != "check",
                                  submission_token=TOKEN)     # this filled-in form, however often it is sent
    except PossibleDuplicate as maybe:     # nothing saved: the clerk links it or confirms a new case
        st.session_state["register_similar"] = (maybe.cases, maybe.message.params["days"], maybe.reports)
        st.rerun()
    except ValidationFailed as refused:
        st.session_state["register_errors"] = refused.errors
        st.rerun()
    except (PermissionDenied, TransitionNotAllowed, ConcurrentChange, NotFound) as refused:
        st.session_state["register_refused"] = refused.message
        st.rerun()
    else:
        # In this order, so a run stopped between two of these steps (a newer send starts a new run at
        # once) leaves a state the next run completes: the same form again finds its case by TOKEN.
        st.session_state["register_done"] = done
        st.session_state["register_generation"] = GENERATION + 1
        for key in [k for k in st.session_state if str(k).startswith(K)]:
            del st.session_state[key]
        st.rerun()
