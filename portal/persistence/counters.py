"""Gap-free monthly serials: the counter row is locked by the accepting transaction itself.

The increment commits or rolls back with the acceptance, so a failed acceptance leaves no gap;
concurrent acceptances queue on the row lock (PostgreSQL) or on the write lock that
`BEGIN IMMEDIATE` takes (SQLite).
"""
from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from portal.persistence.models import NumberCounter


def next_serial(session: Session, period: str) -> int:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(dialect.insert(NumberCounter).values(period=period, last_serial=0)
                    .on_conflict_do_nothing(index_elements=["period"]))
    return session.execute(
        update(NumberCounter).where(NumberCounter.period == period)
        .values(last_serial=NumberCounter.last_serial + 1)
        .returning(NumberCounter.last_serial)).scalar_one()
