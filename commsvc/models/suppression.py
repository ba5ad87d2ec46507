"""Addresses that must never be sent to, kept as hashes so erasure can keep them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from commsvc.extensions import db
from commsvc.models.base import utcnow


class Suppression(db.Model):  # type: ignore[name-defined]
    __tablename__ = "suppressions"
    __table_args__ = (UniqueConstraint("channel", "address_hash"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))
    address_hash: Mapped[str] = mapped_column(String(64))
    # hard_bounce, soft_bounces, complaint, stop, erasure
    reason: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
