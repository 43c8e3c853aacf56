"""PostgreSQL privileges for the role the portal runs under (README, "Running on PostgreSQL").

The owner (who runs the migrations) keeps every right; the application role may read and write
the working tables but only INSERT and SELECT audit events: no UPDATE, DELETE or TRUNCATE, no
DDL, so it can neither edit the trail nor drop its triggers. The triggers themselves are
ENABLE ALWAYS, so even a session that sets session_replication_role = replica is refused.
"""
from __future__ import annotations

import re

from sqlalchemy import text

from portal.domain.errors import DomainError
from portal.persistence.database import UnitOfWork

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
APPEND_ONLY = ("events",)


def grant_app_role(uow: UnitOfWork, *, role: str) -> list[str]:
    """Grant `role` what the portal needs on the current schema; returns the statements run."""
    if uow.dialect != "postgresql":
        raise DomainError("grants.postgres_only")
    if not ROLE_NAME.match(role):
        raise DomainError("grants.bad_role", role=role)
    with uow.write() as session:
        if session.scalar(text("SELECT count(*) FROM pg_roles WHERE rolname = :r"), {"r": role}) == 0:
            raise DomainError("grants.unknown_role", role=role)
        tables = list(session.scalars(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")))
        statements = [f'REVOKE ALL ON ALL TABLES IN SCHEMA {_schema(session)} FROM "{role}"',
                      f'GRANT USAGE ON SCHEMA {_schema(session)} TO "{role}"']
        for table in tables:
            rights = "SELECT, INSERT" if table in APPEND_ONLY else "SELECT, INSERT, UPDATE, DELETE"
            statements.append(f'GRANT {rights} ON "{table}" TO "{role}"')
        statements.append(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {_schema(session)} TO "{role}"')
        for statement in statements:
            session.execute(text(statement))
        return statements


def _schema(session) -> str:  # noqa: ANN001
    return '"' + session.scalar(text("SELECT current_schema()")) + '"'
