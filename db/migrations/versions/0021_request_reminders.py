"""催办单 for the service desk's clocks: one per request and clock, issued by the sweep

Issue 17: the hand-over to the insurer (and the desk's other clocks) is chased like a complaint clock.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 21:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'request_reminders',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('request_id', sa.Integer(), sa.ForeignKey('service_requests.id'), nullable=False),
        sa.Column('clock_key', sa.String(length=30), nullable=False),
        sa.Column('department_code', sa.String(length=40), nullable=False),
        sa.Column('issued_at', sa.DateTime(), nullable=False),
        sa.Column('due_at', sa.DateTime(), nullable=False),
        sa.UniqueConstraint('request_id', 'clock_key', name='uq_request_reminders_clock'),
    )
    op.create_index('ix_request_reminders_issued', 'request_reminders', ['issued_at'])


def downgrade() -> None:
    op.drop_index('ix_request_reminders_issued', 'request_reminders')
    op.drop_table('request_reminders')
