"""The service desk's rules (002 ch.2): the preliminary check at its boundaries, the materials rule per kind
of claim, the major-claim criteria, request numbers and states, and the hand-over clock on the official
calendar."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from portal.domain.aftersales import (CheckFailure, ClaimLimit, DeskClock, DeskClockRule, LimitUnit, MajorClaimFacts,
                                      MajorReason, PolicyTerms, RequestKind, RequestState, TransitionRefused,
                                      desk_badge, desk_due, desk_soon, format_request_number, major_claim_reasons,
                                      missing_materials, needs_scene_preservation, next_state, number_period,
                                      preliminary_check, required_materials)
from portal.domain.clocks import Badge, Unit

TERMS = PolicyTerms(start=date(2025, 3, 1), end=date(2026, 2, 28), covered=frozenset({"accident_death", "hospital"}),
                    limit=ClaimLimit(2, LimitUnit.YEARS))


def check(event: datetime, cause: str = "hospital", reported: datetime | None = None,
          terms: PolicyTerms | None = TERMS):
    return preliminary_check(terms, event_at=event, cause=cause, reported_at=reported or event)


def test_an_event_at_midnight_on_the_first_day_and_late_on_the_last_day_is_covered():
    assert check(datetime(2025, 3, 1, 0, 0)).passed
    assert check(datetime(2026, 2, 28, 23, 59)).passed


def test_an_event_the_day_before_the_policy_or_the_day_after_it_ends_is_outside_its_period():
    assert check(datetime(2025, 2, 28, 23, 59)).failures == (CheckFailure.OUTSIDE_PERIOD,)
    assert check(datetime(2026, 3, 1, 0, 0)).failures == (CheckFailure.OUTSIDE_PERIOD,)


def test_a_cause_not_among_the_covered_risks_is_refused_by_its_code():
    assert check(datetime(2025, 6, 1), cause="car_damage").failures == (CheckFailure.NOT_COVERED,)
    assert check(datetime(2025, 6, 1), cause="意外身故").failures == (CheckFailure.NOT_COVERED,)   # a name is no code


def test_the_claim_limits_last_day_is_included_and_the_next_day_is_late():
    event = datetime(2025, 6, 10, 15, 0)
    assert check(event, reported=datetime(2027, 6, 10, 23, 0)).passed
    result = check(event, reported=datetime(2027, 6, 11, 9, 0))
    assert result.failures == (CheckFailure.TIME_LIMIT,) and result.last_claim_day == date(2027, 6, 10)


def test_a_limit_in_days_counts_from_the_day_after_the_event():
    limit = ClaimLimit(30, LimitUnit.DAYS)
    assert limit.last_day(date(2025, 1, 31)) == date(2025, 3, 2)
    assert ClaimLimit(1, LimitUnit.YEARS).last_day(date(2024, 2, 29)) == date(2025, 2, 28)


def test_every_failure_is_listed_and_no_policy_is_its_own_reason():
    result = check(datetime(2027, 1, 1), cause="car_damage", reported=datetime(2030, 1, 1))
    assert result.failures == (CheckFailure.OUTSIDE_PERIOD, CheckFailure.NOT_COVERED, CheckFailure.TIME_LIMIT)
    assert check(datetime(2025, 6, 1), terms=None).failures == (CheckFailure.NO_POLICY,)
    assert check(datetime(2025, 6, 1), terms=PolicyTerms(date(2025, 1, 1), date(2025, 12, 31),
                                                          frozenset({"hospital"}))).passed    # no limit set


def test_the_scene_is_kept_for_a_promptly_reported_accidental_death_only():
    event = datetime(2025, 6, 1, 8, 0)
    kept = {"accident_death"}
    assert needs_scene_preservation(cause="accident_death", event_at=event, reported_at=datetime(2025, 6, 2, 8, 0),
                                    scene_risks=kept, within_hours=24)
    assert not needs_scene_preservation(cause="accident_death", event_at=event,
                                        reported_at=datetime(2025, 6, 2, 8, 1), scene_risks=kept, within_hours=24)
    assert not needs_scene_preservation(cause="hospital", event_at=event, reported_at=event, scene_risks=kept,
                                        within_hours=24)


def test_materials_are_the_basic_documents_and_each_claim_kinds_own_in_order():
    lists = {"basic": ["policy", "receipt", "id_cards", "application_form"], "accident": ["accident_proof"],
             "death": ["death_certificate", "id_cards"], "medical": ["medical_records", "invoices"]}
    assert required_materials(lists, ["medical", "accident"]) == [
        "policy", "receipt", "id_cards", "application_form", "accident_proof", "medical_records", "invoices"]
    assert required_materials(lists, ["death"]) == ["policy", "receipt", "id_cards", "application_form",
                                                    "death_certificate"]
    required = required_materials(lists, ["medical"])
    assert missing_materials(required, ["invoices", "policy", "receipt", "id_cards", "application_form"]) == [
        "medical_records"]
    assert missing_materials(required, required) == []


@pytest.mark.parametrize(("facts", "reasons"), [
    (MajorClaimFacts(deaths=2), [MajorReason.DEATHS]),
    (MajorClaimFacts(deaths=1), []),
    (MajorClaimFacts(estimated_amount=Decimal("500000.01")), [MajorReason.AMOUNT]),
    (MajorClaimFacts(estimated_amount=Decimal("500000")), []),
    (MajorClaimFacts(sum_insured=Decimal("800000")), []),
    (MajorClaimFacts(sum_insured=Decimal("800000"), outcome_uncertain=True), [MajorReason.SUM_UNCERTAIN]),
    (MajorClaimFacts(disputes=frozenset({"media"})), [MajorReason.DISPUTE]),
    (MajorClaimFacts(litigation=True, deaths=3), [MajorReason.DEATHS, MajorReason.LITIGATION]),
])
def test_the_major_claim_criteria(facts, reasons):
    assert major_claim_reasons(facts, Decimal("500000")) == reasons


def test_request_numbers_have_a_prefix_per_kind_and_a_monthly_serial():
    assert number_period(RequestKind.CLAIM_REPORT, datetime(2026, 12, 2, 9)) == "BA2612"
    assert format_request_number("LP2601", 7) == "LP2601-0007"
    with pytest.raises(ValueError):
        format_request_number("XX2601", 1)


def test_an_application_is_handed_over_only_once_complete():
    assert next_state("hand_over", RequestKind.CLAIM_APPLICATION, "complete") is RequestState.HANDED_OVER
    with pytest.raises(TransitionRefused):
        next_state("hand_over", RequestKind.CLAIM_APPLICATION, "incomplete")
    with pytest.raises(TransitionRefused):
        next_state("hand_over", RequestKind.SURRENDER, "complete")


def test_the_hand_over_falls_due_on_the_third_working_day_counting_the_make_up_saturday(cal):
    rule = DeskClockRule(DeskClock.HANDOVER, Unit.WORKING_DAYS, 3)
    # complete on Thursday 9 October 2025, after the National Day week: Fri 10, Sat 11 (调休, a working
    # day), Mon 13 — due at the end of Monday
    complete = datetime(2025, 10, 9, 16, 30)
    assert desk_due(rule, complete, cal) == datetime(2025, 10, 14, 0, 0)
    # complete on 30 September: 1–8 October are holidays, so Thu 9, Fri 10, Sat 11
    assert desk_due(rule, datetime(2025, 9, 30, 10, 0), cal) == datetime(2025, 10, 12, 0, 0)
    badge, _ = desk_badge(rule, complete, None, datetime(2025, 10, 14, 0, 1), cal, 0.25)
    assert badge is Badge.OVERDUE
    badge, _ = desk_badge(rule, complete, datetime(2025, 10, 13, 17, 0), datetime(2025, 10, 20), cal, 0.25)
    assert badge is Badge.MET
    due = desk_due(rule, complete, cal)
    assert desk_soon(complete, due, 0.25) == due - (due - complete) * 0.25
