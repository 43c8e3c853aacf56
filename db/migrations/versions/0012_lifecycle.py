"""final decision by authority, instructions, four eyes, administrative referral

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 12:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    roles = sa.table("roles", sa.column("key", sa.String), sa.column("name_zh", sa.String),
                     sa.column("name_en", sa.String))
    op.bulk_insert(roles, [dict(key="dept_lead", name_zh="部门主管", name_en="Department lead")])


def downgrade() -> None:
    op.execute("DELETE FROM user_roles WHERE role_key = 'dept_lead'")
    op.execute("DELETE FROM roles WHERE key = 'dept_lead'")
