"""The monthly complaint statistics table against a fixture month computed by hand.

November 2025 (no public holiday in it; 2025-10-28 is after the National Day break):
  E  received 10-28, closed 11-04 on time, surveyed 11-08 (4,4,4,4,4)             — the month before
  A  received 11-03, closed 11-07 on time, surveyed 11-10 (5,5,4,5,5)
  B  received 11-03, routed to 运营部 and 技术部, investigation late, closed 11-20 late,
     surveyed 11-21 (2,3,2,2,2); two rectification items, one done by its deadline
  C  received 11-12, a linked repeat of A, never accepted
  D  received 11-10, accepted, on hold since 11-11 (its pausable clocks stopped)
Each investigation report goes to the GM office the minute the last department reports, and the
approver confirms each closure's penalty the minute it is proposed (so a case closes then).
Reminders swept on 11-25 and 11-27. B ended three clocks late: 调查处理 (due 11-12 24:00), 结案 (due 11-16
24:00) and 综合意见 (the GM office's own step, asked of no department). A late-inquiry goes only to a
department whose own part came after the due time: 技术部's report (11-13) for 调查处理 - one late-inquiry
(运营部 reported 11-05; both reports came before the closure was due). D's regulatory clock is overdue
on 11-27 and not paused while 运营部's report is pending: one reminder. The table is read on 12-05.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from portal.domain.errors import DomainError, PermissionDenied
from portal.domain.regulatory import Decision
from portal.domain.satisfaction import Survey
from portal.domain.statistics import Period
from portal.services import complaints, followthrough, handling, reminders, statistics
from portal.persistence.models import Complaint
from portal.services.handling import InvestigationReport
from portal.services.queries import current_version
from tests.helpers import final_approve, instruct_analysis, instruct_report
from tests.conftest import BACKENDS, People, module_database
from tests.helpers import a_form

DECISION = Decision(checked="核对理赔记录", basis="保险合同条款", remedies=["review"], told_via="phone",
                    proof="通话录音")
REPORT = InvestigationReport(cause_code="process.execution", evidence="系统记录", cause="审核积压", finding="company_fault",
                             responsible_unit="运营部", measures="增派人手", proposed_amount="3000")
NOV = Period.month(2025, 11)
READ_AT = datetime(2025, 12, 5, 10, 0)


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute)


def _register(uow, people, received: datetime, *, category: str, channel: str, original_id=None):
    return complaints.register_complaint(
        uow, actor=people.clerk, form=a_form(received_at=received, category=category, channel=channel),
        attachments=[], now=received + timedelta(minutes=10), original_id=original_id).id


def _accept(uow, people, case_id, when, *, category, severity, departments):
    complaints.accept_complaint(uow, actor=people.gmo, complaint_id=case_id, category=category, severity=severity,
                                departments=departments, now=when)


def _to_closed(uow, people, case_id, *, consolidate, approve, negotiate, review, close, responsible):
    with uow.read() as session:
        technical = any(r.department.code == "technical" for r in session.get(Complaint, case_id).departments)
    if technical:                          # 技术部's analysis is instructed by its lead (002 art.13.3)
        instruct_analysis(uow, people, case_id, consolidate)
    instruct_report(uow, people, case_id, consolidate)      # the GM's 批示 on the report (13.2)
    handling.consolidate(uow, actor=people.gmo, complaint_id=case_id, opinion="同意", proposed_amount="3000",
                         now=consolidate, expected_version=current_version(uow, case_id))
    handling.approve(uow, actor=people.approver, complaint_id=case_id, instructions="按3000元", amount_limit="3000",
                     now=approve, expected_version=current_version(uow, case_id))
    handling.record_negotiation(uow, actor=people.clerk, complaint_id=case_id, result="accepted", note="接受",
                                agreed_amount="3000", decision=DECISION, now=negotiate,
                                    expected_version=current_version(uow, case_id))
    handling.review_negotiation(uow, actor=people.lead, complaint_id=case_id, approve=True, comment="", now=review,
                                expected_version=current_version(uow, case_id))
    handling.close_case(uow, cause_code="process.execution", actor=people.gmo, complaint_id=case_id, final_opinion="结案",
                        responsible_department=responsible, responsibility_level="general", penalty_persons="",
                        now=close, expected_version=current_version(uow, case_id))
    # the final 核决 (with the loss and penalty) in the same minute: the case closes then
    final_approve(uow, people, case_id, close)


def build_november(uow, people) -> dict[str, int]:
    ids = {}
    # E — received in October, closed in November on time
    e = ids["E"] = _register(uow, people, at(10, 28, 9), category="claim_speed", channel="phone")
    _accept(uow, people, e, at(10, 28, 10), category="claim_speed", severity="general", departments=["operations"])
    handling.record_initial_plan(uow, actor=people.opshandler, complaint_id=e, plan="核实", now=at(10, 28, 14),
                                 expected_version=current_version(uow, e))
    handling.submit_report(uow, actor=people.opshandler, complaint_id=e, report=REPORT, now=at(10, 30, 10),
                           expected_version=current_version(uow, e))
    handling.report_to_gm(uow, actor=people.opshandler, complaint_id=e, report="呈报", now=at(10, 30, 10),
                          expected_version=current_version(uow, e))
    _to_closed(uow, people, e, consolidate=at(10, 30, 12), approve=at(10, 31, 10), negotiate=at(11, 3, 10),
               review=at(11, 3, 11), close=at(11, 4, 10), responsible="operations")
    handling.record_follow_up(uow, method="phone", actor=people.clerk, complaint_id=e, outcome="满意", survey=Survey(4, 4, 4, 4, 4),
                              now=at(11, 8, 10), expected_version=current_version(uow, e))
    # A — closed on time
    a = ids["A"] = _register(uow, people, at(11, 3, 9), category="claim_speed", channel="phone")
    _accept(uow, people, a, at(11, 3, 10), category="claim_speed", severity="general", departments=["operations"])
    handling.record_initial_plan(uow, actor=people.opshandler, complaint_id=a, plan="核实", now=at(11, 3, 14),
                                 expected_version=current_version(uow, a))
    handling.submit_report(uow, actor=people.opshandler, complaint_id=a, report=REPORT, now=at(11, 4, 10),
                           expected_version=current_version(uow, a))
    handling.report_to_gm(uow, actor=people.opshandler, complaint_id=a, report="呈报", now=at(11, 4, 10),
                          expected_version=current_version(uow, a))
    _to_closed(uow, people, a, consolidate=at(11, 4, 12), approve=at(11, 5, 10), negotiate=at(11, 6, 10),
               review=at(11, 6, 11), close=at(11, 7, 10), responsible="operations")
    handling.record_follow_up(uow, method="phone", actor=people.clerk, complaint_id=a, outcome="满意", survey=Survey(5, 5, 4, 5, 5),
                              now=at(11, 10, 10), expected_version=current_version(uow, a))
    # B — two departments, investigation late, closed late, dissatisfied
    b = ids["B"] = _register(uow, people, at(11, 3, 9), category="claim", channel="wechat")
    _accept(uow, people, b, at(11, 3, 11), category="claim", severity="important",
            departments=["operations", "technical"])
    handling.record_initial_plan(uow, actor=people.opshandler, complaint_id=b, plan="核实", now=at(11, 3, 15),
                                 expected_version=current_version(uow, b))
    handling.submit_report(uow, actor=people.opshandler, complaint_id=b, report=REPORT, now=at(11, 5, 10),
                           expected_version=current_version(uow, b))
    handling.submit_report(uow, actor=people.techhandler, complaint_id=b, report=REPORT, now=at(11, 13, 10),
                           expected_version=current_version(uow, b))
    handling.report_to_gm(uow, actor=people.techhandler, complaint_id=b, report="呈报", now=at(11, 13, 10),
                          expected_version=current_version(uow, b))
    _to_closed(uow, people, b, consolidate=at(11, 13, 12), approve=at(11, 14, 10), negotiate=at(11, 18, 10),
               review=at(11, 18, 11), close=at(11, 20, 10), responsible="technical")
    first = followthrough.add_rectification(uow, actor=people.gmo, complaint_id=b, cause="系统缺陷", description="修复",
                                            owner_department="technical", deadline=date(2025, 11, 25),
                                            now=at(11, 20, 12))
    followthrough.add_rectification(uow, actor=people.gmo, complaint_id=b, cause="流程", description="培训",
                                    owner_department="operations", deadline=date(2025, 11, 28), now=at(11, 20, 12))
    followthrough.set_rectification_status(uow, actor=people.gmo, rectification_id=first, status="done",
                                           now=at(11, 24, 10))
    handling.record_follow_up(uow, method="phone", actor=people.clerk, complaint_id=b, outcome="不满意", survey=Survey(2, 3, 2, 2, 2),
                              now=at(11, 21, 10), expected_version=current_version(uow, b))
    # C — a linked repeat of A, never accepted
    ids["C"] = _register(uow, people, at(11, 12, 9), category="claim_speed", channel="phone", original_id=a)
    # D — accepted, then on hold for the customer's material
    d = ids["D"] = _register(uow, people, at(11, 10, 9), category="service_attitude", channel="counter")
    _accept(uow, people, d, at(11, 10, 10), category="service_attitude", severity="general", departments=["operations"])
    handling.record_initial_plan(uow, actor=people.opshandler, complaint_id=d, plan="核实", now=at(11, 10, 15),
                                 expected_version=current_version(uow, d))
    handling.hold(uow, actor=people.gmo, complaint_id=d, reason="等待客户补充资料", now=at(11, 11, 10),
                  expected_version=current_version(uow, d))
    reminders.issue_reminders(uow, now=at(11, 25, 10))
    reminders.issue_reminders(uow, now=at(11, 27, 10))
    return ids


@pytest.fixture(scope="module", params=BACKENDS)
def month_db(request, tmp_path_factory):
    """The fixture month built once per backend; the tests below only read it."""
    with module_database(request, tmp_path_factory, lambda unit: build_november(unit, People(unit))) as unit:
        yield unit


@pytest.fixture
def uow_people(month_db):
    return month_db, People(month_db)


def table(uow, people, **filters):
    return statistics.monthly_table(uow, actor=people.boss, filters=statistics.StatsFilter(NOV, **filters),
                                    now=READ_AT)


def rows(items, key):
    return {r[key]: {k: v for k, v in r.items() if k != key} for r in items}


def test_the_summary_counts_of_the_month(uow_people):
    uow, people = uow_people
    summary = table(uow, people)["summary"]
    assert summary == {"received": 4, "accepted": 3, "closed": 3, "closed_on_time": 2, "closed_late": 1,
                       "open_at_end": 2, "overdue_open": 2, "repeats": 1, "previous_received": 1,
                       "reminders": 1, "late_inquiries": 1, "surveys": 3, "rectifications_due": 2,
                       "rectifications_done": 1}


def test_the_rates_and_every_early_warning(uow_people):
    uow, people = uow_people
    figures = table(uow, people)
    assert figures["rates"] == pytest.approx({"on_time_rate": 2 / 3, "overdue_rate": 3 / 5, "repeat_rate": 1 / 4,
                                              "satisfaction": 2 / 3, "volume_growth": 3.0,
                                              "rectification_rate": 1 / 2})
    warned = {w["indicator"]: w for w in figures["warnings"]}
    expected = {"satisfaction": (2 / 3, 0.8), "overdue_rate": (0.6, 0.1), "repeat_rate": (0.25, 0.05),
                "volume_growth": (3.0, 0.3)}
    assert set(warned) == set(expected)
    for indicator, (value, threshold) in expected.items():
        assert warned[indicator]["value"] == pytest.approx(value) and warned[indicator]["threshold"] == threshold
        assert warned[indicator]["period"] == "2025-11"


def test_breakdowns_by_category_channel_and_severity(uow_people):
    uow, people = uow_people
    figures = table(uow, people)
    assert rows(figures["by_category"], "category") == {
        "claim_speed": {"received": 2, "repeats": 1, "closed": 2, "closed_on_time": 2, "on_time_rate": 1.0},
        "claim": {"received": 1, "repeats": 0, "closed": 1, "closed_on_time": 0, "on_time_rate": 0.0},
        "service_attitude": {"received": 1, "repeats": 0, "closed": 0, "closed_on_time": 0, "on_time_rate": None}}
    assert rows(figures["by_channel"], "channel") == {
        "phone": {"received": 2, "repeats": 1, "closed": 2, "closed_on_time": 2, "on_time_rate": 1.0},
        "wechat": {"received": 1, "repeats": 0, "closed": 1, "closed_on_time": 0, "on_time_rate": 0.0},
        "counter": {"received": 1, "repeats": 0, "closed": 0, "closed_on_time": 0, "on_time_rate": None}}
    assert rows(figures["by_severity"], "severity") == {
        "general": {"received": 3, "repeats": 1, "closed": 2, "closed_on_time": 2, "on_time_rate": 1.0},
        "important": {"received": 1, "repeats": 0, "closed": 1, "closed_on_time": 0, "on_time_rate": 0.0}}


def test_departments_with_their_ratio_of_responsibility_and_compliance(uow_people):
    uow, people = uow_people
    departments = rows(table(uow, people)["by_department"], "department")
    assert set(departments) == {"operations", "technical"}
    assert departments["operations"] == pytest.approx({"routed": 3, "responsible": 2, "responsibility_ratio": 2 / 3,
                                                       "clocks_completed": 7, "clocks_met": 6, "compliance": 6 / 7})
    assert departments["technical"] == pytest.approx({"routed": 1, "responsible": 1, "responsibility_ratio": 1 / 3,
                                                      "clocks_completed": 3, "clocks_met": 2, "compliance": 2 / 3})
    heat = {(r["department"], r["category"]): r["count"] for r in table(uow, people)["department_category"]}
    assert heat == {("operations", "claim_speed"): 1, ("operations", "claim"): 1,
                    ("operations", "service_attitude"): 1, ("technical", "claim"): 1}


def test_every_clock_with_average_and_90th_percentile_handling_time(uow_people):
    uow, people = uow_people
    clocks = rows(table(uow, people)["clocks"], "clock")
    expected = {  # completed, late, average hours, p90 hours, overdue at month end
        "acknowledge": (3, 0, 4 / 3, 2, 1), "initial_plan": (3, 0, 17 / 3, 6, 1),
        "investigation": (2, 1, (24 + 239) / 2, 239, 0), "investigation_report": (2, 0, 0, 0, 0),
        "consolidation": (3, 1, (23 + 23 + 47) / 3, 47, 0), "closure": (3, 1, (168 + 96 + 407) / 3, 407, 0),
        "major_report": (0, 0, None, None, 0), "regulatory": (3, 0, (145 + 73 + 361) / 3, 361, 2),
        "review": (0, 0, None, None, 0)}
    for key, (n, late, avg, p90, overdue) in expected.items():
        got = clocks[key]
        assert (got["completed"], got["late"], got["met"], got["overdue_at_end"]) == (n, late, n - late, overdue), key
        assert got["avg_hours"] == pytest.approx(avg) and got["p90_hours"] == pytest.approx(p90), key
        assert got["compliance"] == (None if n == 0 else pytest.approx((n - late) / n)), key


def test_satisfaction_per_dimension(uow_people):
    uow, people = uow_people
    satisfaction = rows(table(uow, people)["satisfaction"], "dimension")
    averages = {"process": 11 / 3, "attitude": 4, "efficiency": 10 / 3, "result": 11 / 3, "overall": 11 / 3}
    for dimension, average in averages.items():
        assert satisfaction[dimension] == pytest.approx({"surveys": 3, "average": average, "satisfied": 2,
                                                         "rate": 2 / 3, "threshold": 0.8}), dimension


def test_trend_and_ageing(uow_people):
    uow, people = uow_people
    figures = table(uow, people)
    trend = {r["month"]: (r["received"], r["closed"], r["closed_late"]) for r in figures["trend"]}
    assert len(trend) == 12 and list(trend)[-1] == "2025-11" and list(trend)[0] == "2024-12"
    assert trend["2025-10"] == (1, 0, 0) and trend["2025-11"] == (4, 3, 1)
    assert sum(sum(v) for v in trend.values()) == 9
    assert figures["ageing"] == [{"bucket": "16_30", "status": "overdue", "count": 2}]


def test_filters_narrow_every_figure(uow_people):
    uow, people = uow_people
    technical = table(uow, people, department="technical")
    assert technical["summary"]["received"] == 1 and technical["summary"]["closed"] == 1
    assert technical["summary"]["late_inquiries"] == 1 and technical["summary"]["overdue_open"] == 0
    phone = table(uow, people, channel="phone", severity="general")
    assert phone["summary"]["received"] == 2 and phone["summary"]["repeats"] == 1
    assert phone["summary"]["closed"] == 2 and phone["summary"]["previous_received"] == 1


def test_a_compiled_month_keeps_its_figures(uow, people):
    november = build_november(uow, people)
    with pytest.raises(DomainError):
        statistics.compile_month(uow, actor=people.gmo, month="2025-12", now=READ_AT)   # not over yet
    with pytest.raises(PermissionDenied):
        statistics.compile_month(uow, actor=people.boss, month="2025-11", now=READ_AT)
    clock = statistics.compile_clock(uow, now=READ_AT)
    assert (clock.month, clock.status.value, clock.due, clock.snapshot) == ("2025-11", "on_track",
                                                                             datetime(2025, 12, 11), None)
    compiled = statistics.compile_month(uow, actor=people.gmo, month="2025-11", now=READ_AT)
    assert compiled.figures["summary"]["received"] == 4
    with pytest.raises(DomainError):
        statistics.compile_month(uow, actor=people.gmo, month="2025-11", now=READ_AT)
    # A later edit (C accepted under another category) changes the live table, not the compiled one.
    _accept(uow, people, november["C"], datetime(2025, 12, 6, 9), category="other", severity="general",
            departments=["operations"])
    live = rows(table(uow, people)["by_category"], "category")
    kept = rows(statistics.snapshot(uow, actor=people.boss, month="2025-11").figures["by_category"], "category")
    assert live["claim_speed"]["received"] == 1 and kept["claim_speed"]["received"] == 2
    assert statistics.compile_clock(uow, now=READ_AT).status.value == "met"
