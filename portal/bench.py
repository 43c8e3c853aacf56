"""`python -m portal bench`: every page's server-side time beside the bare SQL it issues, on
throw-away databases of 100,000 or 1,000,000 complaints (SQLite and PostgreSQL).

For each backend and size it
1. creates a fresh database (a temporary SQLite file; a new PostgreSQL database, dropped after),
2. seeds that many complaints over three years ending now (about 5 % open) with departments,
   stored clock dues, follow-up surveys, rectification items and the reminders they earn — in bulk
   (numpy-built columns, executemany into a staging table on SQLite, COPY on PostgreSQL, the stored
   clocks by a second process meanwhile), timed;
   and beside them the service desk (`bench_desk`): as many policies (with their persons and risks)
   and as many requests (every kind and state, stored clocks, history) as complaints, timed apart;
3. runs each page under Streamlit's AppTest as the role that uses it (warm: the first run fills
   the per-process caches), and reports the median server-side time of a rerun;
4. records every SELECT the page issued during one rerun and replays them on a bare connection:
   the page's "bare SQL" time. page/SQL is what the page adds on top of its queries.
"""
from __future__ import annotations

import io
import logging
import multiprocessing
import os
import statistics as stats
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
from sqlalchemy import Engine, create_engine, event, literal, select, text
from sqlalchemy import column as sql_column
from sqlalchemy.engine import make_url

from portal import bench_desk
from portal.config import ROOT
from portal.domain.lifecycle import State
from portal.persistence.models import (Category, Channel, Complaint, Department, Policy, PolicyPerson, ServiceRequest,
                                       User)
from portal.persistence.database import bulk_sorts
from portal.services import archive_readiness, contact_due, desk_clocks, dues, priority, rules, stats_rollup, users
from portal.services.setup import open_database

YEARS = 3
BENCH_USERS = [  # username, roles, department, approval level
    ("benchgm", ["gm_office"], "gm_office", None), ("benchmanager", ["manager"], None, None),
    ("benchclerk", ["intake", "intake_lead"], "marketing", None),
    ("benchhandler", ["handler", "dept_lead"], "operations", None),     # the lead: the assignment form too
    ("benchapprover", ["approver"], "operations", "gm"),
    ("benchadmin", ["admin"], None, None),                              # the policy register
    ("benchops", ["handler"], "operations", None),                      # 运营部's hand-over to the insurer
    ("benchintake", ["intake"], "marketing", None),     # records the negotiations the lead (benchclerk) reviews
]
S = 1_000_000_000
HOUR, DAY = 3600 * S, 86400 * S
OPEN_STAGES = [State.REGISTERED, State.INVESTIGATING, State.AWAITING_CONSOLIDATION, State.AWAITING_APPROVAL,
               State.NEGOTIATING, State.AWAITING_REVIEW, State.AWAITING_CLOSURE]


def _now() -> datetime:
    from portal.ui.context import now
    return now()


# -- seeding ---------------------------------------------------------------------------------------

def _stamp(ns: np.ndarray) -> np.ndarray:
    """int64 ns → SQLAlchemy's DateTime text ('YYYY-MM-DD HH:MM:SS.ffffff'), None for NaT."""
    values = np.datetime_as_string(ns.view("datetime64[ns]"), unit="us")
    if values.size and values.dtype.itemsize // 4 >= 26:
        values.view(np.uint32).reshape(values.size, -1)[:, 10] = ord(" ")    # the 'T', in place
    values = values.astype(object)
    values[ns == np.iinfo(np.int64).min] = None
    return values


@dataclass
class Seeded:
    complaints: int
    open: int
    clocks: int
    departments: int
    follow_ups: int
    seconds: float
    reminder_seconds: float
    reminders: int
    phases: dict
    desk: bench_desk.DeskSeeded | None = None
    events: int = 0                 # the cases' history (audit events), the sweep's included


def _timeline(n: int, now_ns: int, rng: np.random.Generator) -> pd.DataFrame:
    """Every case's milestones: received over three years, each later step after the one before;
    a case has reached the last step whose time is already past (recent cases are open), and a few
    older ones are stuck at an earlier step."""
    nat = np.iinfo(np.int64).min
    start = now_ns - YEARS * 365 * DAY
    received = np.sort(rng.integers(start, now_ns - HOUR, n))
    accepted = received + rng.integers(1 * HOUR, 40 * HOUR, n)
    initial_plan = received + rng.integers(2 * HOUR, 60 * HOUR, n)
    done = accepted + rng.integers(1 * DAY, 13 * DAY, n)
    reported = done + rng.integers(0, 2 * DAY, n)
    approved = reported + rng.integers(4 * HOUR, 3 * DAY, n)
    told = approved + rng.integers(4 * HOUR, 4 * DAY, n)
    returned = told + rng.integers(1 * HOUR, 24 * HOUR, n)
    closed = returned + rng.integers(1 * HOUR, 40 * HOUR, n)
    steps = [accepted, done, done, approved, told, returned, closed]   # time each stage is left
    stage = np.full(n, 7)
    stuck = rng.random(n) < 0.045
    stage[stuck] = rng.integers(0, 7, int(stuck.sum()))
    for k in range(6, -1, -1):                      # not yet there: stop at the stage before
        stage = np.where((stage > k) & (steps[k] > now_ns), k, stage)
    frame = pd.DataFrame({"received_at": received})
    for name, values, first_stage in (("accepted_at", accepted, 1), ("initial_plan_at", initial_plan, 1),
                                      ("investigation_done_at", done, 2), ("reported_to_gm_at", reported, 2),
                                      ("decision_told_at", told, 5), ("negotiation_returned_at", returned, 6),
                                      ("closed_at", closed, 7), ("consolidated_at", closed, 7)):
        keep = (stage >= first_stage) & (values <= now_ns)
        frame[name] = np.where(keep, values, nat)
    frame["bench_approved_at"] = np.where(stage >= 4, approved, nat)     # no column of its own: its event's time
    frame["stage"] = stage
    return frame


def _case_columns(n: int, now_ns: int, rng: np.random.Generator, refs: dict) -> pd.DataFrame:
    nat = np.iinfo(np.int64).min
    frame = _timeline(n, now_ns, rng)
    ids = np.arange(1, n + 1)
    stage = frame["stage"].to_numpy()
    closed = stage == 7
    archived = closed & (rng.random(n) < 0.8)
    states = np.array([s.value for s in OPEN_STAGES] + [State.CLOSED.value], dtype=object)[stage]
    states[archived] = State.ARCHIVED.value
    frame["state"] = states
    frame["id"] = ids
    accepted = frame["accepted_at"].to_numpy()
    months = pd.to_datetime(np.where(accepted == nat, 0, accepted)).strftime("%y%m").to_numpy()
    numbers = np.char.add(np.char.add(months.astype(str), "-"), np.char.zfill(ids.astype(str), 7))
    frame["number"] = np.where(accepted == nat, None, numbers.astype(object))
    severity = rng.choice(np.array(["general", "important", "major"], dtype=object), n, p=[0.7, 0.25, 0.05])
    frame["severity"] = severity
    frame["urgency"] = rng.choice(np.array(["normal", "urgent", "very_urgent"], dtype=object), n, p=[0.85, 0.12, 0.03])
    major = severity == "major"
    frame["major_flagged_at"] = np.where(major, frame["received_at"], nat)
    frame["major_reported_at"] = np.where(major & (accepted != nat), accepted + HOUR, nat)
    frame["category_id"] = rng.choice(refs["categories"], n)
    frame["channel_id"] = rng.choice(refs["channels"], n)
    repeat = rng.random(n) < 0.03
    frame["original_id"] = np.where(repeat & (ids > 10), np.maximum(1, (ids * rng.random(n)).astype(np.int64)), 0)
    paused = (stage >= 1) & (stage <= 3) & (rng.random(n) < 0.03)
    frame["paused"] = paused
    frame["paused_since"] = np.where(paused, now_ns - rng.integers(HOUR, 5 * DAY, n), nat)
    frame["responsibility_department_id"] = np.where(closed & (rng.random(n) < 0.7),
                                                     rng.choice(refs["investigating"], n), 0)
    frame["negotiation_result"] = np.where(stage >= 5, "accepted", None)
    frame["required_level"] = np.where(stage >= 3, rng.choice(np.array(["dept_manager", "deputy_gm", "gm"],
                                                                        dtype=object), n, p=[0.6, 0.3, 0.1]), None)
    frame["customer_name"] = np.char.add("客户", ids.astype(str)).astype(object)
    frame["policy_number"] = np.char.add("P", np.char.zfill(ids.astype(str), 10)).astype(object)
    frame["customer_phone"] = np.char.add("138", np.char.zfill((ids % 100_000_000).astype(str), 8)).astype(object)
    return frame


_STAGE_COLUMNS = ["id", "number", "state", "severity", "urgency", "category_id", "channel_id", "original_id", "paused",
                  "responsibility_department_id", "negotiation_result", "required_level", "closed_late", "customer_name", "policy_number", "customer_phone",
                  "received_at", "accepted_at", "initial_plan_at", "investigation_done_at", "reported_to_gm_at",
                  "decision_told_at", "negotiation_returned_at", "consolidated_at", "closed_at", "major_flagged_at",
                  "major_reported_at", "paused_since"]
_EVENT_ONLY = ["stage", "bench_approved_at"]      # staged for the history events, not columns of a complaint
_STAGED = _STAGE_COLUMNS + _EVENT_ONLY
_TIMES = [c for c in _STAGED if c.endswith("_at") or c == "paused_since"]


def _to_rows(frame: pd.DataFrame, columns: list[str], times: list[str]) -> pd.DataFrame:
    out = pd.DataFrame({c: frame[c] for c in columns})
    for column in times:
        out[column] = _stamp(frame[column].to_numpy(dtype=np.int64))
    return out


def _python_values(column: pd.Series) -> list:
    """A column as the Python values sqlite3 binds (None for missing), without a per-row pandas step."""
    values = column.to_numpy()
    if values.dtype == object:
        return [None if v is None or v != v else v for v in values.tolist()]
    return values.tolist()


def _bulk(engine: Engine, table: str, rows: pd.DataFrame, *, quoted: bool = False) -> None:
    """Append rows fast: COPY on PostgreSQL, executemany on SQLite, one transaction. `quoted`: values may
    hold quotes or tabs (JSON text): COPY reads CSV instead of its text format."""
    columns = list(rows.columns)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "postgresql":
            buffer = io.StringIO()
            rows.to_csv(buffer, sep="\t", header=False, index=False, na_rep="\\N")
            cursor.execute("SET session_replication_role = replica")  # no per-row key triggers while loading
            options = " WITH (FORMAT csv, DELIMITER E'\\t', NULL '\\N')" if quoted else ""
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN{options}") as copy:
                copy.write(buffer.getvalue())
        else:
            marks = ", ".join("?" for _ in columns)
            values = zip(*[_python_values(rows[c]) for c in columns])
            cursor.execute("PRAGMA synchronous = OFF")
            cursor.execute("PRAGMA foreign_keys = OFF")       # the bench builds consistent keys itself
            cursor.execute("BEGIN")
            cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", values)
            cursor.execute("COMMIT")
        raw.commit()
    finally:
        raw.close()


def _stage_table(engine: Engine) -> None:
    types = {c: "TEXT" if c in _TIMES or c in ("number", "state", "severity", "urgency", "customer_name", "policy_number",
                                              "customer_phone", "negotiation_result", "required_level") else "BIGINT" for c in _STAGED}
    types["paused"] = "BOOLEAN"
    types["closed_late"] = "BOOLEAN"
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE IF EXISTS bench_stage")
        connection.exec_driver_sql("CREATE TABLE bench_stage ("
                                   + ", ".join(f"{c} {types[c]}" for c in _STAGED) + ")")


@dataclass(frozen=True)
class Actors:
    clerk: int
    gm: int
    ops: int
    approver: int
    recorder: int       # records each negotiation: the one who reviews it may not have (four eyes)


_EVENT_COLUMNS = "complaint_id, actor_id, actor_label, at, action, from_state, to_state, comment, changes"


def _events(connection, pg: bool, actor: int, label: str, action: str, before: str | None, after: str | None,  # noqa: ANN001
            at: str, source: str, changes: str = "'{}'") -> None:
    """One step's audit event for every row of `source` (a FROM … WHERE clause naming `complaint_id` and the
    step's time `at`), in one INSERT … SELECT: the history a case that went through the service would have."""
    state = lambda value: "NULL" if value is None else f"'{value}'"  # noqa: E731
    changes = f"CAST({changes} AS JSON)" if pg else changes
    connection.exec_driver_sql(
        f"INSERT INTO events ({_EVENT_COLUMNS}) SELECT complaint_id, {actor}, '{label}', {at}, '{action}', "
        f"{state(before)}, {state(after)}, '', {changes} {source}")


def _stage_events(connection, pg: bool, actors: Actors) -> None:  # noqa: ANN001
    """The lifecycle steps each staged case has taken, one statement per step (in step order, so a case's events
    are in id order as the service writes them): registered, accepted and routed, each routed department's
    report, reported to the GM office, consolidated, approved, the decision told, the negotiation reviewed, closed."""
    ts = (lambda c: f"CAST({c} AS TIMESTAMP)") if pg else (lambda c: c)
    states = [s.value for s in OPEN_STAGES] + [State.CLOSED.value]
    steps = [  # action, actor, the stage it leaves (None: registration), its time
        ("register", actors.clerk, "benchclerk", None, "received_at"),
        ("accept", actors.gm, "benchgm", 0, "accepted_at"),
        ("report_to_gm", actors.ops, "benchops", 1, "COALESCE(reported_to_gm_at, investigation_done_at)"),
        ("consolidate", actors.gm, "benchgm", 2, "COALESCE(reported_to_gm_at, investigation_done_at)"),
        ("approve", actors.approver, "benchapprover", 3, "bench_approved_at"),
        ("record_negotiation", actors.recorder, "benchintake", 4, "decision_told_at"),
        ("review_negotiation", actors.clerk, "benchclerk", 5, "negotiation_returned_at"),
        ("close", actors.gm, "benchgm", 6, "closed_at"),
    ]
    for action, actor, label, leaves, at in steps:
        before = None if leaves is None else states[leaves]
        after = states[0 if leaves is None else leaves + 1]
        reached = "" if leaves is None else f"WHERE stage > {leaves}"
        changes = "'{\"number\": \"' || number || '\"}'" if action == "accept" else "'{}'"
        _events(connection, pg, actor, label, action, before, after, ts(at),
                f"FROM (SELECT id AS complaint_id, * FROM bench_stage) AS staged {reached} ORDER BY complaint_id",
                changes)
        if action == "accept":              # each routed department's report (loaded before the cases)
            _events(connection, pg, actors.ops, "benchops", "submit_report", states[1], states[1],
                    "report_submitted_at", "FROM complaint_departments WHERE report_submitted_at IS NOT NULL "
                    "ORDER BY complaint_id")


def _from_stage(engine: Engine, actors: Actors) -> None:
    pg = engine.dialect.name == "postgresql"
    ts = (lambda c: f"CAST({c} AS TIMESTAMP)") if pg else (lambda c: c)
    columns = {c: (ts(c) if c in _TIMES else c) for c in _STAGE_COLUMNS}
    columns["original_id"] = "NULLIF(original_id, 0)"
    columns["responsibility_department_id"] = "NULLIF(responsibility_department_id, 0)"
    # each case's place as if it had no due time (the portal's own rank in SQL); `priority.refill` moves the cases
    # whose clocks give one, once the clocks are in
    rank = priority.rank_expression(sql_column("state"), sql_column("severity"), sql_column("urgency"), literal(1))
    columns["queue_rank"] = str(rank.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    constants = {
        "version": "1", "customer_gender": "'female'", "customer_age_band": "'35_44'", "customer_occupation": "''",
        "customer_id_number": "''", "customer_address": "''", "customer_email": "''", "product": "'机动车辆保险'",
        "insured_name": "''", "claim_report_number": "''", "description": "'基准数据：客户反映理赔进度缓慢。'",
        "product_involved": "''", "expected_resolution": "'尽快处理'", "complained_staff_other": "''",
        "clerk_opinion": "'基准数据：建议核实理赔进度并尽快答复客户。'", "flag_media": "FALSE" if pg else "0", "flag_regulator": "FALSE" if pg else "0",
        "flag_litigation": "FALSE" if pg else "0", "joint_complainants": "1", "receiving_clerk_id": str(actors.clerk),
        "paused_seconds": "0", "consolidated_opinion": "''", "approval_instructions": "''", "negotiation_note": "''",
        "penalty_persons": "''", "closure_note": "''", "gm_report": "''", "follow_up_task": "FALSE" if pg else "0",
        "other_company": "''", "decision_checked": "''", "decision_basis": "''", "decision_remedies": "''",
        "decision_proof": "''", "regulatory_extension_days": "0", "outside_seconds": "0", "review_decision": "''",
        "created_at": ts("received_at"),
    }
    names = list(columns) + list(constants)
    values = list(columns.values()) + list(constants.values())
    with engine.begin() as connection:
        if pg:
            connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        connection.exec_driver_sql(f"INSERT INTO complaints ({', '.join(names)}) "
                                   f"SELECT {', '.join(values)} FROM bench_stage ORDER BY id")
        _stage_events(connection, pg, actors)
        connection.exec_driver_sql("DROP TABLE bench_stage")
        # each closed case's responsibility rests with one department, in full
        connection.exec_driver_sql("INSERT INTO responsibility_shares (complaint_id, department_id, ratio) "
                                   "SELECT id, responsibility_department_id, 100 FROM complaints "
                                   "WHERE responsibility_department_id IS NOT NULL")


def _milestones(frame: pd.DataFrame) -> pd.DataFrame:
    """The seeded cases as the portal's clock arithmetic reads them (datetime64 milestones)."""
    milestone = frame[[c for c in ("id", "paused", "paused_since", *dues.MILESTONES) if c in frame]].copy()
    for column in (*dues.MILESTONES, "paused_since"):
        if column not in milestone:
            milestone[column] = np.iinfo(np.int64).min
        milestone[column] = milestone[column].to_numpy(dtype=np.int64).view("datetime64[ns]")
    for column in ("paused_seconds", "regulatory_extension_days", "outside_seconds"):
        milestone[column] = 0
    milestone["outside"] = False
    return milestone


def _closed_late(frame: pd.DataFrame, clocks, calendar, fraction: float) -> np.ndarray:  # noqa: ANN001
    """Each case's closure-clock outcome (True late, False met, None not closed), as the portal keeps it."""
    out = np.full(len(frame), None, dtype=object)
    closure = [c for c in clocks if c.rule.key == dues.CLOSURE_CLOCK]
    if closure:
        rows = dues.clock_columns(_milestones(frame), closure, calendar, fraction)
        known = rows["late_known"].to_numpy()
        out[rows["complaint_id"].to_numpy()[known] - 1] = rows["late"].to_numpy()[known]
    return out


def _clock_frame(frame: pd.DataFrame, clocks, calendar, fraction: float) -> pd.DataFrame:  # noqa: ANN001
    """The stored clock dues of every started clock (the portal's own `clock_columns`), as text."""
    out = dues.clock_columns(_milestones(frame), clocks, calendar, fraction)
    for column in dues.TIME_COLUMNS:
        out[column] = _stamp(out[column].to_numpy(dtype=np.int64))
    out["late"] = out["late"].astype(object).where(out["late_known"], None)
    out["duration_s"] = out["duration_s"].astype(object).where(out["duration_s"] >= 0, None)
    return out.drop(columns=["late_known"])


def _write_clocks(url: str, frame: pd.DataFrame, clocks, calendar, fraction: float, sink) -> None:  # noqa: ANN001
    """The stored clock dues of every case, computed (the portal's own `clock_columns`) and written in chunks; the
    count goes to `sink`. Runs in a process of its own while the seeding process loads the rest."""
    engine = create_engine(url)
    count = 0
    milestones = [c for c in dues.MILESTONES if c in frame]
    for begin in range(0, len(frame), 200_000):
        part = frame.iloc[begin:begin + 200_000]
        cc = _clock_frame(part[["id", "paused", "paused_since", *milestones]], clocks, calendar, fraction)
        if begin == 0 and engine.dialect.name == "sqlite":     # the side file's table: the columns, nothing more
            with engine.begin() as connection:
                connection.exec_driver_sql(f"CREATE TABLE case_clocks ({', '.join(cc.columns)})")
        count += len(cc)
        _bulk(engine, "case_clocks", cc)
    engine.dispose()
    sink.send(count)


class _ClocksApart:
    """The stored clocks, the biggest table after the history, computed and written by a second process (forked:
    it shares the built frame without a copy) while this one loads the routings, the cases and their history,
    so that the machine's second core does half the work. PostgreSQL takes both writers at once; SQLite takes
    one, so there the second process fills a side file, copied over in one INSERT … SELECT when it is done."""

    def __init__(self, url: str, frame: pd.DataFrame, clocks, calendar, fraction: float) -> None:  # noqa: ANN001
        self.url = url
        self.side = None
        target, parsed = url, make_url(url)
        if parsed.get_backend_name() == "sqlite":
            self.side = f"{parsed.database}.clocks"
            Path(self.side).unlink(missing_ok=True)
            target = f"sqlite:///{self.side}"
        self.receive, sink = multiprocessing.Pipe(duplex=False)
        self.process = multiprocessing.get_context("fork").Process(
            target=_write_clocks, args=(target, frame, clocks, calendar, fraction, sink), daemon=True)
        self.process.start()
        sink.close()

    def abandon(self) -> None:
        """The seeding failed before `wait`: the second process stopped and its side file removed."""
        if self.process.is_alive():
            self.process.terminate()
        self.process.join()
        if self.side is not None:
            Path(self.side).unlink(missing_ok=True)

    def wait(self) -> int:
        """Wait for the second process: the number of clocks it wrote."""
        try:
            count = self.receive.recv()
        except EOFError:
            count = None
        self.process.join()
        if count is None or self.process.exitcode != 0:
            raise RuntimeError(f"the process writing the stored clocks failed (exit code {self.process.exitcode})")
        return count

    def copy(self) -> None:
        """On SQLite, the side file's rows into the database, in one statement."""
        if self.side is not None:
            engine = create_engine(self.url)
            raw = engine.raw_connection()
            try:
                cursor = raw.cursor()
                cursor.execute(f"ATTACH DATABASE '{self.side}' AS side")
                names = ", ".join(row[1] for row in cursor.execute("PRAGMA side.table_info(case_clocks)").fetchall())
                cursor.execute("PRAGMA synchronous = OFF")
                cursor.execute("PRAGMA foreign_keys = OFF")
                cursor.execute("BEGIN")
                cursor.execute(f"INSERT INTO main.case_clocks ({names}) SELECT {names} FROM side.case_clocks")
                cursor.execute("COMMIT")
                cursor.execute("DETACH DATABASE side")
            finally:
                raw.close()
                engine.dispose()
            Path(self.side).unlink(missing_ok=True)


_LOADED = ("complaints", "complaint_departments", "case_clocks", "follow_ups", "rectifications", "events",
           "quality_checks")


@contextmanager
def _bulk_load(engine: Engine, tables: tuple[str, ...]):  # noqa: ANN201
    """Load `tables` without their secondary indexes and build them after (a sort each instead of millions of
    random inserts), as a DBA would for a bulk import."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            indexes = connection.exec_driver_sql(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename IN "
                f"({', '.join(repr(t) for t in tables)}) AND indexname NOT IN (SELECT conname FROM pg_constraint)"
            ).all()
        else:
            indexes = connection.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN "
                f"({', '.join(repr(t) for t in tables)})").all()
        for name, _ in indexes:
            connection.exec_driver_sql(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        with engine.begin() as connection, bulk_sorts(connection):     # each index a sort
            for _, ddl in indexes:
                connection.exec_driver_sql(ddl)


def _archive_archived(engine: Engine, clerk: int, ops: int, gm: int) -> None:
    """Each archived case as the portal now archives one (issue 18): its agreed payment recorded as made, 运营部's
    quality check passed and the GM office's 总结, all at its last follow-up. Run while the indexes are down (each
    rewritten row and each new event would otherwise cost every index an entry): nothing here probes by an index."""
    pg = engine.dialect.name == "postgresql"
    true = "TRUE" if pg else "1"
    day = "CAST({column} AS DATE)" if pg else "date({column})"
    with engine.begin() as connection:
        # one statement, its last follow-up grouped once and joined, not a MAX per case (a correlated MAX has no
        # index to walk here; PostgreSQL, before the ANALYZE at the end, chose one even when there was)
        paid = "negotiation_result IN ('accepted', 'partly') AND negotiated_amount > 0"
        connection.exec_driver_sql(
            "UPDATE complaints SET archived_at = last.visited, "
            f"cause_code = 'process.execution', summary_at = last.visited, summary_by_id = {gm}, "
            "summary_lessons = '基准数据：审核时效提醒需落实到每个环节。', summary_cause_code = 'process.execution', "
            "summary_rectification = complaints.id IN (SELECT complaint_id FROM rectifications), "
            f"remedy_done_at = CASE WHEN {paid} THEN last.visited ELSE remedy_done_at END, "
            f"remedy_paid_on = CASE WHEN {paid} THEN {day.format(column='last.visited')} ELSE remedy_paid_on END, "
            f"remedy_amount = CASE WHEN {paid} THEN negotiated_amount ELSE remedy_amount END, "
            f"remedy_reference = CASE WHEN {paid} THEN '基准数据' ELSE remedy_reference END, "
            f"remedy_by_id = CASE WHEN {paid} THEN {clerk} ELSE remedy_by_id END "
            "FROM (SELECT complaint_id, MAX(visited_at) AS visited FROM follow_ups GROUP BY complaint_id) AS last "
            "WHERE last.complaint_id = complaints.id AND complaints.state = 'archived'")
        connection.exec_driver_sql(
            "INSERT INTO quality_checks (complaint_id, checked_at, checked_by_id, passed, answers, note) "
            f"SELECT id, archived_at, {ops}, {true}, '{{}}', '' FROM complaints WHERE state = 'archived' ORDER BY id")
        # and their history after the closure: the follow-up visit, 运营部's check, the archiving
        closed, archived = State.CLOSED.value, State.ARCHIVED.value
        _events(connection, pg, clerk, "benchclerk", "record_follow_up", closed, closed, "visited_at",
                "FROM follow_ups ORDER BY complaint_id")
        for action, actor, label, after in (("quality_check", ops, "benchops", closed),
                                            ("archive", gm, "benchgm", archived)):
            _events(connection, pg, actor, label, action, closed, after, "archived_at",
                    "FROM (SELECT id AS complaint_id, archived_at FROM complaints WHERE state = 'archived') AS done "
                    "ORDER BY complaint_id")


def seed(url: str, size: int, now: datetime, *, seed_value: int = 7) -> Seeded:
    uow = open_database(url)
    engine = uow.engine
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _roomy(dbapi_connection, _record) -> None:  # noqa: ANN001
            # a bulk job's page cache (4 GB at most, taken as used) instead of the 2 MB default: at a million cases
            # the tables and indexes no longer fit the default, and each statement's lookups go back to the file
            dbapi_connection.execute("PRAGMA cache_size = -4000000")
        engine.dispose()        # the connections opened by the set-up, without it
    for username, roles, department, level in BENCH_USERS:
        users.add_user(uow, actor=None, username=username, display_name=username, password="bench-password",
                       roles=roles, department=department, approval_level=level, now=now - timedelta(days=YEARS * 366))
    with uow.read() as session:
        refs = {"categories": np.array(session.scalars(select(Category.id)).all()),
                "channels": np.array(session.scalars(select(Channel.id)).all()),
                "investigating": np.array(session.scalars(select(Department.id).where(Department.investigates)).all())}
        technical = session.scalar(select(Department.id).where(Department.code == "technical"))
        operations = session.scalar(select(Department.id).where(Department.code == "operations"))
        clerk = session.scalar(select(User.id).where(User.username == "benchclerk"))
        ops = session.scalar(select(User.id).where(User.username == "benchops"))
        gm = session.scalar(select(User.id).where(User.username == "benchgm"))
        actors = Actors(clerk=clerk, gm=gm, ops=ops,
                        approver=session.scalar(select(User.id).where(User.username == "benchapprover")),
                        recorder=session.scalar(select(User.id).where(User.username == "benchintake")))
        desk_rules = {r.key.value: (r.unit.value, r.target) for r in desk_clocks.clock_rules(session).values()}
        clocks = rules.clock_infos(session)
        fraction = rules.due_soon_fraction(rules.settings(session))
    calendar = rules.load_calendar(uow)
    rng = np.random.default_rng(seed_value)
    now_ns = int(np.datetime64(now, "ns").astype(np.int64))
    nat = np.iinfo(np.int64).min
    started = time.perf_counter()
    phases: dict[str, float] = {}
    mark = [started]

    def lap(name: str) -> None:
        phases[name] = time.perf_counter() - mark[0]
        mark[0] = time.perf_counter()

    frame = _case_columns(size, now_ns, rng, refs)
    frame["closed_late"] = _closed_late(frame, clocks, calendar, fraction)
    with _bulk_load(engine, _LOADED):
        clocks_apart = _ClocksApart(url, frame, clocks, calendar, fraction)
        try:
            # departments: one, a quarter of them with 技术部 as well; reports once investigated
            accepted = frame["accepted_at"].to_numpy() != nat
            ids = frame["id"].to_numpy()[accepted]
            first = np.where(rng.random(ids.size) < 0.5, operations, rng.choice(refs["investigating"], ids.size))
            second = (rng.random(ids.size) < 0.25) & (first != technical)
            routed_at = frame["accepted_at"].to_numpy()[accepted]
            report = frame["investigation_done_at"].to_numpy()[accepted]
            plan = frame["initial_plan_at"].to_numpy()[accepted]
            links = pd.DataFrame({
                "complaint_id": np.concatenate([ids, ids[second]]),
                "department_id": np.concatenate([first, np.full(int(second.sum()), technical)]),
                "routed_at": np.concatenate([routed_at, routed_at[second]]),
                "initial_plan_at": np.concatenate([plan, np.full(int(second.sum()), nat)]),
                "report_submitted_at": np.concatenate([report, report[second]])})
            links = _to_rows(links, list(links.columns), ["routed_at", "initial_plan_at", "report_submitted_at"])
            for column, value in (("initial_plan", "先行核实"), ("evidence", ""), ("cause", ""), ("responsible_unit", ""),
                                  ("responsible_persons", ""), ("measures", "")):
                links[column] = value
            _bulk(engine, "complaint_departments", links)
            lap("departments")
            # complaints, through a narrow staging table
            _stage_table(engine)
            _bulk(engine, "bench_stage", _to_rows(frame, _STAGED, _TIMES))
            _from_stage(engine, actors)
            lap("complaints and their history")
            clock_count = clocks_apart.wait()        # the stored clock dues, made meanwhile in a process of their own
        except BaseException:
            clocks_apart.abandon()
            raise
        lap("stored clocks (waiting for their process)")
        clocks_apart.copy()
        lap("stored clocks (copied from its side file)")
        with engine.begin() as connection:       # each case's place in the queues, from its stored clocks
            priority.refill(connection)
        lap("queue order")
        with engine.begin() as connection:       # and in 待联系客户 (no contact on record: all acknowledgements)
            contact_due.refill(connection)
        lap("contacts due")
        # follow-up surveys of archived cases, rectification items of a few closed ones
        archived = frame["state"].to_numpy() == State.ARCHIVED.value
        visited = frame["closed_at"].to_numpy()[archived] + rng.integers(HOUR, 4 * DAY, int(archived.sum()))
        visited = np.minimum(visited, now_ns - HOUR)
        scores = rng.choice([1, 2, 3, 4, 5], (int(archived.sum()), 5), p=[0.03, 0.05, 0.12, 0.35, 0.45])
        follow = pd.DataFrame({"complaint_id": frame["id"].to_numpy()[archived], "visited_at": visited, "outcome": "已回访",
                               "process": scores[:, 0], "attitude": scores[:, 1], "efficiency": scores[:, 2],
                               "result": scores[:, 3], "overall": scores[:, 4], "by_id": clerk})
        _bulk(engine, "follow_ups", _to_rows(follow, list(follow.columns), ["visited_at"]))
        closed_ids = frame["id"].to_numpy()[frame["closed_at"].to_numpy() != nat]
        pick = closed_ids[rng.random(closed_ids.size) < 0.02]
        created = frame.set_index("id")["closed_at"].to_numpy()[pick - 1]
        deadline = pd.to_datetime(created + 14 * DAY).date
        done = rng.random(pick.size) < 0.8
        items = pd.DataFrame({"complaint_id": pick, "cause": "流程缺陷", "description": "完善审核时效提醒",
                              "owner_department_id": rng.choice(refs["investigating"], pick.size),
                              "deadline": [d.isoformat() for d in deadline],
                              "status": np.where(done, "done", "open"), "created_at": created,
                              "done_at": np.where(done, created + rng.integers(DAY, 20 * DAY, pick.size), nat)})
        _bulk(engine, "rectifications", _to_rows(items, list(items.columns), ["created_at", "done_at"]))
        lap("surveys, rectifications")
        _archive_archived(engine, clerk, ops, gm)
        lap("quality checks, summaries")
    lap("indexes")
    with _bulk_load(engine, bench_desk.TABLES):     # the service desk: as many policies and requests as complaints
        desk = bench_desk.seed(engine, lambda e, table, rows: _bulk(e, table, rows, quoted=True), size, now_ns,
                               rng, calendar, fraction, clerk, ops, desk_rules)
    lap("service desk")     # its indexes included
    with engine.begin() as connection:  # the rows above were loaded past the session hook: each case's readiness
        archive_readiness.refresh_all(connection)
    lap("archive readiness")
    with engine.begin() as connection:  # and the statistics rollups, built from the raw tables in bulk
        stats_rollup.rebuild(connection)
    lap("statistics rollups")
    with uow.write() as session:       # make later inserts through the ORM pick up after the bulk ids
        if engine.dialect.name == "postgresql":
            for table in ("complaints", "follow_ups", "rectifications", "products", "policies", "policy_persons",
                          "service_requests", "request_events"):
                session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                     f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")   # what autovacuum would have done by now
    else:
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    lap("analyze")
    seconds = time.perf_counter() - started
    from portal.services.reminders import issue_reminders
    began = time.perf_counter()
    issued = issue_reminders(uow, now=now)
    reminder_seconds = time.perf_counter() - began
    if engine.dialect.name == "postgresql":          # as autovacuum would after the sweep's inserts
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE reminders")
            connection.exec_driver_sql("VACUUM ANALYZE events")
    open_count = int((frame["stage"] < 7).sum())
    with engine.connect() as connection:
        events = connection.exec_driver_sql("SELECT count(*) FROM events WHERE complaint_id IS NOT NULL").scalar()
    engine.dispose()
    return Seeded(size, open_count, clock_count, len(links), len(follow), seconds, reminder_seconds, issued, phases,
                  desk, events)


# -- measuring pages -------------------------------------------------------------------------------

class _Recorder:
    """Every SELECT a page sends, with its parameters, while recording is on."""

    def __init__(self) -> None:
        self.on = False
        self.statements: list[tuple[str, object]] = []
        event.listen(Engine, "before_cursor_execute", self._record)

    def _record(self, conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        if self.on and statement.lstrip().upper().startswith(("SELECT", "WITH")):
            self.statements.append((statement, parameters))

    def close(self) -> None:
        event.remove(Engine, "before_cursor_execute", self._record)

    @contextmanager
    def recording(self):  # noqa: ANN201
        self.statements, self.on = [], True
        try:
            yield self.statements
        finally:
            self.on = False


@dataclass(frozen=True)
class PageCase:
    label: str
    page: str | None
    username: str
    prepare: object = None          # a function of the AppTest, run before the warm-up run
    each_run: bool = False          # run `prepare` before every measured run too (a form submitted each time)


def _year(at) -> None:  # noqa: ANN001
    at.radio(key="stats_kind").set_value("range").run()
    today = _now().date()
    at.date_input(key="stats_range").set_value((today - timedelta(days=364), today))


def _overdue(at) -> None:  # noqa: ANN001
    at.selectbox(key="ledger_badge").set_value("overdue")


def _one_case(at) -> None:  # noqa: ANN001
    at.text_input(key="case_ref").input(_one_case.number)


def _tab(tabs_key: str, label_key: str):  # noqa: ANN202
    """Open one tab of a page's lazy tabs (only the open tab runs), as a click on it would."""
    def prepare(at) -> None:  # noqa: ANN001
        from portal.i18n import translate
        at.session_state[tabs_key] = translate(label_key, "zh")
    return prepare


def _request(at) -> None:  # noqa: ANN001
    at.text_input(key="request_number").input(_request.number)


def _lookup(field: str):  # noqa: ANN202
    """The desk's lookup submitted with a policy number, a name (shared by several people: the ID number is
    asked for) or an ID number, as the clerk types it and presses the button."""
    def prepare(at) -> None:  # noqa: ANN001
        from portal.i18n import translate
        at.text_input(key=f"desk_lookup_{field}").input(_lookup.values[field])
        next(b for b in at.button if b.label == translate("desk.lookup.submit", "zh")).click()
    return prepare


def _register_overdue(at) -> None:  # noqa: ANN001
    at.selectbox(key="register_badge").set_value("overdue")


DESK_TABS = ("report", "queue", "application", "request")
GM_TABS = ("investigating", "consolidate", "close", "follow_up", "reminders", "rectifications", "stuck", "sanctions",
           "archive")
PAGES = [
    PageCase("home (GM office)", None, "benchgm"),
    PageCase("statistics, month", "statistics", "benchmanager"),
    PageCase("statistics, year", "statistics", "benchmanager", _year),
    PageCase("ledger", "ledger", "benchgm"),
    PageCase("ledger, overdue filter", "ledger", "benchgm", _overdue),
    PageCase("GM office", "gm_office", "benchgm"),
    *[PageCase(f"GM office, {name}", "gm_office", "benchgm", _tab("gm_tabs", f"gm.tab.{name}")) for name in GM_TABS],
    PageCase("department", "department", "benchhandler"),
    PageCase("department, report", "department", "benchhandler", _tab("dept_tabs", "dept.tab.report")),
    PageCase("department, instruct", "department", "benchhandler", _tab("dept_tabs", "dept.tab.instruct")),
    PageCase("department, follow-ups", "department", "benchhandler", _tab("dept_tabs", "dept.tab.follow_ups")),
    PageCase("approval", "approval", "benchapprover"),
    PageCase("approval, final", "approval", "benchapprover", _tab("approval_tabs", "appr.final_queue")),
    PageCase("approval, GM instruction", "approval", "benchapprover", _tab("approval_tabs", "appr.instruct_queue")),
    PageCase("negotiation", "negotiation", "benchclerk"),
    PageCase("negotiation, review", "negotiation", "benchclerk", _tab("negotiation_tabs", "neg.tab.review")),
    PageCase("negotiation, follow-up", "negotiation", "benchclerk", _tab("negotiation_tabs", "neg.tab.follow_up")),
    PageCase("negotiation, contacts", "negotiation", "benchclerk", _tab("negotiation_tabs", "neg.tab.contacts")),
    PageCase("negotiation, remedy", "negotiation", "benchclerk", _tab("negotiation_tabs", "neg.tab.remedy")),
    PageCase("my complaints", "my_complaints", "benchclerk"),
    PageCase("my cases (handler)", "my_complaints", "benchhandler"),
    PageCase("case page", "case", "benchgm", _one_case),
    # closing the loop (issue 18)
    PageCase("monthly review (GM office)", "monthly_review", "benchgm"),
    PageCase("appraisal (manager)", "appraisal", "benchmanager"),
    # the service desk (issue 17)
    PageCase("policy register (admin)", "policies", "benchadmin"),
    PageCase("desk, lookup", "desk", "benchclerk"),
    PageCase("desk, lookup by number", "desk", "benchclerk", _lookup("number"), each_run=True),
    PageCase("desk, lookup by name", "desk", "benchclerk", _lookup("name"), each_run=True),
    PageCase("desk, lookup by ID number", "desk", "benchclerk", _lookup("id_number"), each_run=True),
    *[PageCase(f"desk, {name}", "desk", "benchclerk", _tab("desk_tabs", f"desk.tab.{name}")) for name in DESK_TABS],
    PageCase("hand-over (operations)", "handover", "benchops"),
    PageCase("request page", "request", "benchclerk", _request),
    PageCase("desk register", "desk_register", "benchclerk"),
    PageCase("desk register, overdue", "desk_register", "benchclerk", _register_overdue),
]


def _replay(engine: Engine, statements: list[tuple[str, object]]) -> list[tuple[float, str]]:
    """The page's statements run again on a plain connection: each one's seconds and text."""
    timed = []
    with engine.connect() as connection:
        for statement, parameters in statements:
            began = time.perf_counter()
            connection.exec_driver_sql(statement, parameters).fetchall()
            timed.append((time.perf_counter() - began, statement))
        connection.rollback()
    return timed


def slowest(engine: Engine, statements: list[tuple[str, object]], count: int) -> list[tuple[float, str]]:
    """The `count` slowest of a page's statements (seconds, statement on one line), each replayed once more."""
    return sorted(((seconds, " ".join(text.split())) for seconds, text in _replay(engine, statements)),
                  reverse=True)[:count]


def _median(fn, repeat: int) -> float:  # noqa: ANN001
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return stats.median(times)


def _session_token(engine, username: str) -> str:  # noqa: ANN001
    from sqlalchemy.orm import Session

    from portal.services.sessions import open_session
    with Session(engine) as session, session.begin():
        user_id = session.scalar(select(User.id).where(User.username == username))
        token, _ = open_session(session, user_id=user_id, address="", now=datetime.now(), hours=24)
    return token


@contextmanager
def _shared_script_cache() -> Iterator[None]:
    """A server compiles each page script once (its runtime's ScriptCache); AppTest makes a new cache, so
    every run would parse and compile app.py and the page again (50–100 ms a run, work the server never does
    twice). The bench measures the server: one cache for every run while it measures, AppTest's own after."""
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import app_test, local_script_runner
    shared = ScriptCache()
    saved = app_test.ScriptCache, local_script_runner.ScriptCache
    app_test.ScriptCache = local_script_runner.ScriptCache = lambda: shared
    try:
        yield
    finally:
        app_test.ScriptCache, local_script_runner.ScriptCache = saved


def measure_pages(url: str, repeat: int, recorder: _Recorder, *, only: list[str] | None = None,
                  show: int = 0) -> Iterator[tuple[str, float, float, int]]:
    """Each page case's figures (label, page seconds, bare-SQL seconds, statements) as soon as it is measured:
    at a million cases a whole run takes long enough to want the rows as they come."""
    from streamlit.testing.v1 import AppTest

    from portal.ui.auth import TOKEN
    from portal.ui.navigation import BY_KEY
    # AppTest's bare-mode "missing ScriptRunContext" warnings would bury the figures.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").disabled = True
    from portal.persistence.database import make_engine
    os.environ["PORTAL_DATABASE_URL"] = url
    engine = make_engine(url)
    with engine.connect() as connection:
        _one_case.number = connection.execute(
            select(Complaint.number).where(Complaint.number.is_not(None)).order_by(Complaint.id.desc()).limit(1)
        ).scalar()
        # the newest decided application: a request with its whole history (registered, handed over, decided)
        _request.number, policy_id = connection.execute(
            select(ServiceRequest.number, ServiceRequest.policy_id)
            .order_by((ServiceRequest.state == "decided").desc(), ServiceRequest.id.desc()).limit(1)).one()
        insured = connection.execute(select(PolicyPerson.name, PolicyPerson.id_number).where(
            PolicyPerson.policy_id == policy_id, PolicyPerson.role == "insured")).one()
        _lookup.values = {"number": connection.execute(select(Policy.policy_number).where(
            Policy.id == policy_id)).scalar(), "name": insured.name, "id_number": insured.id_number}
    with _shared_script_cache():
        for case in PAGES:
            if only and not any(text in case.label for text in only):
                continue
            if case.page and case.page not in BY_KEY:       # a page not built yet in this checkout
                yield (f"{case.label} (no such page)", 0.0, 0.0, 0)
                continue
            at = AppTest.from_file(str(ROOT / "portal" / "app.py"), default_timeout=600)
            at.session_state[TOKEN] = _session_token(engine, case.username)
            at.run()
            if case.page:
                at.switch_page(BY_KEY[case.page].path)
                at.run()
            if case.prepare:
                case.prepare(at)
            at.run()                                    # warm: per-process caches, reminder sweep
            if at.exception:
                raise RuntimeError(f"{case.label}: {at.exception[0].message}")
            def rerun() -> None:
                if case.each_run:
                    case.prepare(at)
                at.run()
            with recorder.recording() as statements:
                rerun()
            if at.exception:
                raise RuntimeError(f"{case.label}: {at.exception[0].message}")
            page = _median(rerun, repeat)
            sql = _median(lambda: _replay(engine, statements), repeat)
            yield (case.label, page, sql, len(statements))
            for seconds, statement in slowest(engine, statements, show):
                print(f"    {seconds * 1000:>7.1f} ms  {statement[:400]}", flush=True)
    engine.dispose()


# -- the command -----------------------------------------------------------------------------------

@contextmanager
def _database(backend: str, postgres_url: str, keep: Path | None = None, size: int = 0):  # noqa: ANN201
    """A throw-away database, or with `keep` one left after the run for `--reuse` (a SQLite file in that folder, a
    PostgreSQL database named after the size)."""
    if backend == "sqlite":
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            path = keep / f"bench-{size}.sqlite3"
            path.unlink(missing_ok=True)
            yield f"sqlite:///{path}"
            return
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        return
    name = f"portal_bench_{uuid.uuid4().hex[:8]}" if keep is None else f"portal_bench_kept_{size}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if keep is not None:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        from portal.ui.context import _unit_of_work
        _unit_of_work.clear()
        if keep is None:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _postgres_reachable(url: str) -> str | None:
    try:
        engine = create_engine(url)
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        engine.dispose()
        return None
    except Exception as error:  # noqa: BLE001 - any failure means "not reachable"
        return str(error).splitlines()[0]


def measure_sandbox(repeat: int) -> tuple[float, float]:
    """The trainer's sandbox rebuild (seconds): the first build of a fresh folder (which also makes the
    base file of schema and demo users) and the median of `repeat` rebuilds after it."""
    from portal import demo
    from portal.services import sandbox
    from portal.services.actors import load_actor
    from portal.services.setup import open_database
    saved = {key: os.environ.get(key) for key in ("PORTAL_DATABASE_URL", "PORTAL_SANDBOX_DIR")}
    with tempfile.TemporaryDirectory() as folder:
        os.environ["PORTAL_DATABASE_URL"] = f"sqlite:///{Path(folder) / 'real.sqlite3'}"
        os.environ["PORTAL_SANDBOX_DIR"] = str(Path(folder) / "sandboxes")
        try:
            real = open_database(os.environ["PORTAL_DATABASE_URL"])
            now = _now()
            demo.ensure_demo_users(real, now - timedelta(days=30))
            trainer = load_actor(real, "trainer")
            began = time.perf_counter()
            sandbox.build(actor=trainer, now=now)
            first = time.perf_counter() - began
            rebuild = _median(lambda: sandbox.build(actor=trainer, now=now), repeat)
            real.engine.dispose()
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    return first, rebuild


def _measure(url: str, repeat: int, only: list[str] | None, show: int = 0) -> None:
    print(f"{'page':<34} {'page':>9} {'bare SQL':>9} {'page/SQL':>9} {'queries':>8}", flush=True)
    recorder = _Recorder()
    try:
        for label, page, sql, count in measure_pages(url, repeat, recorder, only=only, show=show):
            print(f"{label:<34} {page * 1000:>6.0f} ms {sql * 1000:>6.0f} ms "
                  f"{page / sql if sql else 0:>8.2f}x {count:>8}", flush=True)
    finally:
        recorder.close()


def run(*, sizes: list[int], backends: list[str], repeat: int, postgres_url: str, sandbox: bool = False,
        only: list[str] | None = None, keep: Path | None = None, reuse: list[str] | None = None,
        statements: int = 0) -> int:
    for url in reuse or []:                 # a database a `--keep` run left: the pages again, no seeding
        print(f"\n== {url} (kept from an earlier run) ==")
        _measure(url, repeat, only, statements)
    if sandbox:
        first, rebuild = measure_sandbox(repeat)
        print(f"sandbox: first build {first:.1f} s (with the base file); rebuild {rebuild:.1f} s "
              f"(median of {repeat})")
    for backend in backends:
        if backend == "postgres":
            problem = _postgres_reachable(postgres_url)
            if problem:
                print(f"postgres: skipped, not reachable at {postgres_url}: {problem}")
                continue
        for size in sizes:
            with _database(backend, postgres_url, keep, size) as url:
                now = _now()
                seeded = seed(url, size, now)
                print(f"\n== {backend}, {size:,} complaints ({seeded.open:,} open; {seeded.departments:,} department "
                      f"routings; {seeded.clocks:,} stored clocks; {seeded.events:,} history events; "
                      f"{seeded.follow_ups:,} surveys) ==")
                print(f"seeding: {seeded.seconds:.1f} s ("
                      + ", ".join(f"{name} {t:.1f} s" for name, t in seeded.phases.items())
                      + f"); first reminder sweep: {seeded.reminder_seconds:.1f} s ({seeded.reminders:,} issued)")
                apart = {name: seeded.phases.get(name, 0.0) for name in ("service desk", "statistics rollups")}
                cases = seeded.seconds - sum(apart.values()) + seeded.reminder_seconds
                print(f"the cases with their clocks, history, surveys and first reminder sweep: {cases:.1f} s "
                      "(the issue's line: 1,000,000 in 120 s); the service desk (with its indexes) "
                      f"{apart['service desk']:.1f} s; the statistics rollups {apart['statistics rollups']:.1f} s")
                if seeded.desk is not None:
                    desk = seeded.desk
                    print(f"service desk: {desk.policies:,} policies ({desk.persons:,} persons), {desk.requests:,} "
                          f"requests ({desk.events:,} history rows) seeded in {desk.seconds:.1f} s")
                if keep is not None:
                    print(f"kept for --reuse: {url}")
                _measure(url, repeat, only, statements)
    if sizes or reuse:
        print(f"\nmedian of {repeat} warm reruns per page (Streamlit AppTest, server side); bare SQL: the SELECTs the "
              "page issued in one rerun, replayed on a plain connection")
    return 0
