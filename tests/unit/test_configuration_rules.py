"""What an administrator's tables must satisfy before anything is saved (SPEC §8)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from portal.domain.configuration import (TABLE, validate_authority, validate_choices, validate_departments,
                                         validate_penalties, validate_warnings)


def choice(code="claim", zh="理赔投诉", en="Claims", active=True, sort=1):
    return {"code": code, "name_zh": zh, "name_en": en, "active": active, "sort": sort}


def keys(refusals):
    return {(r.row, r.field, r.message.key) for r in refusals}


def test_a_good_choice_table_passes():
    assert validate_choices([choice(), choice("service", "服务", "Service", sort=2)], in_use=set(),
                            existing={"claim"}) == []


@pytest.mark.parametrize("rows, expected", [
    ([choice(code="Claim")], (0, "code", "config.bad_code")),
    ([choice(code="c")], (0, "code", "config.bad_code")),
    ([choice(code=None)], (0, "code", "config.bad_code")),
    ([choice(), choice(zh="另一个")], (1, "code", "config.duplicate_code")),
    ([choice(zh="  ")], (0, "name_zh", "form.required")),
    ([choice(en="x" * 61)], (0, "name_en", "form.too_long")),
    ([choice(active=False)], (TABLE, "active", "config.none_active")),
    ([choice(active="yes")], (0, "active", "form.bad_value")),
    ([choice(sort=-1)], (0, "sort", "config.whole_number")),
    ([choice(code="service")], (TABLE, "code", "config.never_delete")),     # claim removed
])
def test_a_bad_choice_row_is_refused_with_its_reason(rows, expected):
    assert expected in keys(validate_choices(rows, in_use=set(), existing={"claim"}))


def department(code="operations", investigates=True, active=True):
    return {**choice(code, "运营部", "Operations", active), "investigates": investigates}


def test_a_department_opened_to_cases_needs_a_handler():
    rows = [department(), department("legal", investigates=True)]
    assert (1, "investigates", "config.no_handler") in keys(
        validate_departments(rows, existing={}, handlers={"operations": 2}))
    assert validate_departments([department(), department("legal", investigates=False)], existing={},
                                handlers={"operations": 2}) == []
    # made routable, or reactivated, by this edit: refused; already routable before: left as it was
    closed = {"legal": department("legal", investigates=False)}
    assert (1, "investigates", "config.no_handler") in keys(validate_departments(rows, existing=closed,
                                                                                 handlers={"operations": 1}))
    inactive = {"legal": department("legal", active=False)}
    assert (1, "investigates", "config.no_handler") in keys(validate_departments(rows, existing=inactive,
                                                                                 handlers={"operations": 1}))
    assert validate_departments(rows, existing={"legal": department("legal")}, handlers={"operations": 1}) == []
    assert (TABLE, "investigates", "config.nowhere_to_route") in keys(
        validate_departments([department(investigates=False)], existing={}, handlers={}))


def level(key, rank, limit, major=False):
    return {"key": key, "name_zh": key, "name_en": key, "rank": rank, "max_amount": limit, "covers_major": major}


DEFAULT = [level("dept_manager", 1, Decimal("5000")), level("deputy_gm", 2, Decimal("50000")),
           level("gm", 3, None, True)]


def test_the_default_authority_levels_pass():
    assert validate_authority(DEFAULT, in_use={"gm"}) == []


@pytest.mark.parametrize("rows, expected", [
    ([level("lo", 1, Decimal("5000")), level("mid", 2, Decimal("5000")), level("gm", 3, None, True)],
     (1, "max_amount", "config.authority_overlap")),                         # same limit: overlap
    ([level("lo", 1, Decimal("50000")), level("mid", 2, Decimal("5000")), level("gm", 3, None, True)],
     (1, "max_amount", "config.authority_overlap")),
    ([level("lo", 1, Decimal("5000")), level("gm", 2, Decimal("50000"), True)],
     (1, "max_amount", "config.authority_gap")),                             # above 50,000: nobody
    ([level("lo", 1, None), level("gm", 2, None, True)], (0, "max_amount", "config.unlimited_not_top")),
    ([level("lo", 1, Decimal("5000")), level("gm", 1, None, True)], (1, "rank", "config.same_rank")),
    ([level("lo", 1, Decimal("5000")), level("gm", 2, None)], (TABLE, "covers_major", "config.no_major_level")),
    ([level("lo", 1, Decimal("-1")), level("gm", 2, None, True)], (0, "max_amount", "form.bad_amount")),
    ([level("lo", 1, Decimal("0.001")), level("gm", 2, None, True)], (0, "max_amount", "form.bad_amount")),
])
def test_an_authority_gap_or_overlap_is_refused(rows, expected):
    assert expected in keys(validate_authority(rows, in_use=set()))


def test_a_level_in_use_cannot_be_removed():
    assert (TABLE, "key", "config.level_in_use") in keys(validate_authority(DEFAULT[1:], in_use={"dept_manager"}))


def penalty(level_="none", loss="0", kind="none"):
    return {"level": level_, "name_zh": "无", "name_en": "None", "department_loss": loss, "penalty_type": kind,
            "sort": 0}


def test_the_penalty_standard_keeps_a_level_without_fault():
    assert validate_penalties([penalty(), penalty("general", "2000", "warning")], in_use=set()) == []
    assert (TABLE, "level", "config.penalty_none_needed") in keys(
        validate_penalties([penalty("general", "2000", "warning")], in_use=set()))
    assert (0, "penalty_type", "form.choose_one") in keys(validate_penalties([penalty(kind="jail")], in_use=set()))
    assert (0, "department_loss", "form.bad_amount") in keys(validate_penalties([penalty(loss="abc")], in_use=set()))


def test_warning_thresholds_are_rates_and_their_set_is_fixed():
    rows = [{"key": k, "value": "0.1"} for k in ("warning.satisfaction_min", "warning.overdue_rate_max",
                                                "warning.repeat_rate_max", "warning.volume_growth_max",
                                                *(f"warning.satisfaction_min.{d}" for d in
                                                  ("process", "attitude", "efficiency", "result")),
                                                "warning.complaint_rate_max")]
    assert validate_warnings(rows) == []
    # the complaint rate per 10,000 policies may be empty (no warning) or a number from 0, not a rate
    assert validate_warnings([*rows[:-1], {"key": "warning.complaint_rate_max", "value": ""}]) == []
    assert validate_warnings([*rows[:-1], {"key": "warning.complaint_rate_max", "value": "12.5"}]) == []
    assert (len(rows) - 1, "value", "config.per_policies_range") in keys(
        validate_warnings([*rows[:-1], {"key": "warning.complaint_rate_max", "value": "-1"}]))
    assert (len(rows) - 1, "value", "config.per_policies_range") in keys(
        validate_warnings([*rows[:-1], {"key": "warning.complaint_rate_max", "value": "abc"}]))
    assert (4, "value", "config.rate_range") in keys(validate_warnings([*rows[:4], {**rows[4], "value": "1.2"},
                                                                        *rows[5:]]))
    assert (0, "value", "config.rate_range") in keys(validate_warnings([{**rows[0], "value": "1.5"}, *rows[1:]]))
    assert (TABLE, "key", "config.fixed_keys") in keys(validate_warnings(rows[1:]))


# -- clock rules, a year of the calendar, default routing --

from datetime import date  # noqa: E402

from portal.domain.clocks import PROCESS_LINE, Milestone, stops_after  # noqa: E402
from portal.domain.configuration import validate_categories, validate_clocks, validate_year_days  # noqa: E402

TODAY = date(2026, 11, 23)


def clock(**values):
    row = {"key": "closure", "unit": "days", "target": 13, "start_milestone": "accepted_at",
           "stop_milestone": "closed_at", "due_soon_percent": None, "effective_date": None}
    return {**row, **values}


def test_every_milestone_on_the_process_line_stops_only_later_ones():
    contact = {Milestone.RECEIVED: (Milestone.CUSTOMER_ACKNOWLEDGED,), Milestone.CLOSED: (Milestone.CLOSURE_NOTIFIED,)}
    for index, start in enumerate(PROCESS_LINE):
        assert stops_after(start) == PROCESS_LINE[index + 1:] + contact.get(start, ())
    assert stops_after(Milestone.MAJOR_FLAGGED) == (Milestone.MAJOR_REPORTED, Milestone.CLOSED)
    assert stops_after(Milestone.REVIEW_REQUESTED) == (Milestone.REVIEW_DECIDED,)
    assert stops_after(Milestone.MAJOR_REPORTED) == ()            # a clock cannot start at an end
    assert all(Milestone.MAJOR_REPORTED not in stops_after(m) for m in PROCESS_LINE)
    # a contact with the customer ends only its own clock (from receipt, from closure), never a process step's
    assert stops_after(Milestone.CUSTOMER_ACKNOWLEDGED) == () and stops_after(Milestone.CLOSURE_NOTIFIED) == ()
    assert Milestone.CUSTOMER_ACKNOWLEDGED not in stops_after(Milestone.ACCEPTED)


@pytest.mark.parametrize("values, expected", [
    ({}, set()),
    ({"due_soon_percent": 40, "effective_date": TODAY}, set()),
    ({"unit": "hours", "target": 8760}, set()),
    ({"stop_milestone": "received_at"}, {(0, "stop_milestone", "config.clock.never_stops")}),
    ({"start_milestone": "major_reported_at"}, {(0, "stop_milestone", "config.clock.never_stops")}),
    ({"effective_date": date(2026, 11, 22)}, {(0, "effective_date", "config.clock.past_date")}),
    ({"effective_date": "2026-12-01"}, {(0, "effective_date", "config.clock.bad_date")}),
    ({"unit": "weeks"}, {(0, "unit", "form.bad_value")}),
    ({"unit": ["days"]}, {(0, "unit", "form.bad_value")}),
    ({"target": 367}, {(0, "target", "config.whole_number")}),
    ({"target": True}, {(0, "target", "config.whole_number")}),
    ({"due_soon_percent": 0}, {(0, "due_soon_percent", "config.whole_number")}),
    ({"start_milestone": None}, {(0, "start_milestone", "form.bad_value")}),
])
def test_a_clock_row_is_checked(values, expected):
    assert keys(validate_clocks([clock(**values)], current={"closure": {"regulatory": False}}, today=TODAY)) == expected


def test_the_regulators_clock_changes_only_its_days_and_never_past_the_regulations_fifteen():
    regulatory = {"regulatory": {"regulatory": True}}
    row = clock(key="regulatory", start_milestone="received_at", stop_milestone="decision_told_at", target=15)
    assert validate_clocks([row], current=regulatory, today=TODAY) == []
    assert validate_clocks([{**row, "target": 10}], current=regulatory, today=TODAY) == []
    assert keys(validate_clocks([{**row, "target": 16}], current=regulatory, today=TODAY)) == {
        (0, "target", "config.clock.regulatory_limit")}
    # any other clock may be longer than fifteen days
    assert validate_clocks([{**row, "key": "closure", "target": 16}], current={"closure": {"regulatory": False}},
                           today=TODAY) == []
    for change in ({"unit": "working_days"}, {"start_milestone": "accepted_at"}, {"stop_milestone": "closed_at"}):
        assert (0, "unit", "config.clock.regulatory_fixed") in keys(
            validate_clocks([{**row, **change}], current=regulatory, today=TODAY))


@pytest.mark.parametrize("row, expected", [
    ({"day": date(2027, 10, 1), "is_working": False, "note": "国庆节"}, set()),
    ({"day": date(2027, 9, 25), "is_working": True, "note": "调休上班"}, set()),        # a Saturday
    ({"day": date(2027, 9, 24), "is_working": True, "note": "上班"}, {(0, "is_working", "config.calendar.ordinary")}),
    ({"day": date(2028, 1, 1), "is_working": False, "note": "元旦"}, {(0, "day", "config.calendar.other_year")}),
    ({"day": date(2027, 10, 1), "is_working": False, "note": ""}, {(0, "note", "form.required")}),
    ({"day": None, "is_working": False, "note": "假"}, {(0, "day", "form.required")}),
    ({"day": date(2027, 10, 1), "is_working": 0, "note": "假"}, {(0, "is_working", "form.bad_value")}),
])
def test_a_row_of_a_years_holidays_is_checked(row, expected):
    assert keys(validate_year_days(2027, [row])) == expected


def test_a_day_listed_twice_is_refused_with_the_first_row():
    day = {"day": date(2027, 10, 1), "is_working": False, "note": "国庆节"}
    assert keys(validate_year_days(2027, [day, dict(day)])) == {(1, "day", "config.calendar.duplicate_day")}


def test_a_category_routes_by_default_only_to_departments_that_take_cases():
    row = {**choice(), "default_departments": ["operations", "claims"]}
    assert validate_categories([row], existing={"claim"}, routable={"operations", "claims"}) == []
    assert validate_categories([{**row, "default_departments": []}], existing={"claim"}, routable=set()) == []
    assert keys(validate_categories([row], existing={"claim"}, routable={"operations"})) == {
        (0, "default_departments", "config.not_routable")}
    assert keys(validate_categories([{**row, "default_departments": "operations"}], existing={"claim"},
                                    routable={"operations"})) == {(0, "default_departments", "form.bad_value")}
