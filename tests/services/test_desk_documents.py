"""The desk's printable papers on SQLite and PostgreSQL (002 ch.2): the refusal notice lists each reason with
the dates it names and is refused for a report taken in hand; the 理赔申请书 carries the policy and ticks the
materials received; the 批改申请单 the change asked for; a manager's copy masks personal data."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from portal.domain.errors import DomainError, PermissionDenied
from portal.services import aftersales, aftersales_claims, aftersales_requests, desk_documents
from tests.services.test_aftersales import (AT, BASIC, MEDICAL, _report_in_hand, add_policy, application,
                                            report_form, version)


def _refused_report(uow, people) -> int:  # noqa: ANN001
    """Reported after the 30-day limit, for a cause the policy does not cover, after the policy ended."""
    add_policy(uow, end=date(2025, 9, 1), risks=("accident_death",), limit=(30, "days"))
    done = aftersales.register_claim_report(uow, actor=people.clerk, now=AT,
                                            form=report_form(event_at=datetime(2025, 9, 2, 9, 0)))
    aftersales.refuse_report(uow, actor=people.clerk, request_id=done.id, expected_version=version(uow, done.id),
                             copies_archived=True, originals_returned=True, now=AT)
    return done.id


def test_the_refusal_notice_gives_each_reason_with_its_dates_and_the_papers_returned(uow, people):
    request_id = _refused_report(uow, people)
    html = desk_documents.refusal_notice(uow, actor=people.clerk, request_id=request_id, now=AT)
    assert "不予受理通知书" in html and "BA2510-0001" in html
    assert "出险日期不在保险期间内（保险期间 2025年1月1日 至 2025年9月1日）" in html
    assert "出险原因不属于保单保障范围" in html
    assert "已超过申请时效（最后申请日 2025年10月2日）" in html
    assert "林晓东" in html and "P-2025-0001" in html and "原件已全部退还" in html
    assert "2025年10月9日" in html                     # dated the day it was refused
    english = desk_documents.refusal_notice(uow, actor=people.clerk, request_id=request_id, now=AT, lang="en")
    assert "The claim time limit has passed (last day 2025-10-02)" in english


def test_the_refusal_notice_is_signed_with_the_notice_templates_sign_off(uow, people):
    from portal.persistence.models import NoticeTemplate
    from sqlalchemy import select
    with uow.write() as session:
        row = session.scalar(select(NoticeTemplate).where(NoticeTemplate.kind == "signature",
                                                          NoticeTemplate.channel == "text"))
        row.body = "华安保险代理有限公司客户服务中心 <电话 400-000-0000>"
    html = desk_documents.refusal_notice(uow, actor=people.clerk, request_id=_refused_report(uow, people), now=AT)
    assert "华安保险代理有限公司客户服务中心 &lt;电话 400-000-0000&gt;" in html      # escaped, never markup


def test_no_refusal_notice_for_a_report_taken_in_hand(uow, people):
    report = _report_in_hand(uow, people)
    with pytest.raises(DomainError) as refused:
        desk_documents.refusal_notice(uow, actor=people.clerk, request_id=report, now=AT)
    assert refused.value.message.key == "deskdoc.only_refused"
    assert desk_documents.documents_of({"kind": "claim_report", "state": "reported"}) == ["claim_application_form"]


def test_the_claim_application_form_carries_the_policy_and_ticks_the_materials_received(uow, people):
    report = _report_in_hand(uow, people)
    done = aftersales_claims.record_application(uow, actor=people.clerk, now=AT,
                                                form=application(report, [*BASIC, *MEDICAL[:-1]]))
    html = desk_documents.claim_application_form(uow, actor=people.clerk, request_id=done.id, now=AT)
    assert "理赔申请书" in html and done.number in html
    assert "P-2025-0001" in html and "华安人寿保险股份有限公司" in html and "安康综合保障计划" in html
    assert "2025年1月1日 至 2025年12月31日" in html and "300,000.00" in html
    assert "杭州市西湖区文三路" in html and "疾病住院" in html                  # the event, from its report
    assert "<td>门急诊病史</td><td>☑</td>" in html and "<td>病理报告</td><td>☐</td>" in html
    assert "残疾证明" not in html                                            # only its kinds' checklist
    in_hand = desk_documents.claim_application_form(uow, actor=people.clerk, request_id=report, now=AT)
    assert "☑" not in in_hand and "残疾证明" in in_hand                     # the whole checklist, to tick


def test_the_endorsement_form_carries_the_change_and_only_an_endorsement_has_one(uow, people):
    add_policy(uow)
    form = aftersales_requests.PolicyRequestForm(kind="endorsement", policy_number="P-2025-0001",
                                                 insured_name="林晓东", channel="phone", requester_name="林晓东",
                                                 requester_phone="13900001111",
                                                 change_requested="受益人由配偶变更为子女林小北。")
    done = aftersales_requests.register_policy_request(uow, actor=people.clerk, form=form, now=AT)
    html = desk_documents.endorsement_form(uow, actor=people.clerk, request_id=done.id, now=AT)
    assert "批改申请单" in html and "受益人由配偶变更为子女林小北。" in html
    assert "林晓东（110101198001010010）" in html and "投保人签章" in html
    surrender = aftersales_requests.register_policy_request(uow, actor=people.clerk, now=AT, form=(
        aftersales_requests.PolicyRequestForm(kind="surrender", policy_number="P-2025-0001", insured_name="林晓东",
                                              channel="phone", requester_name="林晓东", requester_phone="13900001111",
                                              reason_code="financial")))
    with pytest.raises(DomainError):
        desk_documents.endorsement_form(uow, actor=people.clerk, request_id=surrender.id, now=AT)


def test_a_managers_copy_masks_personal_data_and_another_department_may_not_read(uow, people):
    request_id = _refused_report(uow, people)
    html = desk_documents.refusal_notice(uow, actor=people.boss, request_id=request_id, now=AT)
    assert "林晓东" not in html and "林**" in html and "P-2025-0001" not in html
    add_form = aftersales_requests.PolicyRequestForm(kind="endorsement", policy_number="P-2025-0001",
                                                     insured_name="林晓东", channel="phone", requester_name="林晓东",
                                                     requester_phone="13900001111", change_requested="地址变更。")
    endorsement = aftersales_requests.register_policy_request(uow, actor=people.clerk, form=add_form, now=AT)
    masked = desk_documents.endorsement_form(uow, actor=people.boss, request_id=endorsement.id, now=AT)
    assert "110101198001010010" not in masked and "13900001111" not in masked and "林晓东" not in masked
    with pytest.raises(PermissionDenied):
        desk_documents.refusal_notice(uow, actor=people.techhandler, request_id=request_id, now=AT)


def test_the_request_record_names_codes_and_dates_for_the_page(uow, people):
    request_id = _refused_report(uow, people)
    record = desk_documents.request_record(uow, actor=people.opshandler, request_id=request_id, now=AT)
    rows = {label: value for s in record.sections("zh") for label, value in s.rows}
    assert rows["出险原因"] == "疾病住院" and rows["受理方式"] == "电话" and rows["状态"] == "不予受理"
    assert "最后申请日 2025年10月2日" in rows["审核结果"] and rows["原件已退还客户"] == "是"
    assert desk_documents.find_request_id(uow, actor=people.boss, number="ba2510-0001", now=AT) == request_id
    assert desk_documents.find_request_id(uow, actor=people.boss, number="BA2510-9999", now=AT) is None
