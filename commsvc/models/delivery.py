"""One row per bulletin x member x channel, and the history of its attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from commsvc.extensions import db
from commsvc.models.base import utcnow


class Delivery(db.Model):  # type: ignore[name-defined]
    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("bulletin_id", "member_id", "channel", name="uq_delivery_once"),
        Index("ix_deliveries_bulletin_status", "bulletin_id", "status"),
        # Only rows in `sending` have a claim the sweeps look at, and only accepted rows
        # a provider id receipts look up: partial indexes spare every fan-out insert and
        # status update the entries for the rest.
        Index(
            "ix_deliveries_sending_claimed",
            "claimed_at",
            postgresql_where=text("status = 'sending'"),
            sqlite_where=text("status = 'sending'"),
        ),
        Index(
            "ix_deliveries_provider_id",
            "provider_id",
            postgresql_where=text("provider_id IS NOT NULL"),
            sqlite_where=text("provider_id IS NOT NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign keys (migration fanout_0003): only the fan-out writes these, from a join
    # on the bulletin and its members, neither of which is ever deleted, and the two
    # per-row checks cost a large fan-out more than its inserts.
    bulletin_id: Mapped[int] = mapped_column(Integer)
    member_id: Mapped[int] = mapped_column(Integer, index=True)
    channel: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20))
    provider: Mapped[str | None] = mapped_column(String(40))
    provider_id: Mapped[str | None] = mapped_column(String(120))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    # When a temporary failure will be tried again; NULL once retries are exhausted.
    retry_at: Mapped[datetime | None] = mapped_column(DateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The claim's token, "worker/pid#nonce" (commsvc.liveness): which worker holds the
    # row while it is `sending`, so beat can take back a dead worker's claims.
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class DeliveryAttempt(db.Model):  # type: ignore[name-defined]
    __tablename__ = "delivery_attempts"
    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    outcome: Mapped[str] = mapped_column(String(20))
    provider: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(String(500))
