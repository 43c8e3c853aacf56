"""人员考核 against a fixture month computed by hand (November 2025, no public holiday in it).

  A  received 11-03 09:00 (clerk registers 09:10); 运营部 only. gmo accepts 10:00 (确认受理 1 h, on time);
     opshandler plans 14:00 (初步方案 5 h), reports 11-04 10:00 (调查处理 24 h), reports to the GM 11:00
     (调查报告 1 h); genmgr instructs 12:00; gmo consolidates 14:00; approver approves 11-05 10:00; clerk
     negotiates 11-06 10:00 (监管时限 3 d 1 h); lead reviews 11:00; gmo closes 15:00 (综合意见 4 h); approver
     signs 11-07 10:00 (结案 4 d). Follow-up 11-10: overall 5.
  B  received 11-05 09:00 (clerk 09:10); 运营部 and 技术部. gmo accepts 11-06 10:00 (确认受理 25 h, late);
     opshandler plans 15:00 (初步方案 30 h), reports 11-10; techhandler reports 11-19 10:00, the last report
     (调查处理 13 d, late: due 11-17), to the GM 11:00 (调查报告 1 h); techlead instructs 12:00, genmgr 13:00;
     gmo consolidates 14:00; approver approves 11-20 10:00; clerk negotiates 11-21 10:00 (监管时限 16 d 1 h,
     late); lead reviews 11:00; gmo closes 15:00 (综合意见 4 h); approver signs 11-24 10:00 (结案 18 d, late).
     Follow-up 11-25: overall 2.
  C  received 10-28 09:00 (clerk); gmo accepts 10:00; opshandler plans 14:00 (all in October), reports
     11-03 16:00 (调查处理 6 d 6 h, on time: due 11-06); still open.
  Rectification items: R1 on A, opshandler, deadline 11-20, done 11-18; R2 on B, opshandler, deadline 11-28,
  done 11-29 (late); R3 on B, techhandler, deadline 11-27, open; R4 on A, techhandler, deadline 12-05.
"""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from portal.domain.errors import PermissionDenied, ValidationFailed
from portal.domain.regulatory import Decision
from portal.domain.satisfaction import Survey
from portal.domain.statistics import Period
from portal.i18n import translate
from portal.persistence.models import Event
from portal.services import appraisal, complaints, handling, rectification
from portal.services.handling import InvestigationReport
from portal.services.queries import current_version
from tests.conftest import BACKENDS, People, module_database
from tests.helpers import a_form, final_approve, instruct_analysis, instruct_report

DECISION = Decision(checked="核对理赔记录", basis="保险合同条款", remedies=["review"], told_via="phone",
                    proof="通话录音")
REPORT = InvestigationReport(evidence="系统记录", cause="审核积压", finding="company_fault",
                             responsible_unit="运营部", measures="增派人手", proposed_amount="3000",
                             cause_code="process.execution")
NOV = Period.month(2025, 11)
READ_AT = datetime(2025, 12, 8, 10, 0)
H = 3600


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute)


def _v(uow, case_id):  # noqa: ANN001, ANN202
    return current_version(uow, case_id)


def _start(uow, people, received, accepted, departments) -> int:  # noqa: ANN001
    case_id = complaints.register_complaint(uow, actor=people.clerk, form=a_form(received_at=received),
                                            attachments=[], now=received + timedelta(minutes=10)).id
    complaints.accept_complaint(uow, actor=people.gmo, complaint_id=case_id, category="claim_speed",
                                severity="general", departments=departments, now=accepted)
    return case_id


def _decide_and_close(uow, people, case_id, *, instructed, consolidate, approve, negotiate, review, close, sign,
                      responsible, technical=None):  # noqa: ANN001
    if technical:
        instruct_analysis(uow, people, case_id, technical)
    instruct_report(uow, people, case_id, instructed)
    handling.consolidate(uow, actor=people.gmo, complaint_id=case_id, opinion="同意", proposed_amount="3000",
                         now=consolidate, expected_version=_v(uow, case_id))
    handling.approve(uow, actor=people.approver, complaint_id=case_id, instructions="按3000元", amount_limit="3000",
                     now=approve, expected_version=_v(uow, case_id))
    handling.record_negotiation(uow, actor=people.clerk, complaint_id=case_id, result="accepted", note="接受",
                                agreed_amount="3000", decision=DECISION, now=negotiate,
                                expected_version=_v(uow, case_id))
    handling.review_negotiation(uow, actor=people.lead, complaint_id=case_id, approve=True, comment="", now=review,
                                expected_version=_v(uow, case_id))
    handling.close_case(uow, actor=people.gmo, complaint_id=case_id, final_opinion="结案",
                        responsible_department=responsible, responsibility_level="general", penalty_persons="",
                        cause_code="process.execution", now=close, expected_version=_v(uow, case_id))
    final_approve(uow, people, case_id, sign)


def _follow_up(uow, people, case_id, score, when):  # noqa: ANN001
    handling.record_follow_up(uow, actor=people.clerk, complaint_id=case_id, outcome="回访",
                              survey=Survey(score, score, score, score, score), method="phone", now=when,
                              expected_version=_v(uow, case_id))


def _item(uow, people, case_id, owner, deadline, made) -> int:  # noqa: ANN001
    return rectification.add_rectification(uow, actor=people.gmo, complaint_id=case_id, cause="流程执行不到位",
                                           cause_code="process.execution", description="培训", deadline=deadline,
                                           owner_id=getattr(people, owner).id, now=made)


def build_month(uow, people) -> dict[str, int]:  # noqa: ANN001
    ids = {}
    c = ids["C"] = _start(uow, people, at(10, 28, 9), at(10, 28, 10), ["operations"])
    handling.record_initial_plan(uow, actor=people.opshandler, complaint_id=c, plan="核实", now=at(10, 28, 14),
                                 expected_version=_v(uow, c))
    handling.submit_report(uow, actor=people.opshandler, complaint_id=c, report=REPORT, now=at(11, 3, 16),
                           expected_version=_v(uow, c))

    a = ids["A"] = _start(uow, people, at(11, 3, 9), at(11, 3, 10), ["operations"])
    handling.record_initial_plan(uow, actor=people.opshandler, complaint_id=a, plan="核实", now=at(11, 3, 14),
                                 expected_version=_v(uow, a))
    handling.submit_report(uow, actor=people.opshandler, complaint_id=a, report=REPORT, now=at(11, 4, 10),
                           expected_version=_v(uow, a))
    handling.report_to_gm(uow, actor=people.opshandler, complaint_id=a, report="呈报", now=at(11, 4, 11),
                          expected_version=_v(uow, a))
    _decide_and_close(uow, people, a, instructed=at(11, 4, 12), consolidate=at(11, 4, 14), approve=at(11, 5, 10),
                      negotiate=at(11, 6, 10), review=at(11, 6, 11), close=at(11, 6, 15), sign=at(11, 7, 10),
                      responsible="operations")
    _follow_up(uow, people, a, 5, at(11, 10, 10))

    b = ids["B"] = _start(uow, people, at(11, 5, 9), at(11, 6, 10), ["operations", "technical"])
    handling.record_initial_plan(uow, actor=people.opshandler, complaint_id=b, plan="核实", now=at(11, 6, 15),
                                 expected_version=_v(uow, b))
    handling.submit_report(uow, actor=people.opshandler, complaint_id=b, report=REPORT, now=at(11, 10, 10),
                           expected_version=_v(uow, b))
    handling.submit_report(uow, actor=people.techhandler, complaint_id=b, report=REPORT, now=at(11, 19, 10),
                           expected_version=_v(uow, b))
    handling.report_to_gm(uow, actor=people.techhandler, complaint_id=b, report="呈报", now=at(11, 19, 11),
                          expected_version=_v(uow, b))
    _decide_and_close(uow, people, b, technical=at(11, 19, 12), instructed=at(11, 19, 13),
                      consolidate=at(11, 19, 14), approve=at(11, 20, 10), negotiate=at(11, 21, 10),
                      review=at(11, 21, 11), close=at(11, 21, 15), sign=at(11, 24, 10), responsible="technical")
    _follow_up(uow, people, b, 2, at(11, 25, 10))

    r1 = _item(uow, people, a, "opshandler", date(2025, 11, 20), at(11, 10, 11))
    r2 = _item(uow, people, b, "opshandler", date(2025, 11, 28), at(11, 24, 11))
    _item(uow, people, b, "techhandler", date(2025, 11, 27), at(11, 24, 11))
    _item(uow, people, a, "techhandler", date(2025, 12, 5), at(11, 24, 12))
    rectification.complete_rectification(uow, actor=people.opshandler, rectification_id=r1, evidence="培训记录",
                                         now=at(11, 18, 10))
    rectification.complete_rectification(uow, actor=people.opshandler, rectification_id=r2, evidence="培训记录",
                                         now=at(11, 29, 10))
    return ids


@pytest.fixture(scope="module", params=BACKENDS)
def month_db(request, tmp_path_factory):
    """The fixture month built once per backend; the figure tests only read it."""
    with module_database(request, tmp_path_factory, lambda unit: build_month(unit, People(unit))) as unit:
        yield unit


@pytest.fixture
def uow_people(month_db):
    return month_db, People(month_db)


def by_name(result: appraisal.Appraisal) -> dict[str, appraisal.PersonFigures]:
    return {p.username: p for p in result.people}


def clock_table(person: appraisal.PersonFigures) -> dict[str, tuple[int, int, int]]:
    return {c.clock: (c.stopped, c.on_time, c.total_s) for c in person.clocks}


# (handled, closed, surveys, overall score sum, satisfied, rectifications owned, done, done on time) in November
EXPECTED = {
    "clerk": (2, 2, 2, 7, 1, 0, 0, 0),          # registered and negotiated A and B (C registered in October)
    "gmo": (2, 2, 2, 7, 1, 0, 0, 0),            # accepted, consolidated, closed A and B; opened the items (after-care)
    "opshandler": (3, 2, 2, 7, 1, 2, 2, 1),     # A, B and C's November report; C is open; R2 done a day late
    "techhandler": (1, 1, 1, 2, 0, 1, 0, 0),    # B only; R3 open, R4 due in December
    "techlead": (1, 1, 1, 2, 0, 0, 0, 0),
    "genmgr": (2, 2, 2, 7, 1, 0, 0, 0),
    "approver": (2, 2, 2, 7, 1, 0, 0, 0),
    "lead": (2, 2, 2, 7, 1, 0, 0, 0),
    "boss": (0, 0, 0, 0, 0, 0, 0, 0), "lead2": (0, 0, 0, 0, 0, 0, 0, 0), "vicegm": (0, 0, 0, 0, 0, 0, 0, 0),
    "opslead": (0, 0, 0, 0, 0, 0, 0, 0),
}
# per person and clock: (stopped, on time, seconds from start to stop in all)
CLOCKS = {
    "clerk": {"regulatory": (2, 1, (3 * 24 + 1) * H + (16 * 24 + 1) * H)},
    "gmo": {"acknowledge": (2, 1, 1 * H + 25 * H), "consolidation": (2, 2, 4 * H + 4 * H)},
    "opshandler": {"initial_plan": (2, 2, 5 * H + 30 * H), "investigation": (2, 2, 24 * H + (6 * 24 + 6) * H),
                   "investigation_report": (1, 1, 1 * H)},
    "techhandler": {"investigation": (1, 0, 13 * 24 * H), "investigation_report": (1, 1, 1 * H)},
    "approver": {"closure": (2, 1, 4 * 24 * H + 18 * 24 * H)},
}


def test_every_persons_figures_of_the_month_as_computed_by_hand(uow_people):
    uow, people = uow_people
    result = appraisal.person_figures(uow, actor=people.boss, period=NOV)
    found = by_name(result)
    assert set(found) == set(EXPECTED)                   # the active staff; the administrator and trainer are not
    for username, (handled, closed, surveys, score, happy, owned, done, on_time) in EXPECTED.items():
        p = found[username]
        assert (p.handled, p.closed, p.surveys, p.score_sum, p.satisfied, p.rect_owned, p.rect_done,
                p.rect_on_time) == (handled, closed, surveys, score, happy, owned, done, on_time), username
        assert clock_table(p) == CLOCKS.get(username, {}), username
    assert result.satisfied_min_score == 4


def test_the_rates_and_average_times_follow_from_the_counts(uow_people):
    uow, people = uow_people
    found = by_name(appraisal.person_figures(uow, actor=people.boss, period=NOV))
    gmo, ops, tech, clerk = found["gmo"], found["opshandler"], found["techhandler"], found["clerk"]
    assert (gmo.clocks_stopped, gmo.clocks_on_time, gmo.on_time_rate) == (4, 3, 0.75)
    assert gmo.avg_hours == pytest.approx(8.5)                # (1 + 25 + 4 + 4) h / 4
    assert (ops.clocks_stopped, ops.on_time_rate, ops.avg_hours) == (5, 1.0, pytest.approx(42.0))
    assert (tech.on_time_rate, tech.avg_hours) == (0.5, pytest.approx(156.5))   # (312 + 1) h / 2
    assert clerk.avg_hours == pytest.approx(229.0)            # (73 + 385) h / 2
    assert {c.clock: (c.late, c.on_time_rate, c.avg_hours) for c in gmo.clocks} == {
        "acknowledge": (1, 0.5, pytest.approx(13.0)), "consolidation": (0, 1.0, pytest.approx(4.0))}
    assert (clerk.average_score, clerk.satisfaction_rate) == (3.5, 0.5)
    assert (tech.average_score, tech.satisfaction_rate) == (2.0, 0.0)
    assert (ops.rect_rate, tech.rect_rate) == (1.0, 0.0)
    boss = found["boss"]
    assert (boss.on_time_rate, boss.avg_hours, boss.average_score, boss.satisfaction_rate, boss.rect_rate) == (
        None, None, None, None, None)


def test_the_people_are_in_department_order_then_by_name(uow_people):
    uow, people = uow_people
    names = [p.username for p in appraisal.person_figures(uow, actor=people.gmo, period=NOV).people]
    # 市场部, 总经理室, 运营部, 技术部 (the departments' order), names in code-point order within each
    assert names == ["lead", "lead2", "clerk", "vicegm", "gmo", "genmgr", "boss", "approver", "opshandler",
                     "opslead", "techlead", "techhandler"]


def test_a_date_range_counts_what_falls_inside_it(uow_people):
    uow, people = uow_people
    october_end = by_name(appraisal.person_figures(uow, actor=people.boss, period=Period(date(2025, 10, 28),
                                                                                          date(2025, 10, 31))))
    assert (october_end["clerk"].handled, october_end["gmo"].handled, october_end["opshandler"].handled) == (1, 1, 1)
    assert clock_table(october_end["gmo"]) == {"acknowledge": (1, 1, 1 * H)}
    assert clock_table(october_end["opshandler"]) == {"initial_plan": (1, 1, 5 * H)}
    assert october_end["opshandler"].closed == 0 and october_end["clerk"].surveys == 0
    longer = by_name(appraisal.person_figures(uow, actor=people.boss, period=Period(date(2025, 11, 1),
                                                                                    date(2025, 12, 5))))
    assert (longer["techhandler"].rect_owned, longer["techhandler"].rect_done) == (2, 0)      # R4 too
    one_day = by_name(appraisal.person_figures(uow, actor=people.boss, period=Period(date(2025, 11, 19),
                                                                                      date(2025, 11, 19))))
    assert clock_table(one_day["techhandler"]) == {"investigation": (1, 0, 13 * 24 * H),
                                                   "investigation_report": (1, 1, 1 * H)}
    assert (one_day["techhandler"].handled, one_day["techhandler"].closed, one_day["gmo"].handled) == (1, 0, 1)


def test_after_care_is_not_handling(uow_people):
    """The follow-ups the clerk recorded and the items the GM office opened do not make cases handled."""
    uow, people = uow_people
    late_november = by_name(appraisal.person_figures(uow, actor=people.boss, period=Period(date(2025, 11, 24),
                                                                                            date(2025, 11, 30))))
    assert late_november["clerk"].handled == 0 and late_november["gmo"].handled == 0
    assert late_november["opshandler"].handled == 0
    assert late_november["approver"].handled == 1               # B signed on 11-24
    assert late_november["clerk"].surveys == 1                  # B's follow-up on 11-25: the clerk handled B
    with uow.read() as session:
        actions = set(session.scalars(select(Event.action).where(Event.at >= datetime(2025, 11, 24, 10, 30))))
    assert {"record_follow_up", "add_rectification", "update_rectification"} <= actions


def test_staff_see_their_own_figures_and_managers_and_the_gm_office_everyones(uow_people):
    uow, people = uow_people
    own = appraisal.person_figures(uow, actor=people.opshandler, period=NOV)
    assert [p.username for p in own.people] == ["opshandler"]
    assert own.people[0].handled == 3
    assert [p.username for p in appraisal.person_figures(uow, actor=people.clerk, period=NOV,
                                                         person_id=people.clerk.id).people] == ["clerk"]
    with pytest.raises(PermissionDenied) as refused:
        appraisal.person_figures(uow, actor=people.clerk, period=NOV, person_id=people.opshandler.id)
    assert refused.value.message.key == "appraisal.others_refused"
    for reader in ("boss", "gmo"):
        one = appraisal.person_figures(uow, actor=getattr(people, reader), period=NOV, person_id=people.techhandler.id)
        assert [p.username for p in one.people] == ["techhandler"]
    for outsider in ("admin", "trainer"):
        with pytest.raises(PermissionDenied):
            appraisal.person_figures(uow, actor=getattr(people, outsider), period=NOV)
    with pytest.raises(ValidationFailed) as unknown:
        appraisal.person_figures(uow, actor=people.boss, period=NOV, person_id=999_999)
    assert unknown.value.errors["person"].key == "form.unknown_choice"


def test_a_period_ending_before_it_starts_is_refused(uow_people):
    uow, people = uow_people
    with pytest.raises(ValidationFailed) as refused:
        appraisal.person_figures(uow, actor=people.boss, period=Period(date(2025, 11, 30), date(2025, 11, 1)))
    assert refused.value.errors["period"].key == "appraisal.bad_period"
    with pytest.raises(ValidationFailed) as refused:
        appraisal.person_figures(uow, actor=people.boss, period=Period(date(2010, 1, 1), date(2025, 11, 1)))
    assert refused.value.errors["period"].key == "appraisal.long_period"


def test_an_inactive_person_with_figures_stays_listed_and_one_without_does_not(database_url):
    from portal.persistence.database import UnitOfWork, make_engine
    from portal.services import users
    uow = UnitOfWork(make_engine(database_url))
    try:
        people = People(uow)
        case_id = _start(uow, people, at(11, 3, 9), at(11, 3, 10), ["operations"])
        assert case_id
        for username in ("gmo", "lead2"):
            users.set_user_active(uow, actor=people.admin, username=username, active=False, now=at(11, 30, 9))
        names = [p.username for p in appraisal.person_figures(uow, actor=people.boss, period=NOV).people]
        assert "gmo" in names and "lead2" not in names
    finally:
        uow.engine.dispose()


def _csv_sections(data: bytes) -> list[list[list[str]]]:
    text = data.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    sections, current = [], None
    for row in rows[1:]:
        if not row:
            current = []
            sections.append(current)
        else:
            current.append(row)
    return sections


def _sheet_rows(sheet, columns) -> tuple[list[str], list[list]]:  # noqa: ANN001
    values = [list(r) for r in sheet.iter_rows(min_row=3, values_only=True)]
    return values[0], [[appraisal.shown(c, v) for c, v in zip(columns, row)] for row in values[1:]]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_workbook_and_the_csv_hold_the_tables_rows_and_each_export_is_audited(uow_people, lang):
    uow, people = uow_people
    table = appraisal.tables(appraisal.person_figures(uow, actor=people.boss, period=NOV), lang)
    shown_people = appraisal.shown_rows(table.people, appraisal.PEOPLE_COLUMNS)
    shown_clocks = appraisal.shown_rows(table.clocks, appraisal.CLOCK_COLUMNS)
    assert len(shown_people) == len(EXPECTED) and len(shown_clocks) == sum(len(c) for c in CLOCKS.values())
    moment = READ_AT + timedelta(minutes=1 if lang == "zh" else 2)
    book = load_workbook(io.BytesIO(appraisal.appraisal_workbook(uow, actor=people.boss, period=NOV, now=moment,
                                                                 lang=lang)))
    first, second = book.worksheets
    assert _sheet_rows(first, appraisal.PEOPLE_COLUMNS) == (table.people_headers, shown_people)
    assert _sheet_rows(second, appraisal.CLOCK_COLUMNS) == (table.clock_headers, shown_clocks)
    assert first["A2"].value == translate("appraisal.sheet_meta", lang, period="2025-11",
                                                     at=f"{moment:%Y-%m-%d %H:%M}")
    people_csv, clocks_csv = _csv_sections(appraisal.appraisal_csv(uow, actor=people.boss, period=NOV, now=moment,
                                                                  lang=lang))
    as_text = lambda rows: [[str(v) for v in row] for row in rows]  # noqa: E731
    assert people_csv[1:] == [table.people_headers, *as_text(shown_people)]
    assert clocks_csv[1:] == [table.clock_headers, *as_text(shown_clocks)]
    gmo_row = next(r for r in as_text(shown_people) if r[0] == "总经理室丙")
    assert gmo_row[2:9] == ["2", "2", "4", "3", "75.0%", "8.5", "2"]
    with uow.read() as session:
        audited = session.execute(select(Event.actor_id, Event.changes).where(Event.action == "appraisal.export",
                                                                            Event.at == moment)).all()
    assert sorted(c["format"] for _, c in audited) == ["csv", "xlsx"]
    assert {a for a, _ in audited} == {people.boss.id}
    assert all(c["period"] == "2025-11" and c["rows"] == len(EXPECTED) for _, c in audited)


def test_a_clerks_export_holds_only_their_own_row_and_another_persons_is_refused(uow_people):
    uow, people = uow_people
    moment = READ_AT + timedelta(minutes=5)
    sections = _csv_sections(appraisal.appraisal_csv(uow, actor=people.clerk, period=NOV, now=moment, lang="zh"))
    assert [row[0] for row in sections[0][2:]] == ["受理员甲"]
    assert [row[0] for row in sections[1][2:]] == ["受理员甲"]           # 监管时限 (two stopped)
    with pytest.raises(PermissionDenied):
        appraisal.appraisal_workbook(uow, actor=people.clerk, period=NOV, now=moment, lang="zh",
                                     person_id=people.gmo.id)
    with uow.read() as session:
        assert [c["format"] for c in session.scalars(select(Event.changes).where(
            Event.action == "appraisal.export", Event.at == moment))] == ["csv"]     # the refused one left none


def test_every_query_on_events_clocks_cases_and_follow_ups_reads_an_index(sqlite_url):
    """EXPLAIN QUERY PLAN on SQLite: the person's acts of a period are an index range per person, the closed
    cases and the follow-ups the period's ranges; no table of cases, events, clocks or visits is scanned."""
    from sqlalchemy import event as sa_event
    from sqlalchemy.engine import Engine
    from portal.persistence.database import UnitOfWork, make_engine
    uow = UnitOfWork(make_engine(sqlite_url))
    seen: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        seen.append((statement, parameters))
    sa_event.listen(Engine, "before_cursor_execute", record)
    try:
        appraisal.person_figures(uow, actor=People(uow).boss, period=NOV)
    finally:
        sa_event.remove(Engine, "before_cursor_execute", record)
    big = ("events", "case_clocks", "complaints", "follow_ups")
    plans = {}
    with uow.engine.connect() as connection:
        for statement, parameters in seen:
            if any(f" {table}" in statement for table in big):
                plans[statement] = [row[-1] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement,
                                                                                  parameters)]
    uow.engine.dispose()
    assert len(plans) == 4
    steps = [step for plan in plans.values() for step in plan]
    assert not [s for s in steps if s.startswith("SCAN ") and s.split()[1] in big], plans
    assert "SEARCH events USING COVERING INDEX ix_events_actor_at (actor_id=? AND at>? AND at<?)" in steps


# -- the statistics page's fixture month (tests/services/test_statistics.py), per person --

@pytest.fixture(scope="module", params=BACKENDS)
def statistics_month(request, tmp_path_factory):
    from tests.services.test_statistics import build_november
    with module_database(request, tmp_path_factory, lambda unit: build_november(unit, People(unit))) as unit:
        yield unit


def test_the_statistics_fixture_month_per_person(statistics_month):
    """Computed by hand from that month: E's negotiation, review, closure and 核决 fall in November (its earlier
    steps in October; it counts as closed for everyone who ever handled it); C is only registered; D's hold stops
    no clock of the GM office (a hold is not the act setting a milestone). Where two people act at one instant
    (the closure and its 核决), each clock goes to the act that sets its stop: 综合意见 to the GM office, 结案 to
    the approver. Follow-ups E 4, A 5, B 2 (overall). Items: 技术部's B item done 11-24 by its 11-25 deadline;
    运营部's A item done 11-12 (deadline 11-15) and B item open (11-28); A's follow-on item is due in December."""
    uow, people = statistics_month, People(statistics_month)
    found = by_name(appraisal.person_figures(uow, actor=people.boss, period=NOV))
    figures = {u: (p.handled, p.closed, p.surveys, p.score_sum, p.satisfied, p.rect_owned, p.rect_done,
                   p.rect_on_time) for u, p in found.items()}
    assert figures == {
        "clerk": (5, 3, 3, 11, 2, 0, 0, 0), "gmo": (4, 3, 3, 11, 2, 0, 0, 0), "opshandler": (3, 3, 3, 11, 2, 2, 1, 1),
        "techhandler": (1, 1, 1, 2, 0, 1, 1, 1), "techlead": (1, 1, 1, 2, 0, 0, 0, 0),
        "genmgr": (2, 3, 3, 11, 2, 0, 0, 0), "approver": (3, 3, 3, 11, 2, 0, 0, 0), "lead": (3, 3, 3, 11, 2, 0, 0, 0),
        "boss": (0,) * 8, "lead2": (0,) * 8, "vicegm": (0,) * 8, "opslead": (0,) * 8}
    assert {u: clock_table(p) for u, p in found.items() if p.clocks} == {
        "clerk": {"regulatory": (3, 3, (6 * 24 + 1) * H + (3 * 24 + 1) * H + (15 * 24 + 1) * H)},
        "gmo": {"acknowledge": (3, 3, 1 * H + 2 * H + 1 * H), "consolidation": (3, 2, 23 * H + 23 * H + 47 * H)},
        "approver": {"closure": (3, 2, 7 * 24 * H + 4 * 24 * H + (16 * 24 + 23) * H)},
        "opshandler": {"initial_plan": (3, 3, 5 * H + 6 * H + 6 * H), "investigation": (1, 1, 24 * H),
                       "investigation_report": (1, 1, 0)},
        "techhandler": {"investigation": (1, 0, (9 * 24 + 23) * H), "investigation_report": (1, 1, 0)}}
