"""Platform fees per category (a shop's own rate now optional), each order item's fee as
it was at the order, when an order was settled to its shop, and the order a ledger
transaction belongs to.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.add_column(sa.Column('platform_fee_bp', sa.Integer(), nullable=True))
    with op.batch_alter_table('merchants', schema=None) as batch_op:
        batch_op.alter_column('platform_fee_bp', existing_type=sa.Integer(), nullable=True)
    # 500 was every shop's default, not a rate anyone chose: those shops now take their
    # categories' rates (which default to the same 5%).
    op.execute("UPDATE merchants SET platform_fee_bp = NULL WHERE platform_fee_bp = 500")
    with op.batch_alter_table('order_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('platform_fee_bp', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('ledger_transactions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('order_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_ledger_transactions_order_id'), ['order_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_ledger_transactions_order_id_orders'), 'orders',
                                    ['order_id'], ['id'])


def downgrade():
    with op.batch_alter_table('ledger_transactions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_ledger_transactions_order_id_orders'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_ledger_transactions_order_id'))
        batch_op.drop_column('order_id')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('settled_at')
    with op.batch_alter_table('order_items', schema=None) as batch_op:
        batch_op.drop_column('platform_fee_bp')
    op.execute("UPDATE merchants SET platform_fee_bp = 500 WHERE platform_fee_bp IS NULL")
    with op.batch_alter_table('merchants', schema=None) as batch_op:
        batch_op.alter_column('platform_fee_bp', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.drop_column('platform_fee_bp')
