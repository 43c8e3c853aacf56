"""系统配置's 售后服务 section in the page: a desk list edited and saved (the desk's cached lists read anew, the
change logged in words), a bad checklist row refused with its row, column and reason and nothing saved, a desk
clock's target changed, a product's claim limit set."""
from __future__ import annotations

from sqlalchemy import func, select

from portal.persistence.models import DeskChoice, DeskClockRow, DeskMaterial, Event, Product
from tests.pages.conftest import app_as, page_path, texts


def _open(table: str):  # noqa: ANN202
    at = app_as("admin", page_path("admin_config"))
    assert not at.exception, at.exception
    at.selectbox(key="config_desk_table").select(table).run()
    assert not at.exception, at.exception
    return at


def _save(at, table: str, edits: dict) -> None:  # noqa: ANN001
    at.session_state[f"config_{table}"] = {"edited_rows": edits, "added_rows": [], "deleted_rows": []}
    at.run()
    next(b for b in at.button if b.key == f"config_save_{table}").click().run()
    assert not at.exception, at.exception


def _saves(page_db) -> int:  # noqa: ANN001
    with page_db.read() as session:
        return session.scalar(select(func.count()).select_from(Event).where(Event.action == "config.save"))


def test_the_administrator_renames_a_report_channel_and_the_desk_shows_it_at_once(page_db):
    from portal.ui.desk_actions import lists_of
    url = str(page_db.engine.url)
    assert lists_of(url, "zh")["channel"]["phone"] == "电话"          # the desk's pages have read the list
    at = _open("desk_channel")
    assert "售后受理的可选清单" in texts(at) and "报案、理赔申请、退保和批改的受理方式" in texts(at)
    _save(at, "desk_channel", {"0": {"name_zh": "电话报案"}})
    assert "已保存 1 行修改，并记入变更记录。" in texts(at)
    with page_db.read() as session:
        assert session.scalar(select(DeskChoice.name_zh).filter_by(list_key="channel", code="phone")) == "电话报案"
    assert lists_of(url, "zh")["channel"]["phone"] == "电话报案"     # the cache was cleared by the save
    log = next(df.value for df in at.dataframe if "修改后" in df.value.columns)
    assert log.iloc[0]["配置表"] == "报案方式" and log.iloc[0]["行"] == "电话报案"
    assert "中文名称：电话报案" in log.iloc[0]["修改后"]


def test_a_checklist_row_without_a_name_is_refused_with_its_row_column_and_reason(page_db):
    with page_db.read() as session:
        before = sorted(session.scalars(select(DeskMaterial.name_zh)))
    at = _open("desk_materials")
    _save(at, "desk_materials", {"1": {"name_zh": ""}, "0": {"name_zh": "保险单正本或电子保单"}})
    assert "配置未保存：有 1 处需要修改（见下表）。" in texts(at)
    refusal = next(df.value for df in at.dataframe if "原因" in df.value.columns)
    assert list(refusal["行"]) == ["保费收据"] and list(refusal["列"]) == ["中文名称"]
    assert refusal.iloc[0]["原因"] == "此项为必填项。"
    with page_db.read() as session:
        assert sorted(session.scalars(select(DeskMaterial.name_zh))) == before
    assert _saves(page_db) == 0


def test_the_administrator_sets_a_desk_clocks_target_and_the_log_names_it(page_db):
    at = _open("desk_clocks")
    assert "已在计时的受理件仍按开始时的规则计算" in texts(at)
    with page_db.read() as session:
        keys = list(session.scalars(select(DeskClockRow.key).order_by(DeskClockRow.key)))
    _save(at, "desk_clocks", {str(keys.index("handover")): {"target": 5}})
    assert "已保存 1 行修改，并记入变更记录。" in texts(at)
    with page_db.read() as session:
        assert session.get(DeskClockRow, "handover").target == 5
    log = next(df.value for df in at.dataframe if "修改后" in df.value.columns)
    assert log.iloc[0]["配置表"] == "售后时限" and log.iloc[0]["行"] == "移交保险公司"
    assert "目标：5" in log.iloc[0]["修改后"] and "计时单位：工作日" in log.iloc[0]["修改后"]


def test_a_products_claim_limit_is_set_in_words_of_the_reader(page_db):
    with page_db.write() as session:
        session.add(Product(code="life-plus", name="安康综合保障计划", claim_limit=2, claim_limit_unit="years", active=True))
    at = _open("desk_products")
    _save(at, "desk_products", {"0": {"claim_limit": 180, "claim_limit_unit": "days"}})
    assert "已保存 1 行修改，并记入变更记录。" in texts(at)
    with page_db.read() as session:
        assert session.execute(select(Product.claim_limit, Product.claim_limit_unit)).one() == (180, "days")
    log = next(df.value for df in at.dataframe if "修改后" in df.value.columns)
    assert log.iloc[0]["配置表"] == "险种申请时效" and log.iloc[0]["行"] == "life-plus 安康综合保障计划"
    assert "时效单位：天" in log.iloc[0]["修改后"] and "days" not in log.iloc[0]["修改后"]


def test_the_desk_parameters_refuse_a_threshold_that_is_not_positive(page_db):
    at = _open("desk_parameters")
    _save(at, "desk_parameters", {"0": {"value": "0"}})
    refusal = next(df.value for df in at.dataframe if "原因" in df.value.columns)
    assert list(refusal["行"])[0].startswith("重大案件金额标准") and list(refusal["列"]) == ["阈值"]
    assert "须为 1 至 1000000000000 之间的数" in refusal.iloc[0]["原因"]
    assert _saves(page_db) == 0


def test_every_desk_table_opens_in_chinese_without_a_catalogue_key_showing(page_db):
    from portal.services.desk_configuration import TABLE_NAMES
    at = app_as("admin", page_path("admin_config"))
    for table in TABLE_NAMES:
        at.selectbox(key="config_desk_table").select(table).run()
        assert not at.exception, (table, at.exception)
        shown = texts(at)
        assert "config." not in shown and "param." not in shown, table
    labels = at.selectbox(key="config_desk_table").options
    assert "保险责任（出险原因）" in labels and "险种申请时效" in labels
    assert all(not any("a" <= c.lower() <= "z" for c in label) for label in labels)


def test_the_desk_section_reads_in_english_too(page_db):
    at = app_as("admin", page_path("admin_config"))
    at.selectbox(key="lang").select("en").run()
    assert not at.exception, at.exception
    assert "The service desk's lists" in texts(at) and "The risks policies cover" in texts(at)
    assert "Desk time limits" in at.selectbox(key="config_desk_table").options
