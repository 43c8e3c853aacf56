"""Real local servers for the notices tests: an SMTP server (aiosmtpd) whose handler can hold a
message before or after accepting it, or hold its answer to QUIT; and an SMS HTTP gateway
(http.server) answering from a script of status codes. Plus a case to send notices about."""
from __future__ import annotations

import asyncio
import email
import email.policy
import json
import socket
import threading
from contextlib import contextmanager
from datetime import datetime
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator
from zoneinfo import ZoneInfo

from aiosmtpd.controller import Controller
from sqlalchemy import update

from portal.persistence.models import Complaint
from portal.services import complaints
from tests.conftest import T0
from tests.helpers import a_form


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wall_now() -> datetime:
    """The wall clock as the CLI reads it (Beijing, naive): for notices a subprocess must find due."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None, microsecond=0)


class MailRecorder:
    """An aiosmtpd handler keeping what it accepts. `mode`:
    - "accept": store and answer 250;
    - "hold_before_accept": signal `entered`, wait for `release`, then answer 451 without storing;
    - "hold_after_accept": store, signal `entered`, wait for `release`, then answer 250;
    - "hold_quit": accept normally, but on QUIT signal `entered` and wait for `release`."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.mode = "accept"
        self.entered = threading.Event()
        self.release = threading.Event()

    async def _hold(self) -> None:
        self.entered.set()
        while not self.release.is_set():
            await asyncio.sleep(0.02)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001, N802
        if self.mode == "hold_before_accept":
            await self._hold()
            return "451 4.3.0 try again later"
        self.messages.append(envelope.original_content or envelope.content)
        if self.mode == "hold_after_accept":
            await self._hold()
        return "250 2.0.0 accepted"

    async def handle_QUIT(self, server, session, envelope) -> str:  # noqa: ANN001, N802
        if self.mode == "hold_quit":
            await self._hold()
        return "221 Bye"

    def parsed(self) -> list[EmailMessage]:
        return [email.message_from_bytes(raw, policy=email.policy.default) for raw in self.messages]

    def reset(self, mode: str = "accept") -> None:
        self.mode = mode
        self.entered.clear()
        self.release.clear()


@contextmanager
def smtp_server() -> Iterator[tuple[MailRecorder, int]]:
    recorder = MailRecorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield recorder, port
    finally:
        recorder.release.set()
        controller.stop()


class Gateway:
    """What the SMS gateway received, and the status codes it answers with, in turn (the last repeats)."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = list(statuses)
        self.requests: list[dict] = []
        self.headers: list[dict] = []


@contextmanager
def sms_gateway(statuses: list[int]) -> Iterator[tuple[Gateway, str]]:
    gateway = Gateway(statuses)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            gateway.requests.append(json.loads(body.decode("utf-8")))
            gateway.headers.append(dict(self.headers))
            status = gateway.statuses.pop(0) if len(gateway.statuses) > 1 else gateway.statuses[0]
            answer = json.dumps({"id": f"gw-{len(gateway.requests)}"} if status < 300 else {"error": "busy"})
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(answer.encode())

        def log_message(self, *args) -> None:  # noqa: ANN002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield gateway, f"http://127.0.0.1:{server.server_address[1]}/sms/send"
    finally:
        server.shutdown()
        server.server_close()


def registered_case(uow, people, *, preferred: str = "email", optional: bool = True, **form) -> int:  # noqa: ANN001
    """A complaint registered by the clerk, the customer's preferred contact and opt-in set."""
    done = complaints.register_complaint(uow, actor=people.clerk, form=a_form(**form), attachments=[], now=T0)
    with uow.write() as session:
        session.execute(update(Complaint).where(Complaint.id == done.id)
                        .values(preferred_contact=preferred, optional_notices=optional)
                        .execution_options(synchronize_session=False))
    return done.id
