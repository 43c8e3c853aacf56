"""总经理室: accept and route; consolidate and route for approval; close with responsibility and
penalties; follow-up tasks; reminders (催办单) and late-inquiries (洽办单), issued on page load."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from portal.domain.lifecycle import State
from portal.domain.validation import SEVERITIES
from portal.i18n.format import fmt_time
from portal.services import closing
from portal.services import (assignment, complaints, handling, queries, rectification, reminders,
                             rules, statistics)
from portal.ui.literal import literal
from portal.domain.statistics import indicator_text
from portal.ui.warning_panel import warnings_panel
from portal.ui.auth import require_page
from portal.ui.context import calendar, lang, month_warnings, now, reference, sweep_reminders, t, uow
from portal.ui.navigation import BY_KEY
from portal.ui.form_panels import decision_context
from portal.ui.closing_section import archive_tab, cause_select, follow_up_history, schedule_form
from portal.ui.assignment_section import unassigned_notice
from portal.ui.reminders import issue_form, reminder_table
from portal.ui.regulatory_section import complete_form, effect_form, rectification_status_form, rectification_table
from portal.ui.widgets import (act, case_label, case_links, cases_table, field_error, form_errors, labels, lazy_tabs,
                               page_of, pager,
                               pick_from_queue,
                               remember_versions, seen_version, show_notice)

actor = require_page("gm_office")
st.title(t("gm.title"))
show_notice()
sweep_reminders()
for item in month_warnings(actor):
    st.warning(t("stats.warning_gm", indicator=t(f"stats.rate.{item['indicator']}"),
                 value=indicator_text(item["indicator"], item["value"]),
                 threshold=indicator_text(item["indicator"], item["threshold"]), period=item["period"]))
with st.expander(t("insight.warning.section"), expanded=False):     # pushed warnings and their responses
    warnings_panel(actor, key="gm")
compile_clock = statistics.compile_clock(uow(), now=now())
if compile_clock.snapshot is None:       # the monthly table is one of the office's own deadlines
    st.info(t("stats.compile.status", month=compile_clock.month,
              status=t(f"stats.compile_status.{compile_clock.status.value}"), due=fmt_time(compile_clock.due)))
left, right = st.columns(2)
left.page_link(BY_KEY["ledger"].path, label=t("gm.ledger_link"), icon="📒")
right.page_link(BY_KEY["statistics"].path, label=t("nav.statistics"), icon="📊")

ref = reference()
LIST_LIMIT = 200
categories, departments = labels(ref.categories), labels(ref.departments)
investigating = labels(ref.investigating)


def table(ledger, clocks=None) -> None:  # noqa: ANN001
    st.dataframe(cases_table(ledger.frame, clocks if clocks is not None else ledger.clocks,
                             categories=categories, departments=departments),
                 hide_index=True, width="stretch", column_config=case_links())


def technical_form(case) -> None:  # noqa: ANN001
    """The GM office sends the case to 技术部 as well (002 art.13.3)."""
    if any(d["code"] == "technical" for d in case.departments):
        return
    errors = form_errors(f"tech_{case.id}")
    with st.form(f"tech_{case.id}", enter_to_submit=False):
        reason = st.text_input(t("gm.technical_reason"), key=f"tech_reason_{case.id}")
        field_error(errors, "reason")
        if st.form_submit_button(t("gm.technical")):
            act(lambda: handling.request_technical_analysis(uow(), actor=actor, complaint_id=case.id, reason=reason,
                                                            expected_version=seen_version(case), now=now()),
                notice=t("dept.technical_done"), form=f"tech_{case.id}")


def accept_tab() -> None:
    st.subheader(t("gm.queue"))
    queue = queries.acceptance_queue(uow(), actor=actor, now=now(), calendar=calendar(), page=page_of("gm_pick"))
    if queue.frame.empty:
        st.info(t("gm.queue_empty"))
    else:
        pager(queue, key="gm_pick")
        table(queue, [c for c in queue.clocks if c.rule.start.value == "received_at"])
        st.subheader(t("gm.accept_form"))
        case = pick_from_queue(queue, key="gm_pick", actor=actor, summary=False, show_table=False)
        if case:
            errors = form_errors(f"accept_{case.id}")
            context, form_column = st.columns([2, 3])
            with context:
                decision_context(case, ("complaint",))
            with form_column, st.form(f"accept_{case.id}", enter_to_submit=False):
                category = st.selectbox(t("field.category"), list(categories), format_func=categories.get,
                                        index=list(categories).index(case.category) if case.category in categories else 0)
                field_error(errors, "category")
                severity = st.radio(t("field.severity"), list(SEVERITIES), horizontal=True,
                                    index=list(SEVERITIES).index(case.fields["severity"]),
                                    format_func=lambda v: t(f"severity.{v}"))
                field_error(errors, "severity")
                left, mid, right = st.columns(3)
                media = left.checkbox(t("field.flag_media"), value=case.fields["flag_media"])
                regulator = mid.checkbox(t("field.flag_regulator"), value=case.fields["flag_regulator"])
                litigation = right.checkbox(t("field.flag_litigation"), value=case.fields["flag_litigation"])
                left, right = st.columns(2)       # the other major-case criteria (002 ch.2 4.(二)6)
                deaths = left.checkbox(t("field.flag_deaths"), value=case.fields["flag_deaths"])
                association = right.checkbox(t("field.flag_association"), value=case.fields["flag_association"])
                routed = st.multiselect(t("field.departments"), list(investigating), format_func=investigating.get,
                                        placeholder=t("widget.choose"),
                                        # the default routing configured for the category proposed above
                                        default=[c for c in ref.default_routes.get(
                                            case.category if case.category in categories else next(iter(categories)),
                                            []) if c in investigating])
                field_error(errors, "departments")
                comment = st.text_area(t("field.comment"))
                field_error(errors, "comment")
                if st.form_submit_button(t("gm.accept"), type="primary"):
                    act(lambda: complaints.accept_complaint(
                            uow(), actor=actor, complaint_id=case.id, category=category, severity=severity,
                            departments=routed, flag_media=media, flag_regulator=regulator,
                            flag_litigation=litigation, flag_deaths=deaths, flag_association=association,
                            comment=comment, now=now()),
                        notice=lambda done: t("gm.accepted", number=done.number, departments="、".join(
                            investigating.get(d, d) for d in done.departments)),
                        form=f"accept_{case.id}")


def investigating_tab() -> None:
    unassigned_notice(actor)      # departments nobody was named in within the set time (待指派超时)
    leaderless = assignment.leaderless_departments(uow())
    if leaderless:                # the fallback: the GM office names the handlers there (案件详情)
        st.caption(t("people.gm_assigns", departments=literal("、".join(departments.get(c, c) for c in leaderless))))
    ledger = queries.work_queue(uow(), actor=actor, state=State.INVESTIGATING, now=now(), calendar=calendar(),
                               page=page_of("investigating_pick"))
    case = pick_from_queue(ledger, key="investigating_pick", actor=actor, with_due=True)
    if case:
        decision_context(case, ("department",))
        technical_form(case)


def consolidate_tab() -> None:
    ledger = queries.work_queue(uow(), actor=actor, state=State.AWAITING_CONSOLIDATION, now=now(), calendar=calendar(),
                               page=page_of("consolidate_pick"))
    case = pick_from_queue(ledger, key="consolidate_pick", actor=actor, with_due=True)
    if case:
        decision_context(case, ("department", "approval"))   # each report: evidence, responsible unit and persons
        technical_form(case)      # the reports show a technical cause: 技术部 analyses it first
        errors = form_errors(f"consolidate_{case.id}")
        with st.form(f"consolidate_{case.id}", enter_to_submit=False):
            opinion = st.text_area(t("field.opinion"), key=f"opinion_{case.id}")
            field_error(errors, "opinion")
            amount = st.text_input(t("field.proposed_amount"), key=f"opinion_amount_{case.id}")
            field_error(errors, "proposed_amount")
            if st.form_submit_button(t("gm.consolidate"), type="primary"):
                act(lambda: handling.consolidate(uow(), actor=actor, complaint_id=case.id, opinion=opinion,
                                                 proposed_amount=amount, expected_version=seen_version(case),
                                                 now=now()),
                    notice=lambda level: t("gm.consolidated", level=t(f"level.{level}")),
                    form=f"consolidate_{case.id}")


def close_tab() -> None:
    ledger = queries.work_queue(uow(), actor=actor, state=State.AWAITING_CLOSURE, now=now(), calendar=calendar(),
                               page=page_of("close_pick"))
    case = pick_from_queue(ledger, key="close_pick", actor=actor, with_due=True)
    if case:
        with st.expander(t("context.title"), expanded=True):
            decision_context(case, ("department", "approval", "negotiation"))
        standards = handling.penalty_standards(uow())
        errors = form_errors(f"close_{case.id}")
        # Outside the form, so the penalty preview follows the choice at once.
        level = st.selectbox(t("field.responsibility_level"), [s.level for s in standards], index=None,
                             placeholder=t("widget.choose"), format_func=lambda v: t(f"resp.{v}"), key=f"level_{case.id}")
        field_error(errors, "responsibility_level")
        chosen = next((s for s in standards if s.level == level), None)
        if chosen is not None:
            st.caption(t("gm.penalty_preview", loss=chosen.department_loss,
                         penalty=t(f"penalty.{chosen.penalty_type}")))
        # Responsibility may fall on several departments, each with its ratio (002 art.13.9); outside the
        # form, so a ratio box appears for each department chosen.
        routed_codes = [d["code"] for d in case.departments]
        responsible = st.multiselect(t("field.responsible_department"),
                                     routed_codes + [c for c in departments if c not in routed_codes],
                                     format_func=lambda c: departments.get(c, c), placeholder=t("widget.choose"),
                                     key=f"responsible_{case.id}")
        field_error(errors, "responsible_department")
        shares = {code: None for code in responsible}      # one department alone bears it all (the service)
        if len(responsible) > 1:
            for column, code in zip(st.columns(len(responsible)), responsible):
                shares[code] = column.number_input(t("gm.share", department=departments.get(code, code)),
                                                   min_value=0, max_value=100, step=5, value=None,
                                                   key=f"share_{case.id}_{code}")
        field_error(errors, "shares")
        with st.form(f"close_{case.id}", enter_to_submit=False):
            final = st.text_area(t("field.final_opinion"), key=f"final_{case.id}")
            field_error(errors, "final_opinion")
            persons = st.text_input(t("field.penalty_persons"), key=f"persons_{case.id}")
            field_error(errors, "penalty_persons")
            cause = cause_select(f"close_cause_{case.id}", errors)      # the taxonomy's sub-cause (issue 18)
            if st.form_submit_button(t("gm.close"), type="primary"):
                act(lambda: handling.close_case(uow(), actor=actor, complaint_id=case.id, final_opinion=final,
                                                shares=shares, responsibility_level=level, cause_code=cause,
                                                penalty_persons=persons, expected_version=seen_version(case), now=now()),
                    notice=lambda level: t("gm.final_sent", level=t(f"level.{level}")),
                    form=f"close_{case.id}")


def follow_tab() -> None:
    ledger = queries.work_queue(uow(), actor=actor, state=State.CLOSED, now=now(), calendar=calendar(),
                            follow_up_task=True, page=page_of("follow_task_pick"))
    case = pick_from_queue(ledger, key="follow_task_pick", actor=actor, with_due=True)
    if case:
        decision_context(case, ("follow_up",), title=t("context.survey"))    # the scores that opened the task
        errors = form_errors(f"resolve_{case.id}")
        with st.form(f"resolve_{case.id}", enter_to_submit=False):
            comment = st.text_area(t("field.comment"), key=f"resolve_comment_{case.id}")
            field_error(errors, "comment")
            if st.form_submit_button(t("gm.resolve"), type="primary"):
                act(lambda: handling.resolve_follow_up(uow(), actor=actor, complaint_id=case.id, comment=comment,
                                                       expected_version=seen_version(case), now=now()),
                    notice=t("gm.resolved"), form=f"resolve_{case.id}")
        follow_up_history(closing.after_closure(uow(), actor=actor, complaint_id=case.id))   # the visits so far
        schedule_form(case, actor)        # another visit by a date (a second one is scheduled by itself)


def reminders_tab() -> None:
    clock_names = {c.rule.key: c.label(lang()) for c in rules.load_clocks(uow())}
    items = reminders.list_reminders(uow(), actor=actor, limit=LIST_LIMIT)
    st.caption(t("list.newest", shown=len(items), total=reminders.count_reminders(uow(), actor=actor)))
    if not items:
        st.info(t("gm.nothing"))
    else:
        reminder_table(items, clock_names=clock_names, departments=departments)
    issue_form(actor, investigating)


def rectify_tab() -> None:
    """Every open item (the earliest deadline first), then the done items whose effect is due (due first)."""
    items = rectification.list_items(uow(), actor=actor, which="open", limit=LIST_LIMIT)
    st.caption(t("list.open_items", shown=len(items), total=rectification.count_items(uow(), actor=actor, which="open")))
    rectification_table(items)
    rectification_status_form(items, actor)
    complete_form(items, actor, form_key="gm_rect_complete")
    st.markdown(f"**{t('rect.effect_due')}**")
    due = rectification.list_items(uow(), actor=actor, which="effect_due", now=now(), limit=LIST_LIMIT)
    st.caption(t("list.open_items", shown=len(due),
                 total=rectification.count_items(uow(), actor=actor, which="effect_due", now=now())))
    rectification_table(due)
    effect_form(due, actor)


def stuck_tab() -> None:
    st.caption(t("gm.stuck_help"))
    ledger = queries.stuck_cases(uow(), actor=actor, now=now(), calendar=calendar(), page=page_of("stuck_pick"))
    if ledger.frame.empty:
        st.info(t("gm.nothing"))
    else:
        pager(ledger, key="stuck_pick")
        st.dataframe(pd.DataFrame({
            t("field.number"): [case_label(n, i) for n, i in zip(ledger.frame["number"], ledger.frame["id"])],
            t("field.state"): [t(f"state.{s}") for s in ledger.frame["state"]],
            t("gm.stuck_decision"): [t(f"four_eyes.decision.{d}") for d in ledger.frame["stuck_decision"]],
            t("gm.stuck_reason"): [t(f"four_eyes.reason.{r}") for r in ledger.frame["stuck_reason"]]}),
            hide_index=True, width="stretch")


def sanctions_tab() -> None:
    st.caption(t("gm.sanctions_help"))
    ledger = queries.sanction_cases(uow(), actor=actor, now=now(), calendar=calendar(), page=page_of("sanction_pick"))
    case = pick_from_queue(ledger, key="sanction_pick", actor=actor)
    if case:
        decision_context(case, ("closure",))
        if case.handling["sanction_referred_at"] is None:
            errors = form_errors(f"refer_{case.id}")
            with st.form(f"refer_{case.id}", enter_to_submit=False):
                referred_to = st.text_input(t("field.referred_to"), key=f"referred_to_{case.id}")
                field_error(errors, "referred_to")
                field_error(errors, "referred_at")
                if st.form_submit_button(t("gm.refer"), type="primary"):
                    act(lambda: handling.refer_sanction(uow(), actor=actor, complaint_id=case.id,
                                                        referred_to=referred_to, expected_version=seen_version(case),
                                                        now=now()),
                        notice=t("gm.referred"), form=f"refer_{case.id}")
        else:
            errors = form_errors(f"outcome_{case.id}")
            with st.form(f"outcome_{case.id}", enter_to_submit=False):
                outcome = st.text_area(t("field.sanction_outcome"), key=f"sanction_outcome_{case.id}")
                field_error(errors, "outcome")
                if st.form_submit_button(t("gm.sanction_outcome"), type="primary"):
                    act(lambda: handling.record_sanction_outcome(uow(), actor=actor, complaint_id=case.id,
                                                                 outcome=outcome, expected_version=seen_version(case),
                                                                 now=now()),
                        notice=t("gm.outcome_recorded"), form=f"outcome_{case.id}")


# Only the open tab runs, so only its queue is read; the key keeps it open when a notice comes and goes.
lazy_tabs({"gm.tab.accept": accept_tab, "gm.tab.investigating": investigating_tab,
           "gm.tab.consolidate": consolidate_tab, "gm.tab.close": close_tab, "gm.tab.follow_up": follow_tab,
           "gm.tab.archive": lambda: archive_tab(actor),
           "gm.tab.reminders": reminders_tab, "gm.tab.rectifications": rectify_tab,
           "gm.tab.stuck": stuck_tab, "gm.tab.sanctions": sanctions_tab}, key="gm_tabs")
remember_versions()
