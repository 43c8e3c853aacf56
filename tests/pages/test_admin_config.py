"""系统配置 in the page: an edit saved and logged; a bad row refused with its row, column and reason,
nothing saved; only administrators."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from portal.persistence.models import AuthorityLevel, Category, Event
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
