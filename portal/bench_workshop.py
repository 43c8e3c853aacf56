"""`python -m portal bench --workshop N`: a trainer's workshop, measured on the server's side.

It builds a fresh sandbox (a throw-away real database with the demo users, and the trainer's sandbox
beside it), starts `streamlit run portal/server.py` on it, and lets N trainees work at once. Each
trainee is a protocol-level client: it speaks Streamlit's own websocket protocol (`/_stcore/stream`,
BackMsg / ForwardMsg protobufs), as the browser's JavaScript does, without a browser. So the figures
are what the server takes (queueing behind the other sessions, the script run, the sending), not
what thirty Chromium processes competing with it for two cores would add.

A trainee's script: open the portal (the login form), log in to the sandbox with a demo account, then
click through the pages of that account's role with think time between clicks; halfway, it closes
the connection and reconnects with only the login cookie in the handshake (a reload, or a laptop
waking up), which must resume the same login. A click is timed from the message sent to the end of
the run it caused (reruns a page asks for included: the login's own rerun). Errors are counted per
page: an exception shown, the login form where a signed-in page belongs (a session lost), a run that
never finishes (a click lost) or a dropped connection.

`--browsers M` adds a small real-browser run (M Chromium contexts with Playwright, Debian's
/usr/bin/chromium) over the same steps, reported beside it: there the time is click-to-idle as a person
sees it, browsers included.
"""
from __future__ import annotations

import asyncio
import json
import math
import os
import random
import statistics as stats
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from portal.config import ROOT

CLICK_TIMEOUT = 60.0         # a run that has not finished by then is a lost click
SESSION_LOST = "session lost (login form shown)"
# Demo accounts and the pages their trainees click through (the navigation's addresses; "" is the home page)
TRAINEES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("gmoffice", ("gm_office", "ledger", "statistics", "handover", "outbox", "")),
    ("intake", ("register", "my_complaints", "desk", "desk_register", "")),
    ("handler", ("department", "handover", "")),
    ("approver", ("approval", "")),
    ("manager", ("statistics", "ledger", "appraisal", "monthly_review", "")),
    ("opslead", ("department", "handover", "monthly_review", "")),
    ("intakelead", ("my_complaints", "desk", "register", "")),
)
COOKIE_NAME = "complaint_portal_auth"
CHROMIUM = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")      # Debian's; Playwright's own download fails here
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@dataclass
class Run:
    """What one click brought back: the page that ran, its elements, how long it took."""
    seconds: float
    page_hash: str
    elements: list = field(default_factory=list)      # (kind, protobuf)
    exception: str | None = None
    finished: bool = True

    def find(self, kind: str, label: str | None = None):  # noqa: ANN201
        for k, element in self.elements:
            if k == kind and (label is None or getattr(element, "label", None) == label):
                return element
        return None

    @property
    def login_form(self) -> bool:
        return self.find("text_input", "用户名") is not None and self.find("checkbox") is not None

    def cookie_token(self) -> str | None:
        """The login token the cookie component is told to write (what a browser would store)."""
        for kind, element in self.elements:
            if kind == "component_instance" and element.json_args:
                args = json.loads(element.json_args)
                if args.get("method") == "set" and args.get("cookie") == COOKIE_NAME:
                    return args.get("value")
        return None


class Trainee:
    """One browser tab of one trainee, as the protocol sees it."""

    def __init__(self, url: str) -> None:
        self.ws_url = url.replace("http://", "ws://") + "/_stcore/stream"
        self.socket = None
        self.pages: dict[str, str] = {}         # address → page script hash
        self.queue: asyncio.Queue = asyncio.Queue()
        self.reader: asyncio.Task | None = None
        self.current = ""                        # the page script hash of the last run

    async def connect(self, cookie: str | None = None) -> None:
        import websockets
        headers = {"Cookie": f"{COOKIE_NAME}={cookie}"} if cookie else None
        self.socket = await websockets.connect(self.ws_url, subprotocols=["streamlit"], max_size=None,
                                               additional_headers=headers, open_timeout=CLICK_TIMEOUT)
        self.queue = asyncio.Queue()
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
        try:
            async for data in self.socket:
                message = ForwardMsg()
                message.ParseFromString(data)
                await self.queue.put(message)
        except Exception as error:  # noqa: BLE001 - a dropped connection ends the reader, reported as such
            await self.queue.put(error)
        await self.queue.put(None)

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()
        if self.reader is not None:
            await asyncio.gather(self.reader, return_exceptions=True)
        self.socket = self.reader = None

    async def click(self, *, page: str | None = None, widgets: tuple = ()) -> Run:
        """Send a rerun (another page, or the same page with widget values) and read until it has finished."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        message = BackMsg()
        state = message.rerun_script
        state.query_string = ""
        state.page_script_hash = self.pages.get(page, "") if page is not None else self.current
        for widget in widgets:
            state.widget_states.widgets.append(widget)
        began = time.perf_counter()
        await self.socket.send(message.SerializeToString())
        return await self._until_finished(began)

    async def _until_finished(self, began: float) -> Run:
        run = Run(0.0, "")
        deadline = began + CLICK_TIMEOUT
        while True:
            try:
                message = await asyncio.wait_for(self.queue.get(), max(0.1, deadline - time.perf_counter()))
            except TimeoutError:
                run.finished = False
                break
            if message is None or isinstance(message, Exception):
                run.finished, run.exception = False, f"connection closed: {message!r}"
                break
            kind = message.WhichOneof("type")
            if kind == "new_session":
                run.page_hash = message.new_session.page_script_hash
                run.elements = []               # a rerun the page asked for: what counts is the last run
            elif kind == "navigation":
                self.pages = {p.url_pathname: p.page_script_hash for p in message.navigation.app_pages}
            elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
                element = message.delta.new_element
                which = element.WhichOneof("type")
                run.elements.append((which, getattr(element, which)))
                if which == "exception" and run.exception is None:
                    run.exception = element.exception.message[:200]
            elif kind == "script_finished" and message.script_finished != message.FINISHED_EARLY_FOR_RERUN:
                break
        run.seconds = time.perf_counter() - began
        self.current = run.page_hash
        return run

    async def open(self, cookie: str | None = None) -> Run:
        """A new tab (or a reload): connect, and the first run the browser asks for."""
        began = time.perf_counter()
        await self.connect(cookie)
        self.current = ""
        run = await self.click(page="")
        run.seconds = time.perf_counter() - began
        return run


def _login_widgets(run: Run, username: str, password: str) -> tuple:
    from streamlit.proto.WidgetStates_pb2 import WidgetState
    values = []
    for kind, label, value in (("text_input", "用户名", username), ("text_input", "密码", password)):
        element = run.find(kind, label)
        values.append(WidgetState(id=element.id, string_value=value))
    values.append(WidgetState(id=run.find("checkbox").id, bool_value=True))      # 登录培训沙盒
    values.append(WidgetState(id=run.find("button", "登录").id, trigger_value=True))
    return tuple(values)


@dataclass
class Figures:
    times: dict = field(default_factory=lambda: defaultdict(list))     # page → seconds
    errors: dict = field(default_factory=lambda: defaultdict(list))    # page → messages

    def record(self, page: str, run: Run, *, signed_in: bool = True) -> None:
        self.times[page].append(run.seconds)
        if not run.finished and run.exception is None:
            self.errors[page].append(f"click lost (no end of run in {CLICK_TIMEOUT:.0f} s)")
        elif run.exception:
            self.errors[page].append(run.exception)
        elif signed_in and run.login_form:
            self.errors[page].append(SESSION_LOST)


async def _trainee(url: str, number: int, figures: Figures, *, clicks: int, think: tuple[float, float],
                   start_within: float, rng: random.Random) -> None:
    username, route = TRAINEES[number % len(TRAINEES)]
    await asyncio.sleep(rng.uniform(0, start_within))          # the room does not press enter at the same instant
    trainee = Trainee(url)
    try:
        first = await trainee.open()
        figures.record("open (login form)", first, signed_in=False)
        if not first.login_form:
            figures.errors["open (login form)"].append("no login form")
            return
        await asyncio.sleep(rng.uniform(*think))              # typing the name and password
        login = await trainee.click(widgets=_login_widgets(first, username, f"{username}-demo"))
        figures.record("login", login)
        cookie = login.cookie_token()
        if login.login_form or not login.finished:
            return
        for step in range(clicks):
            await asyncio.sleep(rng.uniform(*think))
            if step == clicks // 2:                           # a reload: only the cookie carries the login
                await trainee.close()
                if cookie is None:
                    figures.errors["reconnect (cookie)"].append("no login cookie written after login")
                    return
                run = await trainee.open(cookie)
                figures.record("reconnect (cookie)", run)
                continue
            page = route[step % len(route)]
            run = await trainee.click(page=page)
            figures.record(page or "home", run)
            if run.finished and run.page_hash != trainee.pages.get(page):
                figures.errors[page or "home"].append("another page ran than the one clicked")
    except Exception as error:  # noqa: BLE001 - a trainee's failure is a figure, not the end of the workshop
        figures.errors["(connection)"].append(repr(error)[:200])
    finally:
        await trainee.close()


async def drive(url: str, sessions: int, *, clicks: int, think: tuple[float, float], start_within: float,
                seed: int = 1) -> Figures:
    figures = Figures()
    rng = random.Random(seed)
    await asyncio.gather(*(_trainee(url, n, figures, clicks=clicks, think=think, start_within=start_within,
                                    rng=random.Random(rng.random())) for n in range(sessions)))
    return figures


async def _warm(url: str) -> float:
    trainee = Trainee(url)
    try:
        return (await trainee.open()).seconds
    finally:
        await trainee.close()


# -- the server on a fresh sandbox --------------------------------------------------------------------

def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Portal:
    """`streamlit run` on a throw-away real database whose trainer has built the sandbox."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.env = {**os.environ, "PORTAL_DATABASE_URL": f"sqlite:///{folder / 'real.sqlite3'}",
                    "PORTAL_SANDBOX_DIR": str(folder / "sandboxes")}
        self.process: subprocess.Popen | None = None
        self.url = ""

    def build(self) -> float:
        """The trainer's part: the demo users, then the sandbox (in a child process: its own environment)."""
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", "from portal.bench_workshop import _build_sandbox; _build_sandbox()"],
                       cwd=ROOT, env={**self.env, "STREAMLIT_LOGGER_LEVEL": "error"}, check=True)
        return time.perf_counter() - began

    def __enter__(self) -> "Portal":
        port = _free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "portal" / "server.py"), "--server.port", str(port),
             "--server.headless", "true", "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2).read() == b"ok":
                    return self
            except OSError:
                time.sleep(0.3)
        self.process.kill()
        raise RuntimeError("streamlit did not start: " + self.process.stdout.read().decode(errors="replace")[-2000:])

    def __exit__(self, *exc) -> None:  # noqa: ANN002
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _build_sandbox() -> None:
    from portal import demo
    from portal.services import sandbox
    from portal.services.actors import load_actor
    from portal.services.setup import open_database
    from portal.ui.context import wall_clock
    real = open_database(os.environ["PORTAL_DATABASE_URL"])
    now = wall_clock()
    demo.ensure_demo_users(real, now - timedelta(days=30))
    sandbox.build(actor=load_actor(real, "trainer"), now=now)
    real.engine.dispose()


# -- real browsers beside it -------------------------------------------------------------------------

def _browser_run(url: str, contexts: int, *, clicks: int, think: tuple[float, float], seed: int = 1) -> Figures:
    """The same steps in M real Chromium contexts, each in its own thread (Playwright's sync API is per
    thread): click-to-idle as a person sees it."""
    import threading

    from playwright.sync_api import sync_playwright
    figures = Figures()
    lock = threading.Lock()

    def one(number: int) -> None:
        rng = random.Random(seed + number)
        username, route = TRAINEES[number % len(TRAINEES)]
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000}).new_page()
            page.set_default_timeout(CLICK_TIMEOUT * 1000)

            def timed(label: str, action) -> None:  # noqa: ANN001
                began = time.perf_counter()
                try:
                    action()
                    _idle(page)
                    error = None
                    if page.get_by_label("用户名").count() and label != "open (login form)":
                        error = SESSION_LOST
                    elif page.locator("[data-testid='stException']").count():
                        error = page.locator("[data-testid='stException']").first.inner_text()[:200]
                except Exception as failure:  # noqa: BLE001
                    error = repr(failure)[:200]
                with lock:
                    figures.times[label].append(time.perf_counter() - began)
                    if error:
                        figures.errors[label].append(error)

            timed("open (login form)", lambda: (page.goto(url), page.get_by_label("用户名").wait_for()))
            time.sleep(rng.uniform(*think))
            _fill_login(page, username)
            timed("login", lambda: (page.get_by_role("button", name="登录").click(),
                                    page.get_by_text("培训沙盒：此处全部为模拟数据").first.wait_for()))
            for step in range(clicks):
                time.sleep(rng.uniform(*think))
                if step == clicks // 2:
                    timed("reconnect (cookie)", lambda: (page.reload(), page.get_by_text("当前用户").first.wait_for()))
                    continue
                target = route[step % len(route)]
                # the portal's own navigation in the sidebar (st.page_link), by the address it opens
                link = page.locator(f"[data-testid='stSidebar'] a[href='{target}']").first
                timed(target or "home", link.click)
            browser.close()

    threads = [threading.Thread(target=one, args=(n,)) for n in range(contexts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return figures


def statistics_paint(url: str, rounds: int = 5) -> dict[str, list[float]]:
    """The statistics page in one real browser, alone on the server (the GM office's demo account, in the
    sandbox): from the click on its link to the first figures shown (the 接收投诉 metric), to the end of the
    server's run, and to every chart drawn by Vega in the browser."""
    from playwright.sync_api import sync_playwright
    out: dict[str, list[float]] = defaultdict(list)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000}).new_page()
        page.set_default_timeout(CLICK_TIMEOUT * 1000)
        page.goto(url)
        _fill_login(page, "gmoffice")
        page.get_by_role("button", name="登录").click()
        page.get_by_text("培训沙盒：此处全部为模拟数据").first.wait_for()
        _idle(page)
        for _ in range(rounds):
            for target, done in (("", "当前用户"), ("statistics", None)):
                began = time.perf_counter()
                page.locator(f"[data-testid='stSidebar'] a[href='{target}']").first.click()
                if done:
                    _idle(page)
                    continue
                page.locator("[data-testid='stMetricLabel']", has_text="接收投诉").first.wait_for()
                out["first figures"].append(time.perf_counter() - began)
                _idle(page)
                out["server's run ended"].append(time.perf_counter() - began)
                charts = page.locator("[data-testid='stVegaLiteChart']").count()
                page.wait_for_function(
                    "n => document.querySelectorAll(\"[data-testid='stVegaLiteChart'] canvas, "
                    "[data-testid='stVegaLiteChart'] svg.marks\").length >= n", arg=charts)
                out["every chart drawn"].append(time.perf_counter() - began)
        browser.close()
    return out


def _fill_login(page, username: str) -> None:  # noqa: ANN001
    """The login form filled as a trainee fills it: a demo account, into the sandbox (not yet submitted)."""
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(f"{username}-demo")
    page.get_by_text("登录培训沙盒（练习用模拟数据，使用演示账号）").click()


def _idle(page) -> None:  # noqa: ANN001
    """Streamlit's own idle signal: the app root says its script is not running, after the run a click started
    (looked for during a second: a run that has already ended by then is not waited for)."""
    try:
        page.wait_for_function("() => document.querySelector('[data-testid=\"stApp\"]')"
                               "?.getAttribute('data-test-script-state') === 'running'", timeout=1000)
    except Exception:  # noqa: BLE001 - Playwright's TimeoutError: the run was quicker than the first look
        pass
    page.wait_for_function("() => document.querySelector('[data-testid=\"stApp\"]')"
                           "?.getAttribute('data-test-script-state') === 'notRunning'")


# -- the command ----------------------------------------------------------------------------------------

def _percentile(values: list[float], share: float) -> float:
    """Nearest rank: the smallest value with at least `share` of the values at or below it."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def report(title: str, figures: Figures) -> list[str]:
    lines = [title, f"{'page':<22} {'clicks':>6} {'p50':>8} {'p95':>8} {'max':>8} {'errors':>7}"]
    every = []
    for page in sorted(figures.times, key=lambda p: (p not in ("open (login form)", "login"), p)):
        times = figures.times[page]
        every += times
        lines.append(f"{page:<22} {len(times):>6} {stats.median(times) * 1000:>6.0f} ms "
                     f"{_percentile(times, 0.95) * 1000:>5.0f} ms {max(times) * 1000:>5.0f} ms "
                     f"{len(figures.errors.get(page, [])):>7}")
    if every:
        lines.append(f"{'every click':<22} {len(every):>6} {stats.median(every) * 1000:>6.0f} ms "
                     f"{_percentile(every, 0.95) * 1000:>5.0f} ms {max(every) * 1000:>5.0f} ms "
                     f"{sum(len(v) for v in figures.errors.values()):>7}")
    for page, messages in figures.errors.items():
        for message in sorted(set(messages)):
            lines.append(f"  error on {page}: {message} (×{messages.count(message)})")
    return lines


def run(*, sessions: int, clicks: int, think: tuple[float, float], browsers: int, start_within: float) -> int:
    with tempfile.TemporaryDirectory() as folder:
        portal = Portal(Path(folder))
        built = portal.build()
        print(f"sandbox built in {built:.1f} s", flush=True)
        with portal:
            warm = asyncio.run(_warm(portal.url))      # the trainer has been on it: the server's first run is behind it
            print(f"the server's first run (imports, the login form): {warm:.1f} s", flush=True)
            began = time.perf_counter()
            figures = asyncio.run(drive(portal.url, sessions, clicks=clicks, think=think, start_within=start_within))
            took = time.perf_counter() - began
            print("\n".join(report(
                f"\n== workshop: {sessions} trainees (Streamlit's websocket protocol), {clicks} clicks each after "
                f"logging in, think time {think[0]:g}–{think[1]:g} s, all started within {start_within:g} s; "
                f"{took:.0f} s in all ==", figures)), flush=True)
            errors = sum(len(v) for v in figures.errors.values())
            if browsers:
                began = time.perf_counter()
                seen = _browser_run(portal.url, browsers, clicks=clicks, think=think)
                took = time.perf_counter() - began
                print("\n".join(report(f"\n== beside it: {browsers} real browsers (Chromium contexts, click to "
                                       f"Streamlit's idle signal, browsers included); {took:.0f} s ==", seen)))
                errors += sum(len(v) for v in seen.errors.values())
                paint = statistics_paint(portal.url)
                print("\n== the statistics page in one browser, alone (median of 5 visits) ==")
                for label, times in paint.items():
                    print(f"{label:<22} {stats.median(times) * 1000:>6.0f} ms (max {max(times) * 1000:.0f} ms)")
    print("\nclick: from the message sent to the end of the run it caused (the page's own reruns included), "
          "measured by the client on localhost")
    return 1 if errors else 0
