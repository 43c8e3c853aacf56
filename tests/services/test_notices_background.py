"""The running app sends notices by itself: a real `streamlit run` of the portal, one session opened
over its websocket as a browser would, and the background sender (started once per process by the
entry script) delivers a queued notice to the outbox folder on the wall clock."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.config import ROOT
from portal.persistence.database import UnitOfWork, make_engine
from portal.persistence.models import Complaint, Notice
from portal.services.notices_outbox import queue_notice
from tests.conftest import People
from tests.services.notices_servers import free_port, registered_case, wall_now

websockets = pytest.importorskip("websockets")


async def session_until_sent(port: int, uow: UnitOfWork, key: str, seconds: float) -> str | None:
    """Keep one session open (its first run starts the sender) until the notice is sent."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    async with websockets.connect(f"ws://127.0.0.1:{port}/_stcore/stream", subprotocols=["streamlit"],
                                  max_size=None) as socket:
        request = BackMsg()
        request.rerun_script.query_string = ""
        await socket.send(request.SerializeToString())
        end = time.monotonic() + seconds
        state = None
        while time.monotonic() < end and state != "sent":
            try:
                await asyncio.wait_for(socket.recv(), timeout=0.5)
            except asyncio.TimeoutError:
                pass
            with uow.read() as session:
                state = session.scalar(select(Notice.state).where(Notice.key == key))
        return state


def test_the_running_app_delivers_a_queued_notice_in_the_background(sqlite_url, tmp_path):
    uow = UnitOfWork(make_engine(sqlite_url))
    case_id = registered_case(uow, People(uow))
    with uow.write() as session:
        key = queue_notice(session, complaint=session.get(Complaint, case_id), kind="acknowledgement",
                           now=wall_now() - timedelta(minutes=1)).key
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_SMTP", "PORTAL_SMS", "PORTAL_NOTICES"))}
    env.update(PORTAL_DATABASE_URL=sqlite_url, PORTAL_NOTICES_INTERVAL="1", PORTAL_OUTBOX_DIR=str(tmp_path / "out"),
               PORTAL_SECRETS_FILE=str(tmp_path / "none.toml"))
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "portal" / "server.py"),
                               "--server.port", str(port), "--server.headless", "true",
                               "--server.address", "127.0.0.1"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("streamlit did not start")
        state = asyncio.run(session_until_sent(port, uow, key, 90))
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode(errors="replace")
        uow.engine.dispose()
    assert state == "sent", output[-3000:]
    [written] = (tmp_path / "out").iterdir()
    assert written.name == key.strip("<>") + ".eml"
