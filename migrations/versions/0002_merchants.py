"""Merchants: applications and their timeline, shops, staff, penalties and API keys.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('merchants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('logo_key', sa.String(length=200), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('business_type', sa.String(length=16), nullable=False),
    sa.Column('company_name', sa.String(length=100), nullable=False),
    sa.Column('credit_code', sa.String(length=18), nullable=False),
    sa.Column('contact_name', sa.String(length=40), nullable=False),
    sa.Column('contact_phone', sa.String(length=20), nullable=False),
    sa.Column('main_categories', sa.JSON(), nullable=False),
    sa.Column('return_recipient', sa.String(length=40), nullable=False),
    sa.Column('return_phone', sa.String(length=20), nullable=False),
    sa.Column('return_address', sa.String(length=200), nullable=False),
    sa.Column('shipping_flat_fen', sa.Integer(), nullable=False),
    sa.Column('free_shipping_threshold_fen', sa.Integer(), nullable=True),
    sa.Column('stock_alert_channels', sa.JSON(), nullable=False),
    sa.Column('platform_fee_bp', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_reason', sa.String(length=200), nullable=True),
    sa.Column('suspended_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('free_shipping_threshold_fen IS NULL OR free_shipping_threshold_fen > 0', name=op.f('ck_merchants_free_shipping_threshold_positive')),
    sa.CheckConstraint('shipping_flat_fen >= 0', name=op.f('ck_merchants_shipping_flat_fen_non_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_merchants')),
    sa.UniqueConstraint('name', name=op.f('uq_merchants_name'))
    )
    with op.batch_alter_table('merchants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_merchants_status'), ['status'], unique=False)

    op.create_table('merchant_api_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_merchant_api_keys_created_by_id_users')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_merchant_api_keys_merchant_id_merchants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_merchant_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_merchant_api_keys_key_hash'))
    )
    with op.batch_alter_table('merchant_api_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_merchant_api_keys_merchant_id'), ['merchant_id'], unique=False)

    op.create_table('merchant_applications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('applicant_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('shop_name', sa.String(length=40), nullable=False),
    sa.Column('business_type', sa.String(length=16), nullable=False),
    sa.Column('company_name', sa.String(length=100), nullable=False),
    sa.Column('credit_code', sa.String(length=18), nullable=False),
    sa.Column('legal_representative', sa.String(length=40), nullable=False),
    sa.Column('contact_name', sa.String(length=40), nullable=False),
    sa.Column('contact_phone', sa.String(length=20), nullable=False),
    sa.Column('main_categories', sa.JSON(), nullable=False),
    sa.Column('licence_key', sa.String(length=200), nullable=True),
    sa.Column('id_front_key', sa.String(length=200), nullable=True),
    sa.Column('id_back_key', sa.String(length=200), nullable=True),
    sa.Column('rejection_reasons', sa.JSON(), nullable=False),
    sa.Column('rejection_note', sa.Text(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('merchant_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['applicant_id'], ['users.id'], name=op.f('fk_merchant_applications_applicant_id_users')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_merchant_applications_decided_by_id_users')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_merchant_applications_merchant_id_merchants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_merchant_applications'))
    )
    with op.batch_alter_table('merchant_applications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_merchant_applications_applicant_id'), ['applicant_id'], unique=False)
        batch_op.create_index('ix_merchant_applications_queue', ['status', 'submitted_at'], unique=False)
        batch_op.create_index('uq_merchant_applications_one_open', ['applicant_id'], unique=True, postgresql_where=sa.text("status IN ('draft', 'submitted', 'rejected')"), sqlite_where=sa.text("status IN ('draft', 'submitted', 'rejected')"))

    op.create_table('merchant_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_merchant_members_merchant_id_merchants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_merchant_members_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_merchant_members')),
    sa.UniqueConstraint('merchant_id', 'user_id', name=op.f('uq_merchant_members_merchant_id_user_id'))
    )
    with op.batch_alter_table('merchant_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_merchant_members_merchant_id'), ['merchant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_merchant_members_user_id'), ['user_id'], unique=False)

    op.create_table('merchant_penalties',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], name=op.f('fk_merchant_penalties_issued_by_id_users')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_merchant_penalties_merchant_id_merchants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_merchant_penalties'))
    )
    with op.batch_alter_table('merchant_penalties', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_merchant_penalties_merchant_id'), ['merchant_id'], unique=False)

    op.create_table('merchant_application_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_merchant_application_events_actor_id_users')),
    sa.ForeignKeyConstraint(['application_id'], ['merchant_applications.id'], name=op.f('fk_merchant_application_events_application_id_merchant_applications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_merchant_application_events'))
    )
    with op.batch_alter_table('merchant_application_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_merchant_application_events_application_id'), ['application_id'], unique=False)



def downgrade():
    for table in ("merchant_application_events", "merchant_api_keys", "merchant_penalties", "merchant_members",
                  "merchant_applications", "merchants"):
        op.drop_table(table)
