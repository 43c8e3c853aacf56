from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from portal.config import ROOT
from portal.persistence.database import UnitOfWork, make_engine

APP = str(ROOT / "portal" / "app.py")


@pytest.fixture
def page_db(sqlite_url, monkeypatch):
    monkeypatch.setenv("PORTAL_DATABASE_URL", sqlite_url)
    unit = UnitOfWork(make_engine(sqlite_url))
    yield unit
    unit.engine.dispose()


def app_as(username: str | None, page: str | None = None) -> AppTest:
    """The portal as `username` would see it (signed in), optionally on one page."""
    at = AppTest.from_file(APP, default_timeout=60)
    if username:
        at.session_state["authentication_status"] = True
        at.session_state["username"] = username
        at.session_state["name"] = username
        at.session_state["logout"] = None
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    return at


def page_path(key: str) -> str:
    from portal.ui.navigation import BY_KEY
    return BY_KEY[key].path


def texts(at: AppTest) -> str:
    parts = [e.value for kind in ("title", "header", "subheader", "markdown", "caption", "text",
                                  "success", "error", "warning", "info") for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)
