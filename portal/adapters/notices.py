"""How a notice leaves the portal (SPEC §11): by SMTP, through an SMS HTTP gateway, or — the embedded
default, with nothing configured — as a file in a folder. `configured_transports()` chooses, per
channel, from the environment or `.streamlit/secrets.toml` (see the README, "Notices to the customer").

Each adapter says whether a second copy of a message it may already have delivered is recognised by
the receiver as the same message (`resend_recognised`): SMTP yes (the same Message-ID header); the
folder yes (a file named by the notice's key is written once); an SMS gateway only when it is declared
to treat the notice's key (its `out_id`) as an idempotency key — otherwise an interrupted SMS goes to
the GM office as 待确认 instead of out again.
"""
from __future__ import annotations

import http.client
import json
import os
import re
import smtplib
import ssl
import tempfile
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Callable, Iterator, Protocol
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from portal import config

BEIJING = ZoneInfo("Asia/Shanghai")
DEFAULT_FROM = "noreply@complaints.portal"
TIMEOUT = 30.0          # seconds a transport waits for a server; the sending lease must be longer


@dataclass(frozen=True)
class Outgoing:
    """A notice as stored, handed to an adapter: every attempt sends exactly this."""

    key: str                    # the Message-ID, e.g. <notice-…@complaints.portal>
    kind: str
    channel: str                # email / sms
    recipient: str
    subject: str
    body: str
    params: dict                # SMS: {"template_id": …, "params": {name: value}}
    queued_at: datetime


class DeliveryError(Exception):
    """An attempt that did not deliver. `permanent`: the server refused this message for good (trying
    again cannot help). `in_doubt`: the message had gone out when the connection failed, so the server
    may have accepted it."""

    def __init__(self, reason: str, *, permanent: bool = False, in_doubt: bool = False) -> None:
        super().__init__(reason)
        self.reason, self.permanent, self.in_doubt = reason, permanent, in_doubt


Send = Callable[[Outgoing], str]      # delivers one message, returns the transport's id for it


class Adapter(Protocol):
    name: str                   # smtp / sms_gateway / folder
    resend_recognised: bool

    def where(self) -> str: ...                                   # for the outbox page
    def delivered(self, message: Outgoing) -> str | None: ...     # what an interrupted attempt left, if known
    def connection(self) -> AbstractContextManager[Send]: ...    # one connection for a batch


# -- the e-mail as sent and as filed --

def email_message(message: Outgoing, from_address: str) -> EmailMessage:
    """The e-mail of a notice: the same bytes on every attempt (its Date is when it was queued)."""
    mail = EmailMessage()
    mail["Message-ID"] = message.key
    mail["Date"] = format_datetime(message.queued_at.replace(tzinfo=BEIJING))
    mail["From"] = from_address
    mail["To"] = message.recipient
    mail["Subject"] = message.subject
    mail["X-Complaint-Notice"] = message.kind
    mail.set_content(message.body, charset="utf-8")
    return mail


# -- SMTP --

@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    security: str = "starttls"      # starttls / ssl / none
    username: str = ""
    password: str = field(default="", repr=False)
    from_address: str = DEFAULT_FROM
    timeout: float = TIMEOUT


class SmtpAdapter:
    """E-mail through an SMTP server (smtplib): one connection for a batch, each message accepted
    (250 after DATA) before the next; QUIT at the end. A resend carries the same Message-ID."""

    name = "smtp"
    resend_recognised = True

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def where(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    def delivered(self, message: Outgoing) -> str | None:
        return None                 # an SMTP server cannot be asked what it accepted

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        try:
            if s.security == "ssl":
                client: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout,
                                                        context=ssl.create_default_context())
            else:
                client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
                if s.security == "starttls":
                    client.starttls(context=ssl.create_default_context())
            if s.username:
                client.login(s.username, s.password)
            return client
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryError(f"SMTP {s.host}:{s.port}: {error}") from error   # nothing sent: try later

    @contextmanager
    def connection(self) -> Iterator[Send]:
        state: dict[str, smtplib.SMTP | None] = {"client": None}

        def send(message: Outgoing) -> str:
            if state["client"] is None:
                state["client"] = self._connect()
            client = state["client"]
            try:
                refused = client.send_message(email_message(message, self.settings.from_address),
                                              from_addr=_address(self.settings.from_address),
                                              to_addrs=[message.recipient])
            except smtplib.SMTPRecipientsRefused as error:
                _drop(state)
                codes = [code for code, _ in error.recipients.values()]
                raise DeliveryError(f"SMTP refused the recipient: {error.recipients}",
                                    permanent=all(code >= 500 for code in codes)) from error
            except smtplib.SMTPResponseException as error:
                _drop(state)
                text = error.smtp_error.decode(errors="replace") if isinstance(error.smtp_error, bytes) \
                    else str(error.smtp_error)
                raise DeliveryError(f"SMTP {error.smtp_code} {text}", permanent=error.smtp_code >= 500) from error
            except (smtplib.SMTPException, OSError) as error:
                _drop(state)        # the connection broke mid-message: the server may have it
                raise DeliveryError(f"SMTP connection lost: {error!r}", in_doubt=True) from error
            if refused:
                raise DeliveryError(f"SMTP refused the recipient: {refused}", permanent=True)
            return message.key
        try:
            yield send
        finally:
            client = state["client"]
            if client is not None:
                try:
                    client.quit()
                except (smtplib.SMTPException, OSError):
                    client.close()


def _drop(state: dict) -> None:
    client, state["client"] = state["client"], None
    if client is not None:
        try:
            client.close()
        except OSError:
            pass


def _address(value: str) -> str:
    """The bare address of a From line such as `客户服务中心 <complaints@example.com>`."""
    match = re.search(r"<([^<>]+)>", value)
    return match.group(1) if match else value


# -- SMS HTTP gateway --

@dataclass(frozen=True)
class SmsSettings:
    url: str
    api_key: str = field(default="", repr=False)
    signature: str = ""                       # the gateway's registered signature (短信签名)
    templates: dict[str, str] = field(default_factory=dict)   # kind → registered template id (overrides)
    idempotent: bool = False                  # the gateway ignores a second request with the same out_id
    timeout: float = 15.0


class SmsGatewayAdapter:
    """SMS through an HTTP gateway: one JSON POST per message with the phone, the registered signature,
    the registered template id and its parameters, and the notice's key as `out_id` (also sent as the
    `Idempotency-Key` header). Any 2xx answer is acceptance; its JSON `id` / `message_id` / `biz_id`,
    if any, is kept. A 5xx or 429 answer, or no connection, is tried again; another 4xx is a refusal."""

    name = "sms_gateway"

    def __init__(self, settings: SmsSettings) -> None:
        self.settings = settings
        self.resend_recognised = settings.idempotent

    def where(self) -> str:
        parts = urlsplit(self.settings.url)
        return f"{parts.scheme}://{parts.netloc}{parts.path}"

    def delivered(self, message: Outgoing) -> str | None:
        return None

    def payload(self, message: Outgoing) -> dict:
        template = self.settings.templates.get(message.kind) or (message.params or {}).get("template_id") or ""
        if not template:
            raise DeliveryError("outbox.error.no_gateway_template", permanent=True)
        return {"phone": message.recipient, "signature": self.settings.signature, "template_id": template,
                "params": (message.params or {}).get("params", {}), "out_id": message.key}

    @contextmanager
    def connection(self) -> Iterator[Send]:
        yield self.send

    def send(self, message: Outgoing) -> str:
        body = json.dumps(self.payload(message), ensure_ascii=False).encode("utf-8")
        parts = urlsplit(self.settings.url)
        kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        connection = kind(parts.hostname, parts.port, timeout=self.settings.timeout)
        headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": message.key}
        if self.settings.api_key:
            headers["Authorization"] = f"Bearer {self.settings.api_key}"
        path = parts.path or "/"
        if parts.query:
            path += f"?{parts.query}"
        try:
            try:
                connection.connect()
                connection.request("POST", path, body=body, headers=headers)
            except OSError as error:            # never reached the gateway whole: not accepted
                raise DeliveryError(f"SMS gateway unreachable: {error!r}") from error
            try:
                answer = connection.getresponse()
                text = answer.read(4096).decode("utf-8", errors="replace")
            except (OSError, http.client.HTTPException) as error:   # sent, no answer: it may have it
                raise DeliveryError(f"SMS gateway did not answer: {error!r}", in_doubt=True) from error
        finally:
            connection.close()
        if 200 <= answer.status < 300:
            try:
                data = json.loads(text) if text.strip() else {}
            except ValueError:
                data = {}
            found = next((data.get(k) for k in ("id", "message_id", "biz_id", "BizId") if isinstance(data, dict)
                          and data.get(k)), None)
            return str(found or message.key)[:200]
        retry = answer.status >= 500 or answer.status in (408, 429)
        raise DeliveryError(f"SMS gateway HTTP {answer.status}: {text[:300]}", permanent=not retry)


# -- the folder (embedded default) --

class FolderAdapter:
    """Each notice written as a file named by its key into a folder: `<key>.eml` (the e-mail as it
    would be sent) or `<key>.json` (the SMS request as the gateway would get it). Written to a temporary
    file and renamed, so a crash leaves either the whole file or none; a file already there is the
    notice delivered by an earlier, interrupted attempt, and is not written again."""

    name = "folder"
    resend_recognised = True

    def __init__(self, folder: Path, from_address: str = DEFAULT_FROM, signature: str = "") -> None:
        self.folder = Path(folder)
        self.from_address = from_address
        self.signature = signature

    def where(self) -> str:
        return str(self.folder)

    def file_name(self, message: Outgoing) -> str:
        stem = re.sub(r"[^A-Za-z0-9@._-]", "_", message.key.strip("<>"))
        return f"{stem}.{'eml' if message.channel == 'email' else 'json'}"

    def delivered(self, message: Outgoing) -> str | None:
        name = self.file_name(message)
        return name if (self.folder / name).is_file() else None

    def content(self, message: Outgoing) -> bytes:
        if message.channel == "email":
            return email_message(message, self.from_address).as_bytes()
        params = message.params or {}
        return json.dumps({"phone": message.recipient, "signature": self.signature,
                           "template_id": params.get("template_id", ""), "params": params.get("params", {}),
                           "out_id": message.key, "kind": message.kind, "text": message.body,
                           "queued_at": message.queued_at.isoformat(sep=" ")},
                          ensure_ascii=False, indent=2).encode("utf-8")

    @contextmanager
    def connection(self) -> Iterator[Send]:
        yield self.send

    def send(self, message: Outgoing) -> str:
        name = self.file_name(message)
        target = self.folder / name
        if target.is_file():
            return name
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=".partial-", dir=self.folder)
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(self.content(message))
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
            _sync_folder(self.folder)
        except OSError as error:
            raise DeliveryError(f"outbox folder {self.folder}: {error}") from error
        return name


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); nothing to do where a folder cannot be opened."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


# -- chosen by configuration --

@dataclass(frozen=True)
class Transports:
    """The adapter for each channel."""

    email: Adapter
    sms: Adapter

    def for_channel(self, channel: str) -> Adapter:
        return self.email if channel == "email" else self.sms


def default_folder(database_url: str | None = None) -> Path:
    """Where notices go with nothing configured: `outbox/` beside the SQLite database file (so
    `db/outbox/` for the default database), or `db/outbox/` of the installation."""
    url = database_url or config.database_url()
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        return Path(url[len("sqlite:///"):]).resolve().parent / "outbox"
    return config.ROOT / "db" / "outbox"


def outbox_folder(database_url: str | None = None) -> Path:
    """The outbox folder the deployment writes notices to: `[notices.outbox] folder` (or PORTAL_OUTBOX_DIR), else
    the default beside the database."""
    folder = config.secret("PORTAL_OUTBOX_DIR", "notices", "outbox", "folder")
    return Path(folder) if folder else default_folder(database_url)


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def configured_transports(database_url: str | None = None) -> Transports:
    """The transports the deployment configured (environment first, then `[notices.smtp]`,
    `[notices.sms]`, `[notices.outbox]` of the secrets file); a channel with nothing configured goes
    to the folder."""
    s = config.secret
    from_address = s("PORTAL_SMTP_FROM", "notices", "smtp", "from") or DEFAULT_FROM
    signature = s("PORTAL_SMS_SIGNATURE", "notices", "sms", "signature") or ""
    outbox = FolderAdapter(outbox_folder(database_url), from_address, signature)
    email: Adapter = outbox
    host = s("PORTAL_SMTP_HOST", "notices", "smtp", "host")
    if host:
        security = (s("PORTAL_SMTP_SECURITY", "notices", "smtp", "security") or "starttls").lower()
        if security not in ("starttls", "ssl", "none"):
            raise ValueError(f"[notices.smtp] security must be starttls, ssl or none, not {security!r}")
        port = int(s("PORTAL_SMTP_PORT", "notices", "smtp", "port") or (465 if security == "ssl" else 587))
        email = SmtpAdapter(SmtpSettings(
            host=host, port=port, security=security,
            username=s("PORTAL_SMTP_USERNAME", "notices", "smtp", "username") or "",
            password=s("PORTAL_SMTP_PASSWORD", "notices", "smtp", "password") or "", from_address=from_address))
    sms: Adapter = outbox
    url = s("PORTAL_SMS_URL", "notices", "sms", "url")
    if url:
        sms = SmsGatewayAdapter(SmsSettings(
            url=url, api_key=s("PORTAL_SMS_API_KEY", "notices", "sms", "api_key") or "", signature=signature,
            templates=config.secret_table("notices", "sms", "templates"),
            idempotent=_flag(s("PORTAL_SMS_IDEMPOTENT", "notices", "sms", "idempotent"))))
    return Transports(email=email, sms=sms)

