"""Issue 17 in the browser: a clerk of the service desk looks a policy up by the insured's name, registers a
claim report from it (its preliminary check passed), takes it in hand, records the claim application with
one material missing (the customer is sent the notice), completes it when the material is brought; 运营部
hands it over to the insurer; the manager's statistics count it as handed over on time.

Each step reads what it checks from a stable place: a notice, a heading, the text of the chosen request,
an accessible name, or the accessible cells of a table."""
from __future__ import annotations

import re
import shutil
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from portal.i18n import translate
from portal.persistence.models import Notice, ServiceRequest
from portal.services import aftersales, aftersales_queries
from portal.services.actors import load_actor
from portal.services.setup import open_database
from portal.ui.context import now as wall_clock
from tests.e2e.conftest import running_portal
from tests.e2e.test_browser import settle
from tests.e2e.test_process import (as_user, choose, field, one, open_tab, queue_shows, retrying, submit,
                                    visible)
from tests.e2e.test_statistics import metric
from tests.services.test_aftersales import add_policy

pytestmark = pytest.mark.e2e

INSURED = "售后浏览器客户"           # only this test's policy is in the register under this name
POLICY = "880120261717"
ID_NUMBER = "110101198001010010"
PHONE = "13900001717"
MISSING = "pathology_report"          # the one material of the medical checklist the customer brings later


def z(key: str, **params: object) -> str:
    return translate(key, "zh", **params)


@pytest.fixture(scope="module")
def portal(sqlite_template, tmp_path_factory):
    """The insured's policy in the register (running this year, covering illness in hospital) before the
    portal starts; yields its address, the database's unit of work and the materials' names."""
    path = tmp_path_factory.mktemp("desk") / "portal.sqlite3"
    shutil.copy(sqlite_template, path)
    uow = open_database(f"sqlite:///{path}")
    today = wall_clock().date()
    add_policy(uow, POLICY, insured=INSURED, id_number=ID_NUMBER, start=today - timedelta(days=100),
               end=today + timedelta(days=200))
    with uow.read() as session:
        checklists = aftersales.checklists(session)
        names = aftersales.material_names(session, "zh")
    codes = [*checklists["basic"], *checklists["medical"]]
    with running_portal(path) as url:
        yield url, uow, codes, names
    uow.engine.dispose()


def notice_shown(page: Page, pattern: str) -> str:
    """The text of the notice matching `pattern` (its number read from it), once the page is idle."""
    shown = page.get_by_text(re.compile(pattern)).first
    expect(shown).to_be_visible()
    settle(page)
    return shown.inner_text()


def type_in(page: Page, label: str, *parts: int) -> None:
    """Type a date (year, month, day) or a time (hour, minute) into its field as a person would: a click on
    its first part, the digits, Tab; then read each part back."""
    group = lambda: visible(page).get_by_role("group", name=label, exact=True)  # noqa: E731
    digits = "".join(f"{p:04d}" if p > 999 else f"{p:02d}" for p in parts)
    for attempt in range(3):
        retrying(page, lambda: group().get_by_role("spinbutton").first, lambda part: part.click())
        page.keyboard.type(digits, delay=50)
        page.keyboard.press("Tab")
        settle(page)
        shown = [s.get_attribute("aria-valuenow") for s in one(group()).get_by_role("spinbutton").all()]
        if shown == [str(p) for p in parts] or attempt == 2:
            break
    assert shown == [str(p) for p in parts], (label, shown)


def tick_box(page: Page, name: str) -> None:
    """Tick a checkbox by a click on its label, as a person would, and see it ticked (a click lost to a
    rerun is made again; one that took is never repeated)."""
    box = lambda: visible(page).get_by_role("checkbox", name=name, exact=True)  # noqa: E731
    for _ in range(3):
        if box().count() and box().first.is_checked():
            return
        retrying(page, lambda: visible(page).get_by_text(name, exact=True), lambda label: label.click())
        settle(page)
    expect(box().first).to_be_checked()


def test_a_claim_from_the_lookup_to_the_hand_over_on_time_in_the_statistics(portal, new_page):
    server, uow, codes, names = portal
    materials, missing = [names[c] for c in codes], names[MISSING]

    # 查询: by the insured's name, the policy and its persons shown
    clerk = as_user(new_page, server, "clerk", "desk")
    expect(clerk.get_by_role("heading", name=z("desk.title"))).to_be_visible()
    field(clerk, z("desk.lookup.by_name")).fill(INSURED)
    submit(clerk, z("desk.lookup.submit"), re.escape(z("desk.lookup.found", count=1)))
    queue_shows(clerk, POLICY)
    queue_shows(clerk, INSURED)
    expect(visible(clerk).get_by_text(z("desk.lookup.no_requests"))).to_be_visible()

    # 报案登记, started from the policy: its number and the insured filled in
    retrying(clerk, lambda: visible(clerk).get_by_role("button", name=z("desk.lookup.start.report"), exact=True),
             lambda button: button.click())
    settle(clerk)
    expect(clerk.get_by_role("tab", name=z("desk.tab.report"), exact=True)).to_have_attribute("aria-selected", "true")
    expect(visible(clerk).get_by_label(z("desk.field.policy_number"), exact=True)).to_have_value(POLICY)
    expect(visible(clerk).get_by_label(z("desk.field.insured_name"), exact=True)).to_have_value(INSURED)
    choose(clerk, z("desk.field.channel"), "电话")
    yesterday = wall_clock().date() - timedelta(days=1)
    type_in(clerk, z("desk.field.event_date") + z("date.format_hint"), yesterday.year, yesterday.month, yesterday.day)
    type_in(clerk, z("desk.field.event_time"), 20, 0)
    field(clerk, z("desk.field.event_place")).fill("杭州市西湖区文三路")
    choose(clerk, z("desk.field.cause_code"), "疾病住院")
    field(clerk, z("desk.field.event_description")).fill("夜间突发腹痛，送医后住院治疗。")
    field(clerk, z("desk.field.reporter_name")).fill(INSURED)
    field(clerk, z("desk.field.reporter_phone")).fill(PHONE)
    choose(clerk, z("desk.field.reporter_relation"), "本人")
    retrying(clerk, lambda: visible(clerk).get_by_role("button", name=z("desk.report.submit"), exact=True),
             lambda button: button.click())
    saved = notice_shown(clerk, r"报案已登记，编号 \S+。")
    report = re.search(r"编号 (\S+?)。", saved).group(1)
    assert saved.strip() == z("desk.report.saved", number=report)
    expect(visible(clerk).get_by_text(z("desk.check.passed"), exact=True)).to_be_visible()

    # 待办: the report taken in hand
    queue_shows(clerk, report, tab=z("desk.tab.queue"))
    expect(visible(clerk).get_by_text(z("desk.check.passed"), exact=True)).to_be_visible()
    submit(clerk, z("desk.accept.submit"), re.escape(z("desk.accept.done", number=report)))

    # 理赔申请 on the report in hand: every medical material but one, the right to claim verified
    open_tab(clerk, z("desk.tab.application"))
    choose(clerk, z("desk.field.report_id"), f"{report} · {INSURED} · {POLICY}")
    expect(visible(clerk).get_by_label(z("desk.field.policy_number"), exact=True)).to_have_count(0)  # the report's
    choose(clerk, z("desk.field.channel"), "上门")
    for name, value in (("applicant_name", INSURED), ("applicant_id_number", ID_NUMBER), ("applicant_phone", PHONE)):
        field(clerk, z(f"desk.field.{name}")).fill(value)
        settle(clerk)
    choose(clerk, z("desk.field.applicant_relation"), "本人")
    tick_box(clerk, z("desk.field.right_verified"))
    choose(clerk, z("desk.field.claim_kinds"), "医疗", multiple=True)
    for name in materials:
        if name != missing:
            tick_box(clerk, name)
    expect(visible(clerk).get_by_role("checkbox", name=missing, exact=True)).not_to_be_checked()
    retrying(clerk, lambda: visible(clerk).get_by_role("button", name=z("desk.application.submit"), exact=True),
             lambda button: button.click())
    saved = notice_shown(clerk, r"理赔申请已登记，编号 \S+。")
    application = re.search(r"编号 (\S+?)。", saved).group(1)
    expect(visible(clerk).get_by_text(z("desk.application.incomplete", number=application))).to_be_visible()
    queue_shows(clerk, missing)                                        # the table of what is missing
    expect(visible(clerk).get_by_text(z("desk.application.notice_sent"), exact=True)).to_be_visible()
    with uow.read() as session:
        stored = session.scalar(select(ServiceRequest).where(ServiceRequest.number == application))
        notices = session.scalars(select(Notice).where(Notice.request_id == stored.id)).all()
    assert stored.state == "incomplete" and stored.report_id is not None
    assert [n.kind for n in notices] == ["materials_missing"]

    # 待办: the missing material brought, the application complete
    queue_shows(clerk, application, tab=z("desk.tab.queue"))
    choose(clerk, z("desk.queue.pick"), f"{application} · {z('desk.kind.claim_application')} · "
                                        f"{z('desk.state.incomplete')} · {INSURED}")
    expect(visible(clerk).get_by_text(z("desk.materials.waiting", count=1))).to_be_visible()
    choose(clerk, z("desk.materials.brought"), missing, multiple=True)
    submit(clerk, z("desk.materials.submit"), re.escape(z("desk.materials.complete", number=application)))
    with uow.read() as session:
        assert session.scalar(select(ServiceRequest.state).where(ServiceRequest.number == application)) == "complete"

    # 理赔移交: listed with its badge, handed over, then awaiting the insurer's decision
    ops = as_user(new_page, server, "opshandler", "handover")
    expect(ops.get_by_role("heading", name=z("handover.title"))).to_be_visible()
    queue_shows(ops, application)
    frame = aftersales_queries.handover_queue(uow, actor=load_actor(uow, "opshandler"), now=wall_clock()).frame
    [code] = frame.loc[frame["number"] == application, "badge"]
    assert code in ("on_track", "due_soon"), code                    # just completed: within its 3 working days
    badge = z(f"desk.badge.{code}")
    queue_shows(ops, badge)
    essentials = f"{application} · {z('desk.state.complete')} · {badge} · "
    expect(ops.get_by_text(re.compile("^" + re.escape(essentials)))).to_be_visible()
    retrying(ops, lambda: visible(ops).get_by_role("button", name=z("handover.all_items"), exact=True),
             lambda button: button.click())
    settle(ops)
    for name in materials:
        expect(visible(ops).get_by_role("checkbox", name=name, exact=True)).to_be_checked()
    field(ops, z("handover.insurer")).fill("华安人寿保险股份有限公司")
    today = wall_clock().date()
    type_in(ops, z("handover.handed_on") + z("date.format_hint"), today.year, today.month, today.day)
    field(ops, z("handover.receipt")).fill("交接单 E2E-1717")
    settle(ops)
    submit(ops, z("handover.submit"), re.escape(z("handover.saved", number=application)))
    handed = f"{application} · {z('desk.state.handed_over')} · {z('desk.badge.met')} · "      # handed in time
    expect(ops.get_by_text(re.compile("^" + re.escape(handed)))).to_be_visible()
    expect(ops.get_by_role("heading", name=z("handover.decision_form"))).to_be_visible()
    expect(ops.get_by_text(re.compile(re.escape("移交 华安人寿保险股份有限公司；回执：交接单 E2E-1717")))).to_be_visible()
    with uow.read() as session:
        stored = session.scalar(select(ServiceRequest).where(ServiceRequest.number == application))
        received = session.scalar(select(func.count()).select_from(ServiceRequest))
    assert (stored.state, stored.clock_late, stored.handover_receipt) == ("handed_over", False, "交接单 E2E-1717")
    assert stored.handover_items == codes
    assert received == 2                                                # the report and the application

    # 统计分析: the desk's section counts them, the hand-over on time
    boss = as_user(new_page, server, "boss", "statistics")
    expect(boss.get_by_role("heading", name=z("desk.stats.section"), exact=True)).to_be_visible()
    settle(boss)
    assert metric(boss, z("desk.stats.received")) == str(received)
    assert metric(boss, z("desk.stats.handover_rate")) == "100.0%"
    assert metric(boss, z("desk.stats.handover_late")) == "0"
    assert metric(boss, z("desk.stats.handover_overdue")) == "0"
    for page in (clerk, ops, boss):
        expect(page.locator("[data-testid='stException']")).to_have_count(0)

