"""The monthly review (002 art.13.9) on both databases: November 2025 has two closed cases —
A (运营部 100 %) closed 11-10 and B (运营部 60 %, 技术部 40 %) closed 11-20 — and one closed on 12-02
(December, not part of it). 运营部's head is opslead, 技术部's techlead; the review is done on 12-05."""
from __future__ import annotations

import io
from datetime import datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from portal.domain.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from portal.domain.statistics import Period
from portal.persistence.models import (Complaint, Department, Event, MonthConfirmation, ResponsibilityShare,
                                       StatsSnapshot)
from portal.services import exports, monthly_review, statistics
from tests.conftest import BACKENDS, People, built_copy
from tests.review_helpers import closed_case

NOV = "2025-11"
AT = datetime(2025, 12, 5, 10, 0)


def _three_closed_cases(uow) -> None:  # noqa: ANN001
    people = People(uow)
    closed_case(uow, people, datetime(2025, 11, 10, 10), {"operations": 100})
    closed_case(uow, people, datetime(2025, 11, 20, 10), {"operations": 60, "technical": 40})
    closed_case(uow, people, datetime(2025, 12, 2, 10), {"technical": 100})


@pytest.fixture(params=BACKENDS)
def database_url(request):
    """Every test starts from the same three closed cases: walked through the process once per backend, copied."""
    yield from built_copy(request, _three_closed_cases)


@pytest.fixture
def month(uow):
    """The cases A and B (closed in November) and D (closed in December): their ids and numbers."""
    with uow.read() as session:
        cases = session.execute(select(Complaint.id, Complaint.number).order_by(Complaint.received_at)).all()
    assert len(cases) == 3
    return dict(zip("ABD", ((i, number) for i, number in cases)))


def shares_of(uow, case_id: int) -> dict[str, int]:
    with uow.read() as session:
        return {code: ratio for code, ratio in session.execute(
            select(Department.code, ResponsibilityShare.ratio).join(Department)
            .where(ResponsibilityShare.complaint_id == case_id))}


def statuses(uow) -> dict[str, str]:
    status = monthly_review.review_status(uow, actor=load(uow, "boss"), month=NOV)
    return {d.department: d.status for d in status.departments}


def load(uow, name):  # noqa: ANN001, ANN201
    from portal.services.actors import load_actor
    return load_actor(uow, name)


def test_the_month_lists_every_closed_case_with_responsibility_ratios_measures_and_results(uow, people, month):
    page = monthly_review.closed_case_page(uow, actor=people.gmo, month=NOV, page=1, page_size=1)
    assert page.total == 2 and page.pages == 2 and [r["number"] for r in page.rows] == [month["A"][1]]
    second = monthly_review.closed_case_page(uow, actor=people.gmo, month=NOV, page=2, page_size=1).rows
    [b] = second
    assert b["number"] == month["B"][1]
    assert b["shares"] == {"operations": 60, "technical": 40} and b["responsible_department"] == "operations"
    assert b["responsibility_level"] == "general" and b["measures"] == {"operations": "增派人手，限时审核"}
    assert b["closure_note"] == "结案：加强时效管理" and b["opinion"] == "同意赔付"
    assert b["negotiation_result"] == "accepted" and b["agreed_amount"] == "3000.00"
    assert b["rectifications"] == 0
    mine = monthly_review.department_month(uow, actor=people.techlead, month=NOV)
    assert [r["number"] for r in mine.rows] == [month["B"][1]]
    with pytest.raises(PermissionDenied):
        monthly_review.department_month(uow, actor=people.gmo, month=NOV)
    with pytest.raises(PermissionDenied):
        monthly_review.closed_case_page(uow, actor=people.clerk, month=NOV)


def test_a_department_head_confirms_the_ratios_on_their_department(uow, people, month):
    assert monthly_review.month_to_confirm(uow, actor=people.opslead, now=AT) == NOV
    monthly_review.confirm_month(uow, actor=people.opslead, month=NOV, now=AT)
    status = monthly_review.review_status(uow, actor=people.gmo, month=NOV)
    operations = next(d for d in status.departments if d.department == "operations")
    assert (operations.status, operations.confirmed_by, operations.confirmed_at, operations.cases) == (
        "confirmed", "运营主管子", AT, 2)
    assert status.unconfirmed == ["technical"]
    with uow.read() as session:
        event = session.scalar(select(Event).where(Event.action == "review.confirm"))
    assert event.changes["ratios"] == {month["A"][1]: 100, month["B"][1]: 60}
    assert monthly_review.month_to_confirm(uow, actor=people.opslead, now=AT) is None
    assert monthly_review.month_to_confirm(uow, actor=people.techlead, now=AT) == NOV
    with pytest.raises(DomainError) as again:
        monthly_review.confirm_month(uow, actor=people.opslead, month=NOV, now=AT)
    assert again.value.message.key == "review.already_confirmed"


def test_only_a_department_head_confirms_a_finished_month_with_a_share_on_their_department(uow, people, month):
    for who in ("gmo", "opshandler", "boss"):
        with pytest.raises(PermissionDenied):
            monthly_review.confirm_month(uow, actor=getattr(people, who), month=NOV, now=AT)
    with pytest.raises(DomainError) as running:
        monthly_review.confirm_month(uow, actor=people.opslead, month="2025-12", now=AT)
    assert running.value.message.key == "stats.month_not_over"
    with pytest.raises(DomainError) as nothing:
        monthly_review.confirm_month(uow, actor=people.opslead, month="2025-10", now=AT)
    assert nothing.value.message.key == "review.nothing_to_confirm"
    with pytest.raises(DomainError):
        monthly_review.confirm_month(uow, actor=people.opslead, month="11/2025", now=AT)
    with uow.read() as session:
        assert session.scalar(select(func.count()).select_from(MonthConfirmation)) == 0


def test_a_dispute_needs_a_reason_and_a_case_of_the_month_with_a_share_on_the_department(uow, people, month):
    with pytest.raises(ValidationFailed) as empty:
        monthly_review.dispute_case(uow, actor=people.techlead, month=NOV, complaint_id=month["B"][0], reason="  ",
                                    now=AT)
    assert empty.value.errors["reason"].key == "form.required"
    for case in ("A", "D"):          # no share of 技术部; closed in December
        with pytest.raises(DomainError) as refused:
            monthly_review.dispute_case(uow, actor=people.techlead, month=NOV, complaint_id=month[case][0],
                                        reason="不应由技术部承担", now=AT)
        assert refused.value.message.key == "review.not_your_case"
    with pytest.raises(PermissionDenied):
        monthly_review.dispute_case(uow, actor=people.techhandler, month=NOV, complaint_id=month["B"][0],
                                    reason="不应由技术部承担", now=AT)
    with uow.read() as session:
        assert session.scalar(select(func.count()).select_from(MonthConfirmation)) == 0
    monthly_review.dispute_case(uow, actor=people.techlead, month=NOV, complaint_id=month["B"][0],
                                reason="系统无故障记录，应由运营部全责", now=AT)
    [dispute] = monthly_review.open_dispute_list(uow, actor=people.gmo, month=NOV)
    assert (dispute.department, dispute.number, dispute.reason, dispute.by) == (
        "technical", month["B"][1], "系统无故障记录，应由运营部全责", "技术主管癸")
    with pytest.raises(DomainError) as twice:
        monthly_review.dispute_case(uow, actor=people.techlead, month=NOV, complaint_id=month["B"][0],
                                    reason="再次提出", now=AT)
    assert twice.value.message.key == "review.already_disputed"
    with pytest.raises(DomainError) as confirm:
        monthly_review.confirm_month(uow, actor=people.techlead, month=NOV, now=AT)
    assert confirm.value.message.key == "review.own_dispute_open"
    assert monthly_review.open_dispute_count(uow, actor=people.gmo) == 1
    assert monthly_review.open_dispute_count(uow, actor=people.opslead) == 0
    with uow.read() as session:
        event = session.scalar(select(Event).where(Event.action == "review.dispute"))
    assert event.complaint_id == month["B"][0] and event.changes["ratio"] == 40


def test_disputing_a_case_withdraws_the_departments_confirmation_of_the_month(uow, people, month):
    monthly_review.confirm_month(uow, actor=people.opslead, month=NOV, now=AT)
    monthly_review.dispute_case(uow, actor=people.opslead, month=NOV, complaint_id=month["B"][0],
                                reason="运营部已按时处理，比例过高", now=AT)
    assert statuses(uow)["operations"] == "withdrawn"


def test_the_gm_office_resolves_with_new_ratios_audited_and_the_changed_departments_confirm_again(uow, people,
                                                                                                  month):
    monthly_review.confirm_month(uow, actor=people.opslead, month=NOV, now=AT)
    dispute = monthly_review.dispute_case(uow, actor=people.techlead, month=NOV, complaint_id=month["B"][0],
                                          reason="系统故障仅为次要原因", now=AT)
    withdrawn = monthly_review.resolve_dispute(uow, actor=people.gmo, confirmation_id=dispute,
                                               resolution="经复核改为技术部七成", now=AT,
                                               new_shares=[("technical", 70), ("operations", 30)])
    assert withdrawn == ["operations"]
    assert shares_of(uow, month["B"][0]) == {"technical": 70, "operations": 30}
    with uow.read() as session:
        complaint = session.get(Complaint, month["B"][0])
        technical = session.scalar(select(Department.id).where(Department.code == "technical"))
        assert complaint.responsibility_department_id == technical
        event = session.scalar(select(Event).where(Event.action == "review.resolve"))
        row = session.get(MonthConfirmation, dispute)
    assert event.complaint_id == month["B"][0] and event.actor_label == "gmo"
    assert event.changes["before"] == {"operations": 60, "technical": 40}
    assert event.changes["after"] == {"technical": 70, "operations": 30}
    assert event.changes["confirmations_withdrawn"] == ["operations"]
    assert (row.status, row.resolution, row.resolved_at) == ("resolved", "经复核改为技术部七成", AT)
    assert statuses(uow) == {"operations": "withdrawn", "technical": "not_confirmed"}
    assert monthly_review.month_to_confirm(uow, actor=people.opslead, now=AT) == NOV
    monthly_review.confirm_month(uow, actor=people.opslead, month=NOV, now=AT)      # confirms again: the same row
    assert statuses(uow)["operations"] == "confirmed"
    with uow.read() as session:
        assert session.scalar(select(func.count()).select_from(MonthConfirmation)
                              .where(MonthConfirmation.complaint_id.is_(None))) == 1


def test_a_resolution_without_new_ratios_keeps_them_and_every_confirmation(uow, people, month):
    monthly_review.confirm_month(uow, actor=people.opslead, month=NOV, now=AT)
    dispute = monthly_review.dispute_case(uow, actor=people.techlead, month=NOV, complaint_id=month["B"][0],
                                          reason="比例偏高", now=AT)
    assert monthly_review.resolve_dispute(uow, actor=people.gmo, confirmation_id=dispute, resolution="维持原比例",
                                          new_shares=None, now=AT) == []
    assert shares_of(uow, month["B"][0]) == {"operations": 60, "technical": 40}
    assert statuses(uow) == {"operations": "confirmed", "technical": "not_confirmed"}
    with pytest.raises(DomainError) as again:
        monthly_review.resolve_dispute(uow, actor=people.gmo, confirmation_id=dispute, resolution="再次", now=AT)
    assert again.value.message.key == "review.dispute_closed"


@pytest.mark.parametrize("shares, field", [
    ([("technical", 70), ("operations", 20)], "close.shares_sum"),
    ([("technical", 100), ("operations", 0)], "close.share_range"),
    ([("technical", 50), ("nowhere", 50)], "form.unknown_choice"),
    ([("technical", 50), ("technical", 50)], "review.share_twice"),
    ([], "form.required"),
])
def test_a_resolution_with_bad_ratios_or_no_text_is_refused_and_nothing_changes(uow, people, month, shares, field):
    dispute = monthly_review.dispute_case(uow, actor=people.techlead, month=NOV, complaint_id=month["B"][0],
                                          reason="比例偏高", now=AT)
    with pytest.raises(ValidationFailed) as refused:
        monthly_review.resolve_dispute(uow, actor=people.gmo, confirmation_id=dispute, resolution="", now=AT,
                                       new_shares=shares)
    assert refused.value.errors["resolution"].key == "form.required"
    assert refused.value.errors["shares"].key == field
    with pytest.raises(PermissionDenied):
        monthly_review.resolve_dispute(uow, actor=people.opslead, confirmation_id=dispute, resolution="改",
                                       new_shares=[("operations", 100)], now=AT)
    with pytest.raises(NotFound):
        monthly_review.resolve_dispute(uow, actor=people.gmo, confirmation_id=dispute + 99, resolution="改", now=AT)
    assert shares_of(uow, month["B"][0]) == {"operations": 60, "technical": 40}
    assert [d.status for d in monthly_review.open_dispute_list(uow, actor=people.gmo, month=NOV)] == ["disputed"]


def test_compiling_is_refused_while_a_dispute_is_open_and_the_snapshot_carries_the_review(uow, people, month):
    monthly_review.confirm_month(uow, actor=people.opslead, month=NOV, now=AT)
    dispute = monthly_review.dispute_case(uow, actor=people.techlead, month=NOV, complaint_id=month["B"][0],
                                          reason="系统故障仅为次要原因", now=AT)
    with pytest.raises(DomainError) as refused:
        statistics.compile_month(uow, actor=people.gmo, month=NOV, now=AT)
    assert refused.value.message.key == "review.compile_disputed"
    assert refused.value.message.params == {"month": NOV, "cases": month["B"][1]}
    with uow.read() as session:
        assert session.scalar(select(func.count()).select_from(StatsSnapshot)) == 0
    monthly_review.resolve_dispute(uow, actor=people.gmo, confirmation_id=dispute, resolution="维持原比例", now=AT)
    compiled = statistics.compile_month(uow, actor=people.gmo, month=NOV, now=AT)      # 技术部 never confirmed
    review = statistics.snapshot(uow, actor=people.boss, month=NOV).figures["review"]
    assert review == compiled.figures["review"]
    assert review["unconfirmed"] == ["technical"]
    departments = {d["department"]: d for d in review["departments"]}
    assert (departments["operations"]["status"], departments["operations"]["confirmed_by"],
            departments["operations"]["confirmed_at"]) == ("confirmed", "运营主管子", "2025-12-05 10:00")
    assert (departments["technical"]["status"], departments["technical"]["disputes_resolved"]) == ("not_confirmed", 1)
    [kept] = review["disputes"]
    assert (kept["number"], kept["status"], kept["reason"], kept["resolution"], kept["resolved_by"]) == (
        month["B"][1], "resolved", "系统故障仅为次要原因", "维持原比例", "总经理室丙")
    assert [(c["number"], c["shares"]) for c in review["closed_cases"]] == [
        (month["A"][1], {"operations": 100}), (month["B"][1], {"operations": 60, "technical": 40})]


def test_the_compiled_snapshot_does_not_change_when_a_case_changes_later(uow, people, month):
    monthly_review.confirm_month(uow, actor=people.opslead, month=NOV, now=AT)
    statistics.compile_month(uow, actor=people.gmo, month=NOV, now=AT)
    before = statistics.snapshot(uow, actor=people.boss, month=NOV).figures
    # the review of a compiled month is closed: no dispute, no resolution changes it
    with pytest.raises(DomainError) as closed:
        monthly_review.dispute_case(uow, actor=people.techlead, month=NOV, complaint_id=month["B"][0],
                                    reason="比例偏高", now=AT)
    assert closed.value.message.key == "review.month_compiled"
    # the case's ratio changed by some later correction, straight in the database
    with uow.write() as session:
        technical, operations = (session.scalar(select(Department.id).where(Department.code == c))
                                 for c in ("technical", "operations"))
        session.execute(update(ResponsibilityShare).where(ResponsibilityShare.complaint_id == month["B"][0],
                                                          ResponsibilityShare.department_id == technical)
                        .values(ratio=90))
        session.execute(update(ResponsibilityShare).where(ResponsibilityShare.complaint_id == month["B"][0],
                                                          ResponsibilityShare.department_id == operations)
                        .values(ratio=10))
        session.execute(update(Complaint).where(Complaint.id == month["B"][0])
                        .values(responsibility_department_id=technical, closure_note="事后更正"))
    with uow.read() as session:
        live = monthly_review.closed_cases(session, period=Period.month(2025, 11))
    assert live[1]["shares"] == {"technical": 90, "operations": 10} and live[1]["closure_note"] == "事后更正"
    after = statistics.snapshot(uow, actor=people.boss, month=NOV).figures
    assert after == before
    assert after["review"]["closed_cases"][1]["shares"] == {"operations": 60, "technical": 40}
    assert after["review"]["closed_cases"][1]["closure_note"] == "结案：加强时效管理"
    # a correction made straight in the database passes the rollups by: `stats verify` names it, and `stats
    # rebuild` (what the README asks after such a change) brings the live table to the corrected shares
    assert any("share" in line for line in statistics.verify_rollups(uow))
    statistics.rebuild_rollups(uow)
    live = statistics.monthly_table(uow, actor=people.boss, filters=statistics.StatsFilter(Period.month(2025, 11)),
                                    now=AT)
    assert {r["department"]: r["responsible"] for r in live["by_department"]}["technical"] >= 1


def sheet_rows(book, title):  # noqa: ANN001, ANN201
    return [list(r) for r in book[title].iter_rows(values_only=True)]


def test_the_workbook_lists_every_closed_case_of_the_month_and_the_confirmations(uow, people, month):
    monthly_review.confirm_month(uow, actor=people.opslead, month=NOV, now=AT)
    figures = statistics.monthly_table(uow, actor=people.boss, filters=statistics.StatsFilter(Period.month(2025, 11)),
                                       now=AT)
    book = load_workbook(io.BytesIO(exports.statistics_workbook(uow, actor=people.boss, figures=figures, lang="zh",
                                                                now=AT)))
    rows = sheet_rows(book, "结案案件清单")
    header, cases = rows[0], rows[1:]
    assert len(cases) == 2                               # one line per case closed in November, not December's
    column = {name: i for i, name in enumerate(header)}
    assert [c[column["案件编号"]] for c in cases] == [month["A"][1], month["B"][1]]
    b = cases[1]
    assert b[column["责任比例"]] == "运营部 60%、技术部 40%"
    assert b[column["责任归属"]] == "运营部（一般责任）"
    assert b[column["改善对策"]] == "运营部：增派人手，限时审核"
    assert b[column["综合意见"]] == "结案：加强时效管理"
    assert b[column["处理结果"]].startswith("客户接受")
    confirmations = sheet_rows(book, "部门确认及异议")
    lines = {r[1]: r for r in confirmations[1:]}
    assert lines["运营部"][3] == "已确认" and lines["运营部"][4] == "运营主管子"
    assert lines["技术部"][3] == "未确认"
    statistics.compile_month(uow, actor=people.gmo, month=NOV, now=AT)
    kept = statistics.snapshot(uow, actor=people.boss, month=NOV)
    compiled = load_workbook(io.BytesIO(exports.statistics_workbook(uow, actor=people.boss, figures=kept.figures,
                                                                    lang="en", now=AT)))
    assert len(sheet_rows(compiled, "Closed cases")) == 3
    csv_text = exports.statistics_csv(uow, actor=people.boss, figures=figures, lang="zh").decode("utf-8-sig")
    assert "结案案件清单" in csv_text and month["B"][1] in csv_text
