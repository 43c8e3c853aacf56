"""Single sign-on in a browser: the portal started with `[auth]` in its secrets, against a real local OpenID provider
(oidc-provider-mock) started by the test. A person signs in with the company account and is the portal user of that
e-mail, with the portal's roles; logging out ends the portal session and the company account's sign-in here; an
unknown account and a disabled user's account are refused with a clear message, and the refusals are audited."""
from __future__ import annotations

import logging
import re
import shutil

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.persistence.database import UnitOfWork, make_engine
from portal.persistence.models import Event, LoginSession, User
from portal.services import sessions, users
from portal.ui.context import wall_clock
from tests.conftest import T0
from tests.e2e.conftest import running_portal
from tests.e2e.test_browser import settle, wait_for_login_cookie

# the provider runs in this process; its Authlib calls warn of their own deprecations
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
SIGNED_IN = re.compile("当前用户：")
ACCOUNTS = {"u-gmo": "gmo@corp.example", "u-lead2": "lead2@corp.example", "u-stranger": "stranger@corp.example"}


@pytest.fixture(scope="module")
def sso_portal(sqlite_template, tmp_path_factory):  # noqa: ANN001, ANN201
    from oidc_provider_mock import User as Account
    from oidc_provider_mock import run_server_in_thread
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    folder = tmp_path_factory.mktemp("sso")
    database = folder / "portal.sqlite3"
    shutil.copy(sqlite_template, database)
    uow = UnitOfWork(make_engine(f"sqlite:///{database}"))
    with uow.write() as session:
        for username, email in (("gmo", "GMO@corp.example"), ("lead2", "lead2@corp.example")):
            session.scalar(select(User).where(User.username == username)).email = email
    users.set_user_active(uow, actor=None, username="lead2", active=False, now=T0)
    with run_server_in_thread(port=0, user_claims=[Account(sub=sub, claims={"email": email, "email_verified": True})
                                                   for sub, email in ACCOUNTS.items()]) as provider:
        idp = f"http://localhost:{provider.server_port}"
        secrets = folder / "secrets.toml"
        secrets.write_text(
            "[auth]\n"
            'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            'cookie_secret = "a-test-cookie-secret-of-some-length-0123456789"\n'
            'client_id = "complaint-portal"\n'
            'client_secret = "test-client-secret"\n'
            f'server_metadata_url = "{idp}/.well-known/openid-configuration"\n')
        with running_portal(database, env={"PORTAL_SECRETS_FILE": str(secrets)},
                            options=("--secrets.files", str(secrets))) as url:
            yield url, idp, uow
    uow.engine.dispose()


def sign_on(page: Page, url: str, idp: str, subject: str) -> None:
    """As a person would: the company-account button, the provider's page, choose the account."""
    page.goto(url)
    page.get_by_role("button", name="使用公司账号登录").click()
    page.wait_for_url(f"{idp}/oauth2/authorize?**")
    page.get_by_role("button", name=subject).click()
    page.wait_for_url(f"{url}/**")


def _events(uow, action: str) -> list[Event]:  # noqa: ANN001
    with uow.read() as session:
        return list(session.scalars(select(Event).where(Event.action == action).order_by(Event.id)))


def test_the_company_account_signs_in_as_its_portal_user_and_logging_out_ends_both(sso_portal, new_page):
    url, idp, uow = sso_portal
    page = new_page()
    sign_on(page, url, idp, "u-gmo")
    expect(page.get_by_text(SIGNED_IN)).to_contain_text("总经理室丙")
    settle(page)
    wait_for_login_cookie(page)
    page.goto(f"{url}/gm_office")                              # the portal's roles: the GM office's page
    expect(page.get_by_role("heading", name="待受理队列")).to_be_visible()
    login = _events(uow, "auth.login")[-1]
    assert login.changes["via"] == "sso" and login.changes["email"] == "gmo@corp.example"
    settle(page)

    # the portal session ends on the server (as a logout elsewhere would end it): the provider's sign-in that the
    # browser still holds does not open it again; the person goes through the provider once more
    with uow.write() as session:
        gmo = session.scalar(select(User.id).where(User.username == "gmo"))
        assert sessions.revoke_user_sessions(session, user_id=gmo, now=wall_clock(), reason="test") == 1
    page.reload()
    expect(page.get_by_role("button", name="使用公司账号登录")).to_be_visible()
    settle(page)
    expect(page.get_by_text(SIGNED_IN)).to_have_count(0)
    sign_on(page, url, idp, "u-gmo")
    expect(page.get_by_text(SIGNED_IN)).to_contain_text("总经理室丙")
    settle(page)
    wait_for_login_cookie(page)

    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url(f"{idp}/oauth2/end_session?**")          # the company account's sign-in here ends too
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(f"{url}/**")
    expect(page.get_by_role("button", name="使用公司账号登录")).to_be_visible()
    with uow.read() as session:
        assert session.scalars(select(LoginSession.revoked_at).order_by(LoginSession.id.desc())).first() is not None
    page.goto(f"{url}/gm_office")                               # nothing signs the browser in again by itself
    expect(page.get_by_role("button", name="使用公司账号登录")).to_be_visible()
    settle(page)
    expect(page.get_by_text(SIGNED_IN)).to_have_count(0)


@pytest.mark.parametrize("subject, says, reason", [
    ("u-stranger", "公司账号 stranger@corp.example 尚未开通本门户", "unknown"),
    ("u-lead2", "公司账号 lead2@corp.example 对应的门户用户已停用", "disabled"),
])
def test_an_unknown_or_disabled_account_is_refused_with_a_message_and_audited(sso_portal, new_page, subject, says,
                                                                             reason):
    url, idp, uow = sso_portal
    before = len(_events(uow, "auth.sso_refused"))
    page = new_page()
    sign_on(page, url, idp, subject)
    expect(page.get_by_text(says)).to_be_visible()
    settle(page)
    expect(page.get_by_text(SIGNED_IN)).to_have_count(0)
    page.goto(f"{url}/gm_office")
    expect(page.get_by_text(says)).to_be_visible()
    expect(page.get_by_role("heading", name="待受理队列")).to_have_count(0)
    refused = _events(uow, "auth.sso_refused")[before:]     # one sign-in, one refusal, however many pages it opens
    assert [(e.changes["email"], e.changes["reason"]) for e in refused] == [(ACCOUNTS[subject], reason)]
    expect(page.get_by_role("button", name="换一个公司账号登录")).to_be_visible()
