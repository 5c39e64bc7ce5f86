"""Indexes for the storefront's sorts (热销, 新品) and for when the next promotion starts
or ends, so home and search read a page off an index instead of sorting every visible
product (docs/caching.md: what a page costs when the cache misses).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.create_index('ix_products_by_sales', ['sales', 'id'], unique=False)
        # Not in the model: SQLite has no NULLS LAST in an index, and its DESC puts NULLs last.
        nulls = ' NULLS LAST' if op.get_bind().dialect.name == 'postgresql' else ''
        batch_op.create_index('ix_products_by_listed', [sa.text(f'listed_at DESC{nulls}'), sa.text('id DESC')],
                              unique=False)
        batch_op.create_index('ix_products_promotion_starts', ['promotion_starts_at'], unique=False,
                              postgresql_where=sa.text('on_promotion'), sqlite_where=sa.text('on_promotion'))
        batch_op.create_index('ix_products_promotion_ends', ['promotion_ends_at'], unique=False,
                              postgresql_where=sa.text('on_promotion'), sqlite_where=sa.text('on_promotion'))


def downgrade():
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_index('ix_products_promotion_ends')
        batch_op.drop_index('ix_products_promotion_starts')
        batch_op.drop_index('ix_products_by_listed')
        batch_op.drop_index('ix_products_by_sales')
