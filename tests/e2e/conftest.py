"""A real `streamlit run` on a fresh SQLite database, driven in Debian's headless Chromium."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import expect

from portal.config import ROOT
from tests.conftest import IN_CI

# A page's first run on a fresh server imports pandas etc.; with the whole suite on two busy cores a
# page may take longer than half a minute to answer.
expect.set_options(timeout=60_000)
from portal.bench_workshop import CHROMIUM, CHROMIUM_ARGS  # noqa: E402 - one place for the browser's path and flags


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_portal(database: Path, *, env: dict[str, str] | None = None, options: tuple[str, ...] = ()):
    """`streamlit run` on the database file, started anew (with `env` added to the environment and Streamlit's
    `options`); yields its address once healthy."""
    port = _free_port()
    env = {**os.environ, "PORTAL_DATABASE_URL": f"sqlite:///{database}", **(env or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "portal" / "server.py"),
         "--server.port", str(port), "--server.headless", "true", "--server.address", "127.0.0.1", *options],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.3)
    else:
        process.kill()
        pytest.fail("streamlit did not start: " + process.stdout.read().decode(errors="replace")[-2000:])
    try:
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def server(sqlite_template, tmp_path_factory):
    """Started anew for each test module: the first request is the server's very first."""
    path = tmp_path_factory.mktemp("e2e") / "portal.sqlite3"
    shutil.copy(sqlite_template, path)
    with running_portal(path) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail(f"Chromium is required in CI but {CHROMIUM} is missing")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def new_page(browser):
    contexts = []

    def make():
        context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(60_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
