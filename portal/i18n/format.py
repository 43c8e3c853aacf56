"""Formatting shared by the pages and the command line: due times, badges, explanations."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import pandas as pd

from portal.domain.calendar import CalendarDay
from portal.domain.clocks import Explanation, Unit
from portal.i18n import translate


def fmt_time(value: datetime | None) -> str:
    """A due time; an end-of-day deadline is written as 24:00 of that day, as people say it."""
    if value is None:
        return "—"
    if value.time() == time.min:
        return f"{(value - timedelta(days=1)):%Y-%m-%d} 24:00"
    return f"{value:%Y-%m-%d %H:%M}"


def fmt_times(values: pd.Series) -> pd.Series:
    """`fmt_time` for a whole column at once: one conversion to Python datetimes, then the same rule per value
    (a table shows at most a page of rows; pandas' vectorised string operations cost more than they save there)."""
    stamps = pd.to_datetime(values).to_numpy(dtype="datetime64[us]").astype(object)     # NaT → None
    return pd.Series([fmt_time(v) for v in stamps], index=values.index, dtype=object)


def day_note(note: str, lang: str) -> str:
    """A calendar day's note: the package's holiday names translated, an administrator's as written."""
    shown = translate(f"holiday.{note}", lang) if note else ""
    return note if shown.startswith("holiday.") else shown


def fmt_day(day: CalendarDay, lang: str) -> str:
    label = f"{day.day:%Y-%m-%d} {translate(f'weekday.{day.day.weekday()}', lang)}"
    note = day_note(day.note, lang)
    kind = translate(f"day.{day.kind.value}", lang)
    return f"{label} {kind}" + (f"（{note}）" if note else "")


def unit_text(unit: Unit | str, target: int, lang: str) -> str:
    return translate(f"unit.{Unit(unit).value}", lang, n=target)


def fmt_duration(value: timedelta | None, lang: str) -> str:
    """A span in days and hours (minutes under an hour); empty for none."""
    if value is None:
        return ""
    minutes = int(value.total_seconds()) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return translate("duration.days_hours", lang, days=days, hours=hours)
    if hours:
        return translate("duration.hours", lang, hours=hours)
    return translate("duration.minutes", lang, minutes=minutes)


def badge_text(code: int, lang: str) -> str:
    return translate(f"badge.{int(code)}", lang)


def describe(explanation: Explanation, lang: str) -> list[str]:
    """The lines shown beside a due time (and printed by `python -m portal deadline`)."""
    start = f"{explanation.start:%Y-%m-%d %H:%M}"
    if explanation.missing_year is not None:
        return [translate("explain.start", lang, start=start),
                translate("explain.missing", lang, year=explanation.missing_year)]
    due = translate("explain.due", lang, due=fmt_time(explanation.due))
    if explanation.shifted:
        due = translate("explain.shifted", lang, hours=round(explanation.shifted.total_seconds() / 3600, 1)) + " " + due
    if explanation.unit is Unit.HOURS:
        return [translate("explain.start_hours", lang, start=start), due]
    lines = [translate("explain.start", lang, start=start)]
    if explanation.unit is Unit.DAYS:
        lines.append(translate("explain.calendar_days", lang))
        if explanation.holidays_inside:
            lines.append(translate("explain.holidays_inside", lang,
                                   days="；".join(fmt_day(d, lang) for d in explanation.holidays_inside)))
        return lines + [due]
    if explanation.skipped:
        lines.append(translate("explain.skipped", lang,
                               days="；".join(fmt_day(d, lang) for d in explanation.skipped)))
    if explanation.makeup:
        lines.append(translate("explain.makeup", lang,
                               days="；".join(fmt_day(d, lang) for d in explanation.makeup)))
    else:
        lines.append(translate("explain.no_makeup", lang))
    return lines + [due]


# How the values of an audit event's changed fields are named: a catalogue prefix for codes, or a
# reference list (categories, channels, departments) the caller passes in.
_CODE_PREFIX = {"severity": "severity", "urgency": "urgency", "customer_gender": "gender", "customer_age_band": "age",
                "finding": "finding", "result": "result", "told_via": "via", "customer_told_via": "via",
                "remedies": "remedy", "kind": "outside", "major_reasons": "major.reason", "level": "level",
                "required_level": "level", "final_required_level": "level", "responsibility_level": "resp", "status": "rect.status",
                "penalty_type": "penalty", "state": "state", "contact_step": "contact.step",
                "contact_channel": "contact.channel", "preferred_contact": "contact.channel", "method": "method"}
_REFERENCE = {"channel": "channel", "category": "category", "department": "department",
              "departments": "department", "responsible_department": "department", "owner": "department",
              "added_department": "department", "clock": "clock", "clocks": "clock", "sent_to": "department",
              "cause_code": "cause", "summary_cause_code": "cause"}
_LABEL = {"checked": "field.decision_checked", "basis": "field.decision_basis", "proof": "field.decision_proof",
          "remedies": "field.decision_remedies", "told_via": "field.decision_told_via",
          "process": "survey.process", "attitude": "survey.attitude", "efficiency": "survey.efficiency",
          "overall": "survey.overall",
          **{f"survey_{d}": f"survey.{d}" for d in ("process", "attitude", "efficiency", "result", "overall")}}
_HIDDEN = {"address", "fulfils_schedule", "follow_up_action"}    # kept in the trail (ids), not shown beside the case


def change_label(key: str, lang: str) -> str:
    for candidate in (_LABEL.get(key), f"field.{key}", f"change.{key}"):
        if candidate and translate(candidate, lang) != candidate:
            return translate(candidate, lang)
    return translate("change.other", lang)


def change_value(key: str, value: object, lang: str, names: dict[str, dict[str, str]]) -> str:
    if isinstance(value, bool):
        return translate("yes" if value else "no", lang)
    if isinstance(value, (list, tuple)):
        return "、".join(change_value(key, v, lang, names) for v in value) or "—"
    if key == "shares" and isinstance(value, dict):
        departments = names.get("department", {})
        return "、".join(f"{departments.get(code, code)} {ratio}%" for code, ratio in value.items()) or "—"
    if isinstance(value, dict):
        return "；".join(f"{change_label(k, lang)}：{change_value(k, v, lang, names)}"
                        for k, v in value.items() if v not in (None, "", [])) or "—"
    if value is None or value == "":
        return "—"
    if key in _REFERENCE:
        return names.get(_REFERENCE[key], {}).get(str(value), str(value))
    if key in _CODE_PREFIX and isinstance(value, str):      # (a survey's score is a number, not a code)
        return translate(f"{_CODE_PREFIX[key]}.{value}", lang)
    if key.endswith("seconds") and isinstance(value, (int, float)):
        hours, minutes = divmod(int(value) // 60, 60)
        return translate("change.duration", lang, hours=hours, minutes=minutes)
    return str(value)


def describe_changes(changes: dict, lang: str, names: dict[str, dict[str, str]]) -> str:
    """An audit event's changed fields in words of the language: labels from the catalogue, codes
    named, empty values left out."""
    return "；".join(f"{change_label(k, lang)}：{change_value(k, v, lang, names)}"
                    for k, v in (changes or {}).items() if k not in _HIDDEN and v not in (None, "", [], {}))
