"""Deliveries without foreign keys: a fan-out writes 100,000 rows in one statement

Each row's two foreign-key checks (its bulletin, its member) locked the referenced
row once per delivery and cost a fan-out of 100,000 members more than the inserts
themselves. The rows are only ever written by the fan-out, from a join on the
bulletin and its audience's member rows, and neither bulletins nor members are ever
deleted (erasure blanks a member in place), so the checks guarded nothing.

Revision ID: fanout_0003
Revises: fanout_0002
Create Date: 2026-12-07 07:10:00

"""
from alembic import op


revision = "fanout_0003"
down_revision = "fanout_0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint("fk_deliveries_bulletin_id_bulletins", type_="foreignkey")
        batch_op.drop_constraint("fk_deliveries_member_id_members", type_="foreignkey")


def downgrade():
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_deliveries_bulletin_id_bulletins",
            "bulletins",
            ["bulletin_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_foreign_key(
            "fk_deliveries_member_id_members", "members", ["member_id"], ["id"], ondelete="CASCADE"
        )
