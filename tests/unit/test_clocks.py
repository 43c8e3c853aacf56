from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from portal.domain.clocks import Badge, ClockRule, Holds, Milestone, Unit, badge_one, due_one, evaluate

ACK = ClockRule("acknowledge", Unit.HOURS, 24, Milestone.RECEIVED, Milestone.ACCEPTED)
CLOSURE = ClockRule("closure", Unit.DAYS, 13, Milestone.ACCEPTED, Milestone.CLOSED, pausable=True)
INVESTIGATION = ClockRule("investigation", Unit.WORKING_DAYS, 7, Milestone.ACCEPTED,
                          Milestone.INVESTIGATION_DONE, pausable=True)
START = datetime(2025, 11, 3, 9, 0)


def test_hour_clocks_run_on_the_clock(cal):
    assert due_one(ACK, START, cal) == datetime(2025, 11, 4, 9, 0)


def test_calendar_day_clocks_are_not_moved_off_holidays(cal):
    # 13 days from 2025-09-27 ends 2025-10-10 24:00 even though Oct 1–8 were holidays.
    assert due_one(CLOSURE, datetime(2025, 9, 27, 15, 0), cal) == datetime(2025, 10, 11)
    # ends on a holiday: 15 days from 2025-09-17 is 2025-10-02, not moved.
    regulatory = ClockRule("regulatory", Unit.DAYS, 15, Milestone.RECEIVED, Milestone.DECISION_TOLD)
    assert due_one(regulatory, datetime(2025, 9, 17, 10, 0), cal) == datetime(2025, 10, 3)


@pytest.mark.parametrize("now, stop, paused, expected", [
    (START + timedelta(hours=1), None, False, Badge.ON_TRACK),
    (START + timedelta(hours=18, minutes=1), None, False, Badge.DUE_SOON),   # < 25 % of 24 h left
    (START + timedelta(hours=17, minutes=59), None, False, Badge.ON_TRACK),
    (START + timedelta(hours=24, minutes=1), None, False, Badge.OVERDUE),
    (START + timedelta(hours=30), START + timedelta(hours=23), False, Badge.MET),
    (START + timedelta(hours=30), START + timedelta(hours=25), False, Badge.MET_LATE),
    (START + timedelta(hours=30), None, True, Badge.OVERDUE),    # the acknowledgement never pauses
])
def test_badges(cal, now, stop, paused, expected):
    assert badge_one(ACK, START, stop, now, cal, 0.25, Holds(paused=paused))[0] is expected


def test_a_hold_pauses_resolution_clocks_and_moves_their_due_time(cal):
    start = datetime(2025, 11, 3, 9, 0)
    assert badge_one(CLOSURE, start, None, start + timedelta(days=30), cal, 0.25, Holds(paused=True))[0] is Badge.PAUSED
    three_days = Holds(paused_seconds=3 * 86400)
    assert due_one(CLOSURE, start, cal, three_days) == due_one(CLOSURE, start, cal) + timedelta(days=3)
    assert due_one(ACK, start, cal, three_days) == due_one(ACK, start, cal)


def test_the_regulatory_clock_extends_and_stops_for_appraisal_only():
    from tests.unit.conftest import official_calendar
    regulatory = ClockRule("regulatory", Unit.DAYS, 15, Milestone.RECEIVED, Milestone.DECISION_TOLD, regulatory=True)
    start = datetime(2025, 11, 3, 9, 0)
    cal = official_calendar(2025)
    base = due_one(regulatory, start, cal)
    assert base == datetime(2025, 11, 19)
    assert due_one(regulatory, start, cal, Holds(extension_days=15)) == datetime(2025, 12, 4)
    assert due_one(regulatory, start, cal, Holds(extension_days=45, outside_seconds=86400)) == datetime(2026, 1, 4)
    assert badge_one(regulatory, start, None, start + timedelta(days=40), cal, 0.25, Holds(outside=True))[0] is Badge.PAUSED
    assert badge_one(regulatory, start, None, start + timedelta(days=40), cal, 0.25, Holds(paused=True))[0] is Badge.OVERDUE


def test_a_clock_that_has_not_started_has_no_badge(cal):
    assert badge_one(INVESTIGATION, None, None, START, cal, 0.25) == (Badge.NOT_STARTED, None)


def test_a_working_day_clock_without_calendar_is_flagged(cal):
    badge, due = badge_one(INVESTIGATION, datetime(2026, 12, 29, 9), None, datetime(2026, 12, 30), cal, 0.25)
    assert badge is Badge.CALENDAR_MISSING and due is None


def test_vectorised_badges_equal_the_per_case_rule(cal):
    rng = np.random.default_rng(11)
    n = 4000
    starts = pd.Series(pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 720 * 24 * 60, n), unit="min"))
    starts[rng.random(n) < 0.1] = pd.NaT
    stops = starts + pd.to_timedelta(rng.integers(0, 20 * 24 * 60, n), unit="min")
    stops[rng.random(n) < 0.6] = pd.NaT
    frame = pd.DataFrame({m.value: pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")
                          for m in Milestone})
    frame["received_at"] = starts
    frame["accepted_at"] = starts
    frame["closed_at"] = stops
    frame["investigation_done_at"] = stops
    frame["paused"] = rng.random(n) < 0.05
    frame["paused_seconds"] = np.where(rng.random(n) < 0.2, rng.integers(0, 5 * 86400, n), 0)
    frame["outside"] = rng.random(n) < 0.05
    frame["outside_seconds"] = np.where(rng.random(n) < 0.2, rng.integers(0, 5 * 86400, n), 0)
    frame["regulatory_extension_days"] = rng.choice([0, 15, 45], n)
    now = datetime(2026, 6, 1, 12, 0)
    rules = [ACK, CLOSURE, INVESTIGATION,
             ClockRule("regulatory", Unit.DAYS, 15, Milestone.RECEIVED, Milestone.DECISION_TOLD, regulatory=True)]
    result = evaluate(rules, frame, now, cal, 0.25)
    for i in range(n):
        for rule in rules:
            start = frame.at[i, rule.start.value]
            stop = frame.at[i, rule.stop.value]
            expected, due = badge_one(rule, None if pd.isna(start) else start.to_pydatetime(),
                                      None if pd.isna(stop) else stop.to_pydatetime(), now, cal, 0.25,
                                      Holds(bool(frame.at[i, "paused"]), int(frame.at[i, "paused_seconds"]),
                                            bool(frame.at[i, "outside"]), int(frame.at[i, "outside_seconds"]),
                                            int(frame.at[i, "regulatory_extension_days"])))
            assert result.at[i, f"{rule.key}_badge"] == expected, (i, rule.key)
            got_due = result.at[i, f"{rule.key}_due"]
            if due is not None:
                assert pd.Timestamp(got_due) == pd.Timestamp(due)
