"""Statistics rollups (issue 19): `stats_rollup`, the per-day and per-month sums the statistics read, and
`stats_dirty_days`, the days a committed change may have moved (`services.stats_rollup`). Every day any case
counts on is marked here, so the first statistics read after the upgrade computes them all; at a large database run
`python -m portal stats rebuild` after upgrading instead (the same result, in bulk).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-03 14:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None

DATED = (("complaints", "received_at"), ("complaints", "accepted_at"), ("complaints", "closed_at"),
         ("reminders", "issued_at"), ("follow_ups", "visited_at"), ("case_clocks", "stopped_at"),
         ("complaint_departments", "report_submitted_at"), ("service_requests", "received_at"))


def upgrade() -> None:
    op.create_table(
        'stats_rollup',
        sa.Column('grain', sa.String(1), nullable=False),
        sa.Column('measure', sa.String(20), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('department_id', sa.Integer(), nullable=False),
        sa.Column('category_id', sa.Integer(), nullable=False),
        sa.Column('channel_id', sa.Integer(), nullable=False),
        sa.Column('severity', sa.String(12), nullable=False),
        sa.Column('item', sa.String(60), nullable=False),
        sa.Column('bucket', sa.Integer(), nullable=False),
        sa.Column('n', sa.BigInteger(), nullable=False),
        sa.Column('a', sa.BigInteger(), nullable=False),
        sa.Column('b', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('grain', 'measure', 'day', 'department_id', 'category_id', 'channel_id', 'severity',
                                'item', 'bucket'),
        sqlite_with_rowid=False)
    op.create_table(
        'stats_dirty_days',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint('id'))
    postgres = op.get_bind().dialect.name == "postgresql"
    days = " UNION ".join(f"SELECT {f'CAST({c} AS DATE)' if postgres else f'date({c})'} AS day FROM {t}"
                          f" WHERE {c} IS NOT NULL" for t, c in DATED)
    op.execute(f"INSERT INTO stats_dirty_days (day) SELECT day FROM ({days}) AS dated")


def downgrade() -> None:
    op.drop_table('stats_dirty_days')
    op.drop_table('stats_rollup')
