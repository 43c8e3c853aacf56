"""customer contact log and contact clocks

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 12:45:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


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


def downgrade() -> None:
    op.drop_index('ix_contact_log_complaint', table_name='contact_log')
    op.drop_table('contact_log')
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        for column in ('closure_notified_at', 'customer_acknowledged_at', 'optional_notices', 'preferred_contact'):
            batch_op.drop_column(column)
