"""As a person would: log in, click, read what is shown."""
from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from portal.ui.auth import COOKIE_NAME
from tests.conftest import PASSWORD


def log_in(page: Page, url: str, username: str, path: str = "") -> None:
    """Open the address and log in, as a person would once the page has finished loading (its
    first runs include the cookie component's, which may redraw the form)."""
    page.goto(f"{url}/{path}")
    expect(page.get_by_label("用户名")).to_be_visible()
    settle(page)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_text(re.compile("当前用户："))).to_be_visible()
    settle(page)
    # The re-login cookie is written by a component a moment after the run (longer on a busy machine):
    # a person who opens another address before it is stored meets the login form again.
    wait_for_login_cookie(page)


# Streamlit's own idle signal, read in the page: the app root says its script is not running and the running
# indicator is gone, at five looks in a row 100 ms apart (a component, e.g. the login cookie's, may start a run
# of its own a moment after one ends).
_QUIET = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const busy = !app || app.getAttribute('data-test-script-state') !== 'notRunning'
      || document.querySelector('[data-testid="stStatusWidget"]') !== null;
  window.__portalQuiet = busy ? 0 : (window.__portalQuiet || 0) + 1;
  return window.__portalQuiet >= 5;
}"""


def settle(page: Page) -> None:
    """Wait until the script has finished its runs (components may trigger a few more)."""
    page.evaluate("() => { window.__portalQuiet = 0; }")
    page.wait_for_function(_QUIET, polling=100, timeout=60_000)


def wait_for_login_cookie(page: Page, present: bool = True) -> None:
    """The cookie is written (and deleted) by a component in the page, a moment after the run."""
    for _ in range(600):
        if any(c["name"] == COOKIE_NAME for c in page.context.cookies()) == present:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"the login cookie was never {'stored' if present else 'deleted'}")


def open_page(page: Page, link: str, heading: str) -> None:
    page.get_by_role("region", name="Sidebar").get_by_role("link", name=link).click()
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    settle(page)


def test_the_intake_clerk_cannot_open_the_gm_office_page_by_its_address(server, new_page):
    page = new_page()
    page.goto(f"{server}/gm_office")         # the server's very first request: only the login form
    expect(page.get_by_label("用户名")).to_be_visible()
    expect(page.get_by_text("待受理队列")).to_have_count(0)
    page.get_by_label("用户名").fill("clerk")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_text(re.compile("您没有访问“总经理室”的权限"))).to_be_visible()
    wait_for_login_cookie(page)
    page.goto(f"{server}/gm_office")         # a new session, re-admitted by the login cookie
    expect(page.get_by_text(re.compile("您没有访问“总经理室”的权限"))).to_be_visible()
    expect(page.get_by_text("待受理队列")).to_have_count(0)
    expect(page.get_by_role("link", name="总经理室")).to_have_count(0)
    page.get_by_role("button", name="退出登录").click()   # logging out ends the cookie too
    expect(page.get_by_label("用户名")).to_be_visible()
    wait_for_login_cookie(page, present=False)
    page.goto(f"{server}/register")
    expect(page.get_by_label("用户名")).to_be_visible()
    expect(page.get_by_text("投诉登记（客户抱怨处理表）")).to_have_count(0)


def test_intake_registers_and_the_gm_office_accepts_and_reads_number_and_badges(server, new_page):
    clerk = new_page()
    log_in(clerk, server, "clerk")
    open_page(clerk, "投诉登记", "投诉登记（客户抱怨处理表）")
    clerk.get_by_label("客户姓名").fill("浏览器客户")
    clerk.get_by_label("手机号码").fill("13700001234")
    clerk.get_by_label("保单号", exact=True).fill("P-E2E-0001")
    clerk.get_by_label("险种 / 产品").fill("百万医疗险")
    clerk.get_by_label("投诉内容描述").fill("住院费用报销被拒，理由不明确。")
    clerk.get_by_label("客户期望的解决方式").fill("说明拒赔依据并重新审核。")
    from tests.e2e.test_process import choose_registration
    choose_registration(clerk)
    clerk.get_by_role("button", name="提交登记").click()
    expect(clerk.get_by_text(re.compile("已登记，案件已进入总经理室待受理队列"))).to_be_visible()

    gm = new_page()
    log_in(gm, server, "gmo")
    open_page(gm, "总经理室", "待受理队列")
    gm.get_by_role("button", name="受理并分派").click()
    notice = gm.get_by_text(re.compile(r"已受理，投诉编号：\d{4}-\d{4}"))
    expect(notice).to_be_visible()
    number = re.search(r"\d{4}-\d{4}", notice.inner_text()).group(0)

    open_page(gm, "登记追踪表", "客户抱怨案件登记追踪表")
    gm.get_by_label("搜索编号、客户姓名或保单号").fill(number)
    gm.get_by_label("搜索编号、客户姓名或保单号").press("Enter")
    grid = gm.locator("[data-testid='stDataFrame']").first
    expect(grid).to_be_visible()
    # The data grid draws on a canvas; its visible cells are read from the accessible table it keeps.
    cells = grid.locator("td[role='gridcell']")
    expect(cells.filter(has_text=number)).to_have_count(1)
    expect(cells.filter(has_text="浏览器客户")).to_have_count(1)
    # The seed's columns come first; the clocks' badges are to their right, as a person scrolls to them
    # (the grid keeps only the columns in view).
    grid.hover()
    for _ in range(10):
        if cells.filter(has_text="✅ 已达成").count():
            break
        gm.mouse.wheel(600, 0)
        gm.wait_for_timeout(200)
    expect(cells.filter(has_text="✅ 已达成").first).to_be_attached()    # acknowledged within 24 hours
    expect(cells.filter(has_text="🟢 正常").first).to_be_attached()      # investigation clock running
