"""运营部's quality check of a closed case's handling (客户投诉质量的检验确认, 002 art.11.2(3)): a configurable
checklist answered by a handler of 运营部 who took no part in the case's reports, negotiation or closure (four
eyes). A failed check leaves the closed case as it is (state, closure, clocks, compiled months) and records a
corrective action, chased like a rectification item; the case is archived only once that is done."""
from __future__ import annotations

from sqlalchemy import func, select

from portal.persistence.models import QualityCheck, Rectification


def quality_facts(session, complaint_id: int) -> tuple[bool, int]:
    """(quality_checked, corrective_open) for `domain.closing.ArchiveFacts`: a check is on record (passed or
    failed), and how many corrective actions of the case's failed checks are not done yet."""
    checked = session.scalar(select(QualityCheck.id).where(QualityCheck.complaint_id == complaint_id).limit(1))
    open_corrective = session.scalar(
        select(func.count()).select_from(Rectification)
        .where(Rectification.complaint_id == complaint_id, Rectification.kind == "corrective",
               Rectification.status != "done"))
    return checked is not None, int(open_corrective or 0)
