"""Recusal (回避): a staff member the complaint names may not investigate, approve or negotiate it."""
from __future__ import annotations

from typing import Iterable

from portal.domain.errors import TransitionNotAllowed


def check_not_named(user_id: int, complained_staff_ids: Iterable[int]) -> None:
    if user_id in set(complained_staff_ids):
        raise TransitionNotAllowed("recusal.named_in_complaint")
