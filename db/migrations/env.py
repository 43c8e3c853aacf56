"""Alembic environment: the URL comes from the portal's own settings (or the caller's config)."""
from alembic import context

from portal.config import database_url
from portal.persistence.database import make_engine
from portal.persistence.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url") or database_url()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        context.configure(connection=connectable, target_metadata=Base.metadata,
                          render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata,
                          render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
