"""Builders shared by the tests."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Engine, event

from portal.domain.validation import RegistrationForm
from portal.services.queries import current_version


def a_form(**overrides) -> RegistrationForm:  # noqa: ANN003
    values = dict(customer_name="陈小明", customer_gender="male", customer_age_band="35_44",
                  customer_phone="13812345678", customer_id_number="11010519491231002X",
                  customer_address="北京市朝阳区建国路88号", customer_email="chen@example.com",
                  policy_number="P2025000123", product="机动车辆保险", insured_name="陈小明",
                  received_at=datetime(2025, 9, 30, 9, 0), channel="phone", category="claim_speed",
                  description="报案一个月仍未赔付。", expected_resolution="尽快赔付。",
                  clerk_opinion="属实，建议理赔部门尽快核实并答复。",     # 签注意见, required (002 art.13.1)
                  severity="general", urgency="normal", preferred_contact="phone")
    values.update(overrides)
    return RegistrationForm(**values)


def row_counts(url: str) -> dict[str, int]:
    """How many rows each table of the database at `url` holds (to show a database was left alone)."""
    from sqlalchemy import inspect
    from portal.persistence.database import make_engine
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return {table: connection.exec_driver_sql(f'SELECT COUNT(*) FROM "{table}"').scalar()
                    for table in inspect(engine).get_table_names()}
    finally:
        engine.dispose()


def run_sql(url: str, statement: str) -> None:
    """One statement on the database at `url`, in its own transaction (to put a database into a state no service
    would)."""
    from sqlalchemy import text
    from portal.persistence.database import make_engine
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


def instruct_report(uow, people, case_id, now):  # noqa: ANN001, ANN201
    """The general manager's 批示 on the investigation report (002 art.13.2), after `report_to_gm`."""
    from portal.services import handling
    handling.instruct_report(uow, actor=people.genmgr, complaint_id=case_id, instruction="同意调查结论，请综合意见。",
                             now=now, expected_version=current_version(uow, case_id))


def instruct_analysis(uow, people, case_id, now):  # noqa: ANN001, ANN201
    """技术部's lead instructs its analysis (002 art.13.3), after 技术部's report."""
    from portal.services import handling
    handling.instruct_analysis(uow, actor=people.techlead, complaint_id=case_id, instruction="同意分析结论。", now=now,
                               expected_version=current_version(uow, case_id))


def final_approve(uow, people, case_id, now, approver="approver"):  # noqa: ANN001, ANN201
    """The final 核决 that closes the case (002 art.13.5, 13.7)."""
    from portal.services import handling
    return handling.final_approve(uow, actor=getattr(people, approver), complaint_id=case_id, approve=True,
                                  comment="同意，核签结案。", now=now, expected_version=current_version(uow, case_id))


@contextmanager
def selects(target=Engine):  # noqa: ANN001, ANN201
    """Every SELECT sent while the block runs, to `target` (an engine; by default any): a query budget."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append(statement)
    event.listen(target, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(target, "before_cursor_execute", record)


def rollup_mistakes(uow) -> list[str]:  # noqa: ANN001
    """What `python -m portal stats verify` reports: the rollup days and months that differ from the raw tables
    once the marked days are recomputed. Empty when every change marked what it moved."""
    from sqlalchemy import select

    from portal.persistence.models import Complaint, ServiceRequest, StatsRollup
    from portal.services import stats_rollup
    with uow.read() as session:                   # nothing ever counted: nothing to compare
        if all(session.scalar(select(column).limit(1)) is None
               for column in (Complaint.id, ServiceRequest.id, StatsRollup.n)):
            return []
    with uow.write() as session:
        return stats_rollup.differences(session)


def archive_flag_mistakes(uow) -> list[tuple[int, bool, list]]:  # noqa: ANN001
    """Cases whose stored `archive_blocked` differs from the archive rule: from the raw tables in SQL
    (`archive_readiness.mismatches`), and, for each closed case, from `domain.closing.archive_blockers` on the
    facts the archive itself reads. Empty when the session hook kept every flag."""
    from sqlalchemy import select

    from portal.domain.closing import archive_blockers
    from portal.persistence.models import Complaint
    from portal.services import archive_readiness, closing
    wrong = []
    with uow.read() as session:
        wrong += [(i, None, ["sql"]) for i in archive_readiness.mismatches(session.connection())]
        for complaint in session.scalars(select(Complaint).where(Complaint.state == "closed")):
            blockers = archive_blockers(closing.archive_facts(session, complaint))
            if bool(blockers) != complaint.archive_blocked:
                wrong.append((complaint.id, complaint.archive_blocked, blockers))
        wrong += [(i, False, ["not closed"]) for i in session.scalars(
            select(Complaint.id).where(Complaint.state != "closed", Complaint.archive_blocked.is_(False)))]
    return wrong
