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
from portal.domain.errors import Message, TransitionNotAllowed, ValidationFailed
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
from portal.services.steps import case_step

FINDINGS = ("company_fault", "misunderstanding", "other_company", "undetermined")
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
                        expected_version: int | None = None, now: datetime) -> None:
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
                               expected_version: int | None = None, now: datetime) -> None:
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


def submit_report(uow: UnitOfWork, *, actor: Actor, complaint_id: int, report: InvestigationReport,
                  attachments: list[Attachment] | None = None, expected_version: int | None = None,
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
        attachments, file_error = clean_attachments(attachments)
        file_error = file_error or validate_attachments(attachments, rules.attachment_limits(rules.settings(session)))
        if file_error:
            errors["attachments"] = file_error
        if errors:
            raise ValidationFailed(errors)
        for item in attachments:
            session.add(attachment_row(complaint.id, item, user.id, now))
        routing.evidence, routing.cause, routing.finding = evidence, cause, report.finding
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
                        "finding": report.finding, "measures": measures, "responsible_unit": unit,
                        "responsible_persons": persons, "proposed_amount": amount, "remaining_departments": remaining,
                        "attachments": [a.filename for a in attachments]})
        return target


def report_to_gm(uow: UnitOfWork, *, actor: Actor, complaint_id: int, report: str,
                 expected_version: int | None = None, now: datetime) -> None:
    """The investigation report to the GM office (002 art.13.2: within 3 days of the investigation),
    by a handler of a department the case was routed to; the GM office then consolidates."""
    errors: dict[str, Message] = {}
    report = _text(errors, "gm_report", report)
    with case_step(uow, actor, complaint_id, Action.REPORT_TO_GM, expected_version) as (session, user, complaint, source):
        target = lifecycle.next_state(Action.REPORT_TO_GM, source, actor.roles)
        _my_routing(complaint, user)
        check_not_named(user.id, _staff_ids(complaint))
        if errors:
            raise ValidationFailed(errors)
        complaint.gm_report, complaint.reported_to_gm_at = report, now
        complaint.state = target.value
        _event(session, user, complaint, Action.REPORT_TO_GM, source, now, report)


# -- GM office: consolidation and routing for approval (综合意见) --

def _levels(session: Session) -> list[AuthorityLevel]:
    return [AuthorityLevel(r.key, r.rank, r.max_amount, r.covers_major)
            for r in session.scalars(select(AuthorityRow))]


def consolidate(uow: UnitOfWork, *, actor: Actor, complaint_id: int, opinion: str,
                proposed_amount: str | Decimal | None, expected_version: int | None = None,
                now: datetime) -> str:
    """The consolidated opinion over all reports, routed to the approver level that covers it."""
    errors: dict[str, Message] = {}
    opinion = _text(errors, "opinion", opinion)
    amount = _amount(errors, "proposed_amount", proposed_amount)
    with case_step(uow, actor, complaint_id, Action.CONSOLIDATE, expected_version) as (session, user, complaint, source):
        target = lifecycle.next_state(Action.CONSOLIDATE, source, actor.roles)
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
            amount_limit: str | Decimal | None, expected_version: int | None = None,
            now: datetime) -> None:
    errors: dict[str, Message] = {}
    instructions = _text(errors, "instructions", instructions)
    limit = _amount(errors, "amount_limit", amount_limit)
    with case_step(uow, actor, complaint_id, Action.APPROVE, expected_version) as (session, user, complaint, source):
        target = lifecycle.next_state(Action.APPROVE, source, actor.roles)
        check_authority(user.approval_level, complaint.required_level, _levels(session))
        check_not_named(user.id, _staff_ids(complaint))
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
              expected_version: int | None = None, now: datetime) -> None:
    errors: dict[str, Message] = {}
    reason = _text(errors, "reason", reason)
    with case_step(uow, actor, complaint_id, Action.SEND_BACK, expected_version) as (session, user, complaint, source):
        target = lifecycle.next_state(Action.SEND_BACK, source, actor.roles)
        check_authority(user.approval_level, complaint.required_level, _levels(session))
        if errors:
            raise ValidationFailed(errors)
        complaint.state = target.value
        _event(session, user, complaint, Action.SEND_BACK, source, now, reason)


# -- negotiation with the customer (交涉) and supervisor review (核阅) --

def record_negotiation(uow: UnitOfWork, *, actor: Actor, complaint_id: int, result: str, note: str,
                       agreed_amount: str | Decimal | None, decision: Decision,
                       expected_version: int | None = None, now: datetime) -> None:
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
        _event(session, user, complaint, Action.RECORD_NEGOTIATION, source, now, note,
               {"result": result, "agreed_amount": amount, **asdict(decision)})


def review_negotiation(uow: UnitOfWork, *, actor: Actor, complaint_id: int, approve: bool,
                       comment: str, expected_version: int | None = None, now: datetime) -> None:
    """The intake supervisor reviews before the form returns to the GM office (002 art.13.4)."""
    action = Action.REVIEW_NEGOTIATION if approve else Action.RETURN_NEGOTIATION
    errors: dict[str, Message] = {}
    comment = _text(errors, "comment", comment, required=not approve)
    with case_step(uow, actor, complaint_id, action, expected_version) as (session, user, complaint, source):
        target = lifecycle.next_state(action, source, actor.roles)
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
               shares: dict[str, int] | None = None, expected_version: int | None = None,
               now: datetime) -> State:
    """The GM office's final opinion: responsibility (one department, or several with a ratio each,
    002 art.13.9), its level and the penalty standard's loss and penalty. With no loss or penalty the
    case closes at once; otherwise it waits for the approver to confirm (art.13.6)."""
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
        if standard is not None and "responsible_department" not in errors and "shares" not in errors:
            if standard.level != "none" and not parts:
                errors["responsible_department"] = Message("form.required")
            elif standard.level == "none" and parts:
                errors["responsible_department"] = Message("close.none_has_no_department")
        if errors:
            raise ValidationFailed(errors)
        proposed = bool(standard.department_loss) or standard.penalty_type != "none" or bool(penalty_persons)
        target = lifecycle.after_closing(proposed)
        complaint.closure_note = final_opinion
        complaint.responsibility_department_id = parts[0][0] if parts else None
        session.execute(delete(ResponsibilityShare).where(ResponsibilityShare.complaint_id == complaint.id))
        session.add_all([ResponsibilityShare(complaint_id=complaint.id, department_id=d, ratio=r) for d, _, r in parts])
        complaint.responsibility_level = standard.level
        complaint.department_loss, complaint.penalty_type = standard.department_loss, standard.penalty_type
        complaint.penalty_persons = penalty_persons
        complaint.consolidated_at = now
        complaint.state = target.value
        if target is State.CLOSED:
            complaint.closed_at = now
        _event(session, user, complaint, Action.CLOSE, source, now, final_opinion,
               {"responsible_department": parts[0][1] if parts else None,
                "shares": {code: ratio for _, code, ratio in parts}, "responsibility_level": standard.level,
                "department_loss": standard.department_loss, "penalty_type": standard.penalty_type,
                "penalty_persons": penalty_persons})
        return target


def confirm_penalty(uow: UnitOfWork, *, actor: Actor, complaint_id: int, confirm: bool, comment: str,
                    expected_version: int | None = None, now: datetime) -> None:
    """The approver whose authority covers the case confirms the proposed responsibility, loss and
    penalties, and the case is closed; or returns them to the GM office with a reason."""
    action = Action.CONFIRM_PENALTY if confirm else Action.RETURN_PENALTY
    errors: dict[str, Message] = {}
    comment = _text(errors, "comment", comment, required=not confirm)
    with case_step(uow, actor, complaint_id, action, expected_version) as (session, user, complaint, source):
        target = lifecycle.next_state(action, source, actor.roles)
        check_authority(user.approval_level, complaint.required_level, _levels(session))
        check_not_named(user.id, _staff_ids(complaint))
        if errors:
            raise ValidationFailed(errors)
        complaint.state = target.value
        if confirm:
            complaint.penalty_confirmed_at, complaint.penalty_confirmed_by_id = now, user.id
            complaint.closed_at = now
        _event(session, user, complaint, action, source, now, comment)


# -- follow-up visit and satisfaction (回访) --

def record_follow_up(uow: UnitOfWork, *, actor: Actor, complaint_id: int, outcome: str, survey: Survey,
                     expected_version: int | None = None, now: datetime) -> State:
    errors = validate_survey(survey, outcome)
    outcome = text_field({}, "outcome", outcome)
    with case_step(uow, actor, complaint_id, Action.RECORD_FOLLOW_UP, expected_version) as (session, user, complaint, source):
        if complaint.follow_up_task:
            raise TransitionNotAllowed("follow_up.task_open")
        if errors:
            raise ValidationFailed(errors)
        unhappy = dissatisfied(survey, int(rules.settings(session)["follow_up.dissatisfied_max"]))
        target = lifecycle.after_follow_up(unhappy)
        session.add(FollowUp(complaint_id=complaint.id, visited_at=now, outcome=outcome,
                             by_id=user.id, **asdict(survey)))
        complaint.state, complaint.follow_up_task = target.value, unhappy
        _touch(complaint)
        _event(session, user, complaint, Action.RECORD_FOLLOW_UP, source, now, outcome,
               {**asdict(survey), "dissatisfied": unhappy})
        return target


def resolve_follow_up(uow: UnitOfWork, *, actor: Actor, complaint_id: int, comment: str,
                      expected_version: int | None = None, now: datetime) -> None:
    """The GM office deals with a dissatisfied customer's follow-up task, then archives."""
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
         expected_version: int | None = None, now: datetime) -> None:
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
           expected_version: int | None = None, now: datetime) -> None:
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
