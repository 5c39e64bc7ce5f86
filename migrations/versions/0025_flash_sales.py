"""Flash sales (秒杀): events, their items, per-buyer units and the orders' units
(app/flashsales/models.py).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-10

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('flash_sales',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=True),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reject_reason', sa.String(length=200), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_flash_sales_window_valid')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_flash_sales_merchant_id_merchants')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_flash_sales_created_by_id_users')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_flash_sales_reviewed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flash_sales'))
    )
    with op.batch_alter_table('flash_sales', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flash_sales_merchant_id'), ['merchant_id'], unique=False)
        batch_op.create_index('ix_flash_sales_status_window', ['status', 'starts_at', 'ends_at'], unique=False)

    op.create_table('flash_sale_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('flash_sale_id', sa.Integer(), nullable=False),
    sa.Column('sku_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('price_fen', sa.Integer(), nullable=False),
    sa.Column('stock_total', sa.Integer(), nullable=False),
    sa.Column('stock_sold', sa.Integer(), nullable=False),
    sa.Column('per_buyer_limit', sa.Integer(), nullable=False),
    sa.Column('held', sa.Boolean(), nullable=False),
    sa.Column('released_units', sa.Integer(), nullable=True),
    sa.CheckConstraint('price_fen > 0', name=op.f('ck_flash_sale_items_price_positive')),
    sa.CheckConstraint('stock_total > 0', name=op.f('ck_flash_sale_items_stock_positive')),
    sa.CheckConstraint('stock_sold >= 0 AND stock_sold <= stock_total', name=op.f('ck_flash_sale_items_sold_in_range')),
    sa.CheckConstraint('per_buyer_limit > 0', name=op.f('ck_flash_sale_items_limit_positive')),
    sa.ForeignKeyConstraint(['flash_sale_id'], ['flash_sales.id'], name=op.f('fk_flash_sale_items_flash_sale_id_flash_sales'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sku_id'], ['skus.id'], name=op.f('fk_flash_sale_items_sku_id_skus')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_flash_sale_items_product_id_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flash_sale_items')),
    sa.UniqueConstraint('flash_sale_id', 'sku_id', name=op.f('uq_flash_sale_items_flash_sale_id_sku_id'))
    )
    with op.batch_alter_table('flash_sale_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flash_sale_items_flash_sale_id'), ['flash_sale_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_flash_sale_items_sku_id'), ['sku_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_flash_sale_items_product_id'), ['product_id'], unique=False)

    op.create_table('flash_sale_buyers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('buyer_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.CheckConstraint('quantity >= 0', name=op.f('ck_flash_sale_buyers_quantity_non_negative')),
    sa.ForeignKeyConstraint(['item_id'], ['flash_sale_items.id'], name=op.f('fk_flash_sale_buyers_item_id_flash_sale_items'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['buyer_id'], ['users.id'], name=op.f('fk_flash_sale_buyers_buyer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flash_sale_buyers')),
    sa.UniqueConstraint('item_id', 'buyer_id', name=op.f('uq_flash_sale_buyers_item_id_buyer_id'))
    )

    op.create_table('flash_sale_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('buyer_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('returned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['flash_sale_items.id'], name=op.f('fk_flash_sale_orders_item_id_flash_sale_items'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_flash_sale_orders_order_id_orders'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['buyer_id'], ['users.id'], name=op.f('fk_flash_sale_orders_buyer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flash_sale_orders')),
    sa.UniqueConstraint('order_id', name=op.f('uq_flash_sale_orders_order_id'))
    )
    with op.batch_alter_table('flash_sale_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flash_sale_orders_item_id'), ['item_id'], unique=False)


def downgrade():
    with op.batch_alter_table('flash_sale_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flash_sale_orders_item_id'))
    op.drop_table('flash_sale_orders')
    op.drop_table('flash_sale_buyers')
    with op.batch_alter_table('flash_sale_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flash_sale_items_product_id'))
        batch_op.drop_index(batch_op.f('ix_flash_sale_items_sku_id'))
        batch_op.drop_index(batch_op.f('ix_flash_sale_items_flash_sale_id'))
    op.drop_table('flash_sale_items')
    with op.batch_alter_table('flash_sales', schema=None) as batch_op:
        batch_op.drop_index('ix_flash_sales_status_window')
        batch_op.drop_index(batch_op.f('ix_flash_sales_merchant_id'))
    op.drop_table('flash_sales')
