"""月度检查 in a real browser (002 art.13.9): a department head confirms last month's responsibility ratios from
the home page's to-do; the GM office sees who confirmed on the statistics page and compiles the month, the
department that did not confirm listed as such in the compiled table; a manager then reads the month as the board
would: the causes chart, each satisfaction dimension beside its baseline (004 §1.2) and the per-person table."""
from __future__ import annotations

import shutil
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.domain.satisfaction import Survey
from portal.domain.statistics import Period
from portal.persistence.database import UnitOfWork, make_engine
from portal.persistence.models import StatsSnapshot
from portal.printing.statistics_tables import percent
from portal.services import appraisal, handling, statistics
from portal.services.actors import load_actor
from portal.services.queries import current_version
from portal.ui.context import now as wall_now
from tests.conftest import People
from tests.e2e.conftest import running_portal
from tests.e2e.test_browser import log_in, settle
from tests.e2e.test_chinese import english_words, shown_text
from tests.e2e.test_process import choose
from tests.review_helpers import closed_case


def last_month() -> Period:
    today = wall_now()
    return Period.month(today.year, today.month).previous()


@pytest.fixture(scope="module")
def review_server(sqlite_template, tmp_path_factory):
    """Two cases closed last month: 运营部 100 %, and 运营部 60 % with 技术部 40 %; each followed up the next day,
    the first customer satisfied on every dimension, the second on none."""
    path = tmp_path_factory.mktemp("e2e_review") / "portal.sqlite3"
    shutil.copy(sqlite_template, path)
    uow = UnitOfWork(make_engine(f"sqlite:///{path}"))
    people = People(uow)
    first = datetime.combine(last_month().first, datetime.min.time())
    for day, shares, score in ((9, {"operations": 100}, 5), (19, {"operations": 60, "technical": 40}, 3)):
        closed_at = first + timedelta(days=day, hours=10)
        case_id = closed_case(uow, people, closed_at, shares)
        handling.record_follow_up(uow, actor=people.clerk, complaint_id=case_id, outcome="电话回访", method="phone",
                                  survey=Survey(score, score, score, score, score), now=closed_at + timedelta(days=1),
                                  expected_version=current_version(uow, case_id))
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


def grid_row(page, label: str):  # noqa: ANN001, ANN201
    """The row of a table on the page whose cells include `label` (read from the grid's accessible cells)."""
    return page.locator("[data-testid='stDataFrame'] tr[role='row']").filter(
        has=page.locator("td[role='gridcell']", has_text=label)).first


def test_a_manager_reads_the_month_causes_baselines_and_people(review_server, new_page):
    url, path = review_server
    month = last_month()
    uow = UnitOfWork(make_engine(f"sqlite:///{path}"))
    try:
        boss = load_actor(uow, "boss")
        figures = statistics.monthly_table(uow, actor=boss, filters=statistics.StatsFilter(month), now=wall_now())
        rows = appraisal.tables(appraisal.person_figures(uow, actor=boss, period=month), "zh").people
    finally:
        uow.engine.dispose()
    rates = {r["dimension"]: r for r in figures["satisfaction"]}
    assert rates["process"]["rate"] == 0.5 and rates["process"]["baseline"] == 0.80      # the fixture, as built

    manager = new_page()
    log_in(manager, url, "boss", "statistics")
    choose(manager, "月份", month.label)
    expect(manager.get_by_text(month.label, exact=True).first).to_be_visible()
    # the causes, month over month: a chart drawn under its heading, not the empty-chart notice
    causes = manager.locator("[data-testid='stColumn']").filter(
        has=manager.get_by_role("heading", name="投诉原因（按月、原因大类）"))
    expect(causes.locator("[data-testid='stVegaLiteChart']")).to_have_count(1)
    # each dimension's actual rate beside its baseline
    expect(manager.get_by_text("满意率与基准对照", exact=True)).to_be_visible()
    for dimension, label in (("overall", "总体满意度"), ("process", "服务流程"), ("attitude", "服务态度"),
                             ("efficiency", "服务效率"), ("result", "理赔结果")):
        row = grid_row(manager, label)
        for text in (percent(rates[dimension]["rate"]), percent(rates[dimension]["baseline"])):
            expect(row.locator("td[role='gridcell']", has_text=text).first).to_be_attached()
    expect(manager.locator("[data-testid='stException']")).to_have_count(0)
    assert not english_words(shown_text(manager), {"boss"})

    manager.get_by_role("region", name="Sidebar").get_by_role("link", name="人员考核").click()
    expect(manager.get_by_role("heading", name="人员考核", exact=True)).to_be_visible()
    settle(manager)
    choose(manager, "月份", month.label)
    expect(manager.get_by_role("heading", name="人员考核表")).to_be_visible()
    expect(manager.get_by_text(f"考核期间：{month.label}", exact=True)).to_be_visible()
    handler = next(r for r in rows if r[0] == "运营丁")
    assert handler[2] == 2                              # both cases of the month went through 运营部's handler
    row = grid_row(manager, "运营丁")
    for value in handler[:4]:                           # name, department, handled, closed: the table's first columns
        expect(row.locator("td[role='gridcell']", has_text=str(value)).first).to_be_attached()
    expect(manager.locator("[data-testid='stException']")).to_have_count(0)
    assert not english_words(shown_text(manager), {"boss"})
