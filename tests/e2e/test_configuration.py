"""系统配置 in a real browser: the administrator renames a category, sets a clock target and an
authority amount in the table editors; a new case takes the new rules while cases already running
keep theirs; overlapping authority amounts are refused with the reason and nothing is saved."""
from __future__ import annotations

import re
import shutil
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from portal.services.setup import open_database
from portal.persistence.models import AuthorityLevel, Complaint, Event, SlaClock, SlaClockVersion
from portal.services import complaints, handling
from portal.services.actors import load_actor
from portal.ui.context import wall_clock
from portal.services.queries import current_version
from tests.e2e.conftest import running_portal
from tests.e2e.test_browser import settle
from tests.e2e.test_process import as_user, choose, field, open_tab, queue_shows, register, retrying, submit, visible
from tests.helpers import a_form
from tests.services.test_handling import REPORT


def _prepare(url: str) -> dict[str, int]:
    """Cases already under way when the administrator changes the rules: one waiting to be accepted
    (its 24-hour 确认受理 clock running), one consolidated at 3,000 (with the department manager),
    and one whose reports are in (waiting for consolidation)."""
    uow = open_database(url)
    clerk, gmo, ops = (load_actor(uow, name) for name in ("clerk", "gmo", "opshandler"))
    start = wall_clock() - timedelta(hours=3)
    ids = {}
    for name, phone in (("运行中客户", "13700000001"), ("已送核决客户", "13700000002"), ("待汇总客户", "13700000003")):
        form = a_form(customer_name=name, customer_phone=phone, policy_number=f"P-RUN-{phone[-1]}",
                      received_at=start)
        ids[name] = complaints.register_complaint(uow, actor=clerk, form=form, attachments=[], now=start).id
    for name in ("已送核决客户", "待汇总客户"):
        case_id = ids[name]
        complaints.accept_complaint(uow, actor=gmo, complaint_id=case_id, category="claim_speed", severity="general",
                                    departments=["operations"], now=start + timedelta(minutes=10))
        handling.submit_report(uow, actor=ops, complaint_id=case_id, report=REPORT, now=start + timedelta(minutes=30),
                               expected_version=current_version(uow, case_id))
        handling.report_to_gm(uow, actor=ops, complaint_id=case_id, report="调查完毕。",
                              now=start + timedelta(minutes=40), expected_version=current_version(uow, case_id))
        handling.instruct_report(uow, actor=load_actor(uow, "genmgr"), complaint_id=case_id, instruction="同意。",
                                 now=start + timedelta(minutes=45), expected_version=current_version(uow, case_id))
    assert handling.consolidate(uow, actor=gmo, complaint_id=ids["已送核决客户"], opinion="同意赔付。",
                                proposed_amount="3000", now=start + timedelta(minutes=50),
                                    expected_version=current_version(uow, ids["已送核决客户"])) == "dept_manager"
    uow.engine.dispose()
    return ids


@pytest.fixture(scope="module")
def portal(sqlite_template, tmp_path_factory):
    path = tmp_path_factory.mktemp("configuration") / "portal.sqlite3"
    shutil.copy(sqlite_template, path)
    ids = _prepare(f"sqlite:///{path}")
    with running_portal(path) as url:
        yield url, f"sqlite:///{path}", ids


def _grid(page: Page):
    return visible(page).locator("[data-testid='stDataFrame']").first


def _cell(page: Page, row: str, column: str):  # noqa: ANN202
    """The cell of the open tab's table editor in the row that shows `row` and the column headed
    `column` (the grid's accessible table behind its canvas)."""
    grid = _grid(page)
    headers = grid.locator("th[role='columnheader']").all_inner_texts()
    index = headers.index(column) + 1
    line = grid.locator("tr[role='row']").filter(has=page.locator("td[role='gridcell']", has_text=row))
    return line.first.locator(f"td[aria-colindex='{index}']")


def edit_cell(page: Page, row: str, column: str, text: str) -> None:
    """Type into one cell of the open tab's table editor, as a person would with the keyboard:
    select the cell, open its editor, replace the text, confirm."""
    # The grid is a canvas with an accessible table behind it. Focusing a cell of that table gives the
    # grid the focus; Enter opens the editor of the selected cell, which may still be where the last
    # edit left it. The editor shows the text of the cell it edits: when that is another row's text,
    # the arrow keys move the selection to the wanted row and the editor is opened again.
    editing = ("() => { const a = document.activeElement;"
               " return a && ['TEXTAREA', 'INPUT'].includes(a.tagName) && a.closest('#portal'); }")
    expect(_grid(page).locator("th[role='columnheader']", has_text=column)).to_be_attached()
    for attempt in range(8):
        try:
            cell = _cell(page, row, column)
            shown = cell.inner_text(timeout=5000)
            lines = _column_texts(page, column)
            wanted = lines.index(shown) if lines.count(shown) == 1 else None
            if attempt % 4 == 0:
                page.evaluate("() => document.activeElement && document.activeElement.blur()")
                for _ in range(2):
                    cell.focus(timeout=5000)
                    page.wait_for_timeout(250)
            page.keyboard.press("Enter")
            page.wait_for_function(editing, timeout=5000)
            value = page.evaluate("() => document.activeElement.value")
            if value == shown:
                break
            page.keyboard.press("Escape")
            page.wait_for_timeout(250)
            if wanted is not None and lines.count(value) == 1:
                steps = wanted - lines.index(value)
                for _ in range(abs(steps)):
                    page.keyboard.press("ArrowDown" if steps > 0 else "ArrowUp")
                    page.wait_for_timeout(100)
        except (PlaywrightError, ValueError):
            if attempt == 7:
                raise
            page.wait_for_timeout(500)
    else:
        raise AssertionError(f"the cell {row} / {column} of the table editor could not be edited")
    page.keyboard.press("Control+a")
    page.keyboard.type(text)
    page.wait_for_function("text => document.activeElement.value === text", arg=text)
    page.wait_for_timeout(300)              # the editor takes the typed value in before it is confirmed
    page.keyboard.press("Enter")
    settle(page)
    expect(_cell(page, row if column != _first_header(page) else text, column)).to_have_text(text)


def _column_texts(page: Page, column: str) -> list[str]:
    grid = _grid(page)
    index = grid.locator("th[role='columnheader']").all_inner_texts().index(column) + 1
    return grid.locator(f"td[aria-colindex='{index}']").all_inner_texts()


def _first_header(page: Page) -> str:
    return _grid(page).locator("th[role='columnheader']").first.inner_text()


def _authority(url: str) -> tuple[dict[str, Decimal | None], int]:
    uow = open_database(url)
    try:
        with uow.read() as session:
            limits = {a.key: a.max_amount for a in session.scalars(select(AuthorityLevel))}
            saves = session.scalar(select(func.count()).select_from(Event).where(
                Event.action == "config.save", Event.comment == "authority_levels"))
            return limits, saves
    finally:
        uow.engine.dispose()


def _clock_cells(page: Page):
    """The cells of the case page's 时效 table (brought into view: a grid draws only what is seen)."""
    heading = page.get_by_role("heading", name="时效", exact=True)
    expect(heading).to_be_visible()
    heading.scroll_into_view_if_needed()
    table = page.locator("[data-testid='stHeading']", has=heading).locator(
        "xpath=following::*[@data-testid='stDataFrame'][1]")
    table.scroll_into_view_if_needed()
    return table.locator("td[role='gridcell']")


def test_an_administrator_changes_the_rules_and_only_new_cases_follow_them(portal, new_page):
    url, database, ids = portal
    admin = as_user(new_page, url, "admin", "admin_config")

    # 投诉类别: a name
    edit_cell(admin, "理赔时效投诉", "中文名称", "理赔进度投诉")
    submit(admin, "校验并保存", "已保存 1 行修改，并记入变更记录。")

    # 时限规则: 确认受理 from 24 to 8 hours, at once
    open_tab(admin, "时限规则")
    edit_cell(admin, "确认受理", "目标", "8")
    submit(admin, "校验并保存", "已保存 1 行修改，并记入变更记录。")
    open_tab(admin, "时限规则")          # (a no-op unless a reconnect under load brought back the first tab)
    history = visible(admin).locator("[data-testid='stDataFrame']").nth(1)
    history.scroll_into_view_if_needed()
    expect(history.locator("td[role='gridcell']").filter(has_text="8 小时").first).to_be_attached()

    # 核决权限: overlapping amounts are refused with the reason, and nothing is saved
    open_tab(admin, "核决权限")
    before = _authority(database)
    amount = "金额上限（元，空为不限）"
    edit_cell(admin, "副总经理", amount, "4000")           # the deputy GM's limit below the manager's 5,000
    submit(admin, "校验并保存", "配置未保存：有 1 处需要修改（见下表）。")
    reasons = visible(admin).locator("[data-testid='stDataFrame'] td[role='gridcell']")
    expect(reasons.filter(has_text="权限重叠").first).to_be_attached()
    assert _authority(database) == before and before[0]["deputy_gm"] == Decimal("50000")
    # The page opened afresh shows the table as stored; the manager's limit goes down to 2,000
    admin.reload()
    settle(admin)
    open_tab(admin, "核决权限")
    expect(_cell(admin, "副总经理", amount)).to_have_text("50000.00")
    edit_cell(admin, "业务部经理", amount, "2000")
    submit(admin, "校验并保存", "已保存 1 行修改，并记入变更记录。")
    limits, saves = _authority(database)
    assert limits["dept_manager"] == Decimal("2000") and limits["deputy_gm"] == Decimal("50000") and saves == 1

    # A new case: registered and accepted after the change, under the new name and the 8-hour clock
    register(new_page, url, "新规则客户")
    gm = as_user(new_page, url, "gmo", "gm_office")
    queue_shows(gm, "新规则客户")
    for attempt in range(10):                         # the case received before the change waits too
        field(gm, "选择要受理的案件").click()
        gm.keyboard.type("新规则客户")
        try:
            gm.get_by_role("option", name=re.compile("新规则客户")).click(timeout=3000)
            break
        except PlaywrightError:
            gm.keyboard.press("Escape")
            if attempt == 9:
                raise
    settle(gm)
    choose(gm, "投诉类别", "理赔进度投诉")
    retrying(gm, lambda: visible(gm).get_by_role("button", name="受理并分派"), lambda b: b.click())
    notice = gm.get_by_text(re.compile(r"已受理，投诉编号：\d{4}-\d{4}"))
    expect(notice).to_be_visible()
    number = re.search(r"\d{4}-\d{4}", notice.inner_text()).group(0)
    new_case = as_user(new_page, url, "gmo", f"case?case={number}")
    expect(_clock_cells(new_case).filter(has_text=re.compile(r"^8 小时$")).first).to_be_attached()
    expect(new_case.get_by_text("理赔进度投诉").first).to_be_visible()
    # ... while the case received before the change keeps its 24 hours
    running = as_user(new_page, url, "gmo", f"case?case={ids['运行中客户']}")
    expect(_clock_cells(running).filter(has_text="确认受理").first).to_be_attached()
    expect(_clock_cells(running).filter(has_text=re.compile(r"^8 小时$"))).to_have_count(0)
    expect(_clock_cells(running).filter(has_text=re.compile(r"^24 小时$")).first).to_be_attached()

    # The new authority amount: 3,000 now needs the deputy GM; the case sent before stays with the manager
    settle(gm)
    open_tab(gm, "汇总核决")
    queue_shows(gm, "待汇总客户")
    field(gm, "综合意见").fill("同意按3000元赔付。")
    field(gm, "建议赔偿 / 让步金额（元）").fill("3000")
    submit(gm, "汇总并送核决", "送“副总经理”核决")
    manager = as_user(new_page, url, "approver", "approval")
    queue_shows(manager, "已送核决客户")
    uow = open_database(database)
    with uow.read() as session:
        levels = dict(session.execute(select(Complaint.customer_name, Complaint.required_level)).all())
        versions = session.scalar(select(func.count()).select_from(SlaClockVersion))
        clocks = session.scalar(select(func.count()).select_from(SlaClock))
    uow.engine.dispose()
    assert levels["已送核决客户"] == "dept_manager" and levels["待汇总客户"] == "deputy_gm"
    assert versions == clocks + 1          # one version per clock, and the one change made above
