"""Partial indexes on deliveries: claims only while sending, provider ids once known

Every delivery row starts queued, with no claim and no provider id; indexing those
NULLs cost every insert of a fan-out and every status update two index entries that
no query reads (the sweeps look only at rows in `sending`; receipts look up a known
provider id).

Revision ID: fanout_0002
Revises: members_0002
Create Date: 2026-12-01 23:45:00

"""
from alembic import op
import sqlalchemy as sa


revision = "fanout_0002"
down_revision = "members_0002"
branch_labels = None
depends_on = None

SENDING = sa.text("status = 'sending'")
HAS_PROVIDER_ID = sa.text("provider_id IS NOT NULL")


def upgrade():
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_status_claimed")
        batch_op.drop_index(batch_op.f("ix_deliveries_provider_id"))
        batch_op.create_index(
            "ix_deliveries_sending_claimed",
            ["claimed_at"],
            unique=False,
            postgresql_where=SENDING,
            sqlite_where=SENDING,
        )
        batch_op.create_index(
            batch_op.f("ix_deliveries_provider_id"),
            ["provider_id"],
            unique=False,
            postgresql_where=HAS_PROVIDER_ID,
            sqlite_where=HAS_PROVIDER_ID,
        )


def downgrade():
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deliveries_provider_id"))
        batch_op.drop_index("ix_deliveries_sending_claimed")
        batch_op.create_index(batch_op.f("ix_deliveries_provider_id"), ["provider_id"], unique=False)
        batch_op.create_index("ix_deliveries_status_claimed", ["status", "claimed_at"], unique=False)
