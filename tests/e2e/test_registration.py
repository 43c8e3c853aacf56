"""Registering as a clerk would: the impatient double click, and the same customer calling again."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.test_browser import settle
from tests.e2e.test_process import as_user, choose_registration, field, visible


def fill(page, name: str) -> None:  # noqa: ANN001
    field(page, "客户姓名").fill(name)
    field(page, "手机号码").fill("13700007777")
    field(page, "保单号").fill("P-DOUBLE-1")
    field(page, "险种 / 产品").fill("健康保险")
    field(page, "投诉内容描述").fill("住院费用报销被拒。")
    field(page, "客户期望的解决方式").fill("按合同报销。")
    choose_registration(page)


def cases_listed(page, server: str) -> int:  # noqa: ANN001
    """How many cases the ledger finds for the policy, read as the GM office reads it."""
    page.goto(f"{server}/ledger")
    field(page, "搜索编号、客户姓名或保单号").fill("P-DOUBLE-1")
    page.keyboard.press("Enter")
    settle(page)
    shown = page.get_by_text(re.compile(r"共 \d+ 条")).first.inner_text()
    return int(re.search(r"共 (\d+) 条", shown).group(1))


def test_submitting_twice_makes_one_case_and_the_same_complaint_again_is_warned_of(server, new_page):
    clerk = as_user(new_page, server, "clerk", "register")
    fill(clerk, "双击客户")
    button = visible(clerk).get_by_role("button", name="提交登记", exact=True)
    button.dblclick()                                  # two clicks before the page has answered
    expect(clerk.get_by_text(re.compile("已登记，案件已进入总经理室待受理队列"))).to_be_visible()
    settle(clerk)
    expect(clerk.get_by_role("link", name=re.compile("打开新登记的案件"))).to_be_visible()
    expect(visible(clerk).get_by_label("客户姓名", exact=True)).to_have_value("")     # the form was cleared

    # the same complaint once more, first sent with a wrong phone and ID number and nothing else
    field(clerk, "手机号码").fill("12345")
    field(clerk, "身份证号码（选填）").fill("110105194912310021")
    visible(clerk).get_by_role("button", name="提交登记", exact=True).click()
    expect(clerk.get_by_text(re.compile("表单有 \\d+ 处需要修改"))).to_be_visible()
    settle(clerk)
    fill(clerk, "双击客户")                             # corrected; the optional ID number left empty
    field(clerk, "身份证号码（选填）").fill("")
    visible(clerk).get_by_role("button", name="提交登记", exact=True).click()
    expect(clerk.get_by_text(re.compile("近 30 天内已登记 1 件手机号、保单号或身份证号相同的投诉"))).to_be_visible()
    expect(clerk.get_by_role("link", name=re.compile("相同：手机号码、保单号"))).to_be_visible()
    settle(clerk)
    # only this submission's messages: the yellow prompt, none of the earlier red ones
    for stale in ("请输入11位", "身份证号码无效", "此项为必填项", "处需要修改"):
        expect(clerk.get_by_text(re.compile(stale))).to_have_count(0)
    expect(clerk.locator("[data-testid='stAlertContentError']")).to_have_count(0)

    gm = as_user(new_page, server, "gmo", "ledger")
    assert cases_listed(gm, server) == 1
