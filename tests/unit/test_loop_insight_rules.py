"""Issue 18's statistics rules and configuration validators, as plain functions."""
from __future__ import annotations

from datetime import date

import pytest

from portal.domain.configuration import (BASELINE_KEYS, TABLE, validate_baselines, validate_causes,
                                         validate_checklist, validate_policies_in_force)
from portal.domain.statistics import (Indicator, Period, early_warnings, fold_profile, in_force_day, indicator_text,
                                      thresholds_from)

SEEDED = {"warning.satisfaction_min": "0.75", "warning.overdue_rate_max": "0.10", "warning.repeat_rate_max": "0.05",
          "warning.volume_growth_max": "0.30", "warning.complaint_rate_max": "",
          **{f"satisfaction.baseline.{d}": v for d, v in (("overall", "0.75"), ("process", "0.80"),
                                                           ("attitude", "0.78"), ("efficiency", "0.72"),
                                                           ("result", "0.76"))},
          **{f"warning.satisfaction_min.{d}": v for d, v in (("process", "0.80"), ("attitude", "0.78"),
                                                             ("efficiency", "0.72"), ("result", "0.76"))}}


def keys(refusals):  # noqa: ANN001, ANN201
    return [(r.row, r.field, r.message.key) for r in refusals]


def test_each_dimension_warns_below_its_own_threshold_and_the_complaint_rate_is_off_while_empty():
    thresholds = thresholds_from(SEEDED)
    assert thresholds[Indicator.SATISFACTION] == 0.75 and thresholds[Indicator.SATISFACTION_PROCESS] == 0.80
    assert thresholds[Indicator.SATISFACTION_EFFICIENCY] == 0.72 and Indicator.COMPLAINT_RATE not in thresholds
    # a dimension's threshold missing: its baseline
    without = {k: v for k, v in SEEDED.items() if k != "warning.satisfaction_min.result"}
    assert thresholds_from(without)[Indicator.SATISFACTION_RESULT] == 0.76
    values = {Indicator.SATISFACTION: 0.76, Indicator.SATISFACTION_PROCESS: 0.79, Indicator.SATISFACTION_ATTITUDE: 0.78,
              Indicator.SATISFACTION_EFFICIENCY: 0.73, Indicator.SATISFACTION_RESULT: None,
              Indicator.COMPLAINT_RATE: 99.0}
    assert [w.indicator for w in early_warnings(values, thresholds, "2025-11")] == [Indicator.SATISFACTION_PROCESS]
    thresholds = thresholds_from({**SEEDED, "warning.complaint_rate_max": "2.5"})
    warned = early_warnings({Indicator.COMPLAINT_RATE: 2.6}, thresholds, "2025-11")
    assert [(w.indicator, w.value, w.threshold) for w in warned] == [(Indicator.COMPLAINT_RATE, 2.6, 2.5)]


def test_a_rate_reads_as_a_percentage_and_the_complaint_rate_as_a_number_per_10000_policies():
    assert indicator_text("satisfaction_result", 2 / 3) == "66.7%"
    assert indicator_text("complaint_rate", 5) == "5.00" and indicator_text("overdue_rate", None) == "—"


def test_policies_in_force_are_counted_on_the_periods_last_day():
    assert in_force_day(Period.month(2025, 2)) == date(2025, 2, 28)
    assert in_force_day(Period(date(2025, 3, 5), date(2025, 4, 9))) == date(2025, 4, 9)


def test_the_profile_lists_ten_occupations_then_other_and_an_empty_value_as_unknown():
    groups = [("male", "35_44", f"职业{i:02d}", 20 - i) for i in range(12)] + [("female", "", "", 3),
                                                                             (None, "25_34", "  ", 1)]
    profile = fold_profile(groups)
    occupations = [(r["value"], r["count"]) for r in profile["occupation"]]
    # 职业00…职业09 (20…11) by name; 职业10 (10), 职业11 (9) and the 4 not given are the "other" 23
    assert occupations == [(f"职业{i:02d}", 20 - i) for i in range(10)] + [("other", 10 + 9 + 4)]
    assert [(r["value"], r["count"]) for r in profile["gender"]] == [("male", sum(20 - i for i in range(12))),
                                                                      ("female", 3), ("unknown", 1)]
    assert {r["value"]: r["count"] for r in profile["age_band"]} == {"35_44": 174, "unknown": 3, "25_34": 1}


def cause(code, zh="名称", en="Name", active=True, sort=0):  # noqa: ANN001, ANN201
    return {"code": code, "name_zh": zh, "name_en": en, "active": active, "sort": sort}


def test_causes_are_two_levels_and_a_cause_in_use_is_deactivated_not_removed():
    rows = [cause("people"), cause("people.attitude"), cause("process"), cause("process.design")]
    existing = {"people", "people.attitude", "process", "process.design"}
    assert validate_causes(rows, existing=existing, in_use={"people.attitude", "people"}) == []
    assert (0, "code", "config.cause.bad_code") in keys(validate_causes(
        [cause("People.x"), *rows[1:]], existing=set(), in_use=set()))
    assert (4, "code", "config.cause.no_class") in keys(validate_causes(
        [*rows, cause("system.outage")], existing=existing, in_use=set()))
    assert (1, "active", "config.cause.class_inactive") in keys(validate_causes(
        [cause("people", active=False), *rows[1:]], existing=existing, in_use=set()))
    # renaming a chosen cause is removing it: refused; an unused one may go
    renamed = [rows[0], cause("people.manner"), *rows[2:]]
    assert (TABLE, "code", "config.cause.in_use") in keys(validate_causes(renamed, existing=existing,
                                                                          in_use={"people.attitude"}))
    assert validate_causes(rows[:3], existing=existing, in_use={"people.attitude"}) == []
    assert (TABLE, "code", "config.cause.class_has_subs") in keys(validate_causes(
        [rows[1], *rows[2:]], existing=existing, in_use=set()))
    assert (3, "code", "config.duplicate_code") in keys(validate_causes([*rows[:3], cause("people.attitude")],
                                                                        existing=existing, in_use=set()))
    assert (0, "name_zh", "form.required") in keys(validate_causes([cause("people", zh=" "), *rows[1:]],
                                                                   existing=existing, in_use=set()))
    assert (TABLE, "active", "config.none_active") in keys(validate_causes(
        [rows[0], cause("people.attitude", active=False)], existing={"people", "people.attitude"}, in_use=set()))


def test_the_checklist_keeps_every_point_and_one_active():
    rows = [{"code": "deadlines", "text_zh": "时限", "text_en": "Limits", "active": True, "sort": 0}]
    assert validate_checklist(rows, existing={"deadlines"}) == []
    assert (TABLE, "code", "config.never_delete") in keys(validate_checklist(rows, existing={"deadlines", "records"}))
    assert (TABLE, "active", "config.none_active") in keys(validate_checklist([{**rows[0], "active": False}],
                                                                              existing={"deadlines"}))
    assert (0, "text_en", "form.too_long") in keys(validate_checklist([{**rows[0], "text_en": "x" * 201}],
                                                                      existing=set()))


def test_baselines_are_rates_and_their_set_is_fixed():
    rows = [{"key": k, "value": "0.75"} for k in BASELINE_KEYS]
    assert validate_baselines(rows) == []
    assert (0, "value", "config.rate_range") in keys(validate_baselines([{**rows[0], "value": "75"}, *rows[1:]]))
    assert (TABLE, "key", "config.fixed_keys") in keys(validate_baselines(rows[1:]))


@pytest.mark.parametrize("period, count, problem", [
    ("2025-13", 10, (0, "period", "config.bad_month")), ("2025/11", 10, (0, "period", "config.bad_month")),
    ("2025-11", -1, (0, "count", "config.whole_number")), ("2025-11", 1.5, (0, "count", "config.whole_number")),
    ("2025-11", "many", (0, "count", "config.whole_number"))])
def test_a_monthly_policies_figure_is_a_month_and_a_whole_number(period, count, problem):
    assert problem in keys(validate_policies_in_force([{"period": period, "count": count}], existing=set()))


def test_monthly_policies_figures_are_once_a_month_and_never_removed():
    rows = [{"period": "2025-11", "count": 8000}, {"period": "2025-10", "count": 0}]
    assert validate_policies_in_force(rows, existing={"2025-11"}) == []
    assert (1, "period", "config.duplicate_code") in keys(validate_policies_in_force(
        [rows[0], {**rows[1], "period": "2025-11"}], existing=set()))
    assert (TABLE, "period", "config.never_delete") in keys(validate_policies_in_force(rows[1:],
                                                                                       existing={"2025-11"}))
