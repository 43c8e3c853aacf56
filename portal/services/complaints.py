"""Registering a complaint (intake) and accepting it (GM office): the first steps of SPEC §3."""
from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.domain import lifecycle
from portal.domain.errors import DomainError, Message, NotFound, PermissionDenied, TransitionNotAllowed, ValidationFailed
from portal.domain.lifecycle import Action, State
from portal.domain.numbering import format_number, period_of
from portal.domain.severity import effective_severity, major_reasons
from portal.domain.validation import (text_field, SEVERITIES, Attachment, RegistrationForm, clean_attachments, parse_amount,
                                      validate_registration)
from portal.persistence.counters import next_serial
from portal.persistence.database import UnitOfWork
from portal.persistence.models import (AttachmentRow, Category, Channel, ComplainedStaff, Complaint,
                                       ComplaintDepartment, Department, Event, User)
from portal.services import rules
from portal.services.actors import Actor, fresh_actor
from portal.services.audit import record_event
from portal.services.steps import case_step, locked_case


@dataclass(frozen=True)
class Registered:
    id: int
    severity: str
    major_reasons: list[str]


@dataclass(frozen=True)
class SimilarCase:
    id: int
    number: str | None
    customer_name: str
    received_at: datetime
    state: str
    matched: tuple[str, ...]        # which of phone / policy / ID number matched


@dataclass(frozen=True)
class RelatedReport:
    """A claim report (报案) of the service desk the complaint may concern: the one it names, or one on its policy."""
    id: int
    number: str
    state: str
    received_at: datetime
    matched: tuple[str, ...]        # claim_report_number / policy_number


class PossibleDuplicate(DomainError):
    """Complaints with the same phone, policy or ID number were registered recently (002 art.4:
    look for a repeat before registering), or the customer's claim reports are on record (the repeat
    lookup includes them, 002 ch.2 4.(二)3). Nothing was saved; the clerk links or confirms."""

    def __init__(self, cases: list[SimilarCase], days: int, reports: list[RelatedReport] | None = None) -> None:
        super().__init__("register.possible_duplicate", count=len(cases), days=days)
        self.cases = cases
        self.reports = reports or []


def _related_reports(session, form: RegistrationForm) -> list[RelatedReport]:  # noqa: ANN001
    """The claim reports the complaint names (our number or the insurer's 报案号) or that are on its policy:
    index reads only (the request's number, the policy's number, the request's policy)."""
    from portal.persistence.models import Policy, ServiceRequest
    r, named = ServiceRequest, (form.claim_report_number or "").strip()
    conditions = []
    if named:
        conditions.append(r.number == named.upper())
    if form.policy_number:
        conditions.append(r.policy_id.in_(select(Policy.id).where(Policy.policy_number == form.policy_number)))
    if not conditions:
        return []
    rows = session.execute(select(r.id, r.number, r.state, r.received_at, r.insurer_report_number, r.policy_number)
                           .where(r.kind == "claim_report", or_(*conditions))
                           .order_by(r.received_at.desc()).limit(10)).all()
    return [RelatedReport(row.id, row.number, row.state, row.received_at,
                          tuple(m for m, hit in (("claim_report_number", bool(named) and row.number == named.upper()),
                                                 ("policy_number", row.policy_number == form.policy_number)) if hit))
            for row in rows]


def _similar_cases(session, form: RegistrationForm, now: datetime, days: int) -> list[SimilarCase]:  # noqa: ANN001
    keys = {"customer_phone": form.customer_phone, "policy_number": form.policy_number,
            "customer_id_number": form.customer_id_number.upper()}
    keys = {k: v for k, v in keys.items() if v}
    if not keys:
        return []
    rows = session.execute(
        select(Complaint.id, Complaint.number, Complaint.customer_name, Complaint.received_at, Complaint.state,
               Complaint.customer_phone, Complaint.policy_number, Complaint.customer_id_number)
        .where(or_(*[getattr(Complaint, k) == v for k, v in keys.items()]),
               Complaint.created_at >= now - timedelta(days=days))
        .order_by(Complaint.created_at.desc()).limit(10)).all()
    return [SimilarCase(r.id, r.number, r.customer_name, r.received_at, r.state,
                        tuple(k for k, v in keys.items() if getattr(r, k) == v)) for r in rows]


def register_complaint(uow: UnitOfWork, *, actor: Actor, form: RegistrationForm,
                       attachments: list[Attachment], now: datetime,
                       original_id: int | None = None, confirmed_new: bool = True,
                       submission_token: str | None = None) -> Registered:
    """Intake registers a 客户抱怨处理表; it lands in the GM office queue (待受理). Unless
    `confirmed_new` (or linked to an original), a complaint with the same phone, policy or ID
    number registered within `register.duplicate_window_days` stops it with PossibleDuplicate.

    `submission_token` names one filled-in form: sent again (a double click, a retried request,
    concurrently or not) it returns the case it registered, and registers nothing more."""
    if submission_token is not None and (not isinstance(submission_token, str)
                                         or not 8 <= len(submission_token) <= 40):
        raise ValidationFailed({"form": Message("form.bad_value")})
    if submission_token:
        done = _already_registered(uow, actor, submission_token)
        if done is not None:
            return done
    try:
        return _register(uow, actor=actor, form=form, attachments=attachments, now=now, original_id=original_id,
                         confirmed_new=confirmed_new, submission_token=submission_token)
    except (IntegrityError, PossibleDuplicate):
        # the same form, saved meanwhile by its twin request: a case is never its own duplicate
        done = _already_registered(uow, actor, submission_token) if submission_token else None
        if done is None:
            raise
        return done


def _already_registered(uow: UnitOfWork, actor: Actor, token: str) -> Registered | None:
    with uow.read() as session:
        found = session.scalar(select(Complaint).where(Complaint.submission_token == token))
        if found is None:
            return None
        if found.receiving_clerk_id != actor.id:
            raise PermissionDenied("case.not_yours")
        reasons = session.scalar(select(Event.changes).where(Event.complaint_id == found.id,
                                                             Event.action == Action.REGISTER.value))
        return Registered(found.id, found.severity, list((reasons or {}).get("major_reasons", [])))


def _register(uow: UnitOfWork, *, actor: Actor, form: RegistrationForm, attachments: list[Attachment],
              now: datetime, original_id: int | None, confirmed_new: bool,
              submission_token: str | None) -> Registered:
    form, wrong = form.normalised()
    attachments, wrong_files = clean_attachments(attachments)
    with uow.write() as session:
        user = fresh_actor(session, actor)
        target = lifecycle.next_state(Action.REGISTER, None, actor.roles)
        values = rules.settings(session)
        ref = rules.reference_data(session)
        errors = validate_registration(
            form, now=now, channels={c.code for c in ref.channels},
            categories={c.code for c in ref.categories}, staff={s.code for s in ref.staff},
            attachments=attachments, limits=rules.attachment_limits(values))
        errors.update(wrong)
        if wrong_files:
            errors["attachments"] = wrong_files
        if errors:
            raise ValidationFailed(errors)
        if original_id is not None and (isinstance(original_id, bool) or not isinstance(original_id, int)
                                        or session.get(Complaint, original_id) is None):
            raise NotFound("case.not_found")
        if not confirmed_new and original_id is None:
            days = int(values.get("register.duplicate_window_days", "30"))
            similar = _similar_cases(session, form, now, days)
            reports = _related_reports(session, form)
            if similar or reports:      # names as the masking table shows them to the clerk (issue 16)
                from portal.services.privacy import case_masker
                mask = case_masker(session, actor, [c.id for c in similar])
                similar = [replace(c, customer_name=mask(c.id, {"customer_name": c.customer_name})["customer_name"])
                           for c in similar]
                raise PossibleDuplicate(similar, days, reports)
        amount = parse_amount(form.amount_at_stake)
        reasons = major_reasons(media=form.flag_media, regulator=form.flag_regulator,
                                litigation=form.flag_litigation, deaths=form.flag_deaths,
                                association=form.flag_association, amount=amount,
                                joint_complainants=form.joint_complainants,
                                thresholds=rules.major_thresholds(values))
        severity = effective_severity(form.severity, reasons)
        complaint = Complaint(
            state=target.value,
            customer_name=form.customer_name, customer_gender=form.customer_gender,
            customer_age_band=form.customer_age_band, customer_occupation=form.customer_occupation,
            customer_phone=form.customer_phone, customer_id_number=form.customer_id_number.upper(),
            customer_address=form.customer_address, customer_email=form.customer_email,
            policy_number=form.policy_number, product=form.product, insured_name=form.insured_name,
            claim_report_number=form.claim_report_number,
            channel_id=_id_of(session, Channel, form.channel),
            category_id=_id_of(session, Category, form.category),
            description=form.description, product_involved=form.product_involved,
            expected_resolution=form.expected_resolution,
            complained_staff_other=form.complained_staff_other, clerk_opinion=form.clerk_opinion,
            severity=severity, urgency=form.urgency, flag_media=form.flag_media,
            flag_regulator=form.flag_regulator, flag_litigation=form.flag_litigation,
            flag_deaths=form.flag_deaths, flag_association=form.flag_association,
            amount_at_stake=amount, joint_complainants=form.joint_complainants,
            receiving_clerk_id=user.id, received_at=form.received_at, created_at=now,
            major_flagged_at=now if reasons else None, original_id=original_id,
            submission_token=submission_token or None,
            preferred_contact=form.preferred_contact, optional_notices=form.optional_notices,
        )
        for username in form.complained_staff:
            staff_id = session.scalar(select(User.id).where(User.username == username))
            complaint.staff_links.append(ComplainedStaff(user_id=staff_id))
        session.add(complaint)
        session.flush()
        for item in attachments:
            session.add(attachment_row(complaint.id, item, user.id, now))
        changes = asdict(form)
        changes.update(severity=severity, major_reasons=reasons, original_id=original_id,
                       attachments=[a.filename for a in attachments])
        record_event(session, actor=user, at=now, action=Action.REGISTER.value,
                     complaint_id=complaint.id, to_state=target.value, changes=changes)
        # The acknowledgement to the customer is due from receipt (000 §6: within 24 hours): queued with
        # the registration, sent by the outbox, logged by it as the acknowledgement contact.
        from portal.services.notices_outbox import queue_notice
        queue_notice(session, complaint=complaint, kind="acknowledgement", now=now, by=user)
        return Registered(complaint.id, severity, reasons)


REPEATABLE = (State.AWAITING_REVIEW, State.AWAITING_CLOSURE, State.CLOSED, State.ARCHIVED)


def register_repeat(uow: UnitOfWork, *, actor: Actor, original_id: int, description: str,
                    expected_resolution: str, now: datetime, clerk_opinion: str = "") -> Registered:
    """The customer does not accept the conclusion (002 art.13.8): a new form, linked to the
    original, which keeps its own record. Customer and policy are carried over; the clerk signs the
    new form with their own 签注意见 (the original's when none is given)."""
    with uow.read() as session:
        original = session.get(Complaint, original_id)
        if original is None:
            raise NotFound("case.not_found")
        if State(original.state) not in REPEATABLE or original.negotiation_result != "rejected":
            raise TransitionNotAllowed("repeat.not_rejected")
        form = RegistrationForm(
            customer_name=original.customer_name, customer_gender=original.customer_gender,
            customer_age_band=original.customer_age_band, customer_occupation=original.customer_occupation,
            customer_phone=original.customer_phone, customer_id_number=original.customer_id_number,
            customer_address=original.customer_address, customer_email=original.customer_email,
            policy_number=original.policy_number, product=original.product,
            insured_name=original.insured_name, claim_report_number=original.claim_report_number,
            received_at=now, channel=session.get(Channel, original.channel_id).code,
            category=session.get(Category, original.category_id).code, description=description,
            product_involved=original.product_involved, expected_resolution=expected_resolution,
            complained_staff=[session.get(User, link.user_id).username for link in original.staff_links],
            complained_staff_other=original.complained_staff_other, severity=original.severity,
            urgency=original.urgency, flag_media=original.flag_media,
            flag_regulator=original.flag_regulator, flag_litigation=original.flag_litigation,
            flag_deaths=original.flag_deaths, flag_association=original.flag_association,
            clerk_opinion=clerk_opinion if isinstance(clerk_opinion, str) and clerk_opinion.strip()
            else original.clerk_opinion,
            amount_at_stake=original.amount_at_stake, joint_complainants=original.joint_complainants,
            preferred_contact=original.preferred_contact, optional_notices=original.optional_notices)
    return register_complaint(uow, actor=actor, form=form, attachments=[], now=now, original_id=original_id)


@dataclass(frozen=True)
class Accepted:
    number: str
    severity: str
    departments: list[str]


def accept_complaint(uow: UnitOfWork, *, actor: Actor, complaint_id: int, category: str,
                     severity: str, departments: list[str], flag_media: bool = False,
                     flag_regulator: bool = False, flag_litigation: bool = False,
                     flag_deaths: bool = False, flag_association: bool = False,
                     comment: str = "", now: datetime) -> Accepted:
    """GM office accepts (受理): confirms category and severity, numbers the case, routes it."""
    with uow.write() as session:
        user = fresh_actor(session, actor)
        complaint = locked_case(session, complaint_id)
        source = State(complaint.state)
        target = lifecycle.next_state(Action.ACCEPT, source, actor.roles)
        errors: dict[str, Message] = {}
        category_id = session.scalar(select(Category.id).where(Category.code == category, Category.active)) \
            if isinstance(category, str) else None
        if category_id is None:
            errors["category"] = Message("form.unknown_choice")
        if not isinstance(severity, str) or severity not in SEVERITIES:
            errors["severity"] = Message("form.unknown_choice")
        if not isinstance(departments, (list, tuple)) or not all(isinstance(d, str) for d in departments):
            departments = None
        codes = list(dict.fromkeys(departments or []))
        routed = session.scalars(select(Department).where(
            Department.code.in_(codes), Department.active, Department.investigates)).all()
        if departments is None:
            errors["departments"] = Message("form.unknown_choice")
        elif not codes:
            errors["departments"] = Message("accept.no_department")
        elif len(routed) != len(codes):
            errors["departments"] = Message("form.unknown_choice")
        for name, flag in (("flag_media", flag_media), ("flag_regulator", flag_regulator),
                           ("flag_litigation", flag_litigation), ("flag_deaths", flag_deaths),
                           ("flag_association", flag_association)):
            if not isinstance(flag, bool):
                errors[name] = Message("form.bad_value")
        comment = text_field(errors, "comment", comment, required=False, limit=1000)
        if errors:
            raise ValidationFailed(errors)
        values = rules.settings(session)
        complaint.flag_media = complaint.flag_media or flag_media
        complaint.flag_regulator = complaint.flag_regulator or flag_regulator
        complaint.flag_litigation = complaint.flag_litigation or flag_litigation
        complaint.flag_deaths = complaint.flag_deaths or flag_deaths
        complaint.flag_association = complaint.flag_association or flag_association
        reasons = major_reasons(media=complaint.flag_media, regulator=complaint.flag_regulator,
                                litigation=complaint.flag_litigation, deaths=complaint.flag_deaths,
                                association=complaint.flag_association,
                                amount=complaint.amount_at_stake,
                                joint_complainants=complaint.joint_complainants,
                                thresholds=rules.major_thresholds(values))
        before = {"category_id": complaint.category_id, "severity": complaint.severity}
        complaint.severity = effective_severity(severity, reasons)
        if complaint.severity == "major" and complaint.major_flagged_at is None:
            complaint.major_flagged_at = now
        complaint.category_id = category_id
        complaint.number = format_number(period_of(now), next_serial(session, period_of(now)))
        complaint.state = target.value
        complaint.accepted_at = now
        complaint.accepted_by_id = user.id
        for department in sorted(routed, key=lambda d: d.sort):
            complaint.departments.append(ComplaintDepartment(department_id=department.id, routed_at=now))
        record_event(session, actor=user, at=now, action=Action.ACCEPT.value,
                     complaint_id=complaint.id, from_state=source.value, to_state=target.value,
                     comment=comment,
                     changes={"number": complaint.number, "category": category,
                              "severity": complaint.severity, "major_reasons": reasons,
                              "departments": [d.code for d in routed], "before": before})
        return Accepted(complaint.number, complaint.severity, [d.code for d in routed])


def report_major_case(uow: UnitOfWork, *, actor: Actor, complaint_id: int, comment: str,
                      now: datetime) -> None:
    """The GM office records that a major case was reported upward (stops the 24-hour clock)."""
    errors: dict[str, Message] = {}
    comment = text_field(errors, "comment", comment, limit=2000)
    with case_step(uow, actor, complaint_id, Action.REPORT_MAJOR, None, appends=True) as (session, user, complaint, state):
        if complaint.severity != "major":
            raise TransitionNotAllowed("major.not_major")
        if complaint.major_reported_at is not None:
            raise TransitionNotAllowed("major.already_reported")
        if errors:
            raise ValidationFailed(errors)
        complaint.major_reported_at = now
        record_event(session, actor=user, at=now, action=Action.REPORT_MAJOR.value,
                     complaint_id=complaint.id, from_state=state.value, to_state=state.value,
                     comment=comment)


def _id_of(session: Session, model, code: str) -> int:  # noqa: ANN001
    return session.scalar(select(model.id).where(model.code == code))


def attachment_row(complaint_id: int, item: Attachment, user_id: int, now: datetime) -> AttachmentRow:
    content_type = item.content_type or mimetypes.guess_type(item.filename)[0] or "application/octet-stream"
    return AttachmentRow(complaint_id=complaint_id, filename=item.filename[:200],
                         content_type=content_type[:100], size=len(item.data),
                         sha256=hashlib.sha256(item.data).hexdigest(), data=item.data,
                         uploaded_by_id=user_id, uploaded_at=now)
