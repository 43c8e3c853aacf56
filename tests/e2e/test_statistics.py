"""A manager opens 统计分析 in a real browser: every chart drawn, the Excel export holds the page's
figures, and no customer's phone number appears on the page or in the file."""
from __future__ import annotations

import io
import re
import shutil

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlalchemy import func, select

from portal import demo
from portal.persistence.database import UnitOfWork, make_engine
from portal.persistence.models import Complaint
from portal.ui.context import now as wall_now
from tests.e2e.conftest import running_portal
from tests.e2e.test_browser import log_in, settle

PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


@pytest.fixture(scope="module")
def seeded_server(sqlite_template, tmp_path_factory):
    """A fresh server on a database with a few weeks of demo cases (ending now)."""
    path = tmp_path_factory.mktemp("e2e_stats") / "portal.sqlite3"
    shutil.copy(sqlite_template, path)
    uow = UnitOfWork(make_engine(f"sqlite:///{path}"))
    demo.seed(uow, complaints_count=40, seed_value=9, now=wall_now())
    with uow.read() as session:
        phones = set(session.scalars(select(Complaint.customer_phone)))
    uow.engine.dispose()
    with running_portal(path) as url:
        yield url, phones, path


def metric(page, label: str) -> str:
    box = page.locator("[data-testid='stMetric']").filter(has=page.get_by_text(label, exact=True)).first
    return box.locator("[data-testid='stMetricValue']").inner_text().strip()


def test_a_manager_sees_every_chart_and_downloads_the_table_without_personal_data(seeded_server, new_page):
    url, phones, _ = seeded_server
    assert phones and all(PHONE.fullmatch(p) for p in phones)
    page = new_page()
    log_in(page, url, "boss", "statistics")
    expect(page.get_by_role("heading", name="统计分析", exact=True)).to_be_visible()
    settle(page)
    charts = page.locator("[data-testid='stVegaLiteChart']")
    from tests.pages.test_statistics_page import CHARTS, desk_charts    # the complaints', then the service desk's
    uow = UnitOfWork(make_engine(f"sqlite:///{seeded_server[2]}"))
    drawn = CHARTS + desk_charts(uow)
    uow.engine.dispose()
    expect(charts).to_have_count(drawn)
    for i in range(drawn):       # each drawn by vega-embed: a canvas or an svg inside
        expect(charts.nth(i).locator("canvas, svg").first).to_be_attached()
    expect(page.locator("[data-testid='stException']")).to_have_count(0)
    expect(page.get_by_text(re.compile("统计时间："))).to_be_visible()
    shown = {label: metric(page, label) for label in ("接收投诉", "受理", "结案", "按时结案", "重复投诉")}
    assert all(v.isdigit() for v in shown.values()), shown
    assert int(shown["接收投诉"]) > 0

    body = page.locator("body").inner_text()
    assert not PHONE.search(body), PHONE.search(body)
    assert not any(p in page.content() for p in phones)

    with page.expect_download() as download:
        page.get_by_role("button", name="下载统计表（Excel）").click()
    data = open(download.value.path(), "rb").read()
    book = load_workbook(io.BytesIO(data))
    summary = {row[0]: row[1] for row in book["汇总"].iter_rows(min_row=2, values_only=True)}
    for label, value in shown.items():
        assert summary[label] == int(value), label
    cells = [str(c) for sheet in book for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert not [c for c in cells if PHONE.search(c)]
    cover = {row[0]: row[1] for row in book["封面"].iter_rows(values_only=True)}
    assert cover["统计期间"] == f"{wall_now():%Y-%m}"


def test_the_manager_goes_from_a_figure_to_exactly_the_cases_it_counts(seeded_server, new_page):
    """期末未结案 → 查看案件: the ledger opens on the cases open now, as many as the figure and as the
    database holds, whatever the ledger showed before."""
    url, _, path = seeded_server
    uow = UnitOfWork(make_engine(f"sqlite:///{path}"))
    with uow.read() as session:
        open_now = session.scalar(select(func.count()).select_from(Complaint).where(Complaint.closed_at.is_(None)))
        total = session.scalar(select(func.count()).select_from(Complaint))
    uow.engine.dispose()
    assert 0 < open_now < total
    page = new_page()
    log_in(page, url, "boss", "statistics")
    settle(page)
    figure = metric(page, "期末未结案")
    assert int(figure) == open_now
    column = page.locator("[data-testid='stColumn']").filter(has=page.get_by_text("期末未结案", exact=True)).first
    column.get_by_role("link", name="查看案件").click()
    expect(page.get_by_role("heading", name="客户抱怨案件登记追踪表")).to_be_visible()
    settle(page)
    expect(page.get_by_text(re.compile("来自统计分析：期末未结案"))).to_be_visible()
    assert "figure=open_at_end" in page.url
    assert metric(page, "案件数") == figure
    expect(page.get_by_text(re.compile(f"共 {open_now} 条"))).to_be_visible()
    expect(page.locator("[data-testid='stException']")).to_have_count(0)
    page.get_by_role("link", name="显示全部案件").click()
    settle(page)
    expect(page.get_by_text(re.compile("来自统计分析"))).to_have_count(0)
    assert metric(page, "案件数") == str(total)
