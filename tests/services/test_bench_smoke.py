"""The benchmark command runs end to end (its figures are read by people, never asserted)."""
from __future__ import annotations

from portal import bench, cli


def test_the_benchmark_seeds_and_measures_every_page_on_a_small_database(monkeypatch, capsys):
    monkeypatch.setenv("PORTAL_DATABASE_URL", "sqlite:///unused-by-the-bench.sqlite3")
    assert cli.main(["bench", "--complaints", "400", "--backends", "sqlite", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "== sqlite, 400 complaints" in out and "seeding:" in out
    assert "service desk: 400 policies" in out and "400 requests" in out      # as many as complaints
    for case in bench.PAGES:
        assert case.label in out, case.label
    assert "(no such page)" not in out
    assert {"desk", "handover", "request", "policies", "desk_register"} <= {case.page for case in bench.PAGES}


def test_only_the_pages_asked_for_are_measured(monkeypatch, capsys):
    monkeypatch.setenv("PORTAL_DATABASE_URL", "sqlite:///unused-by-the-bench.sqlite3")
    assert cli.main(["bench", "--complaints", "200", "--backends", "sqlite", "--repeat", "1",
                     "--only", "GM office, archive", "approval, final"]) == 0
    rows = [line.split("  ")[0] for line in capsys.readouterr().out.splitlines() if " ms " in line]
    assert rows == ["GM office, archive", "approval, final"]


def test_the_seeded_cases_carry_the_archive_readiness_the_rule_gives_and_their_clocks(database_url):
    """The bench loads rows past the session hook; its cases' stored readiness is rebuilt from the raw tables (and
    a bulk refresh mends any flag set wrong, on a closed case or another), their places in the queues are what the
    rule makes of their clocks; its stored clocks, written by a second process, are all there."""
    from sqlalchemy import func, select, update
    from portal.persistence.database import UnitOfWork, make_engine
    from portal.persistence.models import CaseClock, Complaint
    from portal.services import archive_readiness
    from tests.helpers import archive_flag_mistakes
    from tests.services.test_priority import assert_places_agree_with_the_rule
    seeded = bench.seed(database_url, 300, bench._now())              # noqa: SLF001
    unit = UnitOfWork(make_engine(database_url))
    try:
        assert archive_flag_mistakes(unit) == []
        assert_places_agree_with_the_rule(unit)     # the rank set at the load, moved by the refill where a clock runs
        with unit.read() as session:
            assert session.scalar(select(func.count()).select_from(CaseClock)) == seeded.clocks > 300
            states = set(session.scalars(select(Complaint.state)))
        assert {"closed", "archived", "investigating"} <= states
        with unit.engine.begin() as connection:       # every flag of every third case turned over
            connection.execute(update(Complaint).where(Complaint.id % 3 == 0).values(
                archive_blocked=~Complaint.archive_blocked, follow_up_due=~Complaint.follow_up_due,
                remedy_due=~Complaint.remedy_due))
            assert len(archive_readiness.mismatches(connection)) == len(range(3, 301, 3))
            archive_readiness.refresh_all(connection)
        assert archive_flag_mistakes(unit) == []
    finally:
        unit.engine.dispose()


def test_the_workshop_report_gives_nearest_rank_percentiles_and_every_error():
    from portal import bench_workshop
    assert bench_workshop._percentile([float(i) for i in range(1, 21)], 0.95) == 19.0       # noqa: SLF001
    assert bench_workshop._percentile([float(i) for i in range(1, 31)], 0.95) == 29.0       # noqa: SLF001
    assert bench_workshop._percentile([0.5], 0.95) == 0.5                                     # noqa: SLF001
    figures = bench_workshop.Figures()
    for seconds in (0.1, 0.2, 0.3):
        figures.record("ledger", bench_workshop.Run(seconds, "hash"))
    figures.record("ledger", bench_workshop.Run(60.0, "", finished=False))                # no end of run
    figures.record("login", bench_workshop.Run(0.4, "", exception="KeyError('x')"))
    lines = bench_workshop.report("title", figures)
    assert lines[2].split()[:2] == ["login", "1"]                  # login first, then the pages
    ledger = next(line for line in lines if line.startswith("ledger"))
    assert ledger.split() == ["ledger", "4", "250", "ms", "60000", "ms", "60000", "ms", "1"]
    assert "  error on ledger: click lost (no end of run in 60 s) (×1)" in lines
    assert "  error on login: KeyError('x') (×1)" in lines
    every = next(line for line in lines if line.startswith("every click"))
    assert every.split()[-1] == "2"


def test_the_seeded_cases_carry_the_history_the_service_would_have_written(database_url):
    """Each case's audit events (loaded in bulk, one statement per step) follow its lifecycle: registered first,
    each step leaving the state the one before entered, in id and time order, the last step in the case's state."""
    from sqlalchemy import select
    from portal.persistence.database import UnitOfWork, make_engine
    from portal.domain.four_eyes import CONFLICTS
    from portal.persistence.models import Complaint, Event
    seeded = bench.seed(database_url, 300, bench._now())                                   # noqa: SLF001
    unit = UnitOfWork(make_engine(database_url))
    try:
        with unit.read() as session:
            cases = {c.id: c for c in session.scalars(select(Complaint))}
            history: dict[int, list[Event]] = {}
            for event in session.scalars(select(Event).where(Event.complaint_id.is_not(None),
                                                             Event.action.not_like("%.issue"),
                                                             Event.action != "contact.progress_due")
                                         .order_by(Event.id)):
                history.setdefault(event.complaint_id, []).append(event)
    finally:
        unit.engine.dispose()
    assert set(history) == set(cases) and seeded.events >= sum(len(h) for h in history.values())
    for case_id, events in history.items():
        case = cases[case_id]
        assert events[0].action == "register" and events[0].at == case.received_at
        assert [e.at for e in events] == sorted(e.at for e in events), case_id
        moves = [e for e in events if e.from_state != e.to_state]
        for before, after in zip(moves, moves[1:]):
            assert after.from_state == before.to_state, (case_id, before.action, after.action)
        assert moves[-1].to_state == case.state, case_id
        accept = [e for e in events if e.action == "accept"]
        assert (accept[0].changes == {"number": case.number}) if case.accepted_at else not accept, case_id
        reports = [e for e in events if e.action == "submit_report"]
        assert len(reports) == sum(1 for r in case.departments if r.report_submitted_at), case_id
        for decision, conflicts in CONFLICTS.items():      # nobody decided on their own work (four eyes)
            deciders = {e.actor_id for e in events if e.action == decision.value}
            assert not deciders & {e.actor_id for e in events if e.action in conflicts}, (case_id, decision)
