"""notices outbox and templates

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 12:45:00
"""
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
