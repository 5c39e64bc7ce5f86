"""After-sales: requests with their lines, timeline and disputes; the shop's return
addresses; refunded money counted on orders and payments (never above what was paid);
each item held by at most one open request; a category's own after-sales window.

The platform setting `return_window_days` is renamed `aftersale_window_days`; each
shop's profile return address becomes its first (default) return address; received
orders get the end of their window (received_at + the platform's window, as before).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06

"""
from datetime import datetime, timedelta

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('merchant_addresses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=20), nullable=False),
    sa.Column('recipient', sa.String(length=40), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_merchant_addresses_merchant_id_merchants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_merchant_addresses'))
    )
    with op.batch_alter_table('merchant_addresses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_merchant_addresses_merchant_id'), ['merchant_id'], unique=False)

    op.create_table('aftersales',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('aftersale_no', sa.String(length=24), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('buyer_id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('reason_text', sa.String(length=100), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('images', sa.JSON(), nullable=False),
    sa.Column('refund_fen', sa.Integer(), nullable=False),
    sa.Column('shipping_refund_fen', sa.Integer(), nullable=False),
    sa.Column('before_shipping', sa.Boolean(), nullable=False),
    sa.Column('reapplied', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reject_reason', sa.String(length=200), nullable=True),
    sa.Column('return_address', sa.JSON(), nullable=True),
    sa.Column('return_carrier', sa.String(length=32), nullable=True),
    sa.Column('return_tracking_no', sa.String(length=32), nullable=True),
    sa.Column('returned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('return_delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('return_received_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('restocked', sa.Boolean(), nullable=True),
    sa.Column('replacement_carrier', sa.String(length=32), nullable=True),
    sa.Column('replacement_tracking_no', sa.String(length=32), nullable=True),
    sa.Column('replacement_shipped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('refund_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('reapplied BETWEEN 0 AND 3', name=op.f('ck_aftersales_reapplied_in_range')),
    sa.CheckConstraint('refund_fen >= 0 AND shipping_refund_fen >= 0 AND shipping_refund_fen <= refund_fen', name=op.f('ck_aftersales_refund_amounts_valid')),
    sa.ForeignKeyConstraint(['buyer_id'], ['users.id'], name=op.f('fk_aftersales_buyer_id_users')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_aftersales_merchant_id_merchants')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_aftersales_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aftersales')),
    sa.UniqueConstraint('aftersale_no', name=op.f('uq_aftersales_aftersale_no'))
    )
    with op.batch_alter_table('aftersales', schema=None) as batch_op:
        batch_op.create_index('ix_aftersales_buyer', ['buyer_id', 'created_at'], unique=False)
        batch_op.create_index('ix_aftersales_merchant_status', ['merchant_id', 'status', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_aftersales_order_id'), ['order_id'], unique=False)
        batch_op.create_index('ix_aftersales_status_due', ['status', 'due_at'], unique=False)

    op.create_table('aftersale_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('aftersale_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('from_status', sa.String(length=20), nullable=True),
    sa.Column('to_status', sa.String(length=20), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_aftersale_events_actor_id_users')),
    sa.ForeignKeyConstraint(['aftersale_id'], ['aftersales.id'], name=op.f('fk_aftersale_events_aftersale_id_aftersales'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aftersale_events'))
    )
    with op.batch_alter_table('aftersale_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_aftersale_events_aftersale_id'), ['aftersale_id'], unique=False)

    op.create_table('aftersale_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('aftersale_id', sa.Integer(), nullable=False),
    sa.Column('order_item_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('refund_fen', sa.Integer(), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_aftersale_lines_quantity_positive')),
    sa.CheckConstraint('refund_fen >= 0', name=op.f('ck_aftersale_lines_refund_non_negative')),
    sa.ForeignKeyConstraint(['aftersale_id'], ['aftersales.id'], name=op.f('fk_aftersale_lines_aftersale_id_aftersales'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_item_id'], ['order_items.id'], name=op.f('fk_aftersale_lines_order_item_id_order_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aftersale_lines')),
    sa.UniqueConstraint('aftersale_id', 'order_item_id', name=op.f('uq_aftersale_lines_aftersale_id_order_item_id'))
    )
    with op.batch_alter_table('aftersale_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_aftersale_lines_aftersale_id'), ['aftersale_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_aftersale_lines_order_item_id'), ['order_item_id'], unique=False)

    op.create_table('disputes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('aftersale_id', sa.Integer(), nullable=False),
    sa.Column('buyer_statement', sa.String(length=1000), nullable=False),
    sa.Column('buyer_evidence', sa.JSON(), nullable=False),
    sa.Column('merchant_statement', sa.String(length=1000), nullable=True),
    sa.Column('merchant_evidence', sa.JSON(), nullable=False),
    sa.Column('ruling', sa.String(length=16), nullable=True),
    sa.Column('ruling_note', sa.String(length=500), nullable=True),
    sa.Column('ruled_by_id', sa.Integer(), nullable=True),
    sa.Column('ruled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['aftersale_id'], ['aftersales.id'], name=op.f('fk_disputes_aftersale_id_aftersales'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ruled_by_id'], ['users.id'], name=op.f('fk_disputes_ruled_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disputes')),
    sa.UniqueConstraint('aftersale_id', name=op.f('uq_disputes_aftersale_id'))
    )
    with op.batch_alter_table('disputes', schema=None) as batch_op:
        batch_op.create_index('ix_disputes_open', ['ruled_at', 'created_at'], unique=False)

    op.create_table('dispute_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dispute_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('side', sa.String(length=10), nullable=False),
    sa.Column('body', sa.String(length=500), nullable=False),
    sa.Column('images', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_dispute_messages_author_id_users')),
    sa.ForeignKeyConstraint(['dispute_id'], ['disputes.id'], name=op.f('fk_dispute_messages_dispute_id_disputes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispute_messages'))
    )
    with op.batch_alter_table('dispute_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dispute_messages_dispute_id'), ['dispute_id'], unique=False)

    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.add_column(sa.Column('aftersale_window_days', sa.Integer(), nullable=True))

    with op.batch_alter_table('merchants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('aftersale_auto_refund', sa.Boolean(), server_default=sa.text('true'), nullable=False))

    with op.batch_alter_table('order_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('open_aftersale_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_order_items_open_aftersale_id_aftersales', 'aftersales', ['open_aftersale_id'], ['id'], use_alter=True)

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refunded_fen', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('aftersale_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint(op.f('ck_orders_refunded_in_range'),
                                         'refunded_fen >= 0 AND refunded_fen <= amount_fen')

    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refunded_fen', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_check_constraint(op.f('ck_payments_refunded_in_range'),
                                         'refunded_fen >= 0 AND refunded_fen <= amount_fen')

    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('aftersale_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_refunds_aftersale_id'), ['aftersale_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_refunds_aftersale_id_aftersales'), 'aftersales', ['aftersale_id'], ['id'])

    _carry_data_over()


def _carry_data_over():
    op.execute("UPDATE platform_settings SET key = 'aftersale_window_days' WHERE key = 'return_window_days'")
    op.execute(
        "INSERT INTO merchant_addresses (merchant_id, label, recipient, phone, address, is_default, created_at) "
        "SELECT id, '', return_recipient, return_phone, return_address, true, created_at FROM merchants "
        "WHERE return_address <> ''")
    bind = op.get_bind()
    window = 7
    stored = bind.execute(sa.text("SELECT value FROM platform_settings WHERE key = 'aftersale_window_days'")).scalar()
    if stored is not None:
        window = int(stored if not isinstance(stored, str) else stored.strip('"'))
    received = bind.execute(sa.text("SELECT id, received_at FROM orders WHERE received_at IS NOT NULL")).all()
    for order_id, received_at in received:
        if isinstance(received_at, str):  # SQLite hands back text
            received_at = datetime.fromisoformat(received_at)
        bind.execute(sa.text("UPDATE orders SET aftersale_until = :until WHERE id = :id"),
                     {"until": received_at + timedelta(days=window), "id": order_id})


def downgrade():
    op.execute("UPDATE platform_settings SET key = 'return_window_days' WHERE key = 'aftersale_window_days'")
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_refunds_aftersale_id_aftersales'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_refunds_aftersale_id'))
        batch_op.drop_column('aftersale_id')

    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_payments_refunded_in_range'), type_='check')
        batch_op.drop_column('refunded_fen')

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_orders_refunded_in_range'), type_='check')
        batch_op.drop_column('aftersale_until')
        batch_op.drop_column('refunded_fen')

    with op.batch_alter_table('order_items', schema=None) as batch_op:
        batch_op.drop_constraint('fk_order_items_open_aftersale_id_aftersales', type_='foreignkey')
        batch_op.drop_column('open_aftersale_id')

    with op.batch_alter_table('merchants', schema=None) as batch_op:
        batch_op.drop_column('aftersale_auto_refund')

    with op.batch_alter_table('categories', schema=None) as batch_op:
        batch_op.drop_column('aftersale_window_days')

    with op.batch_alter_table('dispute_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dispute_messages_dispute_id'))

    op.drop_table('dispute_messages')
    with op.batch_alter_table('disputes', schema=None) as batch_op:
        batch_op.drop_index('ix_disputes_open')

    op.drop_table('disputes')
    with op.batch_alter_table('aftersale_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_aftersale_lines_order_item_id'))
        batch_op.drop_index(batch_op.f('ix_aftersale_lines_aftersale_id'))

    op.drop_table('aftersale_lines')
    with op.batch_alter_table('aftersale_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_aftersale_events_aftersale_id'))

    op.drop_table('aftersale_events')
    with op.batch_alter_table('aftersales', schema=None) as batch_op:
        batch_op.drop_index('ix_aftersales_status_due')
        batch_op.drop_index(batch_op.f('ix_aftersales_order_id'))
        batch_op.drop_index('ix_aftersales_merchant_status')
        batch_op.drop_index('ix_aftersales_buyer')

    op.drop_table('aftersales')
    with op.batch_alter_table('merchant_addresses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_merchant_addresses_merchant_id'))

    op.drop_table('merchant_addresses')
