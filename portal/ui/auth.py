"""Login, logout and the server-side check of every page run.

The session lives in the database (`portal.services.sessions`): each run resumes it from the
token in this browser session, or from the re-login cookie when the browser session is new. A
revoked, expired or unknown token shows the login form, whatever the cookie says.

The cookie is written by the cookie component that streamlit-authenticator uses
(extra-streamlit-components), from the page's script: that is why it cannot be HttpOnly. It holds
only a random token, is SameSite=Strict (and Secure behind TLS), and is worth nothing once
revoked.
"""
from __future__ import annotations

import os
from datetime import datetime

import streamlit as st
from streamlit.errors import StreamlitAuthError
from extra_streamlit_components.CookieManager import _component_func as cookie_component

from portal import config
from portal.domain.roles import Role
from portal.services import sessions
from portal.services.actors import Actor
from portal.ui.context import BEIJING, SANDBOX_PREFIX, SandboxGone, say, t, uow, wall_clock
from portal.ui.navigation import BY_KEY, allowed

COOKIE_NAME = "complaint_portal_auth"
TOKEN = "portal_token"


def client_address() -> str:
    """The browser's address; behind a reverse proxy that sets X-Forwarded-For (and
    PORTAL_FORWARDED_FOR=1), the address the proxy reports. Local connections have none."""
    if os.environ.get("PORTAL_FORWARDED_FOR") == "1":
        forwarded = (st.context.headers.get("X-Forwarded-For") or "").split(",")[0].strip()
        if forwarded:
            return forwarded
    address = st.context.ip_address
    return address if isinstance(address, str) else ""


def _cookie_token() -> str | None:
    try:
        value = st.context.cookies.get(COOKIE_NAME)
    except (AttributeError, RuntimeError):      # no browser connection (bare runs)
        return None
    return value if isinstance(value, str) else None


def current_actor() -> Actor | None:
    """The signed-in user of this run, or None. A token that no longer resumes is forgotten
    (and its cookie deleted), with a notice when this browser session had been signed in."""
    token = st.session_state.get(TOKEN)
    from_cookie = token is None
    if from_cookie:
        token = _cookie_token()
    if not token or (from_cookie and token == st.session_state.get("dead_cookie")):
        st.session_state.pop("in_sandbox", None)
        return None
    # The token says which database the login was made in: the real one, or the trainer's sandbox. A
    # sandbox token resumes only in the sandbox; with none, it is a dead token (never the real database).
    st.session_state["in_sandbox"] = token.startswith(SANDBOX_PREFIX)
    try:
        actor = sessions.resume(uow(), token=token.removeprefix(SANDBOX_PREFIX), now=wall_clock())
    except SandboxGone:
        actor = None
    if actor is not None:
        st.session_state[TOKEN] = token
        return actor
    st.session_state.pop(TOKEN, None)
    st.session_state.pop("in_sandbox", None)
    if not from_cookie:
        st.session_state["auth_notice"] = "auth.session_ended"
    if token == _cookie_token():
        st.session_state["cookie_forget"] = 1
        st.session_state["dead_cookie"] = token     # not tried again in this browser session
    return None


# The cookie component itself, called without CookieManager's extra "read every cookie" instance:
# each call with the same key is one iframe that acts once, so no run triggers another.
_COOKIE_RUNS = 3        # runs a write or delete stays on the page, in case one is cut short


def _cookie_component(**kwargs) -> None:  # noqa: ANN003
    cookie_component(default=False, **kwargs)


def company_identity() -> sessions.Identity | None:
    """Who the company's OpenID provider signed in in this browser (Streamlit's `st.user`), or None: single sign-on
    not configured (no `[auth]` in the secrets), or nobody signed in with it."""
    if not single_sign_on_configured():
        return None
    try:
        if not st.user.get("is_logged_in"):
            return None
    except (AttributeError, RuntimeError):     # no browser connection (bare runs)
        return None
    subject, email, issued = st.user.get("sub"), st.user.get("email"), st.user.get("iat")
    return sessions.Identity(subject=subject if isinstance(subject, str) else "",
                             email=email if isinstance(email, str) else "",
                             issuer=str(st.user.get("iss") or ""),
                             email_verified=st.user.get("email_verified") is True,
                             issued_at=datetime.fromtimestamp(issued, BEIJING).replace(tzinfo=None)
                             if isinstance(issued, int | float) and not isinstance(issued, bool) else None)


def single_sign_on_configured() -> bool:
    """`[auth]` in the secrets Streamlit reads: the company's OpenID provider, for `st.login`."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError:            # no secrets file at all (Streamlit's own error is one)
        return False


SSO_REFUSED = "sso_refused"


def _sign_on_button() -> None:
    if st.button(t("login.sso_button"), type="primary", key="sso_login"):
        try:
            st.login(config.sso_provider())
        except StreamlitAuthError:          # an [auth] table Streamlit cannot use (a key missing, a wrong name)
            st.error(t("login.sso_misconfigured"))


def _single_sign_on() -> None:
    """The company account: once the provider has sent the browser back from a fresh sign-in, the portal opens its
    own session for the user that identity is (or says why not, once per sign-in and browser session, audited);
    otherwise a button that goes to the provider."""
    identity = company_identity()
    if identity is None:
        _sign_on_button()
        return
    mark = (identity.subject, identity.email, identity.issued_at)
    refused = st.session_state.get(SSO_REFUSED)
    if refused is None or refused[0] != mark:
        try:
            signed = sessions.sign_in_with_identity(uow(), identity=identity, address=client_address(),
                                                    now=wall_clock())
        except sessions.SignOnAgain:        # an old sign-in kept by the browser: the provider is asked again
            _sign_on_button()
            return
        except sessions.LoginRefused as refusal:
            refused = st.session_state[SSO_REFUSED] = (mark, refusal.message)
        else:
            remember_login(signed.token, signed.expires_at, sandbox=False)
            return
    st.error(say(refused[1]))
    if st.button(t("login.sso_other"), key="sso_other"):
        st.session_state.pop(SSO_REFUSED, None)
        st.logout()


def login_page() -> None:
    forget_cookie()
    st.title(t("app.title"))
    notice = st.session_state.get("auth_notice")
    if notice:
        st.error(t(notice))
    configured = single_sign_on_configured()
    if configured:
        _single_sign_on()
    if not config.password_login():
        st.caption(t("login.password_off"))
        if not configured:       # no way in at all: say so rather than show an empty page
            st.error(t("login.sso_misconfigured"))
        return
    _password_form()


def _password_form() -> None:
    st.caption(t("login.prompt"))
    from portal.services.sandbox import current_url
    with st.form("login", enter_to_submit=False):
        st.subheader(t("login.form"))
        username = st.text_input(t("login.username"), max_chars=40, autocomplete="username")
        password = st.text_input(t("login.password"), type="password", max_chars=72,
                                 autocomplete="current-password")
        # trainees log in to the trainer's sandbox with the demo accounts
        practice = current_url() is not None and st.checkbox(t("sandbox.login"), key="login_sandbox")
        submitted = st.form_submit_button(t("login.submit"), type="primary")
    if not submitted:
        return
    st.session_state["in_sandbox"] = bool(practice)
    try:
        signed = sessions.sign_in(uow(), username=username, password=password, address=client_address(),
                                  now=wall_clock())
    except sessions.LoginRefused as refused:
        st.error(t(refused.message.key, **refused.message.params))
        return
    st.session_state.pop("auth_notice", None)
    st.session_state.pop("cookie_forget", None)
    remember_login(signed.token, signed.expires_at, sandbox=bool(practice))


def remember_login(token: str, expires_at, *, sandbox: bool) -> None:  # noqa: ANN001
    """This browser session is signed in with `token` (of the sandbox's database when `sandbox`)."""
    st.session_state.pop("auth_notice", None)
    st.session_state.pop("cookie_forget", None)
    st.session_state.pop("dead_cookie", None)
    st.session_state["in_sandbox"] = sandbox
    st.session_state[TOKEN] = (SANDBOX_PREFIX if sandbox else "") + token
    st.session_state["cookie_pending"] = 1
    st.session_state["cookie_expires"] = expires_at
    st.rerun()


def _secure() -> bool:
    return (st.context.headers.get("X-Forwarded-Proto") or "").lower() == "https" \
        or os.environ.get("PORTAL_SECURE_COOKIE") == "1"


def keep_cookie() -> None:
    """Write the re-login cookie in the first runs after login (the same component each time)."""
    pending = st.session_state.get("cookie_pending", 0)
    token = st.session_state.get(TOKEN)
    if not pending or not token:
        return
    st.session_state["cookie_pending"] = pending + 1
    if pending > _COOKIE_RUNS:
        st.session_state.pop("cookie_pending")
    expires = st.session_state.get("cookie_expires")
    options = {"path": "/", "sameSite": "strict", "expires": expires.isoformat() if expires else None}
    if _secure():
        options["secure"] = True
    _cookie_component(method="set", cookie=COOKIE_NAME, value=token, key=f"set_cookie_{token[:12]}",
                      options={k: v for k, v in options.items() if v is not None})


def log_out() -> None:
    """End the session on the server (so the cookie and any copy of it are refused), then delete
    the cookie from this browser."""
    token = st.session_state.pop(TOKEN, None)
    st.session_state.pop(RUN_ACTOR, None)
    try:
        sessions.sign_out(uow(), token=token.removeprefix(SANDBOX_PREFIX) if token else None, now=wall_clock())
    except SandboxGone:         # its sandbox was rebuilt or removed: nothing left to sign out of
        pass
    st.session_state.pop("in_sandbox", None)
    st.session_state.pop("cookie_pending", None)
    st.session_state["cookie_forget"] = 1
    if company_identity() is not None:   # and out of the company account here, or the next run signs in again
        st.session_state.pop(SSO_REFUSED, None)
        st.logout()
        st.stop()
    st.rerun()


def forget_cookie() -> None:
    """Delete the re-login cookie in the first runs of the login page after logout (or after the
    cookie was found dead); the server has already revoked it, so this only tidies the browser."""
    pending = st.session_state.get("cookie_forget", 0)
    if not pending:
        return
    st.session_state["cookie_forget"] = pending + 1
    if pending > _COOKIE_RUNS:
        st.session_state.pop("cookie_forget")
    _cookie_component(method="delete", cookie=COOKIE_NAME, key="forget_cookie")


def role_names(roles) -> str:  # noqa: ANN001
    return "、".join(t(f"role.{r.value}") for r in sorted(roles))


RUN_ACTOR = "portal_run_actor"


def signed_in_this_run() -> Actor | None:
    """The entry script's `current_actor()` of this run, remembered for the page it then runs (so a run
    resumes the session once, not twice); forgotten when the session no longer resumes."""
    actor = current_actor()
    if actor is None:
        st.session_state.pop(RUN_ACTOR, None)
    else:
        st.session_state[RUN_ACTOR] = (st.session_state.get(TOKEN), actor)
    return actor


def require_page(key: str) -> Actor:
    """Called first by every page script: the page renders only for a signed-in user with its role."""
    spec = BY_KEY[key]
    remembered = st.session_state.get(RUN_ACTOR)
    # the entry script resumed this browser's session in this very run: its actor, for the same token
    actor = (remembered[1] if remembered and remembered[0] is not None and remembered[0] == st.session_state.get(TOKEN)
             else current_actor())
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
