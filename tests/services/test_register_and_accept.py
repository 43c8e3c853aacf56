from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from portal.domain.errors import NotFound, PermissionDenied, TransitionNotAllowed, ValidationFailed
from portal.domain.lifecycle import State
from portal.domain.validation import Attachment
from portal.persistence.models import AttachmentRow, Complaint, Event
from portal.services import complaints, queries, rules, sessions, users
from tests.conftest import PASSWORD, T0
from tests.helpers import a_form


def register(uow, actor, **overrides):
    return complaints.register_complaint(uow, actor=actor, form=a_form(**overrides), attachments=[], now=T0)


def count(uow, model):
    with uow.read() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_registered_complaint_lands_in_the_gm_office_queue_with_its_event(uow, people):
    done = complaints.register_complaint(
        uow, actor=people.clerk, form=a_form(), now=T0,
        attachments=[Attachment("发票.pdf", "application/pdf", b"%PDF-1.4 invoice")])
    queue = queries.acceptance_queue(uow, actor=people.gmo, now=T0, calendar=rules.load_calendar(uow))
    assert list(queue.frame["id"]) == [done.id]
    assert queue.frame.loc[0, "state"] == State.REGISTERED.value
    with uow.read() as session:
        events = session.scalars(select(Event).where(Event.complaint_id == done.id)).all()
        attachment = session.scalars(select(AttachmentRow)).one()
    assert [(e.action, e.from_state, e.to_state, e.actor_label) for e in events] == [
        ("register", None, "registered", "clerk")]
    assert events[0].changes["customer_phone"] == "13812345678"
    assert attachment.filename == "发票.pdf" and attachment.data == b"%PDF-1.4 invoice"


def test_a_refused_form_saves_nothing(uow, people):
    with pytest.raises(ValidationFailed) as refused:
        register(uow, people.clerk, customer_phone="12345", customer_id_number="110105194912310021")
    assert set(refused.value.errors) == {"customer_phone", "customer_id_number"}
    assert count(uow, Complaint) == 0
    with uow.read() as session:
        assert session.scalar(select(func.count()).select_from(Event).where(Event.complaint_id.is_not(None))) == 0


def test_only_intake_registers(uow, people):
    with pytest.raises(TransitionNotAllowed):
        register(uow, people.gmo)
    assert count(uow, Complaint) == 0


def test_a_flagged_case_is_major_whatever_the_clerk_chose(uow, people):
    done = register(uow, people.clerk, severity="general", flag_regulator=True)
    assert done.severity == "major" and done.major_reasons == ["regulator"]
    done = register(uow, people.clerk, amount_at_stake="600000")
    assert done.major_reasons == ["amount"]


def test_accepting_numbers_routes_and_records_the_event(uow, people):
    done = register(uow, people.clerk)
    accepted = complaints.accept_complaint(
        uow, actor=people.gmo, complaint_id=done.id, category="claim_amount", severity="important",
        departments=["technical", "operations"], comment="请尽快", now=T0 + timedelta(hours=2))
    assert accepted.number == "2509-0001"
    assert accepted.departments == ["operations", "technical"]
    second = register(uow, people.clerk)
    assert complaints.accept_complaint(uow, actor=people.gmo, complaint_id=second.id, category="claim",
                                       severity="general", departments=["claims"],
                                       now=T0 + timedelta(days=1, hours=2)).number == "2510-0001"
    view = queries.case_detail(uow, actor=people.gmo, complaint_id=done.id, now=T0 + timedelta(hours=3),
                               calendar=rules.load_calendar(uow))
    assert view.state == "investigating" and view.category == "claim_amount"
    assert [d["code"] for d in view.departments] == ["operations", "technical"]
    assert [(e.action, e.from_state, e.to_state) for e in view.events] == [
        ("register", None, "registered"), ("accept", "registered", "investigating")]
    assert view.events[1].changes["number"] == "2509-0001"
    investigation = next(c for c in view.clocks if c.info.rule.key == "investigation")
    assert investigation.due == datetime(2025, 10, 17)          # National Day skipped, Oct 11 counted
    assert [d.day.isoformat() for d in investigation.explanation.makeup] == ["2025-10-11"]


def test_gm_office_cannot_accept_a_case_twice(uow, people):
    done = register(uow, people.clerk)
    complaints.accept_complaint(uow, actor=people.gmo, complaint_id=done.id, category="claim",
                                severity="general", departments=["operations"], now=T0)
    with pytest.raises(TransitionNotAllowed) as refused:
        complaints.accept_complaint(uow, actor=people.gmo, complaint_id=done.id, category="claim",
                                    severity="general", departments=["operations"], now=T0)
    assert refused.value.message.key == "lifecycle.not_in_state"
    with uow.read() as session:
        assert session.scalar(select(func.count()).select_from(Event).where(Event.action == "accept")) == 1


def test_an_intake_clerk_cannot_accept(uow, people):
    done = register(uow, people.clerk)
    with pytest.raises(TransitionNotAllowed):
        complaints.accept_complaint(uow, actor=people.clerk, complaint_id=done.id, category="claim",
                                    severity="general", departments=["operations"], now=T0)
    with uow.read() as session:
        assert session.get(Complaint, done.id).number is None


def test_accepting_needs_a_department_and_known_choices(uow, people):
    done = register(uow, people.clerk)
    with pytest.raises(ValidationFailed) as refused:
        complaints.accept_complaint(uow, actor=people.gmo, complaint_id=done.id, category="nope",
                                    severity="huge", departments=[], now=T0)
    assert set(refused.value.errors) == {"category", "severity", "departments"}
    with pytest.raises(ValidationFailed):   # the GM office itself is not an investigating department
        complaints.accept_complaint(uow, actor=people.gmo, complaint_id=done.id, category="claim",
                                    severity="general", departments=["gm_office"], now=T0)
    with pytest.raises(NotFound):
        complaints.accept_complaint(uow, actor=people.gmo, complaint_id=999, category="claim",
                                    severity="general", departments=["operations"], now=T0)
    with uow.read() as session:
        assert session.get(Complaint, done.id).state == "registered"


def test_a_disabled_user_is_refused_at_the_next_action(uow, people):
    clerk = people.clerk
    users.set_user_active(uow, actor=people.admin, username="clerk", active=False, now=T0)
    with pytest.raises(PermissionDenied):
        register(uow, clerk)
    with pytest.raises(sessions.LoginRefused):
        sessions.sign_in(uow, username="clerk", password=PASSWORD, address="", now=T0)


def test_major_case_report_stops_its_clock_once(uow, people):
    done = register(uow, people.clerk, flag_media=True)
    complaints.report_major_case(uow, actor=people.gmo, complaint_id=done.id, comment="已报总部",
                                 now=T0 + timedelta(hours=3))
    with pytest.raises(TransitionNotAllowed):
        complaints.report_major_case(uow, actor=people.gmo, complaint_id=done.id, comment="again", now=T0)
    view = queries.case_detail(uow, actor=people.gmo, complaint_id=done.id, now=T0 + timedelta(hours=5),
                               calendar=rules.load_calendar(uow))
    major = next(c for c in view.clocks if c.info.rule.key == "major_report")
    assert major.badge.name == "MET"


def test_audit_events_cannot_be_changed_or_deleted(uow, people):
    register(uow, people.clerk)
    for statement in ("UPDATE events SET comment = 'x'", "DELETE FROM events"):
        with pytest.raises((DBAPIError, IntegrityError)):
            with uow.write() as session:
                session.execute(text(statement))
    assert count(uow, Event) > 0


def test_personal_data_is_masked_for_managers_and_other_departments(uow, people):
    done = register(uow, people.clerk)
    complaints.accept_complaint(uow, actor=people.gmo, complaint_id=done.id, category="claim",
                                severity="general", departments=["operations"], now=T0)
    cal = rules.load_calendar(uow)
    seen = queries.case_detail(uow, actor=people.boss, complaint_id=done.id, now=T0, calendar=cal)
    assert seen.masked and seen.fields["customer_phone"] == "138****5678"
    assert seen.events[0].changes["customer_phone"] == "138****5678"
    assert queries.case_detail(uow, actor=people.opshandler, complaint_id=done.id, now=T0,
                               calendar=cal).fields["customer_phone"] == "13812345678"
    with pytest.raises(PermissionDenied):
        queries.case_detail(uow, actor=people.techhandler, complaint_id=done.id, now=T0, calendar=cal)


def test_the_ledger_filters_and_counts_overdue_cases(uow, people):
    first = register(uow, people.clerk, customer_name="甲客户")
    register(uow, people.clerk, customer_name="乙客户", received_at=T0)
    complaints.accept_complaint(uow, actor=people.gmo, complaint_id=first.id, category="claim",
                                severity="general", departments=["claims"], now=T0 + timedelta(hours=1))
    cal = rules.load_calendar(uow)
    later = T0 + timedelta(days=2)      # the unaccepted case is past its 24-hour acknowledgement
    ledger = queries.tracking_ledger(uow, actor=people.gmo, filters=queries.LedgerFilter(), now=later, calendar=cal)
    assert ledger.counts["total"] == 2 and ledger.counts["overdue"] == 2   # initial plan (48 h) too
    only = queries.tracking_ledger(uow, actor=people.gmo, filters=queries.LedgerFilter(text="乙"),
                                   now=later, calendar=cal)
    assert list(only.frame["customer_name"]) == ["乙客户"]
    by_department = queries.tracking_ledger(uow, actor=people.gmo, calendar=cal, now=later,
                                            filters=queries.LedgerFilter(department="claims"))
    assert list(by_department.frame["departments"]) == [["claims"]]
    with pytest.raises(PermissionDenied):
        queries.tracking_ledger(uow, actor=people.clerk, filters=queries.LedgerFilter(), now=later, calendar=cal)


def test_the_same_form_sent_twice_registers_one_case(uow, people):
    from sqlalchemy import func, select
    from portal.persistence.models import Complaint
    from tests.conftest import T0
    from tests.helpers import a_form
    first = complaints.register_complaint(uow, actor=people.clerk, form=a_form(), attachments=[], now=T0,
                                          submission_token="form-token-0001")
    again = complaints.register_complaint(uow, actor=people.clerk, form=a_form(), attachments=[],
                                          now=T0 + timedelta(seconds=1), confirmed_new=False,
                                          submission_token="form-token-0001")
    assert again == first
    with uow.read() as session:
        assert session.scalar(select(func.count()).select_from(Complaint)) == 1
    with pytest.raises(PermissionDenied):            # a token is its clerk's own
        complaints.register_complaint(uow, actor=people.lead, form=a_form(), attachments=[], now=T0,
                                      submission_token="form-token-0001")
    other = complaints.register_complaint(uow, actor=people.clerk, form=a_form(), attachments=[], now=T0,
                                          submission_token="form-token-0002")
    assert other.id != first.id


def test_a_form_sent_four_times_at_once_registers_one_case(uow, people):
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier
    start = Barrier(4)

    def send(_):
        start.wait()
        return complaints.register_complaint(uow, actor=people.clerk, form=a_form(), attachments=[], now=T0,
                                             submission_token="form-token-race").id

    with ThreadPoolExecutor(4) as pool:
        ids = set(pool.map(send, range(4)))
    with uow.read() as session:
        assert session.scalar(select(func.count()).select_from(Complaint)) == 1
    assert len(ids) == 1


def test_a_form_whose_twin_saved_it_meanwhile_is_not_its_own_duplicate(uow, people, monkeypatch):
    """The twin request commits after this one looked for the token and before its duplicate check."""
    real, twin = complaints._register, []

    def twin_saves_it_first(uow_, **kwargs):  # noqa: ANN001, ANN003
        if not twin:
            twin.append(real(uow_, **kwargs))
        return real(uow_, **kwargs)

    monkeypatch.setattr(complaints, "_register", twin_saves_it_first)
    done = complaints.register_complaint(uow, actor=people.clerk, form=a_form(), attachments=[], now=T0,
                                         confirmed_new=False, submission_token="form-token-twin")
    assert done == twin[0] and count(uow, Complaint) == 1
    with pytest.raises(complaints.PossibleDuplicate):   # another form with the same numbers is still stopped
        complaints.register_complaint(uow, actor=people.clerk, form=a_form(), attachments=[], now=T0,
                                      confirmed_new=False, submission_token="form-token-next")


def test_an_email_with_a_space_inside_is_refused_and_nothing_saved(uow, people):
    """"a b@c.cn" is not an address: refused beside the field, never saved as "ab@c.cn"."""
    with pytest.raises(ValidationFailed) as refused:
        complaints.register_complaint(uow, actor=people.clerk, form=a_form(customer_email="a b@c.cn"),
                                      attachments=[], now=T0)
    assert refused.value.errors["customer_email"].key == "form.bad_email"
    with uow.read() as session:
        assert session.scalar(select(func.count()).select_from(Complaint)) == 0
    done = complaints.register_complaint(uow, actor=people.clerk, form=a_form(customer_email=" ab@c.cn "),
                                         attachments=[], now=T0)
    with uow.read() as session:
        assert session.get(Complaint, done.id).customer_email == "ab@c.cn"
