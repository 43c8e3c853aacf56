"""audit events found by their action (the configuration change log reads only `config.save` events,
newest first; without this index it scanned the whole audit trail, millions of rows at scale)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 23:10:00
"""
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_events_action', 'events', ['action', 'id'])


def downgrade() -> None:
    op.drop_index('ix_events_action', table_name='events')
