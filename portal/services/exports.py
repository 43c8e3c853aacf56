"""Exports (SPEC §7): the tracking ledger as CSV, the statistics table as Excel and CSV.

Personal data (phone, ID number, address, email) is masked in every export; only an administrator
may ask for an unmasked ledger, and that export is recorded as an audit event.
"""
from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Iterator

import pandas as pd
from sqlalchemy import select

from portal.domain.calendar import WorkingCalendar
from portal.domain.errors import PermissionDenied
from portal.domain.privacy import mask_id_number, mask_phone, mask_text
from portal.domain.roles import Role
from portal.i18n import translate
from portal.i18n.format import badge_text, fmt_times
from portal.persistence.database import UnitOfWork
from portal.persistence.models import Category, Channel, Complaint, Department, SlaClock
from portal.printing import statistics_tables
from portal.services import queries, rules, statistics
from portal.services.actors import Actor, fresh_actor
from portal.services.audit import record_event

LEDGER_READERS = (Role.GM_OFFICE, Role.MANAGER, Role.ADMIN)
_CHUNK = 5000


def names(uow: UnitOfWork, lang: str) -> statistics_tables.Names:
    """Display names of categories, channels, departments and clocks (every one, active or not,
    since old cases and compiled months name retired ones too)."""
    with uow.read() as session:
        def pick(model, key="code"):  # noqa: ANN001, ANN202
            return {getattr(r, key): (r.name_en if lang == "en" else r.name_zh) for r in session.scalars(select(model))}
        return statistics_tables.Names(pick(Category), pick(Channel), pick(Department), pick(SlaClock, "key"))


def statistics_workbook(uow: UnitOfWork, *, actor: Actor, figures: dict, lang: str, now: datetime,
                        compiled: tuple[datetime, str] | None = None) -> bytes:
    if not actor.has(*statistics.READERS):
        raise PermissionDenied("auth.missing_role")
    return statistics_tables.workbook(figures, names(uow, lang), lang, exported_at=now, compiled=compiled)


def statistics_csv(uow: UnitOfWork, *, actor: Actor, figures: dict, lang: str) -> bytes:
    if not actor.has(*statistics.READERS):
        raise PermissionDenied("auth.missing_role")
    return statistics_tables.csv_bytes(figures, names(uow, lang), lang)


def _ledger_chunks(uow: UnitOfWork, filters: queries.LedgerFilter, now: datetime,
                   calendar: WorkingCalendar) -> Iterator[tuple[pd.DataFrame, list]]:
    """The whole filtered ledger, newest first, a few thousand cases at a time, with badges."""
    conditions = queries.filter_conditions(filters)
    if filters.badge in queries.BADGE_FILTERS:
        conditions.append(queries._with_badge(filters.badge, now))
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
        yield queries.with_badges(frame, clocks, calendar, now, fraction), clocks


def ledger_csv(uow: UnitOfWork, *, actor: Actor, filters: queries.LedgerFilter, now: datetime,
               calendar: WorkingCalendar, lang: str, unmasked: bool = False) -> bytes:
    """登记追踪表 as CSV (UTF-8 with BOM): every filtered case, personal data masked unless an
    administrator explicitly asks otherwise (audited)."""
    if not actor.has(*LEDGER_READERS):
        raise PermissionDenied("auth.missing_role")
    if unmasked:
        if not actor.has(Role.ADMIN):
            raise PermissionDenied("export.unmasked_admin_only")
        with uow.write() as session:
            user = fresh_actor(session, actor, Role.ADMIN)
            record_event(session, actor=user, at=now, action="export.ledger_unmasked",
                         changes={"filters": {k: v for k, v in vars(filters).items() if v}})
    tr = lambda key, **kw: translate(key, lang, **kw)  # noqa: E731
    label = names(uow, lang)
    out = io.StringIO()
    writer = csv.writer(out)
    header_written = False
    for frame, clocks in _ledger_chunks(uow, filters, now, calendar):
        phone = frame["customer_phone"].fillna("")
        id_number = frame["customer_id_number"].fillna("")
        address = frame["customer_address"].fillna("")
        if not unmasked:
            phone, id_number, address = phone.map(mask_phone), id_number.map(mask_id_number), address.map(mask_text)
        columns = {
            tr("field.number"): [n if isinstance(n, str) and n else tr("case.unnumbered", id=i)
                                 for n, i in zip(frame["number"], frame["id"])],
            tr("field.state"): [tr(f"state.{s}") for s in frame["state"]],
            tr("field.received"): fmt_times(frame["received_at"]).to_numpy(),
            tr("field.customer"): frame["customer_name"].to_numpy(),
            tr("field.customer_phone"): phone.to_numpy(),
            tr("field.customer_id_number"): id_number.to_numpy(),
            tr("field.customer_address"): address.to_numpy(),
            tr("field.policy_number"): frame["policy_number"].to_numpy(),
            tr("field.category"): [label.categories.get(c, c) for c in frame["category"]],
            tr("field.channel"): [label.channels.get(c, c) for c in frame["channel"]],
            tr("field.severity"): [tr(f"severity.{s}") for s in frame["severity"]],
            tr("field.departments"): ["、".join(label.departments.get(d, d) for d in ds) for ds in frame["departments"]],
        }
        for info in clocks:
            name = info.label(lang)
            columns[name] = [badge_text(b, lang) for b in frame[f"{info.rule.key}_badge"]]
            columns[tr("ledger.due", clock=name)] = fmt_times(frame[f"{info.rule.key}_due"]).to_numpy()
        if not header_written:
            writer.writerow(list(columns))
            header_written = True
        writer.writerows(zip(*columns.values()))
    if not header_written:
        writer.writerow([tr("ledger.empty")])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
