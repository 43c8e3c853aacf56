"""The after-sales service desk's use cases (售后服务, 002 ch.2, SPEC §12): a claim report registered and
checked against the policy register, refused in writing or taken in hand; scene preservation and the major
claim's report to headquarters; a claim application whose materials are checked (the customer told exactly
what is missing); its hand-over to the insurer by 运营部 within 3 working days and the insurer's decision;
surrender and endorsement requests guided and finished. Each: permission, one transaction, the request's
history."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain import aftersales as desk
from portal.domain.aftersales import (CheckFailure, CheckResult, ClaimLimit, DeskClock, LimitUnit, MajorClaimFacts,
                                      PolicyTerms, RequestKind, RequestState, TransitionRefused)
from portal.domain.errors import ConcurrentChange, DomainError, Message, NotFound, PermissionDenied, ValidationFailed
from portal.domain.roles import Role
from portal.domain.validation import MOBILE, amount_field, moment_field, text_field
from portal.persistence.counters import next_serial
from portal.persistence.database import UnitOfWork
from portal.persistence.models import (DeskChoice, DeskMaterial, Policy, PolicyRisk, Product, RequestContact,
                                       RequestEvent, ServiceRequest, User)
from portal.services import desk_clocks, rules
from portal.services.actors import Actor, fresh_actor

# 市场部's clerks receive the customer (4.(二), 4.(四), art.5-6); 运营部 hands over to the insurer (4.(五))
DESK_ROLES = (Role.INTAKE, Role.INTAKE_LEAD)
HANDOVER_DEPARTMENT = "operations"


def may_receive(actor: Actor) -> bool:
    return actor.has(*DESK_ROLES)


def may_hand_over(actor: Actor) -> bool:
    return actor.has(Role.HANDLER) and actor.department_code == HANDOVER_DEPARTMENT


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied("auth.missing_role")


# -- reading the register and the lists ----------------------------------------------------------------


def choices(session: Session, list_key: str) -> dict[str, DeskChoice]:
    return {c.code: c for c in session.scalars(select(DeskChoice).where(DeskChoice.list_key == list_key,
                                                                       DeskChoice.active)
                                               .order_by(DeskChoice.sort, DeskChoice.id))}


def checklists(session: Session) -> dict[str, list[str]]:
    """claim kind → its materials' codes, in the configured order (`basic` first)."""
    out: dict[str, list[str]] = {desk.BASIC_KIND: []}
    for row in session.scalars(select(DeskMaterial).where(DeskMaterial.active)
                               .order_by(DeskMaterial.claim_kind != desk.BASIC_KIND, DeskMaterial.claim_kind,
                                         DeskMaterial.sort, DeskMaterial.id)):
        out.setdefault(row.claim_kind, []).append(row.code)
    return out


def material_names(session: Session, lang: str = "zh") -> dict[str, str]:
    return {r.code: (r.name_zh if lang == "zh" else r.name_en) for r in session.scalars(select(DeskMaterial))}


def terms_of(session: Session, policy: Policy) -> PolicyTerms:
    product = session.get(Product, policy.product_id)
    limit = None
    if product is not None and product.claim_limit is not None and product.claim_limit_unit:
        limit = ClaimLimit(product.claim_limit, LimitUnit(product.claim_limit_unit))
    covered = frozenset(session.scalars(select(PolicyRisk.risk_code).where(PolicyRisk.policy_id == policy.id)))
    return PolicyTerms(policy.start_date, policy.end_date, covered, limit)


def _policy(session: Session, number: str) -> Policy | None:
    return session.scalar(select(Policy).where(Policy.policy_number == number)) if number else None


# -- the request row and its history ------------------------------------------------------------------


def _new_request(session: Session, kind: RequestKind, state: RequestState, *, user: User, now: datetime,
                 **values) -> ServiceRequest:  # noqa: ANN003
    period = desk.number_period(kind, now)
    request = ServiceRequest(kind=kind.value, state=state.value, registered_by_id=user.id,
                             number=desk.format_request_number(period, next_serial(session, period)), **values)
    session.add(request)
    session.flush()
    return request


def _log(session: Session, request: ServiceRequest, user: User | None, now: datetime, action: str,
         from_state: str | None, comment: str = "", changes: dict | None = None) -> None:
    session.add(RequestEvent(request_id=request.id, actor_id=user.id if user else None,
                             actor_label=user.username if user else "cli", at=now, action=action,
                             from_state=from_state, to_state=request.state, comment=comment,
                             changes=changes or {}))


def locked_request(session: Session, request_id: int, expected_version: int | None) -> ServiceRequest:
    """The request, locked for this transaction; a person's change passes the version they were shown."""
    request = session.get(ServiceRequest, request_id, with_for_update=True)
    if request is None:
        raise NotFound("desk.not_found")
    if expected_version is not None and request.version != expected_version:
        raise ConcurrentChange("case.changed_meanwhile")
    return request


def _move(request: ServiceRequest, action: str) -> str:
    """Apply the transition `action`; returns the state it left."""
    before = request.state
    try:
        request.state = desk.next_state(action, request.kind, request.state).value
    except TransitionRefused as refused:
        raise DomainError("desk.not_now", desk_state=refused.state) from refused
    return before


def _phone(errors: dict[str, Message], name: str, value: object, *, required: bool) -> str:
    text = text_field(errors, name, value, required=required, limit=30, multiline=False)
    if text and name not in errors and not MOBILE.match(text) and not text.replace("-", "").isdigit():
        errors[name] = Message("desk.bad_phone")
    return text


def _choice(errors: dict[str, Message], name: str, value: object, allowed: dict, *, required: bool = True) -> str:
    if value in (None, "") and not required:
        return ""
    if not isinstance(value, str) or value not in allowed:
        errors[name] = Message("form.choose_one" if value in (None, "") else "form.unknown_choice")
        return ""
    return value


def _choices(errors: dict[str, Message], name: str, values: object, allowed) -> list[str]:  # noqa: ANN001
    if not isinstance(values, (list, tuple, set, frozenset)) or not all(isinstance(v, str) for v in values):
        errors[name] = Message("form.unknown_choice")
        return []
    if any(v not in allowed for v in values):
        errors[name] = Message("form.unknown_choice")
        return []
    return list(dict.fromkeys(values))


# -- claim report (报案, 4.(二)) ----------------------------------------------------------------------


@dataclass
class ClaimReportForm:
    policy_number: str = ""
    insured_name: str = ""
    channel: str | None = None
    received_at: datetime | None = None
    event_at: datetime | None = None
    event_place: str = ""
    cause_code: str | None = None
    event_description: str = ""
    injury: str = ""
    measures_taken: str = ""
    present_condition: str = ""
    hospital: str = ""
    reporter_name: str = ""
    reporter_address: str = ""
    reporter_phone: str = ""
    reporter_relation: str | None = None
    insurer_report_number: str = ""
    deaths: int = 0
    estimated_amount: str = ""
    outcome_uncertain: bool = False
    disputes: list[str] = field(default_factory=list)
    litigation: bool = False


@dataclass(frozen=True)
class Registered:
    id: int
    number: str
    state: str
    check: CheckResult | None = None
    scene_needed: bool = False
    major_reasons: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()


def register_claim_report(uow: UnitOfWork, *, actor: Actor, form: ClaimReportForm, now: datetime) -> Registered:
    """报案登记: the report's facts, its preliminary check against the register (shown with its reasons; the
    clerk then refuses it in writing or takes it in hand), whether the scene is kept, and whether it is a
    major claim (its 24-hour report to headquarters starts)."""
    _require(may_receive(actor))
    with uow.write() as session:
        user = fresh_actor(session, actor)
        errors: dict[str, Message] = {}
        number = text_field(errors, "policy_number", form.policy_number, limit=40, multiline=False)
        insured = text_field(errors, "insured_name", form.insured_name, limit=60, multiline=False)
        channel = _choice(errors, "channel", form.channel, choices(session, "channel"))
        risks = choices(session, "risk")
        cause = _choice(errors, "cause_code", form.cause_code, risks)
        received = moment_field(errors, "received_at", form.received_at) if form.received_at else now
        event_at = moment_field(errors, "event_at", form.event_at)
        if form.event_at is None:
            errors["event_at"] = Message("form.required")
        elif event_at is not None and received is not None and event_at > received:
            errors["event_at"] = Message("desk.event_after_report")
        if received is not None and received > now:
            errors["received_at"] = Message("form.not_in_future")
        texts = {name: text_field(errors, name, getattr(form, name), required=name in ("event_place",
                                                                                      "event_description"),
                                  limit=limit, multiline=name == "event_description")
                 for name, limit in (("event_place", 200), ("event_description", 2000), ("injury", 200),
                                     ("measures_taken", 200), ("present_condition", 200), ("hospital", 100),
                                     ("insurer_report_number", 40))}
        reporter = text_field(errors, "reporter_name", form.reporter_name, limit=60, multiline=False)
        address = text_field(errors, "reporter_address", form.reporter_address, required=False, limit=200,
                             multiline=False)
        phone = _phone(errors, "reporter_phone", form.reporter_phone, required=True)
        relation = _choice(errors, "reporter_relation", form.reporter_relation, choices(session, "relation"))
        if not isinstance(form.deaths, int) or isinstance(form.deaths, bool) or not 0 <= form.deaths < 10_000:
            errors["deaths"] = Message("form.bad_value")
        estimated = amount_field(errors, "estimated_amount", form.estimated_amount)
        disputes = _choices(errors, "disputes", form.disputes, desk.DISPUTE_BODIES)
        for name in ("outcome_uncertain", "litigation"):
            if not isinstance(getattr(form, name), bool):
                errors[name] = Message("form.bad_value")
        if errors:
            raise ValidationFailed(errors)
        policy = _policy(session, number)
        check = desk.preliminary_check(terms_of(session, policy) if policy else None, event_at=event_at,
                                       cause=cause, reported_at=received)
        settings = rules.settings(session)
        scene = desk.needs_scene_preservation(cause=cause, event_at=event_at, reported_at=received,
                                              scene_risks=[c for c, r in risks.items() if r.keeps_scene],
                                              within_hours=int(settings["desk.scene_hours"]))
        major = desk.major_claim_reasons(
            MajorClaimFacts(deaths=form.deaths, estimated_amount=estimated,
                            sum_insured=policy.sum_insured if policy else None,
                            outcome_uncertain=form.outcome_uncertain, disputes=frozenset(disputes),
                            litigation=form.litigation), Decimal(settings["desk.major_threshold"]))
        request = _new_request(
            session, RequestKind.CLAIM_REPORT, RequestState.RECEIVED, user=user, now=now,
            policy_id=policy.id if policy else None, policy_number=number, insured_name=insured, channel=channel,
            received_at=received, event_at=event_at, cause_code=cause, contact_name=reporter,
            contact_address=address, contact_phone=phone, contact_relation=relation, deaths=form.deaths,
            estimated_amount=estimated, outcome_uncertain=form.outcome_uncertain, disputes=disputes,
            litigation=form.litigation, check_failures=[f.value for f in check.failures], scene_needed=scene,
            major_reasons=[r.value for r in major], **texts)
        if major:
            desk_clocks.start(session, request, DeskClock.MAJOR_REPORT, received)
        # the check as made: its reasons and the dates they name (a refusal quotes these, whatever the
        # register says later)
        _log(session, request, user, now, "desk.register", None,
             changes={"check": [f.value for f in check.failures], "scene": scene, "major": [r.value for r in major],
                      "period": [d.isoformat() for d in check.period] if check.period else None,
                      "last_claim_day": check.last_claim_day.isoformat() if check.last_claim_day else None})
        return Registered(request.id, request.number, request.state, check, scene, tuple(r.value for r in major))


def accept_report(uow: UnitOfWork, *, actor: Actor, request_id: int, expected_version: int, override: str = "",
                  now: datetime) -> None:
    """The report is in hand. One that failed the preliminary check is taken only with the clerk's reason
    for overriding it (kept on the report and in its history)."""
    _require(may_receive(actor))
    with uow.write() as session:
        user = fresh_actor(session, actor)
        request = locked_request(session, request_id, expected_version)
        errors: dict[str, Message] = {}
        reason = text_field(errors, "override", override, required=bool(request.check_failures), limit=1000)
        if errors:
            raise ValidationFailed(errors)
        before = _move(request, "accept_report")
        request.check_override = reason if request.check_failures else ""
        _log(session, request, user, now, "desk.accept_report", before, comment=request.check_override,
             changes={"overridden": request.check_failures or []})


def refuse_report(uow: UnitOfWork, *, actor: Actor, request_id: int, expected_version: int,
                  copies_archived: bool, originals_returned: bool, now: datetime) -> None:
    """不予受理 (4.(二)4): only a report that failed its check; the clerk records that the copies were
    archived and the originals returned to the customer. The written refusal lists each reason."""
    _require(may_receive(actor))
    with uow.write() as session:
        user = fresh_actor(session, actor)
        request = locked_request(session, request_id, expected_version)
        if not request.check_failures:
            raise DomainError("desk.nothing_to_refuse")
        errors = {name: Message("desk.must_confirm") for name, done in (("copies_archived", copies_archived),
                                                                        ("originals_returned", originals_returned))
                  if done is not True}
        if errors:
            raise ValidationFailed(errors)
        before = _move(request, "refuse_report")
        request.refused_at, request.copies_archived, request.originals_returned = now, True, True
        _log(session, request, user, now, "desk.refuse_report", before, changes={"reasons": request.check_failures})


def record_scene_preservation(uow: UnitOfWork, *, actor: Actor, request_id: int, expected_version: int,
                              reporter_told: bool, survey_requested: bool, now: datetime) -> None:
    """现场保全 (4.(二)5): the reporter told to preserve the scene; the insurer asked to survey it. Each is
    recorded with its time, once."""
    _require(may_receive(actor))
    with uow.write() as session:
        user = fresh_actor(session, actor)
        request = locked_request(session, request_id, expected_version)
        if request.kind != RequestKind.CLAIM_REPORT or not request.scene_needed:
            raise DomainError("desk.no_scene")
        if not (reporter_told or survey_requested):
            raise ValidationFailed({"reporter_told": Message("desk.must_confirm")})
        if reporter_told and request.scene_told_at is None:
            request.scene_told_at = now
        if survey_requested and request.survey_requested_at is None:
            request.survey_requested_at = now
        _log(session, request, user, now, "desk.scene", request.state,
             changes={"reporter_told": bool(reporter_told), "survey_requested": bool(survey_requested)})


def report_major_claim(uow: UnitOfWork, *, actor: Actor, request_id: int, expected_version: int, comment: str,
                       key_survey: bool, now: datetime) -> None:
    """The major claim reported to headquarters (within 24 hours, 4.(二)6), by 市场部; with `key_survey`
    the insurer is told the case needs a key survey (4.(三))."""
    _require(may_receive(actor))
    with uow.write() as session:
        user = fresh_actor(session, actor)
        request = locked_request(session, request_id, expected_version)
        if not request.major_reasons or request.major_reported_at is not None:
            raise DomainError("desk.not_major")
        errors: dict[str, Message] = {}
        comment = text_field(errors, "comment", comment, limit=1000)
        if errors:
            raise ValidationFailed(errors)
        request.major_reported_at = now
        if key_survey:
            request.key_survey_at = now
        desk_clocks.stop(request, DeskClock.MAJOR_REPORT, now)
        _log(session, request, user, now, "desk.major_reported", request.state, comment=comment,
             changes={"key_survey": bool(key_survey)})


CONTACT_CHANNELS = ("phone", "visit", "sms", "letter", "fax")


def tell_caller(uow: UnitOfWork, *, actor: Actor, request_id: int, channel: str, content: str,
                now: datetime) -> None:
    """A caller whose report (or request) is already in hand is told so, and how far it got: a contact row."""
    _require(may_receive(actor) or may_hand_over(actor))
    with uow.write() as session:
        user = fresh_actor(session, actor)
        request = session.get(ServiceRequest, request_id)
        if request is None:
            raise NotFound("desk.not_found")
        errors: dict[str, Message] = {}
        if channel not in CONTACT_CHANNELS:
            errors["channel"] = Message("form.choose_one" if not channel else "form.unknown_choice")
        content = text_field(errors, "content", content, limit=1000)
        if errors:
            raise ValidationFailed(errors)
        session.add(RequestContact(request_id=request.id, at=now, channel=channel, content=content, by_id=user.id))
        _log(session, request, user, now, "desk.caller_told", request.state, comment=content)


def record_insurer_report_number(uow: UnitOfWork, *, actor: Actor, request_id: int, expected_version: int,
                                 number: str, now: datetime) -> None:
    """The insurer's 报案号, recorded on a claim report when the insurer gives one (after registration too);
    a number already recorded is corrected only with the change in the history."""
    _require(may_receive(actor))
    with uow.write() as session:
        user = fresh_actor(session, actor)
        request = locked_request(session, request_id, expected_version)
        if request.kind != RequestKind.CLAIM_REPORT or request.state == RequestState.REFUSED:
            raise DomainError("desk.not_now", desk_state=request.state)
        errors: dict[str, Message] = {}
        number = text_field(errors, "insurer_report_number", number, limit=40, multiline=False)
        if errors:
            raise ValidationFailed(errors)
        before = request.insurer_report_number
        request.insurer_report_number = number
        _log(session, request, user, now, "desk.insurer_number", request.state,
             changes={"before": before, "after": number})
