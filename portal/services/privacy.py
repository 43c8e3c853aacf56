"""The masking table applied where case data leaves the database (issue 16): every read model of a
case or a list of cases passes its rows through here, so a page, an export or the printable form
never holds a value the table masks for its reader. The rules are `portal/domain/privacy.py`."""
from __future__ import annotations

from typing import Iterable

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain.privacy import (COLUMNS, EXPORT, FIELDS, MASKS, MaskingTable, PersonalField, Visibility,
                                   mask_record, redact)
from portal.persistence.models import ComplaintDepartment, MaskingRule, WorkingGroupMember
from portal.services.actors import Actor


def masking_table(session: Session) -> MaskingTable:
    rows = session.execute(select(MaskingRule.audience, *[getattr(MaskingRule, f.value) for f in FIELDS])).all()
    return MaskingTable.from_rows([r._asdict() for r in rows])


def own_case_ids(session: Session, actor: Actor, complaint_ids: Iterable[int]) -> set[int]:
    """Of these cases, the ones routed to the actor's department or whose working group they are in."""
    ids = [int(i) for i in complaint_ids]
    if not ids:
        return set()
    routed = (select(ComplaintDepartment.complaint_id)
              .where(ComplaintDepartment.complaint_id.in_(ids),
                     ComplaintDepartment.department_id == actor.department_id)
              if actor.department_id is not None else None)
    member = select(WorkingGroupMember.complaint_id).where(WorkingGroupMember.complaint_id.in_(ids),
                                                           WorkingGroupMember.user_id == actor.id)
    out = set(session.scalars(member))
    if routed is not None:
        out |= set(session.scalars(routed))
    return out


def shown_on_case(session: Session, actor: Actor, complaint_id: int,
                  table: MaskingTable | None = None) -> frozenset[PersonalField]:
    """The fields of one case its reader sees unmasked."""
    table = table or masking_table(session)
    return table.shown_fields(actor.roles, on_own_case=complaint_id in own_case_ids(session, actor, [complaint_id]))


def mask_case_record(session: Session, actor: Actor, complaint_id: int, record: dict,
                     table: MaskingTable | None = None) -> tuple[dict, frozenset[PersonalField]]:
    """A case's columns as its reader may read them, and the fields shown."""
    shown = shown_on_case(session, actor, complaint_id, table)
    return mask_record(record, shown), shown


def mask_frame(session: Session, actor: Actor, frame: pd.DataFrame, *, export: bool = False) -> pd.DataFrame:
    """A list of cases (one row per case, its `id` column the case) with every personal column masked
    where the table masks it for the reader on that case; `export`: also where the export row masks it."""
    columns = [c for c in frame.columns if c in COLUMNS]
    if not columns or frame.empty:
        return frame
    table = masking_table(session)
    audiences = [actor.roles, [EXPORT]] if export else [actor.roles]

    def shown(own: bool) -> frozenset[PersonalField]:
        out = frozenset(FIELDS)
        for roles in audiences:
            out &= table.shown_fields(roles, on_own_case=own)
        return out

    on_own, elsewhere = shown(True), shown(False)
    if all(COLUMNS[c] in elsewhere for c in columns):
        return frame
    own = (frame["id"].astype(int).isin(own_case_ids(session, actor, frame["id"]))
           if any(COLUMNS[c] in on_own for c in columns) else pd.Series(False, index=frame.index))
    frame = frame.copy()
    for column in columns:
        field = COLUMNS[column]
        keep = (own & (field in on_own)) | (~own & (field in elsewhere))
        if keep.all():
            continue
        masked = frame[column].map(lambda v: MASKS[field](v) if isinstance(v, str) else v)
        frame[column] = frame[column].where(keep, masked)
    return frame


def redact_text(text: object, record: dict, shown: frozenset[PersonalField]) -> object:
    return redact(text, record, shown)


def search_conditions(table: MaskingTable, actor: Actor, text: str, columns: dict, own_case) -> list:  # noqa: ANN001
    """Conditions matching `text` in the personal columns the reader may search (`columns`: field →
    SQL column): everywhere where the table shows the field, on the reader's own department's cases
    (`own_case`, a condition) where it shows it only there, never where it masks it."""
    out = []
    for field, column in columns.items():
        seen = table.searchable(actor.roles, field)
        if seen is Visibility.SHOWN:
            out.append(column == text if field is not PersonalField.NAME else column.like(f"%{text}%"))
        elif seen is Visibility.OWN_DEPARTMENT:
            match = column == text if field is not PersonalField.NAME else column.like(f"%{text}%")
            out.append(match & own_case)
    return out



def case_masker(session: Session, actor: Actor, complaint_ids: Iterable[int]):  # noqa: ANN201
    """For records about these cases (a notice, a contact, a row of a list): `mask(complaint_id, record)`
    gives the record with the personal columns the reader may not see masked and the case's masked
    values replaced wherever its other texts repeat them."""
    from portal.persistence.models import Complaint
    ids = {int(i) for i in complaint_ids if i is not None and i == i}
    table = masking_table(session)
    own = own_case_ids(session, actor, ids)
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
