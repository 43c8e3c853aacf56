"""Migration 0018: the masking table is created with the seeded defaults (the same as the domain's),
an administrator's edit survives nothing but a downgrade, which removes the table."""
from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, select

from portal.domain.privacy import default_rows
from portal.persistence.database import UnitOfWork, make_engine
from portal.persistence.migrate import alembic_config
from portal.persistence.models import MaskingRule
from portal.services import privacy

FIELDS = ("name", "phone", "id_number", "address", "email", "policy_number")


def _rows(url: str) -> dict[str, dict[str, str]]:
    unit = UnitOfWork(make_engine(url))
    try:
        with unit.read() as session:
            return {r.audience: {f: getattr(r, f) for f in FIELDS} for r in session.scalars(select(MaskingRule))}
    finally:
        unit.engine.dispose()


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_0018_creates_the_masking_table_with_the_defaults_and_its_downgrade_drops_it(database_url, uow):
    seeded = _rows(database_url)
    assert seeded == {r["audience"]: {f: r[f] for f in FIELDS} for r in default_rows()}
    assert seeded["manager"] == dict.fromkeys(FIELDS, "masked")
    assert seeded["handler"] == dict.fromkeys(FIELDS, "own_department")
    with uow.read() as session:        # what the services read is the seeded table
        assert privacy.masking_table(session).rules["approver"]["phone"] == "masked"
    uow.engine.dispose()

    command.downgrade(alembic_config(database_url), "0017")
    assert "masking_rules" not in _tables(database_url)

    command.upgrade(alembic_config(database_url), "0018")
    assert _rows(database_url) == seeded
