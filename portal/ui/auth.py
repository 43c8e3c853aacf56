"""Login (streamlit-authenticator, bcrypt) and the server-side role check of every page.

The library's cookie cannot be revoked, so every run re-reads the user from the database: a user
disabled by an administrator is refused at their next click, whatever their cookie says.
"""
from __future__ import annotations

import streamlit as st
import streamlit_authenticator as stauth

from portal import config
from portal.domain.roles import Role
from portal.services import users
from portal.services.actors import Actor, load_actor
from portal.ui.context import t, uow
from portal.ui.navigation import BY_KEY, allowed

COOKIE_NAME = "complaint_portal_auth"


def authenticator() -> stauth.Authenticate:
    return stauth.Authenticate(users.login_credentials(uow()), COOKIE_NAME, config.cookie_key(),
                               cookie_expiry_days=1, auto_hash=False, login_sleep_time=0)


def signed_in_actor(auth: stauth.Authenticate) -> Actor | None:
    if not st.session_state.get("authentication_status"):
        return None
    actor = load_actor(uow(), st.session_state.get("username") or "")
    if actor is None:
        auth.authentication_controller.logout()
        st.session_state["auth_notice"] = "auth.disabled"
        st.session_state["cookie_forget"] = 1
    return actor


def login_page(auth: stauth.Authenticate) -> None:
    forget_cookie(auth)
    st.title(t("app.title"))
    notice = st.session_state.get("auth_notice")
    if notice:
        st.error(t(notice))
    st.caption(t("login.prompt"))
    auth.login(location="main", fields={"Form name": t("login.form"), "Username": t("login.username"),
                                        "Password": t("login.password"), "Login": t("login.submit")})
    status = st.session_state.get("authentication_status")
    if status:
        st.session_state.pop("auth_notice", None)
        st.session_state["cookie_pending"] = 1
        st.rerun()
    elif status is False:
        st.error(t("login.failed"))


def keep_cookie(auth: stauth.Authenticate) -> None:
    """Set the re-login cookie until the browser reports having it.

    The library sets it inside the login run, which the rerun that follows can cut short before
    the browser has stored it; so the runs after login set it again (a few at most).
    """
    pending = st.session_state.get("cookie_pending", 0)
    if not pending:
        return
    browser_cookies = auth.cookie_controller.cookie_model.cookie_manager.cookies or {}
    if COOKIE_NAME in browser_cookies or pending >= 10:
        st.session_state.pop("cookie_pending")
        return
    st.session_state["cookie_pending"] = pending + 1
    auth.cookie_controller.set_cookie()


def log_out(auth: stauth.Authenticate) -> None:
    auth.authentication_controller.logout()
    st.session_state["cookie_forget"] = 1
    st.rerun()


def forget_cookie(auth: stauth.Authenticate) -> None:
    """Delete the re-login cookie on the login page until the browser reports it gone (deleting it
    in the logout run itself would be cut short by the rerun that shows the login page)."""
    pending = st.session_state.get("cookie_forget", 0)
    if not pending:
        return
    manager = auth.cookie_controller.cookie_model.cookie_manager
    if COOKIE_NAME not in (manager.cookies or {}) or pending >= 10:
        st.session_state.pop("cookie_forget")
        return
    st.session_state["cookie_forget"] = pending + 1
    manager.delete(COOKIE_NAME, key=f"forget_cookie_{pending}")


def role_names(roles) -> str:  # noqa: ANN001
    return "、".join(t(f"role.{r.value}") for r in sorted(roles))


def require_page(key: str) -> Actor:
    """Called first by every page script: the page renders only for a signed-in user with its role."""
    spec = BY_KEY[key]
    actor = None
    if st.session_state.get("authentication_status"):
        actor = load_actor(uow(), st.session_state.get("username") or "")
    if actor is None:
        st.error(t("auth.not_logged_in"))
        st.stop()
    if not allowed(spec, actor.roles):
        refuse(key)
        st.stop()
    return actor


def refuse(key: str) -> None:
    spec = BY_KEY[key]
    st.error(t("auth.refused_page", page=t(spec.title_key), roles=role_names(spec.roles)))


def has_role(actor: Actor, *roles: Role) -> bool:
    return actor.has(*roles)
