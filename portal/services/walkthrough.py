"""The trainer's guided walk-through (001 §2): one prepared case in the sandbox, taken one step at a
time by the sandbox's demo roles, so a room can watch each form, clock and badge change."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from portal.domain.errors import DomainError, PermissionDenied
from portal.domain.lifecycle import State
from portal.domain.regulatory import Decision
from portal.domain.roles import Role
from portal.domain.satisfaction import Survey
from portal.domain.validation import RegistrationForm
from portal.persistence.database import UnitOfWork
from portal.persistence.models import Complaint, Event, Setting
from portal.services import complaints, handling, queries
from portal.services.actors import Actor, load_actor
from portal.services.audit import record_event
from portal.services.sandbox import OFFSET

GUIDE = "walkthrough.start"


def _in_sandbox(uow: UnitOfWork, actor: Actor) -> None:
    if not actor.has(Role.TRAINER):
        raise PermissionDenied("auth.missing_role")
    with uow.read() as session:                # only a sandbox has its own clock
        if session.get(Setting, OFFSET) is None:
            raise DomainError("walk.sandbox_only")


def guide_case(uow: UnitOfWork) -> int | None:
    """The case the walk-through follows: the one its last start registered."""
    with uow.read() as session:
        return session.scalar(select(Event.complaint_id).where(Event.action == GUIDE).order_by(Event.id.desc()))


def guide_view(uow: UnitOfWork, *, actor: Actor, complaint_id: int, now: datetime, calendar):  # noqa: ANN001, ANN201
    """The prepared case as the sandbox's GM office sees it (a trainer reads no real case: this one is
    practice data, and only in the sandbox)."""
    _in_sandbox(uow, actor)
    return queries.case_detail(uow, actor=load_actor(uow, "gmoffice"), complaint_id=complaint_id, now=now,
                               calendar=calendar)


def start(uow: UnitOfWork, *, actor: Actor, now: datetime) -> int:
    """Register the prepared complaint (as the sandbox's intake clerk) and follow it from here."""
    _in_sandbox(uow, actor)
    clerk = load_actor(uow, "intake")
    form = RegistrationForm(
        customer_name="演示客户", customer_gender="female", customer_age_band="35_44", customer_phone="13900001111",
        policy_number="P-TRAIN-0001", product="家庭财产保险", received_at=now, channel="phone", category="claim",
        description="暴雨致屋内进水，家具受损；查勘员承诺三日内定损，至今未联系。",
        expected_resolution="尽快定损并按实际损失赔付。", clerk_opinion="客户情绪焦虑，建议优先安排复勘。",
        preferred_contact="phone")
    done = complaints.register_complaint(uow, actor=clerk, form=form, attachments=[], now=now)
    with uow.write() as session:
        record_event(session, actor=None, at=now, action=GUIDE, complaint_id=done.id, comment=actor.username)
    return done.id


def _after_closure(uow: UnitOfWork, who, complaint_id: int, seen: int, now: datetime) -> None:  # noqa: ANN001
    """A closed case's next step towards its archive (issue 18): the follow-up, the payment recorded as made,
    运营部's quality check (by its lead, who took no part in the case), then the GM office's 总结."""
    from portal.domain.closing import ArchiveBlocker
    from portal.services import closing, quality
    with uow.read() as session:
        blockers = closing.archive_blockers(closing.archive_facts(session, session.get(Complaint, complaint_id)))
    if ArchiveBlocker.NO_FOLLOW_UP in blockers:
        handling.record_follow_up(uow, actor=who("intake"), complaint_id=complaint_id, outcome="客户对处理结果满意。",
                                  survey=Survey(5, 5, 4, 5, 5), method="phone", now=now, expected_version=seen)
    elif ArchiveBlocker.REMEDY in blockers:
        closing.record_remedy(uow, actor=who("intake"), complaint_id=complaint_id, paid_on=now.date(), amount="3000",
                              reference="TRAIN-PAY-001", note="赔款已转账至客户账户。", now=now, expected_version=seen)
    elif ArchiveBlocker.NO_QUALITY_CHECK in blockers:
        quality.record_quality_check(uow, actor=who("opslead"), complaint_id=complaint_id,
                                     answers={item.code: True for item in quality.checklist(uow)},
                                     note="处理规范，记录完整。", now=now)
    else:
        closing.archive(uow, actor=who("gmoffice"), complaint_id=complaint_id, cause_code="process.execution",
                        lessons="查勘排期须纳入时效提醒，延误时主动告知客户。", now=now, expected_version=seen)


def advance(uow: UnitOfWork, *, actor: Actor, complaint_id: int, now: datetime) -> str:
    """Take the prepared case one action further, as the role whose turn it is; returns the new state."""
    _in_sandbox(uow, actor)
    who = lambda name: load_actor(uow, name)  # noqa: E731
    with uow.read() as session:
        case = session.get(Complaint, complaint_id)
        if case is None:
            raise DomainError("case.not_found")
        state, seen = State(case.state), case.version      # the step acts on the case as read here
    report = handling.InvestigationReport(
        evidence="查勘记录、通话录音、维修报价单。", cause="查勘排期积压，未按承诺时限回访客户。",
        finding="company_fault", responsible_unit="理赔部查勘组", measures="当日复勘定损；查勘排期纳入时效提醒。",
        proposed_amount="3000", cause_code="process.execution")
    decision = Decision(checked="核对查勘记录与维修报价。", basis="家庭财产保险条款第八条。", remedies=["review", "mediation"],
                        told_via="phone", proof="通话录音 TRAIN-001")
    steps = {
        State.REGISTERED: lambda: complaints.accept_complaint(
            uow, actor=who("gmoffice"), complaint_id=complaint_id, category="claim", severity="general",
            departments=["operations"], now=now),
        State.INVESTIGATING: lambda: handling.submit_report(uow, actor=who("handler"), complaint_id=complaint_id,
                                                            report=report, now=now, expected_version=seen),
        State.AWAITING_REPORT: lambda: handling.report_to_gm(uow, actor=who("handler"), complaint_id=complaint_id,
                                                             report="调查完毕：查勘延误属实，建议赔付并致歉。", now=now,
                                                             expected_version=seen),
        State.AWAITING_GM_INSTRUCTION: lambda: handling.instruct_report(
            uow, actor=who("generalmgr"), complaint_id=complaint_id, instruction="同意调查结论，按权限核决后答复客户。",
            now=now, expected_version=seen),
        State.AWAITING_CONSOLIDATION: lambda: handling.consolidate(
            uow, actor=who("gmoffice"), complaint_id=complaint_id, opinion="同意按3000元赔付并致歉。",
            proposed_amount="3000", now=now, expected_version=seen),
        State.AWAITING_APPROVAL: lambda: handling.approve(
            uow, actor=who("approver"), complaint_id=complaint_id, instructions="按3000元赔付，向客户致歉。",
            amount_limit="3000", now=now, expected_version=seen),
        State.NEGOTIATING: lambda: handling.record_negotiation(
            uow, actor=who("intake"), complaint_id=complaint_id, result="accepted", note="客户接受3000元赔付。",
            agreed_amount="3000", decision=decision, now=now, expected_version=seen),
        State.AWAITING_REVIEW: lambda: handling.review_negotiation(
            uow, actor=who("intakelead"), complaint_id=complaint_id, approve=True, comment="交涉记录完整。", now=now,
            expected_version=seen),
        State.AWAITING_CLOSURE: lambda: handling.close_case(
            uow, actor=who("gmoffice"), complaint_id=complaint_id, final_opinion="查勘延误，按一般责任处理。",
            shares={"operations": 100}, responsibility_level="general", penalty_persons="",
            cause_code="process.execution", now=now, expected_version=seen),
        State.AWAITING_FINAL_APPROVAL: lambda: handling.final_approve(
            uow, actor=who("approver"), complaint_id=complaint_id, approve=True, comment="同意，核签结案。", now=now,
            expected_version=seen),
        State.CLOSED: lambda: _after_closure(uow, who, complaint_id, seen, now),
    }
    if state not in steps:
        raise DomainError("walk.done")
    steps[state]()
    with uow.read() as session:
        return session.get(Complaint, complaint_id).state
