"""Opening a database: migrate it, load the official calendar, fill what later revisions store."""
from __future__ import annotations

from portal.persistence.database import UnitOfWork, make_engine
from portal.persistence.migrate import upgrade
from portal.services import dues, rules
from portal.services.calendar import load_package_calendar


def open_database(url: str) -> UnitOfWork:
    """Create or migrate the database and make it ready to serve (safe for concurrent starters)."""
    upgrade(url)
    uow = UnitOfWork(make_engine(url))
    load_package_calendar(uow)
    dues.backfill_if_needed(uow, rules.load_calendar(uow))
    return uow
