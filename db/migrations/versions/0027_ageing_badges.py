"""The statistics' ageing of open cases from the case itself (issue 19): `next_soon_at` (the earliest due-soon
time of its running, unheld clocks, beside `next_due_at`) and `held_clock` (one of its running clocks is held),
written with the stored clocks (`services.priority`); with them the worst badge of every open case is one index
range over the open states (`ix_complaints_ageing`, which takes the place of (state, received_at)) instead of
grouping every running clock (3 s at a million cases). And `ix_case_clocks_open`: the running clocks of open cases
only, for the overdue-now counts by clock (a closed case's clocks that never stopped outnumber them tenfold).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03 14:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('complaints', sa.Column('next_soon_at', sa.DateTime(), nullable=True))
    op.add_column('complaints', sa.Column('held_clock', sa.Boolean(), nullable=False, server_default=sa.text('false')))
    op.execute("UPDATE complaints SET"
               " next_soon_at = (SELECT MIN(k.soon_at) FROM case_clocks k WHERE k.complaint_id = complaints.id"
               " AND k.stopped_at IS NULL AND k.held_since IS NULL),"
               " held_clock = EXISTS (SELECT 1 FROM case_clocks k WHERE k.complaint_id = complaints.id"
               " AND k.stopped_at IS NULL AND k.held_since IS NOT NULL)"
               " WHERE id IN (SELECT complaint_id FROM case_clocks WHERE stopped_at IS NULL)")
    op.create_index('ix_complaints_ageing', 'complaints',
                    ['state', 'received_at', 'next_due_at', 'next_soon_at', 'held_clock'])
    op.drop_index('ix_complaints_state_received', table_name='complaints')
    running_open = sa.text("stopped_at IS NULL AND case_closed_at IS NULL")
    op.create_index('ix_case_clocks_open', 'case_clocks', ['due_at', 'held_since', 'started_at', 'clock_key',
                                                           'complaint_id'],
                    sqlite_where=running_open, postgresql_where=running_open)


def downgrade() -> None:
    op.drop_index('ix_case_clocks_open', table_name='case_clocks')
    op.create_index('ix_complaints_state_received', 'complaints', ['state', 'received_at'])
    op.drop_index('ix_complaints_ageing', table_name='complaints')
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_column('held_clock')
        batch_op.drop_column('next_soon_at')
