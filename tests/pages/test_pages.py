"""Each page under Streamlit's AppTest, signed in as the role that uses it (and one that may not)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from portal.persistence.models import CalendarDayRow, Complaint, User
from portal.services import complaints
from portal.services.actors import load_actor
from portal.ui.context import now as wall_now
from tests.conftest import PASSWORD
from tests.helpers import a_form
from portal.ui.auth import TOKEN
from tests.pages.conftest import APP, app_as, open_tab, page_path, session_token, texts


def _register(uow, **overrides):
    received = wall_now() - timedelta(hours=2)
    return complaints.register_complaint(uow, actor=load_actor(uow, "clerk"),
                                         form=a_form(received_at=received, **overrides),
                                         attachments=[], now=wall_now())


def test_login_page_refuses_a_wrong_password_and_admits_the_right_one(page_db):
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert "登录" in texts(at)
    at.text_input[0].input("clerk")
    at.text_input[1].input("wrong-password")
    at.button[0].click().run()
    assert "用户名或密码不正确" in texts(at)
    at.text_input[0].input("clerk")
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    assert at.session_state[TOKEN]
    assert "欢迎，受理员甲" in texts(at)


def test_home_lists_only_the_pages_of_the_users_roles(page_db):
    at = app_as("clerk")
    assert not at.exception
    links = [link.label for link in at.get("page_link")]
    assert "投诉登记" in links and "总经理室" not in links and "用户管理" not in links


def test_intake_registers_a_complaint_and_sees_it_in_the_queue(page_db):
    at = app_as("clerk", page_path("register"))
    fields = {"reg_customer_name": "林晓", "reg_customer_phone": "13900001111",
              "reg_policy_number": "P900001", "reg_product": "意外伤害保险",
              "reg_description": "理赔材料丢失，多次补交。", "reg_expected_resolution": "尽快赔付",
              "reg_clerk_opinion": "材料确有遗失，建议尽快核实。"}
    for key, value in fields.items():
        at.text_input(key=key).input(value) if key not in ("reg_description", "reg_expected_resolution",
                                                           "reg_clerk_opinion") \
            else at.text_area(key=key).input(value)
    _choose_registration(at, "reg_")
    next(b for b in at.button if b.label == "提交登记").click().run()
    assert not at.exception
    assert "已登记" in texts(at)
    with page_db.read() as session:
        saved = session.scalars(select(Complaint)).one()
    assert saved.customer_name == "林晓" and saved.state == "registered"


def _prefix(at) -> str:  # noqa: ANN001
    generation = at.session_state["register_generation"] if "register_generation" in at.session_state else 0
    return f"reg{generation or ''}_"


def _fill_registration(at, name: str = "林晓") -> None:  # noqa: ANN001
    k = _prefix(at)
    fields = {"customer_name": name, "customer_phone": "13900001111", "policy_number": "P900001",
              "product": "意外伤害保险", "description": "理赔材料丢失，多次补交。", "expected_resolution": "尽快赔付",
              "clerk_opinion": "材料确有遗失，建议尽快核实。"}
    for name_, value in fields.items():
        (at.text_area if name_ in ("description", "expected_resolution", "clerk_opinion")
         else at.text_input)(key=k + name_).input(value)
    _choose_registration(at, k)


def _choose_registration(at, k: str) -> None:  # noqa: ANN001
    """The choices a clerk makes: none of them is preset."""
    for name, value in (("channel", "phone"), ("category", "claim_speed"), ("severity", "general"),
                        ("urgency", "normal"), ("preferred_contact", "phone")):
        assert at.selectbox(key=k + name).value is None, name
        at.selectbox(key=k + name).select(value)


def _count(uow) -> int:  # noqa: ANN001
    with uow.read() as session:
        return session.scalar(select(func.count()).select_from(Complaint))


def test_a_second_submit_of_the_same_complaint_warns_and_saves_nothing_until_the_clerk_decides(page_db):
    at = app_as("clerk", page_path("register"))
    _fill_registration(at)
    next(b for b in at.button if b.label == "提交登记").click().run()
    assert "已登记" in texts(at) and _count(page_db) == 1
    assert _prefix(at) == "reg1_" and at.text_input(key="reg1_customer_name").value == ""   # a fresh, empty form
    assert any("打开新登记的案件" in link.label for link in at.get("page_link"))
    _fill_registration(at, "林晓（再次来电）")                            # same phone and policy again
    next(b for b in at.button if b.label == "提交登记").click().run()
    shown = texts(at)
    assert "近 30 天内已登记 1 件手机号、保单号或身份证号相同的投诉" in shown and _count(page_db) == 1
    assert any("相同：手机号码、保单号" in link.label for link in at.get("page_link"))
    with page_db.read() as session:
        first = session.scalar(select(Complaint.id))
    next(b for b in at.button if b.label.startswith("作为") and "重复投诉登记" in b.label).click().run()
    assert "已登记" in texts(at) and _count(page_db) == 2
    with page_db.read() as session:
        repeat = session.scalars(select(Complaint).order_by(Complaint.id.desc())).first()
        assert repeat.original_id == first and repeat.customer_name == "林晓（再次来电）"
    _fill_registration(at, "第三位客户")
    next(b for b in at.button if b.label == "提交登记").click().run()
    assert "近 30 天内已登记 2 件" in texts(at) and _count(page_db) == 2
    next(b for b in at.button if b.label == "不是重复投诉，登记为新投诉").click().run()
    assert "已登记" in texts(at) and _count(page_db) == 3


def test_a_double_click_answered_after_the_first_was_saved_registers_one_case_and_says_so(page_db):
    """The second click sends the same filled-in form; it may be run only after the first send was
    saved and the empty form of the next generation drawn (Streamlit replays its trigger there)."""
    at = app_as("clerk", page_path("register"))
    _fill_registration(at)
    submit = next(b for b in at.button if b.label == "提交登记").click()
    sent = submit.root.get_widget_states()                # what the browser sends, once for each click
    at._run(sent)
    assert "已登记" in texts(at) and _count(page_db) == 1 and _prefix(at) == "reg1_"
    at._run(sent)                                         # AppTest has no public way to send an old page's state
    assert not at.exception
    shown = texts(at)
    assert "已登记，案件已进入总经理室待受理队列" in shown and _count(page_db) == 1
    assert "处需要修改" not in shown and "近 30 天内" not in shown
    assert _prefix(at) == "reg1_" and at.text_input(key="reg1_customer_name").value == ""


def test_a_double_click_whose_twin_saved_the_form_meanwhile_is_told_it_is_registered(page_db, monkeypatch):
    """Streamlit starts the second click's run at once, while the first one is still saving: the
    form's own case, found by the duplicate check, is not a duplicate of it."""
    real, twin = complaints._register, []

    def twin_saves_it_first(uow, **kwargs):  # noqa: ANN001, ANN003
        if not twin:                                      # the other run of the double click commits first
            twin.append(real(uow, **kwargs))
        return real(uow, **kwargs)

    monkeypatch.setattr(complaints, "_register", twin_saves_it_first)
    at = app_as("clerk", page_path("register"))
    _fill_registration(at)
    next(b for b in at.button if b.label == "提交登记").click().run()
    shown = texts(at)
    assert f"已登记，案件已进入总经理室待受理队列（内部编号 #{twin[0].id}" in shown and _count(page_db) == 1
    assert "近 30 天内" not in shown
    assert _prefix(at) == "reg1_" and at.text_input(key="reg1_customer_name").value == ""


def test_a_bad_field_gets_its_message_and_nothing_is_saved(page_db):
    at = app_as("clerk", page_path("register"))
    at.text_input(key="reg_customer_name").input("林晓")
    at.text_input(key="reg_customer_phone").input("12345")
    at.text_input(key="reg_customer_id_number").input("110105194912310021")
    next(b for b in at.button if b.label == "提交登记").click().run()
    shown = texts(at)
    assert "请输入11位中国大陆手机号码" in shown
    assert "身份证号码无效" in shown
    assert "此项为必填项" in shown
    assert shown.count("请选择。") == 5       # channel, category, severity, urgency, preferred contact: the clerk's choices
    assert at.text_input(key="reg_customer_name").value == "林晓"     # what was typed is kept
    with page_db.read() as session:
        assert session.scalar(select(func.count()).select_from(Complaint)) == 0


def test_my_complaints_lists_the_clerks_cases_with_badges(page_db):
    _register(page_db, customer_name="周末客户")
    at = app_as("clerk", page_path("my_complaints"))
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["客户"]) == ["周末客户"]
    assert table["确认受理"].iloc[0] in ("🟢 正常", "🟠 临期")


def test_gm_office_accepts_numbers_and_routes(page_db):
    done = _register(page_db)
    at = app_as("gmo", page_path("gm_office"))
    assert not at.exception
    assert len(at.dataframe[0].value) == 1
    at.multiselect[0].select("technical")
    at.button[0].click().run()
    assert not at.exception
    shown = texts(at)
    assert "已受理，投诉编号：" in shown and "运营部" in shown and "技术部" in shown
    with page_db.read() as session:
        number = session.get(Complaint, done.id).number
    assert number and number in shown


def test_gm_office_refuses_an_acceptance_without_department(page_db):
    _register(page_db)
    at = app_as("gmo", page_path("gm_office"))
    at.multiselect[0].unselect("operations")
    at.button[0].click().run()
    assert "请至少选择一个处理部门" in texts(at)
    with page_db.read() as session:
        assert session.scalar(select(Complaint.state)) == "registered"


def test_the_ledger_shows_every_clock_and_filters(page_db):
    done = _register(page_db, customer_name="账本客户")
    complaints.accept_complaint(page_db, actor=load_actor(page_db, "gmo"), complaint_id=done.id,
                                category="claim", severity="general", departments=["operations"],
                                now=wall_now())
    _register(page_db, customer_name="另一客户")
    at = app_as("gmo", page_path("ledger"))
    assert not at.exception
    table = at.dataframe[0].value
    assert set(table["客户"]) == {"账本客户", "另一客户"}
    for clock in ("确认受理", "调查处理", "结案", "监管时限"):
        assert clock in table.columns and f"{clock}截止" in table.columns
    at.text_input(key="ledger_text").input("账本").run()
    assert list(at.dataframe[0].value["客户"]) == ["账本客户"]


def test_case_detail_shows_form_badges_explanations_and_history(page_db):
    done = _register(page_db, customer_name="详情客户")
    number = complaints.accept_complaint(page_db, actor=load_actor(page_db, "gmo"), complaint_id=done.id,
                                         category="claim", severity="general", departments=["operations"],
                                         now=wall_now()).number
    at = app_as("boss", page_path("case"))
    at.text_input(key="case_ref").input(number).run()
    assert not at.exception
    shown = texts(at)
    assert f"案件 {number}" in shown and "个人信息已按权限脱敏显示" in shown
    clocks = next(d.value for d in at.dataframe if "时限" in d.value.columns)
    history = next(d.value for d in at.dataframe if "操作" in d.value.columns)
    assert "调查处理" in list(clocks["时限"])
    form = [cell for table in at.table for cell in table.value.to_numpy().ravel()]   # every field in full
    assert "138\\*\\*\\*\\*5678" in form                 # masked, and escaped for the table's Markdown
    assert "签注意见（受理人）" in form and "核决人" in form and "第 1 次回访结果" not in form
    assert list(history["操作"]) == ["登记", "受理并编号"]
    assert any("截止：" in line for line in (t.value for t in at.text))
    assert 'fillcolor="#B22222", fontcolor="white"' in at.get("graphviz_chart")[0].proto.spec
    assert '"investigating" [label="调查中", fillcolor="#B22222"' in at.get("graphviz_chart")[0].proto.spec


def test_a_page_typed_by_a_user_without_the_role_shows_a_refusal(page_db):
    at = app_as("clerk")
    # AppTest can only switch to script pages; a refused address is a callable page, so select it
    # the way a typed URL does: by the hash of its url path.
    at._page_hash = next(h for h, info in at._registered_pages.items()
                         if info.get("url_pathname") == "gm_office")
    at.run()
    assert "您没有访问“总经理室”的权限" in texts(at)
    assert not at.dataframe


def test_each_page_script_checks_the_role_itself(page_db):
    for key, outsider in (("gm_office", "clerk"), ("register", "gmo"), ("ledger", "clerk"),
                          ("admin_users", "gmo"), ("admin_calendar", "clerk"), ("case", "admin")):
        at = AppTest.from_file(page_path(key), default_timeout=60)
        at.session_state[TOKEN] = session_token(outsider)
        at.run()
        assert "没有访问" in texts(at), key
    at = AppTest.from_file(page_path("gm_office"), default_timeout=60)
    at.run()
    assert "请先登录" in texts(at)


def test_a_disabled_user_is_refused_at_the_next_click(page_db):
    at = app_as("clerk", page_path("register"))
    admin = app_as("admin", page_path("admin_users"))
    admin.selectbox(key="users_pick").select("clerk")
    admin.run()
    admin.button(key="users_disable").click().run()
    assert "已更新用户 clerk" in texts(admin)
    with page_db.read() as session:
        assert session.scalar(select(User.active).where(User.username == "clerk")) is False
    at.run()
    assert "您的登录已结束" in texts(at)
    assert TOKEN not in at.session_state
    assert "投诉登记（客户抱怨处理表）" not in texts(at)


def test_a_notice_stays_through_reruns_on_its_page_until_the_next_action(page_db):
    """A notice is not gone before it could be read: a rerun nobody asked for (a component's, a table editor's)
    keeps it; the next action, or another page, takes it away."""
    admin = app_as("admin", page_path("admin_users"))
    admin.selectbox(key="users_pick").select("clerk").run()
    admin.button(key="users_disable").click().run()
    notices = lambda: [s.value for s in admin.success if "已更新用户" in s.value]  # noqa: E731
    assert notices() == ["已更新用户 clerk 的状态。"]
    admin.run()
    admin.run()
    assert len(notices()) == 1
    admin.text_input[0].input("X")                      # a refused action: its reasons, and no old notice
    next(b for b in admin.button if b.label == "保存").click().run()
    assert "用户名须为" in texts(admin) and notices() == []
    admin.button(key="users_enable").click().run()
    assert len(notices()) == 1
    admin.switch_page(page_path("admin_config")).run()
    assert notices() == []
    admin.switch_page(page_path("admin_users")).run()
    assert notices() == []


def test_admin_adds_a_user_and_bad_input_is_refused(page_db):
    at = app_as("admin", page_path("admin_users"))
    form_inputs = at.text_input
    form_inputs[0].input("X")
    form_inputs[1].input("新人")
    form_inputs[2].input("short")
    save = lambda: next(b for b in at.button if b.label == "保存")  # noqa: E731
    save().click().run()
    shown = texts(at)
    assert "用户名须为" in shown and "密码至少" in shown
    at.text_input[0].input("newclerk")
    at.text_input[1].input("新人")
    at.text_input[2].input("long-enough-password")
    at.multiselect[0].select("intake")
    save().click().run()
    assert "已新增用户 newclerk" in texts(at)


def test_admin_sets_a_day_of_a_year_the_package_does_not_cover(page_db):
    at = app_as("admin", page_path("admin_calendar"))
    assert not at.exception
    from datetime import date
    at.date_input(key="calendar_day").set_value(date(2027, 1, 1))
    at.checkbox(key="calendar_working").uncheck()
    at.text_input(key="calendar_note").input("2027年元旦")
    at.button(key="FormSubmitter:set_day-保存").click().run()
    assert "已保存 2027-01-01" in texts(at)
    with page_db.read() as session:
        row = session.get(CalendarDayRow, date(2027, 1, 1))
    assert row.is_working is False and row.kind == "holiday" and row.source == "admin"


def test_the_interface_switches_to_english(page_db):
    at = app_as("clerk")
    at.selectbox(key="lang").select("en").run()
    assert "Welcome, 受理员甲" in texts(at)


def test_a_single_sign_on_only_installation_shows_the_company_account_and_no_password_form(page_db, monkeypatch):
    monkeypatch.setenv("PORTAL_PASSWORD_LOGIN", "false")
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = {"redirect_uri": "http://127.0.0.1:8501/oauth2callback", "cookie_secret": "x" * 32,
                          "client_id": "portal", "client_secret": "secret",
                          "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}
    at.run()
    assert not at.exception
    assert len(at.text_input) == 0 and "本门户使用公司账号登录" in texts(at)
    assert [b.label for b in at.button] == ["使用公司账号登录"]
    monkeypatch.delenv("PORTAL_PASSWORD_LOGIN")
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()                                    # no [auth]: the password form alone, as before
    assert len(at.text_input) == 2 and "使用公司账号登录" not in [b.label for b in at.button]


def test_the_login_form_locks_after_repeated_failures_without_naming_the_user(page_db):
    for username in ("clerk", "nobody-here"):
        at = AppTest.from_file(APP, default_timeout=60)
        at.run()
        for _ in range(5):
            at.text_input[0].input(username)
            at.text_input[1].input("wrong-password")
            at.button[0].click().run()
            assert "用户名或密码不正确" in texts(at)
        at.text_input[0].input(username)
        at.text_input[1].input(PASSWORD if username == "clerk" else "wrong-password")
        at.button[0].click().run()
        assert "登录失败次数过多，请 15 分钟后再试" in texts(at)
        assert TOKEN not in at.session_state


def test_the_admin_resets_a_password_and_the_users_open_session_ends(page_db):
    clerk = app_as("clerk", page_path("register"))
    admin = app_as("admin", page_path("admin_users"))
    admin.selectbox(key="reset_pick").select("clerk")
    admin.text_input(key="reset_password_value").input("short")
    next(b for b in admin.button if b.label == "重置密码").click().run()
    assert "密码至少 8 位" in texts(admin)
    admin.selectbox(key="reset_pick").select("clerk")
    admin.text_input(key="reset_password_value").input("a-fresh-password")
    next(b for b in admin.button if b.label == "重置密码").click().run()
    assert "已重置 clerk 的密码" in texts(admin)
    clerk.run()
    assert "您的登录已结束" in texts(clerk) and TOKEN not in clerk.session_state


def test_the_ledger_has_the_seeds_columns_and_a_column_chooser(page_db):
    done = _register(page_db, customer_name="账本客户")
    complaints.accept_complaint(page_db, actor=load_actor(page_db, "gmo"), complaint_id=done.id,
                                category="claim", severity="general", departments=["operations"],
                                now=wall_now())
    at = app_as("gmo", page_path("ledger"))
    assert not at.exception
    table = at.dataframe[0].value
    seed = ["受理日期", "保单号", "受理人", "内容摘要", "责任归属", "结案日期", "处理结果", "催办次数", "满意度"]
    for column in seed:
        assert column in table.columns, column
    assert list(table.columns[:6]) == ["投诉编号", "受理日期", "客户", "保单号", "受理人", "内容摘要"]
    row = table[table["客户"] == "账本客户"].iloc[0]
    assert row["受理人"] == "总经理室丙" and row["受理日期"] == f"{wall_now():%Y-%m-%d}" and row["催办次数"] == 0
    # the chooser: seed columns and the decisive clocks shown, the rest one choice away
    shown = at.multiselect(key="ledger_columns").value
    assert set(seed) <= set(shown) and "结案" in shown and "调查处理截止" not in shown
    order = at.dataframe[0].proto.column_order
    assert "内容摘要" in order and "调查处理截止" not in order
    at.multiselect(key="ledger_columns").set_value(["投诉编号", "满意度"]).run()
    assert list(at.dataframe[0].proto.column_order) == ["投诉编号", "满意度"]


def test_the_home_page_counts_what_waits_in_each_queue(page_db):
    _register(page_db, customer_name="待办客户")
    at = app_as("gmo")
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["待受理"] == "1" and metrics["待汇总"] == "0" and "超期未结案件" in metrics
    handler = {m.label: m.value for m in app_as("opshandler").metric}
    assert set(handler) == {"待调查", "待呈报总经理室", "待答复催办单 / 洽办单", "本部门超期案件",
                            "待移交保险公司的理赔申请", "移交已超期",      # 运营部 hands claims to the insurer too
                            "待本部门处理的不满意回访"}                 # dissatisfied follow-ups sent to it (issue 18)


def test_every_page_warns_while_an_open_case_has_a_deadline_in_a_year_without_calendar(page_db, monkeypatch):
    from sqlalchemy import delete, extract
    from portal.persistence.models import CalendarDayRow
    # an installed package that does not cover this year yet (as each December before its update)
    monkeypatch.setattr("portal.services.calendar.package_years", lambda: range(2004, wall_now().year))
    with page_db.write() as session:                      # this year's official calendar is not loaded
        session.execute(delete(CalendarDayRow).where(extract("year", CalendarDayRow.day) == wall_now().year))
    done = _register(page_db, customer_name="日历客户")
    complaints.accept_complaint(page_db, actor=load_actor(page_db, "gmo"), complaint_id=done.id, category="claim",
                                severity="general", departments=["operations"], now=wall_now())
    for user, page in (("clerk", None), ("gmo", "ledger"), ("opshandler", "department")):
        at = app_as(user, page_path(page) if page else None)
        assert any("尚未载入官方工作日历的年份" in str(w.value) for w in at.warning), (user, page)


def test_no_calendar_warning_while_every_deadline_is_known(page_db):
    done = _register(page_db, customer_name="日历齐全")
    complaints.accept_complaint(page_db, actor=load_actor(page_db, "gmo"), complaint_id=done.id, category="claim",
                                severity="general", departments=["operations"], now=wall_now())
    at = app_as("gmo")
    assert not any("尚未载入官方工作日历的年份" in str(w.value) for w in at.warning)


def test_the_calendar_shows_a_year_and_takes_a_missing_years_holidays_as_a_table(page_db):
    from datetime import date
    from portal.services.calendar import package_years
    official, missing = package_years()[-1], package_years()[-1] + 1
    at = app_as("admin", page_path("admin_calendar"))
    assert not at.exception, at.exception
    at.selectbox(key="calendar_year").select(official).run()
    assert f"{official} 年：官方日历" in texts(at)
    with page_db.read() as session:
        holidays = session.scalar(select(func.count()).select_from(CalendarDayRow).where(
            CalendarDayRow.kind == "holiday", CalendarDayRow.day.between(date(official, 1, 1), date(official, 12, 31))))
    assert next(m for m in at.metric if m.label == "节假日").value == str(holidays)
    special = next(df.value for df in at.dataframe if "来源" in df.value.columns)
    assert f"{official}-10-01" in special.iloc[:, 0].str.cat() and set(special["来源"]) == {"官方数据包"}
    assert "国庆节" in set(special["说明"])
    assert not any(b.key == "calendar_save_year" for b in at.button)   # an official year: one day at a time

    at.selectbox(key="calendar_year").select(missing).run()
    assert f"{missing} 年的日历尚未载入" in texts(at)
    assert next(m for m in at.metric if m.label == "未载入").value == str((date(missing + 1, 1, 1) - date(missing, 1, 1)).days)
    at.session_state[f"calendar_year_editor_{missing}"] = {"edited_rows": {}, "deleted_rows": [], "added_rows": [
        {"day": f"{missing}-01-01", "is_working": False, "note": "元旦"},
        {"day": f"{missing}-01-04", "is_working": True, "note": "上班"}]}      # a Monday: ordinary, refused
    at.run()
    at.button(key="calendar_save_year").click().run()
    assert "配置未保存：有 1 处需要修改（见下表）。" in texts(at)
    refusal = next(df.value for df in at.dataframe if "原因" in df.value.columns)
    assert list(refusal["行"]) == ["2"] and "平常的工作日" in refusal.iloc[0]["原因"]
    with page_db.read() as session:
        assert session.get(CalendarDayRow, date(missing, 1, 1)) is None

    at.session_state[f"calendar_year_editor_{missing}"] = {"edited_rows": {}, "deleted_rows": [], "added_rows": [
        {"day": f"{missing}-01-01", "is_working": False, "note": "元旦"}]}
    at.run()
    at.button(key="calendar_save_year").click().run()
    assert not at.exception, at.exception
    assert f"已保存 {missing} 年日历" in texts(at)
    assert f"{missing} 年：由系统管理员设置。" in texts(at)
    with page_db.read() as session:
        day = session.get(CalendarDayRow, date(missing, 1, 1))
        assert (day.kind, day.source, day.note) == ("holiday", "admin", "元旦")


def test_the_acceptance_form_proposes_the_categorys_configured_routing(page_db):
    from portal.services import configuration
    admin = load_actor(page_db, "admin")
    rows = configuration.load_table(page_db, actor=admin, table="categories")
    for row in rows:                                     # the case's category (claim_speed) and the first
        row["default_departments"] = {"claim_speed": ["claims", "technical"], "claim": []}.get(
            row["code"], row["default_departments"])
    configuration.save_table(page_db, actor=admin, table="categories", rows=rows, now=wall_now())
    _register(page_db)                                  # registered as 理赔时效投诉
    at = app_as("gmo", page_path("gm_office"))
    assert not at.exception
    assert at.multiselect[0].value == ["claims", "technical"]


def test_the_users_page_picks_nobody_for_the_admin(page_db):
    admin = app_as("admin", page_path("admin_users"))
    assert admin.selectbox(key="users_pick").value is None and admin.selectbox(key="reset_pick").value is None
    assert not [b for b in admin.button if b.key in ("users_disable", "users_enable")]         # nothing to disable until chosen
    with page_db.read() as session:
        before = session.scalar(select(User.password_hash).where(User.username == "clerk"))
    admin.text_input(key="reset_password_value").input("a-fresh-password")
    next(b for b in admin.button if b.label == "重置密码").click().run()
    assert "请选择。" in texts(admin) and "已重置" not in texts(admin)
    with page_db.read() as session:
        assert session.scalar(select(User.password_hash).where(User.username == "clerk")) == before


def test_the_repeat_prompt_shows_only_the_messages_of_the_last_submission(page_db):
    _register(page_db, customer_phone="13900001111", policy_number="P900001")       # the earlier complaint
    at = app_as("clerk", page_path("register"))
    at.text_input(key="reg_customer_phone").input("12345")
    at.text_input(key="reg_customer_id_number").input("110105194912310021")
    next(b for b in at.button if b.label == "提交登记").click().run()
    assert "请输入11位中国大陆手机号码" in texts(at) and "表单有" in texts(at)
    # corrected: now valid, and the same phone and policy as the earlier complaint
    at.text_input(key="reg_customer_id_number").input("")
    _fill_registration(at)
    next(b for b in at.button if b.label == "提交登记").click().run()
    shown = texts(at)
    assert "近 30 天内已登记 1 件" in shown and _count(page_db) == 1
    for stale in ("请输入11位中国大陆手机号码", "身份证号码无效", "此项为必填项", "请选择。", "表单有"):
        assert stale not in shown, stale
    assert not at.error                                    # the yellow prompt alone


def test_every_date_field_says_how_to_type_the_date(page_db):
    """Streamlit's date input has no placeholder of its own: each label says （年/月/日） and the field
    takes the year first."""
    case_id = _register(page_db).id
    seen = {}
    views = [("clerk", "register", None), ("gmo", "ledger", None), ("admin", "admin_calendar", None),
             ("gmo", "gm_office", ("gm_tabs", "gm.tab.reminders")), ("gmo", "case", None)]
    for username, page, tab in views:
        at = app_as(username, page_path(page))
        if tab:
            open_tab(at, *tab)
        if page == "case":
            at.text_input(key="case_ref").input(str(case_id)).run()
        assert not at.exception, (page, at.exception)
        seen[page] = list(at.date_input)
    stats = app_as("boss", page_path("statistics"))
    stats.radio(key="stats_kind").set_value("range").run()
    seen["statistics"] = list(stats.date_input)
    for page, fields in seen.items():
        assert fields, page
        for field in fields:
            assert field.label.endswith("（年/月/日）"), (page, field.label)
            assert field.proto.format == "YYYY/MM/DD", (page, field.label, field.proto.format)
