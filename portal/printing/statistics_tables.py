"""The monthly statistics table (客户投诉案件统计表) laid out for people: the same tables on the
page (the numbers behind each chart), in the Excel workbook (one sheet per breakdown, a cover
sheet) and in the CSV. Built from the figures the statistics service returns (or a compiled
snapshot), in the reader's language."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from portal.domain.statistics import ageing_in_order, indicator_text
from portal.i18n import translate

PERCENT_COLUMNS = ("on_time_rate", "responsibility_ratio", "compliance", "rate", "threshold", "value", "baseline",
                   "gap")
SUMMARY_KEYS = ("received", "accepted", "closed", "closed_on_time", "closed_late", "open_at_end", "overdue_open",
                "repeats", "previous_received", "reminders", "late_inquiries", "surveys", "rectifications_due",
                "rectifications_done")
RATE_KEYS = ("on_time_rate", "overdue_rate", "repeat_rate", "satisfaction", "volume_growth", "rectification_rate",
             "rectification_effectiveness")
# issue 18: figures a month compiled before it does not carry (shown empty there)
LOOP_SUMMARY_KEYS = ("effect_confirmations", "effective", "policies_in_force")


def percent(value) -> str:  # noqa: ANN001
    """A ratio as the page writes it (59.2%); a dash when there is nothing to divide by."""
    return "—" if _missing(value) else f"{value:.1%}"


@dataclass(frozen=True)
class Names:
    """Display names of the codes the figures use, in one language."""

    categories: dict[str, str]
    channels: dict[str, str]
    departments: dict[str, str]
    clocks: dict[str, str]
    causes: dict[str, str] = field(default_factory=dict)     # cause classes and sub-causes (issue 18)


@dataclass(frozen=True)
class Table:
    key: str              # sheet / section key: summary, by_category, …
    title: str
    frame: pd.DataFrame   # translated headers; rates as fractions (0.25), counts as integers
    percent: tuple[str, ...] = ()   # headers of the columns that hold fractions


def _frame(rows: list[dict], columns: list[tuple[str, str]], lang: str,
           translate_values: dict[str, callable] | None = None) -> tuple[pd.DataFrame, tuple[str, ...]]:
    translate_values = translate_values or {}
    data = {}
    percent = []
    for key, label_key in columns:
        header = translate(label_key, lang)
        values = [row.get(key) for row in rows]
        if key in translate_values:
            values = [translate_values[key](v) for v in values]
        data[header] = values
        if key in PERCENT_COLUMNS:
            percent.append(header)
    return pd.DataFrame(data, columns=list(data)), tuple(percent)


def build(figures: dict, names: Names, lang: str) -> list[Table]:
    """Every table of the statistics, in order."""
    tr = lambda key, **kw: translate(key, lang, **kw)  # noqa: E731
    summary_rows = [{"item": tr(f"stats.summary.{k}"), "value": figures["summary"].get(k)}
                    for k in (*SUMMARY_KEYS, *LOOP_SUMMARY_KEYS)]
    complaint_rate = figures["rates"].get("complaint_rate")
    summary_rows.append({"item": tr("insight.complaint_rate_per_10000"),
                         "value": None if complaint_rate is None else round(complaint_rate, 2)})
    rate_rows = [{"item": tr(f"stats.rate.{k}"), "value": figures["rates"].get(k)} for k in RATE_KEYS]
    tables = [
        Table("summary", tr("stats.table.summary"),
              pd.DataFrame({tr("stats.col.item"): [r["item"] for r in summary_rows],
                            tr("stats.col.value"): pd.Series([r["value"] for r in summary_rows], dtype=object)})),
        Table("rates", tr("stats.table.rates"),
              pd.DataFrame({tr("stats.col.item"): [r["item"] for r in rate_rows],
                            tr("stats.col.value"): [r["value"] for r in rate_rows]}),
              (tr("stats.col.value"),)),
    ]
    dimension_columns = [("received", "stats.col.received"), ("repeats", "stats.col.repeats"),
                         ("closed", "stats.col.closed"), ("closed_on_time", "stats.col.closed_on_time"),
                         ("on_time_rate", "stats.col.on_time_rate")]
    for key, column, label in (("by_category", "category", lambda v: names.categories.get(v, v)),
                               ("by_channel", "channel", lambda v: names.channels.get(v, v)),
                               ("by_severity", "severity", lambda v: tr(f"severity.{v}"))):
        frame, percent = _frame(figures[key], [(column, f"stats.col.{column}"), *dimension_columns], lang,
                                {column: label})
        tables.append(Table(key, tr(f"stats.table.{key}"), frame, percent))
    frame, percent = _frame(figures["by_department"], [
        ("department", "stats.col.department"), ("routed", "stats.col.routed"),
        ("responsible", "stats.col.responsible"), ("responsibility_ratio", "stats.col.responsibility_ratio"),
        ("clocks_completed", "stats.col.clocks_completed"), ("clocks_met", "stats.col.clocks_met"),
        ("compliance", "stats.col.compliance")], lang, {"department": lambda v: names.departments.get(v, v)})
    tables.append(Table("by_department", tr("stats.table.by_department"), frame, percent))
    hours = lambda v: None if v is None else round(v, 1)  # noqa: E731
    frame, percent = _frame(figures["clocks"], [
        ("clock", "stats.col.clock"), ("completed", "stats.col.completed"), ("met", "stats.col.met"),
        ("late", "stats.col.late"), ("compliance", "stats.col.compliance"), ("avg_hours", "stats.col.avg_hours"),
        ("p90_hours", "stats.col.p90_hours"), ("overdue_at_end", "stats.col.overdue_at_end")], lang,
        {"clock": lambda v: names.clocks.get(v, v), "avg_hours": hours, "p90_hours": hours})
    tables.append(Table("clocks", tr("stats.table.clocks"), frame, percent))
    frame, percent = _frame(figures["satisfaction"], [
        ("dimension", "stats.col.dimension"), ("surveys", "stats.col.surveys"), ("average", "stats.col.average"),
        ("satisfied", "stats.col.satisfied"), ("rate", "stats.col.rate"), ("baseline", "insight.col.baseline"),
        ("gap", "insight.col.gap"), ("threshold", "stats.col.threshold")],
        lang, {"dimension": lambda v: tr(f"survey.{v}"), "average": lambda v: None if v is None else round(v, 2)})
    tables.append(Table("satisfaction", tr("stats.table.satisfaction"), frame, percent))
    tables += insight_tables(figures, names, lang)
    frame, _ = _frame(figures["department_category"], [
        ("department", "stats.col.department"), ("category", "stats.col.category"), ("count", "stats.col.count")],
        lang, {"department": lambda v: names.departments.get(v, v), "category": lambda v: names.categories.get(v, v)})
    tables.append(Table("department_category", tr("stats.table.department_category"), frame))
    frame, _ = _frame(figures["trend"], [
        ("month", "stats.col.month"), ("received", "stats.col.received"), ("closed", "stats.col.closed"),
        ("closed_late", "stats.col.closed_late")], lang)
    tables.append(Table("trend", tr("stats.table.trend"), frame))
    frame, _ = _frame(ageing_in_order(figures["ageing"]), [
        ("bucket", "stats.col.bucket"), ("status", "stats.col.status"), ("count", "stats.col.count")], lang,
        {"bucket": lambda v: tr(f"stats.age.{v}"), "status": lambda v: tr(f"stats.status.{v}")})
    tables.append(Table("ageing", tr("stats.table.ageing"), frame))
    # a rate as a percentage, the complaint rate as complaints per 10,000 policies: written as read
    warned = [{**w, "value": indicator_text(w["indicator"], w["value"]),
               "threshold": indicator_text(w["indicator"], w["threshold"])} for w in figures["warnings"]]
    frame, _ = _frame(warned, [
        ("indicator", "stats.col.indicator"), ("value", "stats.col.value"), ("threshold", "stats.col.threshold"),
        ("period", "stats.col.period")], lang, {"indicator": lambda v: tr(f"stats.rate.{v}")})
    tables.append(Table("warnings", tr("stats.table.warnings"), frame))
    tables += review_tables(figures, names, lang)
    return tables


def insight_tables(figures: dict, names: Names, lang: str) -> list[Table]:
    """Causes month by month (by class, sub-cause and department or closure) and the complainant profile."""
    tr = lambda key, **kw: translate(key, lang, **kw)  # noqa: E731
    out = []
    if "causes" in figures:
        frame, _ = _frame(figures["causes"], [
            ("month", "stats.col.month"), ("source", "insight.col.unit"), ("class", "insight.col.cause_class"),
            ("cause", "insight.col.cause"), ("count", "stats.col.count")], lang, {})
        unit = tr("insight.col.unit")
        frame[unit] = [tr("insight.causes.closure") if r["source"] == "closure"
                       else names.departments.get(r["department"], r["department"]) for r in figures["causes"]]
        for column in ("insight.col.cause_class", "insight.col.cause"):
            frame[tr(column)] = [names.causes.get(v, v) for v in frame[tr(column)]]
        out.append(Table("causes", tr("insight.table.causes"), frame))
    if "profile" in figures:
        def label(kind: str, value: str) -> str:
            if value in ("unknown", "other"):
                return tr(f"insight.profile.{value}")
            return tr(f"gender.{value}") if kind == "gender" else tr(f"age.{value}") if kind == "age_band" else value
        rows = [{"kind": tr(f"insight.profile.{kind}"), "value": label(kind, r["value"]), "count": r["count"]}
                for kind in ("gender", "age_band", "occupation") for r in figures["profile"].get(kind, [])]
        frame, _ = _frame(rows, [("kind", "insight.col.profile_kind"), ("value", "insight.col.profile_value"),
                                 ("count", "stats.col.count")], lang)
        out.append(Table("profile", tr("insight.table.profile"), frame))
    return out


# -- the monthly review (002 art.13.9): every case closed in the month, the departments' confirmations --

def closed_cases_frame(rows: list[dict], names: Names, lang: str) -> pd.DataFrame:
    """One line per closed case: responsibility, ratios, measures and results (月度检查's list)."""
    tr = lambda key, **kw: translate(key, lang, **kw)  # noqa: E731
    department = lambda code: names.departments.get(code, code)  # noqa: E731
    separator = "；" if lang == "zh" else "; "

    def responsibility(row: dict) -> str:
        level = tr(f"resp.{row['responsibility_level']}") if row.get("responsibility_level") else ""
        if not row.get("responsible_department"):
            return level
        return f"{department(row['responsible_department'])}（{level}）" if level else department(
            row["responsible_department"])

    def result(row: dict) -> str:
        text = tr(f"result.{row['negotiation_result']}") if row.get("negotiation_result") else ""
        if row.get("agreed_amount") is not None:
            text += f" · {float(row['agreed_amount']):,.2f}"
        return text

    def penalty(row: dict) -> str:
        parts = []
        if row.get("department_loss") not in (None, "0", "0.00"):
            parts.append(tr("review.col.loss_amount", amount=f"{float(row['department_loss']):,.2f}"))
        if row.get("penalty_type") and row["penalty_type"] != "none":
            parts.append(tr(f"penalty.{row['penalty_type']}"))
        if row.get("penalty_persons"):
            parts.append(row["penalty_persons"])
        return separator.join(parts)

    columns = {
        "review.col.number": [r["number"] for r in rows],
        "review.col.closed_at": [r["closed_at"] for r in rows],
        "review.col.category": [names.categories.get(r["category"], r["category"]) for r in rows],
        "review.col.severity": [tr(f"severity.{r['severity']}") for r in rows],
        "review.col.responsibility": [responsibility(r) for r in rows],
        "review.col.shares": ["、".join(f"{department(c)} {n}%" for c, n in r["shares"].items()) for r in rows],
        "review.col.measures": [separator.join(f"{department(c)}：{m}" for c, m in r["measures"].items())
                                for r in rows],
        "review.col.opinion": [r["closure_note"] or r["opinion"] for r in rows],
        "review.col.result": [result(r) for r in rows],
        "review.col.penalty": [penalty(r) for r in rows],
        "review.col.rectifications": [tr("review.col.items", total=r["rectifications"], done=r["rectifications_done"])
                                      if r["rectifications"] else "" for r in rows],
    }
    return pd.DataFrame({tr(key): values for key, values in columns.items()}, columns=[tr(k) for k in columns])


def confirmations_frame(review: dict, names: Names, lang: str) -> pd.DataFrame:
    """Each department's confirmation of the month (who, when) or that it has not confirmed; then each
    dispute with its reason and resolution."""
    tr = lambda key, **kw: translate(key, lang, **kw)  # noqa: E731
    department = lambda code: names.departments.get(code, code)  # noqa: E731
    lines = []
    for row in review.get("departments", []):
        lines.append({"kind": tr("review.kind.confirmation"), "department": department(row["department"]),
                      "case": tr("review.cases_count", n=row["cases"]),
                      "status": tr(f"review.status.{row['status']}"), "by": row["confirmed_by"] or "",
                      "at": row["confirmed_at"] or "", "reason": "", "resolution": ""})
    for row in review.get("disputes", []):
        lines.append({"kind": tr("review.kind.dispute"), "department": department(row["department"]),
                      "case": row["number"], "status": tr(f"review.status.{row['status']}"), "by": row["by"],
                      "at": row["at"], "reason": row["reason"],
                      "resolution": " ".join(p for p in (row["resolution"], row["resolved_by"] or "",
                                                         row["resolved_at"] or "") if p)})
    keys = ("kind", "department", "case", "status", "by", "at", "reason", "resolution")
    return pd.DataFrame({tr(f"review.col.{k}"): [line[k] for line in lines] for k in keys},
                        columns=[tr(f"review.col.{k}") for k in keys])


def review_tables(figures: dict, names: Names, lang: str) -> list[Table]:
    """The review's two tables when the figures carry it (a compiled month, or a month's export)."""
    review = figures.get("review")
    if not review:
        return []
    return [Table("closed_cases", translate("review.table.closed_cases", lang),
                  closed_cases_frame(review.get("closed_cases", []), names, lang)),
            Table("confirmations", translate("review.table.confirmations", lang),
                  confirmations_frame(review, names, lang))]


def describe_filters(figures: dict, names: Names, lang: str) -> str:
    f = figures["filters"]
    parts = []
    for key, label in (("department", names.departments), ("category", names.categories),
                       ("channel", names.channels)):
        if f.get(key):
            parts.append(f"{translate(f'stats.col.{key}', lang)}: {label.get(f[key], f[key])}")
    if f.get("severity"):
        parts.append(f"{translate('stats.col.severity', lang)}: {translate('severity.' + f['severity'], lang)}")
    return "；".join(parts) if parts else translate("stats.no_filters", lang)


def period_span(figures: dict, lang: str) -> str:
    """First – last day; for a period still running, up to today and as of when."""
    period = figures["period"]
    if period.get("in_progress"):
        return translate("stats.cover.through", lang, first=period["first"], through=figures["as_of"][:10],
                         at=figures["as_of"])
    return f"{period['first']} – {period['last']}"


def workbook(figures: dict, names: Names, lang: str, *, exported_at: datetime,
             compiled: tuple[datetime, str] | None = None) -> bytes:
    """The Excel workbook: a cover sheet (period, filters, when exported, compiled by whom), then
    one sheet per table."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    cover = book.active
    cover.title = translate("stats.sheet.cover", lang)[:31]
    lines = [(translate("stats.report_title", lang), ""),
             (translate("stats.cover.period", lang), figures["period"]["label"]),
             (translate("stats.cover.from_to", lang), period_span(figures, lang)),
             (translate("stats.cover.filters", lang), describe_filters(figures, names, lang)),
             (translate("stats.cover.as_of", lang), figures["as_of"]),
             (translate("stats.cover.exported_at", lang), f"{exported_at:%Y-%m-%d %H:%M}")]
    if compiled:
        lines.append((translate("stats.cover.compiled", lang), f"{compiled[0]:%Y-%m-%d %H:%M} {compiled[1]}"))
    lines.append((translate("stats.cover.masked", lang), ""))
    for row, (label, value) in enumerate(lines, start=1):
        cover.cell(row=row, column=1, value=label).font = Font(bold=row == 1 or bool(value))
        cover.cell(row=row, column=2, value=value)
    cover.column_dimensions["A"].width = 24
    cover.column_dimensions["B"].width = 48
    for table in build(figures, names, lang):
        sheet = book.create_sheet(table.title[:31])
        headers = list(table.frame.columns)
        for col, header in enumerate(headers, start=1):
            sheet.cell(row=1, column=col, value=header).font = Font(bold=True)
            sheet.column_dimensions[get_column_letter(col)].width = max(12, len(str(header)) * 2 + 2)
        for r, values in enumerate(table.frame.itertuples(index=False), start=2):
            for col, (header, value) in enumerate(zip(headers, values), start=1):
                cell = sheet.cell(row=r, column=col, value=None if _missing(value) else value)
                if header in table.percent and isinstance(value, (int, float)) and not _missing(value):
                    cell.number_format = "0.0%"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _missing(value) -> bool:  # noqa: ANN001
    return value is None or (isinstance(value, float) and value != value)


def csv_bytes(figures: dict, names: Names, lang: str) -> bytes:
    """One CSV: table, then its rows (a header line per table), UTF-8 with BOM so Excel reads Chinese."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([translate("stats.cover.period", lang), figures["period"]["label"],
                     translate("stats.cover.from_to", lang), period_span(figures, lang),
                     translate("stats.cover.filters", lang), describe_filters(figures, names, lang)])
    for table in build(figures, names, lang):
        writer.writerow([])
        writer.writerow([table.title])
        headers = list(table.frame.columns)
        writer.writerow(headers)
        for values in table.frame.itertuples(index=False):
            writer.writerow([percent(v) if h in table.percent else "" if _missing(v) else v
                             for h, v in zip(headers, values)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
