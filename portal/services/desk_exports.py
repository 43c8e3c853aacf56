"""售后登记簿 as an Excel workbook: every request the register's filters match, newest first, streamed in
chunks (a large register never sits in memory as cells), personal data as the masking table's export row and
the exporting user's own rules both allow; every export is an audit event."""
from __future__ import annotations

import io
from datetime import datetime

from sqlalchemy import func, select

from portal.domain.privacy import MASKS
from portal.domain.roles import Role
from portal.domain.errors import PermissionDenied
from portal.i18n import translate
from portal.persistence.database import UnitOfWork
from portal.persistence.models import DeskChoice, ServiceRequest
from portal.services import privacy
from portal.services.actors import Actor, fresh_actor
from portal.services.aftersales_queries import (DESK_DEPARTMENTS, PERSONAL, RequestFilter, badge_of, may_read,
                                                register_conditions)
from portal.services.audit import record_event

CHUNK = 5000
COLUMNS = ("number", "kind", "state", "received_at", "policy_number", "insured_name", "contact_name", "channel",
           "cause_code", "check_failures", "major_reasons", "clock_key", "clock_due_at", "badge", "complete_at",
           "handed_over_at", "handover_insurer", "reason_code", "done_at")


def _text(value: object) -> object:
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return value


def register_workbook(uow: UnitOfWork, *, actor: Actor, filters: RequestFilter, now: datetime, lang: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    if not may_read(actor) or not actor.has(Role.INTAKE, Role.INTAKE_LEAD, Role.GM_OFFICE, Role.MANAGER, Role.ADMIN):
        raise PermissionDenied("auth.missing_role")
    tr = lambda key, **kw: translate(key, lang, **kw)  # noqa: E731
    book = Workbook(write_only=True)
    sheet = book.create_sheet(tr("desk.register.sheet"))
    with uow.write() as session:
        user = fresh_actor(session, actor)
        shown = privacy.masking_table(session).export_fields(actor.roles,
                                                             on_own_case=actor.department_code in DESK_DEPARTMENTS)
        conditions = register_conditions(session, actor, filters, now)
        total = session.scalar(select(func.count()).select_from(ServiceRequest).where(*conditions)) or 0
        labels = {(c.list_key, c.code): (c.name_zh if lang == "zh" else c.name_en)
                  for c in session.scalars(select(DeskChoice))}
        title = WriteOnlyCell(sheet, value=tr("desk.register.sheet_title"))
        title.font = Font(bold=True, size=14)
        sheet.append([title])
        sheet.append([tr("desk.register.sheet_meta", at=f"{now:%Y-%m-%d %H:%M}", total=total)])
        head = []
        for column in COLUMNS:
            cell = WriteOnlyCell(sheet, value=tr(f"desk.export.{column}"))
            cell.font = Font(bold=True)
            head.append(cell)
        sheet.append(head)
        last: tuple | None = None
        columns = [getattr(ServiceRequest, c) for c in COLUMNS if c != "badge"]
        while True:
            query = select(*columns, ServiceRequest.id, badge_of(now).label("badge")).where(*conditions)
            if last is not None:
                query = query.where((ServiceRequest.received_at < last[0])
                                    | ((ServiceRequest.received_at == last[0]) & (ServiceRequest.id < last[1])))
            rows = session.execute(query.order_by(ServiceRequest.received_at.desc(), ServiceRequest.id.desc())
                                   .limit(CHUNK)).mappings().all()
            if not rows:
                break
            for row in rows:
                values = []
                for column in COLUMNS:
                    value = row[column]
                    if column in PERSONAL and PERSONAL[column] not in shown and isinstance(value, str):
                        value = MASKS[PERSONAL[column]](value)
                    elif column == "kind":
                        value = tr(f"desk.kind.{value}")
                    elif column == "state":
                        value = tr(f"desk.state.{value}")
                    elif column == "badge":
                        value = tr(f"desk.badge.{value}")
                    elif column == "clock_key" and value:
                        value = tr(f"desk.clock.{value}")
                    elif column == "channel":
                        value = labels.get(("channel", value), value)
                    elif column == "cause_code":
                        value = labels.get(("risk", value), value)
                    elif column == "reason_code":
                        value = labels.get(("surrender_reason", value), value)
                    elif column == "check_failures":
                        value = "、".join(tr(f"desk.check.{f}", start="", end="", last="") for f in value or [])
                    elif column == "major_reasons":
                        value = "、".join(tr(f"desk.major.{r}", threshold="") for r in value or [])
                    values.append(_text(value))
                sheet.append(values)
            last = (rows[-1]["received_at"], rows[-1]["id"])
        record_event(session, actor=user, at=now, action="desk.register_export",
                     changes={"rows": total, "kind": filters.kind, "states": filters.states, "badge": filters.badge})
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
