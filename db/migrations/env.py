"""Alembic environment: the URL comes from the portal's own settings (or the caller's config).

Several portal processes may start at once on a new database, so migrating is serialised: an
advisory lock on PostgreSQL, a write lock taken up front (BEGIN IMMEDIATE) on SQLite.
"""
from alembic import context
from sqlalchemy import text

from portal.config import database_url
from portal.persistence.database import make_engine
from portal.persistence.models import Base

MIGRATION_LOCK = 7_281_330   # any constant shared by every portal process

config = context.config
url = config.get_main_option("sqlalchemy.url") or database_url()


def run_migrations_online() -> None:
    engine = make_engine(url)
    with engine.execution_options(portal_write=True).connect() as connection:
        postgres = connection.dialect.name == "postgresql"
        if not postgres:
            # SQLite rebuilds a table to alter it; foreign keys must be off meanwhile (outside
            # any transaction, so on the driver's connection before SQLAlchemy begins one).
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
        if postgres:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            connection.commit()
        try:
            # One transaction for the whole run, on SQLite too (whose DDL is transactional, though
            # Alembic assumes not): a process starting meanwhile waits at BEGIN IMMEDIATE and then
            # finds the schema at head, never half-way.
            context.configure(connection=connection, target_metadata=Base.metadata,
                              render_as_batch=True, transactional_ddl=True)
            with context.begin_transaction():
                context.run_migrations()
        finally:
            if postgres:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
                connection.commit()
    engine.dispose()


run_migrations_online()
