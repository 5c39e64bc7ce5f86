"""Indexes for new buyers per scope and for paying buyers by day. The sales by day x hour x province of each shop become two tables, by hour and by
province, each with the platform's own rows (scope 0) for settled days; the settled days'
sets of people (paying buyers, funnel visitors) and keyword counts. The shops' rows are
copied over; the platform's are written by the hourly settle job (or `flask analytics
rebuild`). Going down, the old table comes back empty: run `flask analytics rebuild`.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('analytics_keyword_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('keyword', sa.String(length=100), nullable=False),
    sa.Column('searches', sa.Integer(), nullable=False),
    sa.Column('empty_searches', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'keyword', name=op.f('pk_analytics_keyword_days'))
    )
    op.create_table('analytics_people_days',
    sa.Column('scope_id', sa.Integer(), nullable=False),
    sa.Column('measure', sa.String(length=10), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('people', sa.Integer(), nullable=False),
    sa.Column('members', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('scope_id', 'measure', 'day', name=op.f('pk_analytics_people_days'))
    )
    op.create_table('analytics_settled_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_analytics_settled_days'))
    )
    op.create_table('sales_hours',
    sa.Column('scope_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('hour', sa.Integer(), nullable=False),
    sa.Column('paid_orders', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('scope_id', 'day', 'hour', name=op.f('pk_sales_hours'))
    )
    op.create_table('sales_provinces',
    sa.Column('scope_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('province', sa.String(length=20), nullable=False),
    sa.Column('paid_orders', sa.Integer(), nullable=False),
    sa.Column('gmv_fen', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('scope_id', 'day', 'province', name=op.f('pk_sales_provinces'))
    )
    # New buyers of a range are counted per scope; the platform's live paying buyers by day.
    with op.batch_alter_table('sales_first_purchases', schema=None) as batch_op:
        batch_op.drop_index('ix_sales_first_purchases_day')
        batch_op.create_index('ix_sales_first_purchases_scope_day', ['scope_id', 'day'], unique=False)
    op.create_index('ix_sales_buyer_days_day', 'sales_buyer_days', ['day', 'buyer_id'])
    # The platform's rows read settled days by (scope 0, day) and live days by day.
    op.create_index('ix_sales_hours_day', 'sales_hours', ['day'])
    op.create_index('ix_sales_provinces_day', 'sales_provinces', ['day'])
    op.execute("INSERT INTO sales_hours (scope_id, day, hour, paid_orders) "
               "SELECT merchant_id, day, hour, sum(paid_orders) FROM sales_region_hours GROUP BY merchant_id, day, hour")
    op.execute("INSERT INTO sales_provinces (scope_id, day, province, paid_orders, gmv_fen) "
               "SELECT merchant_id, day, province, sum(paid_orders), sum(gmv_fen) FROM sales_region_hours "
               "GROUP BY merchant_id, day, province")
    with op.batch_alter_table('sales_region_hours', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sales_region_hours_day'))

    op.drop_table('sales_region_hours')


def downgrade():
    op.create_table('sales_region_hours',
    sa.Column('merchant_id', sa.INTEGER(), nullable=False),
    sa.Column('day', sa.DATE(), nullable=False),
    sa.Column('hour', sa.INTEGER(), nullable=False),
    sa.Column('province', sa.VARCHAR(length=20), nullable=False),
    sa.Column('paid_orders', sa.INTEGER(), nullable=False),
    sa.Column('gmv_fen', sa.INTEGER(), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_sales_region_hours_merchant_id_merchants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('merchant_id', 'day', 'hour', 'province', name=op.f('pk_sales_region_hours'))
    )
    with op.batch_alter_table('sales_region_hours', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sales_region_hours_day'), ['day'], unique=False)

    op.drop_index('ix_sales_buyer_days_day', 'sales_buyer_days')
    with op.batch_alter_table('sales_first_purchases', schema=None) as batch_op:
        batch_op.drop_index('ix_sales_first_purchases_scope_day')
        batch_op.create_index('ix_sales_first_purchases_day', ['day'], unique=False)
    op.drop_index('ix_sales_provinces_day', 'sales_provinces')
    op.drop_index('ix_sales_hours_day', 'sales_hours')
    op.drop_table('sales_provinces')
    op.drop_table('sales_hours')
    op.drop_table('analytics_settled_days')
    op.drop_table('analytics_people_days')
    op.drop_table('analytics_keyword_days')
