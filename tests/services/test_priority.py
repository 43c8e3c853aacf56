"""Queue order in SQL (issue 15 §4), on SQLite and PostgreSQL: 重大 first, then urgency, then the
nearest running due time (overdue first); the stored place of each case kept with its clocks; the
ordered page read through the queue index."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, text

from portal.domain import priority as rules_of_priority
from portal.domain.lifecycle import OPEN_STATES, State
from portal.persistence.models import CaseClock, Complaint
from portal.services import complaints, handling, priority, queries, rules
from portal.services.queries import current_version
from tests.conftest import T0
from tests.helpers import a_form

NOW = T0 + timedelta(days=3)


def register(uow, people, received, serial: int, **overrides):  # noqa: ANN001, ANN201
    return complaints.register_complaint(uow, actor=people.clerk, attachments=[], now=max(received, T0 - timedelta(days=5)),
                                         form=a_form(received_at=received, customer_phone=f"1390000{serial:04d}",
                                                     policy_number=f"P-ORDER-{serial}", **overrides)).id


def accept(uow, people, case_id, at, departments=("operations",)) -> None:  # noqa: ANN001
    complaints.accept_complaint(uow, actor=people.gmo, complaint_id=case_id, category="claim", severity="general",
                                departments=list(departments), now=at)


def stored(uow) -> dict[int, dict]:  # noqa: ANN001
    with uow.read() as session:
        cases = {row.id: dict(row._mapping) for row in session.execute(
            select(Complaint.id, Complaint.state, Complaint.severity, Complaint.urgency, Complaint.next_due_at,
                   Complaint.queue_rank, Complaint.next_soon_at, Complaint.held_clock))}
        for complaint_id, due, soon, stopped, held in session.execute(
                select(CaseClock.complaint_id, CaseClock.due_at, CaseClock.soon_at, CaseClock.stopped_at,
                       CaseClock.held_since)):
            cases[complaint_id].setdefault("clocks", []).append((due, stopped, held))
            cases[complaint_id].setdefault("soon", []).append((soon, stopped, held))
    return cases


def assert_places_agree_with_the_rule(uow) -> None:  # noqa: ANN001
    """Every case's stored place is what the domain rule makes of its stored clocks."""
    for case in stored(uow).values():
        due = rules_of_priority.next_due(case.get("clocks", []))
        assert case["next_due_at"] == due, case
        assert case["next_soon_at"] == rules_of_priority.next_soon(case.get("soon", [])), case
        assert case["held_clock"] == rules_of_priority.any_held((s, h) for _, s, h in case.get("clocks", [])), case
        assert case["queue_rank"] == rules_of_priority.queue_rank(
            open_=State(case["state"]) in OPEN_STATES, severity=case["severity"], urgency=case["urgency"],
            has_due=due is not None), case


def test_an_urgent_or_major_case_registered_last_is_first_and_overdue_comes_before_due_later(uow, people):
    cal = rules.load_calendar(uow)
    due_later = [register(uow, people, T0 - timedelta(hours=n), n) for n in range(1, 9)]    # 24 h clocks not yet due
    overdue = register(uow, people, T0 - timedelta(days=4), 20)                             # acknowledge clock overdue
    urgent = register(uow, people, T0, 21, urgency="urgent")
    major = register(uow, people, T0, 22, flag_deaths=True)                                 # 重大 by its flag
    queue = queries.acceptance_queue(uow, actor=people.gmo, now=T0, calendar=cal)
    assert list(queue.frame["id"]) == [major, urgent, overdue, *sorted(due_later, reverse=True)]
    assert queue.order == "priority"
    page_two = queries.acceptance_queue(uow, actor=people.gmo, now=T0, calendar=cal, page=2, page_size=4)
    assert list(page_two.frame["id"]) == sorted(due_later, reverse=True)[1:5]      # paged in the same order
    assert_places_agree_with_the_rule(uow)


def test_queues_after_acceptance_follow_the_running_clocks(uow, people):
    cal = rules.load_calendar(uow)
    late = register(uow, people, T0 - timedelta(days=4), 1)
    fresh = register(uow, people, T0 - timedelta(hours=2), 2)
    very_urgent = register(uow, people, T0 - timedelta(hours=1), 3, urgency="very_urgent")
    for case_id in (fresh, late, very_urgent):
        accept(uow, people, case_id, T0)
    investigating = queries.work_queue(uow, actor=people.gmo, state=State.INVESTIGATING, now=NOW, calendar=cal)
    assert list(investigating.frame["id"]) == [very_urgent, late, fresh]
    department = queries.department_queue(uow, actor=people.opshandler, now=NOW, calendar=cal)
    assert list(department.frame["id"]) == [very_urgent, late, fresh]
    # a hold stops the clocks that wait for the customer: the case's next due time moves to a running one
    handling.hold(uow, actor=people.gmo, complaint_id=late, reason="等待客户补充材料", now=T0 + timedelta(hours=1),
                  expected_version=current_version(uow, late))
    assert_places_agree_with_the_rule(uow)


def test_a_clerks_open_cases_are_in_queue_order_and_all_of_them_newest_first(uow, people):
    cal = rules.load_calendar(uow)
    urgent = register(uow, people, T0 - timedelta(hours=3), 1, urgency="urgent")
    ordinary = register(uow, people, T0 - timedelta(hours=2), 2)
    accept(uow, people, urgent, T0)
    open_only = queries.my_complaints(uow, actor=people.clerk, now=T0, calendar=cal)
    assert list(open_only.frame["id"]) == [urgent, ordinary] and open_only.order == "priority"
    everything = queries.my_complaints(uow, actor=people.clerk, now=T0, calendar=cal, open_only=False)
    assert list(everything.frame["id"]) == [ordinary, urgent] and everything.order == "newest"
    assert queries.my_complaints(uow, actor=people.lead, now=T0, calendar=cal).total == 0


def test_the_bulk_refill_gives_what_the_clock_hook_wrote(uow, people):
    for n in range(4):
        case_id = register(uow, people, T0 - timedelta(days=n, hours=1), n, urgency=("normal", "urgent")[n % 2])
        if n % 2:
            accept(uow, people, case_id, T0)
        if n == 3:      # a hold: some clocks held, the case's due time from the ones still running
            handling.hold(uow, actor=people.gmo, complaint_id=case_id, reason="等待客户补充材料",
                          now=T0 + timedelta(hours=1), expected_version=current_version(uow, case_id))
    place = ("next_due_at", "queue_rank", "next_soon_at", "held_clock")
    before = {i: tuple(c[k] for k in place) for i, c in stored(uow).items()}
    assert sum(held for *_, held in before.values()) == 1 and len({due for due, *_ in before.values()}) > 2
    with uow.engine.begin() as connection:
        connection.execute(Complaint.__table__.update().values(next_due_at=None, queue_rank=0, next_soon_at=None,
                                                               held_clock=False))
        priority.refill(connection)
    assert {i: tuple(c[k] for k in place) for i, c in stored(uow).items()} == before


def _plan(uow, statement) -> str:  # noqa: ANN001
    compiled = str(statement.compile(dialect=uow.engine.dialect, compile_kwargs={"literal_binds": True}))
    with uow.engine.connect() as connection:
        if uow.dialect == "sqlite":
            return "\n".join(str(row[-1]) for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))
        # Tiny test tables make a sequential scan and a sort cheapest; forbid them to see whether the
        # index can give the rows in the queue's order by itself.
        connection.exec_driver_sql("SET enable_seqscan = off")
        connection.exec_driver_sql("SET enable_sort = off")
        return "\n".join(row[0] for row in connection.execute(text(f"EXPLAIN {compiled}")))


def test_a_queue_page_is_read_in_order_from_the_queue_index(uow, people):
    for n in range(3):
        register(uow, people, T0 - timedelta(hours=n + 1), n)
    page = queries.queue_ids_statement([Complaint.state == State.REGISTERED.value]).limit(50)
    plan = _plan(uow, page)
    assert "ix_complaints_queue" in plan, plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan           # no sort: the index gives the order
    mine = [Complaint.receiving_clerk_id == people.clerk.id, priority.still_open()]
    plan = _plan(uow, queries.queue_ids_statement(mine).limit(50))
    assert "ix_complaints_clerk_queue" in plan, plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan
    counted = _plan(uow, select(func.count()).select_from(Complaint).where(*mine))     # the open cases, counted
    assert "ix_complaints_clerk_queue" in counted and ("COVERING" in counted or "Index Only" in counted), counted


def test_the_stored_rank_tells_open_from_closed(uow, people):
    case_id = register(uow, people, T0 - timedelta(hours=1), 1)
    with uow.read() as session:
        assert session.scalar(select(func.count()).select_from(Complaint).where(priority.still_open())) == 1
    with uow.write() as session:          # closing writes the case, so its place is rewritten with it
        session.get(Complaint, case_id).state = State.CLOSED.value
    with uow.read() as session:
        assert session.scalar(select(func.count()).select_from(Complaint).where(priority.still_open())) == 0
    assert_places_agree_with_the_rule(uow)


def test_many_cases_rewritten_at_once_keep_their_places(uow, people):
    """The calendar or clock-rule rewrite of every running case (one statement for many rows)."""
    from portal.services import dues
    ids = [register(uow, people, T0 - timedelta(hours=n + 1), n, urgency=("normal", "very_urgent")[n % 2])
           for n in range(6)]
    with uow.engine.begin() as connection:
        connection.execute(Complaint.__table__.update().values(next_due_at=None, queue_rank=0))
    with uow.write() as session:
        dues.refresh_all(session, rules.load_calendar(uow))
    assert_places_agree_with_the_rule(uow)
    ranks = {i: c["queue_rank"] for i, c in stored(uow).items()}
    assert {ranks[i] for i in ids[1::2]} == {6} and {ranks[i] for i in ids[::2]} == {10}   # very urgent, normal
