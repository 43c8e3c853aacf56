from __future__ import annotations

import os
from datetime import datetime

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from portal.config import ROOT
from portal.persistence.database import UnitOfWork, make_engine
from portal.persistence.models import User
from portal.services.sessions import open_session
from portal.ui.auth import TOKEN
from tests.helpers import selects  # noqa: F401 - the pages' tests import it from here

APP = str(ROOT / "portal" / "app.py")


@pytest.fixture
def page_db(sqlite_url, monkeypatch):
    monkeypatch.setenv("PORTAL_DATABASE_URL", sqlite_url)
    unit = UnitOfWork(make_engine(sqlite_url))
    yield unit
    unit.engine.dispose()


def session_token(username: str) -> str:
    """A live login session of `username` in the database the pages use (as after a login)."""
    unit = UnitOfWork(make_engine(os.environ["PORTAL_DATABASE_URL"]))
    try:
        with unit.write() as session:
            user_id = session.scalar(select(User.id).where(User.username == username))
            token, _ = open_session(session, user_id=user_id, address="", now=datetime.now(), hours=24 * 365)
        return token
    finally:
        unit.engine.dispose()


def app_as(username: str | None, page: str | None = None) -> AppTest:
    """The portal as `username` would see it (signed in), optionally on one page."""
    at = AppTest.from_file(APP, default_timeout=60)
    if username:
        at.session_state[TOKEN] = session_token(username)
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


def open_tab(at: AppTest, tabs_key: str, label_key: str) -> AppTest:
    """Open one of a page's lazy tabs (only the open tab runs) as a click on it would: `label_key` is
    the tab's catalogue key; the tab must be offered."""
    from portal.i18n import translate
    label = translate(label_key, "zh")
    offered = [tab.label for tab in at.tabs]
    assert label in offered, (label, offered)
    at.session_state[tabs_key] = label
    at.run()
    assert not at.exception, at.exception
    return at


