"""`python -m portal bench`: badge computation and ledger-page timings on throw-away databases.

For each size it seeds a fresh SQLite file with that many complaints (most of them open), then
prints: every case's badges (all clocks) computed vectorised and by a per-case Python loop,
and the GM office ledger page's server-side time (Streamlit AppTest) beside its bare SQL queries.
"""
from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
from sqlalchemy import insert, select

from portal.config import ROOT
from portal.domain import clocks as clock_rules
from portal.domain.lifecycle import OPEN_STATES, State
from portal.persistence.database import UnitOfWork, make_engine
from portal.persistence.migrate import upgrade
from portal.persistence.models import Category, Channel, Complaint, ComplaintDepartment, Department
from portal.services import queries, rules, users
from portal.services.calendar import load_package_calendar

NOW = datetime(2026, 6, 15, 10, 0)


def _timed(fn, repeat: int) -> tuple[float, object]:  # noqa: ANN001
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def _seed(uow: UnitOfWork, size: int, rng: random.Random) -> None:
    users.add_user(uow, actor=None, username="benchgm", display_name="基准", password="bench-password",
                   roles=["gm_office"], department="gm_office", now=NOW - timedelta(days=400))
    with uow.write() as session:
        categories = list(session.scalars(select(Category.id)))
        channels = list(session.scalars(select(Channel.id)))
        departments = list(session.scalars(select(Department.id).where(Department.investigates)))
        clerk = session.scalar(select(users.User.id))
    states = [State.REGISTERED, State.INVESTIGATING, State.INVESTIGATING, State.AWAITING_CONSOLIDATION,
              State.NEGOTIATING, State.CLOSED]
    rows, links = [], []
    for i in range(1, size + 1):
        received = NOW - timedelta(minutes=rng.randint(60, 200 * 24 * 60))
        state = rng.choice(states)
        accepted = None if state is State.REGISTERED else received + timedelta(hours=rng.randint(1, 40))
        done = accepted + timedelta(days=rng.randint(2, 14)) if state not in (
            State.REGISTERED, State.INVESTIGATING) else None
        rows.append(dict(
            id=i, number=f"B{i:07d}" if accepted else None, state=state.value, version=1,
            customer_name=f"客户{i}", customer_gender="female", customer_age_band="35_44",
            customer_occupation="", customer_phone="13800000000", customer_id_number="",
            customer_address="", customer_email="", policy_number=f"P{i}", product="车险",
            insured_name="", claim_report_number="", channel_id=rng.choice(channels),
            category_id=rng.choice(categories), description="基准数据", product_involved="",
            expected_resolution="-", complained_staff_other="", severity="general", urgency="normal",
            flag_media=False, flag_regulator=False, flag_litigation=False, amount_at_stake=None,
            joint_complainants=1, receiving_clerk_id=clerk, paused=rng.random() < 0.03,
            received_at=received, created_at=received, accepted_at=accepted,
            initial_plan_at=accepted and accepted + timedelta(hours=rng.randint(1, 60)),
            investigation_done_at=done, closed_at=done + timedelta(days=2) if state is State.CLOSED else None))
        if accepted:
            links.append(dict(complaint_id=i, department_id=rng.choice(departments), routed_at=accepted))
    with uow.write() as session:
        for start in range(0, len(rows), 5000):
            session.execute(insert(Complaint), rows[start:start + 5000])
        for start in range(0, len(links), 5000):
            session.execute(insert(ComplaintDepartment), links[start:start + 5000])


def _loop_badges(frame: pd.DataFrame, clocks, calendar, fraction: float) -> int:  # noqa: ANN001
    count = 0
    records = frame.to_dict("records")
    for record in records:
        for info in clocks:
            start, stop = record[info.rule.start.value], record[info.rule.stop.value]
            clock_rules.badge_one(info.rule, None if pd.isna(start) else start.to_pydatetime(),
                                  None if pd.isna(stop) else stop.to_pydatetime(), NOW, calendar, fraction,
                                  clock_rules.Holds(bool(record["paused"]), int(record["paused_seconds"]),
                                                    bool(record["outside"]), int(record["outside_seconds"]),
                                                    int(record["regulatory_extension_days"])))
            count += 1
    return count


def _page_time(url: str, repeat: int) -> float:
    from streamlit.testing.v1 import AppTest
    from portal.ui.navigation import BY_KEY
    os.environ["PORTAL_DATABASE_URL"] = url
    at = AppTest.from_file(str(ROOT / "portal" / "app.py"), default_timeout=600)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = "benchgm"
    at.run()
    at.switch_page(BY_KEY["ledger"].path)
    at.run()                                   # warm: caches, imports
    if at.exception:
        raise RuntimeError(at.exception[0].message)
    seconds, _ = _timed(lambda: at.run(), repeat)
    return seconds


def run(*, sizes: list[int], repeat: int) -> int:
    print(f"{'cases':>8} {'open':>8} | {'badges, all cases':>18} {'per-case loop':>14} {'ratio':>7} |"
          f" {'ledger page':>12} {'bare SQL':>9} {'page/SQL':>9}")
    for size in sizes:
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
            upgrade(url)
            uow = UnitOfWork(make_engine(url))
            load_package_calendar(uow)
            _seed(uow, size, random.Random(size))
            calendar = rules.load_calendar(uow)
            clocks = rules.load_clocks(uow)
            fraction = rules.due_soon_fraction(rules.load_settings(uow))
            with uow.read() as session:    # every case, open or not: a superset of the open ones
                frame = queries.ledger_rows(session, queries._ledger_select())
            open_count = int(frame["state"].isin([s.value for s in OPEN_STATES]).sum())
            vector_s, _ = _timed(lambda: clock_rules.evaluate([c.rule for c in clocks], frame, NOW,
                                                              calendar, fraction), repeat)
            loop_s, _ = _timed(lambda: _loop_badges(frame, clocks, calendar, fraction), 1)

            def bare_sql() -> None:
                with uow.engine.connect() as connection:
                    for statement in queries.ledger_statements(queries._ledger_select()):
                        connection.execute(statement).all()
            sql_s, _ = _timed(bare_sql, repeat)
            page_s = _page_time(url, max(1, repeat // 2))
            uow.engine.dispose()
            print(f"{size:>8} {open_count:>8} | {vector_s * 1000:>15.1f} ms {loop_s * 1000:>11.0f} ms"
                  f" {loop_s / vector_s:>6.0f}x | {page_s * 1000:>9.0f} ms {sql_s * 1000:>6.0f} ms"
                  f" {page_s / sql_s:>8.2f}x")
    print(f"badges of every case (open ones included) × {len(clocks)} clocks; computed at {NOW:%Y-%m-%d %H:%M}; median of {repeat} runs"
          " (loop: one run; page: AppTest server-side time of the ledger page, all cases, first 200 rows shown)")
    return 0
