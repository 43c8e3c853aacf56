"""A claim application (理赔申请, 4.(四)) and its hand-over to the insurer (4.(五)): the applicant's right to
claim verified, the materials ticked against the checklist of the kinds of claim; an incomplete application
is not accepted — the customer is sent exactly what is missing and it waits — and a complete one starts the
3-working-day hand-over clock of 运营部; the insurer's decision, when it comes back, is recorded and told."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session

from portal.domain import aftersales as desk
from portal.domain.aftersales import DeskClock, RequestKind, RequestState
from portal.domain.errors import DomainError, Message, ValidationFailed
from portal.domain.validation import id_number_is_valid, text_field
from portal.persistence.database import UnitOfWork
from portal.persistence.models import RequestContact, ServiceRequest, User
from portal.services import desk_clocks, desk_notices
from portal.services.actors import Actor, fresh_actor
from portal.services.aftersales import (CONTACT_CHANNELS, Registered, _choice, _choices, _log, _move, _new_request,
                                        _phone, _policy, _require, checklists, choices, locked_request,
                                        material_names, may_hand_over, may_receive)


@dataclass
class ApplicationForm:
    report_id: int | None = None          # the report it follows, when there is one
    policy_number: str = ""               # else the policy it claims on
    insured_name: str = ""
    channel: str | None = None
    applicant_name: str = ""
    applicant_id_number: str = ""
    applicant_phone: str = ""
    applicant_address: str = ""
    applicant_relation: str | None = None
    right_verified: bool = False          # identity and relation to the insured checked (保险金请求权)
    claim_kinds: list[str] = field(default_factory=list)
    materials: list[str] = field(default_factory=list)


def _materials(session: Session, errors: dict[str, Message], kinds: object, received: object
               ) -> tuple[list[str], list[str], list[str]]:
    """(claim kinds, materials received, materials missing) as checked against the configured lists."""
    lists = checklists(session)
    kinds = _choices(errors, "claim_kinds", kinds, choices(session, "claim_kind"))
    required = desk.required_materials(lists, kinds)
    received = _choices(errors, "materials", received, {code for items in lists.values() for code in items})
    return kinds, [m for m in required if m in received], desk.missing_materials(required, received)


def _complete(session: Session, request: ServiceRequest, now: datetime) -> None:
    request.complete_at = now
    desk_clocks.start(session, request, DeskClock.HANDOVER, now)


def _tell_missing(session: Session, request: ServiceRequest, missing: list[str], now: datetime, user: User) -> None:
    names = material_names(session)
    desk_notices.queue_materials_notice(session, request=request, missing=[names.get(m, m) for m in missing],
                                        now=now, by=user)


def record_application(uow: UnitOfWork, *, actor: Actor, form: ApplicationForm, now: datetime) -> Registered:
    """受理理赔申请: recorded with the materials brought. Complete: accepted, and the hand-over clock starts.
    Incomplete: not accepted; the customer is sent the list of what is missing and the application waits."""
    _require(may_receive(actor))
    with uow.write() as session:
        user = fresh_actor(session, actor)
        errors: dict[str, Message] = {}
        report = None
        if form.report_id is not None:
            report = session.get(ServiceRequest, form.report_id)
            if report is None or report.kind != RequestKind.CLAIM_REPORT or report.state != RequestState.REPORTED:
                errors["report_id"] = Message("desk.report_not_in_hand")
        number = report.policy_number if report else text_field(errors, "policy_number", form.policy_number,
                                                                 limit=40, multiline=False)
        insured = report.insured_name if report else text_field(errors, "insured_name", form.insured_name,
                                                                 limit=60, multiline=False)
        channel = _choice(errors, "channel", form.channel, choices(session, "channel"))
        name = text_field(errors, "applicant_name", form.applicant_name, limit=60, multiline=False)
        id_number = text_field(errors, "applicant_id_number", form.applicant_id_number, limit=30, multiline=False)
        if id_number and not id_number_is_valid(id_number, now.date()):
            errors["applicant_id_number"] = Message("form.bad_id_number")
        phone = _phone(errors, "applicant_phone", form.applicant_phone, required=True)
        address = text_field(errors, "applicant_address", form.applicant_address, required=False, limit=200,
                             multiline=False)
        relation = _choice(errors, "applicant_relation", form.applicant_relation, choices(session, "relation"))
        if form.right_verified is not True:
            errors["right_verified"] = Message("desk.right_not_verified")
        kinds, received, missing = _materials(session, errors, form.claim_kinds, form.materials)
        if errors:
            raise ValidationFailed(errors)
        policy = _policy(session, number)
        request = _new_request(
            session, RequestKind.CLAIM_APPLICATION,
            RequestState.INCOMPLETE if missing else RequestState.COMPLETE, user=user, now=now,
            policy_id=policy.id if policy else None, policy_number=number, insured_name=insured, channel=channel,
            received_at=now, report_id=report.id if report else None, contact_name=name,
            contact_id_number=id_number, contact_phone=phone, contact_address=address, contact_relation=relation,
            right_verified=True, claim_kinds=kinds, materials_received=received)
        if missing:
            _tell_missing(session, request, missing, now, user)
        else:
            _complete(session, request, now)
        _log(session, request, user, now, "desk.application", None, changes={"missing": missing})
        return Registered(request.id, request.number, request.state, missing=tuple(missing))


def add_materials(uow: UnitOfWork, *, actor: Actor, request_id: int, expected_version: int, materials: list[str],
                  now: datetime) -> Registered:
    """More materials brought for a waiting application: complete — accepted, the hand-over clock starts;
    still incomplete — the customer is sent what is still missing when that changed."""
    _require(may_receive(actor))
    with uow.write() as session:
        user = fresh_actor(session, actor)
        request = locked_request(session, request_id, expected_version)
        if request.kind != RequestKind.CLAIM_APPLICATION or request.state != RequestState.INCOMPLETE:
            raise DomainError("desk.not_now", desk_state=request.state)
        if not isinstance(materials, list) or not materials:
            raise ValidationFailed({"materials": Message("form.required")})
        errors: dict[str, Message] = {}
        before_missing = _materials(session, {}, request.claim_kinds or [], request.materials_received or [])[2]
        _, received, missing = _materials(session, errors, request.claim_kinds or [],
                                          [*(request.materials_received or []), *materials])
        if errors:
            raise ValidationFailed({"materials": errors.get("materials", Message("form.unknown_choice"))})
        request.materials_received = received
        before = request.state
        if not missing:
            _move(request, "complete_application")
            _complete(session, request, now)
        elif missing != before_missing:
            _tell_missing(session, request, missing, now, user)
        _log(session, request, user, now, "desk.materials", before, changes={"missing": missing})
        return Registered(request.id, request.number, request.state, missing=tuple(missing))


def hand_over(uow: UnitOfWork, *, actor: Actor, request_id: int, expected_version: int, insurer: str,
              handed_on: date | None, items: list[str], receipt: str, now: datetime) -> None:
    """移交保险公司 (4.(五)): 运营部 hands the complete materials over; the insurer, the date, the items and the
    receipt (a reference or the attachment's name) are recorded and the hand-over clock stops."""
    _require(may_hand_over(actor))
    with uow.write() as session:
        user = fresh_actor(session, actor)
        request = locked_request(session, request_id, expected_version)
        errors: dict[str, Message] = {}
        insurer = text_field(errors, "insurer", insurer, limit=100, multiline=False)
        receipt = text_field(errors, "receipt", receipt, limit=200, multiline=False)
        if handed_on is None:
            errors["handed_on"] = Message("form.required")
        elif not isinstance(handed_on, date) or handed_on > now.date():
            errors["handed_on"] = Message("form.not_in_future")
        elif request.complete_at is not None and handed_on < request.complete_at.date():
            errors["handed_on"] = Message("desk.before_complete")
        items = _choices(errors, "items", items, set(request.materials_received or []))
        if not items and "items" not in errors:
            errors["items"] = Message("form.required")
        if errors:
            raise ValidationFailed(errors)
        before = _move(request, "hand_over")
        # handed over on an earlier day than it is recorded: the end of that day stops the clock
        at = now if handed_on == now.date() else datetime.combine(handed_on, datetime.max.time()).replace(microsecond=0)
        request.handed_over_at, request.handover_insurer = at, insurer
        request.handover_items, request.handover_receipt = items, receipt
        desk_clocks.stop(request, DeskClock.HANDOVER, at)
        _log(session, request, user, now, "desk.hand_over", before,
             changes={"insurer": insurer, "items": items, "receipt": receipt, "late": request.clock_late})


def record_insurer_decision(uow: UnitOfWork, *, actor: Actor, request_id: int, expected_version: int,
                            decision: str, told_channel: str, now: datetime) -> None:
    """The insurer's decision recorded and told to the customer (a contact row with the channel used)."""
    _require(may_hand_over(actor) or may_receive(actor))
    with uow.write() as session:
        user = fresh_actor(session, actor)
        request = locked_request(session, request_id, expected_version)
        errors: dict[str, Message] = {}
        decision = text_field(errors, "decision", decision, limit=2000)
        if told_channel not in CONTACT_CHANNELS:
            errors["told_channel"] = Message("form.choose_one" if not told_channel else "form.unknown_choice")
        if errors:
            raise ValidationFailed(errors)
        before = _move(request, "record_decision")
        request.insurer_decision, request.decided_at = decision, now
        session.add(RequestContact(request_id=request.id, at=now, channel=told_channel, content=decision,
                                   by_id=user.id))
        _log(session, request, user, now, "desk.decision", before, comment=decision)
