"""市场部's queues after closure stored on each case (issue 18): waiting for a follow-up (`follow_up_due`: closed,
no GM-office task open, no follow-up yet or a scheduled one not made) and an agreed payment not yet recorded as
made (`remedy_due`), each with an index in queue order, so 待回访 and 补偿落实 read an index range instead of
probing every closed case (at a million cases the follow-up tab took a second on PostgreSQL)

Filled here from the raw tables (the rules as at this revision, `services.archive_readiness`); from then on kept
by the session hook in the same transaction as each write, beside `archive_blocked` (0025).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03 11:50:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None

FOLLOW_UP_DUE = ("state = 'closed' AND follow_up_task = {false}"
                 " AND (NOT EXISTS (SELECT 1 FROM follow_ups f WHERE f.complaint_id = complaints.id)"
                 " OR EXISTS (SELECT 1 FROM follow_up_schedules s WHERE s.complaint_id = complaints.id"
                 " AND s.follow_up_id IS NULL))")
REMEDY_DUE = ("state = 'closed' AND COALESCE(negotiation_result, '') IN ('accepted', 'partly')"
              " AND COALESCE(negotiated_amount, 0) > 0 AND remedy_done_at IS NULL")
ORDER = ['queue_rank', 'next_due_at', 'received_at', 'id']


def upgrade() -> None:
    op.add_column('complaints', sa.Column('follow_up_due', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('complaints', sa.Column('remedy_due', sa.Boolean(), nullable=False, server_default=sa.false()))
    true, false = ("true", "false") if op.get_bind().dialect.name == "postgresql" else ("1", "0")
    op.execute(f"UPDATE complaints SET follow_up_due = {true} WHERE {FOLLOW_UP_DUE.format(false=false)}")
    op.execute(f"UPDATE complaints SET remedy_due = {true} WHERE {REMEDY_DUE}")
    op.create_index('ix_complaints_follow_up_due', 'complaints', ['follow_up_due', *ORDER])
    op.create_index('ix_complaints_remedy_due', 'complaints', ['remedy_due', *ORDER])


def downgrade() -> None:
    op.drop_index('ix_complaints_remedy_due', table_name='complaints')
    op.drop_index('ix_complaints_follow_up_due', table_name='complaints')
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_column('remedy_due')
        batch_op.drop_column('follow_up_due')
