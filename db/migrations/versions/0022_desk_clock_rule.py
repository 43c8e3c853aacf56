"""a desk clock keeps the rule it started with: its unit and target stored on the request

Issue 17: the desk's clock targets are edited in 系统配置. As with the complaint clocks, a change never rewrites
the deadline of a request whose clock already runs: the unit and target a clock started with are kept beside
its instants, and a calendar or 临期 change recomputes it with them. Clocks running at this revision started
under the rules as they stand, which are copied onto them.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02 21:40:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('service_requests') as batch:
        batch.add_column(sa.Column('clock_unit', sa.String(length=20)))
        batch.add_column(sa.Column('clock_target', sa.Integer()))
    op.execute("UPDATE service_requests SET "
               "clock_unit = (SELECT unit FROM desk_clocks WHERE desk_clocks.key = service_requests.clock_key), "
               "clock_target = (SELECT target FROM desk_clocks WHERE desk_clocks.key = service_requests.clock_key) "
               "WHERE clock_key IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('service_requests') as batch:
        batch.drop_column('clock_target')
        batch.drop_column('clock_unit')
