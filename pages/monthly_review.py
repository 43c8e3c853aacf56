"""月度检查 (002 art.13.9): the cases closed in a finished month with their responsibility, ratios, measures and
results; each department head confirms the ratios on their department or disputes a case; the GM office
resolves disputes (with new ratios if need be) before it compiles the month; 客户投诉立会 (002 art.11.3(3))
are recorded here and rectification items opened from them."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from portal.domain.roles import Role
from portal.printing.statistics_tables import closed_cases_frame, confirmations_frame
from portal.services import exports, meetings, monthly_review, rectification
from portal.ui.auth import require_page
from portal.ui.context import lang, now, reference, t, uow
from portal.ui.widgets import (DATE_FORMAT, act, date_label, field_error, form_errors, labels, lazy_tabs,
                               show_notice)

PAGE_SIZE = 20
actor = require_page("monthly_review")
st.title(t("review.title"))
show_notice()
st.caption(t("review.intro"))
ref = reference()
departments = labels(ref.departments)
names = exports.names(uow(), lang())

month = st.selectbox(t("review.month"), monthly_review.finished_months(now()), key="review_month")
status = monthly_review.review_status(uow(), actor=actor, month=month)
if status.compiled:
    st.info(t("review.compiled", month=month))
elif status.open_disputes:
    st.warning(t("review.disputes_block", count=len(status.open_disputes)))
if status.unconfirmed:
    st.caption(t("review.unconfirmed", departments="、".join(departments.get(d, d) for d in status.unconfirmed)))


def pager(page, key: str) -> None:  # noqa: ANN001
    """Which page of a list counted and paged in SQL (the query clamps it), and where this page sits."""
    if page.total > page.page_size:
        if st.session_state.get(key, 1) != page.page:
            st.session_state[key] = page.page
        st.number_input(t("ledger.page"), min_value=1, max_value=page.pages, step=1, key=key)
    first = (page.page - 1) * page.page_size
    st.caption(t("ledger.showing", first=first + 1 if page.total else 0, last=first + len(page.rows),
                 total=page.total))


def closed_list(department: str | None, key: str) -> list[dict]:
    """One page of the month's closed cases (of one department's share), as a table."""
    page = monthly_review.closed_case_page(uow(), actor=actor, month=month, department=department,
                                           page=int(st.session_state.get(key, 1)), page_size=PAGE_SIZE)
    if not page.total:
        st.info(t("review.no_cases"))
        return []
    st.dataframe(closed_cases_frame(page.rows, names, lang()), hide_index=True, width="stretch")
    pager(page, key)
    return page.rows


def cases_section() -> None:
    closed_list(None, "review_cases_page")


def department_section() -> None:
    """The department head's month: the cases with a share on their department, confirm or dispute."""
    own = next((d for d in status.departments if d.department == actor.department_code), None)
    name = departments.get(actor.department_code, actor.department_code or "")
    if own is not None and own.status == monthly_review.CONFIRMED:
        st.success(t("review.you_confirmed", department=name, by=own.confirmed_by,
                     at=f"{own.confirmed_at:%Y-%m-%d %H:%M}"))
    elif own is not None and own.status == monthly_review.WITHDRAWN:
        st.warning(t("review.withdrawn", department=name))
    rows = closed_list(actor.department_code, "review_dept_page")
    if not rows or status.compiled:
        return
    if st.button(t("review.confirm", department=name, month=month), type="primary", key="review_confirm"):
        act(lambda: monthly_review.confirm_month(uow(), actor=actor, month=month, now=now()),
            notice=t("review.confirmed", month=month), form="review_confirm")
    errors = form_errors("review_dispute")
    numbers = {r["id"]: r["number"] for r in rows}
    with st.form("review_dispute", enter_to_submit=False):
        st.subheader(t("review.dispute_title"))
        case_id = st.selectbox(t("review.dispute_case"), list(numbers), index=None, key="review_dispute_case",
                               format_func=lambda i: numbers[i], placeholder=t("review.choose"))
        reason = st.text_area(t("review.dispute_reason"), key="review_dispute_reason")
        field_error(errors, "reason")
        if st.form_submit_button(t("review.dispute")):
            if case_id is None:
                st.error(t("review.choose_case"))
            else:
                act(lambda: monthly_review.dispute_case(uow(), actor=actor, month=month, complaint_id=case_id,
                                                        reason=reason, now=now()),
                    notice=t("review.disputed", number=numbers[case_id]), form="review_dispute")


def shares_text(shares: dict[str, int]) -> str:
    return "、".join(f"{departments.get(c, c)} {n}%" for c, n in shares.items())


def disputes_section() -> None:
    """The GM office resolves the month's open disputes, changing the case's ratios if need be."""
    waiting = status.open_disputes
    if not waiting:
        st.info(t("review.no_open_disputes"))
        return
    st.dataframe(pd.DataFrame({
        t("review.col.case"): [d.number for d in waiting],
        t("review.col.department"): [departments.get(d.department, d.department) for d in waiting],
        t("review.col.shares"): [shares_text(d.shares) for d in waiting],
        t("review.col.reason"): [d.reason for d in waiting],
        t("review.col.by"): [d.by for d in waiting],
        t("review.col.at"): [f"{d.at:%Y-%m-%d %H:%M}" for d in waiting],
    }), hide_index=True, width="stretch")
    by_id = {d.id: d for d in waiting}
    chosen = st.selectbox(t("review.pick_dispute"), list(by_id), index=None, key="review_pick_dispute",
                          placeholder=t("review.choose"),
                          format_func=lambda i: f"{by_id[i].number} · {departments.get(by_id[i].department, '')}")
    if chosen is None:
        return
    dispute = by_id[chosen]
    st.text(t("review.dispute_shown", number=dispute.number, shares=shares_text(dispute.shares)))
    st.text(f"{t('review.col.reason')}: {dispute.reason}")
    errors = form_errors("review_resolve")
    with st.form(f"review_resolve_{dispute.id}", enter_to_submit=False):
        resolution = st.text_area(t("review.resolution"), key=f"review_resolution_{dispute.id}")
        field_error(errors, "resolution")
        change = st.checkbox(t("review.change_shares"), key=f"review_change_{dispute.id}")
        st.caption(t("review.shares_hint"))
        ratios = {}
        for column, (code, label) in zip(st.columns(3) * (len(departments) // 3 + 1), departments.items()):
            ratios[code] = column.number_input(label, min_value=0, max_value=100, step=1,
                                               value=int(dispute.shares.get(code, 0)),
                                               key=f"review_share_{dispute.id}_{code}")
        field_error(errors, "shares")
        if st.form_submit_button(t("review.resolve"), type="primary"):
            new_shares = [(code, int(n)) for code, n in ratios.items() if n] if change else None
            act(lambda: monthly_review.resolve_dispute(uow(), actor=actor, confirmation_id=dispute.id,
                                                       resolution=resolution, new_shares=new_shares, now=now()),
                notice=lambda withdrawn: t("review.resolved", number=dispute.number) + (
                    t("review.resolved_withdrawn", departments="、".join(departments.get(d, d) for d in withdrawn))
                    if withdrawn else ""),
                form="review_resolve")


def status_section() -> None:
    """Who confirmed what and when, who has not, and every dispute of the month with its resolution."""
    review = {"departments": [d.as_dict() for d in status.departments],
              "disputes": [d.as_dict() for d in status.disputes]}
    if not review["departments"] and not review["disputes"]:
        st.info(t("review.no_cases"))
        return
    st.dataframe(confirmations_frame(review, names, lang()), hide_index=True, width="stretch")


def meetings_section() -> None:
    if actor.has(Role.GM_OFFICE):
        errors = form_errors("meeting_record")
        with st.expander(t("meeting.record_title"), expanded=bool(errors)), \
                st.form("meeting_record", enter_to_submit=False):
            held_on = st.date_input(date_label("meeting.held_on"), value=None, key="meeting_held_on",
                                    format=DATE_FORMAT, max_value=now().date())
            field_error(errors, "held_on")
            title = st.text_input(t("meeting.title_field"), key="meeting_title")
            field_error(errors, "title")
            attendees = st.text_area(t("meeting.attendees"), key="meeting_attendees")
            field_error(errors, "attendees")
            numbers = st.text_input(t("meeting.cases"), key="meeting_cases", help=t("meeting.cases_help"))
            field_error(errors, "case_numbers")
            decisions = st.text_area(t("meeting.decisions"), key="meeting_decisions")
            field_error(errors, "decisions")
            if st.form_submit_button(t("meeting.record"), type="primary"):
                act(lambda: meetings.record_meeting(uow(), actor=actor, held_on=held_on, title=title,
                                                    attendees=attendees, case_numbers=meetings.split_numbers(numbers),
                                                    decisions=decisions, now=now()),
                    notice=t("meeting.recorded"), form="meeting_record")
    listed = meetings.list_meetings(uow(), actor=actor, page=int(st.session_state.get("meeting_page", 1)),
                                    page_size=PAGE_SIZE)
    if not listed.total:
        st.info(t("meeting.none"))
        return
    st.dataframe(pd.DataFrame({
        t("meeting.held_on"): [f"{m.held_on:%Y-%m-%d}" for m in listed.rows],
        t("meeting.title_field"): [m.title for m in listed.rows],
        t("meeting.attendees"): [m.attendees for m in listed.rows],
        t("meeting.decisions"): [m.decisions for m in listed.rows],
        t("meeting.case_count"): [m.cases for m in listed.rows],
        t("meeting.item_count"): [m.rectifications for m in listed.rows],
        t("meeting.recorded_by"): [m.recorded_by for m in listed.rows],
    }), hide_index=True, width="stretch")
    pager(listed, "meeting_page")
    rows = {m.id: m for m in listed.rows}
    chosen = st.selectbox(t("meeting.pick"), list(rows), index=None, key="meeting_pick", placeholder=t("review.choose"),
                          format_func=lambda i: f"{rows[i].held_on:%Y-%m-%d} {rows[i].title}")
    if chosen is not None:
        meeting_detail(chosen)


def meeting_detail(meeting_id: int) -> None:
    view = meetings.meeting(uow(), actor=actor, meeting_id=meeting_id)
    st.text(f"{t('meeting.held_on')}: {view.held_on:%Y-%m-%d}  ·  {t('meeting.recorded_by')}: {view.recorded_by}")
    st.text(f"{t('meeting.attendees')}: {view.attendees}")
    st.text(f"{t('meeting.decisions')}: {view.decisions}")
    st.text(f"{t('meeting.cases')}: " + ("、".join(n for _, n in view.cases) or t("meeting.no_cases")))
    st.subheader(t("meeting.items"))
    if view.rectifications:
        st.dataframe(pd.DataFrame({
            t("review.col.case"): [r.number for r in view.rectifications],
            t("meeting.item_description"): [r.description for r in view.rectifications],
            t("review.col.department"): [departments.get(r.owner_department, r.owner_department)
                                         for r in view.rectifications],
            t("meeting.item_owner"): [r.owner for r in view.rectifications],
            t("meeting.item_deadline"): [f"{r.deadline:%Y-%m-%d}" for r in view.rectifications],
            t("meeting.item_status"): [t(f"rect.status.{r.status}") for r in view.rectifications],
        }), hide_index=True, width="stretch")
    else:
        st.info(t("meeting.no_items"))
    if actor.has(Role.GM_OFFICE) and view.cases:
        item_form(view)


def item_form(view) -> None:  # noqa: ANN001
    """整改 decided at the meeting, on one of the cases it discussed."""
    form = f"meeting_item_{view.id}"
    errors = form_errors(form)
    cases = dict(view.cases)
    causes = {c.code: f"{c.parent_en if lang() == 'en' else c.parent_zh} / {c.name_en if lang() == 'en' else c.name_zh}"
              for c in rectification.cause_choices(uow())}
    owners = {o.id: f"{departments.get(o.department, o.department)} · {o.name}"
              for o in rectification.owner_choices(uow())}
    with st.form(form, enter_to_submit=False):
        st.subheader(t("meeting.item_title"))
        complaint_id = st.selectbox(t("review.col.case"), list(cases), index=None, key=f"{form}_case",
                                    format_func=lambda i: cases[i], placeholder=t("review.choose"))
        field_error(errors, "complaint")
        cause_code = st.selectbox(t("meeting.item_cause_code"), list(causes), index=None, key=f"{form}_cause_code",
                                  format_func=causes.get, placeholder=t("review.choose"))
        field_error(errors, "cause_code")
        cause = st.text_input(t("meeting.item_cause"), key=f"{form}_cause")
        field_error(errors, "cause")
        description = st.text_area(t("meeting.item_description"), key=f"{form}_description")
        field_error(errors, "description")
        owner = st.selectbox(t("meeting.item_owner"), list(owners), index=None, key=f"{form}_owner",
                             format_func=owners.get, placeholder=t("review.choose"))
        field_error(errors, "owner")
        deadline = st.date_input(date_label("meeting.item_deadline"), value=None, key=f"{form}_deadline",
                                 format=DATE_FORMAT, min_value=now().date())
        field_error(errors, "deadline")
        if st.form_submit_button(t("meeting.item_open"), type="primary"):
            if complaint_id is None:
                st.error(t("review.choose_case"))
            else:
                act(lambda: meetings.open_rectification(uow(), actor=actor, meeting_id=view.id,
                                                        complaint_id=complaint_id, cause=cause, cause_code=cause_code,
                                                        description=description, owner_id=owner, deadline=deadline,
                                                        now=now()),
                    notice=t("meeting.item_opened"), form=form)


sections = {"review.tab.cases": cases_section}
if actor.has(Role.DEPT_LEAD) and actor.department_code:
    sections["review.tab.department"] = department_section
if actor.has(Role.GM_OFFICE):
    sections["review.tab.disputes"] = disputes_section
sections["review.tab.status"] = status_section
sections["review.tab.meetings"] = meetings_section
lazy_tabs(sections, key="review_tabs")
