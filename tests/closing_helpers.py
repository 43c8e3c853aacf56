"""Helpers for tests that take a closed case to its archive (issue 18): 运营部's quality check on record and
the GM office's 总结."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from portal.persistence.models import Department, QualityCheck, Rectification
from portal.services import closing
from portal.services.queries import current_version

CAUSE = "process.execution"


def quality_checked(uow, case_id: int, by_id: int, at: datetime, passed: bool = True,  # noqa: ANN001
                    corrective_deadline: date | None = None) -> int:
    """A quality check on record (a failed one with its corrective action, open)."""
    with uow.write() as session:
        check = QualityCheck(complaint_id=case_id, checked_at=at, checked_by_id=by_id, passed=passed,
                             answers={"records": passed}, note="")
        session.add(check)
        session.flush()
        if not passed:
            operations = session.scalar(select(Department.id).where(Department.code == "operations"))
            session.add(Rectification(complaint_id=case_id, cause="质检未通过", description="补齐处理记录",
                                      owner_department_id=operations, deadline=corrective_deadline or at.date(),
                                      status="open", created_at=at, kind="corrective", quality_check_id=check.id))
        return check.id


def archive(uow, people, case_id: int, at: datetime, lessons: str = "加强审核时效管理") -> None:  # noqa: ANN001
    """The quality check on record, then the GM office's 总结 that archives the case."""
    quality_checked(uow, case_id, people.opshandler.id, at)
    closing.archive(uow, actor=people.gmo, complaint_id=case_id, lessons=lessons, cause_code=CAUSE,
                    expected_version=current_version(uow, case_id), now=at)
