"""Customer segments: each scope's current segmentation run, its segments and members, and
the marketing deliveries the frequency cap counts.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('segment_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope_id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('k', sa.Integer(), nullable=True),
    sa.Column('silhouette', sa.Float(), nullable=True),
    sa.Column('customers', sa.Integer(), nullable=False),
    sa.Column('lookback_days', sa.Integer(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_segment_runs_merchant_id_merchants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_segment_runs')),
    sa.UniqueConstraint('scope_id', name=op.f('uq_segment_runs_scope_id'))
    )
    op.create_table('segments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('variant', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('profile', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['segment_runs.id'], name=op.f('fk_segments_run_id_segment_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_segments')),
    sa.UniqueConstraint('run_id', 'name', name=op.f('uq_segments_run_id_name'))
    )
    with op.batch_alter_table('segments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_segments_run_id'), ['run_id'], unique=False)

    op.create_table('segment_members',
    sa.Column('segment_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.Column('monetary_fen', sa.BigInteger(), nullable=False),
    sa.Column('last_order_days', sa.Integer(), nullable=True),
    sa.Column('views', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['segment_id'], ['segments.id'], name=op.f('fk_segment_members_segment_id_segments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_segment_members_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('segment_id', 'user_id', name=op.f('pk_segment_members'))
    )
    with op.batch_alter_table('segment_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_segment_members_user_id'), ['user_id'], unique=False)

    op.create_table('marketing_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=12), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['tracked_jobs.id'], name=op.f('fk_marketing_deliveries_job_id_tracked_jobs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_marketing_deliveries_merchant_id_merchants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_marketing_deliveries_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_marketing_deliveries')),
    sa.UniqueConstraint('job_id', 'user_id', name=op.f('uq_marketing_deliveries_job_id_user_id'))
    )
    with op.batch_alter_table('marketing_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_marketing_deliveries_user_sent', ['user_id', 'sent_at'], unique=False)


def downgrade():
    with op.batch_alter_table('marketing_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_marketing_deliveries_user_sent')

    op.drop_table('marketing_deliveries')
    with op.batch_alter_table('segment_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_segment_members_user_id'))

    op.drop_table('segment_members')
    with op.batch_alter_table('segments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_segments_run_id'))

    op.drop_table('segments')
    op.drop_table('segment_runs')
