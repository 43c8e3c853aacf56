"""待联系客户 stored per case: complaints.contact_due_at; an index for open sanctions

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 16:30:00

From when a case asks for a contact with the customer (`services.contact_due`), so that the list of
contacts due and the to-do count read one index range instead of every stored clock. Filled here from
the stored clocks and the contact log, by the rule of this revision (frozen below).
"""
from alembic import op
import sqlalchemy as sa

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

OPEN = ("registered", "investigating", "awaiting_report", "awaiting_gm_instruction", "awaiting_consolidation",
        "awaiting_approval", "negotiating", "awaiting_review", "awaiting_closure", "awaiting_penalty")
_VERSION = ("JOIN sla_clock_versions v ON v.clock_key = cc.clock_key AND v.effective_from <= cc.case_received_at"
            " AND (v.effective_until IS NULL OR cc.case_received_at < v.effective_until)"
            " JOIN complaints c ON c.id = cc.complaint_id")
_OPEN = "(" + ", ".join(f"'{s}'" for s in OPEN) + ")"


def _contact(milestone: str, step: str, states: str, extra: str = "") -> str:
    told = (f"EXISTS (SELECT 1 FROM contact_log l WHERE l.complaint_id = cc.complaint_id AND l.step = '{step}'"
            " AND (l.notice_id IS NULL OR l.notice_id IN (SELECT n.id FROM notices n WHERE n.state <> 'failed')))")
    return (f"SELECT cc.complaint_id AS complaint_id, cc.started_at AS wanted_from FROM case_clocks cc {_VERSION}"
            f" WHERE v.stop_milestone = '{milestone}' AND c.state IN {states}{extra}"
            f" AND (cc.stopped_at IS NULL OR NOT {told})")


WANTED = " UNION ALL ".join([
    _contact("customer_acknowledged_at", "acknowledgement", _OPEN),
    # a case closed under the earlier flow (no final 核决, no contact log then) is not asked for a closure notice
    _contact("closure_notified_at", "closure", "('closed')", " AND c.final_approved_at IS NOT NULL"),
    "SELECT cc.complaint_id AS complaint_id, cc.soon_at AS wanted_from FROM case_clocks cc " + _VERSION +
    " WHERE cc.stopped_at IS NULL AND cc.held_since IS NULL AND cc.soon_at IS NOT NULL"
    " AND v.stop_milestone NOT IN ('closure_notified_at', 'customer_acknowledged_at') AND c.state IN " + _OPEN +
    " AND NOT EXISTS (SELECT 1 FROM contact_log l WHERE l.complaint_id = cc.complaint_id"
    " AND l.step IN ('progress', 'expected_completion') AND l.at >= cc.soon_at)",
])


def upgrade() -> None:
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_due_at', sa.DateTime(), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.text(f"SELECT complaint_id, MIN(wanted_from) FROM ({WANTED}) w GROUP BY complaint_id")).all()
    statement = sa.text("UPDATE complaints SET contact_due_at = :due WHERE id = :case_id")
    for start in range(0, len(rows), 5000):
        bind.execute(statement, [{"case_id": c, "due": due} for c, due in rows[start:start + 5000]])
    op.create_index('ix_complaints_contact_due', 'complaints', ['contact_due_at'])
    # the GM office's 行政处理 tab: the few cases with a penalty whose outcome is not yet recorded
    where = sa.text("penalty_type <> '' AND sanction_outcome_at IS NULL")
    op.create_index('ix_complaints_penalty_open', 'complaints', ['penalty_type'], sqlite_where=where,
                    postgresql_where=where)


def downgrade() -> None:
    op.drop_index('ix_complaints_penalty_open', table_name='complaints')
    op.drop_index('ix_complaints_contact_due', table_name='complaints')
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_column('contact_due_at')
