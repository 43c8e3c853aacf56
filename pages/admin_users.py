"""用户管理: add users with roles and a department; disable or re-enable them."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from portal.domain.errors import DomainError, ValidationFailed
from portal.domain.roles import Role
from portal.services import users
from portal.ui.auth import require_page
from portal.ui.context import now, reference, reference_changed, say, t, uow
from portal.ui.widgets import clear_notices, field_error, labels, show_notice

actor = require_page("admin_users")
st.title(t("admin.users.title"))
show_notice("users_notice")
departments = labels(reference().departments)
listing = users.list_users(uow())
st.dataframe(pd.DataFrame({
    t("admin.users.username"): [u.username for u in listing],
    t("admin.users.display_name"): [u.display_name for u in listing],
    t("admin.users.roles"): ["、".join(t(f"role.{r}") for r in u.roles) for u in listing],
    t("admin.users.department"): [departments.get(u.department or "", "") for u in listing],
    t("admin.users.approval_level"): [t(f"level.{u.approval_level or 'none'}") for u in listing],
    t("admin.users.active"): [t("yes") if u.active else t("no") for u in listing],
}), hide_index=True, width="stretch")

st.subheader(t("admin.users.toggle"))
names = [u.username for u in listing if u.username != actor.username]
picked = st.selectbox(t("admin.users.pick"), names, key="users_pick", index=None, placeholder=t("widget.choose"))
if picked:                                     # nobody is picked for the admin: they choose whom
    current = next(u for u in listing if u.username == picked)
    # One key per action: a click on 停用 never re-enables a user someone else disabled meanwhile.
    label = t("admin.users.disable") if current.active else t("admin.users.enable")
    if st.button(label, key="users_disable" if current.active else "users_enable"):
        clear_notices()
        try:
            users.set_user_active(uow(), actor=actor, username=picked, active=not current.active, now=now())
        except DomainError as refused:
            st.error(say(refused.message))
        else:
            reference_changed()
            st.session_state["users_notice"] = t("admin.users.changed", username=picked)
            st.rerun()

st.subheader(t("admin.users.add"))
errors = st.session_state.get("users_errors", {})
with st.form("add_user", enter_to_submit=False):
    username = st.text_input(t("admin.users.username"))
    field_error(errors, "username")
    display_name = st.text_input(t("admin.users.display_name"))
    field_error(errors, "display_name")
    password = st.text_input(t("admin.users.password"), type="password")
    field_error(errors, "password")
    roles = st.multiselect(t("admin.users.roles"), [r.value for r in Role], format_func=lambda r: t(f"role.{r}"),
                           placeholder=t("widget.choose"))
    field_error(errors, "roles")
    department = st.selectbox(t("admin.users.department"), [None, *departments],
                              format_func=lambda d: "—" if d is None else departments[d])
    field_error(errors, "department")
    level = st.selectbox(t("admin.users.approval_level"), [None, *users.APPROVAL_LEVELS],
                         format_func=lambda v: t(f"level.{v or 'none'}"))
    if st.form_submit_button(t("admin.users.save"), type="primary"):
        clear_notices()
        try:
            users.add_user(uow(), actor=actor, username=username, display_name=display_name,
                           password=password, roles=roles, department=department,
                           approval_level=level, now=now())
        except ValidationFailed as refused:
            st.session_state["users_errors"] = refused.errors
            st.rerun()
        except DomainError as refused:
            st.error(say(refused.message))
        else:
            st.session_state.pop("users_errors", None)
            reference_changed()
            st.session_state["users_notice"] = t("admin.users.added", username=username.strip().lower())
            st.rerun()

st.subheader(t("admin.users.duties"))
duty_errors = st.session_state.get("duty_errors", {})
whose = st.selectbox(t("admin.users.pick"), [u.username for u in listing], index=None, placeholder=t("widget.choose"),
                     key="duty_pick")
if whose:
    current = next(u for u in listing if u.username == whose)
    # The duties the form opened on: a save on them is refused if someone changed them since.
    # (read anew whenever the form is drawn afresh: its widgets' state is gone once it was not shown)
    if f"duty_roles_{whose}" not in st.session_state or f"duty_seen_{whose}" not in st.session_state:
        st.session_state[f"duty_seen_{whose}"] = users.duties_of(current)
    seen = st.session_state[f"duty_seen_{whose}"]
    form_keys = [f"duty_seen_{whose}", f"duty_roles_{whose}", f"duty_department_{whose}", f"duty_level_{whose}"]
    if "duty_stale" in st.session_state:
        st.error(st.session_state.pop("duty_stale"))
    with st.form(f"duties_{whose}", enter_to_submit=False):
        duties = st.multiselect(t("admin.users.roles"), [r.value for r in Role], default=current.roles,
                                format_func=lambda r: t(f"role.{r}"), placeholder=t("widget.choose"),
                                key=f"duty_roles_{whose}")
        field_error(duty_errors, "roles")
        choices = [None, *departments]
        home = st.selectbox(t("admin.users.department"), choices, key=f"duty_department_{whose}",
                            index=choices.index(current.department) if current.department in choices else 0,
                            format_func=lambda d: "—" if d is None else departments[d])
        field_error(duty_errors, "department")
        levels = [None, *users.APPROVAL_LEVELS]
        authority = st.selectbox(t("admin.users.approval_level"), levels, key=f"duty_level_{whose}",
                                 index=levels.index(current.approval_level) if current.approval_level in levels else 0,
                                 format_func=lambda v: t(f"level.{v or 'none'}"))
        field_error(duty_errors, "approval_level")
        if st.form_submit_button(t("admin.users.save_duties")):
            clear_notices()
            try:
                changed = users.update_user(uow(), actor=actor, username=whose, roles=duties, department=home,
                                            approval_level=authority, now=now(), seen=seen)
            except ValidationFailed as refused:
                st.session_state["duty_errors"] = refused.errors
                st.rerun()
            except DomainError as refused:
                if refused.message.key != "users.changed_meanwhile":
                    st.error(say(refused.message))
                else:                           # the form opens again on the duties as they now are
                    for key in [*form_keys, "duty_errors"]:
                        st.session_state.pop(key, None)
                    st.session_state["duty_stale"] = say(refused.message)
                    st.rerun()
            else:
                for key in [*form_keys, "duty_errors"]:
                    st.session_state.pop(key, None)
                reference_changed()
                st.session_state["users_notice"] = (t("admin.users.duties_saved", username=whose) if changed
                                                    else t("config.unchanged"))
                st.rerun()

st.subheader(t("users.reset_password"))
reset_errors = st.session_state.get("reset_errors", {})
with st.form("reset_password", enter_to_submit=False):
    whose = st.selectbox(t("admin.users.pick"), [u.username for u in listing], index=None,
                         placeholder=t("widget.choose"), key="reset_pick")
    field_error(reset_errors, "username")
    new_password = st.text_input(t("users.new_password"), type="password", key="reset_password_value")
    field_error(reset_errors, "password")
    if st.form_submit_button(t("users.reset_password")):
        clear_notices()
        try:
            users.reset_password(uow(), actor=actor, username=whose, password=new_password, now=now())
        except ValidationFailed as refused:
            st.session_state["reset_errors"] = refused.errors
            st.rerun()
        except DomainError as refused:
            st.error(say(refused.message))
        else:
            st.session_state.pop("reset_errors", None)
            st.session_state["users_notice"] = t("users.password_changed", username=whose)
            st.rerun()
