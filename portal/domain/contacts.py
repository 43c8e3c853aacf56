"""Contact with the customer (SPEC §11; 000 §6, 002 art.13.4/13.10): the channels a contact is made
through, the steps of the process a contact serves, and which step stops which contact clock."""
from __future__ import annotations

from enum import StrEnum


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
