"""The contact log on the case page (a timeline and the form to record a contact) and the intake
clerks' 待联系客户 list. What was said is shown as text in data frames, never as Markdown."""
from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from portal.domain.clocks import Badge
from portal.domain.contacts import ContactChannel, ContactStep, may_record_contact
from portal.domain.validation import Attachment
from portal.i18n.format import badge_text, fmt_time
from portal.services import contacts
from portal.services.actors import Actor
from portal.ui.context import lang, now, t, uow
from portal.ui.widgets import (DATE_FORMAT, act, attachments_uploader, case_href, case_label, case_links, date_label,
                               field_error, form_errors, page_of)

CHANNELS = [c.value for c in ContactChannel]
STEPS = [s.value for s in ContactStep]


def _pager(total: int, page: int, size: int, shown: int, *, key: str) -> None:
    """Which page of a list paged in SQL (the widget keeps the page the query clamped to)."""
    if total > size:
        if st.session_state.get(f"{key}_page", 1) != page:
            st.session_state[f"{key}_page"] = page
        st.number_input(t("ledger.page"), min_value=1, max_value=max(1, -(-total // size)), step=1, key=f"{key}_page")
    first = (page - 1) * size
    st.caption(t("ledger.showing", first=first + 1 if total else 0, last=first + shown, total=total))


def timeline_table(rows: list[contacts.ContactView]) -> pd.DataFrame:
    return pd.DataFrame({
        t("contact.col.at"): [fmt_time(c.at) for c in rows],
        t("contact.col.channel"): [t(f"contact.channel.{c.channel}") for c in rows],
        t("contact.col.step"): [t(f"contact.step.{c.step}") for c in rows],
        t("contact.col.by"): [c.by or t("contact.system") for c in rows],
        t("contact.col.content"): [c.content for c in rows],
        t("contact.col.proof"): [c.proof for c in rows],
        t("contact.col.attachment"): [c.attachment_name or "" for c in rows],
        t("contact.col.notice"): [t(f"contact.notice.{c.notice_state}") if c.notice_state else "" for c in rows],
    })


def contact_section(case, actor: Actor) -> None:  # noqa: ANN001
    """The case's contacts with the customer, newest first, and — for those who talk to the customer
    (not staff the complaint names) — the form to record one."""
    st.subheader(t("contact.title"))
    key = f"contacts_{case.id}"
    timeline = contacts.contact_timeline(uow(), actor=actor, complaint_id=case.id, page=page_of(key))
    optional = t("contact.optional_yes") if timeline.optional_notices else t("contact.optional_no")
    st.caption(t("contact.preference", channel=t(f"contact.channel.{timeline.preferred_contact}"), optional=optional))
    if timeline.total == 0:
        st.text(t("contact.empty"))
    else:
        _pager(timeline.total, timeline.page, timeline.page_size, len(timeline.rows), key=key)
        st.dataframe(timeline_table(timeline.rows), hide_index=True, width="stretch")
    routed = [d["code"] for d in case.departments]
    if not may_record_contact(actor.roles, actor.department_code, routed) or actor.id in case.handling["staff_ids"]:
        return
    record_form(case.id, actor, title=t("contact.record"))


def record_form(complaint_id: int, actor: Actor, *, title: str, expanded: bool = False) -> None:
    """Record a contact: channel and step are chosen (nothing preset), when defaults to now."""
    form = f"contact_form_{complaint_id}"
    errors = form_errors(form)
    current = now()
    with st.expander(title, expanded=expanded or bool(errors)):
        with st.form(form, enter_to_submit=False):
            left, right = st.columns(2)
            channel = left.selectbox(t("field.contact_channel"), CHANNELS, index=None, placeholder=t("widget.choose"),
                                     format_func=lambda v: t(f"contact.channel.{v}"), key=f"{form}_channel")
            with left:
                field_error(errors, "channel")
            chosen_step = right.selectbox(t("field.contact_step"), STEPS, index=None, placeholder=t("widget.choose"),
                                          format_func=lambda v: t(f"contact.step.{v}"), key=f"{form}_step")
            with right:
                field_error(errors, "step")
            day = left.date_input(date_label("field.contact_date"), value=current.date(), max_value=current.date(),
                                  key=f"{form}_date", format=DATE_FORMAT)
            moment = right.time_input(t("field.contact_time"), value=current.time().replace(second=0, microsecond=0),
                                      step=60, key=f"{form}_time")
            field_error(errors, "at")
            content = st.text_area(t("field.contact_content"), key=f"{form}_content")
            field_error(errors, "content")
            proof = st.text_input(t("field.contact_proof"), key=f"{form}_proof")
            field_error(errors, "proof")
            upload = attachments_uploader(t("field.contact_attachment"), f"{form}_attachment", multiple=False)
            field_error(errors, "attachment")
            if st.form_submit_button(t("contact.submit"), type="primary"):
                at = datetime.combine(day, moment) if day and moment else None
                attachment = Attachment(upload.name, upload.type or "", upload.getvalue()) if upload else None
                act(lambda: contacts.record_contact(uow(), actor=actor, complaint_id=complaint_id, channel=channel,
                                                    step=chosen_step, content=content, proof=proof,
                                                    attachment=attachment, at=at, now=now()),
                    notice=t("contact.recorded"), form=form)


def _badge(row: contacts.DueContact, at: datetime) -> str:
    if row.due_at is None:
        return badge_text(Badge.CALENDAR_MISSING, lang())
    if row.due_at < at:
        return badge_text(Badge.OVERDUE, lang())
    if row.soon_at is not None and row.soon_at <= at:
        return badge_text(Badge.DUE_SOON, lang())
    return badge_text(Badge.ON_TRACK, lang())


def due_contacts(actor: Actor) -> None:
    """待联系客户: what to tell which customer, by when, and how they want to be told; a contact is
    recorded right here for the case chosen."""
    st.caption(t("due.help"))
    key = "contacts_due"
    at = now()
    due = contacts.contacts_due(uow(), actor=actor, now=at, page=page_of(key))
    if not due.rows:
        st.info(t("due.empty"))
        return
    _pager(due.total, due.page, due.page_size, len(due.rows), key=key)
    st.dataframe(pd.DataFrame({
        t("field.number"): [case_href(r.number, r.complaint_id) for r in due.rows],
        t("due.col.step"): [t("due.progress") if r.step == ContactStep.PROGRESS else
                            t(f"contact.step.{r.step}") + (t("due.notice_failed") if r.notice_failed else "")
                            for r in due.rows],
        t("due.col.due"): [fmt_time(r.due_at) for r in due.rows],
        t("due.col.badge"): [_badge(r, at) for r in due.rows],
        t("due.col.expected"): [fmt_time(r.expected_completion) if r.expected_completion else "" for r in due.rows],
        t("field.customer"): [r.customer_name for r in due.rows],
        t("field.customer_phone"): [r.customer_phone for r in due.rows],
        t("field.preferred_contact"): [t(f"contact.channel.{r.preferred_contact}") for r in due.rows],
        t("due.col.optional"): [t("yes") if r.optional_notices else t("no") for r in due.rows],
        t("due.col.clerk"): [r.clerk for r in due.rows],
    }), hide_index=True, width="stretch", column_config=case_links())
    options = {r.complaint_id: f"{case_label(r.number, r.complaint_id)} · {r.customer_name}" for r in due.rows}
    chosen = st.selectbox(t("due.pick"), list(options), index=None, placeholder=t("widget.choose"),
                          format_func=options.get, key=f"{key}_pick")
    if chosen is not None:
        record_form(chosen, actor, title=t("contact.record"), expanded=True)
