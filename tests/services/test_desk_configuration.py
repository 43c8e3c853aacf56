"""The service desk's rules in 系统配置 (issue 17): its lists, materials checklists, clocks, parameters and
products' claim limits are saved like every configuration table — validated whole (a refused table saves
nothing, each refusal naming its row, column and reason), one audit event, stale editors refused — and a
code policies or requests name is never removed. A new clock target governs clocks started after it; a
running clock keeps the rule it started with."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.domain.configuration import TABLE
from portal.domain.errors import ValidationFailed
from portal.persistence.models import DeskChoice, Event, Product, ServiceRequest
from portal.services import aftersales, aftersales_claims, aftersales_queries, configuration, desk_clocks, rules
from portal.services.configuration import ConfigurationRefused, ConfigurationStale
from tests.services.test_aftersales import (AT, BASIC, MEDICAL, _report_in_hand, add_policy, application, report_form,
                                            row, version)


def _events(uow) -> int:  # noqa: ANN001
    with uow.read() as session:
        return session.scalar(select(func.count()).select_from(Event).where(Event.action == "config.save"))


def _load(uow, people, table: str) -> list[dict]:  # noqa: ANN001
    return configuration.load_table(uow, actor=people.admin, table=table)


def _refused(uow, people, table: str, rows: list[dict]) -> list[tuple[int, str, str]]:  # noqa: ANN001
    with pytest.raises(ConfigurationRefused) as refused:
        configuration.save_table(uow, actor=people.admin, table=table, rows=rows, now=AT)
    return [(r.row, r.field, r.message.key) for r in refused.value.refusals]


def test_a_new_risk_and_a_renamed_channel_are_saved_audited_and_offered_to_the_desk(uow, people):
    risks = _load(uow, people, "desk_risk")
    assert {"code", "name_zh", "name_en", "active", "sort", "keeps_scene"} == set(risks[0])
    risks.append({"code": "pet_injury", "name_zh": "宠物伤害", "name_en": "Pet injury", "active": True, "sort": 20,
                  "keeps_scene": False})
    risks.append({"code": None, "name_zh": "高原反应", "name_en": "Altitude sickness", "active": True, "sort": 21,
                  "keeps_scene": False})
    assert configuration.save_table(uow, actor=people.admin, table="desk_risk", rows=risks, now=AT) == 2
    channels = _load(uow, people, "desk_channel")
    channels[0]["name_zh"] = "电话报案"
    assert configuration.save_table(uow, actor=people.admin, table="desk_channel", rows=channels, now=AT) == 1
    with uow.read() as session:
        offered = aftersales.choices(session, "risk")
        assert "pet_injury" in offered and "risk_11" in offered and offered["risk_11"].name_zh == "高原反应"
        assert aftersales.choices(session, "channel")["phone"].name_zh == "电话报案"
        # the same code in another list is another row: the surrender reason `other` is not the relation's
        assert session.scalar(select(func.count()).select_from(DeskChoice).where(DeskChoice.code == "other")) == 2
    log = configuration.change_log(uow, actor=people.admin)
    assert [(c.table, c.key) for c in log] == [("desk_channel", "phone"), ("desk_risk", "pet_injury"),
                                               ("desk_risk", "risk_11")]
    assert log[0].before["name_zh"] == "电话" and log[0].after["name_zh"] == "电话报案"
    assert _events(uow) == 2
    # saved again unchanged: nothing written, nothing recorded
    assert configuration.save_table(uow, actor=people.admin, table="desk_channel", rows=channels, now=AT) == 0
    assert _events(uow) == 2


def test_each_kind_of_bad_cell_in_a_desk_list_is_refused_and_nothing_is_saved(uow, people):
    rows = _load(uow, people, "desk_relation")
    before = [dict(r) for r in rows]
    rows[0]["name_zh"] = "本人（改）"                          # a good change, not saved with the bad ones
    rows[1]["name_zh"] = "  "
    rows[2]["name_en"] = "x" * 61
    rows[3]["code"] = "Parent!"
    rows[4]["code"] = "self"
    rows[5]["active"] = "yes"
    rows[6]["sort"] = -1
    refusals = _refused(uow, people, "desk_relation", rows)
    assert refusals == [(3, "code", "config.bad_code"), (4, "code", "config.duplicate_code"),
                        (1, "name_zh", "form.required"), (2, "name_en", "form.too_long"),
                        (5, "active", "form.bad_value"), (6, "sort", "config.whole_number"),
                        (TABLE, "code", "config.never_delete"), (TABLE, "code", "config.never_delete")]
    assert _load(uow, people, "desk_relation") == before
    assert _events(uow) == 0
    # a list the process chooses from keeps one active row
    off = [dict(r, active=False) for r in before]
    assert _refused(uow, people, "desk_channel", [dict(r, active=False) for r in _load(uow, people, "desk_channel")]
                    ) == [(TABLE, "active", "config.desk.none_active")]
    assert _refused(uow, people, "desk_relation", off) == [(TABLE, "active", "config.desk.none_active")]
    # `basic` names the checklist every claim has: no claim kind is called so
    kinds = _load(uow, people, "desk_claim_kind") + [{"code": "basic", "name_zh": "基本", "name_en": "Basic",
                                                      "active": True, "sort": 9}]
    assert _refused(uow, people, "desk_claim_kind", kinds) == [(6, "code", "config.desk.basic_reserved")]


def test_a_code_in_use_cannot_be_removed_only_deactivated(uow, people):
    add_policy(uow, risks=("accident_death", "illness_hospital"))
    rows = _load(uow, people, "desk_risk")
    kept = [r for r in rows if r["code"] not in ("illness_hospital", "burns")]
    # the policy names 疾病住院; 烧烫伤 nobody names yet — neither is removed
    assert _refused(uow, people, "desk_risk", kept) == [(TABLE, "code", "config.never_delete"),
                                                        (TABLE, "code", "config.desk.code_in_use")]
    renamed = [dict(r, code="hospital") if r["code"] == "illness_hospital" else r for r in rows]   # a rename too
    assert _refused(uow, people, "desk_risk", renamed) == [(TABLE, "code", "config.desk.code_in_use")]
    off = [dict(r, active=False) if r["code"] == "illness_hospital" else r for r in rows]
    assert configuration.save_table(uow, actor=people.admin, table="desk_risk", rows=off, now=AT) == 1


def test_a_deactivated_risk_is_refused_on_a_new_report_and_old_reports_still_read(uow, people):
    add_policy(uow)
    old = aftersales.register_claim_report(uow, actor=people.clerk, form=report_form(), now=AT)
    rows = _load(uow, people, "desk_risk")
    next(r for r in rows if r["code"] == "illness_hospital")["active"] = False
    configuration.save_table(uow, actor=people.admin, table="desk_risk", rows=rows, now=AT)
    with pytest.raises(ValidationFailed) as refused:
        aftersales.register_claim_report(uow, actor=people.clerk, form=report_form(), now=AT + timedelta(hours=1))
    assert set(refused.value.errors) == {"cause_code"}
    view = aftersales_queries.request_detail(uow, actor=people.clerk, request_id=old.id, now=AT + timedelta(hours=1))
    assert view.request["cause_code"] == "illness_hospital" and view.request["number"] == old.number
    with uow.read() as session:       # its name is kept (a row is never deleted) for whoever shows it
        stored = session.scalar(select(DeskChoice).filter_by(list_key="risk", code="illness_hospital"))
        assert (stored.name_zh, stored.active) == ("疾病住院", False)
    aftersales.accept_report(uow, actor=people.clerk, request_id=old.id, expected_version=version(uow, old.id),
                             now=AT + timedelta(hours=2))
    assert row(uow, old.id).state == "reported"


def test_the_materials_checklists_are_checked_and_a_new_item_is_asked_of_new_applications(uow, people):
    rows = _load(uow, people, "desk_materials")
    assert [r["claim_kind"] for r in rows[:4]] == ["basic"] * 4 and rows[0]["code"] == "policy_original"
    before = [dict(r) for r in rows]
    bad = [dict(r) for r in rows] + [
        {"claim_kind": "pets", "code": None, "name_zh": "宠物证明", "name_en": "Pet papers", "active": True, "sort": 1},
        {"claim_kind": "medical", "code": "policy_original", "name_zh": "重复", "name_en": "Twice", "active": True,
         "sort": 2}]
    for r in bad[:4]:
        r["active"] = False
    refusals = _refused(uow, people, "desk_materials", bad)
    n = len(rows)
    assert refusals == [(n + 1, "code", "config.duplicate_code"), (n, "claim_kind", "config.desk.unknown_kind"),
                        (TABLE, "claim_kind", "config.desk.no_basic")]
    assert _load(uow, people, "desk_materials") == before
    rows.append({"claim_kind": "medical", "code": None, "name_zh": "费用清单", "name_en": "Itemised bill",
                 "active": True, "sort": 9})
    assert configuration.save_table(uow, actor=people.admin, table="desk_materials", rows=rows, now=AT) == 1
    report = _report_in_hand(uow, people)
    done = aftersales_claims.record_application(uow, actor=people.clerk, now=AT,
                                                form=application(report, [*BASIC, *MEDICAL]))
    assert done.state == "incomplete" and done.missing == ("material_" + str(len(rows)),)


def test_what_an_incomplete_application_waits_with_is_not_deactivated(uow, people):
    report = _report_in_hand(uow, people)
    waiting = aftersales_claims.record_application(uow, actor=people.clerk, now=AT,
                                                   form=application(report, [*BASIC, *MEDICAL[:-1]]))
    kinds = _load(uow, people, "desk_claim_kind")
    medical = next(i for i, r in enumerate(kinds) if r["code"] == "medical")
    kinds[medical]["active"] = False
    assert _refused(uow, people, "desk_claim_kind", kinds) == [(medical, "active", "config.desk.kind_waiting")]
    materials = _load(uow, people, "desk_materials")
    received = next(i for i, r in enumerate(materials) if r["code"] == "test_reports")
    materials[received]["active"] = False
    assert _refused(uow, people, "desk_materials", materials) == [(received, "active",
                                                                   "config.desk.material_waiting")]
    # the document still missing may be dropped from the checklist: the application is then complete when
    # anything more comes, and without it
    materials[received]["active"] = True
    next(r for r in materials if r["code"] == "pathology_report")["active"] = False
    configuration.save_table(uow, actor=people.admin, table="desk_materials", rows=materials, now=AT)
    assert aftersales_claims.add_materials(uow, actor=people.clerk, request_id=waiting.id,
                                           expected_version=version(uow, waiting.id), materials=["test_reports"],
                                           now=AT).state == "complete"


def test_a_new_clock_target_governs_clocks_started_after_it_and_running_clocks_keep_theirs(uow, people):
    report = _report_in_hand(uow, people)
    running = aftersales_claims.record_application(uow, actor=people.clerk, now=AT,
                                                   form=application(report, [*BASIC, *MEDICAL]))
    assert row(uow, running.id).clock_due_at == datetime(2025, 10, 14, 0, 0)       # 3 working days
    clocks = _load(uow, people, "desk_clocks")
    handover = next(r for r in clocks if r["key"] == "handover")
    handover["target"] = 5
    assert configuration.save_table(uow, actor=people.admin, table="desk_clocks", rows=clocks, now=AT) == 1
    [change] = configuration.change_log(uow, actor=people.admin, table="desk_clocks")
    assert (change.key, change.before["target"], change.after["target"]) == ("handover", 3, 5)
    stored = row(uow, running.id)
    assert (stored.clock_unit, stored.clock_target, stored.clock_due_at) == ("working_days", 3,
                                                                             datetime(2025, 10, 14, 0, 0))
    later = aftersales_claims.record_application(uow, actor=people.clerk, now=AT,
                                                 form=application(report, [*BASIC, *MEDICAL]))
    assert (row(uow, later.id).clock_target, row(uow, later.id).clock_due_at) == (5, datetime(2025, 10, 16, 0, 0))
    # a calendar or 临期 change recomputes running clocks, each with the rule it started with
    with uow.write() as session:
        assert desk_clocks.refresh_running(session, _calendar(session)) == 2
    assert row(uow, running.id).clock_due_at == datetime(2025, 10, 14, 0, 0)
    assert row(uow, later.id).clock_due_at == datetime(2025, 10, 16, 0, 0)


def _calendar(session):  # noqa: ANN001, ANN202
    from portal.persistence.models import CalendarDayRow
    return rules.calendar_from_rows(session.execute(select(CalendarDayRow.day, CalendarDayRow.is_working,
                                                           CalendarDayRow.kind, CalendarDayRow.note)).all())


def test_desk_clocks_need_a_known_unit_and_a_target_within_bounds(uow, people):
    clocks = _load(uow, people, "desk_clocks")
    keys = [r["key"] for r in clocks]
    bad = [dict(r) for r in clocks]
    bad[0]["unit"] = "weeks"
    bad[1]["target"] = 0
    bad[2]["target"] = 9000
    bad[2]["unit"] = "hours"
    bad[3]["target"] = 2.5
    assert _refused(uow, people, "desk_clocks", bad) == [(0, "unit", "form.bad_value"),
                                                        (1, "target", "config.whole_number"),
                                                        (2, "target", "config.whole_number"),
                                                        (3, "target", "config.whole_number")]
    assert _refused(uow, people, "desk_clocks", clocks + [{"key": "extra", "unit": "hours", "target": 1}]) == [
        (TABLE, "key", "config.fixed_keys")]
    assert [r["key"] for r in _load(uow, people, "desk_clocks")] == keys and _events(uow) == 0


def test_the_desk_parameters_are_positive_and_a_new_threshold_decides_the_next_report(uow, people):
    rows = _load(uow, people, "desk_parameters")
    by_key = {r["key"]: r for r in rows}
    assert by_key["desk.major_threshold"]["value"] == "500000" and by_key["desk.scene_hours"]["value"] == "24"
    for threshold, hours, expected in (("0", "24", "config.number_range"), ("1000.005", "24", "config.cents"),
                                       ("abc", "24", "config.number_range"), ("500000", "2.5", "config.whole_number"),
                                       ("500000", "0", "config.whole_number")):
        by_key["desk.major_threshold"]["value"], by_key["desk.scene_hours"]["value"] = threshold, hours
        assert [m for _, _, m in _refused(uow, people, "desk_parameters", rows)] == [expected]
    by_key["desk.major_threshold"]["value"], by_key["desk.scene_hours"]["value"] = "200000.00", "48"
    assert configuration.save_table(uow, actor=people.admin, table="desk_parameters", rows=rows, now=AT) == 2
    assert rules.load_settings(uow)["desk.major_threshold"] == "200000"
    add_policy(uow)                                          # sum insured 300,000: over the new threshold
    done = aftersales.register_claim_report(uow, actor=people.clerk, form=report_form(outcome_uncertain=True), now=AT)
    assert done.major_reasons


def test_a_products_claim_limit_is_edited_checked_and_governs_the_next_check(uow, people):
    add_policy(uow, limit=(2, "years"))
    rows = _load(uow, people, "desk_products")
    assert rows == [{"code": "life-plus", "name": "安康综合保障计划", "claim_limit": 2, "claim_limit_unit": "years"}]
    for amount, unit, field, key in ((2, "weeks", "claim_limit_unit", "config.desk.limit_unit"),
                                     (None, "days", "claim_limit", "config.whole_number"),
                                     (3, None, "claim_limit_unit", "config.desk.limit_unit"),
                                     (101, "years", "claim_limit", "config.whole_number"),
                                     (0, "days", "claim_limit", "config.whole_number")):
        assert _refused(uow, people, "desk_products", [dict(rows[0], claim_limit=amount, claim_limit_unit=unit)]
                        ) == [(0, field, key)]
    assert _refused(uow, people, "desk_products", [dict(rows[0], name="")]) == [(0, "name", "form.required")]
    configuration.save_table(uow, actor=people.admin, table="desk_products",
                             rows=[dict(rows[0], claim_limit=10.0, claim_limit_unit="days")], now=AT)
    with uow.read() as session:
        product = session.scalar(select(Product))
        assert (product.claim_limit, product.claim_limit_unit) == (10, "days")
    late = aftersales.register_claim_report(
        uow, actor=people.clerk, now=AT, form=report_form(event_at=AT - timedelta(days=11)))
    assert [f.value for f in late.check.failures] == ["time_limit"]
    configuration.save_table(uow, actor=people.admin, table="desk_products",
                             rows=[dict(rows[0], claim_limit=None, claim_limit_unit=None)], now=AT)
    assert aftersales.register_claim_report(uow, actor=people.clerk, now=AT,
                                            form=report_form(event_at=AT - timedelta(days=11))).check.passed
    assert _refused(uow, people, "desk_products", []) == [(TABLE, "code", "config.fixed_keys")]


def test_a_desk_table_saved_by_someone_else_meanwhile_is_refused(uow, people):
    opened = configuration.table_version(uow, actor=people.admin, table="desk_surrender_reason")
    theirs = _load(uow, people, "desk_surrender_reason")
    theirs[0]["name_zh"] = "资金周转"
    configuration.save_table(uow, actor=people.admin, table="desk_surrender_reason", rows=theirs, now=AT,
                             basis=opened)
    mine = _load(uow, people, "desk_surrender_reason")
    mine[1]["name_zh"] = "产品不合适"
    with pytest.raises(ConfigurationStale):
        configuration.save_table(uow, actor=people.admin, table="desk_surrender_reason", rows=mine, now=AT,
                                 basis=opened)
    # another desk table's save is no conflict
    assert configuration.table_version(uow, actor=people.admin, table="desk_relation") == 0
    with uow.read() as session:
        assert aftersales.choices(session, "surrender_reason")["product_unsuitable"].name_zh == "产品不适合"
        assert session.scalar(select(func.count()).select_from(ServiceRequest)) == 0


def test_a_claim_limit_edited_on_a_register_imported_since_is_refused(uow, people):
    """The policy import sets products' claim limits too: an editor opened before an import would undo it."""
    from portal.adapters.policy_files import read_policy_file
    from portal.services import policies
    from tests.services.test_policies import ROWS, csv_bytes
    policies.import_policies(uow, actor=people.admin, rows=read_policy_file("p.csv", csv_bytes(ROWS)), now=AT)
    opened = configuration.table_version(uow, actor=people.admin, table="desk_products")
    mine = _load(uow, people, "desk_products")
    assert {r["code"]: (r["claim_limit"], r["claim_limit_unit"]) for r in mine} == {"ACC": (2, "years"),
                                                                                   "CAR": (30, "days")}
    changed = [list(r) for r in ROWS]
    for r in changed:
        r[4] = "3" if r[2] == "ACC" else r[4]
    policies.import_policies(uow, actor=people.admin, rows=read_policy_file("p.csv", csv_bytes(changed)),
                             now=AT + timedelta(minutes=5))
    mine[1]["claim_limit"] = 60
    with pytest.raises(ConfigurationStale):
        configuration.save_table(uow, actor=people.admin, table="desk_products", rows=mine, now=AT, basis=opened)
    fresh = _load(uow, people, "desk_products")
    assert fresh[0]["claim_limit"] == 3 and fresh[1]["claim_limit"] == 30
    fresh[1]["claim_limit"] = 60
    assert configuration.save_table(uow, actor=people.admin, table="desk_products", rows=fresh, now=AT,
                                    basis=configuration.table_version(uow, actor=people.admin,
                                                                      table="desk_products")) == 1
