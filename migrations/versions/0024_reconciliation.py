"""Reconciliation (对账): runs, one per check of a day (the nightly job's at most once a day),
and the differences each found, which finance marks handled with a note.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-08

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('reconciliation_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('trigger', sa.String(length=10), nullable=False),
    sa.Column('job_day', sa.Date(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('bills', sa.JSON(), nullable=False),
    sa.Column('checked', sa.JSON(), nullable=False),
    sa.Column('difference_count', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_reconciliation_runs_actor_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_runs')),
    sa.UniqueConstraint('job_day', name=op.f('uq_reconciliation_runs_job_day'))
    )
    with op.batch_alter_table('reconciliation_runs', schema=None) as batch_op:
        batch_op.create_index('ix_reconciliation_runs_day', ['day', 'id'], unique=False)

    op.create_table('reconciliation_differences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=True),
    sa.Column('reference', sa.String(length=120), nullable=False),
    sa.Column('expected_fen', sa.BigInteger(), nullable=True),
    sa.Column('actual_fen', sa.BigInteger(), nullable=True),
    sa.Column('detail', sa.String(length=300), nullable=False),
    sa.Column('handled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('handled_by_id', sa.Integer(), nullable=True),
    sa.Column('handled_note', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['handled_by_id'], ['users.id'], name=op.f('fk_reconciliation_differences_handled_by_id_users')),
    sa.ForeignKeyConstraint(['run_id'], ['reconciliation_runs.id'], name=op.f('fk_reconciliation_differences_run_id_reconciliation_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_differences'))
    )
    with op.batch_alter_table('reconciliation_differences', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reconciliation_differences_run_id'), ['run_id'], unique=False)


def downgrade():
    with op.batch_alter_table('reconciliation_differences', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reconciliation_differences_run_id'))
    op.drop_table('reconciliation_differences')
    with op.batch_alter_table('reconciliation_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_reconciliation_runs_day')
    op.drop_table('reconciliation_runs')
