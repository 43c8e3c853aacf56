"""The statistics rollup's second form (issue 19): total rows beside the mixes of category, channel and severity
(what an unfiltered figure reads), year rows (grain Y, a year's months summed), and each clock's stops per whole
hour taken (`clock_hour`, where the 90th percentile falls); `ix_case_clocks_duration` (clock, duration, stop) reads
the durations within that hour in order. The rows of the first form are dropped and every day is marked, so the
first statistics read computes them all; at a large database run `python -m portal stats rebuild` after upgrading
instead (the same result, in bulk).

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-03 15:40:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None

DATED = (("complaints", "received_at"), ("complaints", "accepted_at"), ("complaints", "closed_at"),
         ("reminders", "issued_at"), ("follow_ups", "visited_at"), ("case_clocks", "stopped_at"),
         ("complaint_departments", "report_submitted_at"), ("service_requests", "received_at"))


def _mark_every_day() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    days = " UNION ".join(f"SELECT {f'CAST({c} AS DATE)' if postgres else f'date({c})'} AS day FROM {t}"
                          f" WHERE {c} IS NOT NULL" for t, c in DATED)
    op.execute("DELETE FROM stats_rollup")
    op.execute("DELETE FROM stats_dirty_days")
    op.execute(f"INSERT INTO stats_dirty_days (day) SELECT day FROM ({days}) AS dated")


def upgrade() -> None:
    stopped = sa.text("stopped_at IS NOT NULL")
    op.create_index('ix_case_clocks_duration', 'case_clocks', ['clock_key', 'duration_s', 'stopped_at', 'late'],
                    sqlite_where=stopped, postgresql_where=stopped)
    _mark_every_day()


def downgrade() -> None:
    op.drop_index('ix_case_clocks_duration', table_name='case_clocks')
    _mark_every_day()
