"""Exports: personal data masked unless an administrator asks (audited); the workbook holds the
figures of the table."""
from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from portal.domain.errors import PermissionDenied
from portal.domain.statistics import Period
from portal.persistence.models import Event
from portal.services import complaints, exports, queries, rules, statistics
from portal.services.queries import current_version
from tests.helpers import final_approve, instruct_report
from tests.helpers import a_form

NOW = datetime(2025, 11, 20, 10, 0)


@pytest.fixture
def two_cases(uow, people):
    for phone, name in (("13812345678", "陈小明"), ("13987654321", "王小红")):
        complaints.register_complaint(uow, actor=people.clerk, attachments=[], now=NOW - timedelta(hours=3),
                                      form=a_form(customer_phone=phone, customer_name=name,
                                                  received_at=NOW - timedelta(hours=4)))


def _csv(uow, actor, **kw):
    return exports.ledger_csv(uow, actor=actor, filters=queries.LedgerFilter(), now=NOW,
                              calendar=rules.load_calendar(uow), lang="zh", **kw).decode("utf-8-sig")


def test_the_ledger_csv_masks_personal_data_for_everyone_by_default(uow, people, two_cases):
    for actor in (people.boss, people.gmo, people.admin):
        text = _csv(uow, actor)
        assert "13812345678" not in text and "138****5678" in text and "139****4321" in text
        assert "11010519491231002X" not in text and "1101**********002X" in text
        assert "编号" in text.splitlines()[0]
        # names as the masking table shows them to the exporter (issue 16): the GM office sees them
        assert ("陈小明" in text) is (actor.username == "gmo") and ("陈**" in text) is (actor.username != "gmo")


def test_only_an_administrator_exports_unmasked_and_it_is_audited(uow, people, two_cases):
    with pytest.raises(PermissionDenied):
        _csv(uow, people.boss, unmasked=True)
    with pytest.raises(PermissionDenied):
        _csv(uow, people.gmo, unmasked=True)
    text = _csv(uow, people.admin, unmasked=True)
    assert "13812345678" in text and "13987654321" in text
    with uow.read() as session:
        events = session.scalars(select(Event).where(Event.action == "export.ledger_unmasked")).all()
    assert len(events) == 1 and events[0].actor_label == "admin"


def test_the_ledger_csv_follows_the_badge_filter(uow, people, two_cases):
    text = exports.ledger_csv(uow, actor=people.gmo, filters=queries.LedgerFilter(badge="overdue"),
                              now=NOW + timedelta(days=3), calendar=rules.load_calendar(uow), lang="zh").decode("utf-8-sig")
    assert len(text.strip().splitlines()) == 3      # header + both cases (acknowledgement overdue)
    none = exports.ledger_csv(uow, actor=people.gmo, filters=queries.LedgerFilter(badge="overdue"),
                              now=NOW, calendar=rules.load_calendar(uow), lang="zh").decode("utf-8-sig")
    assert len(none.strip().splitlines()) == 1


def test_the_workbook_has_a_cover_and_a_sheet_per_table_with_the_figures(uow, people, two_cases):
    figures = statistics.monthly_table(uow, actor=people.boss, filters=statistics.StatsFilter(
        Period.month(2025, 11), channel="phone"), now=NOW)
    data = exports.statistics_workbook(uow, actor=people.boss, figures=figures, lang="zh", now=NOW)
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames[0] == "封面" and {"汇总", "按类别", "按渠道", "时限达成与处理时长", "满意度"} <= set(book.sheetnames)
    cover = {row[0]: row[1] for row in book["封面"].iter_rows(values_only=True)}
    assert cover["统计期间"] == "2025-11" and cover["筛选条件"] == "渠道: 电话热线"
    assert cover["导出时间"] == "2025-11-20 10:00"
    summary = {row[0]: row[1] for row in book["汇总"].iter_rows(min_row=2, values_only=True)}
    assert summary["接收投诉"] == 2 == figures["summary"]["received"]
    csv_text = exports.statistics_csv(uow, actor=people.boss, figures=figures, lang="zh").decode("utf-8-sig")
    assert "接收投诉,2" in csv_text
    with pytest.raises(PermissionDenied):
        exports.statistics_workbook(uow, actor=people.clerk, figures=figures, lang="zh", now=NOW)


SEED_COLUMNS = ["投诉编号", "受理日期", "客户", "保单号", "受理人", "内容摘要", "处理部门", "责任归属", "结案日期", "处理结果",
                "催办次数", "满意度"]


def _closed_case(uow, people):
    """A case walked to archive: every seed column has a value."""
    from portal.domain.satisfaction import Survey
    from portal.services import handling, reminders
    from tests.services.test_handling import DECISION, REPORT, accepted
    case_id = accepted(uow, people, customer_name="赵结案", policy_number="P-SEED-1",
                       description="客户反映理赔款迟迟未到账，要求尽快支付并说明原因")
    start = datetime(2025, 9, 30, 11, 0)
    reminders.issue_by_hand(uow, actor=people.gmo, complaint_id=case_id, department="operations", kind="reminder",
                            content="请尽快提交调查报告", reply_by=start + timedelta(days=2), now=start)
    handling.submit_report(uow, actor=people.opshandler, complaint_id=case_id, report=REPORT, now=start + timedelta(days=1),
                           expected_version=current_version(uow, case_id))
    handling.report_to_gm(uow, actor=people.opshandler, complaint_id=case_id, report="r", now=start + timedelta(days=1),
                          expected_version=current_version(uow, case_id))
    instruct_report(uow, people, case_id, start + timedelta(days=1))
    handling.consolidate(uow, actor=people.gmo, complaint_id=case_id, opinion="同意", proposed_amount="3000",
                         now=start + timedelta(days=1, hours=1), expected_version=current_version(uow, case_id))
    handling.approve(uow, actor=people.approver, complaint_id=case_id, instructions="赔付", amount_limit="3000",
                     now=start + timedelta(days=1, hours=2), expected_version=current_version(uow, case_id))
    handling.record_negotiation(uow, decision=DECISION, actor=people.clerk, complaint_id=case_id, result="accepted",
                                note="接受", agreed_amount="3000", now=start + timedelta(days=2),
                                    expected_version=current_version(uow, case_id))
    handling.review_negotiation(uow, actor=people.lead, complaint_id=case_id, approve=True, comment="",
                                now=start + timedelta(days=2, hours=1), expected_version=current_version(uow, case_id))
    handling.close_case(uow, cause_code="process.execution", actor=people.gmo, complaint_id=case_id, final_opinion="结案",
                        responsible_department="operations", responsibility_level="general", penalty_persons="",
                        now=start + timedelta(days=3), expected_version=current_version(uow, case_id))
    final_approve(uow, people, case_id, start + timedelta(days=3))
    handling.record_follow_up(uow, method="phone", actor=people.clerk, complaint_id=case_id, outcome="满意", survey=Survey(4, 4, 4, 4, 4),
                              now=start + timedelta(days=5), expected_version=current_version(uow, case_id))
    return case_id


def test_the_ledger_workbook_is_in_the_seeds_layout_with_every_seed_column(uow, people):
    _closed_case(uow, people)
    data = exports.ledger_workbook(uow, actor=people.gmo, filters=queries.LedgerFilter(text="赵结案"), now=NOW,
                                   calendar=rules.load_calendar(uow), lang="zh")
    sheet = load_workbook(io.BytesIO(data))["登记追踪表"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "客户抱怨案件登记追踪表"
    assert "共 1 件" in rows[1][0] and "赵结案" in rows[1][0]          # what it holds: total and filters
    header = [h for h in rows[2] if h]
    positions = [header.index(c) for c in SEED_COLUMNS]
    assert positions == sorted(positions)                        # in the seed's order
    record = dict(zip(rows[2], rows[3]))
    assert record["受理日期"] == "2025-09-30" and record["保单号"] == "P-SEED-1" and record["受理人"] == "总经理室丙"
    assert record["内容摘要"].startswith("客户反映理赔款迟迟未到账")
    assert record["责任归属"] == "运营部（一般责任）"
    assert record["结案日期"] == "2025-10-03" and record["处理结果"] == "客户接受 · 3,000.00"
    assert record["催办次数"] == 1 and record["满意度"] == "4 · 满意"
    assert "13812345678" not in str(rows)                         # masked


def test_the_ledger_csv_has_the_seed_columns_too(uow, people):
    _closed_case(uow, people)
    header = _csv(uow, people.gmo).splitlines()[0].split(",")
    assert [c for c in header if c in SEED_COLUMNS] == SEED_COLUMNS


# -- the statistics table's files say what the page says (issue 16) --

@pytest.fixture
def aged_cases(uow, people):
    """Three open cases received 4 hours, 5 days and 20 days before NOW (the last in October)."""
    for name, age in (("新近案", timedelta(hours=4)), ("五日案", timedelta(days=5)), ("廿日案", timedelta(days=20))):
        complaints.register_complaint(uow, actor=people.clerk, attachments=[], now=NOW - age + timedelta(minutes=5),
                                      form=a_form(customer_name=name, received_at=NOW - age))


def _month_figures(uow, people, month=Period.month(2025, 11), at=NOW):
    return statistics.monthly_table(uow, actor=people.boss, filters=statistics.StatsFilter(month), now=at)


def test_the_statistics_csv_writes_ratios_as_the_page_does_and_excel_as_percentages(uow, people, aged_cases):
    import csv
    import re
    figures = _month_figures(uow, people)
    rates = {k: v for k, v in figures["rates"].items() if v is not None}
    assert any(0 < v < 1 for v in rates.values()), rates          # a ratio with decimals to write
    text = exports.statistics_csv(uow, actor=people.boss, figures=figures, lang="zh").decode("utf-8-sig")
    assert not re.search(r"\d\.\d{4,}", text), re.findall(r".{20}\d\.\d{4,}", text)
    rows = {r[0]: r[1] for r in csv.reader(io.StringIO(text)) if len(r) == 2}
    for key, value in rates.items():
        assert rows[{"on_time_rate": "按时结案率", "overdue_rate": "超期率", "repeat_rate": "重复投诉率",
                     "satisfaction": "满意率", "volume_growth": "投诉量环比增长",
                     "rectification_rate": "整改完成率"}[key]] == f"{value:.1%}"
    assert rows["超期率"].endswith("%") and rows["接收投诉"] == "2"
    book = load_workbook(io.BytesIO(exports.statistics_workbook(uow, actor=people.boss, figures=figures, lang="zh",
                                                                now=NOW)))
    cells = {row[0].value: row[1] for row in book["比率"].iter_rows(min_row=2)}
    overdue = cells["超期率"]
    assert overdue.value == pytest.approx(figures["rates"]["overdue_rate"]) and overdue.number_format == "0.0%"


def test_the_cover_of_a_month_in_progress_reads_up_to_today(uow, people, aged_cases):
    def cover(figures):
        data = exports.statistics_workbook(uow, actor=people.boss, figures=figures, lang="zh", now=NOW)
        return {row[0]: row[1] for row in load_workbook(io.BytesIO(data))["封面"].iter_rows(values_only=True)}
    assert cover(_month_figures(uow, people))["起止日期"] == "2025-11-01 – 2025-11-20（截至 2025-11-20 10:00 时）"
    assert cover(_month_figures(uow, people, Period.month(2025, 10)))["起止日期"] == "2025-10-01 – 2025-10-31"
    text = exports.statistics_csv(uow, actor=people.boss, figures=_month_figures(uow, people),
                                  lang="zh").decode("utf-8-sig")
    assert "2025-11-01 – 2025-11-20（截至 2025-11-20 10:00 时）" in text.splitlines()[0]


def test_the_ageing_rows_are_in_the_order_of_their_buckets_in_the_workbook_and_the_csv(uow, people, aged_cases):
    figures = _month_figures(uow, people)
    assert [r["bucket"] for r in figures["ageing"]] == ["0_3", "4_7", "16_30"]
    book = load_workbook(io.BytesIO(exports.statistics_workbook(uow, actor=people.boss, figures=figures, lang="zh",
                                                                now=NOW)))
    assert [row[0] for row in book["未结案件账龄"].iter_rows(min_row=2, values_only=True)] == ["0–3天", "4–7天", "16–30天"]
    old = {**figures, "ageing": list(reversed(figures["ageing"]))}     # a month compiled before the order was kept
    text = exports.statistics_csv(uow, actor=people.boss, figures=old, lang="zh").decode("utf-8-sig")
    positions = [text.index(f"\n{label},") for label in ("0–3天", "4–7天", "16–30天")]
    assert positions == sorted(positions)


def test_the_ledger_opened_from_a_figure_exports_exactly_its_cases(uow, people, aged_cases):
    from portal.domain.statistics_drill import Drill, Figure
    drill = Drill(Figure.RECEIVED, Period.month(2025, 11))
    text = exports.ledger_csv(uow, actor=people.gmo, filters=queries.LedgerFilter(), now=NOW,
                              calendar=rules.load_calendar(uow), lang="zh", drill=drill).decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert len(lines) == 1 + _month_figures(uow, people)["summary"]["received"] == 3
    assert "新近案" in text and "五日案" in text and "廿日案" not in text      # the last received in October
    book = load_workbook(io.BytesIO(exports.ledger_workbook(uow, actor=people.gmo, filters=queries.LedgerFilter(),
                                                            now=NOW, calendar=rules.load_calendar(uow), lang="zh",
                                                            drill=drill)))
    meta = list(book["登记追踪表"].iter_rows(values_only=True))[1][0]
    assert "统计分析“接收投诉”（2025-11；无（全部案件））的案件" in meta and "共 2 件" in meta
