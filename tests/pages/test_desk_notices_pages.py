"""The GM office's outbox with a notice about a request to the after-sales desk (issue 17): the request's
number where a case number would be, the applicant, the notice's kind; a failed one picked and sent again."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from portal.persistence.models import Notice, RequestEvent, ServiceRequest
from portal.services.desk_notices import queue_materials_notice
from tests.conftest import T0
from tests.pages.conftest import app_as, page_path, texts

MORNING = datetime(2025, 10, 1, 10, 0)


def failed_materials_notice(page_db) -> tuple[int, int]:  # noqa: ANN001
    with page_db.write() as session:
        request = ServiceRequest(kind="claim_application", number="LP2510-0007", state="incomplete", channel="visit",
                                 received_at=T0, contact_name="李四", contact_phone="13912345678")
        session.add(request)
        session.flush()
        notice = queue_materials_notice(session, request=request, missing=["死亡证明"], now=MORNING, by=None)
        notice.state, notice.attempts, notice.last_error = "failed", 1, "SMS gateway HTTP 400: bad phone"
        return request.id, notice.id


def test_the_outbox_shows_a_request_notice_under_its_request_number_and_resends_it(page_db):
    request_id, notice_id = failed_materials_notice(page_db)
    at = app_as("gmo", page_path("outbox"))
    assert not at.exception, at.exception
    table = next(df.value for df in at.dataframe if "最近错误" in df.value.columns)
    [row] = table.to_dict("records")
    assert row["投诉 / 申请编号"].endswith("#LP2510-0007") and "case?" not in row["投诉 / 申请编号"]
    assert (row["状态"], row["最近错误"]) == ("失败", "SMS gateway HTTP 400: bad phone")
    assert "李四" in row.values() and "补齐理赔材料通知" in row.values()

    at.selectbox(key="outbox_pick").select(notice_id).run()
    assert not at.exception, at.exception
    assert "请补充提交：死亡证明。" in "\n".join(str(e.value) for e in at.text)
    at.button(key=f"FormSubmitter:outbox_act_{notice_id}-重新发送").click().run()
    assert not at.exception, at.exception
    assert "通知已重新排队发送" in texts(at)
    with page_db.read() as session:
        assert session.get(Notice, notice_id).state == "queued"
        assert session.scalar(select(RequestEvent.action).where(RequestEvent.request_id == request_id)) \
            == "notice_resend"
