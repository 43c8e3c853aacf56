"""indexes of the service desk: its running clocks, and what the statistics page reads by period

Issue 17: the register's overdue filter and the desk's queue read the running clocks only; at a million
requests a scan of every request took about a second, the partial index a few milliseconds. The statistics
page counts requests by month and kind (from the index alone), hand-overs and refusals of a period (ranges).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02 21:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_service_requests_running', 'service_requests', ['clock_key', 'clock_due_at'],
                    sqlite_where=sa.text("clock_stopped_at IS NULL"),
                    postgresql_where=sa.text("clock_stopped_at IS NULL"))
    op.create_index('ix_service_requests_month_kind', 'service_requests', ['received_at', 'kind'])
    op.create_index('ix_service_requests_handed', 'service_requests', ['handed_over_at'])
    op.create_index('ix_service_requests_refused', 'service_requests', ['refused_at'])


def downgrade() -> None:
    for name in ('ix_service_requests_refused', 'ix_service_requests_handed', 'ix_service_requests_month_kind',
                 'ix_service_requests_running'):
        op.drop_index(name, 'service_requests')
