"""Approval authority (核决权限, 002 art.13.3/13.5): which approver level a consolidated opinion
needs, and whether a given approver may decide it. The levels and amounts are database rows."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from portal.domain.errors import TransitionNotAllowed


@dataclass(frozen=True)
class AuthorityLevel:
    key: str
    rank: int
    max_amount: Decimal | None     # None: no upper limit
    covers_major: bool


def required_level(amount: Decimal | None, severity: str, levels: list[AuthorityLevel]) -> AuthorityLevel:
    """The lowest level whose limit covers the amount (and, for a 重大 case, that covers major)."""
    amount = amount or Decimal(0)
    for level in sorted(levels, key=lambda l: l.rank):
        if severity == "major" and not level.covers_major:
            continue
        if level.max_amount is None or amount <= level.max_amount:
            return level
    raise ValueError("no authority level covers this case; the levels table needs an unlimited top level")


def check_authority(approver_level: str | None, needed: str, levels: list[AuthorityLevel]) -> None:
    """Nobody approves beyond their level; a higher level may decide what a lower one could."""
    ranks = {l.key: l.rank for l in levels}
    if approver_level is None or ranks.get(approver_level, 0) < ranks[needed]:
        raise TransitionNotAllowed("approval.beyond_authority", needed=needed)
