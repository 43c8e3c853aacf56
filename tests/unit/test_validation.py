from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from portal.domain.severity import MajorThresholds, effective_severity, major_reasons
from portal.domain.validation import (CHOICE_FIELDS, MAX_LENGTHS, REQUIRED, Attachment, AttachmentLimits,
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
    expected = "form.choose_one" if field in CHOICE_FIELDS else "form.required"     # a list left unchosen
    assert errors_of(a_form(**{field: value}))[field].key == expected
    assert errors_of(a_form(**{field: None}))[field].key == expected


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


@pytest.mark.parametrize("typed", ["a b@c.cn", "ab@c .cn", "ab@c.\u3000cn", "a\tb@c.cn"])
def test_an_email_with_a_space_inside_is_refused_not_mended(typed):
    assert errors_of(a_form(customer_email=typed))["customer_email"].key == "form.bad_email"


def test_an_email_is_kept_as_typed_apart_from_its_ends_and_width():
    form, errors = a_form(customer_email="  Wang.Li＠Example.cn\u200b ").normalised()
    assert not errors.get("customer_email") and form.customer_email == "Wang.Li@Example.cn"


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


def normalised_errors(form, attachments=()):  # noqa: ANN001
    """What the service does: normalise, then validate; type problems and rule problems together."""
    cleaned, wrong = form.normalised()
    return cleaned, {**errors_of(cleaned, list(attachments)), **wrong}


@pytest.mark.parametrize("phone, stored", [("１３８１２３４５６７８", "13812345678"), ("138 1234 5678", "13812345678"),
                                           ("138\u200b1234\u200b5678", "13812345678")])
def test_full_width_and_spaced_digits_are_normalised(phone, stored):
    cleaned, errors = normalised_errors(a_form(customer_phone=phone))
    assert not errors and cleaned.customer_phone == stored


@pytest.mark.parametrize("phone", ["١٣٨١٢٣٤٥٦٧٨", "۱۳۸۱۲۳۴۵۶۷۸", "१३८१२३४५६७८"])
def test_digits_of_other_scripts_are_refused(phone):
    assert normalised_errors(a_form(customer_phone=phone))[1]["customer_phone"].key == "form.bad_mobile"


@pytest.mark.parametrize("number", ["11010520991231001X", "110105189912310015", "١١٠١٠٥١٩٤٩١٢٣١٠٠٢X"])
def test_id_numbers_born_in_the_future_or_before_1900_or_in_other_digits_are_refused(number):
    assert normalised_errors(a_form(customer_id_number=number))[1]["customer_id_number"].key == "form.bad_id_number"


def test_a_full_width_id_number_is_normalised():
    cleaned, errors = normalised_errors(a_form(customer_id_number="１１０１０５１９４９１２３１００２ｘ"))
    assert not errors and cleaned.customer_id_number == "11010519491231002x"


@pytest.mark.parametrize("moment", [datetime(1900, 1, 1), datetime(1, 1, 1), datetime(1999, 12, 31, 23, 59)])
def test_received_times_before_2000_are_refused(moment):
    assert normalised_errors(a_form(received_at=moment))[1]["received_at"].key == "form.too_early"


def test_a_received_date_without_time_is_refused_and_an_aware_time_becomes_beijing_time():
    from datetime import date, timezone
    assert normalised_errors(a_form(received_at=date(2025, 9, 1)))[1]["received_at"].key == "form.bad_value"
    cleaned, errors = normalised_errors(a_form(received_at=datetime(2025, 9, 1, 1, 0, tzinfo=timezone.utc)))
    assert not errors and cleaned.received_at == datetime(2025, 9, 1, 9, 0)


@pytest.mark.parametrize("text", ["\u200b\u200b", "\ufeff", " \u200d ", "\x00\x1b\x07"])
def test_text_of_nothing_visible_counts_as_empty(text):
    assert normalised_errors(a_form(customer_name=text))[1]["customer_name"].key == "form.required"


def test_control_characters_and_bidi_overrides_are_removed_but_line_breaks_kept():
    cleaned, errors = normalised_errors(a_form(customer_name="陈\x00小\x1b明\u202e", description="第一行\r\n第二行\x07"))
    assert not errors and cleaned.customer_name == "陈小明" and cleaned.description == "第一行\n第二行"


@pytest.mark.parametrize("field, value", [("customer_name", 42), ("description", ["a"]), ("complained_staff", None),
                                          ("complained_staff", "clerk"), ("flag_media", "yes"),
                                          ("customer_phone", 13812345678), ("channel", None), ("received_at", "2025-09-01")])
def test_values_of_the_wrong_kind_get_a_message_not_an_exception(field, value):
    assert field in normalised_errors(a_form(**{field: value}))[1]


@pytest.mark.parametrize("amount", ["1e12", "1000000000000", "0.001", "-1", "NaN", "Infinity", 1.5, True, "1e400"])
def test_amounts_beyond_the_column_or_its_cents_are_refused(amount):
    assert normalised_errors(a_form(amount_at_stake=amount))[1]["amount_at_stake"].key == "form.bad_amount"


@pytest.mark.parametrize("amount, stored", [("999999999999.99", Decimal("999999999999.99")), ("1,000.50", Decimal("1000.50")),
                                            ("１２３．４５", Decimal("123.45")), (3000, Decimal(3000))])
def test_amounts_in_range_are_kept(amount, stored):
    from portal.domain.validation import parse_amount
    assert not normalised_errors(a_form(amount_at_stake=amount))[1]
    assert parse_amount(amount) == stored


def test_file_names_are_cleaned_and_long_ones_refused():
    from portal.domain.validation import clean_attachments
    files, problem = clean_attachments([Attachment("../../etc/报告\x00.pdf", "application/pdf", b"x")])
    assert problem is None and files[0].filename == "报告.pdf"
    long = [Attachment("x" * 10_000 + ".pdf", "application/pdf", b"x")]
    assert normalised_errors(a_form(), clean_attachments(long)[0])[1]["attachments"].key == "form.file_name_too_long"
    assert clean_attachments("not a list")[1].key == "form.bad_value"
    assert clean_attachments([Attachment(None, "x", b"x")])[1].key == "form.bad_value"
