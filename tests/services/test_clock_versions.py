"""时限规则 with effective dates (SPEC §8, issue 9): a change applies to complaints received from its
effective instant; a case already received keeps the rule it was received under, on the page, in the
stored dues the filters and statistics read, and in the reminders. A bad rule saves nothing."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.domain.clocks import Badge
from portal.persistence.models import CaseClock, Event, SlaClockVersion
from portal.services import complaints, configuration, queries, rules
from portal.services.configuration import ConfigurationRefused
from portal.services.queries import current_version
from tests.conftest import T0
from tests.helpers import a_form

CHANGE_AT = T0 + timedelta(hours=2)           # T0: 2025-09-30 10:00


def _register(uow, people, received: datetime, now: datetime) -> int:
    done = complaints.register_complaint(uow, actor=people.clerk, form=a_form(received_at=received),
                                         attachments=[], now=now)
    return done.id


def _rows(uow, people, now=CHANGE_AT) -> list[dict]:
    return configuration.load_clocks(uow, actor=people.admin, now=now)


def _set(rows: list[dict], key: str, **values) -> list[dict]:
    for row in rows:
        if row["key"] == key:
            row.update(values)
    return rows


def _clock(uow, people, case_id: int, key: str, now: datetime):
    case = queries.case_detail(uow, actor=people.gmo, complaint_id=case_id, now=now,
                               calendar=rules.load_calendar(uow))
    return next(c for c in case.clocks if c.info.rule.key == key)


def _stored_due(uow, case_id: int, key: str) -> datetime | None:
    with uow.read() as session:
        return session.scalar(select(CaseClock.due_at).where(CaseClock.complaint_id == case_id,
                                                             CaseClock.clock_key == key))


def _count(uow, model, *where) -> int:
    with uow.read() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_new_target_governs_new_cases_and_leaves_a_running_case_alone(uow, people):
    running = _register(uow, people, T0 - timedelta(hours=1), T0)
    before = _clock(uow, people, running, "acknowledge", CHANGE_AT)
    assert before.due == T0 + timedelta(hours=23) and _stored_due(uow, running, "acknowledge") == before.due

    rows = _set(_rows(uow, people), "acknowledge", target=8, due_soon_percent=50)
    assert configuration.save_clocks(uow, actor=people.admin, rows=rows, now=CHANGE_AT) == 1

    new = _register(uow, people, CHANGE_AT + timedelta(minutes=5), CHANGE_AT + timedelta(minutes=10))
    fresh = _clock(uow, people, new, "acknowledge", CHANGE_AT + timedelta(minutes=10))
    assert (fresh.rule.target, fresh.due) == (8, CHANGE_AT + timedelta(hours=8, minutes=5))
    assert _stored_due(uow, new, "acknowledge") == fresh.due
    # the running case keeps its 24 hours: on its page and in its stored due, even when written again
    complaints.accept_complaint(uow, actor=people.gmo, complaint_id=running, category="claim", severity="general",
                                departments=["operations"], now=CHANGE_AT + timedelta(hours=1))
    kept = _clock(uow, people, running, "acknowledge", CHANGE_AT + timedelta(hours=1))
    assert (kept.rule.target, kept.due) == (24, before.due)
    assert _stored_due(uow, running, "acknowledge") == before.due
    # the new version's own 临期 line: half of 8 hours left
    assert _clock(uow, people, new, "acknowledge", CHANGE_AT + timedelta(hours=4, minutes=4)).badge is Badge.ON_TRACK
    assert _clock(uow, people, new, "acknowledge", CHANGE_AT + timedelta(hours=4, minutes=6)).badge is Badge.DUE_SOON


def test_a_badge_filter_reads_each_case_under_its_own_version(uow, people):
    old = _register(uow, people, T0, T0)
    configuration.save_clocks(uow, actor=people.admin, rows=_set(_rows(uow, people), "acknowledge", target=1),
                              now=CHANGE_AT)
    new = _register(uow, people, CHANGE_AT, CHANGE_AT)
    at = CHANGE_AT + timedelta(hours=3)        # the new case is 2 hours past its 1 hour; the old one has 21 left
    with uow.read() as session:
        overdue = set(session.scalars(select(CaseClock.complaint_id).where(
            CaseClock.clock_key == "acknowledge", queries.running_clock_condition("overdue", at))))
    assert new in overdue and old not in overdue


def test_a_later_effective_date_waits_and_can_be_edited_until_then(uow, people):
    rows = _set(_rows(uow, people), "closure", target=10, effective_date=date(2025, 10, 8))
    configuration.save_clocks(uow, actor=people.admin, rows=rows, now=CHANGE_AT)
    shown = {r["key"]: r for r in _rows(uow, people)}["closure"]
    assert (shown["target"], shown["effective_date"]) == (10, date(2025, 10, 8))
    history = [v for v in configuration.clock_history(uow, actor=people.admin, now=CHANGE_AT) if v.key == "closure"]
    assert [(v.target, v.pending, v.effective_from, v.effective_until) for v in history] == [
        (10, True, datetime(2025, 10, 8), None), (13, False, datetime(2000, 1, 1), datetime(2025, 10, 8))]
    before_date = _register(uow, people, datetime(2025, 10, 7, 9), datetime(2025, 10, 7, 9))
    on_date = _register(uow, people, datetime(2025, 10, 8, 9), datetime(2025, 10, 8, 9))
    assert _clock(uow, people, before_date, "closure", datetime(2025, 10, 8, 9)).rule.target == 13
    assert _clock(uow, people, on_date, "closure", datetime(2025, 10, 8, 9)).rule.target == 10

    # edited again before it takes effect: the scheduled version changes in place, no second one
    rows = _set(_rows(uow, people), "closure", target=11, effective_date=date(2025, 10, 9))
    configuration.save_clocks(uow, actor=people.admin, rows=rows, now=CHANGE_AT)
    assert _count(uow, SlaClockVersion, SlaClockVersion.clock_key == "closure") == 2
    assert _clock(uow, people, on_date, "closure", datetime(2025, 10, 8, 9)).rule.target == 13


def test_a_change_to_a_rule_in_force_never_edits_it(uow, people):
    configuration.save_clocks(uow, actor=people.admin, rows=_set(_rows(uow, people), "closure", target=12),
                              now=CHANGE_AT)
    _register(uow, people, CHANGE_AT + timedelta(minutes=1), CHANGE_AT + timedelta(minutes=1))
    later = CHANGE_AT + timedelta(hours=1)
    configuration.save_clocks(uow, actor=people.admin, rows=_set(_rows(uow, people, later), "closure", target=11),
                              now=later)
    history = [(v.target, v.effective_from) for v in configuration.clock_history(uow, actor=people.admin, now=later)
               if v.key == "closure"]
    assert history == [(11, later), (12, CHANGE_AT), (13, datetime(2000, 1, 1))]


def test_every_clock_change_is_one_audited_event_and_an_unchanged_save_writes_nothing(uow, people):
    rows = _set(_rows(uow, people), "investigation", unit="days", target=9)
    configuration.save_clocks(uow, actor=people.admin, rows=rows, now=CHANGE_AT)
    assert configuration.save_clocks(uow, actor=people.admin, rows=_rows(uow, people), now=CHANGE_AT) == 0
    assert _count(uow, Event, Event.action == "config.save") == 1
    [change] = configuration.change_log(uow, actor=people.admin, table="clocks")
    assert (change.key, change.actor) == ("investigation", "admin")
    assert (change.before["unit"], change.before["target"]) == ("working_days", 7)
    assert (change.after["unit"], change.after["target"], change.after["effective_from"]) == (
        "days", 9, "2025-09-30 12:00")


@pytest.mark.parametrize("key, values, field, reason", [
    ("closure", {"start_milestone": "closed_at", "stop_milestone": "accepted_at"}, "stop_milestone",
     "config.clock.never_stops"),
    ("closure", {"stop_milestone": "closed_at", "start_milestone": "closed_at"}, "stop_milestone",
     "config.clock.never_stops"),
    ("acknowledge", {"stop_milestone": "major_reported_at"}, "stop_milestone", "config.clock.never_stops"),
    ("major_report", {"stop_milestone": "accepted_at"}, "stop_milestone", "config.clock.never_stops"),
    ("closure", {"effective_date": date(2025, 9, 29)}, "effective_date", "config.clock.past_date"),
    ("regulatory", {"unit": "working_days"}, "unit", "config.clock.regulatory_fixed"),
    ("regulatory", {"stop_milestone": "closed_at"}, "unit", "config.clock.regulatory_fixed"),
    ("regulatory", {"target": 20}, "target", "config.clock.regulatory_limit"),
    ("closure", {"target": 0}, "target", "config.whole_number"),
    ("closure", {"target": 367}, "target", "config.whole_number"),
    ("acknowledge", {"target": 8761}, "target", "config.whole_number"),
    ("investigation", {"target": 251}, "target", "config.whole_number"),
    ("closure", {"target": 2.5}, "target", "config.whole_number"),
    ("closure", {"due_soon_percent": 100}, "due_soon_percent", "config.whole_number"),
    ("closure", {"unit": "weeks"}, "unit", "form.bad_value"),
    ("closure", {"start_milestone": "whenever"}, "start_milestone", "form.bad_value"),
    ("closure", {"effective_date": "2025-13-01"}, "effective_date", "config.clock.bad_date"),
    ("closure", {"effective_date": "下周一"}, "effective_date", "config.clock.bad_date"),
    ("closure", {"due_soon_percent": "一半"}, "due_soon_percent", "config.whole_number"),
    ("closure", {"target": "-3"}, "target", "config.whole_number"),
])
def test_a_bad_clock_rule_is_refused_with_its_reason_and_nothing_is_saved(uow, people, key, values, field, reason):
    versions = _count(uow, SlaClockVersion)
    rows = _set(_rows(uow, people), "acknowledge", target=10)       # a good change in the same save
    rows = _set(rows, key, **values)
    with pytest.raises(ConfigurationRefused) as refused:
        configuration.save_clocks(uow, actor=people.admin, rows=rows, now=CHANGE_AT)
    index = next(i for i, r in enumerate(rows) if r["key"] == key)
    assert (index, field, reason) in [(r.row, r.field, r.message.key) for r in refused.value.refusals]
    assert _count(uow, SlaClockVersion) == versions and _count(uow, Event, Event.action == "config.save") == 0


def test_clock_rows_are_fixed_and_only_an_administrator_changes_them(uow, people):
    rows = _rows(uow, people)
    with pytest.raises(ConfigurationRefused) as refused:
        configuration.save_clocks(uow, actor=people.admin, rows=rows[1:], now=CHANGE_AT)
    assert [r.message.key for r in refused.value.refusals] == ["config.fixed_keys"]
    from portal.domain.errors import PermissionDenied
    with pytest.raises(PermissionDenied):
        configuration.save_clocks(uow, actor=people.gmo, rows=rows, now=CHANGE_AT)


def test_typed_text_is_read_as_numbers_and_dates(uow, people):
    """The editor's cells are text: full-width digits, blanks and ISO dates are what they look like."""
    rows = _set(_rows(uow, people), "closure", target="１２", due_soon_percent="  ", effective_date="2025-10-08")
    rows = _set(rows, "acknowledge", due_soon_percent="30", effective_date="")
    assert configuration.save_clocks(uow, actor=people.admin, rows=rows, now=CHANGE_AT) == 2
    shown = {r["key"]: r for r in _rows(uow, people)}
    assert (shown["closure"]["target"], shown["closure"]["due_soon_percent"], shown["closure"]["effective_date"]) == (
        12, None, date(2025, 10, 8))
    assert (shown["acknowledge"]["due_soon_percent"], shown["acknowledge"]["effective_date"]) == (30, None)


def test_at_once_is_this_minute_unless_a_complaint_of_this_minute_is_already_in(uow, people):
    """Received times are kept to the minute: a complaint registered after the change in the same
    minute follows the new rule; one already registered in that minute keeps the old."""
    change = CHANGE_AT + timedelta(seconds=27)
    configuration.save_clocks(uow, actor=people.admin, rows=_set(_rows(uow, people, change), "acknowledge", target=8),
                              now=change)
    after = _register(uow, people, CHANGE_AT, change + timedelta(seconds=10))     # received 12:00, the form's minute
    assert _clock(uow, people, after, "acknowledge", change + timedelta(minutes=1)).rule.target == 8
    later = CHANGE_AT + timedelta(minutes=5, seconds=30)
    registered = _register(uow, people, CHANGE_AT + timedelta(minutes=5), later)
    configuration.save_clocks(uow, actor=people.admin, rows=_set(_rows(uow, people, later), "acknowledge", target=6),
                              now=later + timedelta(seconds=5))
    assert _clock(uow, people, registered, "acknowledge", later + timedelta(minutes=1)).rule.target == 8
    newer = _register(uow, people, CHANGE_AT + timedelta(minutes=6), CHANGE_AT + timedelta(minutes=6))
    assert _clock(uow, people, newer, "acknowledge", later + timedelta(minutes=1)).rule.target == 6


WEIRD = [None, True, [], ["days"], {"a": 1}, -1, 10**30, 1.5, float("nan"), "", "\u202e24", "２４", "24\x00",
         "2027-02-30", datetime(2030, 1, 1)]


@pytest.mark.parametrize("field", ["unit", "target", "start_milestone", "stop_milestone", "due_soon_percent",
                                   "effective_date", "key"])
def test_any_value_in_any_clock_field_is_saved_or_refused_never_a_crash(uow, people, field):
    for value in WEIRD:
        rows = _rows(uow, people)
        next(r for r in rows if r["key"] == "closure")[field] = value
        try:
            configuration.save_clocks(uow, actor=people.admin, rows=rows, now=CHANGE_AT)
        except ConfigurationRefused as refused:
            assert refused.refusals                      # refused with reasons, as a person reads them
    shown = {r["key"]: r for r in _rows(uow, people)}["closure"]
    assert isinstance(shown["target"], int) and shown["unit"] in ("hours", "days", "working_days")


def test_department_compliance_counts_each_case_under_its_own_version(uow, people):
    """调查处理 stops at the last report (a department's own step). A version that makes it stop at the
    GM office's acceptance instead (not a department's step) applies to new cases only: the case
    investigated under the old version still counts for its department."""
    from portal.services import handling, statistics
    from tests.services.test_handling import REPORT
    old = _register(uow, people, T0, T0)
    complaints.accept_complaint(uow, actor=people.gmo, complaint_id=old, category="claim", severity="general",
                                departments=["operations"], now=T0 + timedelta(minutes=30))
    rows = _set(_rows(uow, people), "investigation", start_milestone="received_at", stop_milestone="accepted_at")
    configuration.save_clocks(uow, actor=people.admin, rows=rows, now=CHANGE_AT)
    handling.submit_report(uow, actor=people.opshandler, complaint_id=old, report=REPORT, now=CHANGE_AT + timedelta(hours=1),
                           expected_version=current_version(uow, old))
    new = _register(uow, people, CHANGE_AT + timedelta(hours=1), CHANGE_AT + timedelta(hours=1))
    complaints.accept_complaint(uow, actor=people.gmo, complaint_id=new, category="claim", severity="general",
                                departments=["operations"], now=CHANGE_AT + timedelta(hours=2))
    from portal.domain.statistics import Period
    figures = statistics.monthly_table(uow, actor=people.gmo, now=CHANGE_AT + timedelta(hours=3),
                                       filters=statistics.StatsFilter(Period(date(2025, 9, 1), date(2025, 10, 31))))
    operations = next(r for r in figures["by_department"] if r["department"] == "operations")
    # the old case's investigation and initial plan count; the new case's (stopped at acceptance) does not
    assert operations["clocks_completed"] == 2


def test_reminders_go_where_each_cases_own_version_stops(uow, people):
    """结案 waits on the departments' reports (a reminder to them when overdue). A version that stops
    it at the GM office's consolidation instead is the GM office's own step: a new case overdue under
    it sends no 结案 reminder to a department, while the case received before still does."""
    from portal.persistence.models import Reminder
    from portal.services.reminders import issue_reminders
    old = _register(uow, people, T0, T0)
    complaints.accept_complaint(uow, actor=people.gmo, complaint_id=old, category="claim", severity="general",
                                departments=["operations"], now=T0 + timedelta(minutes=30))
    rows = _set(_rows(uow, people), "closure", start_milestone="accepted_at", stop_milestone="consolidated_at")
    configuration.save_clocks(uow, actor=people.admin, rows=rows, now=CHANGE_AT)
    new = _register(uow, people, CHANGE_AT + timedelta(hours=1), CHANGE_AT + timedelta(hours=1))
    complaints.accept_complaint(uow, actor=people.gmo, complaint_id=new, category="claim", severity="general",
                                departments=["operations"], now=CHANGE_AT + timedelta(hours=2))
    issue_reminders(uow, now=T0 + timedelta(days=20))                   # both are past 13 days, no report
    with uow.read() as session:
        closure = set(session.scalars(select(Reminder.complaint_id).where(Reminder.clock_key == "closure")))
        investigation = set(session.scalars(select(Reminder.complaint_id).where(
            Reminder.clock_key == "investigation")))
    assert closure == {old} and investigation == {old, new}
