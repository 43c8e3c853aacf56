"""The trainer's workshop in a real browser: rebuild the sandbox, enter it, walk the prepared case in,
move the sandbox clock three working days forward and see a clock turn 超期 and reminders issued,
while the real database keeps every row count; a trainee logs in to the sandbox with a demo account."""
from __future__ import annotations

import re
import shutil

import pytest
from playwright.sync_api import expect
from tests.e2e.conftest import running_portal
from tests.e2e.test_browser import log_in, settle
from tests.e2e.test_process import field, submit
from tests.helpers import row_counts




@pytest.fixture(scope="module")
def portal(sqlite_template, tmp_path_factory):
    path = tmp_path_factory.mktemp("training") / "portal.sqlite3"
    shutil.copy(sqlite_template, path)
    with running_portal(path) as url:
        yield url, path


def test_a_workshop_in_the_sandbox_leaves_the_real_database_as_it_was(portal, new_page):
    url, path = portal
    trainer = new_page()
    log_in(trainer, url, "trainer", "training")
    before = row_counts(f"sqlite:///{path}")                                   # the trainer's own login included
    trainer.get_by_role("button", name="重建沙盒（固定种子）").click()
    expect(trainer.get_by_text(re.compile("沙盒已重建："))).to_be_visible(timeout=90_000)
    settle(trainer)
    assert row_counts(f"sqlite:///{path}") == before                            # building the sandbox wrote nothing here
    trainer.get_by_role("button", name="进入沙盒").click()
    expect(trainer.get_by_text(re.compile("培训沙盒：此处全部为模拟数据"))).to_be_visible()
    settle(trainer)
    before = row_counts(f"sqlite:///{path}")                                   # leaving the real portal ended its login
    trainer.get_by_role("button", name="开始演示（登记演示投诉）").click()
    settle(trainer)
    trainer.get_by_role("button", name=re.compile("由演示角色完成“受理”中的下一步")).click()
    expect(trainer.get_by_text("演示案件已进入：调查中")).to_be_visible()
    settle(trainer)
    field(trainer, "拨快工作日数").fill("3")
    submit(trainer, "拨快时钟", "沙盒时间已拨至")
    notice = trainer.get_by_text(re.compile("新开立催办单 / 洽办单 \\d+ 件")).inner_text()
    assert int(re.search(r"(\d+) 件", notice).group(1)) > 0              # reminders appeared
    cells = trainer.locator("[data-testid='stDataFrame'] td[role='gridcell']")
    expect(cells.filter(has_text="超期").first).to_be_attached()          # 初步方案 48 hours have passed
    assert row_counts(f"sqlite:///{path}") == before

    trainee = new_page()                                      # a trainee on their own device
    trainee.goto(url)
    expect(trainee.get_by_label("用户名")).to_be_visible()
    settle(trainee)
    trainee.get_by_label("用户名").fill("gmoffice")
    trainee.get_by_label("密码").fill("gmoffice-demo")
    trainee.get_by_text("登录培训沙盒（练习用模拟数据，使用演示账号）").click()
    trainee.get_by_role("button", name="登录").click()
    expect(trainee.get_by_text(re.compile("培训沙盒：此处全部为模拟数据"))).to_be_visible()
    expect(trainee.get_by_text(re.compile("当前用户：李娜"))).to_be_visible()
    assert row_counts(f"sqlite:///{path}") == before                            # the trainee's login is the sandbox's too


def test_the_workshop_bench_drives_trainees_over_streamlits_own_protocol(portal, monkeypatch):
    """`bench --workshop`'s clients: each logs in to the sandbox through the login form, clicks through its role's
    pages, and reconnects with only the cookie; a cookie the portal never issued brings the login form back, which
    the bench counts as a session lost."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from portal import bench_workshop

    def run_async(coroutine):  # noqa: ANN001, ANN202 - Playwright's sync API keeps a loop running in this thread
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, coroutine).result()
    from portal.services import sandbox
    url, path = portal
    monkeypatch.setenv("PORTAL_DATABASE_URL", f"sqlite:///{path}")
    if sandbox.current_url() is None:                         # run alone: the trainer's part first
        from portal.services.actors import load_actor
        from portal.services.setup import open_database
        from portal.ui.context import wall_clock
        sandbox.build(actor=load_actor(open_database(f"sqlite:///{path}"), "trainer"), now=wall_clock())
    figures = run_async(bench_workshop.drive(url, 3, clicks=4, think=(0.1, 0.3), start_within=0.3))
    assert dict(figures.errors) == {}
    assert len(figures.times["login"]) == len(figures.times["reconnect (cookie)"]) == 3
    assert sum(len(v) for k, v in figures.times.items() if k not in ("login", "open (login form)",
                                                                      "reconnect (cookie)")) == 3 * 3

    async def forged() -> bench_workshop.Run:
        trainee = bench_workshop.Trainee(url)
        try:
            return await trainee.open(cookie="sb.not-a-token-the-portal-issued")
        finally:
            await trainee.close()
    run = run_async(forged())
    assert run.finished and run.login_form
    seen = bench_workshop.Figures()
    seen.record("reconnect (cookie)", run)
    assert seen.errors["reconnect (cookie)"] == [bench_workshop.SESSION_LOST]
