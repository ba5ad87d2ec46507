"""templates belong to a region

Revision ID: scope_0002
Revises: recovery_claimed_by
Create Date: 2026-12-01 20:10:00

Templates saved before this revision get no region: admins only, until an admin
saves a version for a region (fail closed: no organiser sees another region's text).
"""

import sqlalchemy as sa
from alembic import op

revision = "scope_0002"
down_revision = "recovery_claimed_by"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("message_templates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("region_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_message_templates_region_id"), ["region_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_message_templates_region_id_regions"), "regions", ["region_id"], ["id"]
        )


def downgrade():
    with op.batch_alter_table("message_templates", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_message_templates_region_id_regions"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_message_templates_region_id"))
        batch_op.drop_column("region_id")
