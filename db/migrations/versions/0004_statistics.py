"""statistics: stored clock dues, compiled monthly tables, the indexes the pages and statistics need

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 21:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

RUNNING = sa.text("stopped_at IS NULL")


def upgrade() -> None:
    op.create_table(
        'case_clocks',
        sa.Column('complaint_id', sa.Integer(), nullable=False),
        sa.Column('clock_key', sa.String(length=40), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('due_at', sa.DateTime(), nullable=True),
        sa.Column('soon_at', sa.DateTime(), nullable=True),
        sa.Column('stopped_at', sa.DateTime(), nullable=True),
        sa.Column('held_since', sa.DateTime(), nullable=True),
        sa.Column('late', sa.Boolean(), nullable=True),
        sa.Column('calendar_missing', sa.Boolean(), nullable=False),
        sa.Column('duration_s', sa.Integer(), nullable=True),
        sa.Column('case_closed_at', sa.DateTime(), nullable=True),
        sa.Column('case_received_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], ),
        sa.PrimaryKeyConstraint('complaint_id', 'clock_key'))
    # Partial: a query for running clocks (stopped_at IS NULL) must not be steered here by
    # statistics that see stopped_at as nearly unique.
    op.create_index('ix_case_clocks_stopped', 'case_clocks', ['clock_key', 'stopped_at', 'late', 'duration_s'],
                    sqlite_where=sa.text("stopped_at IS NOT NULL"), postgresql_where=sa.text("stopped_at IS NOT NULL"))
    op.create_index('ix_case_clocks_running', 'case_clocks',
                    ['due_at', 'soon_at', 'held_since', 'started_at', 'case_closed_at', 'case_received_at', 'complaint_id',
                     'clock_key'],
                    sqlite_where=RUNNING, postgresql_where=RUNNING)
    op.create_index('ix_case_clocks_missing', 'case_clocks', ['calendar_missing', 'complaint_id'])

    op.create_table(
        'stats_snapshots',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('period', sa.String(length=7), nullable=False),
        sa.Column('compiled_at', sa.DateTime(), nullable=False),
        sa.Column('compiled_by_id', sa.Integer(), nullable=False),
        sa.Column('figures', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['compiled_by_id'], ['users.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('period'))

    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_late', sa.Boolean(), nullable=True))
    op.create_index('ix_complaints_received', 'complaints', ['received_at', 'id'])
    op.create_index('ix_complaints_received_facts', 'complaints',
                    ['received_at', 'category_id', 'channel_id', 'severity', 'original_id'])
    op.create_index('ix_complaints_accepted', 'complaints', ['accepted_at'])
    op.create_index('ix_complaints_closed_facts', 'complaints',
                    ['closed_at', 'category_id', 'channel_id', 'severity', 'responsibility_department_id',
                     'received_at', 'closed_late'])
    op.create_index('ix_complaints_state_received', 'complaints', ['state', 'received_at'])
    op.create_index('ix_complaints_clerk', 'complaints', ['receiving_clerk_id', 'received_at'])
    op.create_index('ix_complaints_original', 'complaints', ['original_id'])
    op.create_index('ix_complaint_departments_department', 'complaint_departments',
                    ['department_id', 'complaint_id', 'report_submitted_at'])
    op.create_index('ix_reminders_issued', 'reminders', ['issued_at', 'kind'])
    op.create_index('ix_follow_ups_visited', 'follow_ups',
                    ['visited_at', 'process', 'attitude', 'efficiency', 'result', 'overall', 'complaint_id'])
    op.create_index('ix_complaints_follow_up', 'complaints', ['follow_up_task', 'state', 'received_at'])
    op.create_index('ix_rectifications_deadline', 'rectifications', ['deadline', 'status'])

    settings = sa.table('settings', sa.column('key', sa.String), sa.column('value', sa.String),
                        sa.column('description', sa.String))
    op.bulk_insert(settings, [
        dict(key="warning.satisfaction_min", value="0.80",
             description="early warning when the share of satisfied follow-ups falls below this"),
        dict(key="warning.overdue_rate_max", value="0.10",
             description="early warning when the overdue rate rises above this"),
        dict(key="warning.repeat_rate_max", value="0.05",
             description="early warning when the share of repeat complaints rises above this"),
        dict(key="warning.volume_growth_max", value="0.30",
             description="early warning when complaints received grow by more than this on the previous period"),
        dict(key="stats.satisfied_min_score", value="4",
             description="a survey score at or above this (1-5) counts as satisfied"),
        dict(key="stats.compile_day", value="10",
             description="the monthly statistics table is due by this day of the next month"),
        dict(key="reminders.late_inquiry_window_days", value="90",
             description="late-inquiries are issued for clocks that ended late within this many days"),
    ])


def downgrade() -> None:
    op.execute("DELETE FROM settings WHERE key LIKE 'warning.%' OR key LIKE 'stats.%' "
               "OR key = 'reminders.late_inquiry_window_days'")
    for table, name in (('rectifications', 'ix_rectifications_deadline'), ('follow_ups', 'ix_follow_ups_visited'),
                        ('reminders', 'ix_reminders_issued'),
                        ('complaint_departments', 'ix_complaint_departments_department'),
                        ('complaints', 'ix_complaints_original'), ('complaints', 'ix_complaints_clerk'),
                        ('complaints', 'ix_complaints_follow_up'),
                        ('complaints', 'ix_complaints_state_received'), ('complaints', 'ix_complaints_closed_facts'),
                        ('complaints', 'ix_complaints_accepted'), ('complaints', 'ix_complaints_received_facts'),
                        ('complaints', 'ix_complaints_received')):
        op.drop_index(name, table_name=table)
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_column('closed_late')
    op.drop_table('stats_snapshots')
    op.drop_index('ix_case_clocks_missing', table_name='case_clocks')
    op.drop_index('ix_case_clocks_running', table_name='case_clocks')
    op.drop_index('ix_case_clocks_stopped', table_name='case_clocks')
    op.drop_table('case_clocks')
