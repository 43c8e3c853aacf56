from datetime import date, datetime

import pytest

from portal.domain.statistics import (CompileStatus, Indicator, Period, compile_due, compile_status, early_warnings,
                                      nearest_rank_index, trend_months)


def test_a_month_period_and_the_one_before_it():
    march = Period.month(2024, 3)
    assert (march.first, march.last, march.label) == (date(2024, 3, 1), date(2024, 3, 31), "2024-03")
    assert march.previous() == Period.month(2024, 2) and march.previous().last == date(2024, 2, 29)
    assert Period.month(2025, 1).previous() == Period.month(2024, 12)
    week = Period(date(2025, 5, 8), date(2025, 5, 14))
    assert week.previous() == Period(date(2025, 5, 1), date(2025, 5, 7)) and not week.is_month


def test_a_trend_shows_twelve_months_ending_with_the_period():
    months = trend_months(Period.month(2025, 2))
    assert [m.label for m in months][:2] == ["2024-03", "2024-04"] and months[-1].label == "2025-02"
    assert len(trend_months(Period(date(2023, 1, 1), date(2025, 6, 30)))) == 30


@pytest.mark.parametrize("count, index", [(1, 0), (3, 2), (10, 8), (11, 9), (100, 89)])
def test_nearest_rank_ninetieth_percentile(count, index):
    assert nearest_rank_index(count) == index


def test_warnings_fire_past_their_thresholds_and_never_without_a_value():
    thresholds = {Indicator.SATISFACTION: 0.8, Indicator.OVERDUE_RATE: 0.1, Indicator.REPEAT_RATE: 0.05,
                  Indicator.VOLUME_GROWTH: 0.3}
    warned = early_warnings({Indicator.SATISFACTION: 0.79, Indicator.OVERDUE_RATE: 0.1,
                             Indicator.REPEAT_RATE: 0.051, Indicator.VOLUME_GROWTH: None}, thresholds, "2025-11")
    assert [(w.indicator, w.value, w.threshold, w.period) for w in warned] == [
        (Indicator.SATISFACTION, 0.79, 0.8, "2025-11"), (Indicator.REPEAT_RATE, 0.051, 0.05, "2025-11")]
    assert early_warnings({Indicator.SATISFACTION: 0.8}, thresholds, "x") == []


def test_the_monthly_table_is_due_by_the_tenth_of_the_next_month():
    november = Period.month(2025, 11)
    assert compile_due(november, 10) == datetime(2025, 12, 11)
    assert compile_status(november, 10, None, datetime(2025, 12, 3), 0.25)[0] is CompileStatus.ON_TRACK
    assert compile_status(november, 10, None, datetime(2025, 12, 9), 0.25)[0] is CompileStatus.DUE_SOON
    assert compile_status(november, 10, None, datetime(2025, 12, 11), 0.25)[0] is CompileStatus.OVERDUE
    assert compile_status(november, 10, datetime(2025, 12, 10, 23), datetime(2026, 1, 1), 0.25)[0] is CompileStatus.MET
    assert compile_status(november, 10, datetime(2025, 12, 12), datetime(2026, 1, 1), 0.25)[0] is CompileStatus.MET_LATE
