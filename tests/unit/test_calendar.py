from datetime import date, datetime

import numpy as np
import pytest

from portal.domain.calendar import DayKind, WorkingCalendar, classify
from portal.domain.clocks import ClockRule, Milestone, Unit, due_one, explain
from portal.domain.errors import CalendarMissing
from portal.services.rules import days_of_year

WD7 = ClockRule("investigation", Unit.WORKING_DAYS, 7, Milestone.ACCEPTED, Milestone.INVESTIGATION_DONE)


def test_the_day_of_receipt_is_not_counted_and_the_deadline_is_the_end_of_the_last_day(cal):
    # Mon 2025-11-03 → Tue..Fri (4) + Mon..Wed (3) = Wed 2025-11-12 24:00
    assert due_one(WD7, datetime(2025, 11, 3, 16, 30), cal) == datetime(2025, 11, 13, 0, 0)


def test_investigation_clock_skips_weekends(cal):
    assert cal.add_working_days(date(2025, 11, 7), 1) == date(2025, 11, 10)  # Fri → Mon


def test_investigation_clock_skips_national_day_and_counts_the_make_up_saturday(cal):
    # 2025: Oct 1–8 off (National Day + Mid-autumn), Sat Oct 11 worked in exchange.
    start = datetime(2025, 9, 30, 14, 0)
    assert due_one(WD7, start, cal) == datetime(2025, 10, 17)
    why = explain(Unit.WORKING_DAYS, 7, start, cal)
    assert [d.day for d in why.makeup] == [date(2025, 10, 11)]
    assert date(2025, 10, 6) in [d.day for d in why.skipped]
    assert date(2025, 10, 12) in [d.day for d in why.skipped]


def test_the_make_up_sunday_before_national_day_counts(cal):
    # Sun 2025-09-28 is a working day: from Fri 09-26 one working day is that Sunday.
    assert cal.get(date(2025, 9, 28)).kind is DayKind.MAKEUP
    assert cal.add_working_days(date(2025, 9, 26), 1) == date(2025, 9, 28)


def test_spring_festival_2026_with_both_make_up_saturdays(cal):
    # Feb 14 (Sat) worked; Feb 15–23 off; Feb 28 (Sat) worked.
    assert cal.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert cal.add_working_days(date(2026, 2, 14), 1) == date(2026, 2, 24)
    assert cal.add_working_days(date(2026, 2, 27), 1) == date(2026, 2, 28)


def test_spring_festival_2025(cal):
    # 2025: Jan 28–Feb 4 off, Sun Jan 26 and Sat Feb 8 worked.
    assert cal.add_working_days(date(2025, 1, 24), 1) == date(2025, 1, 26)
    assert cal.add_working_days(date(2025, 1, 27), 1) == date(2025, 2, 5)
    assert cal.add_working_days(date(2025, 2, 7), 1) == date(2025, 2, 8)


def test_labour_day_2025(cal):
    # May 1–5 off; Sun Apr 27 worked.
    assert cal.add_working_days(date(2025, 4, 25), 1) == date(2025, 4, 27)
    assert cal.add_working_days(date(2025, 4, 30), 1) == date(2025, 5, 6)


def test_national_day_2026(cal):
    # 2026: Oct 1–7 off; Sun Sep 20 and Sat Oct 10 worked.
    assert cal.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert cal.add_working_days(date(2026, 10, 9), 1) == date(2026, 10, 10)
    assert cal.add_working_days(date(2026, 9, 19), 1) == date(2026, 9, 20)


def test_a_deadline_that_needs_a_year_without_calendar_is_missing_not_guessed(cal):
    with pytest.raises(CalendarMissing) as missing:
        cal.add_working_days(date(2026, 12, 28), 7)
    assert missing.value.year == 2027
    assert explain(Unit.WORKING_DAYS, 7, datetime(2026, 12, 28, 9), cal).missing_year == 2027
    with pytest.raises(CalendarMissing):
        cal.add_working_days(date(2024, 12, 20), 3)


def test_vectorised_deadlines_equal_the_day_by_day_rule(cal):
    rng = np.random.default_rng(3)
    starts = np.datetime64("2025-01-01") + rng.integers(-20, 740, 3000).astype("timedelta64[D]")
    for n in (1, 3, 7, 15):
        due, missing = cal.add_working_days_many(starts.astype(np.int64), n)
        for start, d, m in zip(starts.astype(object), due.astype("datetime64[D]").astype(object), missing):
            try:
                expected = cal.add_working_days(start, n)
            except CalendarMissing:
                assert m
            else:
                assert not m and d == expected


def test_a_gap_inside_the_calendar_is_missing_in_the_vectorised_path(cal):
    without_june = WorkingCalendar(cal.get(day) for day in days_of_year(2025) if day.month != 6)
    due, missing = without_june.add_working_days_many(
        np.array(["2025-05-29"], dtype="datetime64[D]").astype(np.int64), 5)
    assert missing[0]
    with pytest.raises(CalendarMissing):
        without_june.add_working_days(date(2025, 5, 29), 5)


def test_classify_names_each_kind_of_day():
    assert classify(date(2025, 10, 11), True, "National Day") is DayKind.MAKEUP
    assert classify(date(2025, 10, 1), False, "National Day") is DayKind.HOLIDAY
    assert classify(date(2025, 11, 8), False, None) is DayKind.WEEKEND
    assert classify(date(2025, 11, 10), True, None) is DayKind.WORKDAY
