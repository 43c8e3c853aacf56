"""Sessions that end when they should, cookies the portal did not issue, and the response headers."""
from __future__ import annotations

import base64
import json
import re
import urllib.error
import urllib.request

from playwright.sync_api import expect

from portal.ui.auth import COOKIE_NAME
from tests.e2e.test_browser import log_in, settle, wait_for_login_cookie


def _signed_in(page) -> None:  # noqa: ANN001
    expect(page.get_by_text(re.compile("当前用户："))).to_be_visible()


def _login_form(page) -> None:  # noqa: ANN001
    expect(page.get_by_label("用户名")).to_be_visible()
    expect(page.get_by_text(re.compile("当前用户："))).to_have_count(0)
    expect(page.locator("[data-testid='stException']")).to_have_count(0)
    expect(page.get_by_text("Traceback")).to_have_count(0)


def test_logout_sticks_and_a_copy_of_the_cookie_is_refused(server, new_page):
    page = new_page()
    log_in(page, server, "gmo")
    wait_for_login_cookie(page)
    copied = [c for c in page.context.cookies() if c["name"] == COOKIE_NAME]
    page.reload()                                   # a new browser session, admitted by the cookie
    _signed_in(page)
    settle(page)
    page.get_by_role("button", name="退出登录").click()
    _login_form(page)
    page.reload()                                   # whatever the browser still holds, no way back in
    _login_form(page)
    settle(page)
    page.goto(f"{server}/gm_office")
    _login_form(page)
    expect(page.get_by_text("待受理队列")).to_have_count(0)

    elsewhere = new_page()                          # the cookie copied before logout, in a fresh context
    elsewhere.context.add_cookies(copied)
    elsewhere.goto(f"{server}/gm_office")
    _login_form(elsewhere)
    expect(elsewhere.get_by_text("待受理队列")).to_have_count(0)


def _jwt(header: dict, payload: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()
    return f"{part(header)}.{part(payload)}."


def test_cookies_the_portal_did_not_issue_show_the_login_form(server, new_page):
    forged = [_jwt({"alg": "none", "typ": "JWT"}, {"username": "admin", "exp_date": 4102444800}),
              _jwt({"alg": "HS256", "typ": "JWT"}, {"username": "admin"}) + "c2lnbmF0dXJl",
              _jwt({"alg": "HS256"}, {"username": "nobody", "exp_date": 4102444800}),
              "%00%ff<script>alert(1)</script>", "x" * 3000]
    for value in forged:
        page = new_page()
        page.context.add_cookies([{"name": COOKIE_NAME, "value": value, "url": server}])
        page.goto(f"{server}/admin_users")
        _login_form(page)
        expect(page.get_by_text("用户管理")).to_have_count(0)


def test_every_response_carries_the_security_headers_and_metrics_are_not_public(server):
    with urllib.request.urlopen(f"{server}/", timeout=10) as response:
        headers = {k.lower(): v for k, v in response.headers.items()}
    assert headers["x-frame-options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    for path in ("/_stcore/metrics", "/_stcore/metrics/"):
        try:
            urllib.request.urlopen(f"{server}{path}", timeout=10)
        except urllib.error.HTTPError as refused:
            assert refused.code == 404
            assert refused.headers["x-content-type-options"] == "nosniff"
        else:
            raise AssertionError(f"{path} answered without a token")
