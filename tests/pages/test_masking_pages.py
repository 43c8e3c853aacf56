"""Issue 16 in the pages: the masking table edited in 系统配置 (saved and logged; a bad cell or a table
that hides a field from everyone who talks to the customer refused with its row, column and reason,
nothing saved), and 案件详情's search: the recent cases, by number for everyone, by personal data only
where the table shows it, audited."""
from __future__ import annotations

from sqlalchemy import func, select

from portal.persistence.models import Event, MaskingRule
from portal.services import complaints
from portal.services.actors import load_actor
from portal.ui.context import now as wall_now
from tests.helpers import a_form
from tests.pages.conftest import app_as, page_path, texts

MANAGER_ROW = "6"          # the table's rows in their seeded order: … 核决人, 部门主管, 管理层, …
NAME, PHONE, POLICY = "欧阳明珠", "13911223344", "P990011223344"


def _rules(page_db) -> dict[str, tuple]:
    with page_db.read() as session:
        return {r.audience: (r.name, r.phone, r.policy_number) for r in session.scalars(select(MaskingRule))}


def _save(at):  # noqa: ANN001, ANN202
    at.run()
    next(b for b in at.button if b.key == "config_save_masking_rules").click().run()
    assert not at.exception, at.exception
    return at


def test_the_administrator_shows_names_to_managers_and_the_change_is_logged(page_db):
    at = app_as("admin", page_path("admin_config"))
    assert "个人信息脱敏" in [tab.label for tab in at.tabs]
    table = next(df.value for df in at.data_editor if "audience" in df.value.columns)
    assert list(table["audience_label"])[int(MANAGER_ROW)] == "管理层"
    at.session_state["config_masking_rules"] = {"edited_rows": {MANAGER_ROW: {"name": "shown"}},
                                                "added_rows": [], "deleted_rows": []}
    _save(at)
    assert "已保存 1 行修改，并记入变更记录。" in texts(at)
    assert _rules(page_db)["manager"] == ("shown", "masked", "masked")
    log = next(df.value for df in at.dataframe if "修改后" in df.value.columns)
    assert log.iloc[0]["配置表"] == "个人信息脱敏" and log.iloc[0]["行"] == "管理层"
    assert "客户姓名：显示" in log.iloc[0]["修改后"] and "客户姓名：脱敏" in log.iloc[0]["修改前"]


def test_a_cell_that_is_no_visibility_is_refused_with_its_row_and_nothing_is_saved(page_db):
    before = _rules(page_db)
    at = app_as("admin", page_path("admin_config"))
    at.session_state["config_masking_rules"] = {"edited_rows": {MANAGER_ROW: {"phone": "visible", "name": "shown"}},
                                                "added_rows": [], "deleted_rows": []}
    _save(at)
    assert "配置未保存：有 1 处需要修改（见下表）。" in texts(at)
    refusal = next(df.value for df in at.dataframe if "原因" in df.value.columns)
    assert list(refusal["行"]) == ["管理层"] and list(refusal["列"]) == ["手机号码"]
    assert list(refusal["原因"]) == ["请选择“显示”“仅本部门案件显示”或“脱敏”。"]
    assert _rules(page_db) == before
    with page_db.read() as session:
        assert session.scalar(select(func.count()).select_from(Event).where(Event.action == "config.save")) == 0


def test_hiding_a_field_from_everyone_who_talks_to_the_customer_is_refused(page_db):
    before = _rules(page_db)
    at = app_as("admin", page_path("admin_config"))
    at.session_state["config_masking_rules"] = {"edited_rows": {str(i): {"phone": "masked"} for i in (0, 1, 3)},
                                                "added_rows": [], "deleted_rows": []}
    _save(at)
    refusal = next(df.value for df in at.dataframe if "原因" in df.value.columns)
    assert list(refusal["行"]) == ["整表"] and list(refusal["列"]) == ["手机号码"]
    assert "否则无人能联系客户" in refusal.iloc[0]["原因"]
    assert _rules(page_db) == before


def _case(page_db) -> str:
    done = complaints.register_complaint(page_db, actor=load_actor(page_db, "clerk"), attachments=[], now=wall_now(),
                                         form=a_form(customer_name=NAME, customer_phone=PHONE, policy_number=POLICY,
                                                     insured_name=NAME, received_at=wall_now()))
    complaints.accept_complaint(page_db, actor=load_actor(page_db, "gmo"), complaint_id=done.id, category="claim",
                                severity=done.severity, departments=["operations"], now=wall_now())
    with page_db.read() as session:
        from portal.persistence.models import Complaint
        return session.get(Complaint, done.id).number


def test_the_managers_case_page_lists_the_recent_cases_masked_and_offers_no_search_by_personal_data(page_db):
    number = _case(page_db)
    at = app_as("boss", page_path("case"))
    assert not at.exception, at.exception
    assert "最近的案件" in texts(at)
    recent = next(df.value for df in at.dataframe if "客户" in df.value.columns)
    assert list(recent["投诉编号"]) == [number] and list(recent["客户"]) == ["欧***"]
    assert list(recent["保单号"]) == ["*********3344"]
    assert not [s for s in at.selectbox if s.key == "case_search_by"]
    at.selectbox(key="case_recent_pick").set_value(number).run()      # opening a case from the list
    assert not at.exception, at.exception
    assert f"{number}" in texts(at) and at.text_input(key="case_ref").value == number
    shown = "\n".join(str(df.value.to_csv()) for df in at.dataframe) + texts(at)
    assert NAME not in shown and PHONE not in shown and POLICY not in shown


def test_the_gm_office_finds_a_case_by_phone_and_the_search_is_audited(page_db):
    number = _case(page_db)
    at = app_as("gmo", page_path("case"))
    assert at.selectbox(key="case_search_by").options == ["保单号", "客户姓名", "手机号码"]
    at.selectbox(key="case_search_by").set_value("phone")
    at.text_input(key="case_search_text").input(PHONE)
    at.button(key="FormSubmitter:case_search-查找").click().run()
    assert not at.exception, at.exception
    assert "找到 1 件案件" in texts(at)
    found = next(df.value for df in at.dataframe if "客户" in df.value.columns)
    assert list(found["投诉编号"]) == [number] and list(found["客户"]) == [NAME]
    with page_db.read() as session:
        events = session.scalars(select(Event).where(Event.action == "case.search")).all()
    assert [(e.actor_label, e.changes["by"], e.changes["value"], e.changes["matches"]) for e in events] == [
        ("gmo", "phone", "139****3344", 1)]
    at.run()                             # a rerun of the page does not search (nor audit) again
    with page_db.read() as session:
        assert session.scalar(select(func.count()).select_from(Event).where(Event.action == "case.search")) == 1


def test_the_approver_may_search_by_name_and_policy_number_but_not_by_phone(page_db):
    _case(page_db)
    at = app_as("approver", page_path("case"))
    assert at.selectbox(key="case_search_by").options == ["保单号", "客户姓名"]
    at.selectbox(key="case_search_by").set_value("name")
    at.text_input(key="case_search_text").input("阳明")
    at.button(key="FormSubmitter:case_search-查找").click().run()
    found = next(df.value for df in at.dataframe if "客户" in df.value.columns)
    assert list(found["客户"]) == [NAME]


def test_the_ledger_search_names_only_the_fields_it_matches_for_the_reader(page_db):
    """The manager, to whom names and policy numbers are masked, is offered a search by case number only
    (and a name they type matches nothing); the GM office searches by all three."""
    number = _case(page_db)
    boss = app_as("boss", page_path("ledger"))
    assert boss.text_input(key="ledger_text").label == "搜索投诉编号"
    boss.text_input(key="ledger_text").input(NAME).run()
    assert not boss.exception, boss.exception
    assert [m.value for m in boss.metric][0] == "0"                       # a masked value is never confirmed
    gmo = app_as("gmo", page_path("ledger"))
    assert gmo.text_input(key="ledger_text").label == "搜索编号、客户姓名或保单号"
    gmo.text_input(key="ledger_text").input(number).run()
    assert [m.value for m in gmo.metric][0] == "1"


def test_a_ledger_search_that_could_match_personal_data_is_audited_once(page_db):
    _case(page_db)
    at = app_as("gmo", page_path("ledger"))
    at.text_input(key="ledger_text").input("欧阳").run()
    assert not at.exception, at.exception
    at.run()                                             # a rerun is not a new search
    with page_db.read() as session:
        events = session.scalars(select(Event).where(Event.action == "ledger.search")).all()
    assert [(e.actor_label, e.changes["by"], e.changes["value"], e.changes["matches"]) for e in events] == [
        ("gmo", ["name", "policy_number"], "欧*", 1)]
    boss = app_as("boss", page_path("ledger"))           # a search by case number only leaves no event
    boss.text_input(key="ledger_text").input("欧阳").run()
    with page_db.read() as session:
        assert session.scalar(select(func.count()).select_from(Event).where(Event.action == "ledger.search")) == 1
