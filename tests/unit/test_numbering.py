from datetime import datetime

import pytest

from portal.domain.numbering import format_number, parse_number, period_of


def test_the_month_is_the_month_of_acceptance():
    assert period_of(datetime(2025, 11, 30, 23, 59)) == "2511"
    assert period_of(datetime(2025, 12, 1, 0, 0)) == "2512"


def test_numbers_are_year_month_and_a_four_digit_serial():
    assert format_number("2511", 42) == "2511-0042"
    assert format_number("2601", 12345) == "2601-12345"
    assert parse_number("2511-0042") == ("2511", 42)


@pytest.mark.parametrize("period, serial", [("2513", 1), ("251", 1), ("2511", 0)])
def test_bad_numbers_are_refused(period, serial):
    with pytest.raises(ValueError):
        format_number(period, serial)


@pytest.mark.parametrize("text", ["2511-42", "2513-0001", "abcd-0001", ""])
def test_parse_refuses_what_is_not_a_number(text):
    with pytest.raises(ValueError):
        parse_number(text)
