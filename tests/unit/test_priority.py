"""Queue order (issue 15 §4): 重大 first, then urgency, then the nearest running due time (overdue
first), then the oldest; open cases before closed ones in a mixed list."""
from datetime import datetime, timedelta

from portal.domain import priority
from portal.domain.priority import LAST_RANK, next_due, queue_rank, sort_key

T = datetime(2025, 10, 9, 9, 0)


def _rank(**kw) -> int:
    values = dict(open_=True, severity="general", urgency="normal", has_due=True)
    values.update(kw)
    return queue_rank(**values)


def test_a_major_case_comes_before_any_urgency_of_an_ordinary_one():
    assert _rank(severity="major", urgency="normal") < _rank(severity="general", urgency="very_urgent")
    assert _rank(severity="major", urgency="normal", has_due=False) < _rank(severity="important", urgency="very_urgent")


def test_urgency_orders_cases_of_the_same_severity():
    ranks = [_rank(urgency=u) for u in ("very_urgent", "urgent", "normal")]
    assert ranks == sorted(ranks) and len(set(ranks)) == 3


def test_important_is_not_major_only_major_goes_first():
    assert _rank(severity="important") == _rank(severity="general")


def test_a_case_with_a_due_time_comes_before_one_without_in_the_same_rank():
    assert _rank(has_due=True) < _rank(has_due=False)
    assert _rank(has_due=False) < _rank(urgency="normal", severity="general", open_=False)


def test_every_open_case_comes_before_every_closed_one():
    worst_open = _rank(severity="general", urgency="normal", has_due=False)
    best_closed = _rank(severity="major", urgency="very_urgent", open_=False)
    assert worst_open < best_closed
    assert 0 <= _rank(severity="major", urgency="very_urgent") and best_closed <= LAST_RANK


def test_unknown_values_rank_like_the_ordinary_ones():
    assert _rank(severity="??", urgency="??") == _rank(severity="general", urgency="normal")


def test_the_next_due_time_is_the_earliest_of_running_unheld_clocks():
    clocks = [(T + timedelta(hours=5), None, None),               # running
              (T + timedelta(hours=1), T, None),                  # stopped: does not count
              (T + timedelta(hours=2), None, T),                  # held by a hold: does not count
              (None, None, None),                                 # calendar missing: no due time
              (T + timedelta(hours=3), None, None)]
    assert next_due(clocks) == T + timedelta(hours=3)
    assert next_due([(T, T, None)]) is None and next_due([]) is None


def test_overdue_comes_first_then_due_later_then_none_then_the_oldest():
    def key(case_id, due, received, **kw):  # noqa: ANN001, ANN202
        values = dict(open_=True, severity="general", urgency="normal")
        values.update(kw)
        return sort_key(due=due, received=received, case_id=case_id, **values)
    cases = {
        "overdue": key(1, T - timedelta(hours=3), T - timedelta(days=3)),
        "due_later": key(2, T + timedelta(days=2), T - timedelta(days=9)),
        "no_due": key(3, None, T - timedelta(days=20)),
        "urgent_registered_last": key(4, T + timedelta(days=5), T, urgency="urgent"),
        "major_registered_last": key(5, T + timedelta(days=9), T + timedelta(hours=1), severity="major"),
        "same_due_older": key(6, T + timedelta(days=2), T - timedelta(days=10)),
    }
    order = sorted(cases, key=cases.get)
    assert order == ["major_registered_last", "urgent_registered_last", "overdue", "same_due_older", "due_later",
                     "no_due"]


def test_the_weights_keep_each_part_above_all_the_parts_below():
    assert priority.URGENCY_WEIGHT > priority.NO_DUE_WEIGHT
    assert priority.SEVERITY_WEIGHT > (priority.URGENCY_LEVELS - 1) * priority.URGENCY_WEIGHT + priority.NO_DUE_WEIGHT
    assert priority.CLOSED_WEIGHT > priority.OTHER_SEVERITY * priority.SEVERITY_WEIGHT + \
        (priority.URGENCY_LEVELS - 1) * priority.URGENCY_WEIGHT + priority.NO_DUE_WEIGHT
