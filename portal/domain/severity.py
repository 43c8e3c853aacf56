"""Major-case criteria (重大案件, 002 ch.2 4.(二)6 adapted by SPEC §2).

A case with any flag the configuration counts (by default every one) is 重大 whatever severity the
clerk chose, and must be reported upward within 24 hours. The flags: two or more deaths in one
accident, media involved or likely, a referral by the regulator, a complaint to the insurers'
association (同业公会), litigation threatened or started. The thresholds (amount at stake, joint
complainants) and which flags count are configuration rows (`major.*` settings).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


# every flag, in the order forms show them
FLAGS = ("deaths", "media", "regulator", "association", "litigation")
ALL_FLAGS = frozenset(FLAGS)


@dataclass(frozen=True)
class MajorThresholds:
    amount: Decimal           # amount at stake strictly above this is major (default 500,000 CNY)
    joint_complainants: int   # this many complainants or more is a major joint complaint (default 20)
    flags: frozenset[str] = ALL_FLAGS   # the flags that make a case major (configuration; default all)


def major_reasons(*, media: bool, regulator: bool, litigation: bool, amount: Decimal | None,
                  joint_complainants: int, thresholds: MajorThresholds, deaths: bool = False,
                  association: bool = False) -> list[str]:
    raised_flags = {"deaths": deaths, "media": media, "regulator": regulator, "association": association,
                    "litigation": litigation}
    reasons = []
    for flag in FLAGS:
        raised = raised_flags[flag]
        if raised and flag in thresholds.flags:
            reasons.append(flag)
    if amount is not None and amount > thresholds.amount:
        reasons.append("amount")
    if joint_complainants >= thresholds.joint_complainants:
        reasons.append("joint")
    return reasons


def effective_severity(chosen: str, reasons: list[str]) -> str:
    return "major" if reasons else chosen
