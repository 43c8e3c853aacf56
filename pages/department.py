"""部门处理: the department's queue with badges and reminders; initial plan, technical analysis
request, and the investigation report for cases routed to the handler's own department."""
from __future__ import annotations

import streamlit as st

from portal.domain.roles import Role
from portal.domain.validation import Attachment
from portal.services import handling, quality, queries, rectification, reminders, rules
from portal.ui.literal import literal
from portal.ui.auth import require_page
from portal.ui.form_panels import decision_context, instruction_form
from portal.ui.closing_section import cause_select, department_follow_ups
from portal.ui.assignment_section import department_assignment, unassigned_notice
from portal.ui.reminders import answer_form, reminder_table
from portal.ui.regulatory_section import (complete_form, quality_queue_section, rectification_status_form,
                                         rectification_table)
from portal.ui.context import calendar, lang, now, reference, sweep_reminders, t, uow
from portal.ui.widgets import (act, labels, lazy_tabs, attachments_uploader, page_of, case_label, field_error, form_errors, pick_from_queue, remember_versions,
                               seen_version, show_notice)

actor = require_page("department")
st.title(t("dept.title"))
show_notice()
sweep_reminders()
ref = reference()
LIST_LIMIT = 20
clock_names = {c.rule.key: c.label(lang()) for c in rules.load_clocks(uow())}

st.subheader(t("dept.reminders"))
pending = reminders.list_reminders(uow(), actor=actor, open_only=True, limit=LIST_LIMIT)
if not pending:
    st.caption(t("dept.no_reminders"))
else:
    st.caption(t("list.newest", shown=len(pending),
                 total=reminders.count_reminders(uow(), actor=actor, open_only=True)))
    with st.expander(t("dept.reminders_open", n=len(pending)), expanded=False):
        reminder_table(pending, clock_names=clock_names, departments=labels(ref.departments))
        answer_form(actor, pending, clock_names)

st.subheader(t("rect.mine"))          # the items this person owns, the earliest deadline (overdue) first
mine_items = rectification.list_items(uow(), actor=actor, which="mine", limit=LIST_LIMIT)
st.caption(t("list.open_items", shown=len(mine_items),
             total=rectification.count_items(uow(), actor=actor, which="mine")))
rectification_table(mine_items)
rectification_status_form(mine_items, actor)
complete_form(mine_items, actor)


def investigate_tab() -> None:
    st.caption(t("dept.queue"))
    unassigned_notice(actor)          # 待指派超时: the lead's own department
    queue = queries.department_queue(uow(), actor=actor, now=now(), calendar=calendar(), page=page_of("dept_pick"))
    case = pick_from_queue(queue, key="dept_pick", actor=actor)
    if case is None:
        return
    picked = case.id
    mine = next(d for d in case.departments if d["code"] == actor.department_code)
    department_assignment(case, actor)     # the named handlers; the lead assigns (000 §5)

    errors = form_errors(f"plan_{picked}")
    with st.form(f"plan_{picked}", enter_to_submit=False):
        st.markdown(f"**{t('dept.initial_plan')}**")
        plan = st.text_area(t("field.initial_plan"), value=mine["initial_plan"], key=f"plan_text_{picked}")
        field_error(errors, "initial_plan")
        if st.form_submit_button(t("dept.save_plan")):
            act(lambda: handling.record_initial_plan(uow(), actor=actor, complaint_id=picked, plan=plan,
                                                     expected_version=seen_version(case), now=now()),
                notice=t("dept.plan_saved"), form=f"plan_{picked}")

    st.caption(t("dept.technical_hint"))       # 技术部 is the GM office's to send (002 art.13.3)

    errors = form_errors(f"report_{picked}")
    with st.form(f"report_{picked}", enter_to_submit=False):
        st.markdown(f"**{t('dept.report')}**")
        k = f"report_{picked}_"
        evidence = st.text_area(t("field.evidence"), key=k + "evidence")
        field_error(errors, "evidence")
        cause = st.text_area(t("field.cause"), key=k + "cause")
        field_error(errors, "cause")
        cause_code = cause_select(k + "cause_code", errors)       # the taxonomy's sub-cause, beside the words
        finding = st.radio(t("field.finding"), list(handling.FINDINGS), format_func=lambda v: t(f"finding.{v}"),
                           horizontal=True, key=k + "finding", index=None)
        field_error(errors, "finding")
        left, right = st.columns(2)
        unit = left.text_input(t("field.responsible_unit"), key=k + "unit")
        persons = right.text_input(t("field.responsible_persons"), key=k + "persons")
        measures = st.text_area(t("field.measures"), key=k + "measures")
        field_error(errors, "measures")
        amount = st.text_input(t("field.proposed_amount"), key=k + "amount")
        field_error(errors, "proposed_amount")
        files = attachments_uploader(t("field.attachments"), k + "files")
        field_error(errors, "attachments")
        if st.form_submit_button(t("dept.submit"), type="primary"):
            report = handling.InvestigationReport(evidence, cause, finding, unit, persons, measures, amount,
                                                  cause_code=cause_code)
            evidence_files = [Attachment(f.name, f.type or "", f.getvalue()) for f in files or []]
            act(lambda: handling.submit_report(uow(), actor=actor, complaint_id=picked, report=report,
                                               attachments=evidence_files,
                                               expected_version=seen_version(case), now=now()),
                notice=t("dept.submitted"), form=f"report_{picked}")


def report_tab() -> None:
    reporting = queries.department_queue(uow(), actor=actor, now=now(), calendar=calendar(), to_report=True,
                                         page=page_of("dept_report_pick"))
    st.caption(t("dept.to_report"))    # 002 art.13.2: the investigation report to the GM office, its own step
    done = pick_from_queue(reporting, key="dept_report_pick", actor=actor, with_due=True)
    if done:
        decision_context(done, ("department",))
        errors = form_errors(f"gm_report_{done.id}")
        with st.form(f"gm_report_{done.id}", enter_to_submit=False):
            text = st.text_area(t("field.gm_report"), key=f"gm_report_text_{done.id}")
            field_error(errors, "gm_report")
            if st.form_submit_button(t("dept.report_to_gm"), type="primary"):
                act(lambda: handling.report_to_gm(uow(), actor=actor, complaint_id=done.id, report=text,
                                                  expected_version=seen_version(done), now=now()),
                    notice=t("dept.reported_to_gm"), form=f"gm_report_{done.id}")


def instruct_tab() -> None:
    st.caption(t("dept.to_instruct"))  # 002 art.13.3: the department's analysis goes to its lead for 批示
    to_instruct = queries.analyses_to_instruct(uow(), actor=actor, now=now(), calendar=calendar(),
                                               page=page_of("dept_instruct_pick"))
    waiting = pick_from_queue(to_instruct, key="dept_instruct_pick", actor=actor, with_due=True)
    if waiting:
        instruction_form(waiting, shown=("department",), text_key="lead_instruction", button=t("dept.instruct"),
                         notice=t("dept.instructed"),
                         write=lambda text, version: handling.instruct_analysis(
                             uow(), actor=actor, complaint_id=waiting.id, instruction=text, expected_version=version,
                             now=now()))


# Only the open tab runs (its queue and chosen case alone are read); the 批示 is the lead's.
lazy_tabs({"dept.tab.investigate": investigate_tab, "dept.tab.report": report_tab,
           "dept.tab.follow_ups": lambda: department_follow_ups(actor)}     # dissatisfied follow-ups (issue 18)
          | ({"dept.tab.instruct": instruct_tab} if actor.has(Role.DEPT_LEAD) else {})
          | ({"dept.tab.quality": lambda: quality_queue_section(actor)}       # 运营部's 检验确认 (002 art.11.2(3))
             if actor.department_code == quality.QUALITY_DEPARTMENT else {}), key="dept_tabs")
remember_versions()
