from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from portal.domain.severity import MajorThresholds, effective_severity, major_reasons
from portal.domain.validation import (MAX_LENGTHS, REQUIRED, Attachment, AttachmentLimits,
                                      id_number_is_valid, validate_registration)
from tests.helpers import a_form

NOW = datetime(2025, 10, 1, 12, 0)
LIMITS = AttachmentLimits(max_bytes=1024, max_files=2, allowed_extensions=("pdf", "jpg"))


def errors_of(form, attachments=()):
    return validate_registration(form, now=NOW, channels={"phone"}, categories={"claim_speed"},
                                 staff={"clerk"}, attachments=list(attachments), limits=LIMITS)


def test_a_good_form_has_no_errors():
    assert errors_of(a_form()) == {}


@pytest.mark.parametrize("field", REQUIRED)
def test_each_required_field(field):
    value = None if field == "received_at" else ""
    assert errors_of(a_form(**{field: value}))[field].key == "form.required"


@pytest.mark.parametrize("field, limit", sorted(MAX_LENGTHS.items()))
def test_each_length_limit(field, limit):
    errors = errors_of(a_form(**{field: "1" * (limit + 1)}))
    assert errors[field].key in ("form.too_long",)


@pytest.mark.parametrize("phone", ["12812345678", "1381234567", "138123456789", "+8613812345678", "1381234567a"])
def test_mainland_mobile_numbers_only(phone):
    assert errors_of(a_form(customer_phone=phone))["customer_phone"].key == "form.bad_mobile"


@pytest.mark.parametrize("number, valid", [
    ("11010519491231002X", True), ("11010519491231002x", True),
    ("110105194912310021", False),      # wrong check digit
    ("11010519491331002X", False),      # month 13
    ("1101051949123100", False),        # too short
])
def test_resident_id_check_digit_and_birth_date(number, valid):
    assert id_number_is_valid(number) is valid
    if not valid:
        assert errors_of(a_form(customer_id_number=number))["customer_id_number"].key == "form.bad_id_number"


def test_the_id_number_is_optional():
    assert "customer_id_number" not in errors_of(a_form(customer_id_number=""))


def test_email_format():
    assert errors_of(a_form(customer_email="not-an-email"))["customer_email"].key == "form.bad_email"


def test_received_time_cannot_be_in_the_future():
    assert errors_of(a_form(received_at=NOW + timedelta(minutes=5)))["received_at"].key == "form.received_in_future"


@pytest.mark.parametrize("field", ["channel", "category", "severity", "urgency", "customer_gender", "customer_age_band"])
def test_choices_must_be_listed(field):
    assert errors_of(a_form(**{field: "nonsense"}))[field].key == "form.unknown_choice"


def test_complained_staff_must_exist():
    assert errors_of(a_form(complained_staff=["ghost"]))["complained_staff"].key == "form.unknown_staff"


@pytest.mark.parametrize("amount", ["-1", "abc", "1e13", "NaN"])
def test_amounts(amount):
    assert errors_of(a_form(amount_at_stake=amount))["amount_at_stake"].key == "form.bad_amount"


def test_joint_complainants_at_least_one():
    assert errors_of(a_form(joint_complainants=0))["joint_complainants"].key == "form.bad_joint_count"


@pytest.mark.parametrize("files, key", [
    ([Attachment("a.pdf", "", b"x")] * 3, "form.too_many_files"),
    ([Attachment("a.exe", "", b"x")], "form.bad_file_type"),
    ([Attachment("a.pdf", "", b"x" * 1025)], "form.file_too_big"),
    ([Attachment("a.jpg", "", b"")], "form.file_empty"),
])
def test_attachment_limits(files, key):
    assert errors_of(a_form(), files)["attachments"].key == key


def test_major_case_criteria():
    limits = MajorThresholds(Decimal("500000"), 20)
    base = dict(media=False, regulator=False, litigation=False, amount=None, joint_complainants=1,
                thresholds=limits)
    assert major_reasons(**base) == []
    assert major_reasons(**{**base, "amount": Decimal("500000")}) == []
    assert major_reasons(**{**base, "amount": Decimal("500000.01")}) == ["amount"]
    assert major_reasons(**{**base, "joint_complainants": 20}) == ["joint"]
    assert major_reasons(**{**base, "media": True, "regulator": True, "litigation": True}) == [
        "media", "regulator", "litigation"]
    assert effective_severity("general", ["media"]) == "major"
    assert effective_severity("important", []) == "important"
