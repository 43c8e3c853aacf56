"""registration: the repeat lookup by phone, policy or ID number (002 art.4) and its window

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 02:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

LOOKUPS = (('ix_complaints_phone_created', 'customer_phone'), ('ix_complaints_policy_created', 'policy_number'),
           ('ix_complaints_id_number_created', 'customer_id_number'))


def upgrade() -> None:
    for name, column in LOOKUPS:
        op.create_index(name, 'complaints', [column, 'created_at'])
    settings = sa.table('settings', sa.column('key', sa.String), sa.column('value', sa.String),
                        sa.column('description', sa.String))
    op.bulk_insert(settings, [
        dict(key="register.duplicate_window_days", value="30",
             description="registering warns of complaints with the same phone, policy or ID number from this many days"),
    ])


def downgrade() -> None:
    op.execute("DELETE FROM settings WHERE key = 'register.duplicate_window_days'")
    for name, _ in LOOKUPS:
        op.drop_index(name, table_name='complaints')
