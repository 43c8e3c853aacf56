from __future__ import annotations

import pytest

from portal.domain.calendar import CalendarDay, WorkingCalendar
from portal.services.calendar import package_day
from portal.services.rules import days_of_year


def official_calendar(*years: int) -> WorkingCalendar:
    days = []
    for year in years:
        for day in days_of_year(year):
            is_working, kind, note = package_day(day)
            days.append(CalendarDay(day, is_working, kind, note))
    return WorkingCalendar(days)


@pytest.fixture(scope="session")
def cal() -> WorkingCalendar:
    """The official mainland calendar of 2025 and 2026 only: 2024 and 2027 are "missing"."""
    return official_calendar(2025, 2026)
