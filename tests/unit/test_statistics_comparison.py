"""投诉量环比增长: a period still running is compared with the same days of the previous one; the
ageing buckets are read in the order of their lower bounds."""
from __future__ import annotations

from datetime import date, datetime

from portal.domain.statistics import AGE_BUCKETS, Period, ageing_in_order, age_lower_bound, growth_comparison


def test_the_second_of_december_is_compared_with_the_first_two_days_of_november():
    comparison = growth_comparison(Period.month(2026, 12), datetime(2026, 12, 2, 16, 58))
    assert comparison.in_progress
    assert comparison.current == Period(date(2026, 12, 1), date(2026, 12, 2))
    assert comparison.previous == Period(date(2026, 11, 1), date(2026, 11, 2))


def test_on_the_31st_against_a_30_day_month_the_whole_previous_month():
    comparison = growth_comparison(Period.month(2026, 12), datetime(2026, 12, 31, 9, 0))
    assert comparison.in_progress and comparison.previous == Period.month(2026, 11)


def test_the_30th_of_march_against_february_is_the_whole_of_february():
    assert growth_comparison(Period.month(2026, 3), datetime(2026, 3, 30, 8)).previous == Period.month(2026, 2)
    assert growth_comparison(Period.month(2024, 3), datetime(2024, 3, 29, 8)).previous == Period.month(2024, 2)
    assert (growth_comparison(Period.month(2024, 3), datetime(2024, 3, 28, 8)).previous
            == Period(date(2024, 2, 1), date(2024, 2, 28)))


def test_the_last_day_of_a_30_day_month_still_running_compares_thirty_days():
    comparison = growth_comparison(Period.month(2026, 11), datetime(2026, 11, 30, 23, 59))
    assert comparison.in_progress and comparison.previous == Period(date(2026, 10, 1), date(2026, 10, 30))


def test_january_in_progress_is_compared_with_december_of_the_year_before():
    comparison = growth_comparison(Period.month(2027, 1), datetime(2027, 1, 5, 10))
    assert comparison.previous == Period(date(2026, 12, 1), date(2026, 12, 5))


def test_a_finished_month_is_compared_with_the_whole_previous_month():
    comparison = growth_comparison(Period.month(2026, 11), datetime(2026, 12, 1, 0, 0))
    assert not comparison.in_progress
    assert comparison.current == Period.month(2026, 11) and comparison.previous == Period.month(2026, 10)


def test_a_date_range_in_progress_is_compared_with_as_many_days_before_it():
    comparison = growth_comparison(Period(date(2026, 11, 20), date(2026, 12, 31)), datetime(2026, 12, 2, 12))
    assert comparison.current == Period(date(2026, 11, 20), date(2026, 12, 2))
    assert comparison.previous == Period(date(2026, 11, 7), date(2026, 11, 19))
    assert comparison.previous.days == comparison.current.days


def test_a_period_that_has_not_started_has_nothing_to_compare():
    assert growth_comparison(Period.month(2027, 1), datetime(2026, 12, 31, 23, 59)) is None


def test_ageing_rows_are_ordered_by_the_lower_bound_of_their_bucket_then_worst_badge_first():
    rows = [{"bucket": b, "status": s, "count": 1} for b, s in
            (("16_30", "on_track"), ("0_3", "on_track"), ("4_7", "overdue"), ("0_3", "overdue"),
             ("31_plus", "paused"), ("8_15", "due_soon"), ("4_7", "on_track"))]
    ordered = [(r["bucket"], r["status"]) for r in ageing_in_order(rows)]
    assert ordered == [("0_3", "overdue"), ("0_3", "on_track"), ("4_7", "overdue"), ("4_7", "on_track"),
                       ("8_15", "due_soon"), ("16_30", "on_track"), ("31_plus", "paused")]
    assert [age_lower_bound(name) for name, _ in AGE_BUCKETS] == [0, 3, 7, 15, 30]


def test_percentiles_are_read_at_whole_minutes():
    from portal.domain.statistics import minute_floor, nearest_rank_index
    durations = [59, 61, 119, 3599, 3600, 3659, 7261]
    minutes = sorted(minute_floor(d) for d in durations)
    assert minutes == [0, 60, 60, 3540, 3600, 3600, 7260]
    rank = nearest_rank_index(len(durations))
    # rounding down is monotonic: the minute of the value at the rank is the value at the rank of the minutes
    assert minute_floor(sorted(durations)[rank]) == minutes[rank] == 7260


def test_a_period_is_read_from_whole_years_months_and_days_each_day_once():
    from datetime import date, timedelta

    from portal.domain.statistics import Period
    from portal.services.stats_rollup import DAY, MONTH, YEAR, pieces

    def days_of(grain, first, last):
        if grain == DAY:
            return [first + timedelta(days=n) for n in range((last - first).days + 1)]
        out, cursor = [], first
        while cursor <= last:
            step = Period.month(cursor.year, cursor.month) if grain == MONTH else Period(cursor, date(cursor.year, 12, 31))
            out += [step.first + timedelta(days=n) for n in range(step.days)]
            cursor = step.last + timedelta(days=1)
        return out

    cases = [(date(2025, 1, 1), date(2025, 12, 31), [YEAR]), (date(2025, 11, 1), date(2025, 11, 30), [MONTH]),
             (date(2024, 10, 15), date(2026, 2, 3), [DAY, MONTH, YEAR]), (date(2025, 3, 2), date(2025, 3, 9), [DAY]),
             (date(2024, 12, 1), date(2026, 1, 31), [MONTH, YEAR])]
    for first, last, grains in cases:
        parts = pieces(Period(first, last))
        covered = [d for grain, a, b in parts for d in days_of(grain, a, b)]
        assert sorted(covered) == days_of(DAY, first, last), (first, last, parts)     # every day exactly once
        assert sorted({g for g, _, _ in parts}) == sorted(grains), parts
