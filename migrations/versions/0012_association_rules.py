"""Products bought together: association rules mined with FP-growth from paid baskets
(per shop, and for the platform from whole checkouts) with their support, confidence,
lift and exact counts, and the latest run of each scope. Filled by the nightly
`recompute_rules` job or on demand from the rules pages.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('product_rule_runs',
    sa.Column('scope_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('baskets', sa.Integer(), nullable=False),
    sa.Column('rules', sa.Integer(), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('thresholds', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('scope_id', name=op.f('pk_product_rule_runs'))
    )
    op.create_table('product_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope_id', sa.Integer(), nullable=False),
    sa.Column('antecedent_id', sa.Integer(), nullable=False),
    sa.Column('consequent_id', sa.Integer(), nullable=False),
    sa.Column('support_bp', sa.Integer(), nullable=False),
    sa.Column('confidence_bp', sa.Integer(), nullable=False),
    sa.Column('lift_bp', sa.BigInteger(), nullable=False),
    sa.Column('baskets', sa.Integer(), nullable=False),
    sa.Column('both_baskets', sa.Integer(), nullable=False),
    sa.Column('antecedent_baskets', sa.Integer(), nullable=False),
    sa.Column('consequent_baskets', sa.Integer(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['antecedent_id'], ['products.id'], name=op.f('fk_product_rules_antecedent_id_products'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['consequent_id'], ['products.id'], name=op.f('fk_product_rules_consequent_id_products'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product_rules')),
    sa.UniqueConstraint('scope_id', 'antecedent_id', 'consequent_id', name=op.f('uq_product_rules_scope_id_antecedent_id_consequent_id'))
    )
    with op.batch_alter_table('product_rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_product_rules_consequent_id'), ['consequent_id'], unique=False)


def downgrade():
    with op.batch_alter_table('product_rules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_product_rules_consequent_id'))

    op.drop_table('product_rules')
    op.drop_table('product_rule_runs')
