"""The sender killed mid-delivery: `python -m portal notices send` runs as a real process against the
test database and a real local SMTP server, and is SIGKILLed — before the server accepts the message,
after it accepted it but before the sender heard so, and while it says QUIT — then started again. The
notice arrives, a second copy carries the same Message-ID, and no notice is lost."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from portal.config import ROOT
from portal.persistence.models import Complaint, Notice
from portal.services.notices_outbox import queue_notice
from tests.services.notices_servers import registered_case, smtp_server, wall_now

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")


def sender(database_url: str, port: int, tmp_path) -> subprocess.Popen:  # noqa: ANN001
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_SMTP", "PORTAL_SMS", "PORTAL_OUTBOX"))}
    env.update(PORTAL_DATABASE_URL=database_url, PORTAL_SECRETS_FILE=str(tmp_path / "none.toml"),
               PORTAL_SMTP_HOST="127.0.0.1", PORTAL_SMTP_PORT=str(port), PORTAL_SMTP_SECURITY="none",
               PORTAL_SMTP_FROM="cs@insurer.example", PORTAL_OUTBOX_DIR=str(tmp_path / "outbox"))
    return subprocess.Popen([sys.executable, "-m", "portal", "notices", "send"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run_to_end(database_url: str, port: int, tmp_path) -> str:  # noqa: ANN001
    process = sender(database_url, port, tmp_path)
    out, err = process.communicate(timeout=180)
    assert process.returncode == 0, err[-3000:]
    return out


def kill_when(server, process: subprocess.Popen) -> None:  # noqa: ANN001
    """SIGKILL the sender once the server's handler holds its message (or its QUIT)."""
    if not server.entered.wait(120):
        process.kill()
        pytest.fail("the sender never reached the server: " + process.communicate()[1][-3000:])
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    server.release.set()               # the handler answers a connection nobody listens to any more


def queued_notice(uow, people) -> int:  # noqa: ANN001
    case_id = registered_case(uow, people)
    with uow.write() as session:
        notice = queue_notice(session, complaint=session.get(Complaint, case_id), kind="acknowledgement",
                              now=wall_now() - timedelta(minutes=1))
        return notice.id


def state_of(uow, notice_id) -> tuple[str, int]:  # noqa: ANN001
    with uow.read() as session:
        notice = session.get(Notice, notice_id)
        return notice.state, notice.attempts


def lease_passes(uow, notice_id) -> None:  # noqa: ANN001
    """Time passes beyond the sending lease (10 minutes) since the dead sender's claim."""
    with uow.write() as session:
        claimed = session.scalar(select(Notice.claimed_at).where(Notice.id == notice_id))
        session.execute(update(Notice).where(Notice.id == notice_id)
                        .values(claimed_at=claimed - timedelta(minutes=11)))


def key_of(uow, notice_id) -> str:  # noqa: ANN001
    with uow.read() as session:
        return session.get(Notice, notice_id).key


def test_killed_before_the_server_accepts_the_notice_arrives_once_after_restart(uow, people, database_url, tmp_path):
    notice_id = queued_notice(uow, people)
    with smtp_server() as (server, port):
        server.reset("hold_before_accept")
        process = sender(database_url, port, tmp_path)
        kill_when(server, process)
        assert state_of(uow, notice_id) == ("sending", 1)      # the claim was committed before talking
        assert server.messages == []
        server.reset("accept")
        run_to_end(database_url, port, tmp_path)                 # within the lease: left alone
        assert state_of(uow, notice_id) == ("sending", 1) and server.messages == []
        lease_passes(uow, notice_id)
        out = run_to_end(database_url, port, tmp_path)
    assert "1 sent" in out and "1 interrupted taken up" in out
    [mail] = server.parsed()
    assert mail["Message-ID"] == key_of(uow, notice_id)
    assert state_of(uow, notice_id) == ("sent", 2)


def test_killed_after_the_server_accepted_a_second_copy_carries_the_same_message_id(uow, people, database_url,
                                                                                    tmp_path):
    notice_id = queued_notice(uow, people)
    with smtp_server() as (server, port):
        server.reset("hold_after_accept")                      # stored, the 250 not yet answered
        process = sender(database_url, port, tmp_path)
        kill_when(server, process)
        assert state_of(uow, notice_id) == ("sending", 1)      # the sender never heard it was accepted
        server.reset("accept")
        lease_passes(uow, notice_id)
        run_to_end(database_url, port, tmp_path)
    first, second = server.parsed()
    assert first["Message-ID"] == second["Message-ID"] == key_of(uow, notice_id)
    assert server.messages[0] == server.messages[1]            # the very same message, byte for byte
    assert state_of(uow, notice_id) == ("sent", 2)
    with uow.read() as session:
        assert session.scalars(select(Notice.state)).all() == ["sent"]     # one notice, nothing lost


def test_killed_while_saying_quit_the_notice_is_already_recorded_sent(uow, people, database_url, tmp_path):
    notice_id = queued_notice(uow, people)
    with smtp_server() as (server, port):
        server.reset("hold_quit")
        process = sender(database_url, port, tmp_path)
        kill_when(server, process)
        assert state_of(uow, notice_id) == ("sent", 1)         # recorded as soon as the server accepted
        server.reset("accept")
        run_to_end(database_url, port, tmp_path)
    assert len(server.messages) == 1
