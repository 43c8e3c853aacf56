"""`python -m portal doctor` on both databases: a healthy installation passes every check, and each kind of problem
fails its own check (and only that one), with a line that says what to do; `sessions purge` cures the last."""
from __future__ import annotations

from datetime import timedelta


from portal.persistence.models import Notice
from portal.services import sessions
from portal.services.doctor import CHECKS, Limits, run_checks
from tests.conftest import PASSWORD, T0
from tests.helpers import run_sql
from tests.services.test_cli import cli


def _failing(checks) -> dict[str, str]:  # noqa: ANN001
    assert [c.name for c in checks] == list(CHECKS)
    return {c.name: c.detail for c in checks if not c.ok}


def test_a_healthy_installation_passes_and_the_command_exits_0(database_url):
    assert _failing(run_checks(database_url, now=T0)) == {}
    done = cli(database_url, "doctor")
    assert done.returncode == 0, done.stdout + done.stderr
    assert [line.split()[:2] for line in done.stdout.splitlines()] == [["OK", name] for name in CHECKS]


def test_an_unreachable_database_fails_and_nothing_else_is_guessed(database_url, tmp_path):
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'nowhere' / 'portal.sqlite3'}"
    else:
        url = database_url.replace("127.0.0.1:5432", "127.0.0.1:9")     # nothing listens on the discard port
    failing = _failing(run_checks(url, now=T0))
    assert set(failing) == set(CHECKS)
    assert failing["migrations"].startswith("not checked")
    if url.startswith("sqlite"):
        assert not (tmp_path / "nowhere").exists()          # the check created nothing
    done = cli(url, "doctor")
    assert done.returncode == 1 and done.stdout.splitlines()[0].startswith("FAIL database")


def test_a_database_behind_or_ahead_of_the_code_fails_migrations(database_url):
    head = run_checks(database_url, now=T0)[1].detail.split()[-1]
    run_sql(database_url, "UPDATE alembic_version SET version_num = '0001'")
    failing = _failing(run_checks(database_url, now=T0))
    assert set(failing) == {"migrations"} and "db upgrade" in failing["migrations"] and head in failing["migrations"]
    run_sql(database_url, "UPDATE alembic_version SET version_num = '9999'")
    assert "does not know" in _failing(run_checks(database_url, now=T0))["migrations"]
    assert cli(database_url, "doctor").returncode == 1


def test_a_year_without_its_calendar_fails_the_calendar(database_url):
    run_sql(database_url, f"DELETE FROM calendar_days WHERE day >= '{T0.year}-12-01' AND day <= '{T0.year}-12-31'")
    failing = _failing(run_checks(database_url, now=T0))
    assert set(failing) == {"calendar"} and str(T0.year) in failing["calendar"]


def test_a_running_clock_waiting_for_a_calendar_fails_the_calendar(database_url, uow, people):
    from tests.helpers import a_form
    from portal.services import complaints
    complaints.register_complaint(uow, actor=people.clerk, form=a_form(), attachments=[], now=T0)
    assert _failing(run_checks(database_url, now=T0)) == {}
    run_sql(database_url, "UPDATE case_clocks SET calendar_missing = TRUE, due_at = NULL")
    failing = _failing(run_checks(database_url, now=T0))
    assert set(failing) == {"calendar"} and "wait for a calendar year" in failing["calendar"]


def test_notices_left_unsent_fail_the_outbox(database_url, uow):
    with uow.write() as session:
        session.add(Notice(key="doctor-1@portal", kind="acknowledgement", channel="email", recipient="a@example.com",
                           state="queued", next_attempt_at=T0 - timedelta(minutes=10), queued_at=T0 - timedelta(hours=1)))
    assert _failing(run_checks(database_url, now=T0)) == {}          # due ten minutes ago: the sender's slack
    failing = _failing(run_checks(database_url, now=T0 + timedelta(minutes=25)))
    assert set(failing) == {"outbox"} and "1 notice(s) due since" in failing["outbox"]
    with uow.write() as session:
        notice = session.query(Notice).one()
        notice.state, notice.claimed_at = "sending", T0
    assert _failing(run_checks(database_url, now=T0 + timedelta(minutes=10))) == {}
    assert "claimed by a sender" in _failing(run_checks(database_url, now=T0 + timedelta(hours=2)))["outbox"]


def test_notices_the_gateway_keeps_refusing_fail_the_outbox(database_url, uow):
    """Each failed attempt moves the next one on: the due time never looks late, the time queued does."""
    with uow.write() as session:
        session.add(Notice(key="doctor-2@portal", kind="acknowledgement", channel="sms", recipient="13800000000",
                           state="queued", attempts=3, last_error="gateway 503", queued_at=T0,
                           next_attempt_at=T0 + timedelta(minutes=50)))
    assert _failing(run_checks(database_url, now=T0 + timedelta(minutes=20))) == {}
    failing = _failing(run_checks(database_url, now=T0 + timedelta(minutes=40)))
    assert set(failing) == {"outbox"} and "tried and still not delivered" in failing["outbox"]
    with uow.write() as session:
        session.query(Notice).one().state = "failed"
    assert "given up on in the last day" in _failing(run_checks(database_url, now=T0 + timedelta(hours=2)))["outbox"]
    assert _failing(run_checks(database_url, now=T0 + timedelta(days=2))) == {}    # old ones: the 通知 page's


def test_a_grown_session_table_fails_until_ended_sessions_are_purged(database_url, uow):
    signed = [sessions.sign_in(uow, username="clerk", password=PASSWORD, address="", now=T0) for _ in range(3)]
    sessions.sign_out(uow, token=signed[0].token, now=T0 + timedelta(hours=1))
    failing = _failing(run_checks(database_url, now=T0, limits=Limits(max_sessions=2)))
    assert set(failing) == {"sessions"} and "3 rows (2 live, 1 ended)" in failing["sessions"]
    assert sessions.purge_ended(uow, now=T0 + timedelta(days=5), older_than_days=30) == 0   # too recent
    # a day after: the one logged out at T0+1h goes, the two that expire at T0+12h stay
    assert sessions.purge_ended(uow, now=T0 + timedelta(days=1, hours=6), older_than_days=1) == 1
    assert _failing(run_checks(database_url, now=T0, limits=Limits(max_sessions=2))) == {}
    assert sessions.resume(uow, token=signed[1].token, now=T0 + timedelta(hours=2)) is not None   # live ones stay
