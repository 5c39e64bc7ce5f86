"""One timeline table for the state changes of entities without an event table of
their own (payments, refunds, commissions, withdrawals, shops, outbound messages,
an order's stock), written by app.core.lifecycle.move.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05

"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'state_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('entity', sa.String(length=32), nullable=False),
        sa.Column('column', sa.String(length=32), nullable=False),
        sa.Column('entity_id', sa.Integer(), nullable=False),
        sa.Column('from_state', sa.String(length=24), nullable=True),
        sa.Column('to_state', sa.String(length=24), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('note', sa.String(length=200), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_state_changes_actor_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_state_changes')),
    )
    op.create_index('ix_state_changes_entity', 'state_changes', ['entity', 'entity_id'], unique=False)


def downgrade():
    op.drop_index('ix_state_changes_entity', table_name='state_changes')
    op.drop_table('state_changes')
