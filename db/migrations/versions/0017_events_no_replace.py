"""the audit trail refuses SQLite's REPLACE

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 17:00:00

`REPLACE INTO events …` / `INSERT OR REPLACE INTO events …` delete the conflicting row and insert
another without firing the delete trigger (SQLite fires it only with recursive triggers on): an
insert of an id that exists is refused before the conflict is resolved. PostgreSQL has no REPLACE;
its `ON CONFLICT DO UPDATE` already meets the update refusal.
"""
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE TRIGGER events_no_replace BEFORE INSERT ON events "
                   "WHEN EXISTS (SELECT 1 FROM events WHERE id = NEW.id) "
                   "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS events_no_replace")
