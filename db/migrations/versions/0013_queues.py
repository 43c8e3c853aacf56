"""priority, named investigators, working groups, major-case flags

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 12:45:00
"""
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
