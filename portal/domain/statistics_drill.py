"""From a statistics figure to the cases behind it: which figure, over which period and filters,
written as the ledger's address parameters (``?figure=received&from=…``) and read back from them.

Only figures that count cases can be listed; reminders, late-inquiries, surveys, rectification
items and per-department clock counts count other things (a case may have several), so they have
no figure here and the statistics page says so beside them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Mapping

from portal.domain.errors import DomainError
from portal.domain.statistics import AGE_BUCKETS, AGE_STATUSES, Period


class Figure(StrEnum):
    RECEIVED = "received"                # received in the period
    ACCEPTED = "accepted"                # accepted in the period
    CLOSED = "closed"                    # closed in the period
    CLOSED_ON_TIME = "closed_on_time"    # closed in the period, closure clock met
    CLOSED_LATE = "closed_late"          # closed in the period, closure clock missed
    REPEATS = "repeats"                  # received in the period, linked to an earlier case
    OPEN_AT_END = "open_at_end"          # received before the period's end (now, if running), not closed then
    OVERDUE_OPEN = "overdue_open"        # of those, a clock past its due then
    TREND_CLOSED = "trend_closed"        # the closure clock stopped in the period (the trend's 结案)
    TREND_CLOSED_LATE = "trend_closed_late"
    CLOCK_COMPLETED = "clock_completed"  # key: the clock that stopped in the period
    CLOCK_LATE = "clock_late"            # key: the clock that stopped late in the period
    AGEING = "ageing"                    # key: "bucket:status", open now (the period does not apply)


NEEDS_KEY = {Figure.CLOCK_COMPLETED, Figure.CLOCK_LATE, Figure.AGEING}
FILTERS = ("department", "category", "channel", "severity")


@dataclass(frozen=True)
class Drill:
    """A figure of the statistics as a ledger view: the same period, filters and breakdown item."""

    figure: Figure
    period: Period
    department: str | None = None
    category: str | None = None
    channel: str | None = None
    severity: str | None = None
    key: str | None = None

    def params(self) -> dict[str, str]:
        out = {"figure": self.figure.value, "from": self.period.first.isoformat(), "to": self.period.last.isoformat()}
        for name in (*FILTERS, "key"):
            value = getattr(self, name)
            if value:
                out[name] = value
        return out

    @property
    def age(self) -> tuple[str, str]:
        """(bucket, status) of an ageing figure."""
        bucket, status = (self.key or "").split(":")
        return bucket, status

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> "Drill | None":
        """The drill an address names, None when it names none; a bad one is refused in words."""
        if not params.get("figure"):
            return None
        try:
            figure = Figure(params["figure"])
        except ValueError:
            raise DomainError("drill.bad_figure", figure=params["figure"]) from None
        try:
            first, last = date.fromisoformat(params.get("from", "")), date.fromisoformat(params.get("to", ""))
        except ValueError:
            raise DomainError("drill.bad_dates") from None
        if last < first:
            raise DomainError("drill.bad_dates")
        key = params.get("key") or None
        if figure in NEEDS_KEY and not key:
            raise DomainError("drill.bad_key", figure=figure.value)
        drill = cls(figure, Period(first, last), *[params.get(name) or None for name in FILTERS], key=key)
        if figure is Figure.AGEING:
            parts = key.split(":")
            if (len(parts) != 2 or parts[0] not in [name for name, _ in AGE_BUCKETS]
                    or parts[1] not in AGE_STATUSES):
                raise DomainError("drill.bad_key", figure=figure.value)
        return drill
