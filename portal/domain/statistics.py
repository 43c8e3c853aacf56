"""The monthly complaint statistics table (客户投诉案件统计表, 002 art.13.9) and early warning
(004 ch.9): periods, rates, the warning rule and the compile deadline. Plain Python.

Definitions (what each figure counts), so the board reads the same thing every month:
- received / accepted / closed: cases whose received_at / accepted_at / closed_at falls in the period;
- closed on time: closed in the period with the closure clock (结案) met;
- open at period end: received before the end and not closed by then; overdue open: of those, the
  ones with at least one clock past its due at the end (now, for a period still running);
- overdue rate: (closed late + overdue open) / (closed + open at period end);
- repeat rate: repeat complaints (linked to an earlier case) / received;
- satisfaction: share of follow-up surveys in the period whose score is at or above the
  "satisfied" score (*setting*, default 4 of 5), per dimension, beside its baseline (004 §1.2, a
  *setting* per dimension) and the gap (rate − baseline); each dimension and the overall rate warn
  below their own threshold (default: the baseline);
- complaint rate: complaints received in the period per 10,000 policies in force on its last day
  (from the policy register when it holds any policy, else the administrator's figure for the month
  of the period's last day); warned above its threshold once an administrator sets one;
- rectification completion: items whose deadline falls in the period, done by the end of their
  deadline day / all of them; effectiveness: effect confirmations made in the period found
  effective / all of them (company-wide KPIs: the case filters do not narrow them);
- causes, per month of the last twelve: each department report's cause (month and department of its
  submission) and each closure's cause (month it closed), by sub-cause and class;
- complainant profile: the complaints received in the period by gender, age band and occupation
  (the ten commonest occupations, the rest as one "other"); counts only.
- volume growth: received against the previous period of the same length; a period still running
  is compared with the same days of the previous one (`growth_comparison`);
- handling time per clock: stop − start of the clocks that stopped in the period; the 90th
  percentile is the nearest-rank one (the smallest value at least 90 % of them do not exceed) of the durations
  rounded down to the whole minute (`minute_floor`: the same whether it is read from every duration or from counts
  per minute).
"""
from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum


@dataclass(frozen=True)
class Period:
    """Whole days, `first` to `last` inclusive."""

    first: date
    last: date

    @classmethod
    def month(cls, year: int, month: int) -> "Period":
        return cls(date(year, month, 1), date(year, month, _calendar.monthrange(year, month)[1]))

    @classmethod
    def parse_month(cls, text: str) -> "Period":
        year, month = text.split("-")
        return cls.month(int(year), int(month))

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, datetime.min.time())

    @property
    def end(self) -> datetime:
        """The first instant after the period."""
        return datetime.combine(self.last + timedelta(days=1), datetime.min.time())

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def is_month(self) -> bool:
        return self.first.day == 1 and self == Period.month(self.first.year, self.first.month)

    @property
    def label(self) -> str:
        return f"{self.first:%Y-%m}" if self.is_month else f"{self.first:%Y-%m-%d} – {self.last:%Y-%m-%d}"

    def previous(self) -> "Period":
        """The period of the same length just before (the previous month for a month)."""
        if self.is_month:
            before = self.first - timedelta(days=1)
            return Period.month(before.year, before.month)
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def months(self) -> list["Period"]:
        out, cursor = [], date(self.first.year, self.first.month, 1)
        while cursor <= self.last:
            out.append(Period.month(cursor.year, cursor.month))
            cursor = out[-1].last + timedelta(days=1)
        return out

    def validate(self) -> None:
        if self.last < self.first:
            raise ValueError("period ends before it starts")


@dataclass(frozen=True)
class Comparison:
    """What 投诉量环比增长 compares: the part of the period elapsed so far (all of it once it is
    over) with as many days of the previous period."""

    current: Period
    previous: Period
    in_progress: bool


def growth_comparison(period: Period, as_of: datetime) -> Comparison | None:
    """The volume-growth comparison at `as_of`; None before the period starts (nothing to compare).

    A month in progress on day d is compared with days 1…d of the previous month, the whole of it
    when it is shorter (on 31 December, all of November); a date range in progress with as many days
    just before it."""
    if as_of < period.start:
        return None
    if as_of >= period.end:
        return Comparison(period, period.previous(), False)
    today = as_of.date()
    elapsed = (today - period.first).days
    current = Period(period.first, today)
    if period.is_month:
        before = period.previous()
        return Comparison(current, Period(before.first, min(before.first + timedelta(days=elapsed), before.last)), True)
    return Comparison(current, Period(period.first - timedelta(days=elapsed + 1), period.first - timedelta(days=1)), True)


# Ageing of open cases: (bucket, upper limit in days open); a bucket's lower bound is the one before's limit.
AGE_BUCKETS = (("0_3", 3), ("4_7", 7), ("8_15", 15), ("16_30", 30), ("31_plus", None))
AGE_STATUSES = ("overdue", "due_soon", "paused", "on_track")     # the worst running badge first


def age_lower_bound(bucket: str) -> int:
    names = [name for name, _ in AGE_BUCKETS]
    position = names.index(bucket)
    return 0 if position == 0 else AGE_BUCKETS[position - 1][1]


def ageing_in_order(rows: list[dict]) -> list[dict]:
    """Ageing rows by their bucket's lower bound, then by badge (worst first): tables read top-down."""
    return sorted(rows, key=lambda r: (age_lower_bound(r["bucket"]), AGE_STATUSES.index(r["status"])))


def trend_months(period: Period, count: int = 12) -> list[Period]:
    """The months a trend chart shows: the period's own months, or the `count` months ending
    with the period's last month when the period is shorter."""
    months = period.months()
    while len(months) < count:
        months.insert(0, months[0].previous())
    return months


def rate(part: float, whole: float) -> float | None:
    return None if not whole else part / whole


def minute_floor(seconds: float) -> int:
    """A duration in seconds rounded down to the whole minute, in seconds: the resolution of the percentiles."""
    return int(seconds) // 60 * 60


def nearest_rank_index(count: int, share: float = 0.9) -> int:
    """Zero-based position of the nearest-rank percentile in `count` sorted values."""
    from math import ceil
    return max(0, ceil(share * count) - 1)


class Indicator(StrEnum):
    SATISFACTION = "satisfaction"        # below its threshold warns (overall)
    SATISFACTION_PROCESS = "satisfaction_process"          # each dimension against its own (004 §1.2)
    SATISFACTION_ATTITUDE = "satisfaction_attitude"
    SATISFACTION_EFFICIENCY = "satisfaction_efficiency"
    SATISFACTION_RESULT = "satisfaction_result"
    OVERDUE_RATE = "overdue_rate"        # above its threshold warns
    REPEAT_RATE = "repeat_rate"
    VOLUME_GROWTH = "volume_growth"
    COMPLAINT_RATE = "complaint_rate"    # complaints per 10,000 policies in force (off while its setting is empty)


SATISFACTION_DIMENSIONS = ("process", "attitude", "efficiency", "result")
SATISFACTION_INDICATOR = {"overall": Indicator.SATISFACTION,
                          **{d: Indicator(f"satisfaction_{d}") for d in SATISFACTION_DIMENSIONS}}
SETTING_OF = {Indicator.SATISFACTION: "warning.satisfaction_min", Indicator.OVERDUE_RATE: "warning.overdue_rate_max",
              Indicator.REPEAT_RATE: "warning.repeat_rate_max", Indicator.VOLUME_GROWTH: "warning.volume_growth_max",
              Indicator.COMPLAINT_RATE: "warning.complaint_rate_max",
              **{SATISFACTION_INDICATOR[d]: f"warning.satisfaction_min.{d}" for d in SATISFACTION_DIMENSIONS}}
_LOW_IS_BAD = set(SATISFACTION_INDICATOR.values())
RATE_PER_POLICIES = {Indicator.COMPLAINT_RATE}        # not a fraction: shown as a number per 10,000 policies


def indicator_text(indicator: str, value: float | None) -> str:
    """An indicator's value or threshold as people read it: a percentage (59.2%), or complaints per 10,000
    policies (1.25); a dash when there is none."""
    if value is None:
        return "—"
    return f"{value:.2f}" if indicator in RATE_PER_POLICIES else f"{value:.1%}"


def baseline_key(dimension: str) -> str:
    """The seed's baseline satisfaction rate of a dimension (004 §1.2), a setting."""
    return f"satisfaction.baseline.{dimension}"


def thresholds_from(settings: dict[str, str]) -> dict[Indicator, float]:
    """Each indicator's threshold: its setting; a dimension's satisfaction threshold defaults to its
    baseline; an empty setting (the complaint rate until an administrator sets one) means no warning."""
    out: dict[Indicator, float] = {}
    for indicator, key in SETTING_OF.items():
        value = (settings.get(key) or "").strip()
        if not value and indicator in _LOW_IS_BAD and indicator is not Indicator.SATISFACTION:
            dimension = indicator.value.removeprefix("satisfaction_")
            value = (settings.get(baseline_key(dimension)) or "").strip()
        if value:
            out[indicator] = float(value)
    return out


def in_force_day(period: Period) -> date:
    """The day the policies in force are counted on for a period's complaint rate: its last day (a policy
    counts if it covers that day, 00:00 of its start date to 24:00 of its end date)."""
    return period.last


@dataclass(frozen=True)
class Warning:
    """预警: which indicator, its value, the threshold it crossed, the period."""

    indicator: Indicator
    value: float
    threshold: float
    period: str


def early_warnings(values: dict[Indicator, float | None], thresholds: dict[Indicator, float],
                   period: str) -> list[Warning]:
    """Indicators past their thresholds (an indicator with no value — nothing to measure — never warns)."""
    out = []
    for indicator in Indicator:
        value, threshold = values.get(indicator), thresholds.get(indicator)
        if value is None or threshold is None:
            continue
        breached = value < threshold if indicator in _LOW_IS_BAD else value > threshold
        if breached:
            out.append(Warning(indicator, value, threshold, period))
    return out


class CompileStatus(StrEnum):
    ON_TRACK = "on_track"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    MET = "met"
    MET_LATE = "met_late"


def compile_due(month: Period, compile_day: int) -> datetime:
    """The monthly table is due by the end (24:00) of `compile_day` of the next month (SPEC §4)."""
    following = month.last + timedelta(days=1)
    return datetime.combine(following.replace(day=compile_day) + timedelta(days=1), datetime.min.time())


def compile_status(month: Period, compile_day: int, compiled_at: datetime | None, now: datetime,
                   due_soon_fraction: float) -> tuple[CompileStatus, datetime]:
    """The monthly-statistics clock: it starts at month end and stops when the table is compiled."""
    due = compile_due(month, compile_day)
    if compiled_at is not None:
        return (CompileStatus.MET if compiled_at <= due else CompileStatus.MET_LATE), due
    if now >= due:
        return CompileStatus.OVERDUE, due
    if due - now < (due - month.end) * due_soon_fraction:
        return CompileStatus.DUE_SOON, due
    return CompileStatus.ON_TRACK, due


PROFILE_TOP = 10          # occupations listed by name; the rest are one "other" row
UNKNOWN, OTHER = "unknown", "other"


PROFILE_FIELDS = ("gender", "age_band", "occupation")


def fold_profile(groups: list[tuple[str | None, str | None, str | None, int]]) -> dict[str, list[dict]]:
    """The complainant profile from (gender, age band, occupation, count) groups: a breakdown per field, the
    commonest first (ties by value), an empty value as "unknown", occupations past the tenth as one "other"."""
    return fold_profile_fields([(position, group[position], int(group[3])) for group in groups
                                for position in range(len(PROFILE_FIELDS))])


def fold_profile_fields(counts: list[tuple[int, str | None, int]]) -> dict[str, list[dict]]:
    """`fold_profile` from each field's own counts: (field position in PROFILE_FIELDS, value, count)."""
    out = {}
    for position, name in enumerate(PROFILE_FIELDS):
        totals: dict[str, int] = {}
        for field, raw, n in counts:
            if field == position:
                value = (raw or "").strip() or UNKNOWN
                totals[value] = totals.get(value, 0) + int(n)
        ordered = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
        if name == "occupation" and len(ordered) > PROFILE_TOP:
            ordered = [*ordered[:PROFILE_TOP], (OTHER, sum(n for _, n in ordered[PROFILE_TOP:]))]
        out[name] = [{"value": v, "count": n} for v, n in ordered]
    return out
