"""Distribution: versioned rules, distributors and their timeline, referral bindings,
commissions with their ledger, withdrawals; products gain their commission settings.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('distribution_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('levels', sa.Integer(), nullable=False),
    sa.Column('level1_bp', sa.Integer(), nullable=False),
    sa.Column('level2_bp', sa.Integer(), nullable=False),
    sa.Column('level3_bp', sa.Integer(), nullable=False),
    sa.Column('qualification', sa.String(length=16), nullable=False),
    sa.Column('spend_threshold_fen', sa.Integer(), nullable=False),
    sa.Column('binding_mode', sa.String(length=16), nullable=False),
    sa.Column('binding_days', sa.Integer(), nullable=False),
    sa.Column('bind_new_users_only', sa.Boolean(), nullable=False),
    sa.Column('self_purchase', sa.Boolean(), nullable=False),
    sa.Column('settlement_delay_days', sa.Integer(), nullable=False),
    sa.Column('withdrawal_min_fen', sa.Integer(), nullable=False),
    sa.Column('withdrawal_max_fen', sa.Integer(), nullable=False),
    sa.Column('withdrawal_fee_bp', sa.Integer(), nullable=False),
    sa.Column('withdrawal_methods', sa.JSON(), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('levels BETWEEN 1 AND 3', name=op.f('ck_distribution_rules_levels_in_range')),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_distribution_rules_changed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_distribution_rules'))
    )
    op.create_table('distributors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('real_name', sa.String(length=40), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('status_reason', sa.String(length=200), nullable=True),
    sa.Column('facts', sa.JSON(), nullable=False),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('activated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawal_seq', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['distributors.id'], name=op.f('fk_distributors_parent_id_distributors')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_distributors_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_distributors')),
    sa.UniqueConstraint('code', name=op.f('uq_distributors_code')),
    sa.UniqueConstraint('user_id', name=op.f('uq_distributors_user_id'))
    )
    with op.batch_alter_table('distributors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_distributors_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index('ix_distributors_status', ['status', 'created_at'], unique=False)

    op.create_table('distributor_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('distributor_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('from_status', sa.String(length=12), nullable=True),
    sa.Column('to_status', sa.String(length=12), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_distributor_events_actor_id_users')),
    sa.ForeignKeyConstraint(['distributor_id'], ['distributors.id'], name=op.f('fk_distributor_events_distributor_id_distributors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_distributor_events'))
    )
    with op.batch_alter_table('distributor_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_distributor_events_distributor_id'), ['distributor_id'], unique=False)

    op.create_table('referral_bindings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('buyer_id', sa.Integer(), nullable=False),
    sa.Column('distributor_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('bound_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['buyer_id'], ['users.id'], name=op.f('fk_referral_bindings_buyer_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['distributor_id'], ['distributors.id'], name=op.f('fk_referral_bindings_distributor_id_distributors')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_bindings'))
    )
    with op.batch_alter_table('referral_bindings', schema=None) as batch_op:
        batch_op.create_index('ix_referral_bindings_distributor', ['distributor_id', 'bound_at'], unique=False)
        batch_op.create_index('uq_referral_bindings_current', ['buyer_id'], unique=True, postgresql_where=sa.text('ended_at IS NULL'), sqlite_where=sa.text('ended_at IS NULL'))

    op.create_table('withdrawals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('distributor_id', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.Column('fee_fen', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('account', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('transfer_ref', sa.String(length=64), nullable=True),
    sa.Column('reject_reason', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_fen > 0 AND fee_fen >= 0 AND fee_fen <= amount_fen', name=op.f('ck_withdrawals_amounts_valid')),
    sa.ForeignKeyConstraint(['distributor_id'], ['distributors.id'], name=op.f('fk_withdrawals_distributor_id_distributors')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_withdrawals_reviewed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_withdrawals'))
    )
    with op.batch_alter_table('withdrawals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_withdrawals_distributor_id'), ['distributor_id'], unique=False)
        batch_op.create_index('ix_withdrawals_status', ['status', 'created_at'], unique=False)

    op.create_table('commissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('order_item_id', sa.Integer(), nullable=False),
    sa.Column('buyer_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('distributor_id', sa.Integer(), nullable=False),
    sa.Column('rules_version', sa.Integer(), nullable=False),
    sa.Column('base_fen', sa.Integer(), nullable=False),
    sa.Column('rate_bp', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.Column('void_fen', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('settle_after', sa.DateTime(timezone=True), nullable=True),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_fen >= 0 AND void_fen >= 0 AND void_fen <= amount_fen', name=op.f('ck_commissions_amounts_in_range')),
    sa.CheckConstraint('level BETWEEN 1 AND 3', name=op.f('ck_commissions_level_in_range')),
    sa.ForeignKeyConstraint(['buyer_id'], ['users.id'], name=op.f('fk_commissions_buyer_id_users')),
    sa.ForeignKeyConstraint(['distributor_id'], ['distributors.id'], name=op.f('fk_commissions_distributor_id_distributors')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_commissions_order_id_orders')),
    sa.ForeignKeyConstraint(['order_item_id'], ['order_items.id'], name=op.f('fk_commissions_order_item_id_order_items')),
    sa.ForeignKeyConstraint(['rules_version'], ['distribution_rules.id'], name=op.f('fk_commissions_rules_version_distribution_rules')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commissions')),
    sa.UniqueConstraint('order_item_id', 'level', name=op.f('uq_commissions_order_item_id_level'))
    )
    with op.batch_alter_table('commissions', schema=None) as batch_op:
        batch_op.create_index('ix_commissions_distributor_status', ['distributor_id', 'status', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_commissions_order_id'), ['order_id'], unique=False)
        batch_op.create_index('ix_commissions_status_settle', ['status', 'settle_after'], unique=False)

    op.create_table('distribution_ledger',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('distributor_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.Column('commission_id', sa.Integer(), nullable=True),
    sa.Column('withdrawal_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['commission_id'], ['commissions.id'], name=op.f('fk_distribution_ledger_commission_id_commissions')),
    sa.ForeignKeyConstraint(['distributor_id'], ['distributors.id'], name=op.f('fk_distribution_ledger_distributor_id_distributors')),
    sa.ForeignKeyConstraint(['withdrawal_id'], ['withdrawals.id'], name=op.f('fk_distribution_ledger_withdrawal_id_withdrawals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_distribution_ledger'))
    )
    with op.batch_alter_table('distribution_ledger', schema=None) as batch_op:
        batch_op.create_index('ix_distribution_ledger_distributor', ['distributor_id', 'id'], unique=False)

    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('distribution_enabled', sa.Boolean(), server_default=sa.text('true'), nullable=False))
        batch_op.add_column(sa.Column('commission_l1_bp', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('commission_l2_bp', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('commission_l3_bp', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('products', schema=None) as batch_op:
        for column in ('commission_l3_bp', 'commission_l2_bp', 'commission_l1_bp', 'distribution_enabled'):
            batch_op.drop_column(column)
    for table in ('distribution_ledger', 'commissions', 'withdrawals', 'referral_bindings', 'distributor_events',
                  'distributors', 'distribution_rules'):
        op.drop_table(table)
