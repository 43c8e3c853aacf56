"""Issue 15 in the browser: a case without a penalty from registration through the final 核决 to
closure, the acknowledgement, decision and closure contacts read from the case's contact log, and the
GM office's queue in priority order (重大 first, then urgency, then the nearest due time)."""
from __future__ import annotations

import re
import shutil
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from portal.i18n import translate
from portal.services import complaints
from portal.services.actors import load_actor
from portal.services.setup import open_database
from portal.ui.context import now as wall_clock
from tests.e2e.conftest import running_portal
from tests.e2e.test_browser import settle
from tests.e2e.test_process import (as_user, choose, field, instruct_report, open_tab, queue_shows, report,
                                    report_to_gm, retrying, submit, tell_decision, tick, visible)
from tests.helpers import a_form

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def portal(sqlite_template, tmp_path_factory):
    """Two cases already wait for acceptance: an ordinary one received first, a 重大 one received later."""
    path = tmp_path_factory.mktemp("final") / "portal.sqlite3"
    shutil.copy(sqlite_template, path)
    uow = open_database(f"sqlite:///{path}")
    clerk = load_actor(uow, "clerk")
    start = wall_clock() - timedelta(hours=5)
    for name, phone, minutes, flags in (("普通先到客户", "13700000011", 0, {}),
                                        ("重大后到客户", "13700000012", 60, {"flag_media": True})):
        form = a_form(customer_name=name, customer_phone=phone, policy_number=f"P-PRIO-{phone[-2:]}",
                      received_at=start + timedelta(minutes=minutes), **flags)
        complaints.register_complaint(uow, actor=clerk, form=form, attachments=[],
                                      now=start + timedelta(minutes=minutes + 5))
    uow.engine.dispose()
    with running_portal(path) as url:
        yield url


def row_of(page: Page, text: str) -> int:
    """The row (aria-rowindex) of the queue's table that shows `text`."""
    cell = visible(page).locator("[data-testid='stDataFrame'] td[role='gridcell']").filter(has_text=text).first
    expect(cell).to_be_attached()
    return int(cell.locator("xpath=ancestor::tr[1]").get_attribute("aria-rowindex"))


def contact_steps(page: Page) -> list[str]:
    """The 环节 column of the case's contact log (the table headed 联系时间 … 环节)."""
    grid = page.locator("[data-testid='stDataFrame']").filter(
        has=page.locator("th[role='columnheader']", has_text="环节"))
    expect(grid).to_have_count(1)
    headers = grid.locator("th[role='columnheader']").all_inner_texts()
    column = headers.index("环节") + 1
    return grid.locator(f"td[aria-colindex='{column}']").all_inner_texts()


def test_a_case_without_a_penalty_closes_only_by_the_final_decision_and_the_customer_is_told(portal, new_page):
    server = portal
    customer = "核决结案客户"
    clerk = as_user(new_page, server, "clerk", "register")
    field(clerk, "客户姓名").fill(customer)
    field(clerk, "手机号码").fill("13600001515")
    field(clerk, "保单号").fill("P-FINAL-1515")
    field(clerk, "险种 / 产品").fill("家庭财产保险")
    field(clerk, "投诉内容描述").fill("理赔款迟迟未到账。")
    field(clerk, "客户期望的解决方式").fill("尽快到账并说明原因。")
    for label, option in (("投诉渠道", "电话热线"), ("投诉类别", "理赔时效投诉"), ("严重程度", "一般"),
                          ("紧急程度", "普通"), ("客户希望的联系方式", "短信")):
        choose(clerk, label, option)
    field(clerk, "签注意见（受理人）").fill("客户所述属实，建议尽快核实。")
    submit(clerk, "提交登记", "已登记，案件已进入")

    # The GM office's queue: the 重大 case received later stands first, then the two ordinary ones by due time.
    gm = as_user(new_page, server, "gmo", "gm_office")
    queue_shows(gm, customer)
    assert row_of(gm, "重大后到客户") < row_of(gm, "普通先到客户") < row_of(gm, customer)

    number = _accept(gm, customer)
    report(new_page, server, "opshandler", number)
    report_to_gm(new_page, server, "opshandler", number)
    instruct_report(new_page, server, number)

    gm = as_user(new_page, server, "gmo", "gm_office")
    queue_shows(gm, number, tab="汇总核决")
    field(gm, "综合意见").fill("同意按3000元赔付并说明延误原因。")
    field(gm, "建议赔偿 / 让步金额（元）").fill("3000")
    submit(gm, "汇总并送核决", "送“业务部经理”核决")

    approver = as_user(new_page, server, "approver", "approval")
    queue_shows(approver, number)
    field(approver, "核决指示").fill("按3000元赔付，向客户说明延误原因。")
    submit(approver, "核决通过", "已核决")

    clerk = as_user(new_page, server, "clerk", "negotiation")
    queue_shows(clerk, number)
    field(clerk, "交涉记录").fill("已电话告知客户核决结论，客户接受。")
    tell_decision(clerk)
    field(clerk, "与客户约定金额（元）").fill("3000")
    tick(clerk, "客户接受")
    submit(clerk, "记录交涉结果", "已记录交涉结果")

    lead = as_user(new_page, server, "lead", "negotiation")
    queue_shows(lead, number, tab="待核阅")
    submit(lead, "核阅通过，送总经理室", "已核阅")

    gm = as_user(new_page, server, "gmo", "gm_office")
    queue_shows(gm, number, tab="综合意见（结案前）")
    choose(gm, "责任程度", "无责")
    field(gm, "结案综合意见").fill("系客户对到账时间误解，无责任，说明后结案。")
    choose(gm, "原因分类", "外部 / 客户误解")            # the taxonomy's sub-cause (issue 18)
    submit(gm, "作出综合意见并送最终核决", "最终核决；核签后结案")

    case = as_user(new_page, server, "gmo", f"case?case={number}")
    expect(case.get_by_text(re.compile(f"案件 {number} · 待最终核决"))).to_be_visible()    # not closed yet

    approver = as_user(new_page, server, "approver", "approval")
    queue_shows(approver, number, tab="待最终核决")
    submit(approver, "核签结案", "已核签，案件已结案")

    case = as_user(new_page, server, "gmo", f"case?case={number}")
    expect(case.get_by_text(re.compile(f"案件 {number} · 已结案"))).to_be_visible()
    steps = contact_steps(case)
    for step in ("acknowledgement", "decision", "closure"):
        assert translate(f"contact.step.{step}", "zh") in steps, (step, steps)
    # the printable form is built when its button is clicked: internal, with the contact log
    with case.expect_download() as download:
        case.get_by_role("button", name=translate("print.download", "zh")).click()
    printed = download.value.path().read_text(encoding="utf-8")
    assert translate("form.internal_only", "zh") in printed and customer in printed
    assert printed.count("data-section='contacts'") == 3                  # on each of the three copies
    assert translate("print.sign.final_approver", "zh") in printed and "核决己" in printed   # who signed it


def _accept(gm: Page, customer: str) -> str:
    """Pick the walked case in the acceptance form (the first offered is the 重大 one) and accept it."""
    picker = translate("pick.gm_pick", "zh")
    for attempt in range(10):
        retrying(gm, lambda: visible(gm).get_by_label(picker, exact=True), lambda element: element.click())
        option = gm.get_by_role("option").filter(has_text=customer)
        try:
            option.first.click(timeout=3000)
            break
        except Exception:  # noqa: BLE001 - a rerun may close the list; try again as a person would
            gm.keyboard.press("Escape")
            if attempt == 9:
                raise
    # the chosen case's complaint is shown beside the form (a plain table); the run that draws it also
    # replaces the form below it, so wait for it to finish: a click on the old form's button is lost
    expect(visible(gm).locator("[data-testid='stTable']").get_by_text("理赔款迟迟未到账。").first).to_be_visible()
    settle(gm)
    retrying(gm, lambda: visible(gm).get_by_role("button", name="受理并分派"), lambda b: b.click())
    notice = gm.get_by_text(re.compile(r"已受理，投诉编号：\d{4}-\d{4}"))
    expect(notice).to_be_visible()
    return re.search(r"\d{4}-\d{4}", notice.inner_text()).group(0)
