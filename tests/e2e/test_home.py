"""The home page's to-dos in the browser: each card says how many wait, and its link opens the page at
the tab where they are done (the GM office's to-dos no longer all land on its first tab)."""
from __future__ import annotations

import shutil
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from portal.services import complaints
from portal.services.actors import load_actor
from portal.services.setup import open_database
from portal.ui.context import now as wall_clock
from tests.e2e.conftest import running_portal
from tests.e2e.test_process import as_user
from tests.e2e.test_browser import settle
from tests.helpers import a_form
from tests.pages.test_queues import _case_in

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def portal(sqlite_template, tmp_path_factory):
    """Two cases wait for acceptance, one for the GM office's final opinion (综合意见（结案前）)."""
    path = tmp_path_factory.mktemp("home") / "portal.sqlite3"
    shutil.copy(sqlite_template, path)
    uow = open_database(f"sqlite:///{path}")
    clerk = load_actor(uow, "clerk")
    start = wall_clock() - timedelta(hours=3)
    for n in range(2):
        complaints.register_complaint(uow, actor=clerk, attachments=[], now=start, form=a_form(
            received_at=start, customer_phone=f"1370000{n:04d}", policy_number=f"P-HOME-{n}"))
    _case_in(uow, "awaiting_closure", 9)
    uow.engine.dispose()
    with running_portal(path) as url:
        yield url


def _count(page, title: str):  # noqa: ANN001, ANN202
    """The number on the to-do card titled `title`."""
    return page.locator("[data-testid='stMetric']").filter(
        has=page.locator("[data-testid='stMetricLabel']", has_text=title)).locator("[data-testid='stMetricValue']")


def test_each_gm_office_to_do_shows_its_count_and_opens_its_own_tab(portal, new_page):
    gm = as_user(new_page, portal, "gmo", "")
    for title, count in (("待受理", "2"), ("待结案", "1")):
        expect(_count(gm, title)).to_have_text(count)
    gm.get_by_role("link", name="总经理室 › 综合意见（结案前）").click()
    settle(gm)
    expect(gm.get_by_role("tab", name="综合意见（结案前）", exact=True)).to_have_attribute("aria-selected", "true")
    expect(gm.get_by_role("tabpanel").filter(visible=True).get_by_text("结案综合意见")).to_be_visible()

    gm = as_user(new_page, portal, "gmo", "")
    gm.get_by_role("link", name="总经理室 › 受理").click()
    settle(gm)
    expect(gm.get_by_role("tab", name="受理", exact=True)).to_have_attribute("aria-selected", "true")


def test_the_intake_clerks_to_do_cards_show_their_counts(portal, new_page):
    clerk = as_user(new_page, portal, "clerk", "")
    for title in ("待交涉", "待回访", "我登记的超期案件", "待联系客户"):
        value = _count(clerk, title)
        expect(value).to_be_visible()
        assert value.inner_text().strip().isdigit(), (title, value.inner_text())
    # the two waiting acknowledgements (and the walked case's) are the clerk's to tell
    expect(_count(clerk, "待联系客户")).not_to_have_text("0")
