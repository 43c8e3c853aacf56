"""运营部's quality check of a closed case (客户投诉质量的检验确认, 002 art.11.2(3); issue 18), on SQLite and
PostgreSQL: the configurable checklist, four eyes, a failed check's corrective action (chased like a
rectification) leaving the closed case as it was, the queue, and the facts the archive step reads."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.domain.errors import PermissionDenied, TransitionNotAllowed, ValidationFailed
from portal.persistence.models import (CaseClock, Complaint, Event, QualityCheck, QualityChecklistItem, Rectification,
                                       Reminder, User)
from portal.services import handling, quality, rectification, reminders
from portal.services.quality import CorrectiveAction
from portal.services.queries import current_version
from tests.conftest import T0
from tests.helpers import final_approve
from tests.services.test_handling import DECISION, to_approval

CHECKED = T0 + timedelta(days=10)
CODES = ("deadlines", "investigation", "decision", "customer_told", "records")


def closed_case(uow, people) -> int:
    """A case closed on 2025-10-03 16:00: 运营丁 wrote its report, 受理员甲 negotiated, 总经理室丙 consolidated
    and closed it."""
    case_id, _ = to_approval(uow, people)
    handling.approve(uow, actor=people.approver, complaint_id=case_id, instructions="按3000元赔付", amount_limit="3000",
                     now=T0 + timedelta(days=2), expected_version=current_version(uow, case_id))
    handling.record_negotiation(uow, decision=DECISION, actor=people.clerk, complaint_id=case_id, result="accepted",
                                note="客户接受", agreed_amount="3000", now=T0 + timedelta(days=3),
                                expected_version=current_version(uow, case_id))
    handling.review_negotiation(uow, actor=people.lead, complaint_id=case_id, approve=True, comment="",
                                now=T0 + timedelta(days=3, hours=1), expected_version=current_version(uow, case_id))
    handling.close_case(uow, actor=people.gmo, complaint_id=case_id, final_opinion="结案", cause_code="process.execution",
                        responsible_department="operations", responsibility_level="general", penalty_persons="张某",
                        now=T0 + timedelta(days=3, hours=5), expected_version=current_version(uow, case_id))
    final_approve(uow, people, case_id, T0 + timedelta(days=3, hours=6))
    return case_id


def all_met(**changes) -> dict[str, bool]:
    return {**{code: True for code in CODES}, **changes}


def user_id(uow, username):
    with uow.read() as session:
        return session.scalar(select(User.id).where(User.username == username))


def snapshot(uow, case_id):
    with uow.read() as session:
        case = session.get(Complaint, case_id)
        clocks = sorted((c.clock_key, c.due_at, c.stopped_at, c.late) for c in
                        session.scalars(select(CaseClock).where(CaseClock.complaint_id == case_id)))
        return case.state, case.closed_at, case.closed_late, clocks


def test_a_passed_check_is_recorded_and_leaves_the_queue(uow, people):
    case_id = closed_case(uow, people)
    assert [r.complaint_id for r in quality.waiting_cases(uow, actor=people.opslead)] == [case_id]
    assert quality.count_waiting(uow, actor=people.opslead) == 1
    with uow.read() as session:
        assert quality.quality_facts(session, case_id) == (False, 0)
    check_id = quality.record_quality_check(uow, actor=people.opslead, complaint_id=case_id, answers=all_met(),
                                            note="处理规范", now=CHECKED)
    [view] = quality.case_checks(uow, complaint_id=case_id)
    assert (view.id, view.passed, view.checker, view.note, view.checked_at) == (check_id, True, "运营主管子", "处理规范",
                                                                                CHECKED)
    assert view.answers == all_met()
    assert quality.waiting_cases(uow, actor=people.opslead) == [] and quality.count_waiting(uow, actor=people.opslead) == 0
    with uow.read() as session:
        assert quality.quality_facts(session, case_id) == (True, 0)
    with pytest.raises(TransitionNotAllowed) as refused:                 # a passed check is final
        quality.record_quality_check(uow, actor=people.opslead, complaint_id=case_id, answers=all_met(), note="",
                                     now=CHECKED)
    assert refused.value.message.key == "quality.already_checked"


def test_four_eyes_whoever_wrote_the_report_does_not_check(uow, people):
    case_id = closed_case(uow, people)
    with pytest.raises(TransitionNotAllowed) as refused:
        quality.record_quality_check(uow, actor=people.opshandler, complaint_id=case_id, answers=all_met(), note="",
                                     now=CHECKED)
    assert refused.value.message.key == "quality.own_work"
    assert refused.value.message.params["action"] == "submit_report"
    with uow.read() as session:
        assert session.scalar(select(func.count()).select_from(QualityCheck)) == 0


@pytest.mark.parametrize("who, error", [("techhandler", PermissionDenied), ("gmo", TransitionNotAllowed),
                                        ("clerk", TransitionNotAllowed)])
def test_only_operations_handlers_check(uow, people, who, error):
    case_id = closed_case(uow, people)
    with pytest.raises(error):
        quality.record_quality_check(uow, actor=getattr(people, who), complaint_id=case_id, answers=all_met(),
                                     note="", now=CHECKED)
    with pytest.raises(PermissionDenied):
        quality.waiting_cases(uow, actor=people.techhandler)


def test_an_open_case_is_not_checked(uow, people):
    case_id, _ = to_approval(uow, people)
    with pytest.raises(TransitionNotAllowed):
        quality.record_quality_check(uow, actor=people.opslead, complaint_id=case_id, answers=all_met(), note="",
                                     now=CHECKED)


@pytest.mark.parametrize("answers", [{"deadlines": True}, {**all_met(), "unknown": True}, {**all_met(), "records": None},
                                     "yes"])
def test_every_active_item_must_be_answered_and_nothing_is_saved_otherwise(uow, people, answers):
    case_id = closed_case(uow, people)
    with pytest.raises(ValidationFailed) as refused:
        quality.record_quality_check(uow, actor=people.opslead, complaint_id=case_id, answers=answers, note="",
                                     now=CHECKED)
    assert "answers" in refused.value.errors
    with uow.read() as session:
        assert session.scalar(select(func.count()).select_from(QualityCheck)) == 0


def test_the_checklist_is_read_from_its_table(uow, people):
    case_id = closed_case(uow, people)
    with uow.write() as session:
        session.get(QualityChecklistItem, "records").active = False
        session.add(QualityChecklistItem(code="privacy", text_zh="客户信息已妥善保护", text_en="Customer data protected",
                                         active=True, sort=-1))
    assert [i.code for i in quality.checklist(uow)] == ["privacy", "deadlines", "investigation", "decision",
                                                        "customer_told"]
    answers = {c: True for c in ("privacy", "deadlines", "investigation", "decision", "customer_told")}
    quality.record_quality_check(uow, actor=people.opslead, complaint_id=case_id, answers=answers, note="", now=CHECKED)
    assert quality.case_checks(uow, complaint_id=case_id)[0].answers == answers


def test_a_failed_check_needs_a_corrective_action(uow, people):
    case_id = closed_case(uow, people)
    failed = all_met(records=False)
    with pytest.raises(ValidationFailed) as refused:
        quality.record_quality_check(uow, actor=people.opslead, complaint_id=case_id, answers=failed, note="记录不全",
                                     now=CHECKED)
    assert refused.value.errors["corrective"].key == "quality.corrective_required"
    with pytest.raises(ValidationFailed) as refused:
        quality.record_quality_check(uow, actor=people.opslead, complaint_id=case_id, answers=failed, note="记录不全",
                                     now=CHECKED, corrective=CorrectiveAction("", user_id(uow, "clerk"),
                                                                              date(2025, 9, 1)))
    assert {f: m.key for f, m in refused.value.errors.items()} == {
        "corrective_description": "form.required", "corrective_owner": "rectification.bad_owner",
        "corrective_deadline": "rectification.past_deadline"}
    with uow.read() as session:
        assert session.scalar(select(func.count()).select_from(QualityCheck)) == 0
        assert session.scalar(select(func.count()).select_from(Rectification)) == 0


def test_a_failed_check_records_a_corrective_action_and_leaves_the_closed_case_alone(uow, people):
    case_id = closed_case(uow, people)
    before = snapshot(uow, case_id)
    version = current_version(uow, case_id)
    check_id = quality.record_quality_check(
        uow, actor=people.opslead, complaint_id=case_id, answers=all_met(records=False), note="通话录音未归档",
        now=CHECKED, corrective=CorrectiveAction("补齐录音并归档", user_id(uow, "opshandler"), date(2025, 10, 15)))
    assert snapshot(uow, case_id) == before and before[0] == "closed"
    assert current_version(uow, case_id) == version
    with uow.read() as session:
        check = session.get(QualityCheck, check_id)
        item = session.scalars(select(Rectification).where(Rectification.complaint_id == case_id)).one()
        assert check.passed is False and check.answers["records"] is False
        assert (item.kind, item.quality_check_id, item.owner_id, item.deadline, item.description, item.status) == (
            "corrective", check_id, user_id(uow, "opshandler"), date(2025, 10, 15), "补齐录音并归档", "open")
        assert quality.quality_facts(session, case_id) == (True, 1)
        event = session.scalars(select(Event).where(Event.complaint_id == case_id, Event.action == "quality_check")).one()
        assert (event.from_state, event.to_state, event.changes["passed"]) == ("closed", "closed", False)
    # chased like a rectification: the owner sees it, it gets its 催办单 once overdue
    assert [i.kind for i in rectification.list_items(uow, actor=people.opshandler, which="mine")] == ["corrective"]
    reminders.issue_reminders(uow, now=datetime(2025, 10, 16, 8, 0))
    reminders.issue_reminders(uow, now=datetime(2025, 10, 17, 8, 0))
    with uow.read() as session:
        assert session.scalar(select(func.count()).select_from(Reminder).where(
            Reminder.clock_key == f"rect:{item.id}:1")) == 1
    # a second check waits for the corrective action; once it is done, a re-check may pass
    with pytest.raises(TransitionNotAllowed) as refused:
        quality.record_quality_check(uow, actor=people.opslead, complaint_id=case_id, answers=all_met(), note="",
                                     now=CHECKED + timedelta(days=1))
    assert refused.value.message.key == "quality.corrective_open"
    rectification.complete_rectification(uow, actor=people.opshandler, rectification_id=item.id,
                                         evidence="录音已归档，编号 REC-9", now=datetime(2025, 10, 17, 9, 0))
    with uow.read() as session:
        assert quality.quality_facts(session, case_id) == (True, 0)
    quality.record_quality_check(uow, actor=people.opslead, complaint_id=case_id, answers=all_met(), note="已纠正",
                                 now=datetime(2025, 10, 18, 9, 0))
    assert [c.passed for c in quality.case_checks(uow, complaint_id=case_id)] == [False, True]
    assert snapshot(uow, case_id) == before


def test_the_queue_is_oldest_closure_first_and_paged(uow, people):
    first, second = closed_case(uow, people), closed_case(uow, people)
    with uow.write() as session:                     # the second closed earlier
        session.get(Complaint, second).closed_at = datetime(2025, 10, 1, 9, 0)
    assert [r.complaint_id for r in quality.waiting_cases(uow, actor=people.opslead)] == [second, first]
    assert [r.complaint_id for r in quality.waiting_cases(uow, actor=people.opslead, limit=1, offset=1)] == [first]


def test_the_queue_reads_an_index():
    from sqlalchemy import create_engine
    from portal.persistence.models import Base
    from sqlalchemy.dialects import sqlite
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    query = select(Complaint.id, Complaint.number, Complaint.closed_at).where(*quality._waiting()) \
        .order_by(Complaint.closed_at, Complaint.id).limit(50)
    sql = str(query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
    with engine.connect() as connection:
        plan = " ".join(str(row[-1]) for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
    assert "ix_complaints_state_closed" in plan and "TEMP B-TREE" not in plan, plan


def test_the_queue_count_stops_at_its_cap(uow, people, monkeypatch):
    first, second = closed_case(uow, people), closed_case(uow, people)
    assert quality.count_waiting(uow, actor=people.opslead) == 2
    monkeypatch.setattr(quality, "COUNT_CAP", 1)
    assert quality.count_waiting(uow, actor=people.opslead) == 2          # cap + 1: "more than 1"
    quality.record_quality_check(uow, actor=people.opslead, complaint_id=first, answers=all_met(), note="",
                                 now=CHECKED)
    assert quality.count_waiting(uow, actor=people.opslead) == 1
    assert [r.complaint_id for r in quality.waiting_cases(uow, actor=people.opslead)] == [second]
