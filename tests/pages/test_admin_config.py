"""系统配置 in the page: an edit saved and logged; a bad row refused with its row, column and reason,
nothing saved; only administrators."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from portal.persistence.models import AuthorityLevel, Category, Event
from tests.conftest import T0
from tests.pages.conftest import app_as, page_path, texts


def test_the_administrator_renames_a_category_and_the_change_is_logged(page_db):
    at = app_as("admin", page_path("admin_config"))
    assert not at.exception
    assert "系统配置" in texts(at)
    edits = {"edited_rows": {"0": {"name_zh": "理赔时效（改）"}}, "added_rows": [], "deleted_rows": []}
    at.session_state["config_categories"] = edits
    at.run()
    next(b for b in at.button if b.key == "config_save_categories").click().run()
    assert not at.exception, at.exception
    assert "已保存 1 行修改，并记入变更记录。" in texts(at)
    with page_db.read() as session:
        names = set(session.scalars(select(Category.name_zh)))
        assert "理赔时效（改）" in names
        assert session.scalar(select(func.count()).select_from(Event).where(Event.action == "config.save")) == 1
    log = next(df.value for df in at.dataframe if "修改后" in df.value.columns)
    assert log.iloc[0]["配置表"] == "投诉类别" and "理赔时效（改）" in log.iloc[0]["修改后"]


def test_overlapping_authority_amounts_are_refused_with_the_row_and_reason(page_db):
    at = app_as("admin", page_path("admin_config"))
    with page_db.read() as session:
        before = {a.key: a.max_amount for a in session.scalars(select(AuthorityLevel))}
    at.session_state["config_authority_levels"] = {"edited_rows": {"1": {"max_amount": "4000"}},
                                                   "added_rows": [], "deleted_rows": []}
    at.run()
    next(b for b in at.button if b.key == "config_save_authority_levels").click().run()
    assert "配置未保存：有 1 处需要修改（见下表）。" in texts(at)
    refusal = next(df.value for df in at.dataframe if "原因" in df.value.columns)
    assert list(refusal["行"]) == ["2"] and list(refusal["列"]) == ["金额上限（元，空为不限）"]
    assert "权限重叠" in refusal.iloc[0]["原因"]
    with page_db.read() as session:
        assert {a.key: a.max_amount for a in session.scalars(select(AuthorityLevel))} == before
        assert before["deputy_gm"] == Decimal("50000")


def test_only_the_administrator_opens_the_configuration(page_db):
    at = app_as("gmo")
    at._page_hash = next(h for h, info in at._registered_pages.items() if info.get("url_pathname") == "admin_config")
    at.run()
    assert "您没有访问“系统配置”的权限" in texts(at)
    assert not at.button or all(not str(b.key or "").startswith("config_save") for b in at.button)


def test_the_administrator_changes_a_users_roles_in_the_page(page_db):
    from portal.services.actors import load_actor
    at = app_as("admin", page_path("admin_users"))
    assert at.selectbox(key="duty_pick").value is None
    at.selectbox(key="duty_pick").select("techhandler").run()
    assert at.multiselect(key="duty_roles_techhandler").value == ["handler"]
    at.multiselect(key="duty_roles_techhandler").set_value(["handler", "approver"])
    at.button(key="FormSubmitter:duties_techhandler-保存").click().run()
    assert "核决人须指定核决权限级别。" in texts(at)
    at.selectbox(key="duty_level_techhandler").select("dept_manager")
    at.button(key="FormSubmitter:duties_techhandler-保存").click().run()
    assert "已更新 techhandler 的角色与部门，下次操作起生效。" in texts(at)
    assert load_actor(page_db, "techhandler").approval_level == "dept_manager"


def _versions(page_db) -> list[tuple[str, int]]:
    from portal.persistence.models import SlaClockVersion
    with page_db.read() as session:
        return sorted(session.execute(select(SlaClockVersion.clock_key, SlaClockVersion.target)).all())


def test_the_administrator_sets_a_new_clock_target_as_a_version_from_now(page_db):
    at = app_as("admin", page_path("admin_config"))
    assert not at.exception, at.exception
    assert "每条时限的计时单位、目标、起止事件" in texts(at)
    at.session_state["config_clocks"] = {"edited_rows": {"0": {"target": 8}}, "added_rows": [], "deleted_rows": []}
    at.run()
    next(b for b in at.button if b.key == "config_save_clocks").click().run()
    assert not at.exception, at.exception
    assert "已保存 1 行修改，并记入变更记录。" in texts(at)
    assert ("acknowledge", 8) in _versions(page_db) and ("acknowledge", 24) in _versions(page_db)
    history = next(df.value for df in at.dataframe if "适用于此时间起收到的投诉" in df.value.columns)
    ack = history[history["时限"] == "确认受理"]
    assert list(ack["目标"]) == ["8 小时", "24 小时"] and list(ack["状态"]) == ["适用中", "适用中"]
    assert list(ack["设置人"]) == ["admin", "—"]
    log = next(df.value for df in at.dataframe if "修改后" in df.value.columns)
    assert log.iloc[0]["配置表"] == "时限规则" and log.iloc[0]["行"] == "确认受理"
    assert "目标：8" in log.iloc[0]["修改后"] and "计时单位：小时" in log.iloc[0]["修改后"]


def test_a_clock_that_would_never_stop_is_refused_with_its_reason(page_db):
    versions = len(_versions(page_db))
    at = app_as("admin", page_path("admin_config"))
    closure = 5                       # 结案: received order of the seeded clocks
    at.session_state["config_clocks"] = {"edited_rows": {str(closure): {"stop_milestone": "accepted_at"}},
                                         "added_rows": [], "deleted_rows": []}
    at.run()
    next(b for b in at.button if b.key == "config_save_clocks").click().run()
    assert "配置未保存：有 1 处需要修改（见下表）。" in texts(at)
    refusal = next(df.value for df in at.dataframe if "原因" in df.value.columns)
    assert list(refusal["行"]) == ["结案"] and list(refusal["列"]) == ["停止于"]
    assert "时限从“总经理室受理”开始、在“总经理室受理”停止" in refusal.iloc[0]["原因"]
    assert len(_versions(page_db)) == versions


def test_a_table_saved_by_someone_else_meanwhile_is_not_overwritten(page_db):
    from portal.services import configuration
    from portal.services.actors import load_actor
    at = app_as("admin", page_path("admin_config"))
    at.session_state["config_categories"] = {"edited_rows": {"0": {"name_zh": "我的改名"}}, "added_rows": [],
                                             "deleted_rows": []}
    at.run()
    # another administrator saves the same table while these edits wait
    admin = load_actor(page_db, "admin")
    theirs = configuration.load_table(page_db, actor=admin, table="categories")
    theirs[1]["name_zh"] = "他人的改名"
    configuration.save_table(page_db, actor=admin, table="categories", rows=theirs, now=T0)
    next(b for b in at.button if b.key == "config_save_categories").click().run()
    assert not at.exception, at.exception
    assert "此表在您打开后已由 admin 于" in texts(at) and "您的修改未保存" in texts(at)
    with page_db.read() as session:
        names = set(session.scalars(select(Category.name_zh)))
        assert "他人的改名" in names and "我的改名" not in names
        assert session.scalar(select(func.count()).select_from(Event).where(Event.action == "config.save")) == 1
    # the editor now shows the table as stored; a change made on it is saved
    at.session_state["config_categories"] = {"edited_rows": {"0": {"name_zh": "我的改名"}}, "added_rows": [],
                                             "deleted_rows": []}
    at.run()
    next(b for b in at.button if b.key == "config_save_categories").click().run()
    assert "已保存 1 行修改，并记入变更记录。" in texts(at)
    with page_db.read() as session:
        assert {"他人的改名", "我的改名"} <= set(session.scalars(select(Category.name_zh)))


def test_a_users_duties_changed_by_someone_else_meanwhile_are_not_overwritten(page_db):
    from portal.services import users
    from portal.services.actors import load_actor
    at = app_as("admin", page_path("admin_users"))
    at.selectbox(key="duty_pick").select("techhandler").run()
    at.multiselect(key="duty_roles_techhandler").set_value(["handler", "manager"])
    users.update_user(page_db, actor=load_actor(page_db, "admin"), username="techhandler",
                      roles=["handler", "approver"], department="technical", approval_level="dept_manager", now=T0)
    at.button(key="FormSubmitter:duties_techhandler-保存").click().run()
    assert not at.exception, at.exception
    assert "的角色、部门或核决权限在您打开后已被他人修改" in texts(at)
    kept = load_actor(page_db, "techhandler")
    assert {r.value for r in kept.roles} == {"handler", "approver"}
    assert set(at.multiselect(key="duty_roles_techhandler").value) == {"handler", "approver"}   # the form as it now is
    at.multiselect(key="duty_roles_techhandler").set_value(["handler", "approver", "manager"])
    at.button(key="FormSubmitter:duties_techhandler-保存").click().run()
    assert "已更新 techhandler 的角色与部门" in texts(at)
    assert {r.value for r in load_actor(page_db, "techhandler").roles} == {"handler", "approver", "manager"}


# -- issue 18: the cause taxonomy, the monthly policies in force, the baselines beside the warnings --

def test_a_sub_cause_without_its_class_is_refused_and_nothing_is_saved(page_db):
    from portal.persistence.models import CauseClass
    at = app_as("admin", page_path("admin_config"))
    assert "原因分类" in [tab.label for tab in at.tabs]
    with page_db.read() as session:
        before = session.scalar(select(func.count()).select_from(CauseClass))
    at.session_state["config_cause_classes"] = {"edited_rows": {}, "deleted_rows": [], "added_rows": [
        {"code": "staff.rudeness", "name_zh": "态度粗暴", "name_en": "Rudeness", "active": True, "sort": 50}]}
    at.run()
    next(b for b in at.button if b.key == "config_save_cause_classes").click().run()
    assert not at.exception
    assert "配置未保存：有 1 处需要修改（见下表）。" in texts(at)
    refusal = next(df.value for df in at.dataframe if "原因" in df.value.columns)
    assert list(refusal["列"]) == ["代码"] and "的大类不在表中" in refusal.iloc[0]["原因"]
    with page_db.read() as session:
        assert session.scalar(select(func.count()).select_from(CauseClass)) == before
    at.session_state["config_cause_classes"] = {"edited_rows": {}, "deleted_rows": [], "added_rows": [
        {"code": "people.rudeness", "name_zh": "态度粗暴", "name_en": "Rudeness", "active": True, "sort": 50}]}
    at.run()
    next(b for b in at.button if b.key == "config_save_cause_classes").click().run()
    assert "已保存 1 行修改，并记入变更记录。" in texts(at)
    with page_db.read() as session:
        assert session.scalar(select(CauseClass.parent_code).where(CauseClass.code == "people.rudeness")) == "people"


def test_the_monthly_policies_in_force_refuse_a_bad_month_and_save_a_good_one(page_db):
    from portal.persistence.models import PoliciesInForce
    at = app_as("admin", page_path("admin_config"))
    at.session_state["config_policies_in_force"] = {"edited_rows": {}, "deleted_rows": [], "added_rows": [
        {"period": "2025/11", "count": 8000}]}
    at.run()
    next(b for b in at.button if b.key == "config_save_policies_in_force").click().run()
    refusal = next(df.value for df in at.dataframe if "原因" in df.value.columns)
    assert list(refusal["列"]) == ["月份（YYYY-MM）"] and "YYYY-MM" in refusal.iloc[0]["原因"]
    with page_db.read() as session:
        assert session.scalar(select(func.count()).select_from(PoliciesInForce)) == 0
    at.session_state["config_policies_in_force"] = {"edited_rows": {}, "deleted_rows": [], "added_rows": [
        {"period": "2025-11", "count": 8000}]}
    at.run()
    next(b for b in at.button if b.key == "config_save_policies_in_force").click().run()
    assert "已保存 1 行修改，并记入变更记录。" in texts(at)
    with page_db.read() as session:
        assert session.get(PoliciesInForce, "2025-11").count == 8000


def test_the_baselines_are_edited_beside_the_warnings_and_a_rate_above_one_is_refused(page_db):
    from portal.persistence.models import Setting
    at = app_as("admin", page_path("admin_config"))
    assert [b for b in at.button if b.key == "config_save_warnings"]
    at.session_state["config_baselines"] = {"edited_rows": {"0": {"value": "75"}}, "added_rows": [],
                                            "deleted_rows": []}
    at.run()
    next(b for b in at.button if b.key == "config_save_baselines").click().run()
    assert "配置未保存：有 1 处需要修改（见下表）。" in texts(at)
    with page_db.read() as session:
        assert session.get(Setting, "satisfaction.baseline.overall").value == "0.75"
