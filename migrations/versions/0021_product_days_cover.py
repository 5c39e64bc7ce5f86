"""On PostgreSQL the products' sales days are indexed by day with the figures the
platform's rankings sum, so a month of a large catalogue is read from the index alone.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return  # SQLite keeps its plain index on day
    op.drop_index('ix_sales_product_days_day', 'sales_product_days')
    op.create_index('ix_sales_product_days_day', 'sales_product_days', ['day'],
                    postgresql_include=['product_id', 'units', 'revenue_fen'])


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.drop_index('ix_sales_product_days_day', 'sales_product_days')
    op.create_index('ix_sales_product_days_day', 'sales_product_days', ['day'])
