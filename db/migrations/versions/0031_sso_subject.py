"""Single sign-on (issue 20): a user may carry the subject (`sub`) of their company account, the identity the company's
OpenID provider vouches for; a login through the provider finds the user by it, or else by the verified e-mail
address. A session opened by a sign-on keeps which sign-on it was (issuer, subject, issued at): one sign-on opens
one session.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-04 22:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("sso_subject", sa.String(length=255), nullable=True))
        batch.create_index("ix_users_sso_subject", ["sso_subject"], unique=True)
    with op.batch_alter_table("login_sessions") as batch:
        batch.add_column(sa.Column("sso_key", sa.String(length=300), nullable=True))
        batch.create_index("ix_login_sessions_sso_key", ["sso_key"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("login_sessions") as batch:
        batch.drop_index("ix_login_sessions_sso_key")
        batch.drop_column("sso_key")
    with op.batch_alter_table("users") as batch:
        batch.drop_index("ix_users_sso_subject")
        batch.drop_column("sso_subject")
