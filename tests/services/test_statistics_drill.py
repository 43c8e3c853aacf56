"""From a figure to its cases: for every figure the statistics page links to the ledger, the ledger
lists as many cases as the figure counts (month in progress, a finished month, with filters), on
both databases; a bad address is refused in words."""
from __future__ import annotations

from datetime import datetime

import pytest

from portal import demo
from portal.domain.errors import DomainError
from portal.domain.statistics import Period
from portal.domain.statistics_drill import Drill, Figure
from portal.services import queries, rules, statistics, statistics_drill
from tests.conftest import BACKENDS, People, module_database

NOW = datetime(2026, 3, 20, 10, 0)


@pytest.fixture(scope="module", params=BACKENDS)
def seeded(request, tmp_path_factory):
    with module_database(request, tmp_path_factory,
                         lambda unit: demo.seed(unit, complaints_count=60, seed_value=7, now=NOW)) as unit:
        yield unit


@pytest.fixture(scope="module")
def calendar(seeded):
    """The working calendar, read once for the module as the pages' cache holds it (a whole read is 150 ms, and the
    figures are many)."""
    return rules.load_calendar(seeded)


def _figures(uow, people, filters):
    return statistics.monthly_table(uow, actor=people.boss, filters=filters, now=NOW)


def _listed(uow, people, drill, calendar) -> int:  # noqa: ANN001
    ledger = statistics_drill.drilled_ledger(uow, actor=people.boss, drill=drill, filters=queries.LedgerFilter(),
                                             now=NOW, calendar=calendar, page_size=100_000)
    assert ledger.total == len(ledger.frame)
    return ledger.total


def _every_figure(figures, period, base) -> list[tuple[Drill, int]]:
    """(drill, the figure's value) for every figure that lists cases."""
    summary = figures["summary"]
    out = [(Drill(Figure(k), period, **base), summary[k])
           for k in ("received", "accepted", "closed", "closed_on_time", "closed_late", "repeats", "open_at_end",
                     "overdue_open")]
    for row in figures["by_category"]:
        out.append((Drill(Figure.RECEIVED, period, **{**base, "category": row["category"]}), row["received"]))
    for row in figures["by_channel"]:
        out.append((Drill(Figure.RECEIVED, period, **{**base, "channel": row["channel"]}), row["received"]))
    for row in figures["department_category"]:
        out.append((Drill(Figure.RECEIVED, period, **{**base, "department": row["department"],
                                                     "category": row["category"]}), row["count"]))
    for row in figures["trend"]:
        month = Period.parse_month(row["month"])
        out += [(Drill(Figure.RECEIVED, month, **base), row["received"]),
                (Drill(Figure.TREND_CLOSED, month, **base), row["closed"]),
                (Drill(Figure.TREND_CLOSED_LATE, month, **base), row["closed_late"])]
    for row in figures["clocks"]:
        out += [(Drill(Figure.CLOCK_COMPLETED, period, **base, key=row["clock"]), row["completed"]),
                (Drill(Figure.CLOCK_LATE, period, **base, key=row["clock"]), row["late"])]
    for row in figures["ageing"]:
        out.append((Drill(Figure.AGEING, period, **base, key=f"{row['bucket']}:{row['status']}"), row["count"]))
    comparison = figures["comparison"]
    previous = Period(*[datetime.fromisoformat(d).date() for d in comparison["previous"]])
    out.append((Drill(Figure.RECEIVED, previous, **base), summary["previous_received"]))
    return out


@pytest.mark.parametrize("period, base", [
    (Period.month(2026, 3), {}),
    (Period.month(2026, 2), {}),
    (Period.month(2026, 3), {"department": "operations"}),
    (Period(datetime(2026, 1, 10).date(), datetime(2026, 3, 20).date()), {"severity": "general"}),
], ids=["month-in-progress", "finished-month", "operations", "range-general"])
def test_the_ledger_lists_exactly_the_cases_each_figure_counts(seeded, calendar, period, base):
    people = People(seeded)
    figures = _figures(seeded, people, statistics.StatsFilter(period, **base))
    checked = _every_figure(figures, period, base)
    assert sum(value for _, value in checked) > 0
    for drill, value in checked:
        assert _listed(seeded, people, drill, calendar) == value, drill


def test_with_a_department_chosen_the_heat_map_shows_that_department_only(seeded):
    people = People(seeded)
    everything = _figures(seeded, people, statistics.StatsFilter(Period.month(2026, 3)))
    assert len({r["department"] for r in everything["department_category"]}) > 1
    figures = _figures(seeded, people, statistics.StatsFilter(Period.month(2026, 3), department="operations"))
    assert {r["department"] for r in figures["department_category"]} == {"operations"}
    assert {r["department"] for r in figures["by_department"]} == {"operations"}


def test_the_address_round_trips_and_bad_addresses_are_refused(seeded, calendar):
    drill = Drill(Figure.AGEING, Period.month(2026, 3), department="operations", key="4_7:overdue")
    assert Drill.from_params(drill.params()) == drill
    assert Drill.from_params({}) is None
    for params, key in (({"figure": "nonsense", "from": "2026-03-01", "to": "2026-03-31"}, "drill.bad_figure"),
                        ({"figure": "received", "from": "2026-03-31", "to": "2026-03-01"}, "drill.bad_dates"),
                        ({"figure": "received", "from": "March", "to": "2026-03-01"}, "drill.bad_dates"),
                        ({"figure": "ageing", "from": "2026-03-01", "to": "2026-03-31", "key": "4_7"}, "drill.bad_key"),
                        ({"figure": "clock_late", "from": "2026-03-01", "to": "2026-03-31"}, "drill.bad_key")):
        with pytest.raises(DomainError) as refused:
            Drill.from_params(params)
        assert refused.value.message.key == key
    people = People(seeded)
    for drill, key in ((Drill(Figure.RECEIVED, Period.month(2026, 3), department="nowhere"), "drill.unknown_code"),
                       (Drill(Figure.CLOCK_LATE, Period.month(2026, 3), key="no_such_clock"), "drill.bad_key")):
        with pytest.raises(DomainError) as refused:
            _listed(seeded, people, drill, calendar)
        assert refused.value.message.key == key
