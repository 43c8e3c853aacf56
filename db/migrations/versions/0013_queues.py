"""priority, named investigators, working groups, major-case flags

Queue order (issue 15 §4): each case keeps `next_due_at` (the earliest due time of its running,
unheld stored clocks) and `queue_rank` (open before closed, 重大 first, then urgency, a case with a
due time before one without; `portal/domain/priority.py`), both filled here for existing cases and
kept afterwards with the stored clocks. Named handlers per routed department (`case_assignments`,
`complaint_departments.assigned_at`), the working group of a major case (`working_group_members`),
two more major-case flags (two or more deaths in one accident; the insurers' association, 同业公会),
each counted when its `major.flag_*` setting is 1, and `assignment.flag_hours`.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 12:45:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

SETTINGS = (
    ("major.flag_deaths", "1", "two or more deaths in one accident make a case major (1 yes, 0 no)"),
    ("major.flag_association", "1", "a complaint to the insurers' association makes a case major (1 yes, 0 no)"),
    ("assignment.flag_hours", "24", "hours after routing before a department with no named handler is flagged"),
)

# The rank of portal/domain/priority.py as it stands at this revision (later code may weigh differently
# and rewrites the column itself through the stored clocks).
RANK = ("(CASE WHEN state IN ('closed', 'archived') THEN 12 ELSE 0 END)"
        " + (CASE WHEN severity = 'major' THEN 0 ELSE 6 END)"
        " + (CASE urgency WHEN 'very_urgent' THEN 0 WHEN 'urgent' THEN 2 ELSE 4 END)"
        " + (CASE WHEN next_due_at IS NULL THEN 1 ELSE 0 END)")


def upgrade() -> None:
    op.add_column('complaints', sa.Column('flag_deaths', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('complaints', sa.Column('flag_association', sa.Boolean(), nullable=False,
                                          server_default=sa.false()))
    op.add_column('complaints', sa.Column('next_due_at', sa.DateTime(), nullable=True))
    op.add_column('complaints', sa.Column('queue_rank', sa.Integer(), nullable=False, server_default='0'))
    op.add_column('complaint_departments', sa.Column('assigned_at', sa.DateTime(), nullable=True))
    op.execute("UPDATE complaints SET next_due_at = (SELECT MIN(c.due_at) FROM case_clocks c "
               "WHERE c.complaint_id = complaints.id AND c.stopped_at IS NULL AND c.held_since IS NULL) "
               "WHERE id IN (SELECT complaint_id FROM case_clocks WHERE stopped_at IS NULL)")
    op.execute(f"UPDATE complaints SET queue_rank = {RANK}")
    op.create_index('ix_complaints_queue', 'complaints',
                    ['state', 'queue_rank', 'next_due_at', 'received_at', 'id'])
    op.create_index('ix_complaints_clerk_queue', 'complaints',
                    ['receiving_clerk_id', 'queue_rank', 'next_due_at', 'received_at', 'id'])
    op.create_index('ix_complaint_departments_unassigned', 'complaint_departments',
                    ['report_submitted_at', 'assigned_at', 'routed_at'])
    op.create_table('case_assignments',
        sa.Column('complaint_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('department_id', sa.Integer(), nullable=False),
        sa.Column('assigned_at', sa.DateTime(), nullable=False),
        sa.Column('assigned_by_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], ),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
        sa.ForeignKeyConstraint(['department_id'], ['departments.id'], ),
        sa.ForeignKeyConstraint(['assigned_by_id'], ['users.id'], ),
        sa.PrimaryKeyConstraint('complaint_id', 'user_id'))
    op.create_index('ix_case_assignments_user', 'case_assignments', ['user_id', 'complaint_id'])
    op.create_table('working_group_members',
        sa.Column('complaint_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('leader', sa.Boolean(), nullable=False),
        sa.Column('added_at', sa.DateTime(), nullable=False),
        sa.Column('added_by_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], ),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
        sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], ),
        sa.PrimaryKeyConstraint('complaint_id', 'user_id'))
    op.create_index('ix_working_group_members_user', 'working_group_members', ['user_id', 'complaint_id'])
    settings = sa.table('settings', sa.column('key', sa.String), sa.column('value', sa.String),
                        sa.column('description', sa.String))
    op.bulk_insert(settings, [dict(key=k, value=v, description=d) for k, v, d in SETTINGS])


def downgrade() -> None:
    op.execute("DELETE FROM settings WHERE key IN ('major.flag_deaths', 'major.flag_association', "
               "'assignment.flag_hours')")
    op.drop_index('ix_working_group_members_user', table_name='working_group_members')
    op.drop_table('working_group_members')
    op.drop_index('ix_case_assignments_user', table_name='case_assignments')
    op.drop_table('case_assignments')
    op.drop_index('ix_complaint_departments_unassigned', table_name='complaint_departments')
    op.drop_index('ix_complaints_clerk_queue', table_name='complaints')
    op.drop_index('ix_complaints_queue', table_name='complaints')
    with op.batch_alter_table('complaint_departments', schema=None) as batch_op:
        batch_op.drop_column('assigned_at')
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        for column in ('queue_rank', 'next_due_at', 'flag_association', 'flag_deaths'):
            batch_op.drop_column(column)
