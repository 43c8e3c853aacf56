"""the seeds' steps: the investigation report to the GM office (002 art.13.2), responsibility shared
by several departments with a ratio each (art.13.9), penalties confirmed by the approver (art.13.6);
the registration form's token (a form sent twice registers one case)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('complaints', sa.Column('gm_report', sa.Text(), nullable=False, server_default=''))
    op.add_column('complaints', sa.Column('penalty_confirmed_at', sa.DateTime(), nullable=True))
    # SQLite cannot add a constraint to a table in place (and rebuilding complaints would lose its
    # partial indexes): the reference is declared there by the column alone.
    if op.get_bind().dialect.name == 'postgresql':
        op.add_column('complaints', sa.Column('penalty_confirmed_by_id', sa.Integer(),
                                              sa.ForeignKey('users.id', name='fk_complaints_penalty_confirmed_by')))
    else:
        op.add_column('complaints', sa.Column('penalty_confirmed_by_id', sa.Integer(), nullable=True))
    op.add_column('complaints', sa.Column('submission_token', sa.String(40), nullable=True))
    op.create_index('ix_complaints_submission_token', 'complaints', ['submission_token'], unique=True)
    op.create_table(
        'responsibility_shares',
        sa.Column('complaint_id', sa.Integer(), sa.ForeignKey('complaints.id'), primary_key=True),
        sa.Column('department_id', sa.Integer(), sa.ForeignKey('departments.id'), primary_key=True),
        sa.Column('ratio', sa.Integer(), nullable=False),
    )
    op.create_index('ix_responsibility_shares_department_id', 'responsibility_shares', ['department_id'])
    op.execute("INSERT INTO responsibility_shares (complaint_id, department_id, ratio) "
               "SELECT id, responsibility_department_id, 100 FROM complaints "
               "WHERE responsibility_department_id IS NOT NULL")


def downgrade() -> None:
    op.drop_index('ix_responsibility_shares_department_id', table_name='responsibility_shares')
    op.drop_table('responsibility_shares')
    op.drop_column('complaints', 'penalty_confirmed_by_id')
    op.drop_index('ix_complaints_submission_token', table_name='complaints')
    op.drop_column('complaints', 'submission_token')
    op.drop_column('complaints', 'penalty_confirmed_at')
    op.drop_column('complaints', 'gm_report')
