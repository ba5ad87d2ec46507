"""Welsh forms of topic, partnership and bulletin text; bulletins marked public

Revision ID: members_0002
Revises: organiser_0002
Create Date: 2026-12-01 19:55:00

"""
from alembic import op
import sqlalchemy as sa


revision = "members_0002"
down_revision = "organiser_0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("topics", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_cy", sa.String(length=120), nullable=False, server_default=""))
    with op.batch_alter_table("partnerships", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_cy", sa.String(length=200), nullable=False, server_default=""))
    with op.batch_alter_table("bulletins", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject_cy", sa.String(length=300), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("email_body_cy", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("sms_body_cy", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("public", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("bulletins", schema=None) as batch_op:
        batch_op.drop_column("public")
        batch_op.drop_column("sms_body_cy")
        batch_op.drop_column("email_body_cy")
        batch_op.drop_column("subject_cy")
    with op.batch_alter_table("partnerships", schema=None) as batch_op:
        batch_op.drop_column("name_cy")
    with op.batch_alter_table("topics", schema=None) as batch_op:
        batch_op.drop_column("name_cy")
