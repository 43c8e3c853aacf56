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


SETTINGS = (("process.gm_instructs_report", "1",
             "the investigation report goes to the general manager for instruction (1 yes, 0 no)"),
            ("penalty.administrative_types", "warning,demerit",
             "penalty types that are administrative sanctions, referred under the administrative rules"))


def upgrade() -> None:
    roles = sa.table("roles", sa.column("key", sa.String), sa.column("name_zh", sa.String),
                     sa.column("name_en", sa.String))
    op.bulk_insert(roles, [dict(key="dept_lead", name_zh="部门主管", name_en="Department lead")])
    settings = sa.table('settings', sa.column('key', sa.String), sa.column('value', sa.String),
                        sa.column('description', sa.String))
    op.bulk_insert(settings, [dict(key=k, value=v, description=d) for k, v, d in SETTINGS])
    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lead_instructs', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE departments SET lead_instructs = TRUE WHERE code = 'technical'")
    with op.batch_alter_table('complaint_departments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lead_instruction', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('lead_instructed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('lead_instructed_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_complaint_departments_lead_instructed_by', 'users',
                                    ['lead_instructed_by_id'], ['id'])
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('gm_instruction', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('gm_instructed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('gm_instructed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('final_required_level', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('final_approved_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('final_approved_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('final_comment', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('sanction_referred_to', sa.String(length=200), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('sanction_referred_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('sanction_outcome', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('sanction_outcome_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('stuck_decision', sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column('stuck_reason', sa.String(length=30), nullable=True))
        batch_op.create_foreign_key('fk_complaints_gm_instructed_by', 'users', ['gm_instructed_by_id'], ['id'])
        batch_op.create_foreign_key('fk_complaints_final_approved_by', 'users', ['final_approved_by_id'], ['id'])
        batch_op.create_index('ix_complaints_stuck', ['stuck_decision'])
    op.create_index('ix_events_actor', 'events', ['actor_id', 'action', 'complaint_id'])
    op.create_index(op.f('ix_complained_staff_user_id'), 'complained_staff', ['user_id'])
    _route_open_cases_to_the_final_decision()


def _route_open_cases_to_the_final_decision() -> None:
    """Cases waiting at the change for the approver's penalty confirmation (the old 待确认罚扣) now wait
    for the final 核决 (same stored state): they need the level that the amount agreed with the
    customer and the severity call for (002 art.13.5). Cases closed before keep their history as it is;
    cases at 待结案 go on at the GM office's final opinion (same stored state)."""
    bind = op.get_bind()
    levels = sorted(bind.execute(sa.text("SELECT key, rank, max_amount, covers_major FROM authority_levels")).all(),
                    key=lambda row: row.rank)
    rows = bind.execute(sa.text("SELECT id, negotiated_amount, severity FROM complaints "
                                "WHERE state = 'awaiting_penalty'")).all()
    for row in rows:
        amount = row.negotiated_amount or 0
        chosen = next((level.key for level in levels
                       if (row.severity != "major" or level.covers_major)
                       and (level.max_amount is None or amount <= level.max_amount)), levels[-1].key)
        bind.execute(sa.text("UPDATE complaints SET final_required_level = :level WHERE id = :id"),
                     {"level": chosen, "id": row.id})


def downgrade() -> None:
    op.drop_index(op.f('ix_complained_staff_user_id'), table_name='complained_staff')
    op.drop_index('ix_events_actor', table_name='events')
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_index('ix_complaints_stuck')
        batch_op.drop_constraint('fk_complaints_final_approved_by', type_='foreignkey')
        batch_op.drop_constraint('fk_complaints_gm_instructed_by', type_='foreignkey')
        for column in ('stuck_reason', 'stuck_decision', 'sanction_outcome_at', 'sanction_outcome',
                       'sanction_referred_at', 'sanction_referred_to', 'final_comment', 'final_approved_by_id',
                       'final_approved_at', 'final_required_level', 'gm_instructed_by_id', 'gm_instructed_at',
                       'gm_instruction'):
            batch_op.drop_column(column)
    with op.batch_alter_table('complaint_departments', schema=None) as batch_op:
        batch_op.drop_constraint('fk_complaint_departments_lead_instructed_by', type_='foreignkey')
        for column in ('lead_instructed_by_id', 'lead_instructed_at', 'lead_instruction'):
            batch_op.drop_column(column)
    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.drop_column('lead_instructs')
    op.execute("DELETE FROM settings WHERE key IN ('process.gm_instructs_report', 'penalty.administrative_types')")
    op.execute("DELETE FROM user_roles WHERE role_key = 'dept_lead'")
    op.execute("DELETE FROM roles WHERE key = 'dept_lead'")
