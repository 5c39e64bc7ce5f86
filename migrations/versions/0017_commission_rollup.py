"""Sales days count the commissions paid for the shop's orders (settled less clawed back,
on the day it happened). `flask analytics rebuild` fills it for older data.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sales_days', schema=None) as batch_op:
        batch_op.add_column(sa.Column('commission_fen', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('sales_days', schema=None) as batch_op:
        batch_op.drop_column('commission_fen')
