"""Exports (SPEC §7): the tracking ledger as CSV, the statistics table as Excel and CSV.

Personal data is masked in every export where the masking table (`portal/domain/privacy.py`) masks it
for the exporting user or for exported files; only an administrator may ask for an unmasked ledger,
and that export is recorded as an audit event.
"""
from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Iterator

import pandas as pd
from sqlalchemy import func, select

from portal.domain.calendar import WorkingCalendar
from portal.domain.errors import PermissionDenied
from portal.domain.roles import Role
from portal.i18n import translate
from portal.i18n.format import badge_text, fmt_times
from portal.persistence.database import UnitOfWork
from portal.persistence.models import CauseClass, Category, Channel, Complaint, Department, SlaClock
from portal.printing import ledger_layout, statistics_tables
from portal.domain.statistics_drill import Drill, Figure
from portal.services import privacy, queries, rules, statistics, statistics_drill
from portal.services.actors import Actor, fresh_actor
from portal.services.audit import record_event

LEDGER_READERS = (Role.GM_OFFICE, Role.MANAGER, Role.ADMIN)
_CHUNK = 5000


def names(uow: UnitOfWork, lang: str) -> statistics_tables.Names:
    """Display names of categories, channels, departments and clocks (every one, active or not,
    since old cases and compiled months name retired ones too)."""
    from sqlalchemy import String, literal, union_all
    tables = (("categories", Category, "code"), ("channels", Channel, "code"), ("departments", Department, "code"),
              ("clocks", SlaClock, "key"), ("causes", CauseClass, "code"))
    out: dict[str, dict[str, str]] = {name: {} for name, _, _ in tables}
    with uow.read() as session:                 # one statement (the statistics page reads them on every run)
        for name, code, name_zh, name_en in session.execute(union_all(*(
                select(literal(name, String).label("kind"), getattr(model, key).label("code"), model.name_zh,
                       model.name_en) for name, model, key in tables))).all():
            out[name][code] = name_en if lang == "en" else name_zh
    return statistics_tables.Names(out["categories"], out["channels"], out["departments"], out["clocks"],
                                   out["causes"])


def with_review(uow: UnitOfWork, figures: dict) -> dict:
    """The figures with the monthly review's part (002 art.13.9: every case closed in the period with its
    responsibility, ratios, measures and results; for a month, the departments' confirmations). A compiled
    month carries its own, as it was when compiled."""
    if "review" in figures:
        return figures
    from portal.domain.statistics import Period
    from portal.services import monthly_review
    period = Period(date.fromisoformat(figures["period"]["first"]), date.fromisoformat(figures["period"]["last"]))
    filters = statistics.StatsFilter(period, **(figures.get("filters") or {}))
    statistics.stats_rollup.bring_up_to_date(uow)      # the departments' case counts are the rollup's
    with uow.read() as session:
        review = monthly_review.review_figures(session, period, statistics._case_conditions(session, filters))
    return {**figures, "review": review}


def statistics_workbook(uow: UnitOfWork, *, actor: Actor, figures: dict, lang: str, now: datetime,
                        compiled: tuple[datetime, str] | None = None) -> bytes:
    if not actor.has(*statistics.READERS):
        raise PermissionDenied("auth.missing_role")
    return statistics_tables.workbook(with_review(uow, figures), names(uow, lang), lang, exported_at=now,
                                      compiled=compiled)


def statistics_csv(uow: UnitOfWork, *, actor: Actor, figures: dict, lang: str) -> bytes:
    if not actor.has(*statistics.READERS):
        raise PermissionDenied("auth.missing_role")
    return statistics_tables.csv_bytes(with_review(uow, figures), names(uow, lang), lang)


def _export_conditions(uow: UnitOfWork, filters: queries.LedgerFilter, now: datetime, actor: Actor,
                       drill: Drill | None = None) -> list:
    """The ledger's filters (its text searches only what the masking table shows `actor`), within the
    cases behind a statistics figure when the ledger was opened from one."""
    with uow.read() as session:
        masking = privacy.masking_table(session)
        within = [] if drill is None else statistics_drill.drill_conditions(session, drill, now)
    conditions = [*queries.filter_conditions(filters, actor, masking), *within]
    if filters.badge in queries.BADGE_FILTERS:
        conditions.append(queries._with_badge(filters.badge, now))
    return conditions


def describe_drill(drill: Drill, lang: str, label: statistics_tables.Names) -> tuple[str, str, str]:
    """The figure a ledger view lists the cases of, its period and its filters, in words."""
    tr = lambda key, **kw: translate(key, lang, **kw)  # noqa: E731
    params = {}
    if drill.figure in (Figure.CLOCK_COMPLETED, Figure.CLOCK_LATE):
        params["clock"] = label.clocks.get(drill.key, drill.key)
    if drill.figure is Figure.AGEING:
        bucket, status = drill.age
        params.update(bucket=tr(f"stats.age.{bucket}"), status=tr(f"stats.status.{status}"))
    filters = statistics_tables.describe_filters(
        {"filters": {name: getattr(drill, name) for name in ("department", "category", "channel", "severity")}},
        label, lang)
    return tr(f"ledger.drill.figure.{drill.figure.value}", **params), drill.period.label, filters


def describe_ledger_filters(filters: queries.LedgerFilter, lang: str, label: statistics_tables.Names,
                            drill: Drill | None = None) -> str:
    """The ledger's filters in words of the language (the export says what it holds)."""
    tr = lambda key, **kw: translate(key, lang, **kw)  # noqa: E731
    parts = []
    if drill is not None:
        figure, period, within = describe_drill(drill, lang, label)
        parts.append(tr("ledger.drill.described", figure=figure, period=period, filters=within))
    if filters.text:
        parts.append(f"{tr('ledger.search')}：{filters.text}")
    if filters.states:
        parts.append(f"{tr('ledger.states')}：" + "、".join(tr(f"state.{s}") for s in filters.states))
    if filters.category:
        parts.append(f"{tr('ledger.category')}：{label.categories.get(filters.category, filters.category)}")
    if filters.department:
        parts.append(f"{tr('ledger.department')}：{label.departments.get(filters.department, filters.department)}")
    if filters.badge:
        parts.append(f"{tr('ledger.badge')}：{tr(f'badge.filter.{filters.badge}')}")
    if filters.received_from:
        parts.append(f"{tr('ledger.from')}：{filters.received_from}")
    if filters.received_to:
        parts.append(f"{tr('ledger.to')}：{filters.received_to}")
    return "；".join(parts) or tr("ledger.no_filters")


def _ledger_chunks(uow: UnitOfWork, filters: queries.LedgerFilter, now: datetime, calendar: WorkingCalendar,
                   actor: Actor, unmasked: bool, drill: Drill | None = None) -> Iterator[tuple[pd.DataFrame, list]]:
    """The whole filtered ledger, newest first, a few thousand cases at a time, with badges; personal
    data masked where the masking table masks it for `actor` or for exports (unless `unmasked`)."""
    conditions = _export_conditions(uow, filters, now, actor, drill)
    with uow.read() as session:
        ids = list(session.scalars(select(Complaint.id).where(*conditions)
                                   .order_by(Complaint.received_at.desc(), Complaint.id.desc())))
        clocks = rules.clock_infos(session)
        fraction = rules.due_soon_fraction(rules.settings(session))
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        with uow.read() as session:
            frame = queries.ledger_rows(session, queries._ledger_select().where(Complaint.id.in_(chunk))
                                        .order_by(Complaint.received_at.desc(), Complaint.id.desc()))
            personal = pd.DataFrame(session.execute(
                select(Complaint.id, Complaint.customer_phone, Complaint.customer_id_number,
                       Complaint.customer_address).where(Complaint.id.in_(chunk))).all(),
                columns=["id", "customer_phone", "customer_id_number", "customer_address"])
            frame = frame.merge(personal, on="id", how="left")
            if not unmasked:
                frame = privacy.mask_frame(session, actor, frame, export=True)
        yield queries.with_badges(frame, clocks, calendar, now, fraction), clocks


def _ledger_export(uow: UnitOfWork, *, actor: Actor, filters: queries.LedgerFilter, now: datetime,
                   calendar: WorkingCalendar, lang: str, unmasked: bool, form: str,
                   drill: Drill | None = None) -> Iterator[dict[str, list]]:
    """The filtered ledger in the seed's layout (`ledger_layout`), a chunk of columns at a time:
    personal data masked unless an administrator explicitly asks otherwise (audited)."""
    if not actor.has(*LEDGER_READERS):
        raise PermissionDenied("auth.missing_role")
    if unmasked:
        if not actor.has(Role.ADMIN):
            raise PermissionDenied("export.unmasked_admin_only")
        with uow.write() as session:
            user = fresh_actor(session, actor, Role.ADMIN)
            record_event(session, actor=user, at=now, action="export.ledger_unmasked",
                         changes={"filters": {k: v for k, v in vars(filters).items() if v}, "format": form,
                                  **({"figure": drill.params()} if drill else {})})
    tr = lambda key, **kw: translate(key, lang, **kw)  # noqa: E731
    label = names(uow, lang)
    for frame, clocks in _ledger_chunks(uow, filters, now, calendar, actor, unmasked, drill):
        phone = frame["customer_phone"].fillna("")
        id_number = frame["customer_id_number"].fillna("")
        address = frame["customer_address"].fillna("")
        seed = ledger_layout.seed_columns(frame, lang, label.departments)
        seed_values = list(seed.values())
        seed_names = list(seed)
        columns = {
            tr("field.number"): [n if isinstance(n, str) and n else tr("case.unnumbered", id=i)
                                 for n, i in zip(frame["number"], frame["id"])],
            seed_names[0]: seed_values[0],                                     # 受理日期
            tr("field.customer"): frame["customer_name"].tolist(),
            tr("field.customer_phone"): phone.tolist(),
            tr("field.customer_id_number"): id_number.tolist(),
            tr("field.customer_address"): address.tolist(),
            **dict(zip(seed_names[1:4], seed_values[1:4])),                    # 保单号, 受理人, 内容摘要
            tr("field.channel"): [label.channels.get(c, c) for c in frame["channel"]],
            tr("field.category"): [label.categories.get(c, c) for c in frame["category"]],
            tr("field.severity"): [tr(f"severity.{s}") for s in frame["severity"]],
            tr("field.departments"): ["、".join(label.departments.get(d, d) for d in ds) for ds in frame["departments"]],
            **dict(zip(seed_names[4:], seed_values[4:])),                      # 责任归属 … 满意度
            tr("field.state"): [tr(f"state.{s}") for s in frame["state"]],
            tr("field.received"): fmt_times(frame["received_at"]).tolist(),
        }
        for info in clocks:
            name = info.label(lang)
            columns[name] = [badge_text(b, lang) for b in frame[f"{info.rule.key}_badge"]]
            columns[tr("ledger.due", clock=name)] = fmt_times(frame[f"{info.rule.key}_due"]).tolist()
        yield columns


def ledger_csv(uow: UnitOfWork, *, actor: Actor, filters: queries.LedgerFilter, now: datetime,
               calendar: WorkingCalendar, lang: str, unmasked: bool = False, drill: Drill | None = None) -> bytes:
    """登记追踪表 as CSV (UTF-8 with BOM): every filtered case in the seed's layout, personal data
    masked unless an administrator explicitly asks otherwise (audited)."""
    out = io.StringIO()
    writer = csv.writer(out)
    header_written = False
    for columns in _ledger_export(uow, actor=actor, filters=filters, now=now, calendar=calendar, lang=lang,
                                  unmasked=unmasked, form="csv", drill=drill):
        if not header_written:
            writer.writerow(list(columns))
            header_written = True
        writer.writerows(zip(*columns.values()))
    if not header_written:
        writer.writerow([translate("ledger.empty", lang)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def ledger_workbook(uow: UnitOfWork, *, actor: Actor, filters: queries.LedgerFilter, now: datetime,
                    calendar: WorkingCalendar, lang: str, unmasked: bool = False, drill: Drill | None = None) -> bytes:
    """登记追踪表 as an Excel workbook in the seed's layout: the form's title, when it was exported and
    with which filters, then one row per case under the seed's column heads (streamed, so a large
    ledger does not sit in memory as cells)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    tr = lambda key, **kw: translate(key, lang, **kw)  # noqa: E731
    with uow.read() as session:
        total = session.scalar(select(func.count()).select_from(Complaint)
                               .where(*_export_conditions(uow, filters, now, actor, drill)))
    chunks = _ledger_export(uow, actor=actor, filters=filters, now=now, calendar=calendar, lang=lang,
                            unmasked=unmasked, form="xlsx", drill=drill)
    first = next(chunks, None)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(tr("ledger.sheet"))
    headers = list(first) if first else [tr("field.number")]
    wide = {tr("ledger.col.summary"): 40, tr("field.customer_address"): 24, tr("ledger.col.responsibility"): 18,
            tr("ledger.col.result"): 18}
    for col, header in enumerate(headers, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = wide.get(header, max(10, min(len(header) * 2 + 2, 24)))
    sheet.freeze_panes = "B4"
    title = WriteOnlyCell(sheet, value=tr("ledger.sheet_title"))
    title.font = Font(bold=True, size=14)
    sheet.append([title])
    sheet.append([tr("ledger.sheet_meta", at=f"{now:%Y-%m-%d %H:%M}", total=total,
                     filters=describe_ledger_filters(filters, lang, names(uow, lang), drill))])
    head = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=header)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        head.append(cell)
    sheet.append(head)
    for columns in ([first] if first else []):
        for row in zip(*columns.values()):
            sheet.append(list(row))
    for columns in chunks:
        for row in zip(*columns.values()):
            sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
