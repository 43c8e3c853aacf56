"""The case page's section on the regulator's clock and what follows a decision: extensions,
outside appraisal or mediation, the complainant's review, another company's responsibility,
petitions (签呈) and rectification items (整改). Each form is shown only to the role that acts."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from portal.domain.lifecycle import OPEN_STATES, State
from portal.domain.regulatory import OUTSIDE_PROCESSES, TOLD_VIA
from portal.domain.roles import Role
from portal.i18n.format import fmt_time
from portal.services import followthrough, regulatory
from portal.services.actors import Actor
from portal.ui.literal import literal
from portal.ui.context import now, reference, t, uow
from portal.ui.widgets import DATE_FORMAT, act, date_label, field_error, form_errors, labels, seen_version

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
        rectification_table(followthrough.list_rectifications(uow(), actor=actor, complaint_id=key))
    if actor.has(Role.GM_OFFICE) and case.state not in {"registered", "investigating"}:
        causes = [d["cause"] for d in case.departments if d["cause"]]
        form("rectify", t("reg.add_rectification"), {
            "cause": lambda k: st.selectbox(t("field.cause"), causes, key=k, index=None, accept_new_options=True,
                                            placeholder=t("widget.choose_or_type")),
            "description": lambda k: st.text_area(t("field.description_rect"), key=k),
            "owner_department": lambda k: st.selectbox(t("field.owner_department"), list(departments), key=k,
                                                       index=None, placeholder=t("widget.choose"),
                                                       format_func=lambda c: departments.get(c, c)),
            "deadline": lambda k: st.date_input(date_label("field.deadline"), value=None, key=k, format=DATE_FORMAT),
        }, lambda cause, description, owner_department, deadline: followthrough.add_rectification(
            uow(), actor=actor, complaint_id=key, cause=cause, description=description,
            owner_department=owner_department, deadline=deadline, now=now()), t("reg.added"))


def rectification_table(items) -> None:  # noqa: ANN001
    departments = labels(reference().departments)
    if not items:
        st.caption(t("reg.none"))
        return
    st.dataframe(pd.DataFrame({
        t("field.number"): [i.number or f"#{i.complaint_id}" for i in items],
        t("field.cause"): [i.cause for i in items], t("field.description_rect"): [i.description for i in items],
        t("field.owner_department"): [departments.get(i.owner, i.owner) for i in items],
        t("field.deadline"): [i.deadline.isoformat() for i in items],
        t("field.status"): [t(f"rect.status.{i.status}") for i in items],
    }), hide_index=True, width="stretch")


def rectification_status_form(items, actor: Actor) -> None:  # noqa: ANN001
    """Move one item along (owner department or GM office)."""
    from portal.services.followthrough import RECTIFICATION_STATUSES
    if not items:
        return
    with st.form("rectification_status", enter_to_submit=False):
        chosen = st.selectbox(t("reg.rectifications"), [i.id for i in items], key="rect_item",
                              format_func=lambda i: next(f"{x.number or '#' + str(x.complaint_id)} · {x.description[:30]}"
                                                         for x in items if x.id == i))
        status = st.selectbox(t("field.status"), list(RECTIFICATION_STATUSES), key="rect_status", index=None,
                              placeholder=t("widget.choose"), format_func=lambda v: t(f"rect.status.{v}"))
        if st.form_submit_button(t("reg.set_status")):
            act(lambda: followthrough.set_rectification_status(uow(), actor=actor, rectification_id=chosen,
                                                               status=status, now=now()),
                notice=t("reg.status_set"), form="rectification_status")
