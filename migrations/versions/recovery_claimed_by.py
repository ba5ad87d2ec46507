"""deliveries.claimed_by: which worker holds a claim, and the claim's token

Revision ID: recovery_claimed_by
Revises: consult_0002
Create Date: 2026-12-01 19:55:00

"""

import sqlalchemy as sa
from alembic import op

revision = "recovery_claimed_by"
down_revision = "consult_0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("claimed_by")
