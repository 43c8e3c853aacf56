"""系统配置's issue-18 tables on SQLite and PostgreSQL: the cause taxonomy, the quality checklist, the satisfaction
baselines beside the warnings (the complaint-rate warning may be empty), the monthly policies in force and the new
parameters. A bad row refuses the whole table (nothing saved); every save is one audit event."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from portal.persistence.models import CauseClass, ComplaintDepartment, Event, PoliciesInForce, QualityChecklistItem, Setting
from portal.services import configuration
from portal.services.configuration import ConfigurationRefused

NOW = datetime(2025, 11, 3, 9, 0)


def load(uow, people, table):  # noqa: ANN001, ANN201
    return configuration.load_table(uow, actor=people.admin, table=table)


def refusal_keys(refused) -> list[tuple[int, str, str]]:  # noqa: ANN001
    return [(r.row, r.field, r.message.key) for r in refused.value.refusals]


def saves(uow) -> int:  # noqa: ANN001
    with uow.read() as session:
        return session.scalar(select(func.count()).select_from(Event).where(Event.action == "config.save"))


def test_the_seeded_taxonomy_is_two_levels_and_a_new_sub_cause_joins_its_class(uow, people):
    rows = load(uow, people, "cause_classes")
    assert [r["code"] for r in rows][:4] == ["people", "people.attitude", "people.skill", "people.conduct"]
    assert next(r for r in rows if r["code"] == "people.attitude")["parent_code"] == "people"
    added = [*rows, {"code": "people.language", "name_zh": "沟通用语不当", "name_en": "Improper language",
                     "active": True, "sort": 99}]
    assert configuration.save_table(uow, actor=people.admin, table="cause_classes", rows=added, now=NOW) == 1
    with uow.read() as session:
        new = session.scalar(select(CauseClass).where(CauseClass.code == "people.language"))
        assert (new.parent_code, new.name_zh, new.active) == ("people", "沟通用语不当", True)
        event = session.scalar(select(Event).where(Event.action == "config.save"))
        assert event.comment == "cause_classes" and event.changes["after"]["people.language"]["name_en"] == \
            "Improper language"


def test_a_cause_in_use_is_not_removed_or_recoded_but_an_unused_one_may_go(uow, people):
    from tests.helpers import a_form
    from portal.services import complaints
    case_id = complaints.register_complaint(uow, actor=people.clerk, form=a_form(), attachments=[],
                                            now=datetime(2025, 9, 30, 9, 10)).id
    complaints.accept_complaint(uow, actor=people.gmo, complaint_id=case_id, category="claim_speed",
                                severity="general", departments=["operations"], now=datetime(2025, 9, 30, 10))
    with uow.write() as session:        # 运营部's report named people.attitude (as the report form stores it)
        session.get(ComplaintDepartment, (case_id, session.scalar(
            select(ComplaintDepartment.department_id).where(ComplaintDepartment.complaint_id == case_id)))
        ).cause_code = "people.attitude"
    rows = load(uow, people, "cause_classes")
    recoded = [{**r, "code": "people.manner"} if r["code"] == "people.attitude" else r for r in rows]
    with pytest.raises(ConfigurationRefused) as refused:
        configuration.save_table(uow, actor=people.admin, table="cause_classes", rows=recoded, now=NOW)
    assert (-1, "code", "config.cause.in_use") in refusal_keys(refused)
    with uow.read() as session:
        assert session.scalar(select(CauseClass.id).where(CauseClass.code == "people.manner")) is None   # nothing
    without_class = [r for r in rows if not r["code"].startswith("people")]     # the class is in use through it
    with pytest.raises(ConfigurationRefused) as refused:
        configuration.save_table(uow, actor=people.admin, table="cause_classes", rows=without_class, now=NOW)
    assert {(-1, "code", "config.cause.in_use")} == {k for k in refusal_keys(refused) if k[2] == "config.cause.in_use"}
    assert [r.message.params["code"] for r in refused.value.refusals] == ["people", "people.attitude"]
    # deactivating it is the way; removing an unused one (people.skill) deletes it, audited
    kept = [{**r, "active": False} if r["code"] == "people.attitude" else r for r in rows if r["code"] != "people.skill"]
    assert configuration.save_table(uow, actor=people.admin, table="cause_classes", rows=kept, now=NOW) == 2
    with uow.read() as session:
        codes = dict(session.execute(select(CauseClass.code, CauseClass.active)).all())
        assert codes["people.attitude"] is False and "people.skill" not in codes
        event = session.scalar(select(Event).where(Event.action == "config.save"))
        assert event.changes["after"]["people.skill"] == {"removed": True}
        assert event.changes["before"]["people.skill"]["name_zh"] == "业务技能不足"


def test_the_checklist_gets_a_new_point_with_a_code_of_its_own_and_refuses_an_empty_text(uow, people):
    rows = load(uow, people, "quality_checklist")
    assert [r["code"] for r in rows] == ["deadlines", "investigation", "decision", "customer_told", "records"]
    before = saves(uow)
    with pytest.raises(ConfigurationRefused) as refused:
        configuration.save_table(uow, actor=people.admin, table="quality_checklist", now=NOW,
                                 rows=[*rows, {"text_zh": "", "text_en": "Complaint filed", "active": True,
                                               "sort": 9}])
    assert (5, "text_zh", "form.required") in refusal_keys(refused) and saves(uow) == before
    configuration.save_table(uow, actor=people.admin, table="quality_checklist", now=NOW,
                             rows=[*rows, {"text_zh": "投诉资料已归档", "text_en": "Complaint filed", "active": True,
                                           "sort": 9}])
    with uow.read() as session:
        new = session.scalar(select(QualityChecklistItem).where(QualityChecklistItem.text_zh == "投诉资料已归档"))
        assert new.code == "check_6" and new.active


def test_baselines_are_edited_beside_the_warnings_and_a_bad_value_saves_nothing(uow, people):
    baselines = {r["key"]: r["value"] for r in load(uow, people, "baselines")}
    assert baselines == {"satisfaction.baseline.overall": "0.75", "satisfaction.baseline.process": "0.80",
                         "satisfaction.baseline.attitude": "0.78", "satisfaction.baseline.efficiency": "0.72",
                         "satisfaction.baseline.result": "0.76"}
    warnings = {r["key"]: r["value"] for r in load(uow, people, "warnings")}
    assert warnings["warning.satisfaction_min"] == "0.75" and warnings["warning.satisfaction_min.result"] == "0.76"
    assert warnings["warning.complaint_rate_max"] == ""
    rows = [{**r, "value": "1.5" if r["key"] == "satisfaction.baseline.result" else r["value"]}
            for r in load(uow, people, "baselines")]
    with pytest.raises(ConfigurationRefused) as refused:
        configuration.save_table(uow, actor=people.admin, table="baselines", rows=rows, now=NOW)
    assert [k for _, _, k in refusal_keys(refused)] == ["config.rate_range"]
    rows = [{**r, "value": "0.7" if r["key"] == "satisfaction.baseline.result" else r["value"]}
            for r in load(uow, people, "baselines")]
    assert configuration.save_table(uow, actor=people.admin, table="baselines", rows=rows, now=NOW) == 1
    with uow.read() as session:
        assert session.get(Setting, "satisfaction.baseline.result").value == "0.7"


def test_the_complaint_rate_warning_is_set_and_switched_off_again(uow, people):
    def save(value):  # noqa: ANN001, ANN202
        rows = [{**r, "value": value if r["key"] == "warning.complaint_rate_max" else r["value"]}
                for r in load(uow, people, "warnings")]
        return configuration.save_table(uow, actor=people.admin, table="warnings", rows=rows, now=NOW)

    with pytest.raises(ConfigurationRefused) as refused:
        save("-3")
    assert [k for _, _, k in refusal_keys(refused)] == ["config.per_policies_range"]
    assert save("2.5") == 1
    with uow.read() as session:
        assert session.get(Setting, "warning.complaint_rate_max").value == "2.5"
    assert save(None) == 1
    with uow.read() as session:
        assert session.get(Setting, "warning.complaint_rate_max").value == ""


def test_monthly_policies_in_force_are_entered_with_who_and_when(uow, people):
    assert load(uow, people, "policies_in_force") == []
    with pytest.raises(ConfigurationRefused) as refused:
        configuration.save_table(uow, actor=people.admin, table="policies_in_force", now=NOW,
                                 rows=[{"period": "2025-11", "count": 8000}, {"period": "2025-13", "count": 10}])
    assert refusal_keys(refused) == [(1, "period", "config.bad_month")]
    with uow.read() as session:
        assert session.scalar(select(func.count()).select_from(PoliciesInForce)) == 0      # not half saved
    configuration.save_table(uow, actor=people.admin, table="policies_in_force", now=NOW,
                             rows=[{"period": "2025-11", "count": 8000.0}, {"period": "2025-10", "count": 7900}])
    assert load(uow, people, "policies_in_force") == [{"period": "2025-11", "count": 8000},
                                                      {"period": "2025-10", "count": 7900}]
    with uow.read() as session:
        row = session.get(PoliciesInForce, "2025-11")
        assert (row.entered_by_id, row.entered_at) == (people.admin.id, NOW)
    with pytest.raises(ConfigurationRefused) as refused:       # a month entered is corrected, never removed
        configuration.save_table(uow, actor=people.admin, table="policies_in_force", now=NOW,
                                 rows=[{"period": "2025-11", "count": 8100}])
    assert (-1, "period", "config.never_delete") in refusal_keys(refused)


def test_the_effect_and_second_visit_days_are_parameters_from_1_to_365(uow, people):
    rows = {r["key"]: r for r in load(uow, people, "parameters")}
    assert rows["rectification.effect_days"]["value"] == "30" and rows["follow_up.second_visit_days"]["value"] == "30"
    bad = [{**r, "value": "0" if r["key"] == "rectification.effect_days" else
            "366" if r["key"] == "follow_up.second_visit_days" else r["value"]} for r in rows.values()]
    with pytest.raises(ConfigurationRefused) as refused:
        configuration.save_table(uow, actor=people.admin, table="parameters", rows=bad, now=NOW)
    assert sorted(k for _, _, k in refusal_keys(refused)) == ["config.whole_number", "config.whole_number"]
    good = [{**r, "value": "14" if r["key"] == "rectification.effect_days" else r["value"]} for r in rows.values()]
    assert configuration.save_table(uow, actor=people.admin, table="parameters", rows=good, now=NOW) == 1
    with uow.read() as session:
        assert session.get(Setting, "rectification.effect_days").value == "14"
