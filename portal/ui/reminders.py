"""催办单 / 洽办单 (002 art.15) as one compact table, newest first: what it asks, who issued it, its
deadline and how far past it; the GM office's form to issue one by hand; a department's answer form."""
from __future__ import annotations

from datetime import datetime, time

import pandas as pd
import streamlit as st

from portal.domain.errors import Message
from portal.i18n.format import fmt_duration, fmt_time
from portal.services import reminders
from portal.services.actors import Actor
from portal.services.queries import find_case_id
from portal.ui.context import lang, now, t, uow
from portal.ui.widgets import DATE_FORMAT, act, case_href, date_label, case_label, case_links, field_error, form_errors


def clock_name(clock_names: dict[str, str], key: str | None) -> str:
    """A clock's name; an overdue rectification item's 催办单 (`rect:<item>:<round>`) names the item and round."""
    if key and key.startswith("rect:"):
        _, item, round_ = key.split(":")
        return t("rect.reminder_clock", item=item, round=round_)
    return clock_names.get(key or "", key or "")


def reminder_table(items: list[reminders.ReminderView], *, clock_names: dict[str, str],
                   departments: dict[str, str]) -> None:
    at = now()
    st.dataframe(pd.DataFrame({
        t("field.number"): [case_href(r.number, r.complaint_id) for r in items],
        t("reminder.kind"): [t(f"kind.{r.kind}") for r in items],
        t("field.departments"): [departments.get(r.department, r.department) for r in items],
        t("reminder.content"): [r.content or t(f"reminder.auto.{r.kind}",
                                               clock=clock_name(clock_names, r.clock_key))
                                for r in items],
        t("reminder.issuer"): [r.issuer or t("reminder.system") for r in items],
        t("reminder.issued_at"): [fmt_time(r.issued_at) for r in items],
        t("reminder.due"): [fmt_time(r.due_at) for r in items],
        t("reminder.overdue"): [fmt_duration(r.overdue(at), lang()) for r in items],
        t("field.answer"): [r.answer for r in items],
        t("reminder.answered_at"): [fmt_time(r.answered_at) for r in items],
    }), hide_index=True, width="stretch", column_config=case_links())


def issue_form(actor: Actor, departments: dict[str, str]) -> None:
    """The GM office issues a reminder or late-inquiry by hand, with its own text and reply deadline."""
    errors = form_errors("issue_reminder")
    with st.form("issue_reminder", enter_to_submit=False):
        st.markdown(f"**{t('reminder.issue_title')}**")
        left, right = st.columns(2)
        reference = left.text_input(t("reminder.case"), key="issue_case", placeholder=t("reminder.case_hint"))
        field_error(errors, "case")
        kind = right.selectbox(t("reminder.kind"), list(reminders.KINDS), index=None, key="issue_kind",
                               format_func=lambda k: t(f"kind.{k}"), placeholder=t("widget.choose"))
        with right:
            field_error(errors, "kind")
        department = left.selectbox(t("field.departments"), list(departments), index=None, key="issue_department",
                                    format_func=departments.get, placeholder=t("widget.choose"))
        with left:
            field_error(errors, "department")
        day = right.date_input(date_label("reminder.reply_by"), value=None, key="issue_day", min_value=now().date(),
                               format=DATE_FORMAT)
        with right:
            field_error(errors, "reply_by")
        content = st.text_area(t("reminder.content"), key="issue_content")
        field_error(errors, "content")
        if st.form_submit_button(t("reminder.issue")):
            complaint_id = find_case_id(uow(), reference) if reference.strip() else None
            if complaint_id is None:
                st.session_state["errors_issue_reminder"] = {"case": Message("case.not_found")}
                st.rerun()
            reply_by = datetime.combine(day, time(23, 59)) if day else None
            act(lambda: reminders.issue_by_hand(uow(), actor=actor, complaint_id=complaint_id, department=department,
                                                kind=kind, content=content, reply_by=reply_by, now=now()),
                notice=t("reminder.issued"), form="issue_reminder")


def answer_form(actor: Actor, items: list[reminders.ReminderView], clock_names: dict[str, str]) -> None:
    """A department answers one of its open items: what it is doing, or why it was late."""
    if not items:
        return
    by_id = {r.id: r for r in items}
    errors = form_errors("answer_reminder")
    with st.form("answer_reminder", enter_to_submit=False):
        chosen = st.selectbox(t("reminder.pick"), list(by_id), index=None, key="answer_pick",
                              placeholder=t("widget.choose"),
                              format_func=lambda i: f"{t(f'kind.{by_id[i].kind}')} · "
                                                    f"{case_label(by_id[i].number, by_id[i].complaint_id)} · "
                                                    f"{by_id[i].content[:30] or clock_name(clock_names, by_id[i].clock_key)}")
        field_error(errors, "reminder")
        answer = st.text_area(t("dept.answer_label"), key="answer_text")
        field_error(errors, "answer")
        if st.form_submit_button(t("dept.answer")):
            if chosen is None:
                st.session_state["errors_answer_reminder"] = {"reminder": Message("form.choose_one")}
                st.rerun()
            act(lambda: reminders.answer_reminder(uow(), actor=actor, reminder_id=chosen, answer=answer, now=now()),
                notice=t("dept.answered"), form="answer_reminder")
