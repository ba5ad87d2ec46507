"""safe send: a partnership's typed-confirmation size, a service topic's reason,
templates that remember topic and channels

Revision ID: organiser_0002
Revises: 0001
Create Date: 2026-12-01 19:50:00

"""

import sqlalchemy as sa
from alembic import op

revision = "organiser_0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("partnerships") as batch:
        batch.add_column(
            sa.Column("confirm_above", sa.Integer(), nullable=False, server_default="500")
        )
    with op.batch_alter_table("bulletins") as batch:
        batch.add_column(
            sa.Column("service_reason", sa.String(length=500), nullable=False, server_default="")
        )
    with op.batch_alter_table("message_templates") as batch:
        batch.add_column(
            sa.Column("topic", sa.String(length=120), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("channels", sa.String(length=20), nullable=False, server_default="")
        )


def downgrade():
    with op.batch_alter_table("message_templates") as batch:
        batch.drop_column("channels")
        batch.drop_column("topic")
    with op.batch_alter_table("bulletins") as batch:
        batch.drop_column("service_reason")
    with op.batch_alter_table("partnerships") as batch:
        batch.drop_column("confirm_above")
