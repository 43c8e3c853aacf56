"""The desk's figures on the statistics page, on SQLite and PostgreSQL: requests by kind and month, the
hand-over on time and late, refusal reasons (a report counted under each of its reasons), surrender reasons,
and who may read them."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from portal.domain.errors import PermissionDenied
from portal.domain.statistics import Period
from portal.services import aftersales, aftersales_claims, aftersales_requests, desk_statistics
from tests.services.test_aftersales import (AT, BASIC, MEDICAL, _report_in_hand, add_policy, application,
                                            report_form, version)

OCTOBER = Period(date(2025, 10, 1), date(2025, 10, 31))


def test_the_desks_figures_count_what_happened_in_the_period(uow, people):
    report = _report_in_hand(uow, people)                                   # a report and a policy
    refused = aftersales.register_claim_report(uow, actor=people.clerk, now=AT,
                                               form=report_form(policy_number="P-NONE"))
    aftersales.refuse_report(uow, actor=people.clerk, request_id=refused.id, expected_version=version(uow, refused.id),
                             copies_archived=True, originals_returned=True, now=AT)
    on_time = aftersales_claims.record_application(uow, actor=people.clerk, now=AT,
                                                   form=application(report, [*BASIC, *MEDICAL]))
    aftersales_claims.hand_over(uow, actor=people.opshandler, request_id=on_time.id,
                                expected_version=version(uow, on_time.id), insurer="华安人寿", handed_on=date(2025, 10, 13),
                                items=BASIC, receipt="HA-1", now=datetime(2025, 10, 13, 15, 0))
    waiting = aftersales_claims.record_application(uow, actor=people.clerk, now=AT,
                                                   form=application(report, [*BASIC, *MEDICAL]))
    for reason in ("financial", "financial", "service"):
        aftersales_requests.register_policy_request(
            uow, actor=people.clerk, now=AT,
            form=aftersales_requests.PolicyRequestForm(kind="surrender", policy_number="P-2025-0001",
                                                       insured_name="林晓东", channel="phone", requester_name="林晓东",
                                                       requester_phone="13900001111", reason_code=reason))
    figures = desk_statistics.desk_figures(uow, actor=people.boss, period=OCTOBER, now=datetime(2025, 10, 20, 9, 0))
    october = next(row for row in figures["by_kind"] if row["month"] == OCTOBER.label)
    assert october == {"month": OCTOBER.label, "claim_report": 2, "claim_application": 2, "surrender": 3,
                       "endorsement": 0}
    assert len(figures["by_kind"]) == 12 and figures["received"] == 7
    assert figures["handover"] == {"on_time": 1, "late": 0, "rate": 1.0, "overdue_now": 1}    # `waiting` overdue
    assert figures["refusals"]["reports"] == 1 and figures["refusals"]["reasons"]["no_policy"] == 1
    assert figures["surrenders"] == {"financial": 2, "service": 1}
    september = desk_statistics.desk_figures(uow, actor=people.boss, period=Period(date(2025, 9, 1),
                                                                                    date(2025, 9, 30)),
                                             now=datetime(2025, 10, 20, 9, 0))
    assert september["received"] == 0 and september["handover"]["rate"] is None
    assert waiting.state == "complete"
    with pytest.raises(PermissionDenied):
        desk_statistics.desk_figures(uow, actor=people.clerk, period=OCTOBER, now=AT)
