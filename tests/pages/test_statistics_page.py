"""统计分析 under AppTest: every chart drawn with its numbers, warnings, compiling, masking."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal import demo
from portal.persistence.models import Event, StatsSnapshot
from portal.services.actors import load_actor
from portal.ui.context import now as wall_now
from tests.pages.conftest import app_as, page_path, texts

CHARTS = 8


def _seed(uow):
    demo.seed(uow, complaints_count=30, seed_value=5, now=wall_now())


def test_a_manager_sees_every_chart_and_the_figures(page_db):
    _seed(page_db)
    at = app_as("boss", page_path("statistics"))
    assert not at.exception
    assert len(at.get("vega_lite_chart")) == CHARTS
    shown = texts(at)
    labels = [m.label for m in at.metric]
    assert "接收投诉" in labels and "按时结案率" in labels and "满意率" in labels
    assert len(at.dataframe) == CHARTS               # the numbers behind each chart
    assert "统计时间" in shown


def test_filters_and_a_custom_range_recompute(page_db):
    _seed(page_db)
    at = app_as("boss", page_path("statistics"))
    received = {m.label: m.value for m in at.metric}["接收投诉"]
    at.selectbox(key="stats_department").set_value("technical").run()
    assert not at.exception
    narrowed = {m.label: m.value for m in at.metric}["接收投诉"]
    assert int(narrowed) <= int(received)
    at.radio(key="stats_kind").set_value("range").run()
    today = wall_now().date()
    at.date_input(key="stats_range").set_value((today - timedelta(days=60), today)).run()
    assert not at.exception and len(at.get("vega_lite_chart")) == CHARTS


def test_only_the_gm_office_compiles_and_a_compiled_month_is_listed(page_db):
    _seed(page_db)
    manager = app_as("boss", page_path("statistics"))
    assert not [b for b in manager.button if b.key == "stats_compile"]
    at = app_as("gmo", page_path("statistics"))
    [button] = [b for b in at.button if b.key == "stats_compile"]
    button.click().run()
    assert not at.exception and "统计表已编制并存档" in texts(at)
    with page_db.read() as session:
        assert session.scalar(select(StatsSnapshot.period)) is not None
        assert session.scalar(select(Event.action).where(Event.action == "stats.compile")) == "stats.compile"
    assert not [b for b in at.button if b.key == "stats_compile"]


def test_the_gm_office_page_shows_this_months_early_warnings(page_db):
    _seed(page_db)
    from portal.services import statistics
    warnings = statistics.current_warnings(page_db, actor=load_actor(page_db, "gmo"), now=wall_now())
    at = app_as("gmo", page_path("gm_office"))
    banner = "\n".join(w.value for w in at.warning)
    assert len(at.warning) >= len(warnings)
    for item in warnings:
        assert f"本月预警：" in banner and item["period"] in banner


def test_an_intake_clerk_cannot_open_statistics(page_db):
    at = app_as("clerk")
    at._page_hash = next(h for h, info in at._registered_pages.items() if info.get("url_pathname") == "statistics")
    at.run()
    assert "您没有访问“统计分析”的权限" in texts(at)
    assert not at.get("vega_lite_chart") and not at.metric


def test_the_gm_office_page_says_when_last_months_table_is_due_until_it_is_compiled(page_db):
    at = app_as("gmo", page_path("gm_office"))
    assert any("统计表：" in i.value and "截止" in i.value for i in at.info)
    from portal.services import statistics
    month = statistics.compile_clock(page_db, now=wall_now()).month
    statistics.compile_month(page_db, actor=load_actor(page_db, "gmo"), month=month, now=wall_now())
    at = app_as("gmo", page_path("gm_office"))
    assert not any("统计表：" in i.value for i in at.info)
