"""培训演示 in the page: the trainer builds the sandbox, enters it (a banner says so on every page),
moves its clock forward three working days and sees a case turn 超期 and a reminder appear, and walks
the prepared case forward; the real database keeps its row counts throughout."""
from __future__ import annotations

from portal.services import sandbox
from tests.helpers import row_counts
from tests.pages.conftest import app_as, page_path, texts




def test_the_trainer_runs_a_workshop_in_the_sandbox(page_db, sqlite_url, tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_SANDBOX_DIR", str(tmp_path / "sandboxes"))
    monkeypatch.setattr(sandbox, "COMPLAINTS", 8)
    at = app_as("trainer", page_path("training"))
    assert not at.exception
    before = row_counts(sqlite_url)                               # the trainer's own login is already in
    assert "尚未建立沙盒。" in texts(at)
    at.button(key="sandbox_build").click().run()
    assert "沙盒已重建" in texts(at)
    assert row_counts(sqlite_url) == before                       # building the sandbox wrote nothing here
    at.button(key="sandbox_enter").click().run()
    at.run()
    before = row_counts(sqlite_url)                               # leaving the real portal ended its login
    assert not at.exception, at.exception
    assert any("培训沙盒：此处全部为模拟数据" in str(i.value) for i in at.info)       # the banner
    # the walk-through's prepared case, accepted: its investigation clock is on track
    at.button(key="walk_start").click().run()
    at.button(key="walk_advance").click().run()
    assert "演示案件已进入：调查中" in texts(at)
    clocks = next(df.value for df in at.dataframe if "时限" in df.value.columns)
    assert "🟢 正常" in set(clocks["标记"]) or "正常" in " ".join(clocks["标记"])
    # eight working days later: 调查处理 is overdue and its reminder has been issued
    at.number_input(key="clock_days").set_value(8)
    at.button(key="FormSubmitter:sandbox_clock-拨快时钟").click().run()
    notice = texts(at)
    assert "沙盒时间已拨至" in notice
    issued = int(notice.split("新开立催办单 / 洽办单 ")[1].split(" 件")[0])
    assert issued > 0
    clocks = next(df.value for df in at.dataframe if "时限" in df.value.columns)
    assert any("超期" in b for b in clocks["标记"])
    assert row_counts(sqlite_url) == before                       # the real database is untouched


def test_a_sandbox_prefix_on_a_real_token_never_reaches_the_real_database(page_db, tmp_path, monkeypatch):
    """A cookie made of the sandbox prefix and a genuine token of the real database: with no sandbox
    it is a dead token (the login form), and with a sandbox it resumes nothing there either."""
    from portal.services.actors import load_actor
    from portal.ui.auth import TOKEN
    from portal.ui.context import SANDBOX_PREFIX
    from streamlit.testing.v1 import AppTest
    from tests.pages.conftest import APP, session_token
    monkeypatch.setenv("PORTAL_SANDBOX_DIR", str(tmp_path / "sandboxes"))
    real = session_token("gmo")
    genuine = AppTest.from_file(APP, default_timeout=60)
    genuine.session_state[TOKEN] = real
    genuine.run()
    assert "总经理室丙" in texts(genuine) and not genuine.exception       # the token itself is good
    for built in (False, True):
        if built:
            monkeypatch.setattr(sandbox, "COMPLAINTS", 4)
            from datetime import datetime
            sandbox.build(actor=load_actor(page_db, "trainer"), now=datetime.now())
        at = AppTest.from_file(APP, default_timeout=60)
        at.session_state[TOKEN] = SANDBOX_PREFIX + real
        at.run()
        assert not at.exception, at.exception
        assert "总经理室丙" not in texts(at), built                         # not signed in as the real user
        assert [b for b in at.button if b.label == "登录"] or any(f.label == "用户名" for f in at.text_input), built
        assert TOKEN not in at.session_state, built                        # forgotten, not kept
