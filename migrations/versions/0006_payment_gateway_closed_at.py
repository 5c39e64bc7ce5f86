"""Payments remember when their gateway confirmed closing the trade, so a sweep can
close the ones whose close job was lost while Redis was down.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('gateway_closed_at', sa.DateTime(timezone=True), nullable=True))
    # Payments closed before this revision had their close job already: do not ask again.
    op.execute("UPDATE payments SET gateway_closed_at = closed_at WHERE status = 'closed' AND provider IS NOT NULL")


def downgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_column('gateway_closed_at')
