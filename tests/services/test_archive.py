"""Issue 18: the GM office archives a closed case with its 总结 only when nothing stands before it — each blocker
named — and the remedy agreed with the customer is recorded as carried out (004 §5.1.5)."""
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.domain.closing import ArchiveBlocker as B
from portal.domain.errors import PermissionDenied, TransitionNotAllowed, ValidationFailed
from portal.persistence.models import Complaint, Event, FollowUpAction, Rectification
from portal.services import closing, follow_ups, handling
from portal.services.closing import ArchiveBlocked
from portal.services.queries import current_version
from tests.closing_helpers import quality_checked
from tests.conftest import T0
from tests.services.test_follow_up_loop import HAPPY, UNHAPPY, closed_case, follow_up, state

AT = T0 + timedelta(days=40)


def try_archive(uow, people, case_id, lessons="客户沟通需更及时", cause="people.attitude", at=AT):
    closing.archive(uow, actor=people.gmo, complaint_id=case_id, lessons=lessons, cause_code=cause,
                    expected_version=current_version(uow, case_id), now=at)


def blockers(uow, people, case_id):
    with pytest.raises(ArchiveBlocked) as refused:
        try_archive(uow, people, case_id)
    assert state(uow, case_id) == "closed"
    assert set(refused.value.errors) == {f"blocker.{b.value}" for b in refused.value.blockers}
    assert all(m.key == f"archive.{k}" for k, m in refused.value.errors.items())
    return refused.value.blockers


def pay(uow, people, case_id, **overrides):
    values = dict(paid_on=(T0 + timedelta(days=4)).date(), amount="3000", reference="PAY-2611-001",
                  note="银行转账")
    values.update(overrides)
    closing.record_remedy(uow, actor=people.clerk, complaint_id=case_id, expected_version=current_version(uow, case_id),
                          now=T0 + timedelta(days=5), **values)


def test_the_archive_is_refused_with_each_blocker_until_all_are_done_then_writes_the_summary(uow, people):
    case_id = closed_case(uow, people)
    assert blockers(uow, people, case_id) == [B.NO_FOLLOW_UP, B.REMEDY, B.NO_QUALITY_CHECK]
    follow_up(uow, people, case_id, UNHAPPY, 5)
    assert blockers(uow, people, case_id) == [B.FOLLOW_UP_TASK, B.SCHEDULED_FOLLOW_UP, B.DEPARTMENT_ACTION, B.REMEDY,
                                              B.NO_QUALITY_CHECK]
    handling.resolve_follow_up(uow, actor=people.gmo, complaint_id=case_id, comment="总经理室已致电客户",
                               now=T0 + timedelta(days=6), expected_version=current_version(uow, case_id))
    assert blockers(uow, people, case_id) == [B.SCHEDULED_FOLLOW_UP, B.DEPARTMENT_ACTION, B.REMEDY, B.NO_QUALITY_CHECK]
    follow_up(uow, people, case_id, HAPPY, 35, method="visit")
    assert blockers(uow, people, case_id) == [B.DEPARTMENT_ACTION, B.REMEDY, B.NO_QUALITY_CHECK]
    (action,) = follow_ups.department_follow_ups(uow, actor=people.opshandler)
    follow_ups.act_on_follow_up(uow, actor=people.opshandler, action_id=action.id, action="调整审核排班",
                                now=T0 + timedelta(days=36))
    assert blockers(uow, people, case_id) == [B.REMEDY, B.NO_QUALITY_CHECK]
    pay(uow, people, case_id)
    assert blockers(uow, people, case_id) == [B.NO_QUALITY_CHECK]
    quality_checked(uow, case_id, people.opshandler.id, T0 + timedelta(days=37), passed=False,
                    corrective_deadline=(T0 + timedelta(days=50)).date())
    assert blockers(uow, people, case_id) == [B.CORRECTIVE_OPEN]
    with uow.write() as session:
        item = session.scalars(select(Rectification).where(Rectification.complaint_id == case_id,
                                                           Rectification.kind == "corrective")).one()
        item.status, item.done_at = "done", T0 + timedelta(days=39)
    try_archive(uow, people, case_id)
    with uow.read() as session:
        case = session.get(Complaint, case_id)
        event = session.scalars(select(Event).where(Event.complaint_id == case_id).order_by(Event.id.desc())
                                .limit(1)).one()
    assert case.state == "archived" and case.archived_at == AT and case.summary_at == AT
    assert (case.summary_lessons, case.summary_cause_code, case.summary_by_id) == (
        "客户沟通需更及时", "people.attitude", people.gmo.id)
    assert case.summary_rectification is False          # a corrective action is not a rectification item
    assert (event.action, event.from_state, event.to_state) == ("archive", "closed", "archived")


def test_the_summary_needs_lessons_and_a_cause_and_says_whether_a_rectification_was_opened(uow, people):
    case_id = closed_case(uow, people)
    follow_up(uow, people, case_id, HAPPY, 5)
    pay(uow, people, case_id)
    quality_checked(uow, case_id, people.opshandler.id, T0 + timedelta(days=6))
    for lessons, cause, field, key in (("  ", "people.attitude", "lessons", "form.required"),
                                       ("教训", None, "summary_cause_code", "form.choose_one"),
                                       ("教训", "people", "summary_cause_code", "cause.invalid")):
        with pytest.raises(ValidationFailed) as refused:
            try_archive(uow, people, case_id, lessons=lessons, cause=cause)
        assert refused.value.errors == {field: refused.value.errors[field]} and refused.value.errors[field].key == key
    assert state(uow, case_id) == "closed"
    with pytest.raises(TransitionNotAllowed):
        closing.archive(uow, actor=people.clerk, complaint_id=case_id, lessons="x", cause_code="people.attitude",
                        expected_version=current_version(uow, case_id), now=AT)
    with uow.write() as session:
        operations = session.get(Complaint, case_id).departments[0].department_id
        session.add(Rectification(complaint_id=case_id, cause="审核积压", description="增派人员",
                                  owner_department_id=operations, deadline=AT.date(), status="open", created_at=AT))
    try_archive(uow, people, case_id)
    with uow.read() as session:
        assert session.get(Complaint, case_id).summary_rectification is True


def test_the_remedy_is_recorded_only_when_agreed_and_with_sound_values(uow, people):
    case_id = closed_case(uow, people)
    for overrides, field, key in (({"amount": "0"}, "remedy_amount", "remedy.amount_positive"),
                                  ({"amount": "-5"}, "remedy_amount", "form.bad_amount"),
                                  ({"amount": ""}, "remedy_amount", "form.required"),
                                  ({"amount": "三千"}, "remedy_amount", "form.bad_amount"),
                                  ({"paid_on": (T0 + timedelta(days=6)).date()}, "remedy_paid_on",
                                   "form.not_in_future"),
                                  ({"paid_on": None}, "remedy_paid_on", "form.required"),
                                  ({"reference": " "}, "remedy_reference", "form.required")):
        with pytest.raises(ValidationFailed) as refused:
            pay(uow, people, case_id, **overrides)
        assert refused.value.errors[field].key == key
    with uow.read() as session:
        case = session.get(Complaint, case_id)
        assert case.remedy_done_at is None and case.remedy_amount is None
    pay(uow, people, case_id, amount="3000.00")
    with uow.read() as session:
        case = session.get(Complaint, case_id)
        assert (case.remedy_amount, case.remedy_reference, case.remedy_paid_on, case.remedy_by_id) == (
            Decimal("3000.00"), "PAY-2611-001", (T0 + timedelta(days=4)).date(), people.clerk.id)
    rejected = closed_case(uow, people, level="none", result="rejected", agreed=None)
    with pytest.raises(TransitionNotAllowed) as refused:
        pay(uow, people, rejected)
    assert refused.value.message.key == "remedy.not_agreed"


def test_the_archive_tab_lists_closed_cases_ready_first_with_their_blockers_and_counts_them(uow, people):
    waiting = closed_case(uow, people)
    ready = closed_case(uow, people, level="none", result="rejected", agreed=None)
    follow_up(uow, people, ready, HAPPY, 5)
    quality_checked(uow, ready, people.opshandler.id, T0 + timedelta(days=6))
    queue = closing.archive_queue(uow, actor=people.gmo)
    assert (queue.total, queue.ready) == (2, 1)
    assert [(r.id, r.blockers) for r in queue.rows] == [
        (ready, []), (waiting, [B.NO_FOLLOW_UP, B.REMEDY, B.NO_QUALITY_CHECK])]
    assert [r.id for r in closing.archive_queue(uow, actor=people.gmo, page=2, page_size=1).rows] == [waiting]
    todo = {t.key: t.count for t in closing.closing_todos(uow, actor=people.gmo, now=AT)}
    assert todo["archive_ready"] == 1
    with pytest.raises(PermissionDenied):
        closing.archive_queue(uow, actor=people.clerk)
    try_archive(uow, people, ready)
    assert closing.archive_queue(uow, actor=people.gmo).total == 1
    view = closing.after_closure(uow, actor=people.gmo, complaint_id=ready)
    assert view.summary["lessons"] == "客户沟通需更及时" and view.follow_ups[0]["method"] == "phone"
    assert closing.after_closure(uow, actor=people.gmo, complaint_id=waiting).blockers == [
        B.NO_FOLLOW_UP, B.REMEDY, B.NO_QUALITY_CHECK]
    with pytest.raises(PermissionDenied):       # a handler reads only cases routed to their department
        closing.after_closure(uow, actor=people.techhandler, complaint_id=waiting)


def test_a_handlers_follow_up_to_do_counts_what_was_sent_to_their_department(uow, people):
    case_id = closed_case(uow, people)
    follow_up(uow, people, case_id, UNHAPPY, 5)
    assert {t.key: t.count for t in closing.closing_todos(uow, actor=people.opshandler, now=AT)} == {
        "follow_up_action": 1}
    assert {t.key: t.count for t in closing.closing_todos(uow, actor=people.techhandler, now=AT)} == {
        "follow_up_action": 0}
    with uow.read() as session:
        assert session.scalar(select(FollowUpAction.department_id)) == people.opshandler.department_id


def test_a_page_past_the_last_shows_the_last_one(uow, people):
    first = closed_case(uow, people)
    second = closed_case(uow, people)
    queue = closing.archive_queue(uow, actor=people.gmo, page=5, page_size=1)
    assert (queue.page, queue.total, queue.ready, [r.id for r in queue.rows]) == (2, 2, 0, [second])
    assert closing.archive_queue(uow, actor=people.gmo, page=1, page_size=1).rows[0].id == first


def stored_blocked(uow, case_id):
    with uow.read() as session:
        return session.get(Complaint, case_id).archive_blocked


def test_the_stored_readiness_follows_every_step_before_the_archive(uow, people):
    """`archive_blocked` flips with the follow-up, the scheduled visit, the department's action, the payment, the
    quality check and its corrective action, each written by its own use case (the teardown check of `uow`
    compares every case with the rule as well)."""
    case_id = closed_case(uow, people)
    assert stored_blocked(uow, case_id)
    follow_up(uow, people, case_id, HAPPY, 5)
    pay(uow, people, case_id)
    assert stored_blocked(uow, case_id)
    quality_checked(uow, case_id, people.opshandler.id, T0 + timedelta(days=7), passed=False,
                    corrective_deadline=(T0 + timedelta(days=50)).date())
    assert stored_blocked(uow, case_id)                         # the corrective action is open
    with uow.write() as session:
        item = session.scalars(select(Rectification).where(Rectification.complaint_id == case_id)).one()
        item.status, item.done_at = "done", T0 + timedelta(days=9)
    assert not stored_blocked(uow, case_id)
    assert closing.archive_queue(uow, actor=people.gmo).ready == 1
    with uow.write() as session:                                # reopened (a row written, not the case)
        session.scalars(select(Rectification).where(Rectification.complaint_id == case_id)).one().status = "open"
    assert stored_blocked(uow, case_id)
    with uow.write() as session:                                # and removed: nothing stands before the archive
        session.delete(session.scalars(select(Rectification).where(Rectification.complaint_id == case_id)).one())
    assert not stored_blocked(uow, case_id)
    try_archive(uow, people, case_id)
    assert stored_blocked(uow, case_id)                         # archived: no longer waiting for it
    assert closing.archive_queue(uow, actor=people.gmo).ready == 0


def test_an_empty_negotiation_result_or_amount_blocks_nothing_as_the_rule_says(uow, people):
    """The SQL form of the rule is NULL-safe: a case without an agreed amount (or result) needs no payment."""
    case_id = closed_case(uow, people, level="none", result="rejected", agreed=None)
    follow_up(uow, people, case_id, HAPPY, 5)
    quality_checked(uow, case_id, people.opshandler.id, T0 + timedelta(days=6))
    for result, amount in ((None, None), ("accepted", None), ("partly", Decimal("0"))):
        with uow.write() as session:
            case = session.get(Complaint, case_id)
            case.negotiation_result, case.negotiated_amount = result, amount
        assert not stored_blocked(uow, case_id), (result, amount)
        assert closing.archive_queue(uow, actor=people.gmo).ready == 1
    with uow.write() as session:
        session.get(Complaint, case_id).negotiated_amount = Decimal("10")
    assert stored_blocked(uow, case_id)                         # partly, 10 yuan: the payment must be recorded


def _migration(name):
    import importlib.util
    from pathlib import Path
    spec = importlib.util.spec_from_file_location(name, Path(__file__).parents[2] / f"db/migrations/versions/{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_migrations_fill_the_flags_as_the_hook_keeps_them(uow, people):
    """0025's and 0026's own statements, run over cases in every position, leave what the hook wrote."""
    from sqlalchemy import text, update
    m25, m26 = _migration("0025_archive_readiness"), _migration("0026_follow_up_and_remedy_flags")
    waiting, ready, archived = (closed_case(uow, people, level="none", result="rejected", agreed=None)
                                for _ in range(3))
    unpaid = closed_case(uow, people)
    for case_id in (ready, archived):
        follow_up(uow, people, case_id, HAPPY, 5)
        quality_checked(uow, case_id, people.opshandler.id, T0 + timedelta(days=6))
    try_archive(uow, people, archived)
    follow_up(uow, people, unpaid, UNHAPPY, 5)          # a second visit scheduled: waiting for a follow-up again
    handling.resolve_follow_up(uow, actor=people.gmo, complaint_id=unpaid, comment="已致电客户",
                               now=T0 + timedelta(days=6), expected_version=current_version(uow, unpaid))
    columns = (Complaint.id, Complaint.archive_blocked, Complaint.follow_up_due, Complaint.remedy_due)
    with uow.read() as session:
        before = {r[0]: tuple(r[1:]) for r in session.execute(select(*columns))}
    assert [before[i] for i in (waiting, ready, archived, unpaid)] == [
        (True, True, False), (False, False, False), (True, False, False), (True, True, True)]
    with uow.write() as session:
        pg = session.get_bind().dialect.name == "postgresql"
        true, false = ("true", "false") if pg else ("1", "0")
        connection = session.connection()
        connection.execute(update(Complaint).values(archive_blocked=True, follow_up_due=False, remedy_due=False))
        connection.execute(text(f"UPDATE complaints SET archive_blocked = {false} "
                                f"WHERE {m25.READY.format(false=false)}"))
        connection.execute(text(f"UPDATE complaints SET follow_up_due = {true} "
                                f"WHERE {m26.FOLLOW_UP_DUE.format(false=false)}"))
        connection.execute(text(f"UPDATE complaints SET remedy_due = {true} WHERE {m26.REMEDY_DUE}"))
    with uow.read() as session:
        assert {r[0]: tuple(r[1:]) for r in session.execute(select(*columns))} == before


def test_the_queues_after_closure_read_their_stored_flags_in_queue_order():
    """待回访 and 补偿落实 are one index range each (the flag, then the queue's order), on SQLite's plan."""
    from sqlalchemy import create_engine, true
    from sqlalchemy.dialects import sqlite
    from portal.persistence.models import Base
    from portal.services import queries
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    for condition, index in ((follow_ups.wants_follow_up(), "ix_complaints_follow_up_due"),
                             (Complaint.remedy_due == true(), "ix_complaints_remedy_due")):
        query = queries.queue_ids_statement([condition], "priority").limit(50)
        sql = str(query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
        with engine.connect() as connection:
            plan = " ".join(str(r[-1]) for r in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
        assert index in plan and "TEMP B-TREE" not in plan, plan


def test_the_archive_tab_reads_the_stored_flag_through_an_index(uow, people):
    from portal.persistence.models import Complaint as C
    from tests.helpers import selects
    closed_case(uow, people)
    with selects(uow.engine) as seen:
        closing.archive_queue(uow, actor=people.gmo)
    assert not any("follow_up_schedules" in s for s in seen[:2])     # counts and page ids: the flag only
    if uow.engine.dialect.name == "sqlite":
        with uow.read() as session:
            plan = " ".join(str(r[-1]) for r in session.execute(text_plan(
                select(C.id).where(C.state == "closed").order_by(C.archive_blocked, C.closed_at, C.id).limit(50))))
        assert "ix_complaints_archive_queue" in plan and "TEMP B-TREE" not in plan, plan


def text_plan(statement):
    from sqlalchemy import text
    from sqlalchemy.dialects import sqlite
    compiled = statement.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
    return text(f"EXPLAIN QUERY PLAN {compiled}")
