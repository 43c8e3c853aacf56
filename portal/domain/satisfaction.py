"""Follow-up visit (回访) and the satisfaction survey on four dimensions plus overall (004 §1.2)."""
from __future__ import annotations

from dataclasses import dataclass

from portal.domain.validation import text_field
from portal.domain.errors import Message

DIMENSIONS = ("process", "attitude", "efficiency", "result", "overall")


@dataclass(frozen=True)
class Survey:
    process: int
    attitude: int
    efficiency: int
    result: int
    overall: int


def validate_survey(survey: Survey, outcome: str) -> dict[str, Message]:
    errors = {name: Message("survey.score_range") for name in DIMENSIONS
              if not isinstance(getattr(survey, name), int) or isinstance(getattr(survey, name), bool)
              or not 1 <= getattr(survey, name) <= 5}
    text_field(errors, "outcome", outcome, limit=2000)
    return errors


def dissatisfied(survey: Survey, threshold: int) -> bool:
    """An overall score at or below the threshold (default 2) opens a GM-office follow-up task."""
    return survey.overall <= threshold
