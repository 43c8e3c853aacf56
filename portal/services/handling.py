"""The handling process after acceptance (SPEC §3, §5, §6; 002 art.13): department investigation,
consolidation, approval by authority, negotiation with the customer, closure, follow-up, holds.

Every function: checks the actor and the case's state against the lifecycle table, refuses a
stale form (`expected_version`), changes the case, writes one audit event — in one transaction.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from portal.domain import lifecycle
from portal.domain.authority import AuthorityLevel, check_authority, required_level
from portal.domain.contacts import ContactChannel, ContactStep
from portal.domain.errors import Message, TransitionNotAllowed, ValidationFailed
from portal.domain.four_eyes import Decision as FourEyes
from portal.domain.lifecycle import Action, State
from portal.domain.recusal import check_not_named
from portal.domain.regulatory import Decision, normalise_decision
from portal.domain.satisfaction import Survey, dissatisfied, validate_survey
from portal.domain.validation import Attachment, amount_field, choice_message, clean_attachments, text_field, validate_attachments
from portal.persistence.models import (AuthorityLevel as AuthorityRow, Complaint, ComplaintDepartment,
                                       Department, FollowUp, PenaltyStandard, ResponsibilityShare, User)
from portal.persistence.database import UnitOfWork
from portal.services import rules
from portal.services.actors import Actor
from portal.services.audit import record_event
from portal.services.complaints import attachment_row
from portal.services.closing import check_cause
from portal.services.follow_ups import act_on_follow_up, schedule_follow_up  # noqa: F401 (the follow-up's steps)
from portal.services.contacts import log_contact
from portal.services.eligibility import check_decision, is_gm, pending_analysis
from portal.services.steps import case_step

FINDINGS = ("company_fault", "misunderstanding", "other_company", "undetermined")
# How the decision was told → the contact log's channel (a letter, or an e-mail carrying it, or a call)
DECISION_CHANNEL = {"written": ContactChannel.LETTER, "email": ContactChannel.EMAIL, "phone": ContactChannel.PHONE,
                    "sms": ContactChannel.SMS}
NEGOTIATION_RESULTS = ("accepted", "partly", "rejected")
TEXT_LIMIT = 4000


def _staff_ids(complaint: Complaint) -> list[int]:
    return [link.user_id for link in complaint.staff_links]


def _my_routing(complaint: Complaint, user: User) -> ComplaintDepartment:
    """A handler works only on cases routed to their own department."""
    for routing in complaint.departments:
        if routing.department_id == user.department_id:
            return routing
    raise TransitionNotAllowed("case.not_yours")


def _text(errors: dict[str, Message], name: str, value: object, required: bool = True) -> str:
    return text_field(errors, name, value, required=required, limit=TEXT_LIMIT)


def _amount(errors: dict[str, Message], name: str, value: object) -> Decimal | None:
    return amount_field(errors, name, value)


def _touch(complaint: Complaint) -> None:
    """Changing only a related row must still move the case's version (optimistic locking)."""
    flag_modified(complaint, "state")


def _event(session: Session, user: User, complaint: Complaint, action: Action, source: State,
           now: datetime, comment: str = "", changes: dict | None = None) -> None:
    record_event(session, actor=user, at=now, action=action.value, complaint_id=complaint.id,
                 from_state=source.value, to_state=complaint.state, comment=comment, changes=changes)


# -- department handling (部门处理) --

def record_initial_plan(uow: UnitOfWork, *, actor: Actor, complaint_id: int, plan: str,
                        expected_version: int, now: datetime) -> None:
    """A department's first plan; the first one stops the case's 48-hour clock."""
    errors: dict[str, Message] = {}
    plan = _text(errors, "initial_plan", plan)
    with case_step(uow, actor, complaint_id, Action.RECORD_INITIAL_PLAN, expected_version) as (session, user, complaint, source):
        routing = _my_routing(complaint, user)
        check_not_named(user.id, _staff_ids(complaint))
        if errors:
            raise ValidationFailed(errors)
        routing.initial_plan, routing.initial_plan_at = plan, now
        complaint.initial_plan_at = complaint.initial_plan_at or now
        _touch(complaint)
        _event(session, user, complaint, Action.RECORD_INITIAL_PLAN, source, now,
               changes={"department": routing.department.code, "initial_plan": plan})


def request_technical_analysis(uow: UnitOfWork, *, actor: Actor, complaint_id: int, reason: str,
                               expected_version: int, now: datetime) -> None:
    """The GM office routes the case to 技术部 as well (002 art.13.3): during the investigation, or when
    the reports show a technical cause; the case then investigates until 技术部 has reported too."""
    errors: dict[str, Message] = {}
    reason = _text(errors, "reason", reason)
    with case_step(uow, actor, complaint_id, Action.REQUEST_TECHNICAL_ANALYSIS, expected_version) as (session, user, complaint, source):
        target = lifecycle.next_state(Action.REQUEST_TECHNICAL_ANALYSIS, source, actor.roles)
        if errors:
            raise ValidationFailed(errors)
        technical = session.scalar(select(Department).where(Department.code == "technical"))
        if technical is None or any(r.department_id == technical.id for r in complaint.departments):
            raise TransitionNotAllowed("handling.technical_already")
        complaint.departments.append(ComplaintDepartment(department_id=technical.id, routed_at=now))
        complaint.state = target.value
        if source is not State.INVESTIGATING:     # the investigation is not done after all
            complaint.investigation_done_at = complaint.reported_to_gm_at = None
        _touch(complaint)
        _event(session, user, complaint, Action.REQUEST_TECHNICAL_ANALYSIS, source, now, reason,
               {"added_department": "technical"})


@dataclass
class InvestigationReport:
    evidence: str = ""
    cause: str = ""
    finding: str = ""
    responsible_unit: str = ""
    responsible_persons: str = ""
    measures: str = ""
    proposed_amount: str | Decimal | None = None
    cause_code: str | None = None       # an active sub-cause of the taxonomy (`cause_classes`), beside `cause`


def submit_report(uow: UnitOfWork, *, actor: Actor, complaint_id: int, report: InvestigationReport,
                  attachments: list[Attachment] | None = None, expected_version: int,
                  now: datetime) -> State:
    """A department's investigation report (调查报告) with its evidence files; the last one moves
    the case to 待汇总."""
    attachments = attachments or []
    errors: dict[str, Message] = {}
    evidence = _text(errors, "evidence", report.evidence)
    cause = _text(errors, "cause", report.cause)
    measures = _text(errors, "measures", report.measures)
    unit = text_field(errors, "responsible_unit", report.responsible_unit, required=False, limit=100, multiline=False)
    persons = text_field(errors, "responsible_persons", report.responsible_persons, required=False, limit=200,
                         multiline=False)
    if report.finding not in FINDINGS:
        errors["finding"] = choice_message(report.finding)
    amount = _amount(errors, "proposed_amount", report.proposed_amount)
    with case_step(uow, actor, complaint_id, Action.SUBMIT_REPORT, expected_version) as (session, user, complaint, source):
        routing = _my_routing(complaint, user)
        check_not_named(user.id, _staff_ids(complaint))
        if routing.report_submitted_at is not None:
            raise TransitionNotAllowed("handling.report_already")
        check_cause(session, errors, "cause_code", report.cause_code)
        attachments, file_error = clean_attachments(attachments)
        file_error = file_error or validate_attachments(attachments, rules.attachment_limits(rules.settings(session)))
        if file_error:
            errors["attachments"] = file_error
        if errors:
            raise ValidationFailed(errors)
        for item in attachments:
            session.add(attachment_row(complaint.id, item, user.id, now))
        routing.evidence, routing.cause, routing.finding = evidence, cause, report.finding
        routing.cause_code = report.cause_code
        routing.responsible_unit, routing.responsible_persons = unit, persons
        routing.measures, routing.proposed_amount = measures, amount
        routing.report_submitted_at = now
        routing.initial_plan_at = routing.initial_plan_at or now
        complaint.initial_plan_at = complaint.initial_plan_at or now
        remaining = sum(1 for r in complaint.departments if r.report_submitted_at is None)
        target = lifecycle.after_report(remaining)
        complaint.state = target.value
        if target is State.AWAITING_REPORT:
            complaint.investigation_done_at = now
        _touch(complaint)
        _event(session, user, complaint, Action.SUBMIT_REPORT, source, now,
               changes={"department": routing.department.code, "evidence": evidence, "cause": cause,
                        "cause_code": report.cause_code,
                        "finding": report.finding, "measures": measures, "responsible_unit": unit,
                        "responsible_persons": persons, "proposed_amount": amount, "remaining_departments": remaining,
                        "attachments": [a.filename for a in attachments]})
        return target


def report_to_gm(uow: UnitOfWork, *, actor: Actor, complaint_id: int, report: str,
                 expected_version: int, now: datetime) -> State:
    """The investigation report (002 art.13.2: within 3 days of the investigation), by a handler of a
    department the case was routed to, to the general manager for 批示 (then the GM office
    consolidates); straight to the GM office if an administrator switched the 批示 off."""
    errors: dict[str, Message] = {}
    report = _text(errors, "gm_report", report)
    with case_step(uow, actor, complaint_id, Action.REPORT_TO_GM, expected_version) as (session, user, complaint, source):
        target = lifecycle.after_gm_report(rules.settings(session).get("process.gm_instructs_report", "1") != "0")
        _my_routing(complaint, user)
        check_not_named(user.id, _staff_ids(complaint))
        if errors:
            raise ValidationFailed(errors)
        complaint.gm_report, complaint.reported_to_gm_at = report, now
        complaint.state = target.value
        _event(session, user, complaint, Action.REPORT_TO_GM, source, now, report)
        return target


def instruct_report(uow: UnitOfWork, *, actor: Actor, complaint_id: int, instruction: str,
                    expected_version: int, now: datetime) -> None:
    """The general manager's 批示 on the investigation report (002 art.13.2); the GM office may then
    consolidate. Only an approver at the GM's level, never on a report they wrote."""
    errors: dict[str, Message] = {}
    instruction = _text(errors, "instruction", instruction)
    with case_step(uow, actor, complaint_id, Action.INSTRUCT_REPORT, expected_version) as (session, user, complaint, source):
        target = lifecycle.next_state(Action.INSTRUCT_REPORT, source, actor.roles)
        if not is_gm(session, user.approval_level):
            raise TransitionNotAllowed("instruct.gm_only")
        check_decision(session, user, complaint, FourEyes.INSTRUCT_REPORT)
        if errors:
            raise ValidationFailed(errors)
        complaint.gm_instruction, complaint.gm_instructed_at, complaint.gm_instructed_by_id = instruction, now, user.id
        complaint.state = target.value
        _event(session, user, complaint, Action.INSTRUCT_REPORT, source, now, instruction)


def instruct_analysis(uow: UnitOfWork, *, actor: Actor, complaint_id: int, instruction: str,
                      expected_version: int, now: datetime) -> None:
    """A department lead's 批示 on their department's analysis (技术部, 002 art.13.3: 送经理室批示),
    required before the GM office consolidates; never by the lead who wrote the analysis."""
    errors: dict[str, Message] = {}
    instruction = _text(errors, "instruction", instruction)
    with case_step(uow, actor, complaint_id, Action.INSTRUCT_ANALYSIS, expected_version) as (session, user, complaint, source):
        routing = _my_routing(complaint, user)
        if routing not in pending_analysis(complaint):
            raise TransitionNotAllowed("instruct.nothing_to_instruct")
        check_decision(session, user, complaint, FourEyes.INSTRUCT_ANALYSIS, routing.department.code)
        if errors:
            raise ValidationFailed(errors)
        routing.lead_instruction, routing.lead_instructed_at = instruction, now
        routing.lead_instructed_by_id = user.id
        _touch(complaint)
        _event(session, user, complaint, Action.INSTRUCT_ANALYSIS, source, now, instruction,
               {"department": routing.department.code})


# -- GM office: consolidation and routing for approval (综合意见) --

def _levels(session: Session) -> list[AuthorityLevel]:
    return [AuthorityLevel(r.key, r.rank, r.max_amount, r.covers_major)
            for r in session.scalars(select(AuthorityRow))]


def consolidate(uow: UnitOfWork, *, actor: Actor, complaint_id: int, opinion: str,
                proposed_amount: str | Decimal | None, expected_version: int,
                now: datetime) -> str:
    """The consolidated opinion over all reports, routed to the approver level that covers it."""
    errors: dict[str, Message] = {}
    opinion = _text(errors, "opinion", opinion)
    amount = _amount(errors, "proposed_amount", proposed_amount)
    with case_step(uow, actor, complaint_id, Action.CONSOLIDATE, expected_version) as (session, user, complaint, source):
        target = lifecycle.next_state(Action.CONSOLIDATE, source, actor.roles)
        waiting = pending_analysis(complaint)
        if waiting:
            raise TransitionNotAllowed("handling.analysis_not_instructed", department=waiting[0].department.code)
        if errors:
            raise ValidationFailed(errors)
        level = required_level(amount, complaint.severity, _levels(session))
        complaint.consolidated_opinion, complaint.proposed_amount = opinion, amount
        complaint.required_level, complaint.state = level.key, target.value
        _event(session, user, complaint, Action.CONSOLIDATE, source, now, opinion,
               {"proposed_amount": amount, "required_level": level.key})
        return level.key


# -- approval by authority (核决) --

def approve(uow: UnitOfWork, *, actor: Actor, complaint_id: int, instructions: str,
            amount_limit: str | Decimal | None, expected_version: int,
            now: datetime) -> None:
    errors: dict[str, Message] = {}
    instructions = _text(errors, "instructions", instructions)
    limit = _amount(errors, "amount_limit", amount_limit)
    with case_step(uow, actor, complaint_id, Action.APPROVE, expected_version) as (session, user, complaint, source):
        target = lifecycle.next_state(Action.APPROVE, source, actor.roles)
        check_authority(user.approval_level, complaint.required_level, _levels(session))
        check_decision(session, user, complaint, FourEyes.APPROVE)
        if limit is not None:
            levels = _levels(session)
            ranks = {l.key: l.rank for l in levels}
            if required_level(limit, complaint.severity, levels).rank > ranks.get(user.approval_level, 0):
                errors["amount_limit"] = Message("approval.limit_beyond_authority")
        if errors:
            raise ValidationFailed(errors)
        complaint.approval_instructions, complaint.amount_limit = instructions, limit
        complaint.approved_by_id, complaint.state = user.id, target.value
        _event(session, user, complaint, Action.APPROVE, source, now, instructions,
               {"amount_limit": limit, "level": user.approval_level})


def send_back(uow: UnitOfWork, *, actor: Actor, complaint_id: int, reason: str,
              expected_version: int, now: datetime) -> None:
    errors: dict[str, Message] = {}
    reason = _text(errors, "reason", reason)
    with case_step(uow, actor, complaint_id, Action.SEND_BACK, expected_version) as (session, user, complaint, source):
        target = lifecycle.next_state(Action.SEND_BACK, source, actor.roles)
        check_authority(user.approval_level, complaint.required_level, _levels(session))
        check_decision(session, user, complaint, FourEyes.APPROVE)
        if errors:
            raise ValidationFailed(errors)
        complaint.state = target.value
        _event(session, user, complaint, Action.SEND_BACK, source, now, reason)


# -- negotiation with the customer (交涉) and supervisor review (核阅) --

def record_negotiation(uow: UnitOfWork, *, actor: Actor, complaint_id: int, result: str, note: str,
                       agreed_amount: str | Decimal | None, decision: Decision,
                       expected_version: int, now: datetime) -> None:
    """What the customer said to the approved instructions; never beyond the approved limit. The
    decision told to them states what the regulator requires and how it was told (art. 19, 21)."""
    decision, errors = normalise_decision(decision)
    note = _text(errors, "note", note)
    amount = _amount(errors, "agreed_amount", agreed_amount)
    if result not in NEGOTIATION_RESULTS:
        errors["result"] = choice_message(result)
    with case_step(uow, actor, complaint_id, Action.RECORD_NEGOTIATION, expected_version) as (session, user, complaint, source):
        target = lifecycle.next_state(Action.RECORD_NEGOTIATION, source, actor.roles)
        check_not_named(user.id, _staff_ids(complaint))
        limit = complaint.amount_limit if complaint.amount_limit is not None else complaint.proposed_amount
        if amount is not None and amount > (limit or Decimal(0)):
            errors["agreed_amount"] = Message("negotiation.beyond_limit", {"limit": str(limit or 0)})
        if errors:
            raise ValidationFailed(errors)
        complaint.negotiation_result, complaint.negotiation_note = result, note
        complaint.negotiated_amount, complaint.state = amount, target.value
        complaint.decision_checked, complaint.decision_basis = decision.checked, decision.basis
        complaint.decision_remedies = ",".join(decision.remedies)
        complaint.decision_told_via, complaint.decision_proof = decision.told_via, decision.proof
        complaint.decision_told_at = complaint.decision_told_at or now
        if decision.told_via == "email":       # the e-mail carries the decision letter; it is its contact row
            from portal.services.notices_outbox import queue_notice
            letter = queue_notice(session, complaint=complaint, kind="decision", channel="email", now=now, by=user)
            if letter is None:
                raise ValidationFailed({"decision_told_via": Message("negotiation.no_email")})
            complaint.decision_proof = complaint.decision_proof or letter.key
        else:
            log_contact(session, complaint=complaint, step=ContactStep.DECISION,
                        channel=DECISION_CHANNEL[decision.told_via], content=note, proof=decision.proof, by=user,
                        now=now)
        _event(session, user, complaint, Action.RECORD_NEGOTIATION, source, now, note,
               {"result": result, "agreed_amount": amount, **asdict(decision)})


def review_negotiation(uow: UnitOfWork, *, actor: Actor, complaint_id: int, approve: bool,
                       comment: str, expected_version: int, now: datetime) -> None:
    """The intake supervisor reviews before the form returns to the GM office (002 art.13.4)."""
    action = Action.REVIEW_NEGOTIATION if approve else Action.RETURN_NEGOTIATION
    errors: dict[str, Message] = {}
    comment = _text(errors, "comment", comment, required=not approve)
    with case_step(uow, actor, complaint_id, action, expected_version) as (session, user, complaint, source):
        target = lifecycle.next_state(action, source, actor.roles)
        check_decision(session, user, complaint, FourEyes.REVIEW_NEGOTIATION)
        if errors:
            raise ValidationFailed(errors)
        complaint.state = target.value
        if approve:
            complaint.negotiation_returned_at = now
        _event(session, user, complaint, action, source, now, comment)


# -- closure: final consolidation, responsibility and penalties (结案) --

def _shares(session: Session, errors: dict[str, Message], shares: object) -> list[tuple[int, str, int]]:
    """Responsibility shares as (department id, code, percent), largest first; each 1-100, together 100.
    A department named alone, with no ratio given, bears the whole responsibility."""
    if not isinstance(shares, dict) or not all(isinstance(k, str) for k in shares):
        errors["responsible_department"] = Message("form.bad_value")
        return []
    if len(shares) == 1 and next(iter(shares.values())) is None:
        shares = {next(iter(shares)): 100}
    known = dict(session.execute(select(Department.code, Department.id)).all())
    out = []
    for code, ratio in shares.items():
        if code not in known:
            errors["responsible_department"] = Message("form.unknown_choice")
            return []
        if isinstance(ratio, bool) or not isinstance(ratio, int) or not 1 <= ratio <= 100:
            errors["shares"] = Message("close.share_range")
            return []
        out.append((known[code], code, ratio))
    if out and sum(r for _, _, r in out) != 100:
        errors["shares"] = Message("close.shares_sum", {"total": sum(r for _, _, r in out)})
    return sorted(out, key=lambda share: -share[2])


def close_case(uow: UnitOfWork, *, actor: Actor, complaint_id: int, final_opinion: str,
               responsible_department: str | None = None, responsibility_level: str, penalty_persons: str,
               shares: dict[str, int] | None = None, cause_code: str | None = None, expected_version: int,
               now: datetime) -> str:
    """The GM office's consolidated opinion on the negotiation result (002 art.13.5, within the 1-day
    综合意见 clock): responsibility (one department, or several with a ratio each, 13.9), its level and
    the penalty standard's loss and penalty (13.6). Every case then goes to the final 核决 of the
    approver whose authority covers the amount agreed with the customer and the severity; nothing
    closes here. The cause is chosen from the taxonomy as well (issue 18). Returns that level."""
    errors: dict[str, Message] = {}
    final_opinion = _text(errors, "final_opinion", final_opinion)
    penalty_persons = text_field(errors, "penalty_persons", penalty_persons, required=False, limit=200,
                                 multiline=False)
    if shares is None:
        if responsible_department is not None and not isinstance(responsible_department, str):
            errors["responsible_department"] = Message("form.unknown_choice")
            responsible_department = None
        shares = {responsible_department: 100} if responsible_department else {}
    with case_step(uow, actor, complaint_id, Action.CLOSE, expected_version) as (session, user, complaint, source):
        lifecycle.authorize(Action.CLOSE, source, actor.roles)
        standard = session.get(PenaltyStandard, responsibility_level) if isinstance(responsibility_level, str) else None
        if standard is None:
            errors["responsibility_level"] = choice_message(responsibility_level)
        parts = _shares(session, errors, shares)
        check_cause(session, errors, "cause_code", cause_code)
        if standard is not None and "responsible_department" not in errors and "shares" not in errors:
            if standard.level != "none" and not parts:
                errors["responsible_department"] = Message("form.required")
            elif standard.level == "none" and parts:
                errors["responsible_department"] = Message("close.none_has_no_department")
        if errors:
            raise ValidationFailed(errors)
        target = lifecycle.next_state(Action.CLOSE, source, actor.roles)
        level = required_level(complaint.negotiated_amount, complaint.severity, _levels(session))
        complaint.final_required_level = level.key
        complaint.closure_note = final_opinion
        complaint.cause_code = cause_code
        complaint.responsibility_department_id = parts[0][0] if parts else None
        session.execute(delete(ResponsibilityShare).where(ResponsibilityShare.complaint_id == complaint.id))
        session.add_all([ResponsibilityShare(complaint_id=complaint.id, department_id=d, ratio=r) for d, _, r in parts])
        complaint.responsibility_level = standard.level
        complaint.department_loss, complaint.penalty_type = standard.department_loss, standard.penalty_type
        complaint.penalty_persons = penalty_persons
        complaint.consolidated_at = now
        complaint.state = target.value
        _event(session, user, complaint, Action.CLOSE, source, now, final_opinion,
               {"responsible_department": parts[0][1] if parts else None,
                "shares": {code: ratio for _, code, ratio in parts}, "responsibility_level": standard.level,
                "department_loss": standard.department_loss, "penalty_type": standard.penalty_type,
                "penalty_persons": penalty_persons, "final_required_level": level.key, "cause_code": cause_code})
        return level.key


def penalty_proposed(complaint: Complaint) -> bool:
    return bool(complaint.department_loss) or (complaint.penalty_type or "none") != "none" or bool(
        complaint.penalty_persons)


def final_approve(uow: UnitOfWork, *, actor: Actor, complaint_id: int, approve: bool, comment: str,
                  expected_version: int, now: datetime) -> State:
    """最终核决 (002 art.13.5-13.7): the approver whose authority covers the agreed amount and the
    severity signs the GM office's final opinion — the case is closed by that act (经核签结案), the
    proposed loss and penalties confirmed in it (13.6) — or returns it with a reason. Never by one
    who wrote a report, an opinion or the negotiation on the case. The customer is then told."""
    action = Action.FINAL_APPROVE if approve else Action.RETURN_FINAL
    errors: dict[str, Message] = {}
    comment = _text(errors, "comment" if approve else "reason", comment, required=not approve)
    with case_step(uow, actor, complaint_id, action, expected_version) as (session, user, complaint, source):
        target = lifecycle.next_state(action, source, actor.roles)
        check_authority(user.approval_level, complaint.final_required_level or complaint.required_level,
                        _levels(session))
        check_decision(session, user, complaint, FourEyes.FINAL_APPROVE)
        if errors:
            raise ValidationFailed(errors)
        complaint.state = target.value
        penalty = penalty_proposed(complaint)
        if approve:
            complaint.final_approved_at, complaint.final_approved_by_id, complaint.final_comment = now, user.id, comment
            if penalty:
                complaint.penalty_confirmed_at, complaint.penalty_confirmed_by_id = now, user.id
            complaint.closed_at = now
        _event(session, user, complaint, action, source, now, comment,
               {"level": user.approval_level, "required_level": complaint.final_required_level,
                "penalty_confirmed": approve and penalty})
        if approve:
            _queue_notice(session, complaint, "closure", now, user)
        return target


def _queue_notice(session: Session, complaint: Complaint, kind: str, now: datetime, user: User) -> None:
    """A notice caused by this act, queued in its transaction (the outbox delivers it)."""
    from portal.services.notices_outbox import queue_notice
    queue_notice(session, complaint=complaint, kind=kind, now=now, by=user)


def administrative_sanction(session: Session, complaint: Complaint) -> bool:
    """Whether the confirmed individual penalty is an administrative sanction (行政处分), referred under
    the 行政处理原则 (002 art.13.6); which penalty types are is a setting."""
    kinds = {k.strip() for k in rules.settings(session).get("penalty.administrative_types", "").split(",")}
    return complaint.final_approved_at is not None and (complaint.penalty_type or "none") in kinds


def refer_sanction(uow: UnitOfWork, *, actor: Actor, complaint_id: int, referred_to: str,
                   referred_at: datetime | None = None, expected_version: int,
                   now: datetime) -> None:
    """Record that a confirmed administrative sanction was referred (to whom, when)."""
    errors: dict[str, Message] = {}
    referred_to = text_field(errors, "referred_to", referred_to, limit=200, multiline=False)
    when = referred_at or now
    if not isinstance(when, datetime) or when > now:
        errors["referred_at"] = Message("form.not_in_future")
    with case_step(uow, actor, complaint_id, Action.REFER_SANCTION, expected_version) as (session, user, complaint, source):
        if not administrative_sanction(session, complaint):
            raise TransitionNotAllowed("sanction.not_administrative")
        if complaint.sanction_referred_at is not None:
            raise TransitionNotAllowed("sanction.already_referred")
        if isinstance(when, datetime) and complaint.final_approved_at and when < complaint.final_approved_at:
            errors["referred_at"] = Message("sanction.before_approval")
        if errors:
            raise ValidationFailed(errors)
        complaint.sanction_referred_to, complaint.sanction_referred_at = referred_to, when
        _event(session, user, complaint, Action.REFER_SANCTION, source, now, referred_to,
               {"referred_to": referred_to, "referred_at": when})


def record_sanction_outcome(uow: UnitOfWork, *, actor: Actor, complaint_id: int, outcome: str,
                            expected_version: int, now: datetime) -> None:
    """The outcome of a referred administrative sanction, once known."""
    errors: dict[str, Message] = {}
    outcome = _text(errors, "outcome", outcome)
    with case_step(uow, actor, complaint_id, Action.RECORD_SANCTION_OUTCOME, expected_version) as (session, user, complaint, source):
        if complaint.sanction_referred_at is None:
            raise TransitionNotAllowed("sanction.not_referred")
        if errors:
            raise ValidationFailed(errors)
        complaint.sanction_outcome, complaint.sanction_outcome_at = outcome, now
        _event(session, user, complaint, Action.RECORD_SANCTION_OUTCOME, source, now, outcome)


# -- follow-up visit and satisfaction (回访) --

FOLLOW_UP_METHODS = ("phone", "questionnaire", "visit", "online")     # how it was done (issue 18)


def record_follow_up(uow: UnitOfWork, *, actor: Actor, complaint_id: int, outcome: str, survey: Survey,
                     method: str | None = None, expected_version: int, now: datetime) -> State:
    """A follow-up visit (回访) on a closed case, how it was done and by whom; a case may have several. It
    never archives (the GM office's 总结 does). A dissatisfied one opens the GM office's task, goes to the
    responsible department(s) to act on and schedules a second visit; one made while a visit is scheduled
    fulfils the earliest such schedule."""
    errors = validate_survey(survey, outcome)
    outcome = text_field({}, "outcome", outcome)
    if method not in FOLLOW_UP_METHODS:
        errors["method"] = choice_message(method)
    with case_step(uow, actor, complaint_id, Action.RECORD_FOLLOW_UP, expected_version) as (session, user, complaint, source):
        if complaint.follow_up_task:
            raise TransitionNotAllowed("follow_up.task_open")
        if errors:
            raise ValidationFailed(errors)
        unhappy = dissatisfied(survey, int(rules.settings(session)["follow_up.dissatisfied_max"]))
        target = lifecycle.after_follow_up(unhappy)
        visit = FollowUp(complaint_id=complaint.id, visited_at=now, outcome=outcome, by_id=user.id, method=method,
                         dissatisfied=unhappy, **asdict(survey))
        session.add(visit)
        session.flush()
        from portal.services import follow_ups
        fulfilled = follow_ups.fulfil_schedule(session, complaint.id, visit.id)
        sent, scheduled = [], None
        if unhappy:
            sent = follow_ups.send_to_departments(session, complaint, visit.id, now)
            if fulfilled is None:          # the scheduled visit itself: another is the GM office's choice
                scheduled = follow_ups.schedule_second_visit(session, complaint.id, user.id, now)
        complaint.state, complaint.follow_up_task = target.value, unhappy
        _touch(complaint)
        _event(session, user, complaint, Action.RECORD_FOLLOW_UP, source, now, outcome,
               {**{f"survey_{name}": score for name, score in asdict(survey).items()},    # not the negotiation's
                "method": method, "dissatisfied": unhappy, "sent_to": sent,
                "fulfils_schedule": fulfilled, "second_visit_due": scheduled})
        return target


def resolve_follow_up(uow: UnitOfWork, *, actor: Actor, complaint_id: int, comment: str,
                      expected_version: int, now: datetime) -> None:
    """The GM office deals with a dissatisfied customer's follow-up task; the case stays closed until its
    总结 (issue 18)."""
    errors: dict[str, Message] = {}
    comment = _text(errors, "comment", comment)
    with case_step(uow, actor, complaint_id, Action.RESOLVE_FOLLOW_UP, expected_version) as (session, user, complaint, source):
        target = lifecycle.next_state(Action.RESOLVE_FOLLOW_UP, source, actor.roles)
        if not complaint.follow_up_task:
            raise TransitionNotAllowed("follow_up.no_task")
        if errors:
            raise ValidationFailed(errors)
        complaint.follow_up_task, complaint.state = False, target.value
        _event(session, user, complaint, Action.RESOLVE_FOLLOW_UP, source, now, comment)


# -- hold while waiting for the customer's material (补充资料) --

def hold(uow: UnitOfWork, *, actor: Actor, complaint_id: int, reason: str,
         expected_version: int, now: datetime) -> None:
    errors: dict[str, Message] = {}
    reason = _text(errors, "reason", reason)
    with case_step(uow, actor, complaint_id, Action.HOLD, expected_version) as (session, user, complaint, source):
        if complaint.paused:
            raise TransitionNotAllowed("hold.already")
        if errors:
            raise ValidationFailed(errors)
        complaint.paused, complaint.paused_since = True, now
        _event(session, user, complaint, Action.HOLD, source, now, reason)


def resume(uow: UnitOfWork, *, actor: Actor, complaint_id: int, comment: str = "",
           expected_version: int, now: datetime) -> None:
    errors: dict[str, Message] = {}
    comment = _text(errors, "reason", comment, required=False)
    if errors:
        raise ValidationFailed(errors)
    with case_step(uow, actor, complaint_id, Action.RESUME, expected_version) as (session, user, complaint, source):
        if not complaint.paused:
            raise TransitionNotAllowed("hold.not_on_hold")
        held = int((now - complaint.paused_since).total_seconds())
        complaint.paused, complaint.paused_since = False, None
        complaint.paused_seconds += max(held, 0)
        _event(session, user, complaint, Action.RESUME, source, now, comment,
               {"held_seconds": held})


@dataclass(frozen=True)
class Standard:
    level: str
    department_loss: Decimal
    penalty_type: str


def penalty_standards(uow: UnitOfWork) -> list[Standard]:
    """The 罚扣判定基准 rows, in their order, for the closure form's choice and preview."""
    with uow.read() as session:
        return [Standard(r.level, r.department_loss, r.penalty_type)
                for r in session.scalars(select(PenaltyStandard).order_by(PenaltyStandard.sort))]
