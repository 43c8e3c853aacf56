"""the masking table: field of personal data × role → shown / own department / masked

Issue 16: one table an administrator edits in 系统配置 decides, for each audience (a role, or
`export` for exported files), whether the customer's name, phone, ID number, address, e-mail and policy
number are shown, shown only on the cases of the user's own department, or masked
(`portal/domain/privacy.py`). Seeded with the SPEC's defaults plus names and policy numbers masked for
managers.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 17:10:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

FIELDS = ("name", "phone", "id_number", "address", "email", "policy_number")
S, D, M = "shown", "own_department", "masked"
# audience → visibility of name, phone, ID number, address, e-mail, policy number (as at this revision)
DEFAULTS = (
    ("intake", (S, S, S, S, S, S)),
    ("intake_lead", (S, S, S, S, S, S)),
    ("handler", (D, D, D, D, D, D)),
    ("gm_office", (S, S, S, S, S, S)),
    ("approver", (S, M, M, M, M, S)),
    ("dept_lead", (D, D, D, D, D, D)),
    ("manager", (M, M, M, M, M, M)),
    ("admin", (M, M, M, M, M, M)),
    ("trainer", (M, M, M, M, M, M)),
    ("export", (S, M, M, M, M, S)),
)


def upgrade() -> None:
    rules = op.create_table(
        'masking_rules',
        sa.Column('audience', sa.String(length=20), primary_key=True),
        *[sa.Column(f, sa.String(length=20), nullable=False) for f in FIELDS],
        sa.Column('sort', sa.Integer(), nullable=False, server_default="0"),
    )
    op.bulk_insert(rules, [dict(audience=a, sort=i, **dict(zip(FIELDS, values)))
                           for i, (a, values) in enumerate(DEFAULTS)])


def downgrade() -> None:
    op.drop_table('masking_rules')
