"""Create and migrate the database (Alembic), then fill reference data that comes from packages."""
from __future__ import annotations

from alembic import command
from alembic.config import Config

from portal.config import ROOT

MIGRATIONS = ROOT / "db" / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    command.upgrade(alembic_config(url), "head")
