"""Complaint numbers (客户投诉编号, 002 art.12): two-digit year, two-digit month, monthly serial.

The month is the month the GM office accepts the case; serials restart each month and are never
reused. Keeping them unique across processes is persistence's job (a counter row locked in the
accepting transaction); this module only says what a number looks like.
"""
from __future__ import annotations

import re
from datetime import datetime

NUMBER_PATTERN = re.compile(r"^(\d{2})(\d{2})-(\d{4,})$")


def period_of(accepted_at: datetime) -> str:
    """The numbering period `YYMM` an acceptance at this local time belongs to."""
    return accepted_at.strftime("%y%m")


def format_number(period: str, serial: int) -> str:
    if not re.fullmatch(r"\d{2}(0[1-9]|1[0-2])", period):
        raise ValueError(f"bad numbering period {period!r}")
    if serial < 1:
        raise ValueError("serials start at 1")
    return f"{period}-{serial:04d}"


def parse_number(number: str) -> tuple[str, int]:
    match = NUMBER_PATTERN.match(number.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"not a complaint number: {number!r}")
    return match.group(1) + match.group(2), int(match.group(3))
