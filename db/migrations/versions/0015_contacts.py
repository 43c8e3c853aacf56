"""customer contact log and contact clocks

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 12:45:00
"""
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
