"""The policy register's rules (domain/policies.py): dates as files write them, risk codes as cells list
them, a person's checks, and who sees a policy's personal data."""
from datetime import date

from portal.domain.policies import check_person, check_policy, parse_day, shown_fields, split_risks
from portal.domain.privacy import DEFAULT_TABLE, PersonalField
from portal.domain.roles import Role

RISKS = {"accident_death", "burns", "third_party"}


def test_a_date_is_read_year_first_in_the_ways_chinese_files_write_it():
    for text in ("2025-01-31", "2025/1/31", "2025.01.31", "20250131", "2025年1月31日", " 2025/01/31 "):
        assert parse_day(text) == date(2025, 1, 31), text
    for text in ("2025/02/30", "31/01/2025", "", "1899-12-31", "明天"):
        assert parse_day(text) is None, text


def test_risk_codes_are_split_on_every_separator_a_clerk_uses_and_kept_once():
    assert split_risks("accident_death;burns, third_party、burns|accident_death；burns") == [
        "accident_death", "burns", "third_party"]
    assert split_risks("") == [] and split_risks(["burns", " burns "]) == ["burns"]


def test_a_policy_row_is_checked_against_the_risk_list_by_code():
    values = {"policy_number": "P-1", "insurer": "平安", "product_code": "ACC", "product_name": "意外险",
              "claim_limit": "2", "claim_limit_unit": "years", "sum_insured": "1,000.50", "start_date": "2025/01/01",
              "end_date": "2025/01/01", "risks": "burns"}
    fields, errors = check_policy(values, risks=RISKS)
    assert errors == {} and fields["risks"] == ("burns",) and fields["claim_limit"] == 2
    _, errors = check_policy({**values, "risks": "烧烫伤", "end_date": "2024/12/31", "claim_limit": "0"}, risks=RISKS)
    assert {k: m.key for k, m in errors.items()} == {"risks": "policies.unknown_risk",
                                                     "end_date": "policies.end_before_start",
                                                     "claim_limit": "policies.bad_limit"}


def test_an_insured_person_needs_a_valid_id_number_and_a_row_naming_nobody_is_no_person():
    assert check_person({"role": "", "name": "", "id_number": "", "phone": ""}, today=date(2025, 1, 1)) == (None, {})
    _, errors = check_person({"role": "insured", "name": "王", "id_number": ""}, today=date(2025, 1, 1))
    assert errors["id_number"].key == "policies.insured_needs_id"
    person, errors = check_person({"role": "beneficiary", "name": "王", "phone": "13911112222"}, today=date(2025, 1, 1))
    assert errors == {} and person["id_number"] == ""


def test_own_department_visibility_shows_a_policy_to_the_desks_departments_only():
    handler = [Role.HANDLER]
    assert PersonalField.NAME in shown_fields(DEFAULT_TABLE, handler, "operations")
    assert shown_fields(DEFAULT_TABLE, handler, "technical") == frozenset()
    assert shown_fields(DEFAULT_TABLE, [Role.ADMIN], None) == frozenset()
