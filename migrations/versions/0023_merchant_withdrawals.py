"""Shops' withdrawals of their available money (app/finance/merchant_withdrawals.py).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('merchant_withdrawals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.Column('fee_fen', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('account', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paid_from', sa.String(length=20), nullable=True),
    sa.Column('transfer_ref', sa.String(length=64), nullable=True),
    sa.Column('reject_reason', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_fen > 0 AND fee_fen >= 0 AND fee_fen <= amount_fen',
                       name=op.f('ck_merchant_withdrawals_amounts_valid')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_merchant_withdrawals_merchant_id_merchants')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'],
                            name=op.f('fk_merchant_withdrawals_requested_by_id_users')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_merchant_withdrawals_reviewed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_merchant_withdrawals'))
    )
    with op.batch_alter_table('merchant_withdrawals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_merchant_withdrawals_merchant_id'), ['merchant_id'], unique=False)
        batch_op.create_index('ix_merchant_withdrawals_status', ['status', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('merchant_withdrawals', schema=None) as batch_op:
        batch_op.drop_index('ix_merchant_withdrawals_status')
        batch_op.drop_index(batch_op.f('ix_merchant_withdrawals_merchant_id'))
    op.drop_table('merchant_withdrawals')
