"""售后登记簿 in the page: the requests listed newest first with their kind, state and badge; the filters
(kind, overdue) applied in SQL; the manager's copy masked, and a policy number they may not see never
confirmed by a search; the Excel file holds what the filters match, masked as the export row says, and the
export is audited; a handler of another department is refused."""
from __future__ import annotations

import io
from datetime import datetime, timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from portal.persistence.models import Event
from portal.services import aftersales, aftersales_queries, aftersales_requests, desk_exports
from portal.services.actors import load_actor
from portal.ui.context import now as wall_now
from tests.pages.conftest import app_as, page_path, texts
from tests.services.test_aftersales import add_policy, report_form


def _requests(page_db):  # noqa: ANN001, ANN202
    add_policy(page_db)
    clerk = load_actor(page_db, "clerk")
    at = wall_now()
    report = aftersales.register_claim_report(page_db, actor=clerk, now=at,
                                              form=report_form(received_at=at, event_at=at - timedelta(minutes=30)))
    surrender = aftersales_requests.register_policy_request(
        page_db, actor=clerk, now=at,
        form=aftersales_requests.PolicyRequestForm(kind="surrender", policy_number="P-2025-0001",
                                                   insured_name="林晓东", channel="phone", requester_name="林晓东",
                                                   requester_phone="13900001111", reason_code="financial"))
    return report, surrender


def _table(at):  # noqa: ANN001, ANN202
    return next(df.value for df in at.dataframe if "类别" in df.value.columns)


def test_the_clerk_sees_every_request_and_filters_by_kind(page_db):
    report, surrender = _requests(page_db)
    at = app_as("clerk", page_path("desk_register"))
    assert not at.exception, at.exception
    table = _table(at)
    assert set(table["类别"]) == {"报案", "退保"} and "林晓东" in set(table["被保险人"])
    assert at.text_input(key="register_text").label == "搜索受理编号或保单号"
    at.selectbox(key="register_kind").set_value("surrender").run()
    table = _table(at)
    assert list(table["类别"]) == ["退保"] and list(table["状态"]) == ["已登记"]
    at.selectbox(key="register_kind").set_value(None).run()
    at.text_input(key="register_text").input("P-2025-0001").run()
    assert len(_table(at)) == 2


def test_the_manager_reads_it_masked_and_cannot_search_by_policy_number(page_db):
    _requests(page_db)
    at = app_as("boss", page_path("desk_register"))
    assert not at.exception, at.exception
    assert set(_table(at)["被保险人"]) == {"林**"}
    assert at.text_input(key="register_text").label == "搜索受理编号"
    at.text_input(key="register_text").input("P-2025-0001").run()
    assert "没有符合条件的受理记录。" in texts(at)


def test_the_excel_file_holds_what_the_filters_match_masked_and_the_export_is_audited(page_db):
    _requests(page_db)
    boss = load_actor(page_db, "boss")
    data = desk_exports.register_workbook(page_db, actor=boss, now=datetime(2026, 12, 2, 10, 0), lang="zh",
                                          filters=aftersales_queries.RequestFilter(kind="claim_report"))
    sheet = load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "售后服务受理登记簿" and "共 1 条" in rows[1][0]
    header = list(rows[2])
    record = dict(zip(header, rows[3]))
    assert record["类型"] == "报案" and record["被保险人"] == "林**" and record["保单号"] != "P-2025-0001"
    clerk = load_actor(page_db, "clerk")
    data = desk_exports.register_workbook(page_db, actor=clerk, now=datetime(2026, 12, 2, 10, 0), lang="zh",
                                          filters=aftersales_queries.RequestFilter())
    rows = list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    assert len(rows) == 5 and {dict(zip(rows[2], r))["被保险人"] for r in rows[3:]} == {"林晓东"}
    with page_db.read() as session:
        events = session.scalars(select(Event).where(Event.action == "desk.register_export")).all()
    assert [(e.actor_label, e.changes["rows"]) for e in events] == [("boss", 1), ("clerk", 2)]


def test_a_handler_may_not_open_the_register(page_db):
    at = app_as("techhandler")
    at._page_hash = next(h for h, info in at._registered_pages.items()       # as a typed address does
                         if info.get("url_pathname") == "desk_register")
    at.run()
    assert "您没有访问“售后登记簿”的权限" in texts(at)
    assert not at.dataframe


def test_the_complaint_intake_looks_the_customer_up_like_the_desk(page_db):
    _requests(page_db)
    at = app_as("clerk", page_path("register"))
    at.text_input(key="register_lookup_name").input("林晓东")
    at.button(key="FormSubmitter:register_lookup-查询").click().run()
    assert not at.exception, at.exception
    shown = [df.value for df in at.dataframe]
    assert any("P-2025-0001" in set(df.get("保单号", [])) for df in shown)
    requests = next(df for df in shown if "类别" in df.columns and "状态" in df.columns)
    assert set(requests["类别"]) == {"报案", "退保"}


def test_the_clerk_records_the_insurers_report_number_on_the_request_page(page_db):
    from portal.persistence.models import RequestEvent, ServiceRequest
    report, _ = _requests(page_db)
    at = app_as("clerk", page_path("request"))
    at.text_input(key="request_number").input(report.number).run()
    at.text_input(key="request_insurer_number_value").input("HA-BA-20261202-007")
    at.button(key="FormSubmitter:request_insurer_number-记录保险公司报案号").click().run()
    assert not at.exception, at.exception
    assert "已记录保险公司报案号。" in texts(at)
    with page_db.read() as session:
        assert session.scalar(select(ServiceRequest.insurer_report_number)
                              .where(ServiceRequest.id == report.id)) == "HA-BA-20261202-007"
        assert session.scalar(select(RequestEvent.changes).where(RequestEvent.action == "desk.insurer_number")) == {
            "before": "", "after": "HA-BA-20261202-007"}
    boss = app_as("boss", page_path("request"))                  # a manager reads, and records nothing
    boss.text_input(key="request_number").input(report.number).run()
    assert not [b for b in boss.button if b.key and "request_insurer_number" in b.key]


def test_the_operations_handlers_home_counts_the_hand_overs_waiting(page_db):
    from tests.services.test_aftersales import BASIC, MEDICAL, application, version
    from portal.services import aftersales_claims
    from datetime import timedelta
    at = wall_now()
    add_policy(page_db, start=at.date() - timedelta(days=30), end=at.date() + timedelta(days=300))
    clerk = load_actor(page_db, "clerk")
    report = aftersales.register_claim_report(page_db, actor=clerk, now=at,
                                              form=report_form(received_at=at, event_at=at - timedelta(minutes=30)))
    aftersales.accept_report(page_db, actor=clerk, request_id=report.id, expected_version=version(page_db, report.id),
                             now=at)
    aftersales_claims.record_application(page_db, actor=clerk, now=at, form=application(report.id, [*BASIC, *MEDICAL]))
    home = app_as("opshandler")
    labels = {m.label: m.value for m in home.metric}
    assert labels.get("待移交保险公司的理赔申请") == "1" and labels.get("移交已超期") == "0"
    assert "待移交保险公司的理赔申请" not in {m.label for m in app_as("techhandler").metric}
