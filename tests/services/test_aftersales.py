"""The service desk's use cases on SQLite and PostgreSQL (002 ch.2): a claim report checked against the
register, refused in writing with its reasons or taken in hand (an override needs a reason); scene
preservation and the major claim's 24-hour report; surrender and endorsement requests with their clocks;
who may do what; a stale version refused; a calendar change moving a running clock."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.domain.errors import ConcurrentChange, DomainError, PermissionDenied, ValidationFailed
from portal.persistence.models import Policy, PolicyPerson, PolicyRisk, Product, RequestEvent, ServiceRequest
from portal.services import aftersales, aftersales_queries, aftersales_requests
from portal.services.aftersales import ClaimReportForm

AT = datetime(2025, 10, 9, 16, 30)        # a Thursday, after the National Day week


def add_policy(uow, number: str = "P-2025-0001", *, insured: str = "林晓东", id_number: str = "110101198001010010",
               risks: tuple[str, ...] = ("accident_death", "accident_medical", "illness_hospital"),
               start: date = date(2025, 1, 1), end: date = date(2025, 12, 31), sum_insured: str = "300000",
               limit: tuple[int, str] | None = (2, "years")) -> int:  # noqa: ANN001
    """A policy in the register (written directly: the import has its own tests)."""
    with uow.write() as session:
        product = session.scalar(select(Product).where(Product.code == "life-plus"))
        if product is None:
            product = Product(code="life-plus", name="安康综合保障计划", claim_limit=limit[0] if limit else None,
                              claim_limit_unit=limit[1] if limit else None, active=True)
            session.add(product)
            session.flush()
        policy = Policy(policy_number=number, insurer="华安人寿保险股份有限公司", product_id=product.id,
                        sum_insured=Decimal(sum_insured), start_date=start, end_date=end, created_at=AT, updated_at=AT)
        session.add(policy)
        session.flush()
        session.add_all([PolicyRisk(policy_id=policy.id, risk_code=r) for r in risks])
        session.add_all([PolicyPerson(policy_id=policy.id, role="policyholder", name=insured, id_number=id_number,
                                      phone="13900001111"),
                         PolicyPerson(policy_id=policy.id, role="insured", name=insured, id_number=id_number,
                                      phone="13900001111")])
        return policy.id


def report_form(**changes) -> ClaimReportForm:  # noqa: ANN003
    values = dict(policy_number="P-2025-0001", insured_name="林晓东", channel="phone", received_at=AT,
                  event_at=datetime(2025, 10, 8, 20, 0), event_place="杭州市西湖区文三路", cause_code="illness_hospital",
                  event_description="夜间突发腹痛，送医后住院治疗。", injury="无外伤", measures_taken="已送医",
                  present_condition="住院观察", hospital="浙江省人民医院", reporter_name="林晓东",
                  reporter_address="杭州市西湖区", reporter_phone="13900001111", reporter_relation="self")
    values.update(changes)
    return ClaimReportForm(**values)


def version(uow, request_id: int) -> int:  # noqa: ANN001
    with uow.read() as session:
        return session.scalar(select(ServiceRequest.version).where(ServiceRequest.id == request_id))


def row(uow, request_id: int) -> ServiceRequest:  # noqa: ANN001
    with uow.read() as session:
        return session.get(ServiceRequest, request_id)


def test_a_report_that_passes_its_check_is_numbered_and_taken_in_hand(uow, people):
    add_policy(uow)
    done = aftersales.register_claim_report(uow, actor=people.clerk, form=report_form(), now=AT)
    assert done.number == "BA2510-0001" and done.check.passed and not done.scene_needed and not done.major_reasons
    aftersales.accept_report(uow, actor=people.clerk, request_id=done.id, expected_version=version(uow, done.id),
                             now=AT)
    stored = row(uow, done.id)
    assert stored.state == "reported" and stored.check_override == "" and stored.policy_id is not None
    second = aftersales.register_claim_report(uow, actor=people.lead, form=report_form(), now=AT)
    assert second.number == "BA2510-0002"
    with uow.read() as session:
        actions = session.scalars(select(RequestEvent.action).where(RequestEvent.request_id == done.id)
                                  .order_by(RequestEvent.id)).all()
    assert actions == ["desk.register", "desk.accept_report"]


def test_a_report_failing_its_check_is_refused_in_writing_with_every_reason(uow, people):
    add_policy(uow, end=date(2025, 9, 30), risks=("accident_death",))
    done = aftersales.register_claim_report(uow, actor=people.clerk, form=report_form(), now=AT)
    assert [f.value for f in done.check.failures] == ["outside_period", "not_covered"]
    with pytest.raises(ValidationFailed) as refused:                 # the override needs the clerk's reason
        aftersales.accept_report(uow, actor=people.clerk, request_id=done.id,
                                 expected_version=version(uow, done.id), now=AT)
    assert set(refused.value.errors) == {"override"}
    with pytest.raises(ValidationFailed) as refused:                 # copies archived, originals returned: both
        aftersales.refuse_report(uow, actor=people.clerk, request_id=done.id, expected_version=version(uow, done.id),
                                 copies_archived=True, originals_returned=False, now=AT)
    assert set(refused.value.errors) == {"originals_returned"}
    assert row(uow, done.id).state == "received"
    aftersales.refuse_report(uow, actor=people.clerk, request_id=done.id, expected_version=version(uow, done.id),
                             copies_archived=True, originals_returned=True, now=AT)
    stored = row(uow, done.id)
    assert stored.state == "refused" and stored.refused_at == AT and stored.check_failures == ["outside_period",
                                                                                              "not_covered"]


def test_an_override_is_taken_with_its_reason_and_a_passing_report_cannot_be_refused(uow, people):
    add_policy(uow, risks=("accident_death",))
    failing = aftersales.register_claim_report(uow, actor=people.clerk, form=report_form(), now=AT)
    aftersales.accept_report(uow, actor=people.clerk, request_id=failing.id,
                             expected_version=version(uow, failing.id), override="附加险条款承保住院责任，经核实属保障范围。",
                             now=AT)
    assert row(uow, failing.id).check_override.startswith("附加险条款")
    passing = aftersales.register_claim_report(uow, actor=people.clerk, form=report_form(cause_code="accident_death"),
                                               now=AT)
    with pytest.raises(DomainError):
        aftersales.refuse_report(uow, actor=people.clerk, request_id=passing.id,
                                 expected_version=version(uow, passing.id), copies_archived=True,
                                 originals_returned=True, now=AT)


def test_no_policy_in_the_register_is_a_reason_of_its_own(uow, people):
    done = aftersales.register_claim_report(uow, actor=people.clerk, form=report_form(policy_number="P-UNKNOWN"),
                                            now=AT)
    assert [f.value for f in done.check.failures] == ["no_policy"] and row(uow, done.id).policy_id is None


def test_a_claim_reported_after_its_time_limit_fails_the_check(uow, people):
    add_policy(uow, limit=(30, "days"))
    event = datetime(2025, 9, 8, 9, 0)            # the limit's last day is 8 October
    late = aftersales.register_claim_report(uow, actor=people.clerk, form=report_form(event_at=event), now=AT)
    assert [f.value for f in late.check.failures] == ["time_limit"] and late.check.last_claim_day == date(2025, 10, 8)


def test_a_promptly_reported_accidental_death_keeps_its_scene(uow, people):
    add_policy(uow)
    done = aftersales.register_claim_report(
        uow, actor=people.clerk, now=AT,
        form=report_form(cause_code="accident_death", event_at=datetime(2025, 10, 9, 8, 0), reporter_relation="spouse"))
    assert done.scene_needed
    aftersales.record_scene_preservation(uow, actor=people.clerk, request_id=done.id,
                                         expected_version=version(uow, done.id), reporter_told=True,
                                         survey_requested=True, now=AT)
    stored = row(uow, done.id)
    assert stored.scene_told_at == AT and stored.survey_requested_at == AT


def test_a_major_claim_is_reported_to_headquarters_within_24_hours(uow, people):
    add_policy(uow)
    done = aftersales.register_claim_report(uow, actor=people.clerk, now=AT,
                                            form=report_form(cause_code="accident_death", deaths=2,
                                                             disputes=["media"]))
    assert done.major_reasons == ("deaths", "dispute")
    stored = row(uow, done.id)
    assert stored.clock_key == "major_report" and stored.clock_due_at == datetime(2025, 10, 10, 16, 30)
    queue = aftersales_queries.desk_queue(uow, actor=people.clerk, now=datetime(2025, 10, 10, 17, 0))
    assert dict(zip(queue.frame["number"], queue.frame["badge"]))[done.number] == "overdue"
    aftersales.report_major_claim(uow, actor=people.lead, request_id=done.id, expected_version=version(uow, done.id),
                                  comment="已电话并书面呈报总部。", key_survey=True, now=datetime(2025, 10, 10, 9, 0))
    stored = row(uow, done.id)
    assert stored.major_reported_at == datetime(2025, 10, 10, 9, 0) and stored.clock_late is False
    assert stored.key_survey_at is not None


def test_a_surrender_is_received_guided_and_finished_against_its_clock(uow, people):
    add_policy(uow)
    form = aftersales_requests.PolicyRequestForm(kind="surrender", policy_number="P-2025-0001", insured_name="林晓东",
                                                 channel="visit", requester_name="林晓东", requester_phone="13900001111",
                                                 reason_code="financial")
    done = aftersales_requests.register_policy_request(uow, actor=people.clerk, form=form, now=AT)
    assert done.number == "TB2510-0001"
    stored = row(uow, done.id)
    assert stored.clock_key == "surrender" and stored.clock_due_at == datetime(2025, 10, 14, 0, 0)   # 3 working days
    with pytest.raises(ValidationFailed) as refused:        # the insurer's address the customer was reminded of
        aftersales_requests.guide_request(uow, actor=people.clerk, request_id=done.id,
                                          expected_version=version(uow, done.id), guidance="请携带保单原件与身份证。",
                                          now=AT)
    assert set(refused.value.errors) == {"insurer_address"}
    aftersales_requests.guide_request(uow, actor=people.clerk, request_id=done.id,
                                      expected_version=version(uow, done.id), guidance="请携带保单原件与身份证。",
                                      insurer_address="杭州市上城区解放路 18 号华安人寿柜面", now=AT)
    aftersales_requests.finish_request(uow, actor=people.clerk, request_id=done.id,
                                       expected_version=version(uow, done.id), comment="客户已在保险公司办结。",
                                       now=datetime(2025, 10, 13, 10, 0))
    stored = row(uow, done.id)
    assert stored.state == "done" and stored.clock_late is False


def test_an_endorsement_needs_the_change_and_an_other_surrender_reason_needs_words(uow, people):
    form = aftersales_requests.PolicyRequestForm(kind="endorsement", policy_number="P-2025-0001", insured_name="林晓东",
                                                 channel="phone", requester_name="林晓东", requester_phone="13900001111")
    with pytest.raises(ValidationFailed) as refused:
        aftersales_requests.register_policy_request(uow, actor=people.clerk, form=form, now=AT)
    assert set(refused.value.errors) == {"change_requested"}
    form = aftersales_requests.PolicyRequestForm(kind="surrender", policy_number="P-2025-0001", insured_name="林晓东",
                                                 channel="phone", requester_name="林晓东", requester_phone="13900001111",
                                                 reason_code="other")
    with pytest.raises(ValidationFailed) as refused:
        aftersales_requests.register_policy_request(uow, actor=people.clerk, form=form, now=AT)
    assert set(refused.value.errors) == {"reason_text"}
    with uow.read() as session:
        assert session.scalar(select(func.count()).select_from(ServiceRequest)) == 0


def test_bad_input_is_refused_field_by_field_and_nothing_saved(uow, people):
    form = report_form(channel="carrier-pigeon", cause_code="意外身故", reporter_phone="call me",
                       event_at=datetime(2025, 10, 10, 9, 0), estimated_amount="-5", disputes=["newspaper"],
                       reporter_relation=None, event_description="  ")
    with pytest.raises(ValidationFailed) as refused:
        aftersales.register_claim_report(uow, actor=people.clerk, form=form, now=AT)
    assert set(refused.value.errors) == {"channel", "cause_code", "reporter_phone", "event_at", "estimated_amount",
                                         "disputes", "reporter_relation", "event_description"}
    with uow.read() as session:
        assert session.scalar(select(func.count()).select_from(ServiceRequest)) == 0


def test_only_the_desk_registers_and_a_stale_version_is_refused(uow, people):
    with pytest.raises(PermissionDenied):
        aftersales.register_claim_report(uow, actor=people.opshandler, form=report_form(), now=AT)
    with pytest.raises(PermissionDenied):
        aftersales.register_claim_report(uow, actor=people.boss, form=report_form(), now=AT)
    add_policy(uow)
    done = aftersales.register_claim_report(uow, actor=people.clerk, form=report_form(), now=AT)
    seen = version(uow, done.id)
    aftersales.accept_report(uow, actor=people.clerk, request_id=done.id, expected_version=seen, now=AT)
    with pytest.raises((ConcurrentChange, DomainError)):
        aftersales.accept_report(uow, actor=people.lead, request_id=done.id, expected_version=seen, now=AT)
    assert [e for e in aftersales_queries.request_register(
        uow, actor=people.boss, filters=aftersales_queries.RequestFilter(), now=AT).frame["number"]] == [done.number]


def test_the_register_masks_personal_data_for_a_manager_and_searches_by_number(uow, people):
    add_policy(uow)
    done = aftersales.register_claim_report(uow, actor=people.clerk, form=report_form(), now=AT)
    page = aftersales_queries.request_register(uow, actor=people.boss, filters=aftersales_queries.RequestFilter(
        text=done.number), now=AT)
    assert list(page.frame["number"]) == [done.number]
    assert page.frame["insured_name"][0] == "林**" and "0001" in page.frame["policy_number"][0]
    assert page.frame["policy_number"][0] != "P-2025-0001"
    nothing = aftersales_queries.request_register(uow, actor=people.boss, filters=aftersales_queries.RequestFilter(
        text="P-2025-0001"), now=AT)
    assert nothing.total == 0                  # a masked policy number is never confirmed by a search
    clerk = aftersales_queries.request_register(uow, actor=people.clerk, filters=aftersales_queries.RequestFilter(
        text="P-2025-0001"), now=AT)
    assert clerk.total == 1 and clerk.frame["insured_name"][0] == "林晓东"


# -- claim applications and their hand-over ------------------------------------------------------------

from portal.persistence.models import Notice, RequestContact  # noqa: E402
from portal.services import aftersales_claims  # noqa: E402
from portal.services.aftersales_claims import ApplicationForm  # noqa: E402

BASIC = ["policy_original", "premium_receipt", "identity_documents", "application_form"]
MEDICAL = ["medical_history", "test_reports", "outpatient_receipts", "inpatient_receipts", "pathology_report"]


def _report_in_hand(uow, people) -> int:  # noqa: ANN001
    add_policy(uow)
    done = aftersales.register_claim_report(uow, actor=people.clerk, form=report_form(), now=AT)
    aftersales.accept_report(uow, actor=people.clerk, request_id=done.id, expected_version=version(uow, done.id),
                             now=AT)
    return done.id


def application(report_id: int, materials: list[str], **changes) -> ApplicationForm:  # noqa: ANN003
    values = dict(report_id=report_id, channel="visit", applicant_name="林晓东", applicant_id_number="110101198001010010",
                  applicant_phone="13900001111", applicant_relation="self", right_verified=True,
                  claim_kinds=["medical"], materials=materials)
    values.update(changes)
    return ApplicationForm(**values)


def test_an_incomplete_application_is_not_accepted_and_the_customer_is_sent_what_is_missing(uow, people):
    report = _report_in_hand(uow, people)
    done = aftersales_claims.record_application(
        uow, actor=people.clerk, now=AT, form=application(report, [*BASIC, *MEDICAL[:-1]]))
    assert done.state == "incomplete" and done.missing == ("pathology_report",) and done.number == "LP2510-0001"
    with uow.read() as session:
        notice = session.scalar(select(Notice).where(Notice.request_id == done.id))
        logged = session.scalar(select(RequestContact).where(RequestContact.request_id == done.id))
    assert notice is not None and notice.complaint_id is None and notice.kind == "materials_missing"
    assert "病理报告" in notice.body and "门急诊病史" not in notice.body and done.number in notice.body
    assert logged is not None and logged.notice_id == notice.id
    assert row(uow, done.id).clock_key is None                        # no hand-over clock before it is complete
    more = aftersales_claims.add_materials(uow, actor=people.clerk, request_id=done.id,
                                           expected_version=version(uow, done.id), materials=["pathology_report"],
                                           now=datetime(2025, 10, 9, 17, 0))
    assert more.state == "complete" and more.missing == ()
    stored = row(uow, done.id)
    assert stored.complete_at == datetime(2025, 10, 9, 17, 0) and stored.clock_key == "handover"


def test_the_hand_over_falls_due_on_the_third_working_day_across_the_make_up_saturday(uow, people):
    """Complete on Thursday 9 October 2025: Fri 10, Sat 11 (调休, a working day), Mon 13 — due at the end of
    Monday; handed over on Monday it is on time, and 运营部's queue shows it overdue on Tuesday."""
    report = _report_in_hand(uow, people)
    done = aftersales_claims.record_application(uow, actor=people.clerk, now=AT,
                                                form=application(report, [*BASIC, *MEDICAL]))
    assert done.state == "complete"
    assert row(uow, done.id).clock_due_at == datetime(2025, 10, 14, 0, 0)
    tuesday = aftersales_queries.handover_queue(uow, actor=people.opshandler, now=datetime(2025, 10, 14, 9, 0))
    assert list(tuesday.frame["badge"]) == ["overdue"]
    with pytest.raises(PermissionDenied):                              # 运营部 hands over, not the desk's clerk
        aftersales_claims.hand_over(uow, actor=people.clerk, request_id=done.id,
                                    expected_version=version(uow, done.id), insurer="华安人寿", handed_on=date(2025, 10, 13),
                                    items=BASIC, receipt="交接单 HA-1013-07", now=datetime(2025, 10, 13, 15, 0))
    aftersales_claims.hand_over(uow, actor=people.opshandler, request_id=done.id,
                                expected_version=version(uow, done.id), insurer="华安人寿保险股份有限公司",
                                handed_on=date(2025, 10, 13), items=[*BASIC, *MEDICAL], receipt="交接单 HA-1013-07",
                                now=datetime(2025, 10, 13, 15, 0))
    stored = row(uow, done.id)
    assert stored.state == "handed_over" and stored.clock_late is False and stored.handover_receipt.startswith("交接单")
    aftersales_claims.record_insurer_decision(uow, actor=people.opshandler, request_id=done.id,
                                              expected_version=version(uow, done.id),
                                              decision="保险公司同意赔付住院医疗费用 8,640 元。", told_channel="phone",
                                              now=datetime(2025, 10, 20, 10, 0))
    assert row(uow, done.id).state == "decided"


def test_an_application_needs_the_right_to_claim_verified_and_known_materials(uow, people):
    report = _report_in_hand(uow, people)
    with pytest.raises(ValidationFailed) as refused:
        aftersales_claims.record_application(uow, actor=people.clerk, now=AT,
                                             form=application(report, ["a-sandwich"], right_verified=False,
                                                              applicant_id_number="110101198001010012"))
    assert set(refused.value.errors) == {"right_verified", "materials", "applicant_id_number"}
    with uow.read() as session:
        assert session.scalar(select(func.count()).select_from(ServiceRequest)
                              .where(ServiceRequest.kind == "claim_application")) == 0


def test_the_request_page_masks_free_text_that_repeats_personal_data_for_a_manager(uow, people):
    add_policy(uow)
    done = aftersales.register_claim_report(uow, actor=people.clerk, now=AT,
                                            form=report_form(event_description="林晓东来电称住院，联系电话13900001111。"))
    aftersales.tell_caller(uow, actor=people.clerk, request_id=done.id, channel="phone",
                           content="已告知林晓东报案在处理中。", now=AT)
    view = aftersales_queries.request_detail(uow, actor=people.boss, request_id=done.id, now=AT)
    assert "林晓东" not in view.request["event_description"] and "13900001111" not in view.request["event_description"]
    assert "林晓东" not in " ".join(view.contacts["content"]) + " ".join(view.history["comment"])
    clerk = aftersales_queries.request_detail(uow, actor=people.clerk, request_id=done.id, now=AT)
    assert "林晓东" in clerk.request["event_description"]


def test_a_refusal_names_the_requests_state_in_the_desks_words(uow, people):
    from portal.i18n import render
    add_policy(uow)
    done = aftersales.register_claim_report(uow, actor=people.clerk, form=report_form(), now=AT)
    aftersales.accept_report(uow, actor=people.clerk, request_id=done.id, expected_version=version(uow, done.id),
                             now=AT)
    with pytest.raises(DomainError) as refused:
        aftersales.accept_report(uow, actor=people.clerk, request_id=done.id,
                                 expected_version=version(uow, done.id), now=AT)
    assert "已受理报案" in render(refused.value.message, "zh") and "state." not in render(refused.value.message, "zh")


def test_the_sweep_chases_an_overdue_hand_over_once_to_operations(uow, people):
    from portal.persistence.models import RequestReminder
    from portal.services.reminders import issue_reminders
    report = _report_in_hand(uow, people)
    done = aftersales_claims.record_application(uow, actor=people.clerk, now=AT,
                                                form=application(report, [*BASIC, *MEDICAL]))
    issue_reminders(uow, now=datetime(2025, 10, 13, 23, 0))             # not yet due
    assert aftersales_queries.reminders_waiting(uow, actor=people.opshandler) == 0
    issue_reminders(uow, now=datetime(2025, 10, 14, 9, 0))
    issue_reminders(uow, now=datetime(2025, 10, 14, 10, 0))             # a second sweep issues nothing more
    with uow.read() as session:
        reminders = session.scalars(select(RequestReminder)).all()
        history = session.scalars(select(RequestEvent.action).where(RequestEvent.request_id == done.id)).all()
    assert [(r.request_id, r.clock_key, r.department_code) for r in reminders] == [(done.id, "handover", "operations")]
    assert history.count("desk.reminder") == 1
    assert aftersales_queries.reminders_waiting(uow, actor=people.opshandler) == 1
    assert aftersales_queries.reminders_waiting(uow, actor=people.clerk) == 0      # 市场部 owes nothing here
    aftersales_claims.hand_over(uow, actor=people.opshandler, request_id=done.id,
                                expected_version=version(uow, done.id), insurer="华安人寿", handed_on=date(2025, 10, 14),
                                items=BASIC, receipt="HA-2", now=datetime(2025, 10, 14, 11, 0))
    assert aftersales_queries.reminders_waiting(uow, actor=people.opshandler) == 0
    assert row(uow, done.id).clock_late is True


def test_the_complaint_repeat_lookup_includes_the_customers_claim_reports(uow, people):
    """A complaint naming its 报案号, or on a policy with reports, shows them before it is registered; the
    clerk confirms it as new and it is saved."""
    from portal.services import complaints
    from tests.helpers import a_form
    add_policy(uow, number="P2025000123")
    report = aftersales.register_claim_report(uow, actor=people.clerk, form=report_form(policy_number="P2025000123"),
                                              now=AT)
    with pytest.raises(complaints.PossibleDuplicate) as shown:
        complaints.register_complaint(uow, actor=people.clerk, form=a_form(claim_report_number=report.number.lower()),
                                      attachments=[], now=AT, confirmed_new=False)
    assert shown.value.cases == [] and [(r.number, r.matched) for r in shown.value.reports] == [
        (report.number, ("claim_report_number", "policy_number"))]
    done = complaints.register_complaint(uow, actor=people.clerk, form=a_form(claim_report_number=report.number),
                                         attachments=[], now=AT, confirmed_new=True)
    assert done.id
    with pytest.raises(complaints.PossibleDuplicate) as shown:           # the report on the policy alone
        complaints.register_complaint(uow, actor=people.clerk, attachments=[], now=AT, confirmed_new=False,
                                      form=a_form(customer_phone="13700001111", customer_id_number=""))
    assert [r.matched for r in shown.value.reports] == [("policy_number",)] and len(shown.value.cases) == 1


def test_adding_no_material_is_refused_and_changes_nothing(uow, people):
    report = _report_in_hand(uow, people)
    done = aftersales_claims.record_application(uow, actor=people.clerk, now=AT, form=application(report, BASIC))
    seen = version(uow, done.id)
    with pytest.raises(ValidationFailed) as refused:
        aftersales_claims.add_materials(uow, actor=people.clerk, request_id=done.id, expected_version=seen,
                                        materials=[], now=AT)
    assert set(refused.value.errors) == {"materials"} and version(uow, done.id) == seen


def test_a_refusal_quotes_the_dates_the_check_was_made_on_whatever_the_register_says_later(uow, people):
    """The claim limit of the product changes after the report was checked: the written refusal and the
    request page still name the last day the check found."""
    from portal.services import desk_documents
    add_policy(uow, limit=(30, "days"))
    late = aftersales.register_claim_report(uow, actor=people.clerk, now=AT,
                                            form=report_form(event_at=datetime(2025, 9, 8, 9, 0)))
    aftersales.refuse_report(uow, actor=people.clerk, request_id=late.id, expected_version=version(uow, late.id),
                             copies_archived=True, originals_returned=True, now=AT)
    with uow.write() as session:
        session.scalar(select(Product).where(Product.code == "life-plus")).claim_limit = 90
    view = aftersales_queries.request_detail(uow, actor=people.clerk, request_id=late.id, now=AT)
    assert view.request["check_last_day"] == date(2025, 10, 8)
    with uow.read() as session:
        request = session.get(ServiceRequest, late.id)
        reasons = desk_documents._reasons(session, request, session.get(Policy, request.policy_id))
    assert [(r.code, r.last) for r in reasons] == [("time_limit", date(2025, 10, 8))]


def test_a_second_call_about_the_same_event_finds_the_report_already_in_hand(uow, people):
    """报案记录查询 (4.(二)3): the caller rings again; the lookup by the insured's name shows the report and how
    far it got, and the clerk tells them so (a contact row) instead of registering it twice."""
    from portal.persistence.models import RequestContact
    from portal.services import policies
    add_policy(uow)
    first = aftersales.register_claim_report(uow, actor=people.clerk, form=report_form(), now=AT)
    aftersales.accept_report(uow, actor=people.clerk, request_id=first.id, expected_version=version(uow, first.id),
                             now=AT)
    found = policies.lookup(uow, actor=people.lead, name="林晓东", now=AT)
    [policy] = found.policies
    assert [(r.number, r.kind, r.state) for r in policy.requests] == [(first.number, "claim_report", "reported")]
    aftersales.tell_caller(uow, actor=people.lead, request_id=policy.requests[0].id, channel="phone",
                           content="您的报案已受理，待提交理赔申请材料。", now=AT)
    with uow.read() as session:
        assert session.scalar(select(func.count()).select_from(RequestContact)
                              .where(RequestContact.request_id == first.id)) == 1
        assert session.scalar(select(func.count()).select_from(ServiceRequest)) == 1
