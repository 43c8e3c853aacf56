"""the seeds' forms: the clerk's opinion on the handling form (签注意见), reminders and
late-inquiries with their issuer, text and deadline, issued by hand as well as by the sweep

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 08:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('complaints', sa.Column('clerk_opinion', sa.Text(), nullable=False, server_default=''))
    with op.batch_alter_table('reminders') as batch:
        batch.alter_column('clock_key', existing_type=sa.String(40), nullable=True)
        batch.add_column(sa.Column('issued_by_id', sa.Integer(), sa.ForeignKey('users.id', name='fk_reminders_issued_by'),
                                   nullable=True))
        batch.add_column(sa.Column('content', sa.Text(), nullable=False, server_default=''))
        batch.add_column(sa.Column('due_at', sa.DateTime(), nullable=True))
    # The items the sweep issued before: their due time is the clock's.
    op.execute("UPDATE reminders SET due_at = (SELECT c.due_at FROM case_clocks c WHERE "
               "c.complaint_id = reminders.complaint_id AND c.clock_key = reminders.clock_key)")
    op.create_index('ix_reminders_open', 'reminders', ['answered_at', 'issued_at'])


def downgrade() -> None:
    op.drop_index('ix_reminders_open', table_name='reminders')
    op.execute("DELETE FROM reminders WHERE clock_key IS NULL")
    with op.batch_alter_table('reminders') as batch:
        batch.drop_column('due_at')
        batch.drop_column('content')
        batch.drop_column('issued_by_id')
        batch.alter_column('clock_key', existing_type=sa.String(40), nullable=False)
    op.drop_column('complaints', 'clerk_opinion')
