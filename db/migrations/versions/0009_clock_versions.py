"""clock rules with effective dates (issue 9): a change of a clock's target, unit, events or 临期
threshold is a new version that applies to cases received from its effective instant; cases already
received keep the version they were received under, so running deadlines are never rewritten

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 12:30:00
"""
from datetime import datetime

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

EARLIEST = datetime(2000, 1, 1)     # no case is received before 2000 (registration refuses it)
RULE_COLUMNS = ('unit', 'target', 'start_milestone', 'stop_milestone')


def upgrade() -> None:
    op.create_table(
        'sla_clock_versions',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('clock_key', sa.String(40), sa.ForeignKey('sla_clocks.key'), nullable=False),
        sa.Column('effective_from', sa.DateTime(), nullable=False),
        sa.Column('effective_until', sa.DateTime(), nullable=True),
        sa.Column('unit', sa.String(20), nullable=False),
        sa.Column('target', sa.Integer(), nullable=False),
        sa.Column('start_milestone', sa.String(40), nullable=False),
        sa.Column('stop_milestone', sa.String(40), nullable=False),
        sa.Column('due_soon_percent', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=True),
        sa.Column('created_by', sa.String(80), nullable=True),
        sa.UniqueConstraint('clock_key', 'effective_from', name='uq_sla_clock_versions_from'),
    )
    op.execute(
        sa.text("INSERT INTO sla_clock_versions (clock_key, effective_from, unit, target, start_milestone, "
                "stop_milestone) SELECT key, :earliest, unit, target, start_milestone, stop_milestone "
                "FROM sla_clocks").bindparams(earliest=EARLIEST))
    with op.batch_alter_table('sla_clocks', schema=None) as batch_op:
        for column in RULE_COLUMNS:
            batch_op.drop_column(column)


def downgrade() -> None:
    with op.batch_alter_table('sla_clocks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit', sa.String(20), nullable=False, server_default='days'))
        batch_op.add_column(sa.Column('target', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('start_milestone', sa.String(40), nullable=False, server_default='received_at'))
        batch_op.add_column(sa.Column('stop_milestone', sa.String(40), nullable=False, server_default='closed_at'))
    for column in RULE_COLUMNS:     # the version first in force
        op.execute(f"UPDATE sla_clocks SET {column} = (SELECT v.{column} FROM sla_clock_versions v "
                   "WHERE v.clock_key = sla_clocks.key ORDER BY v.effective_from LIMIT 1)")
    op.drop_table('sla_clock_versions')
