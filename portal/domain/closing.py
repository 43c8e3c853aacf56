"""Closing the loop (issue 18; 000 §7, §10; 001 总结; 002 art.11.2-11.3, 13.9; 004 ch.1, 5, 9): what must be
done before a closed case is archived, the rectification item's clock and effect confirmation, the cause
taxonomy's rule, the satisfaction baselines and the complaint rate. Plain Python: no database, no Streamlit.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Iterable

from portal.domain.clocks import Badge

# -- archive (001 总结): every check before it, in the order a clerk would do them --


class ArchiveBlocker(StrEnum):
    NO_FOLLOW_UP = "no_follow_up"                    # no follow-up visit recorded yet
    FOLLOW_UP_TASK = "follow_up_task"                # a dissatisfied follow-up's GM-office task is open
    SCHEDULED_FOLLOW_UP = "scheduled_follow_up"      # a scheduled follow-up (e.g. the second visit) not made
    DEPARTMENT_ACTION = "department_action"          # a department has not recorded what it did about one
    REMEDY = "remedy"                                # the remedy agreed with the customer not recorded as done
    NO_QUALITY_CHECK = "no_quality_check"            # 运营部 has not checked the handling
    CORRECTIVE_OPEN = "corrective_open"              # the failed check's corrective action is not done


@dataclass(frozen=True)
class ArchiveFacts:
    follow_ups: int
    follow_up_task_open: bool
    pending_schedules: int
    open_department_actions: int
    remedy_agreed: bool
    remedy_recorded: bool
    quality_checked: bool            # a check is on record (passed or failed)
    corrective_open: int             # corrective actions of a failed check not yet done


def archive_blockers(facts: ArchiveFacts) -> list[ArchiveBlocker]:
    """What still stands between a closed case and its archive; empty: the GM office may archive."""
    out = []
    if facts.follow_ups == 0:
        out.append(ArchiveBlocker.NO_FOLLOW_UP)
    if facts.follow_up_task_open:
        out.append(ArchiveBlocker.FOLLOW_UP_TASK)
    if facts.pending_schedules:
        out.append(ArchiveBlocker.SCHEDULED_FOLLOW_UP)
    if facts.open_department_actions:
        out.append(ArchiveBlocker.DEPARTMENT_ACTION)
    if facts.remedy_agreed and not facts.remedy_recorded:
        out.append(ArchiveBlocker.REMEDY)
    if not facts.quality_checked:
        out.append(ArchiveBlocker.NO_QUALITY_CHECK)
    if facts.corrective_open:
        out.append(ArchiveBlocker.CORRECTIVE_OPEN)
    return out


def remedy_agreed(negotiation_result: str | None, agreed_amount: Decimal | None) -> bool:
    """A payment was agreed with the customer (accepted or partly accepted, an amount above zero): it must be
    recorded as carried out (date, amount, reference) before the case is archived (004 §5.1.5)."""
    return negotiation_result in ("accepted", "partly") and agreed_amount is not None and agreed_amount > 0


# -- rectification items (000 §7; 002 art.11.3(5), 11.3(7)) --

class RectificationStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class Effect(StrEnum):
    EFFECTIVE = "effective"
    NOT_EFFECTIVE = "not_effective"


class AfterNotEffective(StrEnum):
    REOPEN = "reopen"          # the same item goes back to its owner with a new deadline
    FOLLOW = "follow"          # the item stays closed; a new item follows it


def deadline_end(deadline: date) -> datetime:
    """An item is due by the end (24:00) of its deadline day."""
    return datetime.combine(deadline + timedelta(days=1), datetime.min.time())


def rectification_badge(created_at: datetime, deadline: date, done_at: datetime | None, now: datetime,
                        due_soon_fraction: float) -> Badge:
    """The item's clock like any other: 正常 / 临期 (the last `due_soon_fraction` of its span) / 超期, or 已达成 /
    超期完成 once done."""
    due = deadline_end(deadline)
    if done_at is not None:
        return Badge.MET if done_at <= due else Badge.MET_LATE
    if now >= due:
        return Badge.OVERDUE
    if now >= due - (due - created_at) * due_soon_fraction:
        return Badge.DUE_SOON
    return Badge.ON_TRACK


def effect_due_on(done_at: datetime, effect_days: int) -> date:
    """The GM office confirms an item's effect `effect_days` calendar days after it was completed."""
    return done_at.date() + timedelta(days=effect_days)


def reminder_key(rectification_id: int, round_: int) -> str:
    """The 催办单's clock key of an overdue item: one per item and round (a reopened item is chased again)."""
    return f"rect:{rectification_id}:{round_}"


# -- causes: a two-level taxonomy, `class.sub` --

def cause_parent(code: str) -> str:
    return code.split(".", 1)[0]


def valid_cause(code: str | None, active_subcauses: Iterable[str]) -> bool:
    """A chosen cause is an active sub-cause (the second level): a class alone says too little."""
    return bool(code) and "." in code and code in set(active_subcauses)


# -- satisfaction baselines (004 §1.2) and the complaint rate --

DIMENSIONS = ("process", "attitude", "efficiency", "result", "overall")


def baseline_gap(actual: float | None, baseline: float | None) -> float | None:
    """Actual rate minus the baseline, in rate points (None where either is missing)."""
    if actual is None or baseline is None:
        return None
    return actual - baseline


def complaint_rate(complaints: int, policies_in_force: int | None) -> float | None:
    """Complaints per 10,000 policies in force (None when the number of policies is unknown or zero)."""
    if not policies_in_force:
        return None
    return complaints * 10000 / policies_in_force
