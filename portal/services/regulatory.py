"""The regulator's clock (SPEC §4): extensions with the approval the regulation names and the
complainant told; outside appraisal or mediation stopping the clock; the complainant's review."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from portal.domain.errors import Message, TransitionNotAllowed, ValidationFailed
from portal.domain.lifecycle import Action
from portal.domain.regulatory import OUTSIDE_PROCESSES, TOLD_VIA, check_review_window, next_extension
from portal.persistence.database import UnitOfWork
from portal.persistence.models import AuthorityLevel
from portal.services.actors import Actor
from portal.services.handling import _event, _text
from portal.services.steps import case_step


def extend_regulatory_clock(uow: UnitOfWork, *, actor: Actor, complaint_id: int, reason: str,
                            told_via: str, expected_version: int, now: datetime) -> int:
    """Grant the next extension (to 30 days, then 30 more) and record that the complainant was told."""
    errors: dict[str, Message] = {}
    reason = _text(errors, "reason", reason)
    if not isinstance(told_via, str) or told_via not in TOLD_VIA:
        errors["told_via"] = Message("form.unknown_choice")
    with case_step(uow, actor, complaint_id, Action.EXTEND_REGULATORY, expected_version) as (session, user, complaint, source):
        if complaint.decision_told_at is not None:
            raise TransitionNotAllowed("regulatory.already_decided")
        number, days, level = next_extension(complaint.regulatory_extension_days)
        ranks = dict(session.execute(select(AuthorityLevel.key, AuthorityLevel.rank)).all())
        if ranks.get(user.approval_level or "", 0) < ranks[level]:
            raise TransitionNotAllowed("approval.beyond_authority", needed=level)
        if errors:
            raise ValidationFailed(errors)
        complaint.regulatory_extension_days += days
        _event(session, user, complaint, Action.EXTEND_REGULATORY, source, now, reason,
               {"extension": number, "days_added": days, "total_days": 15 + complaint.regulatory_extension_days,
                "customer_told_via": told_via})
        return 15 + complaint.regulatory_extension_days


def start_outside_process(uow: UnitOfWork, *, actor: Actor, complaint_id: int, kind: str, note: str,
                          expected_version: int, now: datetime) -> None:
    """Outside appraisal or mediation begins: its time does not count (art. 23)."""
    errors: dict[str, Message] = {}
    note = _text(errors, "note", note, required=False)
    if not isinstance(kind, str) or kind not in OUTSIDE_PROCESSES:
        errors["kind"] = Message("form.unknown_choice")
    if errors:
        raise ValidationFailed(errors)
    with case_step(uow, actor, complaint_id, Action.START_OUTSIDE, expected_version) as (session, user, complaint, source):
        if complaint.outside_process is not None:
            raise TransitionNotAllowed("regulatory.outside_running")
        complaint.outside_process, complaint.outside_since = kind, now
        _event(session, user, complaint, Action.START_OUTSIDE, source, now, note, {"kind": kind})


def end_outside_process(uow: UnitOfWork, *, actor: Actor, complaint_id: int, note: str,
                        expected_version: int, now: datetime) -> None:
    errors: dict[str, Message] = {}
    note = _text(errors, "note", note, required=False)
    if errors:
        raise ValidationFailed(errors)
    with case_step(uow, actor, complaint_id, Action.END_OUTSIDE, expected_version) as (session, user, complaint, source):
        if complaint.outside_process is None:
            raise TransitionNotAllowed("regulatory.outside_not_running")
        spent = max(int((now - complaint.outside_since).total_seconds()), 0)
        kind = complaint.outside_process
        complaint.outside_process, complaint.outside_since = None, None
        complaint.outside_seconds += spent
        _event(session, user, complaint, Action.END_OUTSIDE, source, now, note,
               {"kind": kind, "seconds": spent})


def request_review(uow: UnitOfWork, *, actor: Actor, complaint_id: int, reason: str,
                   expected_version: int, now: datetime) -> None:
    """The complainant asks for a review (核查) within 30 days of the decision; it opens its own
    30-day clock."""
    errors: dict[str, Message] = {}
    reason = _text(errors, "reason", reason)
    with case_step(uow, actor, complaint_id, Action.REQUEST_REVIEW, expected_version) as (session, user, complaint, source):
        check_review_window(complaint.decision_told_at, now)
        if complaint.review_requested_at is not None:
            raise TransitionNotAllowed("regulatory.review_already")
        if errors:
            raise ValidationFailed(errors)
        complaint.review_requested_at = now
        _event(session, user, complaint, Action.REQUEST_REVIEW, source, now, reason)


def decide_review(uow: UnitOfWork, *, actor: Actor, complaint_id: int, decision: str,
                  expected_version: int, now: datetime) -> None:
    errors: dict[str, Message] = {}
    decision = _text(errors, "review_decision", decision)
    with case_step(uow, actor, complaint_id, Action.DECIDE_REVIEW, expected_version) as (session, user, complaint, source):
        if complaint.review_requested_at is None or complaint.review_decided_at is not None:
            raise TransitionNotAllowed("regulatory.no_open_review")
        if errors:
            raise ValidationFailed(errors)
        complaint.review_decided_at, complaint.review_decision = now, decision
        _event(session, user, complaint, Action.DECIDE_REVIEW, source, now, decision)
