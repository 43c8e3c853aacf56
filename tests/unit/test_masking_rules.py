"""The masking table (issue 16): field × role → shown / own department / masked, the most open of a
user's roles, exports, and the validation of an administrator's edit."""
from __future__ import annotations

from portal.domain.configuration import TABLE
from portal.domain.privacy import (DEFAULT_TABLE, EXPORT, FIELDS, PersonalField, Visibility, default_rows,
                                   mask_name, mask_policy_number, mask_record, redact, validate_masking_rules)
from portal.domain.roles import Role

ALL = frozenset(FIELDS)


def test_managers_see_no_personal_data_not_even_names_or_policy_numbers():
    assert DEFAULT_TABLE.shown_fields([Role.MANAGER], on_own_case=True) == frozenset()
    record = mask_record({"customer_name": "欧阳明珠", "policy_number": "P778899001122"},
                         DEFAULT_TABLE.shown_fields([Role.MANAGER], on_own_case=False))
    assert record == {"customer_name": "欧***", "policy_number": "*********1122"}


def test_handlers_see_personal_data_only_on_their_own_departments_cases():
    assert DEFAULT_TABLE.shown_fields([Role.HANDLER], on_own_case=True) == ALL
    assert DEFAULT_TABLE.shown_fields([Role.HANDLER], on_own_case=False) == frozenset()


def test_approvers_see_who_and_which_policy_but_not_how_to_reach_the_customer():
    assert DEFAULT_TABLE.shown_fields([Role.APPROVER], on_own_case=False) == {PersonalField.NAME,
                                                                                PersonalField.POLICY_NUMBER}


def test_the_clerks_and_the_gm_office_see_everything():
    for role in (Role.INTAKE, Role.INTAKE_LEAD, Role.GM_OFFICE):
        assert DEFAULT_TABLE.shown_fields([role], on_own_case=False) == ALL


def test_a_user_with_several_roles_gets_the_most_open_of_them_field_by_field():
    assert DEFAULT_TABLE.visibility([Role.APPROVER, Role.HANDLER], PersonalField.PHONE) is Visibility.OWN_DEPARTMENT
    assert DEFAULT_TABLE.visibility([Role.APPROVER, Role.HANDLER], PersonalField.NAME) is Visibility.SHOWN
    assert DEFAULT_TABLE.visibility([Role.MANAGER, Role.GM_OFFICE], PersonalField.ID_NUMBER) is Visibility.SHOWN
    assert DEFAULT_TABLE.shown_fields([Role.APPROVER, Role.HANDLER], on_own_case=False) == {
        PersonalField.NAME, PersonalField.POLICY_NUMBER}


def test_an_export_holds_only_what_both_the_export_row_and_the_exporting_user_show():
    assert DEFAULT_TABLE.export_fields([Role.GM_OFFICE], on_own_case=False) == {PersonalField.NAME,
                                                                                PersonalField.POLICY_NUMBER}
    assert DEFAULT_TABLE.export_fields([Role.MANAGER], on_own_case=False) == frozenset()


def test_an_unknown_role_or_missing_cell_is_masked():
    assert DEFAULT_TABLE.shown_fields(["nobody"], on_own_case=True) == frozenset()


def test_free_text_repeating_a_masked_value_is_redacted():
    raw = {"customer_name": "欧阳明珠", "customer_phone": "13912345678"}
    shown = frozenset({PersonalField.NAME})
    assert redact("欧阳明珠来电 13912345678 催办", raw, shown) == "欧阳明珠来电 139****5678 催办"
    assert redact("欧阳明珠来电", raw, frozenset()) == "欧***来电"


def test_masks_of_names_and_policy_numbers():
    assert mask_name("张三") == "张*"
    assert mask_policy_number("P20250001") == "*****0001"
    assert mask_policy_number("P1") == "****"


def test_the_seeded_table_is_valid_and_has_a_row_for_every_role_and_exports():
    rows = default_rows()
    assert validate_masking_rules(rows) == []
    assert sorted(r["audience"] for r in rows) == sorted([*[r.value for r in Role], EXPORT])


def test_a_cell_that_is_not_a_visibility_is_refused_with_its_row_and_column():
    rows = default_rows()
    rows[6] = {**rows[6], "phone": "visible"}
    refusals = validate_masking_rules(rows)
    assert [(r.row, r.field, r.message.key) for r in refusals] == [(6, "phone", "masking.bad_visibility")]


def test_a_missing_or_extra_row_is_refused():
    rows = default_rows()
    refusals = validate_masking_rules(rows[:-1])
    assert [(r.row, r.field, r.message.key) for r in refusals] == [(TABLE, "audience", "config.fixed_keys")]
    refusals = validate_masking_rules([*rows, {**rows[0], "audience": "guest"}])
    assert [(r.row, r.message.key) for r in refusals] == [(TABLE, "config.fixed_keys")]


def test_masking_a_field_for_everyone_who_talks_to_the_customer_is_refused():
    rows = [{**r, "phone": "masked"} if r["audience"] in ("intake", "intake_lead", "gm_office") else r
            for r in default_rows()]
    refusals = validate_masking_rules(rows)
    assert [(r.row, r.field, r.message.key) for r in refusals] == [(TABLE, "phone", "masking.nobody_sees")]
