"""人员考核 under AppTest: a manager reads everyone's figures of the fixture month, a clerk only their own; the
page stays within its query budget and its heading and column names are stable (a browser test names them)."""
from __future__ import annotations

from datetime import date

from streamlit.testing.v1 import AppTest

from portal.domain.statistics import Period
from portal.i18n import translate
from portal.services import appraisal
from portal.ui.auth import TOKEN
from tests.conftest import People
from tests.pages.conftest import app_as, page_path, selects, session_token, texts
from tests.services.test_appraisal import build_month

NOV = Period.month(2025, 11)
HEADERS = ["人员", "部门", "经办案件", "结案案件", "完成时效", "按时完成", "按时率", "平均用时（小时）", "回访次数",
           "平均总体评分", "满意率", "负责整改", "整改已完成", "整改按期完成", "整改完成率"]
CLOCK_HEADERS = ["人员", "部门", "时效", "完成", "按时", "超期", "按时率", "平均用时（小时）"]


def november(username: str):  # noqa: ANN201
    at = app_as(username, page_path("appraisal"))
    assert not at.exception
    at.selectbox(key="appraisal_month").set_value(NOV).run()
    assert not at.exception
    return at


def test_the_headers_are_the_catalogues():
    assert [translate(f"appraisal.col.{c}", "zh") for c in appraisal.PEOPLE_COLUMNS] == HEADERS
    assert [translate(f"appraisal.col.{c}", "zh") for c in appraisal.CLOCK_COLUMNS] == CLOCK_HEADERS


def test_a_manager_sees_everyones_figures_and_the_clocks_per_person(page_db):
    build_month(page_db, People(page_db))
    at = november("boss")
    shown = texts(at)
    assert "人员考核" in [t.value for t in at.title] and "人员考核表" in shown and "各时效按时率" in shown
    assert "考核期间：2025-11" in shown
    table, clocks = at.dataframe[0].value, at.dataframe[1].value
    assert list(table.columns) == HEADERS and list(clocks.columns) == CLOCK_HEADERS
    rows = {r["人员"]: r for r in table.to_dict("records")}
    assert len(rows) == 12 and {"受理员甲", "总经理室丙", "运营丁", "技术戊", "管理庚"} <= set(rows)
    assert (rows["总经理室丙"]["经办案件"], rows["总经理室丙"]["按时率"], rows["总经理室丙"]["平均用时（小时）"]) == (
        2, "75.0%", "8.5")
    assert (rows["运营丁"]["经办案件"], rows["运营丁"]["负责整改"], rows["运营丁"]["整改按期完成"]) == (3, 2, 1)
    assert rows["管理庚"]["按时率"] == "—"
    assert ("技术戊", "调查处理", 1, 0, 1, "0.0%") in {
        (r["人员"], r["时效"], r["完成"], r["按时"], r["超期"], r["按时率"]) for r in clocks.to_dict("records")}
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["下载 Excel", "下载 CSV"]
    at.selectbox(key="appraisal_person").set_value(People(page_db).techhandler.id).run()
    assert not at.exception
    assert list(at.dataframe[0].value["人员"]) == ["技术戊"]
    assert set(at.dataframe[1].value["人员"]) == {"技术戊"}


def test_a_clerk_sees_only_their_own_row_and_no_choice_of_person(page_db):
    build_month(page_db, People(page_db))
    at = november("clerk")
    assert "这里是您本人的考核数据。" in texts(at)
    assert list(at.dataframe[0].value["人员"]) == ["受理员甲"]
    assert list(at.dataframe[1].value["时效"]) == ["监管时限"]
    assert not [s for s in at.selectbox if s.key == "appraisal_person"]


def test_a_date_range_and_a_person_without_clocks(page_db):
    build_month(page_db, People(page_db))
    at = app_as("lead", page_path("appraisal"))
    at.radio(key="appraisal_kind").set_value("range").run()
    at.date_input(key="appraisal_range").set_value((date(2025, 11, 1), date(2025, 11, 30))).run()
    assert not at.exception
    assert "考核期间：2025-11" in texts(at)
    assert list(at.dataframe[0].value["经办案件"]) == [2]
    assert "期间内没有由此人员完成的时效节点。" in texts(at)        # the review stops no clock


def test_the_page_keeps_within_forty_queries(page_db):
    build_month(page_db, People(page_db))
    at = november("boss")
    with selects() as seen:
        at.run()
    assert not at.exception
    assert len(at.dataframe[0].value) == 12
    assert 0 < len(seen) <= 40, len(seen)


def test_the_administrator_and_the_trainer_are_refused_the_page(page_db):
    for username in ("admin", "trainer"):
        at = app_as(username)
        at._page_hash = next(h for h, info in at._registered_pages.items() if info.get("url_pathname") == "appraisal")
        at.run()
        assert "您没有访问“人员考核”的权限" in texts(at), username
        assert not at.dataframe
    page = AppTest.from_file(page_path("appraisal"), default_timeout=60)      # the script checks the role itself
    page.session_state[TOKEN] = session_token("admin")
    page.run()
    assert "没有访问" in texts(page) and not page.dataframe


def test_in_english_the_headers_and_names_are_english(page_db):
    build_month(page_db, People(page_db))
    at = november("gmo")          # chosen in Chinese: AppTest re-formats the options outside the page's language
    at.selectbox(key="lang").select("en").run()
    assert not at.exception
    shown = texts(at)
    assert "Period: 2025-11" in shown and "Staff appraisal table" in shown and "On-time rate per clock" in shown
    table, clocks = at.dataframe[0].value, at.dataframe[1].value
    assert list(table.columns) == [translate(f"appraisal.col.{c}", "en") for c in appraisal.PEOPLE_COLUMNS]
    assert list(table.columns)[:3] == ["Person", "Department", "Cases handled"]
    assert set(table["Department"]) == {"Marketing", "General manager's office", "Operations", "Technical"}
    assert list(clocks["Clock"]) == ["Regulatory decision", "Acknowledge", "Consolidation", "Closure",
                                     "Initial plan", "Investigation", "Investigation report", "Investigation",
                                     "Investigation report"]
