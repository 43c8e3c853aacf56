"""Statistics rollups (issue 19): kept exact by the marks each write leaves and the refresh before a read; `stats
verify` finds a rollup that differs from the raw tables, `stats rebuild` rebuilds it. On SQLite and PostgreSQL."""
from __future__ import annotations

import threading
from datetime import date, datetime, timedelta

from sqlalchemy import select, update

from portal.domain.statistics import Period
from portal.persistence.models import Complaint, FollowUp, StatsDirtyDay, StatsRollup, User
from portal.services import complaints, statistics
from tests.helpers import a_form, rollup_mistakes
from tests.services.test_cli import cli

NOV = Period.month(2025, 11)


def register(uow, people, received: datetime, serial: int, **form) -> int:  # noqa: ANN001
    return complaints.register_complaint(uow, actor=people.clerk, attachments=[], now=received + timedelta(minutes=5),
                                         form=a_form(received_at=received, customer_phone=f"1390001{serial:04d}",
                                                     **form)).id


def accept(uow, people, case_id: int, when: datetime, departments=("operations",)) -> None:  # noqa: ANN001
    complaints.accept_complaint(uow, actor=people.gmo, complaint_id=case_id, category="claim", severity="general",
                                departments=list(departments), now=when)


def figures(uow, people, **filters) -> dict:  # noqa: ANN001, ANN003
    return statistics.monthly_table(uow, actor=people.boss, filters=statistics.StatsFilter(NOV, **filters),
                                    now=datetime(2025, 12, 5, 10))


def test_each_write_is_counted_at_the_next_read_and_the_rollup_equals_the_raw_tables(uow, people):
    first = register(uow, people, datetime(2025, 11, 3, 9), 1)
    assert figures(uow, people)["summary"]["received"] == 1
    second = register(uow, people, datetime(2025, 11, 4, 9), 2, channel="wechat")
    accept(uow, people, first, datetime(2025, 11, 3, 10), departments=("operations", "technical"))
    table = figures(uow, people)
    assert (table["summary"]["received"], table["summary"]["accepted"]) == (2, 1)
    assert figures(uow, people, department="technical")["summary"]["received"] == 1
    assert figures(uow, people, channel="wechat")["summary"]["received"] == 1
    with uow.read() as session:           # the read worked off every mark
        assert session.scalar(select(StatsDirtyDay.id).limit(1)) is None
    assert rollup_mistakes(uow) == []
    assert second


def test_a_fact_moved_to_another_day_is_taken_off_its_old_day(uow, people):
    case_id = register(uow, people, datetime(2025, 11, 3, 9), 1)
    assert figures(uow, people)["summary"]["received"] == 1
    with uow.write() as session:          # the received time corrected (as an edit would) to October
        session.get(Complaint, case_id).received_at = datetime(2025, 10, 30, 9)
    assert figures(uow, people)["summary"]["received"] == 0
    assert figures(uow, people)["summary"]["previous_received"] == 1
    assert rollup_mistakes(uow) == []


def test_verify_reports_a_change_that_bypassed_the_marks_and_rebuild_repairs_it(uow, people, database_url):
    case_id = register(uow, people, datetime(2025, 11, 3, 9), 1)
    assert rollup_mistakes(uow) == []
    with uow.engine.begin() as connection:        # a bulk statement past the session hook: nothing marked
        connection.execute(update(Complaint).where(Complaint.id == case_id).values(received_at=datetime(2025, 11, 20)))
    found = rollup_mistakes(uow)
    assert any("2025-11-03" in line and "received" in line for line in found), found
    assert any("2025-11-20" in line and "received" in line for line in found), found
    if database_url.startswith("sqlite"):
        done = cli(database_url, "stats", "verify", "--month", "2025-11")
        assert done.returncode == 1 and "received" in done.stdout and "difference(s)" in done.stdout, done.stdout
        rebuilt = cli(database_url, "stats", "rebuild")
        assert rebuilt.returncode == 0 and "rollup rows" in rebuilt.stdout, rebuilt.stderr
        clean = cli(database_url, "stats", "verify")
        assert clean.returncode == 0 and "0 difference(s)" in clean.stdout, clean.stdout
    else:
        assert statistics.rebuild_rollups(uow) > 0
    assert rollup_mistakes(uow) == []
    assert figures(uow, people)["summary"]["received"] == 1


def test_verify_finds_a_rollup_row_that_is_wrong(uow, people):
    register(uow, people, datetime(2025, 11, 3, 9), 1)
    assert rollup_mistakes(uow) == []
    with uow.engine.begin() as connection:
        connection.execute(update(StatsRollup).where(StatsRollup.grain == "M", StatsRollup.measure == "received",
                                                     StatsRollup.department_id == 0, StatsRollup.category_id != -1)
                           .values(n=StatsRollup.n + 1))
    found = statistics.verify_rollups(uow, month=date(2025, 11, 1))
    assert len(found) == 1 and found[0].startswith("M 2025-11-01 received/0/"), found
    assert statistics.verify_rollups(uow, month=date(2025, 10, 1)) == []
    statistics.rebuild_rollups(uow)
    assert statistics.verify_rollups(uow) == []


def test_a_survey_and_its_removal_move_the_satisfaction_figures(uow, people):
    case_id = register(uow, people, datetime(2025, 11, 3, 9), 1)
    with uow.write() as session:
        clerk = session.scalar(select(User.id).where(User.username == "clerk"))
        session.add(FollowUp(complaint_id=case_id, visited_at=datetime(2025, 11, 20, 10), process=5, attitude=4,
                             efficiency=2, result=4, overall=4, outcome="满意", by_id=clerk))
    satisfaction = {r["dimension"]: r for r in figures(uow, people)["satisfaction"]}
    assert satisfaction["efficiency"]["average"] == 2 and satisfaction["process"]["satisfied"] == 1
    with uow.write() as session:
        session.delete(session.scalar(select(FollowUp).where(FollowUp.complaint_id == case_id)))
    satisfaction = {r["dimension"]: r for r in figures(uow, people)["satisfaction"]}
    assert satisfaction["process"]["surveys"] == 0 and satisfaction["process"]["average"] is None
    assert rollup_mistakes(uow) == []


def test_writers_and_readers_at_once_leave_the_rollup_exact(uow, people):
    """Four registering threads and two reading the statistics at the same time: every mark a writer committed
    while a refresh ran stays for the next one, and refreshers take turns."""
    errors: list[BaseException] = []

    def write(offset: int) -> None:
        try:
            for n in range(4):
                register(uow, people, datetime(2025, 11, 3 + n, 9 + offset), 100 + offset * 10 + n)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    def read() -> None:
        try:
            for _ in range(4):
                figures(uow, people)
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(4)] + [threading.Thread(target=read)
                                                                               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert figures(uow, people)["summary"]["received"] == 16
    assert rollup_mistakes(uow) == []


def test_an_upgrade_recomputes_the_rollups_of_existing_cases(database_url, uow, people):
    """0027–0029 on a database with cases: the ageing times are filled from the stored clocks, every day is marked,
    and the first read gives what the raw tables say (a downgrade to 0026 and back)."""
    from alembic import command

    from portal.persistence.migrate import alembic_config
    from portal.persistence.models import Complaint as Case
    first = register(uow, people, datetime(2025, 11, 3, 9), 1)
    register(uow, people, datetime(2025, 11, 4, 9), 2, channel="wechat")
    accept(uow, people, first, datetime(2025, 11, 3, 10))
    before = figures(uow, people)
    with uow.read() as session:
        places = dict(session.execute(select(Case.id, Case.next_soon_at)).all())
    uow.engine.dispose()
    command.downgrade(alembic_config(database_url), "0026")
    command.upgrade(alembic_config(database_url), "head")
    with uow.read() as session:
        assert session.scalar(select(StatsRollup.n).limit(1)) is None        # nothing computed yet: days marked
        assert dict(session.execute(select(Case.id, Case.next_soon_at)).all()) == places
    after = figures(uow, people)
    assert (after["summary"], after["clocks"], after["by_category"], after["profile"]) == (
        before["summary"], before["clocks"], before["by_category"], before["profile"])
    assert rollup_mistakes(uow) == []


def test_the_profile_joins_the_rollup_on_upgrade(database_url, uow, people):
    """0030 on a database with cases: the complainant profile's rollup rows are not there before it; the upgrade
    marks the days cases were received on and the first read gives each field's counts as the cases say."""
    from alembic import command

    from portal.persistence.migrate import alembic_config
    register(uow, people, datetime(2025, 11, 3, 9), 1, customer_gender="male", customer_occupation="教师")
    register(uow, people, datetime(2025, 11, 4, 9), 2, customer_gender="female", customer_occupation=" 教师 ")
    register(uow, people, datetime(2025, 11, 5, 9), 3, customer_gender="female")
    before = figures(uow, people)["profile"]
    assert before["gender"] == [{"value": "female", "count": 2}, {"value": "male", "count": 1}]
    assert before["occupation"] == [{"value": "教师", "count": 2}, {"value": "unknown", "count": 1}]
    uow.engine.dispose()
    command.downgrade(alembic_config(database_url), "0029")
    with uow.read() as session:
        assert session.scalar(select(StatsRollup.n).where(StatsRollup.measure == "profile").limit(1)) is None
    command.upgrade(alembic_config(database_url), "head")
    assert figures(uow, people)["profile"] == before
    assert rollup_mistakes(uow) == []


def test_the_total_rows_summed_from_the_mixes_are_what_their_own_scans_count(uow, people):
    """Refresh and verify read each measure's mixes and sum its total rows from them (half the statement): on the
    November fixture (cases of every kind: routed to two departments, closed on time and late, surveyed, with
    shares and causes), the sums equal the total rows as their own scans of the raw tables give them."""
    from portal.services.stats_rollup import ANY_ID, _key, _sums, raw_day_rows
    from tests.services.test_statistics import build_november
    build_november(uow, people)
    with uow.read() as session:
        connection = session.connection()
        summed = {_key(r): _sums(r) for r in raw_day_rows(connection) if r.category_id == ANY_ID}
        scanned = {_key(r): _sums(r) for r in raw_day_rows(connection, scanned_totals=True)}
    assert summed == scanned
    assert {key[1] for key in summed} >= {"received", "accepted", "closed", "clock", "owned", "survey", "score",
                                          "share", "profile"}


def test_the_whole_history_is_compared_in_the_database_as_in_the_process(uow, people):
    """`stats verify` over every day builds the raw rows in a temporary table and reads only the rows that differ
    (a million cases' raw rows would not fit a process); it reports what the in-process comparison reports: nothing
    on the November fixture, then the same lines for a changed day row, a missing month row and a stray year row,
    and nothing again after a rebuild."""
    from sqlalchemy import delete, insert

    from portal.services import stats_rollup
    from tests.services.test_statistics import build_november
    build_november(uow, people)
    with uow.write() as session:
        assert stats_rollup.differences_in_database(session) == stats_rollup.differences(session) == []
    r = StatsRollup
    with uow.engine.begin() as connection:
        connection.execute(update(r).where(r.grain == "D", r.measure == "closed", r.department_id == 0,
                                           r.category_id == -1).values(a=r.a + 1))
        connection.execute(delete(r).where(r.grain == "M", r.measure == "survey", r.department_id == 0,
                                           r.category_id == -1))
        connection.execute(insert(r).values(grain="Y", measure="received", day=date(2019, 1, 1), department_id=0,
                                            category_id=-1, channel_id=-1, severity="*", item="", bucket=0, n=3,
                                            a=0, b=0))
    with uow.write() as session:
        in_database = stats_rollup.differences_in_database(session)
        assert in_database == stats_rollup.differences(session)
    assert any(line.startswith("D ") and "closed/0/-1/-1/*" in line for line in in_database), in_database
    assert any(line.startswith("M ") and "survey/0/-1/-1/*" in line and "rollup None" in line
               for line in in_database), in_database
    assert "Y 2019-01-01 received/0/-1/-1/*//0: raw None, rollup (3, 0, 0)" in in_database, in_database
    statistics.rebuild_rollups(uow)
    assert statistics.verify_rollups(uow) == []
