"""The notices outbox (SPEC §11): a notice is queued in the transaction of the act that causes it, and a
sender delivers it at least once.

States: queued (待发送) → sending (发送中) → sent (已发送); a failed attempt goes back to queued with a
backoff, or to failed (失败) when refused for good or out of attempts. The sender claims one notice at a
time and COMMITS the claim (state `sending`, `claimed_at`, attempts + 1) before it talks to the server,
and commits the result right after the server answers. So a crash leaves at most the notices it was
sending in `sending`; once their lease (`notices.lease_minutes`) has passed, the next sender takes them
up (`recover_interrupted`):

- folder: the file named by the key is there → sent; not there → sent again (written atomically);
- SMTP: sent again, the same stored content with the same Message-ID header, so the receiver
  recognises a second copy as the same message;
- SMS gateway declared idempotent (`idempotent = true`: it ignores a repeated `out_id`): sent again;
- SMS gateway not declared idempotent: 待确认 (unconfirmed) — a second SMS could not be told from a new
  one, so the GM office checks the gateway's records for the key and confirms it sent or resends it
  (`notices_office`). Likewise an SMS whose request went out but got no answer.

Nothing is lost: every notice ends sent, failed (shown) or unconfirmed (shown).
"""
from __future__ import annotations

import logging
import threading
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Mapping

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.adapters.notices import Adapter, DeliveryError, Outgoing, Transports, configured_transports
from portal.domain import notices as rules_of
from portal.domain.contacts import ContactChannel
from portal.domain.notices import NoticeKind, NoticeState, OutboxRules
from portal.persistence.database import UnitOfWork
from portal.persistence.models import Complaint, Notice, User
from portal.services import contact_due, rules
from portal.services.contacts import log_contact
from portal.services.notices_templates import fill, notice_values, template_rows

log = logging.getLogger(__name__)

# Reasons the outbox itself records in `last_error` (catalogue keys; a server's own words are kept as
# they came).
INTERRUPTED_RESENT = "outbox.error.interrupted_resent"
INTERRUPTED_UNCONFIRMED = "outbox.error.interrupted_unconfirmed"
NO_ANSWER_UNCONFIRMED = "outbox.error.no_answer_unconfirmed"


def _recipient(complaint: Complaint, channel: str) -> str:
    return (complaint.customer_email if channel == "email" else complaint.customer_phone or "").strip()


def queue_notice(session: Session, *, complaint: Complaint, kind: NoticeKind | str, now: datetime,
                 by: User | None = None, channel: str | None = None,
                 extra: Mapping[str, object] | None = None) -> Notice | None:
    """Queue a notice to the customer INSIDE the caller's transaction (the act that causes it), and log
    it as a contact (proof: its Message-ID). The channel: `channel`, else the customer's preferred
    contact when it is e-mail or SMS. None — nothing queued — when a person must make the contact (the
    customer prefers phone, letter, visit or WeChat, or has no address for the channel; the contact
    clocks prompt for it), or when the kind is optional and the customer declined optional notices.
    An SMS in quiet hours waits for their end. Refused (DomainError) when the template names a value
    this case does not have (e.g. an expected completion date with no closure clock and none given)."""
    kind = NoticeKind(kind)
    if kind in rules_of.REQUEST_KINDS:
        raise ValueError(f"{kind.value} is a notice about a request: services.desk_notices queues it")
    if kind in rules_of.STAFF_KINDS:
        raise ValueError(f"{kind.value} is a notice to staff: services.warning_alerts queues it")
    if rules_of.is_optional(kind) and not complaint.optional_notices:
        return None
    channel = channel or complaint.preferred_contact
    if channel not in rules_of.OUTBOX_CHANNELS:
        return None
    recipient = _recipient(complaint, channel)
    if not recipient:
        return None
    if complaint.id is None:
        session.flush()
    notice = enqueue(session, kind=kind, channel=channel, recipient=recipient, now=now,
                     values=notice_values(session, complaint, kind, now=now, extra=extra), complaint_id=complaint.id)
    subject, body = notice.subject, notice.body
    log_contact(session, complaint=complaint, step=rules_of.STEP_OF_KIND[kind], channel=ContactChannel(channel),
                content=f"{subject}\n\n{body}" if channel == "email" else body, now=now, by=by,
                proof=notice.key, notice_id=notice.id)
    return notice


def enqueue(session: Session, *, kind: NoticeKind, channel: str, recipient: str, now: datetime,
            values: Mapping[str, str], complaint_id: int | None = None, request_id: int | None = None) -> Notice:
    """The Notice row itself, added to the caller's transaction: the kind's template for the channel
    filled with `values`, due now (an SMS in quiet hours: when they end). What the notice is about — a
    complaint or a request to the desk — and the contact it is logged as are the caller's."""
    template = template_rows(session)[(kind.value, channel)]
    subject, body, params = fill(template, values)
    subject = " ".join(subject.split())[:200]       # a header: one line, whatever the values held
    outbox_rules = OutboxRules.from_settings(rules.settings(session))
    due = now
    if channel == "sms":
        due = rules_of.quiet_until(now, outbox_rules.quiet_start, outbox_rules.quiet_end)
    notice = Notice(key=rules_of.new_message_id(), complaint_id=complaint_id, request_id=request_id, kind=kind.value,
                    channel=channel, recipient=recipient, subject=subject, body=body,
                    params={"template_id": template.gateway_template, "params": params} if channel == "sms" else {},
                    state=NoticeState.QUEUED.value, attempts=0, next_attempt_at=due, last_error="",
                    queued_at=now, transport_id="")
    session.add(notice)
    session.flush()
    return notice


# -- the sender --

@dataclass
class SendSummary:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    unconfirmed: int = 0
    recovered: int = 0          # interrupted notices taken up again (sent again, found sent, or 待确认)

    def __str__(self) -> str:
        return (f"{self.sent} sent, {self.retrying} to retry, {self.failed} failed, "
                f"{self.unconfirmed} unconfirmed, {self.recovered} interrupted taken up")


def _outgoing(notice: Notice) -> Outgoing:
    return Outgoing(notice.key, notice.kind, notice.channel, notice.recipient, notice.subject, notice.body,
                    dict(notice.params or {}), notice.queued_at)


def _outbox_rules(uow: UnitOfWork) -> OutboxRules:
    with uow.read() as session:
        return OutboxRules.from_settings(rules.settings(session))


def _next_attempt(channel: str, at: datetime, outbox_rules: OutboxRules) -> datetime:
    if channel == "sms":
        return rules_of.quiet_until(at, outbox_rules.quiet_start, outbox_rules.quiet_end)
    return at


def _locking(uow: UnitOfWork, query):  # noqa: ANN001, ANN202
    """PostgreSQL: rows another sender has locked are skipped, not waited for. SQLite: the writing
    transaction (BEGIN IMMEDIATE) already has the database to itself; the UPDATEs below are
    conditional on the state read, so a row taken meanwhile is never taken twice."""
    return query.with_for_update(skip_locked=True) if uow.dialect == "postgresql" else query


def recover_interrupted(uow: UnitOfWork, *, now: datetime, transport: Transports,
                        outbox_rules: OutboxRules | None = None) -> SendSummary:
    """Take up the notices left `sending` past the lease by a sender that died (see the module's
    docstring for what becomes of each)."""
    outbox_rules = outbox_rules or _outbox_rules(uow)
    cutoff = now - timedelta(minutes=outbox_rules.lease_minutes)
    summary = SendSummary()
    stuck_where = (Notice.state == NoticeState.SENDING.value, Notice.claimed_at < cutoff)
    with uow.read() as session:         # the usual answer, without taking the write lock (SQLite)
        if session.scalar(select(Notice.id).where(*stuck_where).limit(1)) is None:
            return summary
    with uow.write() as session:
        stuck = session.scalars(_locking(uow, select(Notice).where(*stuck_where).order_by(Notice.id)
                                         .limit(200))).all()
        for notice in stuck:
            adapter = transport.for_channel(notice.channel)
            values: dict = {}
            found = adapter.delivered(_outgoing(notice))
            if found is not None:
                values = dict(state=NoticeState.SENT.value, sent_at=now, transport_id=found[:200], last_error="")
                summary.sent += 1
            else:
                state = rules_of.after_interruption(attempts=notice.attempts, rules=outbox_rules,
                                                    resend_recognised=adapter.resend_recognised)
                if state == NoticeState.QUEUED:
                    values = dict(state=state.value, next_attempt_at=_next_attempt(notice.channel, now, outbox_rules),
                                  last_error=INTERRUPTED_RESENT)
                else:
                    values = dict(state=state.value, last_error=INTERRUPTED_UNCONFIRMED)
                    summary.unconfirmed += 1
            done = session.execute(update(Notice).where(
                Notice.id == notice.id, Notice.state == NoticeState.SENDING.value,
                Notice.claimed_at == notice.claimed_at).values(**values).execution_options(synchronize_session=False))
            summary.recovered += done.rowcount
    return summary


def _claim_next(uow: UnitOfWork, *, now: datetime, outbox_rules: OutboxRules,
                channels: tuple[str, ...]) -> tuple[Outgoing, int, int] | None:
    """Claim the next due notice and commit the claim before anything is sent: (message, id, attempts)."""
    for _ in range(5):          # another sender may take the row between the SELECT and the UPDATE (SQLite)
        with uow.write() as session:
            query = select(Notice.id).where(Notice.state == NoticeState.QUEUED.value, Notice.next_attempt_at <= now,
                                            Notice.channel.in_(channels))
            notice_id = session.scalar(_locking(uow, query.order_by(Notice.next_attempt_at, Notice.id).limit(1)))
            if notice_id is None:
                return None
            done = session.execute(update(Notice).where(Notice.id == notice_id,
                                                        Notice.state == NoticeState.QUEUED.value)
                                   .values(state=NoticeState.SENDING.value, claimed_at=now,
                                           attempts=Notice.attempts + 1)
                                   .execution_options(synchronize_session=False))
            if done.rowcount != 1:
                continue
            notice = session.execute(select(Notice).where(Notice.id == notice_id)
                                     .execution_options(populate_existing=True)).scalar_one()
            return _outgoing(notice), notice.id, notice.attempts
    return None


def _finish(uow: UnitOfWork, notice_id: int, claimed_at: datetime, values: dict, *, sent: bool) -> None:
    """Record the result of our attempt. A success is recorded whatever happened to the row meanwhile
    (unless already sent); a failure only while the row is still our claim."""
    with uow.write() as session:
        query = update(Notice).where(Notice.id == notice_id)
        if sent:
            query = query.where(Notice.state != NoticeState.SENT.value)
        else:
            query = query.where(Notice.state == NoticeState.SENDING.value, Notice.claimed_at == claimed_at)
        done = session.execute(query.values(**values).execution_options(synchronize_session=False))
        if values.get("state") == NoticeState.FAILED.value and done.rowcount:
            # the customer was not told: the case asks for the contact again (待联系客户); a request's
            # notice (no complaint) has no contact clock — it stays in the outbox as failed, for the office
            case_id = session.scalar(select(Notice.complaint_id).where(Notice.id == notice_id))
            if case_id is not None:
                contact_due.refresh(session.connection(), [case_id])


def send_due(uow: UnitOfWork, *, now: datetime, transport: Transports | None = None,
             limit: int = 100) -> SendSummary:
    """Deliver the notices due at `now` (at most `limit`): interrupted ones first taken up, then one
    claim, one attempt, one result at a time. SMS wait while it is quiet hours. Safe with several
    senders at once, in one process or many (the claim)."""
    transport = transport or configured_transports()
    outbox_rules = _outbox_rules(uow)
    summary = recover_interrupted(uow, now=now, transport=transport, outbox_rules=outbox_rules)
    channels = ("email",) if rules_of.is_quiet(now, outbox_rules.quiet_start, outbox_rules.quiet_end) \
        else ("email", "sms")
    with uow.read() as session:
        if session.scalar(select(Notice.id).where(Notice.state == NoticeState.QUEUED.value,
                                                  Notice.next_attempt_at <= now,
                                                  Notice.channel.in_(channels)).limit(1)) is None:
            return summary
    with ExitStack() as stack:
        opened: dict[int, Callable[[Outgoing], str]] = {}
        for _ in range(limit):
            claimed = _claim_next(uow, now=now, outbox_rules=outbox_rules, channels=channels)
            if claimed is None:
                break
            message, notice_id, attempts = claimed
            adapter = transport.for_channel(message.channel)
            try:
                if id(adapter) not in opened:
                    opened[id(adapter)] = stack.enter_context(adapter.connection())
                transport_id = opened[id(adapter)](message)
            except DeliveryError as error:
                _failed(uow, summary, adapter, message, notice_id, attempts, now, outbox_rules, error)
            except Exception as error:  # noqa: BLE001 - an adapter's own fault must not stop the outbox
                log.exception("notice %s: unexpected error from %s", message.key, adapter.name)
                _failed(uow, summary, adapter, message, notice_id, attempts, now, outbox_rules,
                        DeliveryError(f"{type(error).__name__}: {error}", in_doubt=True))
            else:
                _finish(uow, notice_id, now, dict(state=NoticeState.SENT.value, sent_at=now,
                                                  transport_id=transport_id[:200], last_error=""), sent=True)
                summary.sent += 1
    return summary


def _failed(uow: UnitOfWork, summary: SendSummary, adapter: Adapter, message: Outgoing, notice_id: int,
            attempts: int, now: datetime, outbox_rules: OutboxRules, error: DeliveryError) -> None:
    state = rules_of.after_failure(attempts=attempts, rules=outbox_rules, permanent=error.permanent,
                                   in_doubt=error.in_doubt, resend_recognised=adapter.resend_recognised)
    reason = error.reason[:2000]
    values: dict = dict(state=state.value, last_error=reason)
    if state == NoticeState.QUEUED:
        values["next_attempt_at"] = _next_attempt(message.channel, now + rules_of.retry_delay(attempts, outbox_rules),
                                                  outbox_rules)
        summary.retrying += 1
    elif state == NoticeState.UNCONFIRMED:
        values["last_error"] = f"{NO_ANSWER_UNCONFIRMED} {reason}"[:2000]
        summary.unconfirmed += 1
    else:
        summary.failed += 1
    log.warning("notice %s attempt %d: %s → %s", message.key, attempts, reason, state.value)
    _finish(uow, notice_id, now, values, sent=False)


def run_sender(uow: UnitOfWork, *, clock: Callable[[], datetime], transport: Transports | None = None,
               interval: float = 30.0, stop: threading.Event | None = None,
               rounds: int | None = None) -> None:
    """Send what is due every `interval` seconds until `stop` is set (or `rounds` have run): the loop of
    `python -m portal notices send --loop` and of the app's background thread. `clock` reads the time
    where the caller may (the entry script, the CLI). A round that fails (the database away) is logged
    and the loop goes on."""
    stop = stop or threading.Event()
    transport = transport or configured_transports()
    done = 0
    while not stop.is_set():
        try:
            summary = send_due(uow, now=clock(), transport=transport)
            if summary.sent or summary.failed or summary.unconfirmed or summary.retrying:
                log.info("notices: %s", summary)
        except Exception:  # noqa: BLE001 - the loop outlives a database that is briefly unreachable
            log.exception("notices: sending round failed")
        done += 1
        if rounds is not None and done >= rounds:
            return
        stop.wait(interval)
