"""Every queue's picker says what the user is about to do there, and every decision field of every
form starts empty: the person decides, not the default (a case waits in each queue)."""
from __future__ import annotations

from datetime import timedelta

from portal.domain.satisfaction import Survey
from portal.i18n import translate
from portal.services import complaints, handling
from portal.services.actors import load_actor
from portal.ui.context import now as wall_now
from portal.services.queries import current_version
from tests.helpers import a_form
from tests.pages.conftest import app_as, open_tab, page_path
from tests.pages.test_handling_pages import DECISION, REPORT

# state a case is left in → (page, role, picker key, the page's tab holding that queue)
QUEUES = {
    "registered": ("gm_office", "gmo", "gm_pick", "gm.tab.accept"),
    "investigating": ("gm_office", "gmo", "investigating_pick", "gm.tab.investigating"),
    "awaiting_report": ("department", "opshandler", "dept_report_pick", "dept.tab.report"),
    "awaiting_gm_instruction": ("approval", "genmgr", "instruct_pick", "appr.instruct_queue"),
    "awaiting_consolidation": ("gm_office", "gmo", "consolidate_pick", "gm.tab.consolidate"),
    "awaiting_approval": ("approval", "approver", "appr_pick", "appr.queue"),
    "negotiating": ("negotiation", "clerk", "neg_pick", "neg.tab.negotiate"),
    "awaiting_review": ("negotiation", "lead", "review_pick", "neg.tab.review"),
    "awaiting_closure": ("gm_office", "gmo", "close_pick", "gm.tab.close"),
    "awaiting_penalty": ("approval", "approver", "final_pick", "appr.final_queue"),
    "closed": ("negotiation", "clerk", "follow_pick", "neg.tab.follow_up"),
    "follow_up_task": ("gm_office", "gmo", "follow_task_pick", "gm.tab.follow_up"),
}
TABS_KEY = {"gm_office": "gm_tabs", "approval": "approval_tabs", "negotiation": "negotiation_tabs",
            "department": "dept_tabs"}


def _case_in(uow, goal: str, serial: int) -> int:
    at = wall_now() - timedelta(days=2)
    who = lambda name: load_actor(uow, name)  # noqa: E731
    case_id = complaints.register_complaint(uow, actor=who("clerk"), attachments=[], now=at, form=a_form(
        received_at=at, customer_phone=f"1380000{serial:04d}", policy_number=f"P-QUEUE-{serial}")).id
    steps = [
        ("investigating", lambda: complaints.accept_complaint(uow, actor=who("gmo"), complaint_id=case_id,
                                                              category="claim", severity="general",
                                                              departments=["operations"], now=at)),
        ("awaiting_report", lambda: handling.submit_report(uow, actor=who("opshandler"), complaint_id=case_id,
                                                           report=REPORT, now=at,
                                                               expected_version=current_version(uow, case_id))),
        ("awaiting_gm_instruction", lambda: handling.report_to_gm(uow, actor=who("opshandler"),
                                                                  complaint_id=case_id, report="调查完毕", now=at,
                                                                      expected_version=current_version(uow, case_id))),
        ("awaiting_consolidation", lambda: handling.instruct_report(uow, actor=who("genmgr"), complaint_id=case_id,
                                                                    instruction="同意", now=at,
                                                                        expected_version=current_version(uow, case_id))),
        ("awaiting_approval", lambda: handling.consolidate(uow, actor=who("gmo"), complaint_id=case_id, opinion="同意",
                                                           proposed_amount="3000", now=at,
                                                               expected_version=current_version(uow, case_id))),
        ("negotiating", lambda: handling.approve(uow, actor=who("approver"), complaint_id=case_id, instructions="赔付",
                                                 amount_limit="3000", now=at,
                                                     expected_version=current_version(uow, case_id))),
        ("awaiting_review", lambda: handling.record_negotiation(uow, decision=DECISION, actor=who("clerk"),
                                                                complaint_id=case_id, result="accepted", note="接受",
                                                                agreed_amount="3000", now=at,
                                                                    expected_version=current_version(uow, case_id))),
        ("awaiting_closure", lambda: handling.review_negotiation(uow, actor=who("lead"), complaint_id=case_id,
                                                                 approve=True, comment="", now=at,
                                                                     expected_version=current_version(uow, case_id))),
        ("awaiting_penalty", lambda: handling.close_case(uow, cause_code="process.execution", actor=who("gmo"), complaint_id=case_id, final_opinion="f",
                                                         responsible_department="operations",
                                                         responsibility_level="general", penalty_persons="", now=at,
                                                             expected_version=current_version(uow, case_id))),
        ("closed", lambda: handling.final_approve(uow, actor=who("approver"), complaint_id=case_id, approve=True,
                                                  comment="", now=at, expected_version=current_version(uow, case_id))),
        ("follow_up_task", lambda: handling.record_follow_up(uow, method="phone", actor=who("clerk"), complaint_id=case_id,
                                                             outcome="不满意", survey=Survey(1, 1, 1, 1, 1), now=at,
                                                                 expected_version=current_version(uow, case_id))),
    ]
    if goal != "registered":
        for reached, step in steps:
            step()
            if reached == goal:
                break
    return case_id


def test_every_queue_picker_says_what_the_user_is_about_to_do(page_db):
    ids = {goal: _case_in(page_db, goal, n) for n, goal in enumerate(QUEUES)}
    labels = {}
    for goal, (page, user, key, tab) in QUEUES.items():
        at = app_as(user, page_path(page))
        if tab:
            open_tab(at, TABS_KEY[page], tab)
        assert not at.exception, (goal, at.exception)
        picker = at.selectbox(key=key)
        assert picker.value == ids[goal], goal                 # the case waiting there is offered
        assert picker.label == translate(f"pick.{key}", "zh"), key
        labels[key] = picker.label
    assert len(set(labels.values())) == len(labels)            # no two queues say the same thing


def test_every_decision_field_starts_empty(page_db):
    ids = {goal: _case_in(page_db, goal, n) for n, goal in enumerate(("investigating", "negotiating",
                                                                       "awaiting_closure", "closed"))}
    dept = app_as("opshandler", page_path("department"))
    assert dept.radio(key=f"report_{ids['investigating']}_finding").value is None
    negotiation = open_tab(app_as("clerk", page_path("negotiation")), "negotiation_tabs", "neg.tab.negotiate")
    case = ids["negotiating"]
    assert negotiation.radio(key=f"neg_result_{case}").value is None
    assert [m.value for m in negotiation.multiselect if m.label == "告知客户的救济途径"] == [[]]
    assert [s.value for s in negotiation.selectbox if s.label == "告知方式"] == [None]
    open_tab(negotiation, "negotiation_tabs", "neg.tab.follow_up")
    for dimension in ("服务流程", "服务态度", "服务效率", "理赔结果", "总体满意度"):     # the follow-up survey
        assert [s.value for s in negotiation.selectbox if s.label == dimension] == [None], dimension
    gm = open_tab(app_as("gmo", page_path("gm_office")), "gm_tabs", "gm.tab.close")
    closing = ids["awaiting_closure"]
    assert gm.selectbox(key=f"level_{closing}").value is None
    assert gm.multiselect(key=f"responsible_{closing}").value == []
    open_tab(gm, "gm_tabs", "gm.tab.reminders")
    assert gm.selectbox(key="issue_kind").value is None and gm.selectbox(key="issue_department").value is None
