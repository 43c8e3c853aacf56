"""系统配置: a save validates the whole table, writes it in one transaction with one audit event
(each changed row before and after), and the change takes effect; a refused table saves nothing."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.domain.errors import PermissionDenied
from portal.persistence.models import AuthorityLevel, Event
from portal.services import configuration, handling, rules
from portal.services.configuration import ConfigurationRefused
from portal.services.queries import current_version
from tests.helpers import instruct_report
from tests.conftest import T0
from tests.services.test_handling import REPORT, accepted


def _events(uow) -> int:
    with uow.read() as session:
        return session.scalar(select(func.count()).select_from(Event).where(Event.action == "config.save"))


def test_renaming_a_category_is_saved_audited_and_shown(uow, people):
    rows = configuration.load_table(uow, actor=people.admin, table="categories")
    claim = next(r for r in rows if r["code"] == "claim")
    claim["name_zh"] = "理赔争议"
    assert configuration.save_table(uow, actor=people.admin, table="categories", rows=rows, now=T0) == 1
    names = {c.code: c.name_zh for c in rules.load_reference_data(uow).categories}
    assert names["claim"] == "理赔争议"
    log = configuration.change_log(uow, actor=people.admin)
    assert [(c.table, c.key, c.actor) for c in log] == [("categories", "claim", "admin")]
    assert log[0].before["name_zh"] != "理赔争议" and log[0].after["name_zh"] == "理赔争议"
    # saving the same table again changes nothing and records nothing
    assert configuration.save_table(uow, actor=people.admin, table="categories", rows=rows, now=T0) == 0
    assert _events(uow) == 1


def test_a_new_channel_is_added_and_a_removed_one_refused(uow, people):
    rows = configuration.load_table(uow, actor=people.admin, table="channels")
    added = rows + [{"code": "app", "name_zh": "手机应用", "name_en": "Mobile app", "active": True, "sort": 99}]
    configuration.save_table(uow, actor=people.admin, table="channels", rows=added, now=T0)
    assert "app" in {c.code for c in rules.load_reference_data(uow).channels}
    with pytest.raises(ConfigurationRefused) as refused:
        configuration.save_table(uow, actor=people.admin, table="channels", rows=added[1:], now=T0)
    assert {r.message.key for r in refused.value.refusals} == {"config.never_delete"}


def test_overlapping_authority_amounts_are_refused_and_nothing_is_saved(uow, people):
    rows = configuration.load_table(uow, actor=people.admin, table="authority_levels")
    before = [dict(r) for r in rows]
    rows[0]["name_zh"] = "部门经理（改）"
    rows[1]["max_amount"] = rows[0]["max_amount"]            # deputy GM's limit no higher than the manager's
    with pytest.raises(ConfigurationRefused) as refused:
        configuration.save_table(uow, actor=people.admin, table="authority_levels", rows=rows, now=T0)
    assert [(r.row, r.field, r.message.key) for r in refused.value.refusals] == [
        (1, "max_amount", "config.authority_overlap")]
    assert configuration.load_table(uow, actor=people.admin, table="authority_levels") == before   # not even the name
    assert _events(uow) == 0


def test_a_new_authority_amount_routes_the_next_consolidation(uow, people):
    rows = configuration.load_table(uow, actor=people.admin, table="authority_levels")
    manager = next(r for r in rows if r["key"] == "dept_manager")
    manager["max_amount"] = Decimal("2000")
    configuration.save_table(uow, actor=people.admin, table="authority_levels", rows=rows, now=T0)
    case_id = accepted(uow, people)
    handling.submit_report(uow, actor=people.opshandler, complaint_id=case_id, report=REPORT, now=T0 + timedelta(days=1),
                           expected_version=current_version(uow, case_id))
    handling.report_to_gm(uow, actor=people.opshandler, complaint_id=case_id, report="r", now=T0 + timedelta(days=1),
                          expected_version=current_version(uow, case_id))
    instruct_report(uow, people, case_id, T0 + timedelta(days=1))
    assert handling.consolidate(uow, actor=people.gmo, complaint_id=case_id, opinion="o", proposed_amount="3000",
                                now=T0 + timedelta(days=1),
                                                   expected_version=current_version(uow, case_id)) == "deputy_gm"          # was the manager's under 5,000
    with uow.read() as session:
        assert session.get(AuthorityLevel, "dept_manager").max_amount == Decimal("2000")


def test_a_department_with_no_handler_cannot_take_cases(uow, people):
    rows = configuration.load_table(uow, actor=people.admin, table="departments")
    rows.append({"code": "legal", "name_zh": "法务部", "name_en": "Legal", "investigates": True, "active": True,
                 "sort": 50})
    with pytest.raises(ConfigurationRefused) as refused:
        configuration.save_table(uow, actor=people.admin, table="departments", rows=rows, now=T0)
    assert ("investigates", "config.no_handler") in {(r.field, r.message.key) for r in refused.value.refusals}
    rows[-1]["investigates"] = False
    configuration.save_table(uow, actor=people.admin, table="departments", rows=rows, now=T0)
    assert "legal" in {d.code for d in rules.load_reference_data(uow).departments}


def test_penalties_and_warnings_are_edited_with_their_rules(uow, people):
    penalties = configuration.load_table(uow, actor=people.admin, table="penalty_standards")
    general = next(r for r in penalties if r["level"] == "general")
    general["department_loss"] = Decimal("2500")
    configuration.save_table(uow, actor=people.admin, table="penalty_standards", rows=penalties, now=T0)
    assert {s.level: s.department_loss for s in handling.penalty_standards(uow)}["general"] == Decimal("2500")
    warnings = configuration.load_table(uow, actor=people.admin, table="warnings")
    overdue = next(r for r in warnings if r["key"] == "warning.overdue_rate_max")     # a rate: 0 to 1
    overdue["value"] = "2"
    with pytest.raises(ConfigurationRefused):
        configuration.save_table(uow, actor=people.admin, table="warnings", rows=warnings, now=T0)
    overdue["value"] = "0.5"
    configuration.save_table(uow, actor=people.admin, table="warnings", rows=warnings, now=T0)
    assert rules.load_settings(uow)["warning.overdue_rate_max"] == "0.5"
    assert {c.table for c in configuration.change_log(uow, actor=people.admin)} == {"penalty_standards", "warnings"}
    assert [c.table for c in configuration.change_log(uow, actor=people.admin, table="warnings")] == ["warnings"]


def test_only_an_administrator_edits_the_configuration(uow, people):
    with pytest.raises(PermissionDenied):
        configuration.load_table(uow, actor=people.gmo, table="categories")
    rows = configuration.load_table(uow, actor=people.admin, table="categories")
    with pytest.raises(PermissionDenied):
        configuration.save_table(uow, actor=people.boss, table="categories", rows=rows, now=T0)
    with pytest.raises(PermissionDenied):
        configuration.change_log(uow, actor=people.gmo)


def test_fixed_tables_keep_their_rows_and_catalogue_names(uow, people):
    rows = configuration.load_table(uow, actor=people.admin, table="authority_levels")
    extra = rows + [{"key": "board", "name_zh": "董事会", "name_en": "Board", "rank": 9, "max_amount": None,
                     "covers_major": True}]
    with pytest.raises(ConfigurationRefused) as refused:
        configuration.save_table(uow, actor=people.admin, table="authority_levels", rows=extra, now=T0)
    assert "config.fixed_keys" in {r.message.key for r in refused.value.refusals}
    rows[0]["name_zh"] = "改名"
    rows[0]["covers_major"] = True
    configuration.save_table(uow, actor=people.admin, table="authority_levels", rows=rows, now=T0)
    saved = {r["key"]: r for r in configuration.load_table(uow, actor=people.admin, table="authority_levels")}
    assert saved[rows[0]["key"]]["covers_major"] is True and saved[rows[0]["key"]]["name_zh"] != "改名"


def test_an_administrator_changes_a_users_duties_and_it_is_audited(uow, people):
    from portal.domain.errors import ValidationFailed
    from portal.services import users
    from portal.services.actors import load_actor
    users.update_user(uow, actor=people.admin, username="techhandler", roles=["handler", "approver"],
                      department="technical", approval_level="dept_manager", now=T0)
    changed = load_actor(uow, "techhandler")
    assert {r.value for r in changed.roles} == {"handler", "approver"} and changed.approval_level == "dept_manager"
    with uow.read() as session:
        event = session.scalars(select(Event).where(Event.action == "user.update")).one()
    assert event.changes["before"]["roles"] == ["handler"] and event.changes["after"]["approval_level"] == "dept_manager"
    with pytest.raises(ValidationFailed) as refused:             # a handler belongs to a department
        users.update_user(uow, actor=people.admin, username="techhandler", roles=["handler"], department=None,
                          approval_level=None, now=T0)
    assert "department" in refused.value.errors
    with pytest.raises(ValidationFailed):                        # an administrator keeps their own role
        users.update_user(uow, actor=people.admin, username="admin", roles=["manager"], department=None,
                          approval_level=None, now=T0)
    with pytest.raises(PermissionDenied):
        users.update_user(uow, actor=people.gmo, username="clerk", roles=["intake"], department="marketing",
                          approval_level=None, now=T0)


def test_business_parameters_are_checked_and_the_due_soon_threshold_re_times_running_clocks(uow, people):
    from portal.persistence.models import CaseClock
    case_id = accepted(uow, people)
    with uow.read() as session:
        soon_before = session.scalar(select(CaseClock.soon_at).where(CaseClock.complaint_id == case_id,
                                                                     CaseClock.clock_key == "closure"))
    rows = configuration.load_table(uow, actor=people.admin, table="parameters")
    by_key = {r["key"]: r for r in rows}
    by_key["attachments.max_mb"]["value"] = "50"                  # more than the server accepts
    by_key["major.joint_complainants"]["value"] = "2.5"
    with pytest.raises(ConfigurationRefused) as refused:
        configuration.save_table(uow, actor=people.admin, table="parameters", rows=rows, now=T0)
    assert {r.message.key for r in refused.value.refusals} == {"config.number_range", "config.whole_number"}
    by_key["attachments.max_mb"]["value"] = "8"
    by_key["major.joint_complainants"]["value"] = "10"
    by_key["badge.due_soon_fraction"]["value"] = "0.5"
    assert configuration.save_table(uow, actor=people.admin, table="parameters", rows=rows, now=T0) == 3
    values = rules.load_settings(uow)
    assert values["attachments.max_mb"] == "8" and values["badge.due_soon_fraction"] == "0.5"
    with uow.read() as session:
        soon_after = session.scalar(select(CaseClock.soon_at).where(CaseClock.complaint_id == case_id,
                                                                    CaseClock.clock_key == "closure"))
    assert soon_after < soon_before                               # half the target left, not a quarter


def test_a_new_category_gets_a_code_of_its_own(uow, people):
    rows = configuration.load_table(uow, actor=people.admin, table="categories")
    rows.append({"code": None, "name_zh": "保全服务", "name_en": "Policy services", "active": True, "sort": 30})
    configuration.save_table(uow, actor=people.admin, table="categories", rows=rows, now=T0)
    added = [c for c in rules.load_reference_data(uow).categories if c.name_zh == "保全服务"]
    assert len(added) == 1 and added[0].code.startswith("category_")


def test_a_categorys_default_routing_is_saved_checked_and_offered(uow, people):
    rows = configuration.load_table(uow, actor=people.admin, table="categories")
    speed = next(r for r in rows if r["code"] == "claim_speed")
    assert speed["default_departments"] == ["operations"]                 # seeded
    speed["default_departments"] = ["technical", "claims", "claims"]
    assert configuration.save_table(uow, actor=people.admin, table="categories", rows=rows, now=T0) == 1
    assert rules.load_reference_data(uow).default_routes["claim_speed"] == ["claims", "technical"]
    [change] = configuration.change_log(uow, actor=people.admin, table="categories")
    assert (change.before["default_departments"], change.after["default_departments"]) == (
        ["operations"], ["claims", "technical"])
    # the same set in another order is no change
    speed["default_departments"] = ["technical", "claims"]
    assert configuration.save_table(uow, actor=people.admin, table="categories", rows=rows, now=T0) == 0
    for wrong in (["marketing"], ["no_such_department"], "claims", [3]):   # not open to routing; not a list
        speed["default_departments"] = wrong
        with pytest.raises(ConfigurationRefused) as refused:
            configuration.save_table(uow, actor=people.admin, table="categories", rows=rows, now=T0)
        index = rows.index(speed)
        assert [(r.row, r.field) for r in refused.value.refusals] == [(index, "default_departments")]
    assert _events(uow) == 1


def test_which_flags_make_a_case_major_is_a_parameter(uow, people):
    from portal.services import complaints
    from tests.helpers import a_form
    rows = configuration.load_table(uow, actor=people.admin, table="parameters")
    media = next(r for r in rows if r["key"] == "major.flag_media")
    assert media["value"] == "1"
    media["value"] = "2"
    with pytest.raises(ConfigurationRefused) as refused:
        configuration.save_table(uow, actor=people.admin, table="parameters", rows=rows, now=T0)
    assert [r.message.key for r in refused.value.refusals] == ["config.whole_number"]
    media["value"] = "0"
    configuration.save_table(uow, actor=people.admin, table="parameters", rows=rows, now=T0)
    exposed = complaints.register_complaint(uow, actor=people.clerk, form=a_form(flag_media=True), attachments=[],
                                            now=T0)
    assert exposed.severity == "general" and exposed.major_reasons == []
    referred = complaints.register_complaint(
        uow, actor=people.clerk, attachments=[], now=T0,
        form=a_form(flag_media=True, flag_regulator=True, customer_phone="13900000000", policy_number="P-2"))
    assert referred.severity == "major" and referred.major_reasons == ["regulator"]


@pytest.mark.parametrize("table, key, column, value", [
    ("categories", "other", "name_zh", "其他投诉"),
    ("channels", "email", "name_en", "E-mail"),
    ("departments", "quality", "name_zh", "质量部"),
    ("authority_levels", "dept_manager", "max_amount", Decimal("4000.00")),
    ("penalty_standards", "general", "department_loss", Decimal("2500.00")),
    ("warnings", "warning.overdue_rate_max", "value", "0.2"),
    ("parameters", "attachments.max_files", "value", "6"),
])
def test_every_tables_change_is_one_audited_event_with_before_and_after(uow, people, table, key, column, value):
    spec = configuration.TABLES[table]
    rows = configuration.load_table(uow, actor=people.admin, table=table)
    row = next(r for r in rows if r[spec.key] == key)
    old = row[column]
    row[column] = value
    later = T0 + timedelta(minutes=7)
    assert configuration.save_table(uow, actor=people.admin, table=table, rows=rows, now=later) == 1
    [change] = configuration.change_log(uow, actor=people.admin)
    assert (change.table, change.key, change.actor, change.at) == (table, key, "admin", later)
    assert str(change.before[column]) == str(old) and str(change.after[column]) == str(value)
    assert {k for k in change.after if change.after[k] != change.before.get(k)} == {column}
    assert _events(uow) == 1
    assert configuration.change_log(uow, actor=people.admin, who="someone_else") == []


def test_a_save_on_a_table_someone_saved_meanwhile_is_refused_and_undoes_nothing(uow, people):
    from portal.services.configuration import ConfigurationStale
    opened = configuration.table_version(uow, actor=people.admin, table="categories")
    mine = configuration.load_table(uow, actor=people.admin, table="categories")
    theirs = configuration.load_table(uow, actor=people.admin, table="categories")
    next(r for r in theirs if r["code"] == "claim")["name_zh"] = "理赔争议"
    configuration.save_table(uow, actor=people.admin, table="categories", rows=theirs, now=T0, basis=opened)
    next(r for r in mine if r["code"] == "other")["name_zh"] = "其他投诉"     # made on the table before theirs
    with pytest.raises(ConfigurationStale) as stale:
        configuration.save_table(uow, actor=people.admin, table="categories", rows=mine, now=T0, basis=opened)
    assert stale.value.message.key == "config.stale" and stale.value.message.params["who"] == "admin"
    names = {c.code: c.name_zh for c in rules.load_reference_data(uow).categories}
    assert names["claim"] == "理赔争议" and names["other"] == "其他"             # theirs kept, mine not written
    assert _events(uow) == 1
    # made on the table as it now stands, the same change is saved; another table's save is no conflict
    now_at = configuration.table_version(uow, actor=people.admin, table="categories")
    channels = configuration.load_table(uow, actor=people.admin, table="channels")
    channels[0]["name_en"] = "Hotline"
    configuration.save_table(uow, actor=people.admin, table="channels", rows=channels, now=T0,
                             basis=configuration.table_version(uow, actor=people.admin, table="channels"))
    fresh = configuration.load_table(uow, actor=people.admin, table="categories")
    next(r for r in fresh if r["code"] == "other")["name_zh"] = "其他投诉"
    assert configuration.save_table(uow, actor=people.admin, table="categories", rows=fresh, now=T0,
                                    basis=now_at) == 1
    with pytest.raises(PermissionDenied):
        configuration.table_version(uow, actor=people.gmo, table="categories")


def test_clock_rules_saved_meanwhile_refuse_a_save_made_on_the_old_rules(uow, people):
    from portal.services.configuration import ConfigurationStale
    opened = configuration.table_version(uow, actor=people.admin, table="clocks")
    rows = configuration.load_clocks(uow, actor=people.admin, now=T0)
    first = [dict(r, target=12) if r["key"] == "acknowledge" else r for r in rows]
    configuration.save_clocks(uow, actor=people.admin, rows=first, now=T0, basis=opened)
    second = [dict(r, target=10) if r["key"] == "closure" else r for r in rows]
    with pytest.raises(ConfigurationStale):
        configuration.save_clocks(uow, actor=people.admin, rows=second, now=T0, basis=opened)
    targets = {r["key"]: r["target"] for r in configuration.load_clocks(uow, actor=people.admin, now=T0)}
    assert targets["acknowledge"] == 12 and targets["closure"] == 13


def test_two_administrators_saving_the_same_table_at_once_do_not_undo_each_other(uow, people):
    """Both opened the table at the same version and press save together: the saves take turns, one is
    written and the other refused as stale, never both (which would silently undo the first)."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from portal.services.configuration import ConfigurationStale
    opened = configuration.table_version(uow, actor=people.admin, table="authority_levels")
    start = Barrier(4)

    def save(amount: str) -> str:
        rows = configuration.load_table(uow, actor=people.admin, table="authority_levels")
        rows[0]["max_amount"] = amount
        start.wait()
        try:
            configuration.save_table(uow, actor=people.admin, table="authority_levels", rows=rows,
                                     now=T0, basis=opened)
            return "saved"
        except ConfigurationStale:
            return "stale"

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(save, ["1000", "2000", "3000", "4000"]))
    assert sorted(outcomes) == ["saved", "stale", "stale", "stale"]
    assert _events(uow) == 1


def test_a_users_duties_changed_meanwhile_are_not_overwritten(uow, people):
    from portal.domain.errors import DomainError
    from portal.services import users
    from portal.services.actors import load_actor
    opened = users.duties_of(next(u for u in users.list_users(uow) if u.username == "techhandler"))
    assert opened == {"roles": ["handler"], "department": "technical", "approval_level": None}
    users.update_user(uow, actor=people.admin, username="techhandler", roles=["handler", "approver"],
                      department="technical", approval_level="dept_manager", now=T0, seen=opened)
    with pytest.raises(DomainError) as stale:                  # a second form opened on the old duties
        users.update_user(uow, actor=people.admin, username="techhandler", roles=["handler", "manager"],
                          department="technical", approval_level=None, now=T0, seen=opened)
    assert stale.value.message.key == "users.changed_meanwhile"
    kept = load_actor(uow, "techhandler")
    assert {r.value for r in kept.roles} == {"handler", "approver"} and kept.approval_level == "dept_manager"
    with uow.read() as session:
        assert session.scalar(select(func.count()).select_from(Event).where(Event.action == "user.update")) == 1
