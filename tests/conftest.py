"""Shared fixtures: a migrated template database per backend, copied for each test.

SQLite: a template file made once per session and copied per test. PostgreSQL: a template database
made once per session, cloned with CREATE DATABASE … TEMPLATE for each test. Without a reachable
PostgreSQL the PostgreSQL cases skip, except under CI=true where they fail.
"""
from __future__ import annotations

import os
import shutil
import uuid
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Iterator

import bcrypt
import pytest
from sqlalchemy import create_engine, text

# bcrypt's cost is written into each hash and read back by every check of it: the tests hash their passwords at
# the lowest cost (4) so that a login costs a millisecond instead of the quarter second the product spends on
# purpose (bcrypt's default, 12). Every check still runs bcrypt on the stored hash; servers the tests start read
# the same hashes from the template. Set before the portal is imported (the sessions' dummy hash is made then).
_gensalt = bcrypt.gensalt
bcrypt.gensalt = lambda rounds=4, prefix=b"2b": _gensalt(4, prefix)  # noqa: ARG005 - every hash at the test cost

from portal.persistence.database import UnitOfWork, make_engine
from portal.persistence.migrate import upgrade
from portal.services import users
from portal.services.actors import Actor, load_actor
from portal.services.setup import open_database

POSTGRES_ADMIN_URL = os.environ.get("PORTAL_TEST_POSTGRES_URL",
                                    "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"
T0 = datetime(2025, 9, 30, 10, 0)

# username, display name, roles, department, approval level
TEST_USERS = [
    ("clerk", "受理员甲", ["intake"], "marketing", None),
    ("lead", "主管乙", ["intake_lead"], "marketing", None),
    ("gmo", "总经理室丙", ["gm_office"], "gm_office", None),
    ("opshandler", "运营丁", ["handler"], "operations", None),
    ("techhandler", "技术戊", ["handler"], "technical", None),
    ("approver", "核决己", ["approver"], "operations", "dept_manager"),
    ("boss", "管理庚", ["manager"], "gm_office", None),
    ("admin", "管理员辛", ["admin"], None, None),
    ("trainer", "培训壬", ["trainer"], None, None),
    ("techlead", "技术主管癸", ["handler", "dept_lead"], "technical", None),
    ("opslead", "运营主管子", ["handler", "dept_lead"], "operations", None),
    ("vicegm", "副总丑", ["approver"], "gm_office", "deputy_gm"),
    ("genmgr", "总经理寅", ["approver"], "gm_office", "gm"),
    ("lead2", "主管卯", ["intake_lead"], "marketing", None),
]
PASSWORD = "correct-horse"


def _fill(url: str) -> None:
    uow = open_database(url)
    for username, name, roles, department, level in TEST_USERS:
        users.add_user(uow, actor=None, username=username, display_name=name, password=PASSWORD,
                       roles=roles, department=department, approval_level=level, now=T0)
    uow.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    _fill(f"sqlite:///{path}")
    return path


def _postgres_available() -> str | None:
    try:
        engine = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as error:  # noqa: BLE001 - any failure means "not reachable"
        return str(error).splitlines()[0]


def _admin_engine():  # noqa: ANN202
    return create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")


def _pg_url(name: str) -> str:
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session")
def postgres_template():
    problem = _postgres_available()
    if problem:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI but not reachable: {problem}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {problem}")
    name = f"portal_tpl_{uuid.uuid4().hex[:10]}"
    admin = _admin_engine()
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    _fill(_pg_url(name))
    yield name
    spares = _SPARES.pop(name, None)
    if spares:
        spares.close()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _clone(template: str) -> str:
    name = f"portal_t_{uuid.uuid4().hex[:12]}"
    engine = _admin_engine()
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    engine.dispose()
    return name


class _Spares:
    """Clones of one template made ahead of need by a thread of their own, and dropped by it. A clone takes half
    a second, most of it waiting for the disk: the next test's database is made while this one runs."""

    def __init__(self, template: str, ahead: int = 1) -> None:
        self.template, self.ahead = template, ahead
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-spares")
        self.coming: deque[Future] = deque()

    def take(self) -> str:
        while len(self.coming) <= self.ahead:
            self.coming.append(self.pool.submit(_clone, self.template))
        return self.coming.popleft().result()

    def drop(self, name: str) -> None:
        self.pool.submit(_drop_now, name)

    def close(self) -> None:
        for future in self.coming:
            try:
                self.pool.submit(_drop_now, future.result())
            except Exception:  # noqa: BLE001 - a clone that failed left nothing to drop
                pass
        self.pool.shutdown(wait=True)


_SPARES: dict[str, _Spares] = {}


def _fresh_postgres(template: str) -> str:
    if template not in _SPARES:
        _SPARES[template] = _Spares(template)
    return _SPARES[template].take()


def _drop_now(name: str) -> None:
    engine = _admin_engine()
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def _drop_postgres(name: str) -> None:
    """Dropped by the spares' thread when there is one (the test goes on meanwhile)."""
    spares = next(iter(_SPARES.values()), None)
    if spares is None:
        _drop_now(name)
    else:
        spares.drop(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request) -> Iterator[str]:
    """A freshly migrated database with the test users, on each backend."""
    template = request.getfixturevalue("sqlite_template" if request.param == "sqlite" else "postgres_template")
    yield from _copy_for_test(request, template)


def _copy_for_test(request, template) -> Iterator[str]:  # noqa: ANN001
    """This test's own copy of `template` on the backend `request.param` (a SQLite file copied into the test's
    folder, or a PostgreSQL database cloned from the template database), dropped afterwards."""
    if request.param == "sqlite":
        path = request.getfixturevalue("tmp_path") / "portal.sqlite3"
        shutil.copy(template, path)
        yield f"sqlite:///{path}"
        return
    name = _fresh_postgres(template)
    yield _pg_url(name)
    _drop_postgres(name)


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@contextmanager
def module_database(request, tmp_path_factory, fill):  # noqa: ANN001
    """A database for a whole test module on the backend `request.param`, filled once by
    `fill(uow)` (for modules whose tests only read it), dropped afterwards."""
    name = None
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("module") / "portal.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        name = _fresh_postgres(request.getfixturevalue("postgres_template"))
        url = _pg_url(name)
    unit = UnitOfWork(make_engine(url))
    try:
        fill(unit)
        yield unit
    finally:
        unit.engine.dispose()
        if name:
            _drop_postgres(name)


_BUILT: dict[tuple[str, str], str] = {}     # (build, backend) → its SQLite file or PostgreSQL template database


def built_copy(request, build) -> Iterator[str]:  # noqa: ANN001
    """For a module's `database_url`: a database that `build(uow)` filled once per backend and session, copied
    for each test (its writes are its own). For modules whose tests all start from the same cases, which take
    seconds to walk through the process; the checks after each test (`uow`) run on the copy as on any database."""
    backend = request.param
    key = (f"{build.__module__}.{build.__qualname__}", backend)
    if key not in _BUILT:
        if backend == "sqlite":
            path = request.getfixturevalue("tmp_path_factory").mktemp("built") / "built.sqlite3"
            shutil.copy(request.getfixturevalue("sqlite_template"), path)
            url, name = f"sqlite:///{path}", str(path)
        else:
            name = _clone(request.getfixturevalue("postgres_template"))
            url = _pg_url(name)
            request.getfixturevalue("_built_templates").append(name)
        unit = UnitOfWork(make_engine(url))
        try:
            build(unit)
        finally:
            unit.engine.dispose()
        _BUILT[key] = name
    yield from _copy_for_test(request, _BUILT[key])


@pytest.fixture(scope="session")
def _built_templates(postgres_template):
    """The PostgreSQL templates `built_copy` made, dropped (with their spare clones) at the end."""
    names: list[str] = []
    yield names
    for name in names:
        spares = _SPARES.pop(name, None)
        if spares:
            spares.close()
        _drop_now(name)


@pytest.fixture
def sqlite_url(sqlite_template, tmp_path) -> str:
    path = tmp_path / "portal.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def uow(database_url):
    """The database's unit of work. After the test, every case's stored archive readiness must still be what
    the archive rule says of it, whatever the test wrote (issue 18: the hook keeps it in each transaction), and
    the statistics rollups what the raw tables add up to (issue 19: `stats verify`)."""
    from tests.helpers import archive_flag_mistakes, rollup_mistakes
    unit = UnitOfWork(make_engine(database_url))
    yield unit
    try:
        if _at_head(unit):          # a migration test may leave the database downgraded
            assert archive_flag_mistakes(unit) == []
            assert rollup_mistakes(unit) == []
    finally:
        unit.engine.dispose()


def _at_head(unit: UnitOfWork) -> bool:
    from sqlalchemy import inspect
    found = inspect(unit.engine)
    return (found.has_table("complaints") and found.has_table("stats_rollup")
            and "archive_blocked" in {c["name"] for c in found.get_columns("complaints")})


class People:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def __getattr__(self, username: str) -> Actor:
        actor = load_actor(self._uow, username)
        assert actor is not None, username
        return actor


@pytest.fixture
def people(uow) -> People:
    return People(uow)
