"""What the pages show and ask after closure (issue 18): the cause select (two levels, active only, starting
empty), a case's follow-ups, schedules, department actions, remedy and 总结, the GM office's archive tab, a
department's dissatisfied follow-ups to act on, and the remedy form. User text is shown as text."""
from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from portal.i18n.format import fmt_time
from portal.services import closing, follow_ups
from portal.ui.context import lang, now, t, uow
from portal.ui.widgets import (DATE_FORMAT, act, case_label, case_links, case_href, date_label, field_error,
                               form_errors, labels, page_of, seen_version)
from portal.ui.context import reference

LIST_LIMIT = 20


def cause_select(key: str, errors: dict, field: str = "cause_code", label: str = "field.cause_code") -> str | None:
    """A decision field: the person chooses a sub-cause ("人员 / 服务态度"); nothing is chosen for them."""
    choices = closing.cause_choices(uow())
    names = {c.code: c.label(lang()) for c in choices}
    chosen = st.selectbox(t(label), list(names), index=None, placeholder=t("widget.choose"),
                          format_func=lambda c: names.get(c, c), key=key)
    field_error(errors, field)
    return chosen


def cause_names() -> dict[str, str]:
    """Every sub-cause's label in the reader's language ("人员 / 服务态度"), active or not."""
    return {code: en if lang() == "en" else zh for code, (zh, en) in closing.cause_labels(uow()).items()}


def _reason(text: str) -> str:
    return t("loop.second_visit") if text == "second_visit" else text


def follow_up_history(view: closing.AfterClosure) -> None:
    """The case's follow-ups so far (how, by whom) and the visits scheduled, with their due dates."""
    st.markdown(f"**{t('loop.follow_ups')}**")
    if not view.follow_ups:
        st.text(t("loop.follow_ups_none"))
    else:
        st.dataframe(pd.DataFrame({
            t("loop.col.visited_at"): [fmt_time(f["visited_at"]) for f in view.follow_ups],
            t("loop.col.method"): [t(f"method.{f['method']}") for f in view.follow_ups],
            t("loop.col.by"): [f["by"] for f in view.follow_ups],
            t("loop.col.overall"): [f["overall"] for f in view.follow_ups],
            t("loop.col.dissatisfied"): [t("yes") if f["dissatisfied"] else t("no") for f in view.follow_ups],
            t("loop.col.outcome"): [f["outcome"] for f in view.follow_ups]}), hide_index=True, width="stretch")
    if view.schedules:
        st.markdown(f"**{t('loop.schedules')}**")
        st.dataframe(pd.DataFrame({
            t("loop.col.due_on"): [s["due_on"].isoformat() for s in view.schedules],
            t("loop.col.reason"): [_reason(s["reason"]) for s in view.schedules],
            t("loop.col.scheduled_by"): [s["by"] for s in view.schedules],
            t("loop.col.done"): [t("yes") if s["done"] else t("no") for s in view.schedules]}),
            hide_index=True, width="stretch")


def _actions_table(actions: list[dict]) -> None:
    departments = labels(reference().departments)
    st.dataframe(pd.DataFrame({
        t("loop.col.department"): [departments.get(a["department"], a["department"]) for a in actions],
        t("loop.col.sent_at"): [fmt_time(a["sent_at"]) for a in actions],
        t("loop.col.action"): [a["action"] for a in actions],
        t("loop.col.acted_at"): [fmt_time(a["acted_at"]) for a in actions],
        t("loop.col.acted_by"): [a["by"] for a in actions]}), hide_index=True, width="stretch")


def _remedy_lines(remedy: dict) -> None:
    if not remedy["agreed"]:
        st.text(t("loop.remedy_none"))
        return
    st.text(t("loop.remedy_agreed", amount=remedy["agreed_amount"]))
    if remedy["done_at"] is None:
        st.text(t("loop.remedy_not_recorded"))
    else:
        st.text(t("loop.remedy_done", amount=remedy["amount"], paid_on=remedy["paid_on"].isoformat(),
                  reference=remedy["reference"], by=remedy["by"]))
        if remedy["note"]:
            st.text(remedy["note"])


def blockers_list(blockers) -> None:  # noqa: ANN001
    if blockers:
        st.text(t("loop.blockers"))
        for blocker in blockers:
            st.text(f"• {t(f'archive.blocker.{blocker.value}')}")


def after_closure_section(case, actor) -> None:  # noqa: ANN001
    """The case page: follow-ups (how, by whom), department actions, the remedy, the 总结 or what blocks it."""
    if case.state not in ("closed", "archived"):
        return
    view = closing.after_closure(uow(), actor=actor, complaint_id=case.id)
    st.subheader(t("loop.follow_ups"))
    follow_up_history(view)
    if view.actions:
        st.markdown(f"**{t('loop.actions')}**")
        _actions_table(view.actions)
    st.markdown(f"**{t('loop.remedy')}**")
    _remedy_lines(view.remedy)
    st.markdown(f"**{t('loop.summary')}**")
    causes = cause_names() if view.summary["cause_at_closure"] or view.summary["at"] is not None else {}
    if view.summary["cause_at_closure"]:
        code = view.summary["cause_at_closure"]
        st.text(t("loop.summary_closure_cause", cause=causes.get(code, code)))
    if view.summary["at"] is not None:
        st.text(view.summary["lessons"])
        st.text(t("loop.summary_cause", cause=causes.get(view.summary["cause_code"] or "", "—")))
        st.text(t("loop.summary_rectification",
                  answer=t("yes") if view.summary["rectification"] else t("no")))
        st.text(t("loop.summary_by", by=view.summary["by"], at=fmt_time(view.summary["at"])))
    else:
        blockers_list(view.blockers)
        if not view.blockers:
            st.text(t("loop.ready"))


# -- the GM office --

def schedule_form(case, actor) -> None:  # noqa: ANN001
    """Another follow-up of a closed case by a date, with its reason."""
    form = f"schedule_{case.id}"
    errors = form_errors(form)
    with st.form(form, enter_to_submit=False):
        st.markdown(f"**{t('loop.schedule')}**")
        due = st.date_input(date_label("field.due_on"), value=None, min_value=now().date(),
                            max_value=now().date() + timedelta(days=follow_ups.FAR_AHEAD_DAYS), format=DATE_FORMAT,
                            key=f"schedule_due_{case.id}")
        field_error(errors, "due_on")
        reason = st.text_input(t("field.schedule_reason"), key=f"schedule_reason_{case.id}")
        field_error(errors, "reason")
        if st.form_submit_button(t("loop.schedule")):
            act(lambda: follow_ups.schedule_follow_up(uow(), actor=actor, complaint_id=case.id, due_on=due,
                                                      reason=reason, expected_version=seen_version(case),
                                                      now=now()),
                notice=t("loop.scheduled"), form=form)


def archive_tab(actor) -> None:  # noqa: ANN001
    """Closed cases with what still stands before their archive (the ready ones first), and the 总结 form."""
    key = "archive_pick"
    queue = closing.archive_queue(uow(), actor=actor, page=page_of(key))
    st.caption(t("loop.queue_count", total=queue.total, ready=queue.ready))
    if not queue.rows:
        st.info(t("gm.nothing"))
        return
    if queue.total > queue.page_size:
        st.number_input(t("ledger.page"), min_value=1, max_value=queue.pages, step=1, key=f"{key}_page")
    st.dataframe(pd.DataFrame({
        t("field.number"): [case_href(r.number, r.id) for r in queue.rows],
        t("loop.col.closed_at"): [fmt_time(r.closed_at) for r in queue.rows],
        t("loop.col.blockers"): ["；".join(t(f"archive.blocker.{b.value}") for b in r.blockers) or t("loop.ready")
                                 for r in queue.rows]}), hide_index=True, width="stretch", column_config=case_links())
    rows = {r.id: r for r in queue.rows}
    chosen = st.selectbox(t(f"pick.{key}"), list(rows), key=key,
                          format_func=lambda i: case_label(rows[i].number, i))
    row = rows[chosen]
    from portal.services import queries
    from portal.ui.context import calendar
    case = queries.case_detail(uow(), actor=actor, complaint_id=row.id, now=now(), calendar=calendar())
    seen_version(case)
    if row.blockers:
        st.warning(t("loop.not_ready"))
        blockers_list(row.blockers)
        schedule_form(case, actor)          # e.g. a visit the customer asked for before the archive
        return
    form = f"archive_{case.id}"
    errors = form_errors(form)
    for name, message in errors.items():          # a blocker that arose since the list was read
        if name.startswith("blocker."):
            from portal.ui.context import say
            st.error(say(message))
    with st.form(form, enter_to_submit=False):
        lessons = st.text_area(t("field.lessons"), key=f"lessons_{case.id}")
        field_error(errors, "lessons")
        cause = cause_select(f"summary_cause_{case.id}", errors, "summary_cause_code", "field.summary_cause_code")
        if st.form_submit_button(t("loop.archive"), type="primary"):
            act(lambda: closing.archive(uow(), actor=actor, complaint_id=case.id, lessons=lessons, cause_code=cause,
                                        expected_version=seen_version(case), now=now()),
                notice=t("loop.archived"), form=form)


# -- a department --

def department_follow_ups(actor) -> None:  # noqa: ANN001
    """Dissatisfied follow-ups sent to the handler's department, and the form recording what it did."""
    st.caption(t("loop.dept_help"))
    items = follow_ups.department_follow_ups(uow(), actor=actor, limit=LIST_LIMIT)
    st.caption(t("loop.dept_count", shown=len(items),
                 total=follow_ups.count_department_follow_ups(uow(), actor=actor)))
    if not items:
        st.info(t("loop.dept_none"))
        return
    st.dataframe(pd.DataFrame({
        t("field.number"): [case_href(i.number, i.complaint_id) for i in items],
        t("loop.col.sent_at"): [fmt_time(i.sent_at) for i in items],
        t("loop.col.visited_at"): [fmt_time(i.visited_at) for i in items],
        t("loop.col.method"): [t(f"method.{i.method}") for i in items],
        t("loop.col.overall"): [i.overall for i in items]}), hide_index=True, width="stretch",
        column_config=case_links())
    by_id = {i.id: i for i in items}
    chosen = st.selectbox(t("loop.dept_pick"), list(by_id), key="dept_follow_pick",
                          format_func=lambda i: f"{case_label(by_id[i].number, by_id[i].complaint_id)} · "
                                                f"{fmt_time(by_id[i].visited_at)}")
    # what the customer said, as the case page shows it to this reader (masked where it must be)
    follow_up_history(closing.after_closure(uow(), actor=actor, complaint_id=by_id[chosen].complaint_id))
    form = f"dept_follow_{chosen}"
    errors = form_errors(form)
    with st.form(form, enter_to_submit=False):
        text = st.text_area(t("field.department_action"), key=f"dept_follow_text_{chosen}")
        field_error(errors, "action")
        if st.form_submit_button(t("loop.dept_record"), type="primary"):
            act(lambda: follow_ups.act_on_follow_up(uow(), actor=actor, action_id=chosen, action=text, now=now()),
                notice=t("loop.dept_recorded"), form=form)


# -- 市场部: the remedy carried out --

def remedy_form(case, actor) -> None:  # noqa: ANN001
    view = closing.after_closure(uow(), actor=actor, complaint_id=case.id)
    _remedy_lines(view.remedy)
    if not view.remedy["agreed"]:
        return
    form = f"remedy_{case.id}"
    errors = form_errors(form)
    with st.form(form, enter_to_submit=False):
        left, right = st.columns(2)
        paid_on = left.date_input(date_label("field.remedy_paid_on"), value=None, max_value=now().date(),
                                  format=DATE_FORMAT,
                                  key=f"remedy_paid_on_{case.id}")
        field_error(errors, "remedy_paid_on")
        amount = right.text_input(t("field.remedy_amount"), key=f"remedy_amount_{case.id}")
        field_error(errors, "remedy_amount")
        ref = st.text_input(t("field.remedy_reference"), key=f"remedy_reference_{case.id}")
        field_error(errors, "remedy_reference")
        note = st.text_area(t("field.remedy_note"), key=f"remedy_note_{case.id}")
        field_error(errors, "remedy_note")
        if st.form_submit_button(t("loop.remedy_record"), type="primary"):
            act(lambda: closing.record_remedy(uow(), actor=actor, complaint_id=case.id, paid_on=paid_on,
                                              amount=amount, reference=ref, note=note,
                                              expected_version=seen_version(case), now=now()),
                notice=t("loop.remedy_recorded"), form=form)
