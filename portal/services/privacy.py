"""The masking table applied where case data leaves the database (issue 16): every read model of a
case or a list of cases passes its rows through here, so a page, an export or the printable form
never holds a value the table masks for its reader. The rules are `portal/domain/privacy.py`."""
from __future__ import annotations

from typing import Iterable

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain.privacy import COLUMNS, FIELDS, MASKS, MaskingTable, PersonalField, mask_record, redact
from portal.persistence.database import remembered
from portal.persistence.models import ComplaintDepartment, MaskingRule, WorkingGroupMember
from portal.services.actors import Actor


# Columns of a list of cases holding what people wrote (the ledger's 内容摘要).
FREE_TEXT = ("summary",)


def masking_table(session: Session) -> MaskingTable:
    """The masking table as stored (read once per page run: `remembered`)."""
    def load() -> MaskingTable:
        rows = session.execute(select(MaskingRule.audience, *[getattr(MaskingRule, f.value) for f in FIELDS])).all()
        return MaskingTable.from_rows([r._asdict() for r in rows])
    return remembered(session, "masking_table", load)


def own_case_ids(session: Session, actor: Actor, complaint_ids: Iterable[int]) -> set[int]:
    """Of these cases, the ones routed to the actor's department or whose working group they are in
    (one statement)."""
    ids = [int(i) for i in complaint_ids]
    if not ids:
        return set()
    own = select(WorkingGroupMember.complaint_id).where(WorkingGroupMember.complaint_id.in_(ids),
                                                        WorkingGroupMember.user_id == actor.id)
    if actor.department_id is not None:
        own = own.union(select(ComplaintDepartment.complaint_id)
                        .where(ComplaintDepartment.complaint_id.in_(ids),
                               ComplaintDepartment.department_id == actor.department_id))
    return set(session.scalars(own))


def shown_on_case(session: Session, actor: Actor, complaint_id: int, table: MaskingTable | None = None, *,
                  own: bool | None = None) -> frozenset[PersonalField]:
    """The fields of one case its reader sees unmasked; `own`: whether the case is the reader's own
    (`own_case_ids`), when the caller has already read its routing and working group."""
    table = table or masking_table(session)
    on_own, elsewhere = (table.shown_fields(actor.roles, on_own_case=o) for o in (True, False))
    if on_own == elsewhere:
        return elsewhere
    if own is None:
        own = complaint_id in own_case_ids(session, actor, [complaint_id])
    return on_own if own else elsewhere


def mask_frame(session: Session, actor: Actor, frame: pd.DataFrame, *, export: bool = False) -> pd.DataFrame:
    """A list of cases (one row per case, its `id` column the case) with every personal column masked
    where the table masks it for the reader on that case; `export`: also where the export row masks it."""
    columns = [c for c in frame.columns if c in COLUMNS]
    free_text = [c for c in FREE_TEXT if c in frame.columns]
    if not (columns or free_text) or frame.empty:
        return frame
    table = masking_table(session)

    def shown(own: bool) -> frozenset[PersonalField]:
        return (table.export_fields if export else table.shown_fields)(actor.roles, on_own_case=own)

    on_own, elsewhere = shown(True), shown(False)
    if elsewhere == frozenset(FIELDS):
        return frame
    own = (frame["id"].astype(int).isin(own_case_ids(session, actor, frame["id"]))
           if on_own != elsewhere else pd.Series(False, index=frame.index))
    frame = frame.copy()
    if free_text:       # a summary of what the customer said may repeat their phone or name
        from portal.persistence.models import Complaint
        raw = {row[0]: dict(zip(COLUMNS, row[1:])) for row in session.execute(
            select(Complaint.id, *[getattr(Complaint, c) for c in COLUMNS])
            .where(Complaint.id.in_([int(i) for i in frame["id"]])))}
        for column in free_text:
            frame[column] = [redact(text, raw.get(int(i), {}), on_own if mine else elsewhere)
                             for text, i, mine in zip(frame[column], frame["id"], own)]
    for column in columns:
        field = COLUMNS[column]
        keep = (own & (field in on_own)) | (~own & (field in elsewhere))
        if keep.all():
            continue
        masked = frame[column].map(lambda v: MASKS[field](v) if isinstance(v, str) else v)
        frame[column] = frame[column].where(keep, masked)
    return frame


def case_masker(session: Session, actor: Actor, complaint_ids: Iterable[int]):  # noqa: ANN201
    """For records about these cases (a notice, a contact, a row of a list): `mask(complaint_id, record)`
    gives the record with the personal columns the reader may not see masked and the case's masked
    values replaced wherever its other texts repeat them."""
    from portal.persistence.models import Complaint
    ids = {int(i) for i in complaint_ids if i is not None and i == i}
    table = masking_table(session)
    on_own, elsewhere = (table.shown_fields(actor.roles, on_own_case=o) for o in (True, False))
    if elsewhere == frozenset(FIELDS):          # the reader sees every case in full: nothing to read
        return lambda complaint_id, record: record
    own = own_case_ids(session, actor, ids) if on_own != elsewhere else set()
    personal = [getattr(Complaint, c) for c in COLUMNS]
    raw = {row[0]: dict(zip(COLUMNS, row[1:])) for row in session.execute(
        select(Complaint.id, *personal).where(Complaint.id.in_(ids)))} if ids else {}
    shown = {i: table.shown_fields(actor.roles, on_own_case=i in own) for i in ids}

    def mask(complaint_id: int | None, record: dict) -> dict:
        if complaint_id is None or complaint_id != complaint_id or int(complaint_id) not in raw:
            return record
        seen, values = shown[int(complaint_id)], raw[int(complaint_id)]
        if seen == frozenset(FIELDS):
            return record
        return {k: redact(v, values, seen) for k, v in mask_record(record, seen).items()}

    return mask
