"""Pushed early warnings (004 ch.9) on SQLite and PostgreSQL: raised once per month and indicator by the sweep,
e-mailed through the outbox to the GM office and managers (a notice about no case, delivered like any other),
answered by the GM office or a manager (who, what, when), a to-do until then."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.adapters.notices import FolderAdapter, Transports
from portal.domain.errors import NotFound, PermissionDenied, ValidationFailed
from portal.persistence.models import Event, Notice, Setting, User, WarningAlert
from portal.services import complaints, configuration, reminders, warning_alerts
from portal.services.notices_outbox import send_due
from tests.helpers import a_form

NOW = datetime(2025, 11, 20, 9, 0)


def breach_the_complaint_rate(uow, people) -> None:  # noqa: ANN001
    """One complaint in November against 100 policies in force (100 per 10,000), the warning set at 50; the GM
    office (gmo), a manager (boss) and a clerk have e-mail addresses (only the first two are told)."""
    complaints.register_complaint(uow, actor=people.clerk, form=a_form(received_at=NOW - timedelta(hours=1)),
                                  attachments=[], now=NOW - timedelta(minutes=50))
    configuration.save_table(uow, actor=people.admin, table="policies_in_force",
                             rows=[{"period": "2025-11", "count": 100}], now=NOW - timedelta(days=1))
    with uow.write() as session:
        session.get(Setting, "warning.complaint_rate_max").value = "50"
        for username, address in (("gmo", "gmo@example.com"), ("boss", "boss@example.com"),
                                  ("clerk", "clerk@example.com")):
            session.scalar(select(User).where(User.username == username)).email = address


def test_a_breached_warning_is_raised_once_and_mailed_to_the_gm_office_and_managers(uow, people, tmp_path):
    breach_the_complaint_rate(uow, people)
    raised = warning_alerts.raise_warnings(uow, now=NOW)
    with uow.read() as session:
        alerts = {a.indicator: a for a in session.scalars(select(WarningAlert))}
        assert set(alerts) == {"complaint_rate"} and [alerts["complaint_rate"].id] == raised
        alert = alerts["complaint_rate"]
        assert (alert.period, alert.value, alert.threshold, alert.raised_at) == ("2025-11", 100.0, 50.0, NOW)
        notices = session.scalars(select(Notice).where(Notice.kind == "warning").order_by(Notice.recipient)).all()
        assert [n.recipient for n in notices] == ["boss@example.com", "gmo@example.com"]      # not the clerk
        assert all(n.complaint_id is None and n.request_id is None and n.channel == "email" for n in notices)
        assert "万张保单投诉率 / Complaints per 10,000 policies" in notices[0].subject
        assert "100.00" in notices[0].body and "50.00" in notices[0].body and "2025-11" in notices[0].body
        event = session.scalar(select(Event).where(Event.action == "warning.raise"))
        assert event.changes["indicator"] == "complaint_rate" and event.changes["notified"] == 2
    assert warning_alerts.raise_warnings(uow, now=NOW + timedelta(hours=1)) == []        # once per month
    with uow.read() as session:
        assert session.scalar(select(func.count()).select_from(Notice).where(Notice.kind == "warning")) == 2
    # the sender delivers a notice about no case like any other
    outbox = FolderAdapter(tmp_path / "outbox")
    summary = send_due(uow, now=NOW + timedelta(minutes=5), transport=Transports(email=outbox, sms=outbox))
    assert summary.sent == 2
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 2


def test_the_sweep_pushes_the_warnings(uow, people):
    breach_the_complaint_rate(uow, people)
    reminders.issue_reminders(uow, now=NOW)
    with uow.read() as session:
        assert session.scalars(select(WarningAlert.indicator)).all() == ["complaint_rate"]


def test_nothing_is_raised_while_no_threshold_is_breached(uow, people):
    breach_the_complaint_rate(uow, people)
    with uow.write() as session:
        session.get(Setting, "warning.complaint_rate_max").value = ""       # off
    assert warning_alerts.raise_warnings(uow, now=NOW) == []


def test_the_gm_office_answers_a_warning_and_it_shows_as_answered(uow, people):
    breach_the_complaint_rate(uow, people)
    [alert_id] = warning_alerts.raise_warnings(uow, now=NOW)
    assert warning_alerts.open_count(uow, actor=people.boss) == 1
    assert warning_alerts.open_count(uow, actor=people.clerk) == 0           # not theirs to answer
    with pytest.raises(PermissionDenied):
        warning_alerts.respond_to_warning(uow, actor=people.clerk, alert_id=alert_id, response="知道了", now=NOW)
    with pytest.raises(ValidationFailed) as refused:
        warning_alerts.respond_to_warning(uow, actor=people.gmo, alert_id=alert_id, response="  ", now=NOW)
    assert refused.value.errors["response"].key == "form.required"
    with pytest.raises(NotFound):
        warning_alerts.respond_to_warning(uow, actor=people.gmo, alert_id=alert_id + 99, response="x", now=NOW)
    assert warning_alerts.alerts(uow, actor=people.boss)[0].answered is False          # nothing saved
    warning_alerts.respond_to_warning(uow, actor=people.gmo, alert_id=alert_id, now=NOW + timedelta(hours=2),
                                      response="约谈承保部门，核对新单质量")
    [shown] = warning_alerts.alerts(uow, actor=people.boss)
    assert shown.answered and shown.responded_by == "总经理室丙" and shown.response == "约谈承保部门，核对新单质量"
    assert shown.responded_at == NOW + timedelta(hours=2)
    assert warning_alerts.open_count(uow, actor=people.boss) == 0
    assert warning_alerts.alerts(uow, actor=people.boss, open_only=True) == []
    with pytest.raises(ValidationFailed) as again:
        warning_alerts.respond_to_warning(uow, actor=people.boss, alert_id=alert_id, response="再答", now=NOW)
    assert again.value.errors["response"].key == "insight.warning.already_answered"
    with uow.read() as session:
        event = session.scalar(select(Event).where(Event.action == "warning.respond"))
        assert event.actor_label == "gmo" and event.changes["response"] == "约谈承保部门，核对新单质量"
