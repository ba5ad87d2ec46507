"""safe send: a partnership's typed-confirmation size, a service topic's reason,
templates that remember topic and channels, the union's branding

Revision ID: organiser_0002
Revises: scope_0002
Create Date: 2026-12-01 19:50:00

"""

import sqlalchemy as sa
from alembic import op

revision = "organiser_0002"
down_revision = "scope_0002"
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
    op.create_table(
        "branding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("union_name", sa.String(length=120), nullable=False),
        sa.Column("sender_name", sa.String(length=120), nullable=False),
        sa.Column("footer_address", sa.String(length=300), nullable=False),
        sa.Column("colour", sa.String(length=7), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_branding_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_branding")),
        sa.UniqueConstraint("region_id", name=op.f("uq_branding_region_id")),
    )


def downgrade():
    op.drop_table("branding")
    with op.batch_alter_table("message_templates") as batch:
        batch.drop_column("channels")
        batch.drop_column("topic")
    with op.batch_alter_table("bulletins") as batch:
        batch.drop_column("service_reason")
    with op.batch_alter_table("partnerships") as batch:
        batch.drop_column("confirm_above")
