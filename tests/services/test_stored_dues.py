"""The stored clock dues (`case_clocks`) must say what the load-time badges say, for every case,
at any `now`, after any use case and after a calendar change."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import func, select

from portal import demo
from portal.domain.clocks import Badge
from portal.persistence.models import CaseClock, Complaint
from portal.services import calendar as calendar_service
from portal.services import queries, rules
from portal.services.queries import LedgerFilter
from tests.conftest import BACKENDS, People, module_database

NOW = datetime(2026, 3, 20, 10, 0)
FILTERS = {"overdue": Badge.OVERDUE, "due_soon": Badge.DUE_SOON, "paused": Badge.PAUSED,
           "calendar_missing": Badge.CALENDAR_MISSING}


def _badge_sets(uow, people, at: datetime) -> dict[str, set[int]]:
    """Per badge filter: the cases whose load-time badge (the oracle) shows it on any clock."""
    ledger = queries.tracking_ledger(uow, actor=people.gmo, filters=LedgerFilter(), now=at,
                                     calendar=rules.load_calendar(uow), page_size=100_000)
    matrix = np.column_stack([ledger.frame[f"{c.rule.key}_badge"].to_numpy() for c in ledger.clocks])
    return {name: set(ledger.frame["id"][(matrix == code).any(axis=1)].astype(int))
            for name, code in FILTERS.items()}


def _sql_sets(uow, people, at: datetime) -> dict[str, set[int]]:
    out = {}
    for name in FILTERS:
        ledger = queries.tracking_ledger(uow, actor=people.gmo, filters=LedgerFilter(badge=name), now=at,
                                         calendar=rules.load_calendar(uow), page_size=100_000)
        out[name] = set(ledger.frame["id"].astype(int))
        assert ledger.total == len(out[name])
    return out


@pytest.fixture(scope="module", params=BACKENDS)
def seeded(request, tmp_path_factory):
    """One seeded database per backend for this module: the tests here only read it (the backfill
    test restores what it removes)."""
    with module_database(request, tmp_path_factory,
                         lambda unit: demo.seed(unit, complaints_count=40, seed_value=11, now=NOW)) as unit:
        yield unit


@pytest.fixture
def readers(seeded) -> People:
    return People(seeded)


def test_every_started_clock_is_stored(seeded):
    with seeded.read() as session:
        assert session.scalar(select(func.count()).select_from(CaseClock)) > 40 * 2
        assert session.scalar(select(func.count()).select_from(Complaint).where(
            ~Complaint.id.in_(select(CaseClock.complaint_id)))) == 0   # every case has received_at clocks


@pytest.mark.parametrize("hours_later", [0, 5, 30, 24 * 6, 24 * 20, 24 * 60])
def test_sql_badge_filters_find_exactly_the_cases_the_badges_show(seeded, readers, hours_later):
    at = NOW + timedelta(hours=hours_later)
    assert _sql_sets(seeded, readers, at) == _badge_sets(seeded, readers, at)


def test_ledger_counts_match_the_badges_of_open_cases(seeded, readers):
    at = NOW + timedelta(days=3)
    ledger = queries.tracking_ledger(seeded, actor=readers.gmo, filters=LedgerFilter(), now=at,
                                     calendar=rules.load_calendar(seeded), page_size=100_000)
    matrix = np.column_stack([ledger.frame[f"{c.rule.key}_badge"].to_numpy() for c in ledger.clocks])
    open_mask = ledger.frame["state"].isin(queries._OPEN).to_numpy()
    assert ledger.counts["total"] == len(ledger.frame) == ledger.total
    assert ledger.counts["open"] == int(open_mask.sum())
    assert ledger.counts["overdue"] == int(((matrix == Badge.OVERDUE).any(axis=1) & open_mask).sum())
    assert ledger.counts["due_soon"] == int(((matrix == Badge.DUE_SOON).any(axis=1) & open_mask).sum())


def test_the_ledger_pages_in_sql_newest_first(seeded, readers):
    cal = rules.load_calendar(seeded)
    first = queries.tracking_ledger(seeded, actor=readers.gmo, filters=LedgerFilter(), now=NOW, calendar=cal,
                                    page=1, page_size=25)
    second = queries.tracking_ledger(seeded, actor=readers.gmo, filters=LedgerFilter(), now=NOW, calendar=cal,
                                     page=2, page_size=25)
    with seeded.read() as session:
        total = session.scalar(select(func.count()).select_from(Complaint))
    assert len(first.frame) == 25 and first.total == total and first.pages == -(-total // 25)
    assert set(first.frame["id"]).isdisjoint(second.frame["id"])
    received = list(first.frame["received_at"]) + list(second.frame["received_at"])
    assert received == sorted(received, reverse=True)
    beyond = queries.tracking_ledger(seeded, actor=readers.gmo, filters=LedgerFilter(), now=NOW, calendar=cal,
                                     page=99, page_size=25)
    assert beyond.page == first.pages and len(beyond.frame) == total - 25 * (first.pages - 1)


def test_a_calendar_change_moves_the_stored_dues_of_running_working_day_clocks(uow, people):
    from tests.helpers import a_form
    from portal.services import complaints
    received = datetime(2026, 12, 28, 9, 0)       # investigation runs into 2027, not in the package
    done = complaints.register_complaint(uow, actor=people.clerk, form=a_form(received_at=received),
                                         attachments=[], now=received)
    complaints.accept_complaint(uow, actor=people.gmo, complaint_id=done.id, category="claim",
                                severity="general", departments=["operations"], now=received + timedelta(hours=1))

    def investigation() -> CaseClock:
        with uow.read() as session:
            return session.get(CaseClock, (done.id, "investigation"))

    assert investigation().calendar_missing and investigation().due_at is None
    for day in range(1, 32):
        d = date(2027, 1, day)
        calendar_service.set_calendar_day(uow, actor=None, day=d, is_working=d.weekday() < 5 and day != 1,
                                          note="元旦" if day == 1 else "", now=received)
    stored = investigation()
    assert not stored.calendar_missing
    # 7 working days after Mon 28 Dec 2026: 29, 30, 31 Dec, (1 Jan holiday), 4, 5, 6, 7 Jan → end of 7 Jan
    assert stored.due_at == datetime(2027, 1, 8, 0, 0)


def test_a_database_written_before_dues_were_stored_is_filled_once_at_start(seeded):
    from sqlalchemy import delete

    from portal.persistence.models import Setting
    from portal.services import dues

    def stored():
        with seeded.read() as session:
            return sorted(session.execute(select(CaseClock.complaint_id, CaseClock.clock_key, CaseClock.due_at,
                                                 CaseClock.stopped_at, CaseClock.late)).all())

    before = stored()
    with seeded.write() as session:
        session.execute(delete(CaseClock))
        session.execute(delete(Setting).where(Setting.key == dues.BACKFILLED))
    assert stored() == []
    assert dues.backfill_if_needed(seeded, rules.load_calendar(seeded)) is True
    assert stored() == before
    assert dues.backfill_if_needed(seeded, rules.load_calendar(seeded)) is False


def test_the_overdue_filter_is_one_index_range_on_the_cases_table():
    """超时 in the ledger reads the case's stored earliest running due time, not every overdue clock."""
    from sqlalchemy import create_engine
    from sqlalchemy.dialects import sqlite

    from portal.persistence.models import Base
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    where = queries._with_badge("overdue", NOW)                              # noqa: SLF001
    plans = []
    for query in (select(func.count()).select_from(Complaint).where(where),
                  queries.queue_ids_statement([where], "newest").limit(50)):
        sql = str(query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
        with engine.connect() as connection:
            plans.append(" ".join(str(r[-1]) for r in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")))
    assert all("case_clocks" not in plan for plan in plans), plans
    assert "ix_complaints_overdue" in plans[0], plans
