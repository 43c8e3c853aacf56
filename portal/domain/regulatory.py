"""The regulator's rules for telling the complainant the decision (银行业保险业消费投诉处理管理办法,
CBIRC order 2020 No. 3): what the decision must state (art. 19), how it is told (art. 21), how far
the 15-day limit may be extended and by whose approval (art. 18), and the review window (art. 20)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from portal.domain.validation import choice_message, text_field
from portal.domain.errors import Message, TransitionNotAllowed

REMEDIES = ("review", "mediation", "arbitration", "litigation")   # 核查、调解、仲裁、诉讼
# How the complainant is told of an extension (art. 18, 21): any of these, SMS included.
TOLD_VIA = ("written", "sms", "email", "phone")
# A decision is told by letter (or an e-mail carrying the letter) or by a recorded call (art. 21; 002
# art.13.10); an SMS can only say that a letter was sent or ask the customer to call.
DECISION_VIA = ("written", "email", "phone")
OUTSIDE_PROCESSES = ("appraisal", "mediation")                    # art. 23: time not counted
DECISION_DAYS = 15          # art. 18: the decision told within 15 days of receipt (a firm may be quicker)
REVIEW_WINDOW_DAYS = 30
# (extension number) → (days added, lowest approver level that may grant it)
EXTENSIONS = {1: (15, "deputy_gm"), 2: (30, "gm")}   # 15 → 30 days, then 30 more: 60 at most


@dataclass
class Decision:
    checked: str = ""              # what was checked (核查的事实)
    basis: str = ""                # basis and reasons (依据和理由)
    remedies: list[str] = field(default_factory=list)
    told_via: str = ""
    proof: str = ""                # reference to the letter, SMS, email or call recording


def normalise_decision(decision: Decision) -> tuple[Decision, dict[str, Message]]:
    """The decision as stored (text cleaned) and its problems, keyed by form field."""
    errors: dict[str, Message] = {}
    # an e-mail's proof is its Message-ID, which the outbox gives it
    texts = {name: text_field(errors, f"decision_{name}", getattr(decision, name),
                              limit=200 if name == "proof" else 4000, multiline=name != "proof",
                              required=not (name == "proof" and decision.told_via == "email"))
             for name in ("checked", "basis", "proof")}
    remedies = decision.remedies
    if not isinstance(remedies, (list, tuple)) or not remedies or any(
            not isinstance(r, str) or r not in REMEDIES for r in remedies):
        errors["decision_remedies"] = Message("regulatory.remedies_required")
        remedies = []
    if decision.told_via == "sms":
        errors["decision_told_via"] = Message("regulatory.sms_not_a_decision")
    elif not isinstance(decision.told_via, str) or decision.told_via not in DECISION_VIA:
        errors["decision_told_via"] = choice_message(decision.told_via)
    return Decision(remedies=list(dict.fromkeys(remedies)), told_via=decision.told_via, **texts), errors


def validate_decision(decision: Decision) -> dict[str, Message]:
    return normalise_decision(decision)[1]


def next_extension(extension_days: int) -> tuple[int, int, str]:
    """(number, days to add, approver level needed) for the next extension, or refuse."""
    granted = 0
    for number in sorted(EXTENSIONS):
        days, level = EXTENSIONS[number]
        if extension_days < granted + days:
            return number, days, level
        granted += days
    raise TransitionNotAllowed("regulatory.no_more_extensions")


def check_review_window(decision_told_at: datetime | None, now: datetime) -> None:
    if decision_told_at is None:
        raise TransitionNotAllowed("regulatory.no_decision_yet")
    if now > decision_told_at + timedelta(days=REVIEW_WINDOW_DAYS):
        raise TransitionNotAllowed("regulatory.review_window_passed", days=REVIEW_WINDOW_DAYS)
