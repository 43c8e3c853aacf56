"""The contact rules (SPEC §11): who talks to the customer, how a decision may be told, what the
customer's preferred channel needs, and the contact clocks' place beside the process."""
from __future__ import annotations

from datetime import datetime, timedelta

from portal.domain.calendar import WorkingCalendar
from portal.domain.clocks import Badge, ClockRule, Milestone, Unit, badge_one
from portal.domain.contacts import (MILESTONE_OF_STEP, ContactChannel, ContactStep, channel_refusal,
                                    may_record_contact, preference_errors)
from portal.domain.roles import Role
from portal.domain.validation import AttachmentLimits, validate_registration
from tests.helpers import a_form

ACK = ClockRule("customer_acknowledgement", Unit.HOURS, 24, Milestone.RECEIVED, Milestone.CUSTOMER_ACKNOWLEDGED)
NOTICE = ClockRule("closure_notice", Unit.DAYS, 1, Milestone.CLOSED, Milestone.CLOSURE_NOTIFIED)
RECEIVED = datetime(2025, 9, 30, 9, 0)


def test_clerks_the_gm_office_and_a_routed_department_talk_to_the_customer():
    assert may_record_contact([Role.INTAKE], 1, [])
    assert may_record_contact([Role.INTAKE_LEAD], 1, [])
    assert may_record_contact([Role.GM_OFFICE], 2, [])
    assert may_record_contact([Role.HANDLER], 3, [3, 4])
    assert not may_record_contact([Role.HANDLER], 5, [3, 4])
    assert not may_record_contact([Role.APPROVER, Role.MANAGER], 3, [3])
    assert not may_record_contact([Role.ADMIN], None, [])


def test_a_decision_goes_by_letter_e_mail_or_phone_and_an_sms_only_points_to_it():
    assert channel_refusal(ContactStep.DECISION, ContactChannel.SMS) == "contact.decision_in_writing"
    assert channel_refusal(ContactStep.DECISION, ContactChannel.WECHAT) == "contact.decision_in_writing"
    for channel in (ContactChannel.LETTER, ContactChannel.EMAIL, ContactChannel.PHONE):
        assert channel_refusal(ContactStep.DECISION, channel) is None
    assert channel_refusal(ContactStep.ACKNOWLEDGEMENT, ContactChannel.SMS) is None
    assert channel_refusal(ContactStep.PROGRESS, ContactChannel.WECHAT) is None


def test_the_preferred_channel_is_chosen_and_has_what_it_needs():
    assert preference_errors("", email="", address="")["preferred_contact"].key == "form.choose_one"
    assert preference_errors(None, email="", address="")["preferred_contact"].key == "form.choose_one"
    assert preference_errors("fax", email="", address="")["preferred_contact"].key == "form.unknown_choice"
    assert preference_errors("email", email="", address="x")["customer_email"].key == "contact.email_needed"
    assert preference_errors("letter", email="a@b.cn", address="")["customer_address"].key == "contact.address_needed"
    assert preference_errors("phone", email="", address="") == {}
    assert preference_errors("email", email="a@b.cn", address="") == {}


def test_registration_without_a_preferred_channel_is_refused_beside_that_field():
    limits = AttachmentLimits(10 * 1024 * 1024, 10, ("pdf",))
    errors = validate_registration(a_form(preferred_contact=""), now=RECEIVED + timedelta(hours=1),
                                   channels={"phone"}, categories={"claim_speed"}, staff=set(), attachments=[],
                                   limits=limits)
    assert errors["preferred_contact"].key == "form.choose_one"
    assert "preferred_contact" not in validate_registration(
        a_form(), now=RECEIVED + timedelta(hours=1), channels={"phone"}, categories={"claim_speed"}, staff=set(),
        attachments=[], limits=limits)


def test_a_contact_step_with_a_clock_stops_it_and_the_others_have_none():
    assert MILESTONE_OF_STEP == {ContactStep.ACKNOWLEDGEMENT: Milestone.CUSTOMER_ACKNOWLEDGED.value,
                                 ContactStep.CLOSURE: Milestone.CLOSURE_NOTIFIED.value}


def test_the_acknowledgement_to_the_customer_is_due_24_hours_after_receipt():
    calendar = WorkingCalendar([])
    badge, due = badge_one(ACK, RECEIVED, None, RECEIVED + timedelta(hours=19), calendar, 0.25)
    assert (badge, due) == (Badge.DUE_SOON, RECEIVED + timedelta(hours=24))
    assert badge_one(ACK, RECEIVED, None, RECEIVED + timedelta(hours=25), calendar, 0.25)[0] is Badge.OVERDUE
    assert badge_one(ACK, RECEIVED, RECEIVED + timedelta(hours=3), RECEIVED + timedelta(hours=25), calendar,
                     0.25)[0] is Badge.MET


def test_the_closure_notice_is_due_by_the_end_of_the_day_after_closure():
    closed = datetime(2025, 10, 10, 15, 0)
    _, due = badge_one(NOTICE, closed, None, closed, WorkingCalendar([]), 0.25)
    assert due == datetime(2025, 10, 12, 0, 0)           # 24:00 of 11 October
