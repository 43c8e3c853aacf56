"""月度检查 in a real browser (002 art.13.9): a department head confirms last month's responsibility ratios from
the home page's to-do; the GM office sees who confirmed on the statistics page and compiles the month, the
department that did not confirm listed as such in the compiled table."""
from __future__ import annotations

import shutil
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.domain.statistics import Period
from portal.persistence.database import UnitOfWork, make_engine
from portal.persistence.models import StatsSnapshot
from portal.ui.context import now as wall_now
from tests.conftest import People
from tests.e2e.conftest import running_portal
from tests.e2e.test_browser import log_in, settle
from tests.e2e.test_chinese import english_words
from tests.review_helpers import closed_case


def last_month() -> Period:
    today = wall_now()
    return Period.month(today.year, today.month).previous()


@pytest.fixture(scope="module")
def review_server(sqlite_template, tmp_path_factory):
    """Two cases closed last month: 运营部 100 %, and 运营部 60 % with 技术部 40 %."""
    path = tmp_path_factory.mktemp("e2e_review") / "portal.sqlite3"
    shutil.copy(sqlite_template, path)
    uow = UnitOfWork(make_engine(f"sqlite:///{path}"))
    people = People(uow)
    first = datetime.combine(last_month().first, datetime.min.time())
    closed_case(uow, people, first + timedelta(days=9, hours=10), {"operations": 100})
    closed_case(uow, people, first + timedelta(days=19, hours=10), {"operations": 60, "technical": 40})
    uow.engine.dispose()
    with running_portal(path) as url:
        yield url, path


def test_a_department_head_confirms_and_the_gm_office_compiles(review_server, new_page):
    url, path = review_server
    month = last_month().label
    head = new_page()
    log_in(head, url, "opslead")
    head.get_by_role("link", name="月度检查 › 本部门确认").click()        # the home page's to-do
    expect(head.get_by_role("heading", name="月度检查", exact=True)).to_be_visible()
    settle(head)
    head.get_by_role("button", name=f"确认运营部 {month} 的责任归属及比例").click()
    expect(head.get_by_text(f"已确认 {month} 的责任比例。")).to_be_visible()
    expect(head.locator("[data-testid='stException']")).to_have_count(0)
    for tab in ("结案清单", "确认情况", "投诉立会"):          # every tab reads in Chinese, cases and all
        head.get_by_role("tab", name=tab).click()
        settle(head)
        assert not english_words(head.inner_text("body"), {"opslead"}), tab

    office = new_page()
    log_in(office, url, "gmo", "statistics")
    expect(office.get_by_text("运营部：2 件 · 已确认 运营主管子", exact=False)).to_be_visible()
    expect(office.get_by_text("技术部：1 件 · 未确认", exact=False)).to_be_visible()
    office.get_by_role("button", name=f"将 {month} 统计表标记为已编制").click()
    expect(office.get_by_text(f"{month} 统计表已编制并存档。")).to_be_visible()
    uow = UnitOfWork(make_engine(f"sqlite:///{path}"))
    try:
        with uow.read() as session:
            review = session.scalar(select(StatsSnapshot.figures).where(StatsSnapshot.period == month))["review"]
    finally:
        uow.engine.dispose()
    assert review["unconfirmed"] == ["technical"]
    assert {d["department"]: (d["status"], d["confirmed_by"]) for d in review["departments"]} == {
        "operations": ("confirmed", "运营主管子"), "technical": ("not_confirmed", None)}
    assert len(review["closed_cases"]) == 2
