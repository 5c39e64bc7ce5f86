"""When a shop application's identity documents (营业执照, 法人身份证) were erased at the end
of their keeping time (app/merchants/document_retention.py).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('merchant_applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('documents_erased_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('merchant_applications', schema=None) as batch_op:
        batch_op.drop_column('documents_erased_at')
