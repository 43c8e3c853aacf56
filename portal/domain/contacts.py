"""Contact with the customer (SPEC §11; 000 §6, 002 art.13.4/13.10): the channels a contact is made
through, the steps of the process a contact serves, and which step stops which contact clock."""
from __future__ import annotations

from enum import StrEnum
from typing import Iterable

from portal.domain.errors import Message
from portal.domain.lifecycle import OPEN_STATES, State
from portal.domain.roles import Role


class ContactChannel(StrEnum):
    PHONE = "phone"
    SMS = "sms"
    LETTER = "letter"
    EMAIL = "email"
    VISIT = "visit"
    WECHAT = "wechat"


class ContactStep(StrEnum):
    ACKNOWLEDGEMENT = "acknowledgement"            # within 24 h of receipt (000 §6)
    PROGRESS = "progress"                          # how far the case has got (001 处理/反馈)
    EXPECTED_COMPLETION = "expected_completion"    # before a limit slips, with the expected date (000 §6)
    DECISION = "decision"                          # the approved instructions (002 art.13.4, 13.10)
    CLOSURE = "closure"                            # after the final 核决
    FOLLOW_UP = "follow_up"                        # the follow-up visit and its invitation
    OTHER = "other"


# The complaint column a step's first contact sets: the milestone that stops its contact clock.
MILESTONE_OF_STEP = {ContactStep.ACKNOWLEDGEMENT: "customer_acknowledged_at",
                     ContactStep.CLOSURE: "closure_notified_at"}
CONTACT_MILESTONES = frozenset(MILESTONE_OF_STEP.values())
# A contact that tells the customer how far the case has got: it answers a clock turning 临期 (000 §6).
PROGRESS_STEPS = (ContactStep.PROGRESS, ContactStep.EXPECTED_COMPLETION)

# While a contact clock is running, the states in which its contact is asked for (待联系客户): the
# acknowledgement while the case is open (once closed, the closure notice tells the customer), the
# closure notice once it is closed (an archived case has had its follow-up visit).
PROMPT_STATES = {ContactStep.ACKNOWLEDGEMENT: frozenset(OPEN_STATES),
                 ContactStep.CLOSURE: frozenset({State.CLOSED})}

# The decision goes in writing (a letter, or an e-mail carrying it) or by a phone call with its record
# (002 art.13.10; CBIRC 2020 No.3 art.19, 21): an SMS or a WeChat message only points to it.
DECISION_CHANNELS = frozenset({ContactChannel.LETTER, ContactChannel.EMAIL, ContactChannel.PHONE})

# Who talks to the customer (SPEC §1): the intake clerks and their supervisor, the GM office; a handler
# of a department the case is routed to (their investigation may need the customer).
_RECORDERS = frozenset({Role.INTAKE, Role.INTAKE_LEAD, Role.GM_OFFICE})


def may_record_contact(roles: Iterable[Role], department_id: int | None,
                       case_department_ids: Iterable[int]) -> bool:
    roles = frozenset(roles)
    if roles & _RECORDERS:
        return True
    return Role.HANDLER in roles and department_id is not None and department_id in set(case_department_ids)


def channel_refusal(step: ContactStep, channel: ContactChannel) -> str | None:
    """The catalogue key of why this channel cannot serve this step, or None."""
    if step is ContactStep.DECISION and channel not in DECISION_CHANNELS:
        return "contact.decision_in_writing"
    return None


def preference_errors(preferred: object, *, email: str, address: str) -> dict[str, Message]:
    """The customer's preferred channel, chosen at intake (a decision: nothing preset), and what it
    needs on the form: an e-mail address to write to, a postal address for letters."""
    if preferred is None or preferred == "":
        return {"preferred_contact": Message("form.choose_one")}
    if not isinstance(preferred, str) or preferred not in {c.value for c in ContactChannel}:
        return {"preferred_contact": Message("form.unknown_choice")}
    if preferred == ContactChannel.EMAIL and not email:
        return {"customer_email": Message("contact.email_needed")}
    if preferred == ContactChannel.LETTER and not address:
        return {"customer_address": Message("contact.address_needed")}
    return {}
