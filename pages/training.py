"""培训演示 (trainer): build the sandbox from its fixed seed, take this browser into it, move its clock
forward and watch badges turn and reminders appear, and walk one prepared case through the six
steps of complaint handling (受理、调查、处理、反馈、跟进、总结) on the drawing of the process."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from portal.domain.errors import DomainError, ValidationFailed
from portal.domain.walkthrough import STEPS, step_of
from portal.i18n.format import badge_text, fmt_time
from portal.services import reminders, sandbox, sessions, walkthrough
from portal.ui import auth
from portal.ui.auth import require_page
from portal.ui.context import calendar, in_sandbox, lang, now, sandbox_clock_moved, say, t, uow, wall_clock
from portal.ui.process import process_drawing
from portal.ui.widgets import clear_notices, field_error, show_notice

actor = require_page("training")
st.title(t("nav.training"))
show_notice()

if not in_sandbox():
    st.subheader(t("sandbox.title"))
    st.write(t("sandbox.explain"))
    built = sandbox.current_url()
    st.caption(t("sandbox.status_built") if built else t("sandbox.status_none"))
    left, right = st.columns(2)
    if left.button(t("sandbox.build"), key="sandbox_build", type="primary"):
        clear_notices()
        bar = st.progress(0.0, text=t("sandbox.building"))

        def advanced(done: int, total: int) -> None:       # after each demo case
            bar.progress(done / total if total else 1.0, text=t("sandbox.building_progress", done=done, total=total))
        try:
            counts = sandbox.build(actor=actor, now=wall_clock(), progress=advanced)
        except DomainError as refused:
            bar.empty()
            st.error(say(refused.message))
        else:
            st.session_state["notice"] = t("sandbox.built", cases=sum(v for k, v in counts.items()
                                                                        if k not in ("reminders", "repeats")))
            st.rerun()
    if built and right.button(t("sandbox.enter"), key="sandbox_enter"):
        token, expires = sandbox.enter(actor=actor, address=auth.client_address(), now=wall_clock())
        # this browser leaves the real portal: its real login ends (no session outlives its cookie)
        sessions.sign_out(uow(), token=st.session_state.get(auth.TOKEN), now=wall_clock())
        auth.remember_login(token, expires, sandbox=True)
    st.stop()

# -- in the sandbox: its clock --
st.subheader(t("sandbox.clock"))
st.write(t("sandbox.clock_now", at=f"{now():%Y-%m-%d %H:%M}"))
errors = st.session_state.get("errors_sandbox_clock", {})
with st.form("sandbox_clock", enter_to_submit=False):
    left, right = st.columns(2)
    hours = left.number_input(t("sandbox.hours"), min_value=0, max_value=720, value=0, step=1, key="clock_hours")
    with left:
        field_error(errors, "hours")
    days = right.number_input(t("sandbox.working_days"), min_value=0, max_value=60, value=0, step=1,
                              key="clock_days")
    with right:
        field_error(errors, "working_days")
    if st.form_submit_button(t("sandbox.move"), type="primary"):
        clear_notices()
        try:
            moved = sandbox.move_clock(uow(), actor=actor, hours=int(hours), working_days=int(days), wall=wall_clock(),
                                       calendar=calendar())
        except ValidationFailed as refused:
            st.session_state["errors_sandbox_clock"] = refused.errors
            st.rerun()
        else:
            sandbox_clock_moved()
            issued = reminders.issue_reminders(uow(), now=moved)       # what the new time makes overdue
            st.session_state.pop("errors_sandbox_clock", None)
            st.session_state["notice"] = t("sandbox.moved", at=f"{moved:%Y-%m-%d %H:%M}", issued=issued)
            st.rerun()

# -- the guided walk-through of one prepared case --
st.subheader(t("walk.title"))
case_id = walkthrough.guide_case(uow())
if case_id is None:
    st.write(t("walk.intro"))
    if st.button(t("walk.start"), key="walk_start", type="primary"):
        walkthrough.start(uow(), actor=actor, now=now())
        st.rerun()
    st.stop()

case = walkthrough.guide_view(uow(), actor=actor, complaint_id=case_id, now=now(), calendar=calendar())
current = step_of(case.state)
keys = [s.key for s in STEPS]
chosen = st.radio(t("walk.steps"), keys, index=keys.index(current.key), horizontal=True, key=f"walk_step_{case.state}",
                  format_func=lambda k: f"{keys.index(k) + 1}. {t(f'walk.{k}.title')}")
step = STEPS[keys.index(chosen)]
st.markdown(f"**{t('walk.case', number=case.number or case.id, state=t(f'state.{case.state}'))}**")
st.graphviz_chart(process_drawing(case.state, lambda s: t(f"state.{s}"), tuple(s.value for s in step.states)))
st.caption(t("walk.legend"))
left, right = st.columns(2)
with left:
    st.markdown(f"**{t('walk.who')}**")
    st.text("、".join(t(f"role.{r.value}") for r in step.roles))
    st.markdown(f"**{t('walk.what')}**")
    st.text(t(f"walk.{step.key}.what"))
    st.markdown(f"**{t('walk.form')}**")
    st.text(t(f"walk.{step.key}.form"))
with right:
    st.markdown(f"**{t('walk.clocks')}**")
    running = [c for c in case.clocks if c.info.rule.key in step.clocks]
    if running:
        st.dataframe(pd.DataFrame({
            t("case.clock"): [c.info.label(lang()) for c in running],
            t("case.badge"): [badge_text(c.badge, lang()) for c in running],
            t("case.due"): [fmt_time(c.due) for c in running],
        }), hide_index=True, width="stretch")
    else:
        st.text(t("walk.review.clock"))
if case.state == "archived":
    st.success(t("walk.finished"))
elif st.button(t("walk.advance", step=t(f"walk.{current.key}.title")), key="walk_advance", type="primary"):
    clear_notices()
    try:
        state = walkthrough.advance(uow(), actor=actor, complaint_id=case_id, now=now())
    except DomainError as refused:
        st.error(say(refused.message))
    else:
        st.session_state["notice"] = t("walk.advanced", state=t(f"state.{state}"))
        st.rerun()
if st.button(t("walk.restart"), key="walk_restart"):
    walkthrough.start(uow(), actor=actor, now=now())
    st.rerun()
