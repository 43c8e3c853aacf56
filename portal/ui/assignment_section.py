"""Who works on a case, by name (issue 15 §4; 000 §5, §8): the handlers a department's lead assigns,
the working group the GM office sets on a 重大 case, and the flag on departments nobody was assigned
to in time. Each form is shown only to whom may use it; the services decide."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from portal.domain.lifecycle import OPEN_STATES
from portal.domain.roles import Role
from portal.i18n.format import fmt_time
from portal.services import assignment
from portal.services.actors import Actor
from portal.ui.context import now, reference, t, uow
from portal.ui.literal import literal
from portal.ui.widgets import act, case_label, field_error, form_errors, labels

_OPEN = {s.value for s in OPEN_STATES}


def _departments() -> dict[str, str]:
    return labels(reference().departments)


def unassigned_notice(actor: Actor) -> None:
    """待指派超时: for the GM office every department's, for a department's lead their own (oldest first)."""
    if not actor.has(Role.GM_OFFICE, Role.DEPT_LEAD):
        return
    count, rows = assignment.unassigned_late_cases(uow(), actor=actor, now=now())
    if not count:
        return
    departments = _departments()
    st.warning(t("people.late_count", count=count))
    st.dataframe(pd.DataFrame({
        t("field.number"): [case_label(r.number, r.complaint_id) for r in rows],
        t("field.departments"): [departments.get(r.department, r.department) for r in rows],
        t("case.routed_at"): [fmt_time(r.routed_at) for r in rows],
    }), hide_index=True, width="stretch")


def _assign_form(case, actor: Actor, department: str, candidates, *, key: str) -> None:  # noqa: ANN001
    if not candidates:
        st.caption(t("people.no_candidates"))
        return
    names = {c.username: c.label for c in candidates}
    errors = form_errors(key)
    with st.form(key, enter_to_submit=False):
        chosen = st.multiselect(t("people.assign_for", department=literal(_departments().get(department, department))),
                                list(names), default=[c.username for c in candidates if c.chosen],
                                format_func=names.get, placeholder=t("widget.choose"), key=f"{key}_handlers")
        field_error(errors, "handlers")
        comment = st.text_input(t("field.comment"), key=f"{key}_comment")
        field_error(errors, "comment")
        st.caption(t("people.assign_help"))
        if st.form_submit_button(t("people.assign")):
            act(lambda: assignment.assign_handlers(uow(), actor=actor, complaint_id=case.id, department=department,
                                                   handlers=chosen, comment=comment, now=now()),
                notice=lambda done: t("people.assigned", names=literal("、".join(names.get(n, n) for n in done))),
                form=key)


def department_assignment(case, actor: Actor) -> None:  # noqa: ANN001
    """部门处理: who of the actor's department works on the case; the lead (or, with no lead, nobody
    here: the GM office) names them."""
    code = actor.department_code
    named = case.handling.get("assignees", {}).get(code, [])
    st.text(t("people.department_now", names="、".join(named) if named else t("people.none")))
    choices = assignment.assignment_choices(uow(), actor=actor, complaint_id=case.id)
    if code in choices:
        _assign_form(case, actor, code, choices[code], key=f"assign_{case.id}_{code}")
    elif not actor.has(Role.DEPT_LEAD) and code in assignment.leaderless_departments(uow()):
        st.caption(t("people.no_lead"))


def case_people_section(case, actor: Actor) -> None:  # noqa: ANN001
    """案件详情: the handlers named per department and the working group, with the forms of whoever
    may change them."""
    h = case.handling
    departments = _departments()
    st.subheader(t("people.title"))
    if case.departments:
        st.dataframe(pd.DataFrame({
            t("field.departments"): [departments.get(d["code"], d["code"]) for d in case.departments],
            t("field.assignees"): ["、".join(h.get("assignees", {}).get(d["code"], [])) or t("people.none")
                                   for d in case.departments],
        }), hide_index=True, width="stretch")
    for code, candidates in assignment.assignment_choices(uow(), actor=actor, complaint_id=case.id).items():
        _assign_form(case, actor, code, candidates, key=f"assign_{case.id}_{code}")
    group = h.get("working_group", [])
    st.markdown(f"**{t('people.group')}**")
    if group:
        st.dataframe(pd.DataFrame({
            t("field.member"): [m["name"] for m in group],
            t("field.departments"): [departments.get(m["department"], m["department"] or "") for m in group],
            t("field.role_in_group"): [t("people.leader") if m["leader"] else t("people.member") for m in group],
        }), hide_index=True, width="stretch")
    elif case.fields["severity"] == "major":
        st.warning(t("people.group_needed"))
    else:
        st.caption(t("people.no_group"))
    if actor.has(Role.GM_OFFICE) and case.fields["severity"] == "major" and case.state in _OPEN:
        _group_form(case, actor)


def _group_form(case, actor: Actor) -> None:  # noqa: ANN001
    candidates = assignment.group_candidates(uow(), complaint_id=case.id)
    departments = _departments()
    names = {c.username: f"{c.label} · {departments.get(c.department, c.department)}" for c in candidates}
    leader_now = next((c.username for c in candidates if c.leader), None)
    key = f"group_{case.id}"
    errors = form_errors(key)
    with st.form(key, enter_to_submit=False):
        leader = st.selectbox(t("field.leader"), list(names), format_func=names.get, key=f"{key}_leader",
                              index=list(names).index(leader_now) if leader_now in names else None,
                              placeholder=t("widget.choose"))
        field_error(errors, "leader")
        members = st.multiselect(t("field.members"), list(names), format_func=names.get, key=f"{key}_members",
                                 default=[c.username for c in candidates if c.chosen and not c.leader],
                                 placeholder=t("widget.choose"))
        field_error(errors, "members")
        comment = st.text_input(t("field.comment"), key=f"{key}_comment")
        field_error(errors, "comment")
        st.caption(t("people.group_help"))
        if st.form_submit_button(t("people.set_group")):
            act(lambda: assignment.set_working_group(uow(), actor=actor, complaint_id=case.id, leader=leader,
                                                     members=members, comment=comment, now=now()),
                notice=t("people.group_saved"), form=key)
