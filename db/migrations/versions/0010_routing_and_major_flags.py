"""a category's default routing (the departments the GM office's acceptance form proposes for it), and
which flags make a case 重大 (media exposure, a regulator's referral, litigation: each a parameter)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 13:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

FLAGS = (("major.flag_media", "media exposure makes a case major (1 yes, 0 no)"),
         ("major.flag_regulator", "a regulator's referral makes a case major (1 yes, 0 no)"),
         ("major.flag_litigation", "litigation or arbitration makes a case major (1 yes, 0 no)"))


def upgrade() -> None:
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.add_column(sa.Column('default_departments', sa.JSON(), nullable=True))
    # The operations department investigates every kind of complaint by default (002 art.13.2), as
    # the acceptance form proposed before this was configurable.
    op.execute(sa.text("UPDATE categories SET default_departments = :routes").bindparams(
        sa.bindparam("routes", ["operations"], type_=sa.JSON())))
    settings = sa.table('settings', sa.column('key', sa.String), sa.column('value', sa.String),
                        sa.column('description', sa.String))
    op.bulk_insert(settings, [dict(key=k, value="1", description=d) for k, d in FLAGS])


def downgrade() -> None:
    op.execute("DELETE FROM settings WHERE key LIKE 'major.flag_%'")
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.drop_column('default_departments')
