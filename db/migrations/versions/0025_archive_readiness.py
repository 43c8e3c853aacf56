"""the archive's readiness stored on each case (issue 18): the GM office's archive tab and home to-do read an
index (state, flag, closure) instead of probing every closed case's follow-ups, scheduled visits, departments'
actions, quality check and corrective actions

`archive_blocked` is true unless the case is closed with nothing before its archive; it is filled here from the
raw tables (the rule as at this revision, `services.archive_readiness.ready_to_archive`) and from then on kept
by the session hook in the same transaction as each write.

The ledger's overdue filter reads the case's stored `next_due_at` (the earliest due time of its running, unheld
clocks: overdue exactly when it is past) through an index of its own.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03 10:10:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

READY = ("state = 'closed' AND follow_up_task = {false}"
         " AND EXISTS (SELECT 1 FROM follow_ups f WHERE f.complaint_id = complaints.id)"
         " AND NOT EXISTS (SELECT 1 FROM follow_up_schedules s WHERE s.complaint_id = complaints.id"
         " AND s.follow_up_id IS NULL)"
         " AND NOT EXISTS (SELECT 1 FROM follow_up_actions a WHERE a.complaint_id = complaints.id"
         " AND a.acted_at IS NULL)"
         " AND (NOT (COALESCE(negotiation_result, '') IN ('accepted', 'partly')"
         " AND COALESCE(negotiated_amount, 0) > 0) OR remedy_done_at IS NOT NULL)"
         " AND EXISTS (SELECT 1 FROM quality_checks q WHERE q.complaint_id = complaints.id)"
         " AND NOT EXISTS (SELECT 1 FROM rectifications r WHERE r.complaint_id = complaints.id"
         " AND r.kind = 'corrective' AND r.status <> 'done')")


def upgrade() -> None:
    op.add_column('complaints', sa.Column('archive_blocked', sa.Boolean(), nullable=False, server_default=sa.true()))
    false = "false" if op.get_bind().dialect.name == "postgresql" else "0"
    op.execute(f"UPDATE complaints SET archive_blocked = {false} WHERE {READY.format(false=false)}")
    op.create_index('ix_complaints_archive_queue', 'complaints', ['state', 'archive_blocked', 'closed_at', 'id'])
    op.create_index('ix_complaints_overdue', 'complaints', ['next_due_at', 'received_at', 'id'])


def downgrade() -> None:
    op.drop_index('ix_complaints_overdue', table_name='complaints')
    op.drop_index('ix_complaints_archive_queue', table_name='complaints')
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_column('archive_blocked')
