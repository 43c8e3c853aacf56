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
                                                "warning.repeat_rate_max", "warning.volume_growth_max")]
    assert validate_warnings(rows) == []
    assert (0, "value", "config.rate_range") in keys(validate_warnings([{**rows[0], "value": "1.5"}, *rows[1:]]))
    assert (TABLE, "key", "config.fixed_keys") in keys(validate_warnings(rows[1:]))
