"""Surrender (退保, 002 art.5) and endorsement (批改, art.6) requests: received with the policy's details and the
reason or the change asked for, guided (the materials and the insurer's address the customer was reminded of;
the 批改申请单 filled in with them), and finished — each against its own clock (a configurable target)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from portal.domain.aftersales import DeskClock, RequestKind, RequestState
from portal.domain.errors import DomainError, Message, ValidationFailed
from portal.domain.validation import text_field
from portal.persistence.database import UnitOfWork
from portal.services import desk_clocks
from portal.services.actors import Actor, fresh_actor
from portal.services.aftersales import (Registered, _choice, _log, _move, _new_request, _phone, _policy, _require,
                                        choices, locked_request, may_receive)

_CLOCK = {RequestKind.SURRENDER: DeskClock.SURRENDER, RequestKind.ENDORSEMENT: DeskClock.ENDORSEMENT}


@dataclass
class PolicyRequestForm:
    kind: str = RequestKind.SURRENDER.value
    policy_number: str = ""
    insured_name: str = ""
    channel: str | None = None
    requester_name: str = ""
    requester_phone: str = ""
    reason_code: str | None = None        # a surrender's reason (the configured list)
    reason_text: str = ""
    change_requested: str = ""            # an endorsement's change


def register_policy_request(uow: UnitOfWork, *, actor: Actor, form: PolicyRequestForm, now: datetime) -> Registered:
    """A surrender or endorsement request received: its clock starts."""
    _require(may_receive(actor))
    if form.kind not in (RequestKind.SURRENDER, RequestKind.ENDORSEMENT):
        raise DomainError("desk.unknown_kind")
    kind = RequestKind(form.kind)
    with uow.write() as session:
        user = fresh_actor(session, actor)
        errors: dict[str, Message] = {}
        number = text_field(errors, "policy_number", form.policy_number, limit=40, multiline=False)
        insured = text_field(errors, "insured_name", form.insured_name, limit=60, multiline=False)
        channel = _choice(errors, "channel", form.channel, choices(session, "channel"))
        name = text_field(errors, "requester_name", form.requester_name, limit=60, multiline=False)
        phone = _phone(errors, "requester_phone", form.requester_phone, required=True)
        reason = change = ""
        if kind is RequestKind.SURRENDER:
            reason = _choice(errors, "reason_code", form.reason_code, choices(session, "surrender_reason"))
            text = text_field(errors, "reason_text", form.reason_text, required=reason == "other", limit=1000)
        else:
            change = text_field(errors, "change_requested", form.change_requested, limit=2000)
            text = ""
        if errors:
            raise ValidationFailed(errors)
        policy = _policy(session, number)
        request = _new_request(session, kind, RequestState.RECEIVED, user=user, now=now,
                               policy_id=policy.id if policy else None, policy_number=number, insured_name=insured,
                               channel=channel, received_at=now, contact_name=name, contact_phone=phone,
                               reason_code=reason, reason_text=text, change_requested=change)
        desk_clocks.start(session, request, _CLOCK[kind], now)
        _log(session, request, user, now, "desk.register", None, changes={"reason": reason})
        return Registered(request.id, request.number, request.state)


def guide_request(uow: UnitOfWork, *, actor: Actor, request_id: int, expected_version: int, guidance: str,
                  insurer_address: str = "", now: datetime) -> None:
    """The customer guided: for a surrender, the materials to prepare and the insurer's address to take them
    to (art.5: the surrender itself is done at the insurer); for an endorsement, the 批改申请单 filled in."""
    _require(may_receive(actor))
    with uow.write() as session:
        user = fresh_actor(session, actor)
        request = locked_request(session, request_id, expected_version)
        errors: dict[str, Message] = {}
        guidance = text_field(errors, "guidance", guidance, limit=2000)
        address = text_field(errors, "insurer_address", insurer_address,
                             required=request.kind == RequestKind.SURRENDER, limit=200, multiline=False)
        if errors:
            raise ValidationFailed(errors)
        action = "guide_surrender" if request.kind == RequestKind.SURRENDER else "guide_endorsement"
        before = _move(request, action)
        request.guidance, request.insurer_address, request.guided_at = guidance, address, now
        _log(session, request, user, now, "desk.guided", before, comment=guidance)


def finish_request(uow: UnitOfWork, *, actor: Actor, request_id: int, expected_version: int, comment: str,
                   now: datetime) -> None:
    """The surrender or endorsement is done: its clock stops."""
    _require(may_receive(actor))
    with uow.write() as session:
        user = fresh_actor(session, actor)
        request = locked_request(session, request_id, expected_version)
        errors: dict[str, Message] = {}
        comment = text_field(errors, "comment", comment, required=False, limit=1000)
        if errors:
            raise ValidationFailed(errors)
        action = "finish_surrender" if request.kind == RequestKind.SURRENDER else "finish_endorsement"
        before = _move(request, action)
        request.done_at = now
        desk_clocks.stop(request, _CLOCK[RequestKind(request.kind)], now)
        _log(session, request, user, now, "desk.done", before, comment=comment)
