"""A year of the working-day calendar the official package does not cover yet (SPEC §4, issue 9):
the administrator enters its holidays and make-up working days as one table; every other day is an
ordinary one; a bad row saves nothing; an official year is changed one day at a time only."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.domain.errors import CalendarMissing, DomainError
from portal.persistence.models import CalendarDayRow, Event
from portal.services import rules
from portal.services.calendar import calendar_year, package_years, set_year
from portal.services.configuration import ConfigurationRefused

NOW = datetime(2026, 11, 23, 10, 0)
YEAR = package_years()[-1] + 1           # the first year the package lacks
NEW_YEAR = [
    {"day": date(YEAR, 1, 1), "is_working": False, "note": "元旦"},
    {"day": date(YEAR, 2, 6), "is_working": False, "note": "春节"},
]


def _first_weekday(year: int, weekday: int) -> date:
    day = date(year, 1, 1)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day


def _count(uow, *where) -> int:
    with uow.read() as session:
        return session.scalar(select(func.count()).select_from(CalendarDayRow).where(*where))


def test_a_missing_year_is_entered_as_its_exceptions_and_deadlines_count_through_it(uow, people):
    saturday = _first_weekday(YEAR, 5)
    rows = NEW_YEAR + [{"day": saturday, "is_working": True, "note": "调休上班"}]
    with pytest.raises(CalendarMissing):
        rules.load_calendar(uow).add_working_days(date(YEAR - 1, 12, 30), 5)
    days = set_year(uow, actor=people.admin, year=YEAR, exceptions=rows, now=NOW)
    assert days == (date(YEAR + 1, 1, 1) - date(YEAR, 1, 1)).days
    loaded = {r["day"]: r for r in calendar_year(uow, year=YEAR)}
    assert len(loaded) == days and {r["source"] for r in loaded.values()} == {"admin"}
    assert (loaded[date(YEAR, 1, 1)]["kind"], loaded[date(YEAR, 1, 1)]["note"]) == ("holiday", "元旦")
    assert loaded[saturday]["kind"] == "makeup" and loaded[saturday]["is_working"]
    ordinary_sunday = _first_weekday(YEAR, 6) + timedelta(days=7)
    assert loaded[ordinary_sunday]["kind"] == "weekend" and not loaded[ordinary_sunday]["is_working"]
    calendar = rules.load_calendar(uow)
    expected, day, left = None, date(YEAR - 1, 12, 30), 5
    while left:                                   # the same count, by hand, over what was entered
        day += timedelta(days=1)
        working = loaded[day]["is_working"] if day.year == YEAR else calendar.get(day).is_working
        left -= working
    expected = day
    assert calendar.add_working_days(date(YEAR - 1, 12, 30), 5) == expected
    with uow.read() as session:
        event = session.scalars(select(Event).where(Event.action == "calendar.set_year")).one()
    assert event.changes["year"] == YEAR and set(event.changes["special"]) == {
        d.isoformat() for d in (date(YEAR, 1, 1), date(YEAR, 2, 6), saturday)}


def test_saving_the_year_again_changes_only_what_changed(uow, people):
    set_year(uow, actor=people.admin, year=YEAR, exceptions=NEW_YEAR, now=NOW)
    assert set_year(uow, actor=people.admin, year=YEAR, exceptions=NEW_YEAR, now=NOW) == 0
    # 2 Feb dropped from the list becomes an ordinary day again; one day changed
    assert set_year(uow, actor=people.admin, year=YEAR, exceptions=NEW_YEAR[:1], now=NOW) == 1
    back = {r["day"]: r for r in calendar_year(uow, year=YEAR)}[date(YEAR, 2, 6)]
    assert back["is_working"] is (date(YEAR, 2, 6).weekday() < 5) and back["note"] == ""


@pytest.mark.parametrize("row, field, reason", [
    ({"day": date(YEAR + 1, 1, 1), "is_working": False, "note": "元旦"}, "day", "config.calendar.other_year"),
    ({"day": None, "is_working": False, "note": "元旦"}, "day", "form.required"),
    ({"day": date(YEAR, 1, 1), "is_working": False, "note": "又一个元旦"}, "day", "config.calendar.duplicate_day"),
    ({"day": date(YEAR, 3, 3), "is_working": False, "note": "  "}, "note", "form.required"),
    ({"day": date(YEAR, 3, 3), "is_working": False, "note": "假" * 101}, "note", "form.too_long"),
    ({"day": _first_weekday(YEAR, 2), "is_working": True, "note": "上班"}, "is_working", "config.calendar.ordinary"),
    ({"day": date(YEAR, 3, 3), "is_working": "yes", "note": "假"}, "is_working", "form.bad_value"),
])
def test_a_bad_row_is_refused_with_its_reason_and_nothing_is_saved(uow, people, row, field, reason):
    rows = NEW_YEAR + [row]
    with pytest.raises(ConfigurationRefused) as refused:
        set_year(uow, actor=people.admin, year=YEAR, exceptions=rows, now=NOW)
    assert (len(rows) - 1, field, reason) in [(r.row, r.field, r.message.key) for r in refused.value.refusals]
    assert _count(uow, CalendarDayRow.day >= date(YEAR, 1, 1)) == 0


def test_an_official_year_and_an_unlikely_year_are_refused(uow, people):
    official = package_years()[-1]
    with pytest.raises(DomainError) as refused:
        set_year(uow, actor=people.admin, year=official,
                 exceptions=[{"day": date(official, 1, 1), "is_working": False, "note": "元旦"}], now=NOW)
    assert refused.value.message.key == "config.calendar.official_year"
    with pytest.raises(DomainError) as refused:
        set_year(uow, actor=people.admin, year=NOW.year + 6, exceptions=[], now=NOW)
    assert refused.value.message.key == "config.calendar.bad_year"
    from portal.domain.errors import PermissionDenied
    with pytest.raises(PermissionDenied):
        set_year(uow, actor=people.gmo, year=YEAR, exceptions=NEW_YEAR, now=NOW)


@pytest.mark.parametrize("rows", [[None], ["2027-01-01"], [{"day": "2027-01-01", "is_working": False, "note": "元旦"}],
                                  [{"day": date(YEAR, 1, 1), "is_working": None, "note": ["元旦"]}],
                                  [{"day": [date(YEAR, 1, 1)], "is_working": False, "note": "元旦"}]])
def test_malformed_rows_are_refused_never_a_crash(uow, people, rows):
    with pytest.raises(ConfigurationRefused) as refused:
        set_year(uow, actor=people.admin, year=YEAR, exceptions=rows, now=NOW)
    assert refused.value.refusals and _count(uow, CalendarDayRow.day >= date(YEAR, 1, 1)) == 0


def test_a_year_saved_by_someone_else_meanwhile_refuses_a_save_made_before_it(uow, people):
    from portal.services.calendar import calendar_version
    from portal.services.configuration import ConfigurationStale
    opened = calendar_version(uow, actor=people.admin)
    set_year(uow, actor=people.admin, year=YEAR, exceptions=NEW_YEAR, now=NOW, basis=opened)
    with pytest.raises(ConfigurationStale):
        set_year(uow, actor=people.admin, year=YEAR, exceptions=NEW_YEAR[:1], now=NOW, basis=opened)
    assert _count(uow, CalendarDayRow.day == date(YEAR, 2, 6), CalendarDayRow.kind == "holiday") == 1
    assert set_year(uow, actor=people.admin, year=YEAR, exceptions=NEW_YEAR[:1], now=NOW,
                    basis=calendar_version(uow, actor=people.admin)) == 1


def test_two_administrators_entering_a_new_year_at_once_take_turns(uow, people):
    """Neither crashes on the other's rows, and the second is told the year was just entered."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from portal.services.calendar import calendar_version
    from portal.services.configuration import ConfigurationStale
    opened = calendar_version(uow, actor=people.admin)
    start = Barrier(3)

    def enter(rows: list[dict]) -> str:
        start.wait()
        try:
            set_year(uow, actor=people.admin, year=YEAR, exceptions=rows, now=NOW, basis=opened)
            return "saved"
        except ConfigurationStale:
            return "stale"

    with ThreadPoolExecutor(3) as pool:
        outcomes = list(pool.map(enter, [NEW_YEAR, NEW_YEAR[:1], NEW_YEAR[1:]]))
    assert sorted(outcomes) == ["saved", "stale", "stale"]
    assert _count(uow, CalendarDayRow.day.between(date(YEAR, 1, 1), date(YEAR, 12, 31))) == \
        (date(YEAR, 12, 31) - date(YEAR, 1, 1)).days + 1
