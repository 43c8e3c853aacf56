"""`domain.closing`'s rectification rules (issue 18): the item's badge, the day its effect is confirmed, the
催办单's key per item and round, and which cause may be chosen."""
from __future__ import annotations

from datetime import date, datetime

from portal.domain.clocks import Badge
from portal.domain.closing import deadline_end, effect_due_on, rectification_badge, reminder_key, valid_cause

CREATED = datetime(2025, 10, 1, 9, 0)
DEADLINE = date(2025, 10, 10)            # due by 2025-10-11 00:00: a span of 9 days 15 hours


def test_an_item_is_due_by_the_end_of_its_deadline_day():
    assert deadline_end(DEADLINE) == datetime(2025, 10, 11)


def test_the_badge_runs_on_track_due_soon_overdue():
    assert rectification_badge(CREATED, DEADLINE, None, datetime(2025, 10, 5), 0.2) is Badge.ON_TRACK
    # the last fifth of the span starts 1 day 22.8 hours before the end
    assert rectification_badge(CREATED, DEADLINE, None, datetime(2025, 10, 9, 1, 0), 0.2) is Badge.ON_TRACK
    assert rectification_badge(CREATED, DEADLINE, None, datetime(2025, 10, 9, 2, 0), 0.2) is Badge.DUE_SOON
    assert rectification_badge(CREATED, DEADLINE, None, datetime(2025, 10, 10, 23, 59), 0.2) is Badge.DUE_SOON
    assert rectification_badge(CREATED, DEADLINE, None, datetime(2025, 10, 11), 0.2) is Badge.OVERDUE


def test_a_done_item_is_met_or_met_late_whatever_the_time_now():
    late_now = datetime(2026, 1, 1)
    assert rectification_badge(CREATED, DEADLINE, datetime(2025, 10, 10, 23, 59), late_now, 0.2) is Badge.MET
    assert rectification_badge(CREATED, DEADLINE, datetime(2025, 10, 11, 0, 0), late_now, 0.2) is Badge.MET
    assert rectification_badge(CREATED, DEADLINE, datetime(2025, 10, 11, 0, 1), late_now, 0.2) is Badge.MET_LATE


def test_the_effect_is_confirmed_a_set_number_of_calendar_days_after_completion():
    assert effect_due_on(datetime(2025, 10, 12, 23, 0), 30) == date(2025, 11, 11)
    assert effect_due_on(datetime(2025, 12, 20, 8, 0), 15) == date(2026, 1, 4)
    assert effect_due_on(datetime(2025, 12, 20, 8, 0), 0) == date(2025, 12, 20)


def test_one_reminder_key_per_item_and_round():
    assert reminder_key(7, 1) == "rect:7:1"
    assert reminder_key(7, 2) != reminder_key(7, 1) != reminder_key(8, 1)
    assert len(reminder_key(10**12, 99)) <= 40          # fits the reminders' clock_key column


def test_only_an_active_sub_cause_is_a_valid_cause():
    active = ["process.execution", "people.attitude"]
    assert valid_cause("process.execution", active)
    assert not valid_cause("process", active + ["process"])         # a class alone says too little
    assert not valid_cause("system.outage", active)                 # inactive or unknown
    assert not valid_cause("", active) and not valid_cause(None, active)
