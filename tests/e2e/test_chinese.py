"""Chinese mode shows no English: every page each role can open, scanned as a person reads it."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from portal.domain.roles import Role
from portal.i18n import translate
from portal.ui.navigation import PAGES, allowed
from tests.conftest import TEST_USERS
from tests.e2e.test_browser import log_in, settle

# What may stay Latin: the language switch names English on purpose, units, the attachment file types
# the upload box lists, date-format codes, and names of formats.
ALLOWED = {"Language", "English", "MB", "KB", "pdf", "jpg", "jpeg", "png", "gif", "doc", "docx", "xls", "xlsx",
           "txt", "mp", "wav", "m", "a", "zip", "YYYY", "MM", "DD", "yyyy", "mm", "dd", "CSV", "Excel",
           # the series of the service desk's request numbers (pinyin initials: 报案, 理赔, 退保, 批改)
           "BA", "LP", "TB", "PG"}
# Material icons are drawn from their names (keyboard_arrow_down): text in the page, never on screen.
ICON_NAMES = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b|\b(?:upload|visibility)\b")
ROLES = ["clerk", "lead", "gmo", "opshandler", "approver", "boss", "admin", "trainer"]


def shown_text(page) -> str:  # noqa: ANN001
    """The page's text as a sighted reader sees it: without the select boxes' screen-reader announcements
    ("14 options available"), live regions drawn 1 px wide and clipped, whose wording Streamlit fixes."""
    text = page.inner_text("body")
    for region in page.locator("[role='log']").all():
        announced = region.inner_text().strip()
        if announced:
            text = text.replace(announced, " ")
    return text


def english_words(text: str, usernames: set[str]) -> set[str]:
    words = set(re.findall(r"[A-Za-z][A-Za-z']+", ICON_NAMES.sub(" ", text)))
    return {w for w in words if w not in ALLOWED and w.lower() not in usernames}


@pytest.mark.parametrize("username", ROLES)
def test_every_page_of_every_role_reads_in_chinese(server, new_page, username):
    page = new_page()
    log_in(page, server, username)
    roles = {Role(r) for name, _, user_roles, _, _ in TEST_USERS if name == username for r in user_roles}
    specs = [spec for spec in PAGES if allowed(spec, roles)]
    assert specs or username == "trainer"
    seen = {"home": english_words(page.inner_text("body"), {username})}       # where the login lands
    sidebar = page.get_by_role("region", name="Sidebar")
    for spec in specs:                       # each page opened from the sidebar, as a person goes about
        sidebar.get_by_role("link", name=translate(spec.title_key, "zh"), exact=True).click()
        page.wait_for_url(re.compile(rf"/{spec.key}(\?|$)"))
        expect(page.get_by_role("heading", level=1).first).to_be_visible()
        settle(page)
        seen[spec.key] = english_words(page.inner_text("body"), {username})
    assert len(seen) == len(specs) + 1
    assert not any(seen.values()), {k: v for k, v in seen.items() if v}


def test_an_unknown_address_shows_a_chinese_page_with_a_way_home(server, new_page):
    page = new_page()
    log_in(page, server, "clerk")
    page.goto(f"{server}/no_such_page")
    expect(page.get_by_role("heading", name="页面不存在")).to_be_visible()
    expect(page.get_by_text("Page not found")).to_have_count(0)
    settle(page)
    page.get_by_role("link", name="返回首页").click()
    expect(page.get_by_text(re.compile("欢迎"))).to_be_visible()


def test_the_case_history_reads_in_chinese_words(server, new_page):
    from tests.e2e.test_process import accept, as_user, register
    register(new_page, server, "历史客户")
    number = accept(new_page, server, "历史客户", technical=False)
    page = as_user(new_page, server, "gmo", f"case?case={number}")
    expect(page.get_by_text(re.compile(f"案件 {number}"))).to_be_visible()
    settle(page)
    cells = page.locator("[data-testid='stDataFrame'] td[role='gridcell']")
    expect(cells.filter(has_text="受理并编号").first).to_be_attached()
    changes = [c for c in cells.all_inner_texts() if "处理部门" in c]
    assert changes and any("运营部" in c for c in changes), changes          # the routed department, named
    history = " ".join(cells.all_inner_texts())
    assert "=" not in history and "{" not in history and "operations" not in history
    assert not english_words(history.replace("P-FLOW", ""), {"gmo"})     # the policy number is the customer's


def test_streamlits_own_widget_words_read_in_chinese_and_come_back_in_english(server, new_page):
    """A table's toolbar and a text box's hint are Streamlit's words: in Chinese where a person meets them
    (hovered, typed into), and in English again after switching to English."""
    admin = new_page()
    log_in(admin, server, "admin", "admin_config")
    table = admin.locator("[data-testid='stDataFrame']").first
    expect(table).to_be_visible()
    settle(admin)
    table.hover()
    download = admin.get_by_role("button", name="下载为 CSV")
    expect(download).to_be_visible()
    expect(admin.get_by_role("button", name="添加行")).to_be_visible()
    for english in ("Download as CSV", "Search", "Fullscreen", "Add row", "Open"):
        expect(admin.get_by_role("button", name=english, exact=True)).to_have_count(0)
    download.hover()
    expect(admin.get_by_text("下载为 CSV", exact=True)).to_be_visible()         # the tooltip, as shown
    expect(admin.get_by_text("Download as CSV")).to_have_count(0)

    page = new_page()
    log_in(page, server, "gmo", "case")
    box = page.get_by_label("投诉编号或内部编号")
    expect(box).to_be_visible()
    settle(page)
    box.press_sequentially("2511")
    expect(page.get_by_text("按回车键确认", exact=True)).to_be_visible()
    expect(page.get_by_text("Press Enter to apply")).to_have_count(0)

    language = admin.get_by_role("region", name="Sidebar").get_by_label("语言 / Language")
    language.click()
    admin.get_by_role("option", name="English", exact=True).click()
    expect(admin.get_by_text(re.compile("Signed in: "))).to_be_visible()
    settle(admin)
    table = admin.locator("[data-testid='stDataFrame']").first
    table.hover()
    expect(admin.get_by_role("button", name="Download as CSV", exact=True)).to_be_visible()
    expect(admin.get_by_role("button", name="Add row", exact=True)).to_be_visible()
    expect(admin.get_by_role("button", name="下载为 CSV")).to_have_count(0)
