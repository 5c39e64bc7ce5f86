"""Sales rollups the dashboards and the merchant stats API read: per shop and Shanghai
day (orders, units, GMV, refunds), the buyers who paid each day, each buyer's first
purchase (per shop and on the platform), products per day, and paid orders by day, hour
and province. Filled as money moves; `flask analytics rebuild` fills them from the
orders already there.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sales_buyer_days',
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('buyer_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['buyer_id'], ['users.id'], name=op.f('fk_sales_buyer_days_buyer_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_sales_buyer_days_merchant_id_merchants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('merchant_id', 'day', 'buyer_id', name=op.f('pk_sales_buyer_days'))
    )
    op.create_table('sales_days',
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('paid_orders', sa.Integer(), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('gmv_fen', sa.Integer(), nullable=False),
    sa.Column('refund_fen', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_sales_days_merchant_id_merchants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('merchant_id', 'day', name=op.f('pk_sales_days'))
    )
    with op.batch_alter_table('sales_days', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sales_days_day'), ['day'], unique=False)

    op.create_table('sales_first_purchases',
    sa.Column('scope_id', sa.Integer(), nullable=False),
    sa.Column('buyer_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['buyer_id'], ['users.id'], name=op.f('fk_sales_first_purchases_buyer_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('scope_id', 'buyer_id', name=op.f('pk_sales_first_purchases'))
    )
    with op.batch_alter_table('sales_first_purchases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sales_first_purchases_day'), ['day'], unique=False)

    op.create_table('sales_region_hours',
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('hour', sa.Integer(), nullable=False),
    sa.Column('province', sa.String(length=20), nullable=False),
    sa.Column('paid_orders', sa.Integer(), nullable=False),
    sa.Column('gmv_fen', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_sales_region_hours_merchant_id_merchants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('merchant_id', 'day', 'hour', 'province', name=op.f('pk_sales_region_hours'))
    )
    with op.batch_alter_table('sales_region_hours', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sales_region_hours_day'), ['day'], unique=False)

    op.create_table('sales_product_days',
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('revenue_fen', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_sales_product_days_merchant_id_merchants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_sales_product_days_product_id_products'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('product_id', 'day', name=op.f('pk_sales_product_days'))
    )
    with op.batch_alter_table('sales_product_days', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sales_product_days_day'), ['day'], unique=False)
        batch_op.create_index('ix_sales_product_days_merchant_day', ['merchant_id', 'day'], unique=False)



def downgrade():
    with op.batch_alter_table('sales_product_days', schema=None) as batch_op:
        batch_op.drop_index('ix_sales_product_days_merchant_day')
        batch_op.drop_index(batch_op.f('ix_sales_product_days_day'))

    op.drop_table('sales_product_days')
    with op.batch_alter_table('sales_region_hours', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sales_region_hours_day'))

    op.drop_table('sales_region_hours')
    with op.batch_alter_table('sales_first_purchases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sales_first_purchases_day'))

    op.drop_table('sales_first_purchases')
    with op.batch_alter_table('sales_days', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sales_days_day'))

    op.drop_table('sales_days')
    op.drop_table('sales_buyer_days')
