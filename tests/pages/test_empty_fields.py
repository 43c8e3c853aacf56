"""A page shows what a record holds, whatever optional field is empty: an archived case whose every
optional column is empty (records from before a field existed, a decision told with no channel
recorded) renders on the case page, in the ledger and in the printable form without an error."""
from __future__ import annotations

from sqlalchemy import inspect, update

from portal.domain.satisfaction import Survey
from portal.persistence.models import Complaint
from portal.printing.handling_form import handling_form_html
from portal.services import handling, queries, rules
from portal.services.actors import load_actor
from portal.ui.context import now as wall_now
from portal.services.queries import current_version
from tests.pages.conftest import app_as, page_path, texts
from tests.pages.test_queues import _case_in

KEPT = {"id", "state", "number", "version"}       # what makes it a case at all


def _archived_with_nothing_optional(uow) -> Complaint:  # noqa: ANN001
    case_id = _case_in(uow, "closed", 0)
    handling.record_follow_up(uow, method="phone", actor=load_actor(uow, "clerk"), complaint_id=case_id, outcome="满意",
                              survey=Survey(5, 5, 5, 5, 5), now=wall_now(),
                                            expected_version=current_version(uow, case_id))
    # a follow-up no longer archives: the payment recorded as made, the quality check, the 总结 (issue 18)
    from types import SimpleNamespace
    from portal.services import closing
    from tests.closing_helpers import archive
    closing.record_remedy(uow, actor=load_actor(uow, "clerk"), complaint_id=case_id, paid_on=wall_now().date(),
                          amount="3000", reference="PAY-1", now=wall_now(), expected_version=current_version(uow, case_id))
    archive(uow, SimpleNamespace(opshandler=load_actor(uow, "opshandler"), gmo=load_actor(uow, "gmo")), case_id,
            wall_now())
    nullable = [c["name"] for c in inspect(uow.engine).get_columns("complaints") if c["nullable"]]
    with uow.engine.begin() as connection:
        connection.execute(update(Complaint.__table__).where(Complaint.__table__.c.id == case_id)
                           .values({name: None for name in nullable if name not in KEPT}))
    with uow.read() as session:
        case = session.get(Complaint, case_id)
        assert case.state == "archived" and case.decision_told_via is None and case.decision_told_at is None
        # the told moment kept, its channel lost: the record the issue found crashing the page
        session.execute(update(Complaint).where(Complaint.id == case_id).values(decision_told_at=wall_now()))
        session.commit()
        return session.get(Complaint, case_id)


def test_an_archived_case_with_every_optional_field_empty_shows_everywhere(page_db):
    case = _archived_with_nothing_optional(page_db)
    for username in ("gmo", "clerk", "boss", "opshandler"):
        at = app_as(username, page_path("case"))
        at.text_input(key="case_ref").input(case.number).run()
        assert not at.exception, (username, at.exception)
        assert f"案件 {case.number} · 已归档" in texts(at), username
        assert "告知方式: — ·" in "\n".join(e.value for e in at.text), username
    ledger = app_as("gmo", page_path("ledger"))
    assert not ledger.exception
    detail = queries.case_detail(page_db, actor=load_actor(page_db, "gmo"), complaint_id=case.id, now=wall_now(),
                                 calendar=rules.load_calendar(page_db))
    html = handling_form_html(detail, lang="zh", printed_at=wall_now(), names={})
    assert case.number in html
