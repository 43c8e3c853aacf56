from portal.domain.clocks import Badge, Milestone
from portal.domain.lifecycle import Action, State
from portal.domain.privacy import mask_id_number, mask_phone, may_see_personal_data, may_view_case
from portal.domain.roles import Role
from portal.i18n import CATALOGUES, translate


def test_masks():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_id_number("110105194912310021") == "1101**********0021"


def test_managers_and_other_departments_see_masked_data():
    assert not may_see_personal_data([Role.MANAGER], 1, [2])
    assert not may_see_personal_data([Role.HANDLER], 1, [2])
    assert may_see_personal_data([Role.HANDLER], 2, [2])
    assert may_see_personal_data([Role.GM_OFFICE], None, [])


def test_handlers_read_only_their_departments_cases():
    assert may_view_case([Role.HANDLER], 3, [3, 4])
    assert not may_view_case([Role.HANDLER], 5, [3, 4])
    assert not may_view_case([Role.ADMIN], None, [3])


def test_both_catalogues_have_the_same_keys_and_name_every_state_action_role_badge_and_milestone():
    zh, en = CATALOGUES["zh"], CATALOGUES["en"]
    assert set(zh) == set(en)
    needed = ([f"state.{s.value}" for s in State] + [f"action.{a.value}" for a in Action]
              + [f"role.{r.value}" for r in Role] + [f"badge.{int(b)}" for b in Badge]
              + [f"milestone.{m.value}" for m in Milestone])
    assert [k for k in needed if k not in zh] == []


def test_translation_fills_parameters_and_falls_back_to_chinese():
    assert translate("unit.working_days", "en", n=7) == "7 working days"
    assert translate("unit.working_days", "zh", n=7) == "7 个工作日"
