"""The command line, run as an operator would (a subprocess on a fresh SQLite file)."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime

import pytest
from sqlalchemy import func, select

from portal.config import ROOT
from portal.persistence.database import UnitOfWork, make_engine
from portal.persistence.models import Complaint, User
from portal.services.actors import load_actor


def cli(url: str, *args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "portal", *args], input=stdin, capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "PORTAL_DATABASE_URL": url, **(env or {})}, timeout=120)


def test_users_add_reads_the_password_from_stdin_and_hashes_it(sqlite_url):
    done = cli(sqlite_url, "users", "add", "newadmin", "--name", "新管理员", "--role", "admin",
               stdin="a-long-secret\n")
    assert done.returncode == 0, done.stderr
    uow = UnitOfWork(make_engine(sqlite_url))
    assert load_actor(uow, "newadmin").roles == {"admin"}
    with uow.read() as session:
        stored = session.scalar(select(User.password_hash).where(User.username == "newadmin"))
    assert stored.startswith("$2") and "a-long-secret" not in stored
    refused = cli(sqlite_url, "users", "add", "weak", "--role", "admin", stdin="short\n")
    assert refused.returncode == 1 and "password" in refused.stderr
    assert cli(sqlite_url, "users", "disable", "newadmin").returncode == 0
    assert load_actor(uow, "newadmin") is None


def test_deadline_explains_skipped_holidays_and_counted_make_up_days(sqlite_url):
    done = cli(sqlite_url, "deadline", "--from", "2025-09-30 14:00", "--working-days", "7", "--lang", "en")
    assert done.returncode == 0, done.stderr
    assert "Due: 2025-10-16 24:00" in done.stdout
    assert "2025-10-11 Sat make-up working day" in done.stdout
    assert "2025-10-01 Wed public holiday" in done.stdout
    missing = cli(sqlite_url, "deadline", "--from", "2026-12-28 10:00", "--working-days", "7", "--lang", "en")
    assert missing.returncode == 2 and "Calendar missing" in missing.stdout and "2027" in missing.stdout
    hours = cli(sqlite_url, "deadline", "--from", "2026-02-13 09:00", "--hours", "24", "--lang", "en")
    assert "Due: 2026-02-14 09:00" in hours.stdout


def test_calendar_show_and_set_a_year_not_yet_covered(sqlite_url):
    shown = cli(sqlite_url, "calendar", "show", "2026-02", "--lang", "en")
    assert "2026-02-14 Sat make-up working day（Spring Festival）" in shown.stdout
    assert "2027-01-01" not in cli(sqlite_url, "calendar", "show", "2026-12").stdout
    assert cli(sqlite_url, "calendar", "set", "2027-01-01", "--off", "--note", "New Year's Day").returncode == 0
    assert "2027-01-01 周五 节假日（元旦）" in cli(sqlite_url, "calendar", "show", "2027-01").stdout


def test_demo_seed_is_deterministic_and_skips_a_populated_database(tmp_path):
    from sqlalchemy import select
    from portal.persistence.models import Complaint

    seen = []
    for name in ("a", "b"):
        url = f"sqlite:///{tmp_path / name}.sqlite3"
        done = cli(url, "demo", "seed", "--complaints", "12", "--seed", "3")
        assert done.returncode == 0, done.stderr
        assert "intake/intake-demo" in done.stdout
        with UnitOfWork(make_engine(url)).read() as session:
            seen.append(session.execute(select(Complaint.customer_name, Complaint.policy_number,
                                               Complaint.category_id).order_by(Complaint.id)).all())
        assert "skipped" in cli(url, "demo", "seed", "--if-empty").stdout
    assert len(seen[0]) >= 12 and seen[0] == seen[1]      # repeats of rejected cases come on top


def test_sla_sweep_issues_reminders_once(sqlite_url):
    from datetime import timedelta
    from portal.services import complaints
    from portal.ui.context import now as wall_now
    from tests.helpers import a_form
    uow = UnitOfWork(make_engine(sqlite_url))
    received = wall_now() - timedelta(days=30)
    done = complaints.register_complaint(uow, actor=load_actor(uow, "clerk"), form=a_form(received_at=received),
                                         attachments=[], now=received)
    complaints.accept_complaint(uow, actor=load_actor(uow, "gmo"), complaint_id=done.id, category="claim",
                                severity="general", departments=["operations"], now=received)
    first = cli(sqlite_url, "sla", "sweep")
    assert first.returncode == 0 and not first.stdout.startswith("0 ")
    assert cli(sqlite_url, "sla", "sweep").stdout.startswith("0 ")


@pytest.mark.parametrize("args, says", [
    (("calendar", "show", "2027-13"), "YYYY-MM"),
    (("calendar", "show", "2027"), "YYYY-MM"),
    (("calendar", "show", "x-y"), "YYYY-MM"),
    (("calendar", "set", "2027-02-30", "--off"), "real date"),
    (("deadline", "--from", "2025-09-30", "--working-days", "3"), "YYYY-MM-DD HH:MM"),
    (("deadline", "--from", "2025-02-30 09:00", "--days", "3"), "YYYY-MM-DD HH:MM"),
    (("deadline", "--from", "2025-09-30 09:00", "--working-days", "-3"), "between 1 and"),
    (("deadline", "--from", "2025-09-30 09:00", "--hours", "0"), "between 1 and"),
    (("deadline", "--from", "2025-09-30 09:00", "--days", "99999999"), "between 1 and"),
])
def test_bad_arguments_get_one_line_and_exit_code_2(sqlite_url, args, says):
    done = cli(sqlite_url, *args)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and says in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_overriding_an_official_day_needs_force_and_says_what_it_replaces(sqlite_url):
    refused = cli(sqlite_url, "calendar", "set", "2025-10-01", "--working")
    assert refused.returncode == 1 and "2025-10-01" in refused.stderr and "public holiday" in refused.stderr
    assert "--force" in refused.stderr
    assert "2025-10-01 周三 节假日" in cli(sqlite_url, "calendar", "show", "2025-10").stdout
    assert cli(sqlite_url, "calendar", "set", "2025-10-01", "--working", "--force").returncode == 0
    assert "2025-10-01 周三 工作日" in cli(sqlite_url, "calendar", "show", "2025-10").stdout


def test_a_broken_pipe_ends_quietly(sqlite_url):
    env = {**os.environ, "PORTAL_DATABASE_URL": sqlite_url}
    done = subprocess.run(f"'{sys.executable}' -m portal calendar show 2025-10 | head -n 1", shell=True,
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert done.stdout.count("\n") == 1 and "Traceback" not in done.stderr
    piped = subprocess.Popen([sys.executable, "-m", "portal", "calendar", "show", "2025-10"], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    piped.stdout.close()                                     # the reader is gone before anything is written
    _, err = piped.communicate(timeout=120)
    assert piped.returncode == 2 and b"Traceback" not in err


def test_users_add_refuses_a_handler_without_department_and_an_approver_without_level(sqlite_url):
    handler = cli(sqlite_url, "users", "add", "newhandler", "--role", "handler", stdin="a-long-secret\n")
    assert handler.returncode == 1 and "department" in handler.stderr
    approver = cli(sqlite_url, "users", "add", "newapprover", "--role", "approver", "--department", "operations",
                   stdin="a-long-secret\n")
    assert approver.returncode == 1 and "approval_level" in approver.stderr
    uow = UnitOfWork(make_engine(sqlite_url))
    assert load_actor(uow, "newhandler") is None and load_actor(uow, "newapprover") is None


def test_reset_password_from_the_command_line_ends_the_users_sessions(sqlite_url):
    from portal.services import sessions
    from tests.conftest import PASSWORD
    uow = UnitOfWork(make_engine(sqlite_url))
    signed = sessions.sign_in(uow, username="clerk", password=PASSWORD, address="", now=datetime(2025, 9, 1))
    assert cli(sqlite_url, "users", "reset-password", "clerk", stdin="another-secret\n").returncode == 0
    assert sessions.resume(uow, token=signed.token, now=datetime(2025, 9, 1)) is None


def test_demo_seed_on_a_database_with_data_needs_append(sqlite_url):
    refused = cli(sqlite_url, "demo", "seed", "--complaints", "2")
    assert refused.returncode == 2 and "--append" in refused.stderr
    with UnitOfWork(make_engine(sqlite_url)).read() as session:
        assert session.scalar(select(func.count()).select_from(Complaint)) == 0
    assert cli(sqlite_url, "demo", "seed", "--complaints", "2", "--append").returncode == 0
    assert cli(sqlite_url, "demo", "seed", "--complaints", "-1", "--append").returncode == 2
