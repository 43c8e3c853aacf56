"""The case page's section on the regulator's clock and what follows a decision: extensions,
outside appraisal or mediation, the complainant's review, another company's responsibility,
petitions (签呈), rectification items (整改) with their completion and effect confirmation, and 运营部's quality
check (检验确认). Each form is shown only to the role that acts."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from portal.domain import closing
from portal.domain.errors import Message
from portal.domain.lifecycle import OPEN_STATES, State
from portal.domain.regulatory import OUTSIDE_PROCESSES, TOLD_VIA
from portal.domain.roles import Role
from portal.i18n.format import badge_text, fmt_time
from portal.services import followthrough, quality, rectification, regulatory
from portal.services.actors import Actor
from portal.ui.literal import literal
from portal.ui.context import lang, now, reference, t, uow
from portal.ui.widgets import (DATE_FORMAT, act, case_href, case_label, case_links, date_label, field_error, form_errors,
                               labels, seen_version)

_OPEN = {s.value for s in OPEN_STATES}
EMPTY = "—"
_AFTER_DECISION = {State.AWAITING_REVIEW.value, State.AWAITING_CLOSURE.value, State.CLOSED.value,
                   State.ARCHIVED.value}


def regulatory_section(case, actor: Actor) -> None:  # noqa: ANN001
    h = case.handling
    st.subheader(t("reg.title"))
    st.caption(t("reg.extension", days=15 + h["regulatory_extension_days"], extra=h["regulatory_extension_days"]))
    if h["outside_process"]:
        st.warning(t("reg.outside_running", kind=t(f"outside.{h['outside_process']}")))
    if h["other_company"]:
        st.info(t("reg.other_company", company=literal(h["other_company"])))
    if h["decision_told_at"]:       # what the record holds; any optional part may be empty (older records)
        via = h["decision_told_via"]
        remedies = "、".join(t("remedy." + r) for r in h["decision_remedies"] or []) or EMPTY
        st.text(f"{t('field.decision_checked')}: {h['decision_checked'] or EMPTY}\n{t('field.decision_basis')}: "
                f"{h['decision_basis'] or EMPTY}\n{t('field.decision_remedies')}: {remedies}\n"
                f"{t('field.decision_told_via')}: {t('via.' + via) if via else EMPTY} · "
                f"{fmt_time(h['decision_told_at'])}"
                f" · {h['decision_proof'] or EMPTY}")
    if h["review_decision"]:
        st.text(f"{t('field.review_decision')}: {h['review_decision']}")
    key, version = case.id, seen_version(case)

    def form(name: str, button: str, fields, call, notice: str) -> None:  # noqa: ANN001
        errors = form_errors(f"{name}_{key}")
        with st.form(f"{name}_{key}", enter_to_submit=False):
            values = {field: widget(f"{name}_{field}_{key}") for field, widget in fields.items()}
            for field in fields:
                field_error(errors, field)
            if st.form_submit_button(button):
                act(lambda: call(**values), notice=notice, form=f"{name}_{key}")

    if actor.has(Role.APPROVER) and case.state in _OPEN and not h["decision_told_at"]:
        form("extend", t("reg.extend"), {
            "reason": lambda k: st.text_input(t("field.reason"), key=k),
            "told_via": lambda k: st.selectbox(t("field.told_via"), list(TOLD_VIA), key=k, index=None,
                                               placeholder=t("widget.choose"), format_func=lambda v: t(f"via.{v}")),
        }, lambda reason, told_via: regulatory.extend_regulatory_clock(
            uow(), actor=actor, complaint_id=key, reason=reason, told_via=told_via, expected_version=version,
            now=now()), t("reg.extended", days="≤60"))
    if actor.has(Role.GM_OFFICE) and case.state in _OPEN:
        if h["outside_process"]:
            form("outside_end", t("reg.end_outside"), {"note": lambda k: st.text_input(t("field.comment"), key=k)},
                 lambda note: regulatory.end_outside_process(uow(), actor=actor, complaint_id=key, note=note,
                                                             expected_version=version, now=now()),
                 t("reg.outside_done"))
        else:
            form("outside", t("reg.start_outside"), {
                "kind": lambda k: st.selectbox(t("field.kind"), list(OUTSIDE_PROCESSES), key=k, index=None,
                                               placeholder=t("widget.choose"), format_func=lambda v: t(f"outside.{v}")),
                "note": lambda k: st.text_input(t("field.comment"), key=k),
            }, lambda kind, note: regulatory.start_outside_process(
                uow(), actor=actor, complaint_id=key, kind=kind, note=note, expected_version=version, now=now()),
                t("reg.outside_done"))
        form("other", t("reg.mark_other"), {"company": lambda k: st.text_input(t("field.other_company"), key=k)},
             lambda company: followthrough.mark_other_company(uow(), actor=actor, complaint_id=key, company=company,
                                                              expected_version=version, now=now()),
             t("reg.marked"))
    if actor.has(Role.INTAKE, Role.INTAKE_LEAD) and case.state in _AFTER_DECISION and h["decision_told_at"] \
            and not h["review_requested_at"]:
        form("review", t("reg.request_review"), {"reason": lambda k: st.text_input(t("field.reason"), key=k)},
             lambda reason: regulatory.request_review(uow(), actor=actor, complaint_id=key, reason=reason,
                                                      expected_version=version, now=now()),
             t("reg.review_requested"))
    if actor.has(Role.GM_OFFICE) and h["review_requested_at"] and not h["review_decision"]:
        form("decide", t("reg.decide_review"),
             {"decision": lambda k: st.text_area(t("field.review_decision"), key=k)},
             lambda decision: regulatory.decide_review(uow(), actor=actor, complaint_id=key, decision=decision,
                                                       expected_version=version, now=now()),
             t("reg.review_decided"))

    st.markdown(f"**{t('reg.petitions')}**")
    petitions = followthrough.list_petitions(uow(), complaint_id=key)
    departments = labels(reference().departments)
    if petitions:
        st.dataframe(pd.DataFrame({t("field.departments"): [departments.get(p.department, p.department) for p in petitions],
                                   t("field.petition"): [p.text for p in petitions],
                                   t("case.event.at"): [fmt_time(p.filed_at) for p in petitions],
                                   t("field.answer"): [p.answer for p in petitions]}),
                     hide_index=True, width="stretch")
    else:
        st.caption(t("reg.none"))
    # 签呈 (002 art.13.12): any department involved, 市场部 included, at any stage after acceptance
    if actor.has(Role.HANDLER, Role.INTAKE, Role.INTAKE_LEAD) and case.state != State.REGISTERED.value:
        form("petition", t("reg.file_petition"), {"text": lambda k: st.text_area(t("field.petition"), key=k)},
             lambda text: followthrough.file_petition(uow(), actor=actor, complaint_id=key, text=text, now=now()),
             t("reg.filed"))
    if actor.has(Role.GM_OFFICE) and case.state != State.REGISTERED.value:
        for petition in [p for p in petitions if not p.answer]:
            form(f"answer_petition_{petition.id}", t("reg.answer_petition"),
                 {"answer": lambda k: st.text_input(t("field.answer"), key=k)},
                 lambda answer, petition_id=petition.id: followthrough.answer_petition(
                     uow(), actor=actor, petition_id=petition_id, answer=answer, now=now()),
                 t("reg.answered"))

    st.markdown(f"**{t('reg.rectifications')}**")
    if actor.has(Role.GM_OFFICE, Role.MANAGER, Role.HANDLER):
        items = rectification.list_items(uow(), actor=actor, which="case", complaint_id=key, limit=LIST_LIMIT)
        rectification_table(items)
        if actor.has(Role.GM_OFFICE, Role.HANDLER):
            complete_form([i for i in items if i.status != "done"], actor, form_key=f"rect_complete_{key}")
    if actor.has(Role.GM_OFFICE) and case.state not in {"registered", "investigating"}:
        causes = [d["cause"] for d in case.departments if d["cause"]]
        cause_labels = cause_choice_labels()
        owners = owner_labels()
        form("rectify", t("reg.add_rectification"), {
            "cause_code": lambda k: st.selectbox(t("rect.cause_class"), list(cause_labels), key=k, index=None,
                                                 placeholder=t("widget.choose"), format_func=cause_labels.get),
            "cause": lambda k: st.selectbox(t("rect.cause_words"), causes, key=k, index=None, accept_new_options=True,
                                            placeholder=t("widget.choose_or_type")),
            "description": lambda k: st.text_area(t("field.description_rect"), key=k),
            "owner": lambda k: st.selectbox(t("rect.owner"), list(owners), key=k, index=None,
                                            placeholder=t("widget.choose"), format_func=owners.get),
            "deadline": lambda k: st.date_input(date_label("field.deadline"), value=None, key=k, format=DATE_FORMAT),
        }, lambda cause_code, cause, description, owner, deadline: rectification.add_rectification(
            uow(), actor=actor, complaint_id=key, cause=cause, cause_code=cause_code, description=description,
            owner_id=owner, deadline=deadline, now=now()), t("reg.added"))
    quality_result(key)


LIST_LIMIT = 20


def cause_choice_labels() -> dict[str, str]:
    """The active sub-causes as "class / sub-cause" in the reader's language."""
    zh = lang() == "zh"
    return {c.code: f"{c.parent_zh if zh else c.parent_en} / {c.name_zh if zh else c.name_en}"
            for c in rectification.cause_choices(uow())}


def owner_labels() -> dict[int, str]:
    """Who may own an item, as "department · name"."""
    departments = labels(reference().departments)
    return {o.id: f"{departments.get(o.department, o.department)} · {o.name}" for o in rectification.owner_choices(uow())}


def rectification_table(items) -> None:  # noqa: ANN001
    """Rectification items (and corrective actions): owner, cause, deadline, badge, status, evidence, effect."""
    if not items:
        st.caption(t("reg.none"))
        return
    departments = labels(reference().departments)
    causes = {code: names[0 if lang() == "zh" else 1] for code, names in rectification.cause_names(uow()).items()}
    fraction, at = rectification.badge_fraction(uow()), now()

    def effect(i) -> str:  # noqa: ANN001
        if i.effect_result:
            return t(f"rect.effect.{i.effect_result}") + (f" · {i.effect_reason}" if i.effect_reason else "")
        if i.status == "done" and i.effect_due_on:
            return t("rect.effect.due_on", day=i.effect_due_on.isoformat())
        return EMPTY

    st.dataframe(pd.DataFrame({
        t("field.number"): [i.number or f"#{i.complaint_id}" for i in items],
        t("rect.kind"): [t(f"rect.kind.{i.kind}") for i in items],
        t("rect.cause_class"): [causes.get(i.cause_code, EMPTY) if i.cause_code else EMPTY for i in items],
        t("field.cause"): [i.cause for i in items], t("field.description_rect"): [i.description for i in items],
        t("field.owner_department"): [departments.get(i.owner, i.owner) for i in items],
        t("rect.owner"): [i.owner_name or EMPTY for i in items],
        t("field.deadline"): [i.deadline.isoformat() for i in items],
        t("rect.badge"): [badge_text(i.badge(at, fraction), lang()) for i in items],
        t("field.status"): [t(f"rect.status.{i.status}") for i in items],
        t("rect.round"): [i.round for i in items],
        t("rect.evidence"): [i.evidence or EMPTY for i in items],
        t("rect.effect"): [effect(i) for i in items],
    }), hide_index=True, width="stretch")


def _item_label(items):  # noqa: ANN001, ANN202
    by_id = {i.id: i for i in items}
    return lambda i: f"{by_id[i].number or '#' + str(by_id[i].complaint_id)} · {by_id[i].description[:30]}"


def rectification_status_form(items, actor: Actor) -> None:  # noqa: ANN001
    """Mark an item in progress (or back to open): its owner or the GM office."""
    if not items:
        return
    errors = form_errors("rectification_status")
    with st.form("rectification_status", enter_to_submit=False):
        chosen = st.selectbox(t("reg.rectifications"), [i.id for i in items], key="rect_item", index=None,
                              placeholder=t("widget.choose"), format_func=_item_label(items))
        status = st.selectbox(t("field.status"), list(rectification.MOVABLE_STATUSES), key="rect_status", index=None,
                              placeholder=t("widget.choose"), format_func=lambda v: t(f"rect.status.{v}"))
        field_error(errors, "status")
        if st.form_submit_button(t("reg.set_status")):
            if chosen is None:
                st.session_state["errors_rectification_status"] = {"status": Message("form.choose_one")}
                st.rerun()
            act(lambda: rectification.set_rectification_status(uow(), actor=actor, rectification_id=chosen,
                                                               status=status, now=now()),
                notice=t("reg.status_set"), form="rectification_status")


def complete_form(items, actor: Actor, *, form_key: str = "rect_complete") -> None:  # noqa: ANN001
    """The owner (or the GM office) records an item done with its evidence."""
    if not actor.has(Role.GM_OFFICE):
        items = [i for i in items if i.owner_id == actor.id]
    if not items:
        return
    errors = form_errors(form_key)
    with st.form(form_key, enter_to_submit=False):
        st.markdown(f"**{t('rect.complete_title')}**")
        chosen = st.selectbox(t("reg.rectifications"), [i.id for i in items], key=f"{form_key}_item", index=None,
                              placeholder=t("widget.choose"), format_func=_item_label(items))
        field_error(errors, "item")
        evidence = st.text_area(t("rect.evidence"), key=f"{form_key}_evidence")
        field_error(errors, "evidence")
        if st.form_submit_button(t("rect.complete")):
            if chosen is None:
                st.session_state[f"errors_{form_key}"] = {"item": Message("form.choose_one")}
                st.rerun()
            act(lambda: rectification.complete_rectification(uow(), actor=actor, rectification_id=chosen,
                                                             evidence=evidence, now=now()),
                notice=lambda day: t("rect.completed", day=day.isoformat()), form=form_key)


def effect_form(items, actor: Actor) -> None:  # noqa: ANN001
    """The GM office's 效果确认 of a done item: effective, or not (reason; reopen with a new deadline, or a new
    item following it with its owner, deadline and description). Every decision starts empty."""
    if not items:
        return
    form_key = "rect_effect"
    errors = form_errors(form_key)
    owners = owner_labels()
    with st.form(form_key, enter_to_submit=False):
        st.markdown(f"**{t('rect.effect_title')}**")
        chosen = st.selectbox(t("reg.rectifications"), [i.id for i in items], key="effect_item", index=None,
                              placeholder=t("widget.choose"), format_func=_item_label(items))
        field_error(errors, "item")
        result = st.radio(t("rect.effect"), [e.value for e in closing.Effect], key="effect_result", index=None,
                          horizontal=True, format_func=lambda v: t(f"rect.effect.{v}"))
        field_error(errors, "result")
        reason = st.text_area(t("rect.effect_reason"), key="effect_reason")
        field_error(errors, "reason")
        after = st.radio(t("rect.after"), [a.value for a in closing.AfterNotEffective], key="effect_after",
                         index=None, horizontal=True, format_func=lambda v: t(f"rect.after.{v}"))
        field_error(errors, "after")
        left, right = st.columns(2)
        deadline = left.date_input(date_label("rect.new_deadline"), value=None, key="effect_deadline",
                                   format=DATE_FORMAT)
        with left:
            field_error(errors, "new_deadline")
        owner = right.selectbox(t("rect.new_owner"), list(owners), key="effect_owner", index=None,
                                placeholder=t("widget.choose"), format_func=owners.get)
        with right:
            field_error(errors, "new_owner")
        description = st.text_area(t("rect.new_description"), key="effect_description")
        field_error(errors, "new_description")
        if st.form_submit_button(t("rect.confirm_effect")):
            if chosen is None:
                st.session_state[f"errors_{form_key}"] = {"item": Message("form.choose_one")}
                st.rerun()
            act(lambda: rectification.confirm_effect(
                uow(), actor=actor, rectification_id=chosen, result=result, reason=reason, after=after,
                new_deadline=deadline, new_owner_id=owner, new_description=description, now=now()),
                notice=t("rect.effect_confirmed"), form=form_key)


# -- 运营部's quality check (客户投诉质量的检验确认) --

def _checklist_names() -> dict[str, str]:
    zh = lang() == "zh"
    return {i.code: i.text_zh if zh else i.text_en for i in quality.checklist(uow())}


def quality_result(complaint_id: int) -> None:
    """The case page: each quality check on record, who and when, each item met or not, the note."""
    checks = quality.case_checks(uow(), complaint_id=complaint_id)
    st.markdown(f"**{t('quality.title')}**")
    if not checks:
        st.caption(t("quality.none_yet"))
        return
    names = _checklist_names()
    for check in checks:
        st.text(t("quality.result_line", who=check.checker, at=fmt_time(check.checked_at),
                  result=t("quality.passed" if check.passed else "quality.failed")))
        st.dataframe(pd.DataFrame({
            t("quality.item"): [names.get(code, code) for code in check.answers],
            t("quality.answer"): [t("quality.met" if met else "quality.not_met") for met in check.answers.values()],
        }), hide_index=True, width="stretch")
        if check.note:
            st.text(f"{t('quality.note')}: {check.note}")


def quality_queue_section(actor: Actor) -> None:
    """运营部's queue of closed cases waiting for a check (oldest closure first, a page at a time) and the
    checklist form: one radio per item, 符合 / 不符合, none chosen — the checker decides each one; a failure needs
    the corrective action's description, owner and deadline."""
    total = quality.count_waiting(uow(), actor=actor)
    page = st.session_state.get("quality_page", 0)
    rows = quality.waiting_cases(uow(), actor=actor, limit=LIST_LIMIT, offset=page * LIST_LIMIT)
    st.caption(t("quality.queue", shown=len(rows),
                 total=total if total <= quality.COUNT_CAP else f"{quality.COUNT_CAP}+"))
    if not rows:
        st.info(t("quality.queue_empty"))
        return
    st.dataframe(pd.DataFrame({
        t("field.number"): [case_href(r.number, r.complaint_id) for r in rows],
        t("quality.closed_at"): [fmt_time(r.closed_at) for r in rows],
    }), hide_index=True, width="stretch", column_config=case_links())
    if total > LIST_LIMIT:
        pages = (min(total, quality.COUNT_CAP) + LIST_LIMIT - 1) // LIST_LIMIT
        st.number_input(t("quality.page"), min_value=0, max_value=pages - 1, step=1, key="quality_page")
    by_id = {r.complaint_id: r for r in rows}
    picked = st.selectbox(t("quality.pick"), list(by_id), key="quality_pick", index=None,
                          placeholder=t("widget.choose"),
                          format_func=lambda i: case_label(by_id[i].number, i))
    if picked is None:
        return
    items = quality.checklist(uow())
    owners = owner_labels()
    form_key = f"quality_{picked}"
    errors = form_errors(form_key)
    zh = lang() == "zh"
    with st.form(form_key, enter_to_submit=False):
        st.markdown(f"**{t('quality.form_title')}**")
        answers = {}
        for item in items:
            answers[item.code] = st.radio(item.text_zh if zh else item.text_en, [True, False], index=None,
                                          horizontal=True, key=f"{form_key}_{item.code}",
                                          format_func=lambda v: t("quality.met" if v else "quality.not_met"))
        field_error(errors, "answers")
        note = st.text_area(t("quality.note"), key=f"{form_key}_note")
        field_error(errors, "note")
        st.caption(t("quality.corrective_hint"))
        field_error(errors, "corrective")
        description = st.text_area(t("quality.corrective_description"), key=f"{form_key}_corrective")
        field_error(errors, "corrective_description")
        left, right = st.columns(2)
        owner = left.selectbox(t("rect.owner"), list(owners), key=f"{form_key}_owner", index=None,
                               placeholder=t("widget.choose"), format_func=owners.get)
        with left:
            field_error(errors, "corrective_owner")
        deadline = right.date_input(date_label("field.deadline"), value=None, key=f"{form_key}_deadline",
                                    format=DATE_FORMAT)
        with right:
            field_error(errors, "corrective_deadline")
        if st.form_submit_button(t("quality.record"), type="primary"):
            given = {code: met for code, met in answers.items() if met is not None}
            failing = any(met is False for met in given.values())
            corrective = quality.CorrectiveAction(description, owner, deadline) \
                if failing and (description.strip() or owner is not None or deadline is not None) else None
            act(lambda: quality.record_quality_check(uow(), actor=actor, complaint_id=picked, answers=given,
                                                     note=note, now=now(), corrective=corrective),
                notice=t("quality.recorded"), form=form_key)
