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
        assert "陈小明" in text and "编号" in text.splitlines()[0]


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
