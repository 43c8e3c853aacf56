"""Closed cases for the monthly review's tests (002 art.13.9): taken through the whole handling to the final
核决 that closes them, with responsibility shared by departments."""
from __future__ import annotations

from datetime import datetime, timedelta

from portal.domain.regulatory import Decision
from portal.services import complaints, handling
from portal.services.handling import InvestigationReport
from portal.services.queries import current_version
from tests.helpers import a_form, final_approve, instruct_report

CAUSE = "process.execution"
DECISION = Decision(checked="核对理赔记录", basis="保险合同条款", remedies=["review"], told_via="phone",
                    proof="通话录音")


def closed_case(uow, people, closed_at: datetime, shares: dict[str, int], *, measures: str = "增派人手，限时审核",
                amount: str = "3000") -> int:  # noqa: ANN001
    """A case received four days before `closed_at`, investigated by 运营部, closed then with `shares`."""
    received = closed_at - timedelta(days=4)
    case_id = complaints.register_complaint(uow, actor=people.clerk, form=a_form(received_at=received), attachments=[],
                                            now=received + timedelta(minutes=10)).id
    complaints.accept_complaint(uow, actor=people.gmo, complaint_id=case_id, category="claim_speed",
                                severity="general", departments=["operations"], now=received + timedelta(hours=1))
    step = received + timedelta(hours=2)
    handling.record_initial_plan(uow, actor=people.opshandler, complaint_id=case_id, plan="核实", now=step,
                                 expected_version=current_version(uow, case_id))
    report = InvestigationReport(cause_code=CAUSE, evidence="系统记录", cause="审核积压", finding="company_fault",
                                 responsible_unit="运营部", measures=measures, proposed_amount=amount)
    step += timedelta(hours=20)
    handling.submit_report(uow, actor=people.opshandler, complaint_id=case_id, report=report, now=step,
                           expected_version=current_version(uow, case_id))
    handling.report_to_gm(uow, actor=people.opshandler, complaint_id=case_id, report="呈报", now=step,
                          expected_version=current_version(uow, case_id))
    instruct_report(uow, people, case_id, step + timedelta(hours=1))
    step += timedelta(hours=2)
    handling.consolidate(uow, actor=people.gmo, complaint_id=case_id, opinion="同意赔付", proposed_amount=amount,
                         now=step, expected_version=current_version(uow, case_id))
    step += timedelta(hours=2)
    handling.approve(uow, actor=people.approver, complaint_id=case_id, instructions="按方案赔付", amount_limit=amount,
                     now=step, expected_version=current_version(uow, case_id))
    step += timedelta(hours=2)
    handling.record_negotiation(uow, actor=people.clerk, complaint_id=case_id, result="accepted", note="客户接受",
                                agreed_amount=amount, decision=DECISION, now=step,
                                expected_version=current_version(uow, case_id))
    handling.review_negotiation(uow, actor=people.lead, complaint_id=case_id, approve=True, comment="",
                                now=step + timedelta(hours=1), expected_version=current_version(uow, case_id))
    handling.close_case(uow, actor=people.gmo, complaint_id=case_id, final_opinion="结案：加强时效管理",
                        shares=shares, responsibility_level="general", penalty_persons="", cause_code=CAUSE,
                        now=closed_at, expected_version=current_version(uow, case_id))
    final_approve(uow, people, case_id, closed_at)
    return case_id
