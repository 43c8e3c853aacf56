"""customer contact log and contact clocks

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 12:45:00
"""
from datetime import datetime

from alembic import op
import sqlalchemy as sa

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

EARLIEST = datetime(2000, 1, 1)     # as migration 0009: the first version governs every case
# The contact clocks (SPEC §11, 000 §6): key, zh, en, unit, target, start, stop, sort. Their targets are
# defaults an administrator changes in 时限规则 like any clock's.
CONTACT_CLOCKS = [
    ("customer_acknowledgement", "客户确认通知", "Acknowledgement to the customer", "hours", 24,
     "received_at", "customer_acknowledged_at", 9),
    ("closure_notice", "结案通知", "Closure notice", "days", 1, "closed_at", "closure_notified_at", 10),
]


def upgrade() -> None:
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('preferred_contact', sa.String(length=20), nullable=False,
                                      server_default='phone'))
        batch_op.add_column(sa.Column('optional_notices', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
        batch_op.add_column(sa.Column('customer_acknowledged_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('closure_notified_at', sa.DateTime(), nullable=True))
    op.create_table('contact_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('complaint_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('step', sa.String(length=30), nullable=False),
        sa.Column('content', sa.Text(), nullable=False),
        sa.Column('proof', sa.String(length=200), nullable=False),
        sa.Column('by_id', sa.Integer(), nullable=True),
        sa.Column('notice_id', sa.Integer(), nullable=True),
        sa.Column('attachment_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], ),
        sa.ForeignKeyConstraint(['by_id'], ['users.id'], ),
        sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], ),
        sa.ForeignKeyConstraint(['attachment_id'], ['attachments.id'], ),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_contact_log_complaint', 'contact_log', ['complaint_id', 'at'])
    op.create_table('contact_prompts',
        sa.Column('complaint_id', sa.Integer(), nullable=False),
        sa.Column('clock_key', sa.String(length=40), nullable=False),
        sa.Column('due_soon_at', sa.DateTime(), nullable=False),
        sa.Column('prompted_at', sa.DateTime(), nullable=False),
        sa.Column('notice_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], ),
        sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], ),
        sa.PrimaryKeyConstraint('complaint_id', 'clock_key'))
    clocks = sa.table('sla_clocks', sa.column('key', sa.String), sa.column('name_zh', sa.String),
                      sa.column('name_en', sa.String), sa.column('active', sa.Boolean), sa.column('sort', sa.Integer),
                      sa.column('pausable', sa.Boolean), sa.column('regulatory', sa.Boolean))
    versions = sa.table('sla_clock_versions', sa.column('clock_key', sa.String),
                        sa.column('effective_from', sa.DateTime), sa.column('unit', sa.String),
                        sa.column('target', sa.Integer), sa.column('start_milestone', sa.String),
                        sa.column('stop_milestone', sa.String))
    op.bulk_insert(clocks, [dict(key=k, name_zh=z, name_en=e, active=True, sort=n, pausable=False, regulatory=False)
                            for k, z, e, _, _, _, _, n in CONTACT_CLOCKS])
    op.bulk_insert(versions, [dict(clock_key=k, effective_from=EARLIEST, unit=u, target=g, start_milestone=a,
                                   stop_milestone=b) for k, _, _, u, g, a, b, _ in CONTACT_CLOCKS])
    # The stored dues (case_clocks) of cases already there are filled again at the next start, with these
    # clocks (services.dues.backfill_if_needed).
    op.execute("DELETE FROM settings WHERE key = 'dues.backfilled'")


def downgrade() -> None:
    keys = ", ".join(f"'{k}'" for k, *_ in CONTACT_CLOCKS)
    op.execute(f"DELETE FROM case_clocks WHERE clock_key IN ({keys})")
    op.execute(f"DELETE FROM reminders WHERE clock_key IN ({keys})")
    op.execute(f"DELETE FROM sla_clock_versions WHERE clock_key IN ({keys})")
    op.execute(f"DELETE FROM sla_clocks WHERE key IN ({keys})")
    op.drop_table('contact_prompts')
    op.drop_index('ix_contact_log_complaint', table_name='contact_log')
    op.drop_table('contact_log')
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        for column in ('closure_notified_at', 'customer_acknowledged_at', 'optional_notices', 'preferred_contact'):
            batch_op.drop_column(column)
