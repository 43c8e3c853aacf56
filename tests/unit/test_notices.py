"""Notices to the customer, the plain rules: kinds and their contact steps, which the customer may
decline, what a template may say, filling it in, quiet hours, retries and what a crash leaves."""
from __future__ import annotations

import importlib.util
from datetime import datetime, time, timedelta

import pytest

from portal.config import ROOT
from portal.domain.configuration import TABLE
from portal.domain.contacts import ContactStep
from portal.domain.notices import (ART19_PARTS, COMPLAINT_KINDS, INTERNAL_FIELDS, PLACEHOLDERS, SLOTS, STEP_OF_KIND,
                                   MissingValue, NoticeKind, NoticeState, OutboxRules, TemplateSyntax, after_failure,
                                   after_interruption, allowed_placeholders, case_reference, customer_date,
                                   is_optional, is_quiet, new_message_id, parse_gateway_params, placeholders_in,
                                   quiet_until, render, retry_delay, validate_templates)
from portal.i18n import CATALOGUES

NIGHT = (time(21), time(8))


def seeded_rows() -> list[dict]:
    """The default templates exactly as migrations 0014 (complaints), 0020 (the desk's materials
    notice) and 0024 (the pushed warning) seed them."""
    rows = []
    for name in ("0014_notices", "0020_materials_notice"):
        spec = importlib.util.spec_from_file_location(f"m{name}", ROOT / f"db/migrations/versions/{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        rows += [dict(kind=k, channel=c, subject=s, body=b, gateway_template=g, gateway_params=p)
                 for k, c, s, b, g, p in module.TEMPLATES]
    spec = importlib.util.spec_from_file_location("m0024", ROOT / "db/migrations/versions/0024_closing_the_loop.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)          # the pushed warning to staff (issue 18)
    rows += [dict(kind=k, channel=c, subject=s, body=b, gateway_template=g, gateway_params=p)
             for k, c, s, b, g, p in module.WARNING_TEMPLATES]
    return rows


def row(rows: list[dict], kind: str, channel: str) -> dict:
    return next(r for r in rows if (r["kind"], r["channel"]) == (kind, channel))


def reasons(refusals) -> list[tuple[str, str, dict]]:  # noqa: ANN001
    return [(r.field, r.message.key, r.message.params) for r in refusals]


def test_every_complaint_kind_serves_a_contact_step_and_only_four_kinds_are_required():
    # the materials notice is about a request, the warning goes to staff (issue 18): neither is a customer contact
    assert set(STEP_OF_KIND) == set(COMPLAINT_KINDS) == set(NoticeKind) - {NoticeKind.MATERIALS_MISSING,
                                                                           NoticeKind.WARNING}
    assert STEP_OF_KIND[NoticeKind.FOLLOW_UP_INVITATION] is ContactStep.FOLLOW_UP
    assert STEP_OF_KIND[NoticeKind.DECISION] is ContactStep.DECISION
    assert [k for k in NoticeKind if not is_optional(k)] == [NoticeKind.ACKNOWLEDGEMENT, NoticeKind.DECISION,
                                                             NoticeKind.CLOSURE, NoticeKind.MATERIALS_MISSING,
                                                             NoticeKind.WARNING]
    assert is_optional("progress") and is_optional(NoticeKind.FOLLOW_UP_INVITATION)


def test_the_seeded_chinese_templates_are_valid_and_cover_every_slot():
    rows = seeded_rows()
    assert sorted((r["kind"], r["channel"]) for r in rows) == sorted(SLOTS)
    assert validate_templates(rows) == []
    assert "尊敬的{customer_name}" in row(rows, "acknowledgement", "email")["body"]


def test_no_placeholder_names_an_internal_record():
    assert not set(PLACEHOLDERS) & INTERNAL_FIELDS
    for kind in NoticeKind:
        for channel in ("email", "sms", "letter"):
            assert not set(allowed_placeholders(kind, channel)) & INTERNAL_FIELDS


def test_an_sms_never_carries_the_decision_itself():
    sms = set(allowed_placeholders("decision", "sms"))
    assert sms == {"case_reference", "customer_name", "received_date"}
    assert set(ART19_PARTS) <= set(allowed_placeholders("decision", "letter"))
    assert "letter_text" in allowed_placeholders("decision", "email")
    assert "letter_text" not in allowed_placeholders("decision", "letter")


def test_an_unknown_placeholder_is_refused_with_its_name():
    rows = seeded_rows()
    row(rows, "acknowledgement", "email")["body"] += "\n{投诉人电话}"
    assert reasons(validate_templates(rows)) == [("body", "notices.unknown_placeholder", {"name": "投诉人电话"})]


def test_an_internal_opinion_is_refused_as_internal():
    rows = seeded_rows()
    row(rows, "closure", "email")["body"] += "\n综合意见：{consolidated_opinion}"
    row(rows, "decision", "letter")["body"] += "\n处分：{penalty_type}"
    assert reasons(validate_templates(rows)) == [
        ("body", "notices.internal_placeholder", {"name": "consolidated_opinion"}),
        ("body", "notices.internal_placeholder", {"name": "penalty_type"})]


def test_a_placeholder_of_another_kind_or_channel_is_refused():
    rows = seeded_rows()
    row(rows, "acknowledgement", "email")["subject"] = "{decision_basis}"
    decision_sms = row(rows, "decision", "sms")
    decision_sms["body"] += "依据：{decision_basis}"
    decision_sms["gateway_params"] += "; basis={decision_basis}"
    found = reasons(validate_templates(rows))
    assert ("subject", "notices.placeholder_not_here", {"name": "decision_basis"}) in found
    assert ("body", "notices.placeholder_not_here", {"name": "decision_basis"}) in found
    assert ("gateway_params", "notices.placeholder_not_here", {"name": "decision_basis"}) in found


@pytest.mark.parametrize("part", ART19_PARTS)
def test_a_decision_letter_without_an_art19_part_is_refused(part):
    rows = seeded_rows()
    letter = row(rows, "decision", "letter")
    letter["body"] = letter["body"].replace("{" + part + "}", "（略）")
    assert reasons(validate_templates(rows)) == [("body", f"notices.art19_missing.{part}", {})]


def test_the_decision_email_must_carry_the_letter():
    rows = seeded_rows()
    row(rows, "decision", "email")["body"] = "尊敬的{customer_name}：处理决定已出，请来电。"
    assert reasons(validate_templates(rows)) == [("body", "notices.letter_text_missing", {})]


def test_braces_must_pair_and_doubled_braces_are_text():
    assert placeholders_in("{{不是占位符}} {customer_name}") == ["customer_name"]
    with pytest.raises(TemplateSyntax):
        placeholders_in("尊敬的{customer_name：")
    rows = seeded_rows()
    row(rows, "progress", "email")["body"] += " {"
    assert reasons(validate_templates(rows)) == [("body", "notices.bad_braces", {})]


def test_sms_parameters_map_each_placeholder_of_the_registered_text():
    rows = seeded_rows()
    sms = row(rows, "acknowledgement", "sms")
    sms["gateway_params"] = "name={customer_name}; code=编号{case_reference}; 1x={received_date}"
    found = reasons(validate_templates(rows))
    assert ("gateway_params", "notices.param_one_placeholder", {"name": "code"}) in found
    assert ("gateway_params", "notices.bad_param_name", {"name": "1x"}) in found
    assert ("gateway_params", "notices.param_unmapped", {"name": "case_reference"}) in found
    assert parse_gateway_params("a={x}；b＝{y}\nc={z}") == [("a", "{x}"), ("b", "{y}"), ("c", "{z}")]


def test_the_rows_are_fixed_and_texts_required():
    rows = seeded_rows()
    assert reasons(validate_templates(rows[:-1])) == [("body", "config.fixed_keys", {})]
    assert validate_templates(rows[:-1])[0].row == TABLE
    row(rows, "closure", "sms")["body"] = "  "
    row(rows, "closure", "email")["subject"] = ""
    row(rows, "closure", "email")["gateway_template"] = "SMS_1"
    found = reasons(validate_templates(rows))
    assert ("body", "form.required", {}) in found and ("subject", "form.required", {}) in found
    assert ("gateway_template", "notices.sms_only", {}) in found


def test_rendering_fills_placeholders_and_leaves_values_unread():
    values = {"customer_name": "陈{case_reference}", "case_reference": "2510-0001"}
    assert render("尊敬的{customer_name}：{{编号}} {case_reference}", values) == "尊敬的陈{case_reference}：{编号} 2510-0001"
    with pytest.raises(MissingValue):
        render("{expected_completion_date}", values)


def test_customer_facing_words():
    assert customer_date(datetime(2025, 9, 30, 23, 59)) == "2025年9月30日"
    assert case_reference("2510-0042", 7) == "2510-0042"
    assert case_reference(None, 7) == "登记号 7"
    first, second = new_message_id(), new_message_id()
    assert first != second and first.startswith("<notice-") and first.endswith("@complaints.portal>")


@pytest.mark.parametrize("clock, quiet", [((20, 59), False), ((21, 0), True), ((23, 30), True), ((0, 0), True),
                                          ((7, 59), True), ((8, 0), False), ((12, 0), False)])
def test_quiet_hours_span_midnight(clock, quiet):
    assert is_quiet(datetime(2025, 10, 1, *clock), *NIGHT) is quiet


def test_an_evening_sms_waits_until_the_next_morning_and_a_night_one_until_this_morning():
    assert quiet_until(datetime(2025, 10, 1, 22, 30), *NIGHT) == datetime(2025, 10, 2, 8, 0)
    assert quiet_until(datetime(2025, 10, 2, 3, 15), *NIGHT) == datetime(2025, 10, 2, 8, 0)
    assert quiet_until(datetime(2025, 10, 2, 9, 0), *NIGHT) == datetime(2025, 10, 2, 9, 0)
    lunch = (time(12), time(14))
    assert is_quiet(datetime(2025, 10, 2, 13, 0), *lunch) and not is_quiet(datetime(2025, 10, 2, 14, 0), *lunch)
    assert not is_quiet(datetime(2025, 10, 2, 3, 0), time(8), time(8))      # start = end: no quiet hours


def test_retries_double_up_to_the_cap_and_the_settings_are_read():
    rules = OutboxRules.from_settings({"notices.retry_minutes": "5", "notices.retry_max_minutes": "60",
                                       "notices.quiet_start_hour": "22", "notices.max_attempts": "3"})
    assert [retry_delay(n, rules) for n in (1, 2, 3, 4, 5)] == [timedelta(minutes=m) for m in (5, 10, 20, 40, 60)]
    assert rules.quiet_start == time(22) and rules.quiet_end == time(8) and rules.max_attempts == 3
    assert OutboxRules.from_settings({}) == OutboxRules()


def test_what_a_failed_attempt_leaves():
    rules = OutboxRules(max_attempts=3)
    common = dict(rules=rules, in_doubt=False, resend_recognised=True)
    assert after_failure(attempts=1, permanent=False, **common) is NoticeState.QUEUED
    assert after_failure(attempts=3, permanent=False, **common) is NoticeState.FAILED
    assert after_failure(attempts=1, permanent=True, **common) is NoticeState.FAILED
    # no answer after the request went out: a gateway that cannot recognise a repeat → 待确认
    assert after_failure(attempts=1, rules=rules, permanent=False, in_doubt=True,
                         resend_recognised=False) is NoticeState.UNCONFIRMED
    assert after_failure(attempts=1, rules=rules, permanent=False, in_doubt=True,
                         resend_recognised=True) is NoticeState.QUEUED


def test_what_a_crash_while_sending_leaves():
    rules = OutboxRules(max_attempts=3)
    assert after_interruption(attempts=1, rules=rules, resend_recognised=True) is NoticeState.QUEUED
    assert after_interruption(attempts=1, rules=rules, resend_recognised=False) is NoticeState.UNCONFIRMED
    assert after_interruption(attempts=3, rules=rules, resend_recognised=True) is NoticeState.UNCONFIRMED


def test_the_catalogues_name_every_kind_state_placeholder_and_refusal():
    zh = CATALOGUES["zh"]
    needed = ([f"notices.kind.{k.value}" for k in NoticeKind] + [f"outbox.state.{s.value}" for s in NoticeState]
              + [f"notices.placeholder.{p}" for p in PLACEHOLDERS]
              + [f"notices.art19_missing.{p}" for p in ART19_PARTS])
    assert [k for k in needed if k not in zh] == []
