"""Per-process resources and per-session choices: the engine, the clock, the language."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from zoneinfo import ZoneInfo

import streamlit as st

from portal import config
from portal.domain.calendar import WorkingCalendar
from portal.domain.errors import Message
from portal.i18n import DEFAULT_LANGUAGE, render, translate
from portal.persistence.database import UnitOfWork
from portal.services import rules
from portal.services.setup import open_database

BEIJING = ZoneInfo("Asia/Shanghai")


@st.cache_resource(show_spinner=False)
def _unit_of_work(url: str) -> UnitOfWork:
    """Create and migrate the database on first use in this process, then keep the engine."""
    return open_database(url)


SANDBOX_PREFIX = "sb."        # a login token of the trainer's sandbox (the cookie says which database)


def in_sandbox() -> bool:
    """This browser session works in the trainer's sandbox (its login was made there)."""
    return bool(st.session_state.get("in_sandbox"))


class SandboxGone(RuntimeError):
    """A sandbox session whose sandbox no longer exists: it never falls back to the real database."""


def database_url() -> str:
    """The real database, or the current sandbox for a session that logged in there (never the real
    one for such a session: `SandboxGone` when there is no sandbox)."""
    if in_sandbox():
        units = _this_run.get()
        if units is not None and _SANDBOX in units:     # read once a run (a file read and two stats each time)
            return units[_SANDBOX]
        from portal.services.sandbox import current_url
        url = current_url()
        if not url:
            raise SandboxGone("this session works in a sandbox that no longer exists")
        if units is not None:
            units[_SANDBOX] = url       # a rebuild during the run: the run finishes on the file it started on
        return url
    return config.database_url()


_this_run: ContextVar[dict[str, UnitOfWork | str] | None] = ContextVar("portal_this_run", default=None)
_SANDBOX = "sandbox:current"       # in `_this_run`: the sandbox file this run works on
_LANG = "lang:chosen"              # and the language it shows


@contextmanager
def page_run() -> Iterator[None]:
    """One run of the script: within it `uow()` reads the rules several sections need (settings,
    clock rules, the masking table) once, and again after a write (`UnitOfWork.for_one_run`)."""
    token = _this_run.set({})
    try:
        yield
    finally:
        _this_run.reset(token)


def this_run() -> dict:
    """What lives for this run only (a fresh dict outside a run: nothing carries over)."""
    units = _this_run.get()
    return {} if units is None else units


def uow() -> UnitOfWork:
    url = database_url()
    units = _this_run.get()
    if units is None:                   # a callback or a thread outside a run: nothing is reused
        return _unit_of_work(url)
    if url not in units:
        units[url] = _unit_of_work(url).for_one_run()
    return units[url]


@st.cache_data(ttl=5, show_spinner=False)
def _sandbox_offset(url: str):  # noqa: ANN202
    from portal.services.sandbox import clock_offset
    return clock_offset(_unit_of_work(url))


def sandbox_clock_moved() -> None:
    _sandbox_offset.clear()


def wall_clock() -> datetime:
    return datetime.now(BEIJING).replace(tzinfo=None, microsecond=0)


def now() -> datetime:
    """The one place the pages read the clock: Beijing local time, naive; in the sandbox, moved
    forward by the trainer's offset."""
    if in_sandbox():
        return wall_clock() + _sandbox_offset(database_url())
    return wall_clock()


@st.cache_resource(ttl=300, show_spinner=False)
def _calendar(url: str) -> WorkingCalendar:
    return rules.load_calendar(_unit_of_work(url))


def calendar() -> WorkingCalendar:
    return _calendar(database_url())


def calendar_changed() -> None:
    _calendar.clear()
    _missing_calendar.clear()


@st.cache_data(ttl=60, show_spinner=False)
def _reference(url: str) -> rules.ReferenceData:
    return rules.load_reference_data(_unit_of_work(url))


def reference() -> rules.ReferenceData:
    """Categories, channels, departments and staff: read at most once a minute per process, and
    again at once after an administrator changes users."""
    return _reference(database_url())


@st.cache_data(ttl=60, show_spinner=False)
def _attachment_limits(url: str):  # noqa: ANN202
    with _unit_of_work(url).read() as session:
        return rules.attachment_limits(rules.settings(session))


def attachment_limits():  # noqa: ANN201
    """Size, count and file types an upload may have (settings), read at most once a minute."""
    return _attachment_limits(database_url())


def reference_changed() -> None:
    _reference.clear()


def lang() -> str:
    """The language chosen in the sidebar. It is set before a run starts (a widget's value), so a run reads it
    once: a page asks a few hundred times (every `t`), each a trip through Streamlit's session state."""
    units = _this_run.get()
    if units is None:
        return st.session_state.get("lang", DEFAULT_LANGUAGE)
    chosen = units.get(_LANG)
    if chosen is None:
        chosen = units[_LANG] = st.session_state.get("lang", DEFAULT_LANGUAGE)
    return chosen


def t(key: str, **params) -> str:  # noqa: ANN003
    return translate(key, lang(), **params)


TRANSLATED_PARAMS = ("action", "state", "kind", "start", "stop", "desk_state")   # catalogue codes that `render` translates


def said(message: Message) -> str:
    """A message for a grid or text cell, which shows text as it is (nothing to escape)."""
    return render(message, lang())


def say(message: Message) -> str:
    """A message for a Markdown element: its parameters (which may hold what a user typed, such
    as a file name) are shown literally."""
    from portal.ui.literal import literal
    params = {k: v if k in TRANSLATED_PARAMS or not isinstance(v, str) else literal(v)
              for k, v in message.params.items()}
    return render(Message(message.key, params), lang())


@st.cache_data(ttl=60, show_spinner=False)
def _sweep(url: str) -> int:
    from portal.services.reminders import issue_reminders
    return issue_reminders(_unit_of_work(url), now=now())


def sweep_reminders() -> None:
    """Issue due reminders and late-inquiries when a GM office or department page loads: at most
    once a minute per server process (issuing is idempotent anyway; this keeps reruns cheap)."""
    _sweep(database_url())


@st.cache_data(ttl=60, show_spinner=False)
def _month_warnings(url: str, month: str, _actor) -> list[dict]:  # noqa: ANN001
    from portal.services.statistics import current_warnings
    return current_warnings(_unit_of_work(url), actor=_actor, now=now())


def month_warnings(actor) -> list[dict]:  # noqa: ANN001
    """This month's early warnings for the GM office banner: computed at most once a minute per
    process (the statistics page itself recomputes its figures every minute)."""
    return _month_warnings(database_url(), f"{now():%Y-%m}", actor)


@st.cache_data(ttl=60, show_spinner=False)
def _missing_calendar(url: str) -> int:
    from portal.services.queries import open_cases_without_calendar
    return open_cases_without_calendar(_unit_of_work(url))


def open_cases_without_calendar() -> int:
    """Counted at most once a minute per process (and at once after the calendar changes)."""
    return _missing_calendar(database_url())
