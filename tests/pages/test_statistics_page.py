"""统计分析 under AppTest: every chart drawn with its numbers, warnings, compiling, masking."""
from __future__ import annotations

import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from portal import demo
from portal.persistence.models import Event, StatsSnapshot
from portal.services.actors import load_actor
from portal.ui.context import now as wall_now
from tests.pages.conftest import app_as, page_path, selects, texts

CHARTS = 12      # 8, then issue 18's causes and the complainant's gender, age band and occupation


def desk_charts(uow, period=None) -> int:  # noqa: ANN001
    """The service desk's charts drawn below the complaints' (one per figure with anything to show)."""
    from portal.domain.statistics import Period
    from portal.services import desk_statistics
    from portal.services.actors import load_actor
    today = wall_now().date()
    figures = desk_statistics.desk_figures(uow, actor=load_actor(uow, "boss"), now=wall_now(),
                                           period=period or Period.month(today.year, today.month))
    return sum(bool(n) for n in (sum(sum(v for k, v in row.items() if k != "month") for row in figures["by_kind"]),
                                 figures["handover"]["on_time"] + figures["handover"]["late"],
                                 sum(figures["refusals"]["reasons"].values()), sum(figures["surrenders"].values())))


_SEEDED: dict[str, Path] = {}      # the seeded file, by the hour it was seeded in


def _seed(uow):  # noqa: ANN001
    """The demo's thirty cases, as the services walk them: walked once an hour per test process (that takes
    seconds), then copied into each test's own database file."""
    path = Path(uow.engine.url.database)
    hour = f"{wall_now():%Y%m%d%H}"
    uow.engine.dispose()
    if hour in _SEEDED:
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        shutil.copy(_SEEDED[hour], path)
        return
    demo.seed(uow, complaints_count=30, seed_value=5, now=wall_now())
    uow.engine.dispose()                        # the last connection closed: the WAL is in the file
    _SEEDED[hour] = Path(tempfile.mkdtemp(prefix="stats-seeded-")) / "seeded.sqlite3"
    shutil.copy(path, _SEEDED[hour])


def test_a_manager_sees_every_chart_and_the_figures(page_db, monkeypatch):
    """The page draws its charts without Altair's per-draw schema check (`charts.vega_lite`); here every one of
    them is checked against the Vega-Lite schema (an invalid chart would fail the run)."""
    from portal.ui import charts
    checked = []
    unchecked = charts.vega_lite

    def validated(chart):  # noqa: ANN001, ANN202
        checked.append(chart)
        return unchecked(chart, validate=True)
    monkeypatch.setattr(charts, "vega_lite", validated)
    _seed(page_db)
    at = app_as("boss", page_path("statistics"))
    assert not at.exception
    assert len(at.get("vega_lite_chart")) == CHARTS + desk_charts(page_db) == len(checked)
    shown = texts(at)
    labels = [m.label for m in at.metric]
    assert "接收投诉" in labels and "按时结案率" in labels and "满意率" in labels
    from portal.services import warning_alerts
    raised = bool(warning_alerts.alerts(page_db, actor=load_actor(page_db, "boss")))
    # the numbers behind each chart, the desk's four, the baselines, the pushed warnings (when any was raised)
    assert len(at.dataframe) == CHARTS + 4 + 1 + raised
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
    from portal.domain.statistics import Period
    assert not at.exception
    assert len(at.get("vega_lite_chart")) == CHARTS + desk_charts(page_db, Period(today - timedelta(days=60), today))


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


# -- a manager can trust it at a glance (issue 16) --

def _specs(at) -> list[dict]:
    import json
    return [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]


def _encodings(spec: dict):
    """Every encoding of a chart spec, layers included."""
    for part in [spec, *spec.get("layer", [])]:
        yield from ((k, v) for k, v in part.get("encoding", {}).items() if isinstance(v, dict))


def test_count_axes_tick_in_whole_numbers_and_the_heat_legend_says_whole_counts(page_db):
    _seed(page_db)
    at = app_as("boss", page_path("statistics"))
    counted = legends = 0
    for spec in _specs(at):
        for channel, encoding in _encodings(spec):
            if encoding.get("field") in ("count", "received") and encoding.get("type") == "quantitative":
                if channel in ("x", "y"):
                    assert encoding["axis"]["tickMinStep"] == 1 and encoding["axis"]["format"] == "d", encoding
                    counted += 1
                if channel == "color":
                    assert encoding["legend"]["format"] == "d" and encoding["legend"]["tickMinStep"] == 1
                    legends += 1
    # trend, category, channel, ageing, the complainant's gender, age band and occupation; the heat map's legend
    assert counted == 7 and legends == 1


def convert_arrow_bytes_to_pandas_df(data: bytes):
    from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df as convert
    return convert(data)


def _dataframe_with(at, *headers):
    [frame] = [d.value for d in at.dataframe if set(headers) <= set(d.value.columns)]
    return frame


def test_with_operations_chosen_the_heat_map_shows_operations_only(page_db):
    _seed(page_db)
    at = app_as("boss", page_path("statistics"))
    at.radio(key="stats_kind").set_value("range").run()
    today = wall_now().date()
    at.date_input(key="stats_range").set_value((today - timedelta(days=60), today)).run()
    assert len(set(_dataframe_with(at, "部门", "类别", "件数")["部门"])) > 1
    at.selectbox(key="stats_department").set_value("operations").run()
    assert not at.exception
    assert set(_dataframe_with(at, "部门", "类别", "件数")["部门"]) == {"运营部"}
    assert set(_dataframe_with(at, "部门", "达成率")["部门"]) == {"运营部"}
    [heat] = [chart.proto for chart, spec in zip(at.get("vega_lite_chart"), _specs(at))
              if spec.get("mark", {}).get("type") == "rect"]
    drawn = set()
    for dataset in heat.datasets:         # the data the chart draws (Arrow), not only the table below it
        drawn |= set(convert_arrow_bytes_to_pandas_df(dataset.data.data)["department"])
    assert drawn == {"运营部"}
    notes = [c.value for c in at.caption]     # the charts that ignore the period say so
    assert any("不受统计期间限制" in n and "12 个月" in n for n in notes)
    assert any("不受统计期间限制" in n and "仍未结案" in n for n in notes)


def test_a_month_in_progress_is_compared_with_the_same_days_of_the_previous_month(page_db):
    from datetime import date
    _seed(page_db)
    today = wall_now().date()
    before = date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)
    last = min(before.replace(day=today.day) if today.day <= 28 else before + timedelta(days=today.day - 1),
               (today.replace(day=1) - timedelta(days=1)))
    at = app_as("boss", page_path("statistics"))
    assert f"截至 {today:%m-%d}，与 {before:%m-%d}–{last:%m-%d} 相比" in [c.value for c in at.caption]
    from portal.services import statistics
    from portal.domain.statistics import Period
    received = {m.label: m.value for m in at.metric}["接收投诉"]
    previous = statistics.monthly_table(page_db, actor=load_actor(page_db, "boss"), filters=statistics.StatsFilter(
        Period(before, last)), now=wall_now())["summary"]["received"]
    growth = {m.label: m.value for m in at.metric}["投诉量环比增长"]
    assert growth == ("—" if not previous else f"{(int(received) - previous) / previous:.1%}")


def test_every_figure_and_chart_has_its_definition_one_hover_away(page_db):
    _seed(page_db)
    at = app_as("boss", page_path("statistics"))
    helps = {m.label: m.help for m in at.metric}
    assert all(helps.values()), [k for k, v in helps.items() if not v]
    assert "已结案" in helps["按时结案率"] and "仍未结" in helps["按时结案率"]
    assert "期末未结案" in helps["超期率"] and "结案" in helps["超期率"]
    assert "相同的天数" in helps["投诉量环比增长"]
    charts = [h for h in at.subheader if h.proto.body and h.proto.help]
    assert len(charts) == CHARTS + 4                     # the complaints' and the service desk's


def test_each_countable_figure_links_to_the_ledger_with_the_same_filters(page_db):
    from urllib.parse import parse_qs
    _seed(page_db)
    at = app_as("boss", page_path("statistics"))
    at.selectbox(key="stats_channel").set_value("phone").run()
    links = [link.proto for link in at.page_link if link.proto.query_string]
    assert links
    for link in links:
        params = {k: v[0] for k, v in parse_qs(link.query_string).items()}
        assert params["channel"] == "phone" and params["figure"] and params["from"] <= params["to"]
    shown = texts(at)
    assert "不能列为案件清单" in shown      # the figures that count notes or surveys say so


def test_the_ledger_lists_the_cases_of_a_figure_and_refuses_a_bad_address(page_db):
    from portal.domain.statistics import Period
    from portal.domain.statistics_drill import Drill, Figure
    from portal.services import statistics
    _seed(page_db)
    today = wall_now().date()
    month = Period.month(today.year, today.month).previous()
    figures = statistics.monthly_table(page_db, actor=load_actor(page_db, "boss"),
                                       filters=statistics.StatsFilter(month, department="operations"), now=wall_now())
    at = app_as("boss")
    at.query_params.update(Drill(Figure.RECEIVED, month, department="operations").params())
    at.switch_page(page_path("ledger")).run()
    assert not at.exception
    assert "来自统计分析：接收投诉" in texts(at) and "部门: 运营部" in texts(at)
    assert {m.label: m.value for m in at.metric}["案件数"] == str(figures["summary"]["received"])
    bad = app_as("boss")
    bad.query_params.update({"figure": "received", "from": "2026-13-01", "to": "2026-12-31"})
    bad.switch_page(page_path("ledger")).run()
    assert "链接中的统计期间无效" in texts(bad) and not bad.dataframe


def test_in_english_the_statistics_page_has_no_chinese(page_db):
    import re
    _seed(page_db)
    at = app_as("boss", page_path("statistics"))
    at.selectbox(key="lang").select("en").run()
    assert not at.exception
    words = texts(at) + "\n".join(f"{m.label} {m.help}" for m in at.metric)
    words = words.replace(load_actor(page_db, "boss").display_name, "")      # the user's own name is data
    assert "Reminders" in words and "Late-inquiries" in words
    assert not re.search(r"[\u4e00-\u9fff]", words), re.findall(r".{20}[\u4e00-\u9fff]+.{20}", words)


def test_the_statistics_page_shows_the_service_desk_for_the_same_period(page_db):
    from tests.pages.test_aftersales_register import _requests
    _requests(page_db)
    at = app_as("boss", page_path("statistics"))
    assert not at.exception, at.exception
    assert "售后服务" in [h.value for h in at.header]
    received = next(m for m in at.metric if m.label == "售后受理量")
    assert received.value == "2"
    numbers = [df.value for df in at.dataframe if "类别" in df.value.columns and "月份" in df.value.columns]
    assert numbers and set(numbers[0]["类别"]) == {"报案", "理赔申请", "退保", "批改"}
    assert int(numbers[0]["件数"].sum()) == 2                  # both received this month


# -- issue 18: baselines, causes, profile, complaint rate, pushed warnings --

def test_the_baselines_stand_beside_the_rates_and_the_causes_profile_and_complaint_rate_are_shown(page_db):
    _seed(page_db)
    at = app_as("boss", page_path("statistics"))
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert "万张保单投诉率" in labels and "整改有效率" in labels
    shown = texts(at)
    assert "（保单库，按期末日在保计算）" in shown                     # the demo keeps a policy register
    for title in ("满意率与基准对照", "各维度满意率与基准", "投诉原因（按月、原因大类）", "投诉人画像：性别", "投诉人画像：年龄段",
                  "投诉人画像：职业"):
        assert title in shown, title
    baselines = next(df.value for df in at.dataframe if "基准" in df.value.columns and "差距（百分点）" in df.value.columns
                     and len(df.value.columns) == 4)
    assert dict(zip(baselines["维度"], baselines["基准"])) == {"服务流程": "80.0%", "服务态度": "78.0%",
                                                              "服务效率": "72.0%", "理赔结果": "76.0%",
                                                              "总体满意度": "75.0%"}
    satisfaction = next(spec for spec in _specs(at) if any(
        layer.get("mark", {}).get("type") == "tick" for layer in spec.get("layer", [])))
    tick = next(layer for layer in satisfaction["layer"] if layer["mark"]["type"] == "tick")
    assert tick["encoding"]["y"]["field"] == "baseline"          # a tick per dimension at its baseline
    facets = [spec for spec in _specs(at) if "facet" in spec]
    assert len(facets) == 1 and facets[0]["spec"]["encoding"]["color"]["field"] == "class"


def test_the_complaint_rate_uses_the_administrators_monthly_figure_where_no_register_is_kept(page_db):
    from portal.services import complaints, configuration
    from tests.helpers import a_form
    today = wall_now()
    at = app_as("boss", page_path("statistics"))
    assert {m.label: m.value for m in at.metric}["万张保单投诉率"] == "—"
    assert "尚无有效保单件数：请在系统配置中录入月度件数" in texts(at)
    month_start = today.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    for quarter in (1, 2, 3):            # three complaints received this month, no policy register
        received = (month_start + (today - month_start) * quarter / 4).replace(second=0, microsecond=0)
        complaints.register_complaint(page_db, actor=load_actor(page_db, "clerk"), attachments=[],
                                      form=a_form(received_at=received), now=today)
    configuration.save_table(page_db, actor=load_actor(page_db, "admin"), table="policies_in_force",
                             rows=[{"period": f"{today:%Y-%m}", "count": 20000}], now=today)
    at = app_as("boss", page_path("statistics"))
    assert {m.label: m.value for m in at.metric}["接收投诉"] == "3"
    assert {m.label: m.value for m in at.metric}["万张保单投诉率"] == "1.50"       # 3 × 10,000 / 20,000
    assert "有效保单 20000 件（管理员录入的月度件数）" in texts(at)


def _an_open_warning(uow) -> int:  # noqa: ANN001
    from portal.persistence.models import WarningAlert
    with uow.write() as session:
        alert = WarningAlert(period=f"{wall_now():%Y-%m}", indicator="satisfaction_result", value=0.5,
                             threshold=0.76, raised_at=wall_now(), response="")
        session.add(alert)
        session.flush()
        return alert.id


def test_a_manager_answers_a_pushed_warning_on_the_statistics_page(page_db):
    from portal.persistence.models import WarningAlert
    alert_id = _an_open_warning(page_db)
    home = app_as("boss")
    assert "待应对的预警" in [m.label for m in home.metric]               # the home page's to-do
    at = app_as("boss", page_path("statistics"))
    table = next(df.value for df in at.dataframe if "应对措施" in df.value.columns)
    assert list(table["状态"]) == ["待应对"] and "理赔结果满意率" in table.iloc[0]["预警"]
    assert at.selectbox(key="warning_response_stats_alert").value is None        # the person chooses
    at.selectbox(key="warning_response_stats_alert").set_value(alert_id)
    at.text_area(key="warning_response_stats_text").input("   ")
    next(b for b in at.button if "记录应对" in str(b.label)).click().run()
    assert not at.exception and "此项为必填项。" in texts(at)
    with page_db.read() as session:
        assert session.get(WarningAlert, alert_id).responded_at is None           # nothing saved
    at.selectbox(key="warning_response_stats_alert").set_value(alert_id)
    at.text_area(key="warning_response_stats_text").input("<b>回访话术</b>复训")
    next(b for b in at.button if "记录应对" in str(b.label)).click().run()
    assert not at.exception and "已记录预警应对。" in texts(at)
    with page_db.read() as session:
        alert = session.get(WarningAlert, alert_id)
        assert alert.response == "<b>回访话术</b>复训" and alert.responded_at is not None
    table = next(df.value for df in at.dataframe if "应对措施" in df.value.columns)
    assert list(table["状态"]) == ["已应对"] and list(table["应对人"]) == ["管理庚"]
    assert list(table["应对措施"]) == ["<b>回访话术</b>复训"]                  # shown as data
    assert "待应对的预警" not in [m.label for m in app_as("boss").metric]


def test_the_gm_office_page_lists_the_pushed_warnings(page_db):
    _an_open_warning(page_db)
    at = app_as("gmo", page_path("gm_office"))
    assert not at.exception
    table = next(df.value for df in at.dataframe if "应对措施" in df.value.columns)
    assert list(table["状态"]) == ["待应对"]


def test_service_quality_is_a_default_category_offered_at_registration_and_counted(page_db):
    """004 §5.1.2: 服务质量投诉 among the categories, seeded by migration 0024."""
    from portal.domain.statistics import Period
    from portal.services import complaints, statistics
    from tests.helpers import a_form
    at = app_as("clerk", page_path("register"))
    assert "服务质量投诉" in at.selectbox(key="reg_category").options
    today = wall_now()
    received = today.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    received += (today - received) / 2
    complaints.register_complaint(page_db, actor=load_actor(page_db, "clerk"), attachments=[], now=today,
                                  form=a_form(received_at=received.replace(second=0, microsecond=0),
                                              category="service_quality"))
    figures = statistics.monthly_table(page_db, actor=load_actor(page_db, "boss"), now=today,
                                       filters=statistics.StatsFilter(Period.month(today.year, today.month)))
    assert [(r["category"], r["received"]) for r in figures["by_category"]] == [("service_quality", 1)]


def test_the_outbox_lists_a_pushed_warnings_e_mail_about_no_case(page_db):
    from portal.persistence.models import Notice, Setting, User
    from portal.services import configuration, warning_alerts
    now = wall_now()
    with page_db.write() as session:           # a warning raised this month: the complaint rate set at 0
        session.get(Setting, "warning.complaint_rate_max").value = "0"
        session.scalar(select(User).where(User.username == "gmo")).email = "gmo@example.com"
    configuration.save_table(page_db, actor=load_actor(page_db, "admin"), table="policies_in_force",
                             rows=[{"period": f"{now:%Y-%m}", "count": 100}], now=now)
    from portal.services import complaints
    from tests.helpers import a_form
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    complaints.register_complaint(page_db, actor=load_actor(page_db, "clerk"), attachments=[], now=now,
                                  form=a_form(received_at=(month_start + (now - month_start) / 2)
                                              .replace(second=0, microsecond=0)))
    assert warning_alerts.raise_warnings(page_db, now=now)
    with page_db.read() as session:
        assert session.scalar(select(Notice.recipient).where(Notice.kind == "warning")) == "gmo@example.com"
    at = app_as("gmo", page_path("outbox"))
    assert not at.exception
    listed = next(df.value for df in at.dataframe if "通知类型" in df.value.columns)
    row = listed[listed["通知类型"] == "投诉预警"].iloc[0]
    assert row["收件人"] == "gmo@example.com" and row.iloc[0] == ""        # about no case: no case number


def test_chinese_mode_shows_no_english_on_the_statistics_page(page_db):
    import re
    from tests.pages.test_aftersales_desk import english
    _seed(page_db)
    _an_open_warning(page_db)
    at = app_as("boss", page_path("statistics"))
    # "nan": a numeric cell with nothing to show (a clock nobody completed); "IC": a demo customer's occupation
    assert english(at) <= {"nan", "IC"}
    gm = app_as("gmo", page_path("gm_office"))
    assert not gm.exception
    panel = next(df.value for df in gm.dataframe if "应对措施" in df.value.columns)
    assert not re.search(r"[A-Za-z]{2,}", " ".join(map(str, [*panel.columns, *panel.to_numpy().ravel()])))


# -- the page's query budget: at most forty statements a run --

QUERY_BUDGET = 40


def _statements_of_a_rerun(at) -> list[str]:  # noqa: ANN001
    """The SELECTs of one rerun of the page as it stands (the first run filled the per-process caches)."""
    with selects() as seen:
        at.run()
    assert not at.exception, at.exception
    assert len(at.get("vega_lite_chart")) >= CHARTS
    assert any("month_confirmations" in statement for statement in seen)     # last month's review, counted too
    return seen


def test_one_run_of_the_page_for_a_month_or_a_years_range_keeps_within_forty_queries(page_db):
    """Every section drawn: the live figures, the pushed warnings, the service desk, last month's review and
    the compiled months. A query added back fails here."""
    _seed(page_db)
    at = app_as("boss", page_path("statistics"))
    month = _statements_of_a_rerun(at)
    at.radio(key="stats_kind").set_value("range").run()
    today = wall_now().date()
    at.date_input(key="stats_range").set_value((today - timedelta(days=364), today)).run()
    year = _statements_of_a_rerun(at)
    assert 0 < len(month) <= QUERY_BUDGET and 0 < len(year) <= QUERY_BUDGET, (len(month), len(year), month)
