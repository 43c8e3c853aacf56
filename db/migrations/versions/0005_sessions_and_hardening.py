"""hardening: server-side login sessions, the login throttle, audit events append-only for every role

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 01:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'login_sessions',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('token_hash', sa.String(64), nullable=False, unique=True),
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('users.id'), nullable=False),
        sa.Column('address', sa.String(64), nullable=False, server_default=''),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.Column('revoked_reason', sa.String(20), nullable=True),
    )
    op.create_index('ix_login_sessions_user', 'login_sessions', ['user_id', 'revoked_at'])
    op.create_table(
        'login_failures',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('username', sa.String(40), nullable=False),
        sa.Column('address', sa.String(64), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
    )
    op.create_index('ix_login_failures_username', 'login_failures', ['username', 'at'])
    op.create_index('ix_login_failures_address', 'login_failures', ['address', 'at'])
    settings = sa.table('settings', sa.column('key', sa.String), sa.column('value', sa.String),
                        sa.column('description', sa.String))
    op.bulk_insert(settings, [
        dict(key="auth.lockout_failures", value="5",
             description="failed logins for one user name within the lockout window that lock it"),
        dict(key="auth.address_lockout_failures", value="20",
             description="failed logins from one address within the lockout window that lock it"),
        dict(key="auth.lockout_minutes", value="15",
             description="the lockout window and how long a lockout lasts, in minutes"),
        dict(key="auth.session_hours", value="12",
             description="a login (and its re-login cookie) ends after this many hours"),
    ])
    if op.get_bind().dialect.name == "postgresql":
        # ENABLE ALWAYS: the refusal fires even under session_replication_role = replica, which
        # otherwise silences ordinary triggers; TRUNCATE is refused as well.
        op.execute("CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events "
                   "FOR EACH STATEMENT EXECUTE FUNCTION events_immutable()")
        op.execute("ALTER TABLE events ENABLE ALWAYS TRIGGER events_immutable")
        op.execute("ALTER TABLE events ENABLE ALWAYS TRIGGER events_no_truncate")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS events_no_truncate ON events")
        op.execute("ALTER TABLE events ENABLE TRIGGER events_immutable")
    op.execute("DELETE FROM settings WHERE key LIKE 'auth.%'")
    op.drop_index('ix_login_failures_address', table_name='login_failures')
    op.drop_index('ix_login_failures_username', table_name='login_failures')
    op.drop_table('login_failures')
    op.drop_index('ix_login_sessions_user', table_name='login_sessions')
    op.drop_table('login_sessions')
