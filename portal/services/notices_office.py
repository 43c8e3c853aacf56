"""The outbox as the GM office sees it (通知发件箱, SPEC §11): the notices filtered, counted and paged in
SQL, and the two things a person may do — confirm that a 待确认 notice was in fact delivered (after
checking the gateway's or the mail server's records for its key), or send a failed or 待确认 notice again
(the same stored content under the same Message-ID). Each is audited on the case. A notice about a
request to the after-sales desk (issue 17) is listed with the request's number and applicant where a
complaint's would be, masked by the same table, and its confirmation or resend goes into the request's
history as well."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
from sqlalchemy import func, select

from portal.domain import notices as rules_of
from portal.domain.errors import ConcurrentChange, Message, NotFound, PermissionDenied, ValidationFailed
from portal.domain.notices import NoticeKind, NoticeState, OutboxRules
from portal.domain.privacy import FIELDS, mask_record, redact
from portal.domain.roles import Role
from portal.domain.validation import text_field
from portal.persistence.database import UnitOfWork
from portal.persistence.models import Complaint, Notice, RequestEvent, ServiceRequest, User
from portal.services import rules
from portal.services.actors import Actor, fresh_actor
from portal.services.audit import record_event

OUTBOX_PAGE = 50
COLUMNS = ("id", "key", "complaint_id", "request_id", "number", "customer_name", "kind", "channel", "recipient",
           "subject", "body", "state", "attempts", "next_attempt_at", "queued_at", "sent_at", "last_error",
           "transport_id")


def _require(actor: Actor) -> None:
    if not actor.has(Role.GM_OFFICE):
        raise PermissionDenied("auth.missing_role")


def clean_comment(value: object) -> str:
    """The note a person adds to a confirmation or a resend (what they checked): optional, one field."""
    errors: dict[str, Message] = {}
    text = text_field(errors, "comment", value, required=False, limit=500)
    if errors:
        raise ValidationFailed(errors)
    return text


@dataclass
class NoticePage:
    """One page of notices (the pager's shape: `frame`, `total`, `page`, `page_size`, `pages`)."""

    frame: pd.DataFrame
    total: int = 0
    page: int = 1
    page_size: int = OUTBOX_PAGE
    counts: dict[str, int] = field(default_factory=dict)       # every notice by state, unfiltered
    order: str = "outbox_newest"                                # how the pager describes the order

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def list_notices(uow: UnitOfWork, *, actor: Actor, state: str | tuple[str, ...] | None = None,
                 kind: str | None = None, channel: str | None = None, page: int = 1,
                 page_size: int = OUTBOX_PAGE) -> NoticePage:
    """The notices, newest first, with their case (or request: its number and applicant); filters
    (`state`: one or several) and paging in SQL. Unknown filter values match nothing rather than
    everything."""
    _require(actor)
    where = []
    if isinstance(state, (tuple, list)):
        where.append(Notice.state.in_([str(s) for s in state]))
    elif state:
        where.append(Notice.state == str(state))
    if kind:
        where.append(Notice.kind == str(kind))
    if channel:
        where.append(Notice.channel == str(channel))
    with uow.read() as session:
        counts = dict(session.execute(select(Notice.state, func.count()).group_by(Notice.state)).all())
        total = session.scalar(select(func.count()).select_from(Notice).where(*where)) or 0
        pages = max(1, -(-total // page_size))
        page = min(max(1, int(page)), pages)
        rows = session.execute(
            select(Notice.id, Notice.key, Notice.complaint_id, Notice.request_id,
                   func.coalesce(Complaint.number, ServiceRequest.number),
                   func.coalesce(Complaint.customer_name, ServiceRequest.contact_name), Notice.kind,
                   Notice.channel, Notice.recipient, Notice.subject, Notice.body, Notice.state, Notice.attempts,
                   Notice.next_attempt_at, Notice.queued_at, Notice.sent_at, Notice.last_error, Notice.transport_id)
            .outerjoin(Complaint, Complaint.id == Notice.complaint_id)
            .outerjoin(ServiceRequest, ServiceRequest.id == Notice.request_id).where(*where)
            .order_by(Notice.queued_at.desc(), Notice.id.desc()).limit(page_size).offset((page - 1) * page_size)).all()
        from portal.services.privacy import case_masker        # the masking table (issue 16)
        mask = case_masker(session, actor, [r.complaint_id for r in rows])
        mask_request = _request_masker(session, actor, [r.request_id for r in rows])
        records = [mask_request(r.request_id, mask(r.complaint_id, dict(zip(COLUMNS, tuple(r))))) for r in rows]
    frame = pd.DataFrame([tuple(r.values()) for r in records], columns=list(COLUMNS))
    return NoticePage(frame, int(total), page, page_size, {str(k): int(v) for k, v in counts.items()})


# A request's personal data, under the names of the complaint's columns the masking table governs.
_REQUEST_PERSONAL = {"customer_name": ServiceRequest.contact_name, "insured_name": ServiceRequest.insured_name,
                     "customer_phone": ServiceRequest.contact_phone,
                     "customer_id_number": ServiceRequest.contact_id_number,
                     "customer_address": ServiceRequest.contact_address, "policy_number": ServiceRequest.policy_number}


def _request_masker(session, actor: Actor, request_ids: list):  # noqa: ANN001, ANN202
    """`mask(request_id, record)`: a notice about a request with the applicant's data masked where the
    masking table masks it for the reader (no department owns a request: the reader's general rule)."""
    from portal.services.privacy import masking_table
    ids = {int(i) for i in request_ids if i is not None and i == i}
    shown = masking_table(session).shown_fields(actor.roles, on_own_case=False) if ids else frozenset(FIELDS)
    if shown == frozenset(FIELDS):
        return lambda request_id, record: record
    raw = {row[0]: dict(zip(_REQUEST_PERSONAL, row[1:])) for row in session.execute(
        select(ServiceRequest.id, *_REQUEST_PERSONAL.values()).where(ServiceRequest.id.in_(ids)))}

    def mask(request_id: int | None, record: dict) -> dict:
        if request_id is None or request_id != request_id or int(request_id) not in raw:
            return record
        values = raw[int(request_id)]
        return {k: redact(v, values, shown) for k, v in mask_record(record, shown).items()}

    return mask


def _on_request(session, notice: Notice, user: User, now: datetime, action: str, comment: str,  # noqa: ANN001
                changes: dict) -> None:
    """A request's notice confirmed or resent: also a line of the request's history."""
    request = session.get(ServiceRequest, notice.request_id) if notice.request_id is not None else None
    if request is not None:
        session.add(RequestEvent(request_id=request.id, actor_id=user.id, actor_label=user.username, at=now,
                                 action=action, from_state=request.state, to_state=request.state, comment=comment,
                                 changes=changes))


def _locked_notice(session, notice_id: int, allowed: tuple[NoticeState, ...]) -> Notice:  # noqa: ANN001
    notice = session.get(Notice, notice_id, with_for_update=True)
    if notice is None:
        raise NotFound("outbox.not_found")
    if notice.state not in {s.value for s in allowed}:
        raise ConcurrentChange("outbox.state_changed")
    return notice


def confirm_sent(uow: UnitOfWork, *, actor: Actor, notice_id: int, now: datetime, comment: str = "") -> None:
    """A 待确认 notice found delivered (the gateway's or server's records show its key): marked sent."""
    _require(actor)
    comment = clean_comment(comment)
    with uow.write() as session:
        user = fresh_actor(session, actor, Role.GM_OFFICE)
        notice = _locked_notice(session, notice_id, (NoticeState.UNCONFIRMED,))
        before = notice.state
        notice.state, notice.sent_at = NoticeState.SENT.value, now
        changes = {"notice": notice.key, "kind": notice.kind, "channel": notice.channel,
                   "state": [before, notice.state]}
        record_event(session, actor=user, at=now, action="notice_confirm_sent", complaint_id=notice.complaint_id,
                     comment=comment, changes=changes)
        _on_request(session, notice, user, now, "notice_confirm_sent", comment, changes)


def resend_notice(uow: UnitOfWork, *, actor: Actor, notice_id: int, now: datetime, comment: str = "") -> None:
    """A failed or 待确认 notice queued again, unchanged (same content, same Message-ID), with a fresh
    allowance of attempts; an SMS still waits for the end of quiet hours."""
    _require(actor)
    comment = clean_comment(comment)
    with uow.write() as session:
        user = fresh_actor(session, actor, Role.GM_OFFICE)
        notice = _locked_notice(session, notice_id, (NoticeState.FAILED, NoticeState.UNCONFIRMED))
        outbox_rules = OutboxRules.from_settings(rules.settings(session))
        before, attempts = notice.state, notice.attempts
        notice.state, notice.attempts, notice.claimed_at = NoticeState.QUEUED.value, 0, None
        notice.next_attempt_at = rules_of.quiet_until(now, outbox_rules.quiet_start, outbox_rules.quiet_end) \
            if notice.channel == "sms" else now
        changes = {"notice": notice.key, "kind": notice.kind, "channel": notice.channel,
                   "state": [before, notice.state], "attempts_before": attempts}
        record_event(session, actor=user, at=now, action="notice_resend", complaint_id=notice.complaint_id,
                     comment=comment, changes=changes)
        _on_request(session, notice, user, now, "notice_resend", comment, changes)


KINDS = tuple(k.value for k in NoticeKind)
STATES = tuple(s.value for s in NoticeState)
