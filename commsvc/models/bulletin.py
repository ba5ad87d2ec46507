"""Bulletins, the reusable templates they start from, and their lifecycle history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from commsvc.extensions import db
from commsvc.models.base import utcnow
from commsvc.models.organisation import Partnership, Region, Topic


class MessageTemplate(db.Model):  # type: ignore[name-defined]
    """One version of a reusable template; a new version is a new row with the same name."""

    __tablename__ = "message_templates"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    # The region whose organisers see and use it; NULL (templates saved before
    # regions, or an admin's own): admins only.
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    region: Mapped[Region | None] = relationship()
    version: Mapped[int] = mapped_column(Integer, default=1)
    subject: Mapped[str] = mapped_column(String(300), default="")
    email_body: Mapped[str] = mapped_column(Text, default="")
    sms_body: Mapped[str] = mapped_column(Text, default="")
    # What a bulletin started from this template gets unless the organiser changes it.
    topic: Mapped[str] = mapped_column(String(120), default="", server_default="")
    channels: Mapped[str] = mapped_column(String(20), default="", server_default="")  # "email,sms"
    created_by: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Bulletin(db.Model):  # type: ignore[name-defined]
    __tablename__ = "bulletins"
    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnerships.id"), index=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"))
    template_id: Mapped[int | None] = mapped_column(ForeignKey("message_templates.id"))
    title: Mapped[str] = mapped_column(String(200))
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    subject: Mapped[str] = mapped_column(String(300), default="")
    email_body: Mapped[str] = mapped_column(Text, default="")
    sms_body: Mapped[str] = mapped_column(Text, default="")
    # The Welsh version, for members whose language is cy; an empty one means English.
    subject_cy: Mapped[str] = mapped_column(String(300), default="")
    email_body_cy: Mapped[str] = mapped_column(Text, default="")
    sms_body_cy: Mapped[str] = mapped_column(Text, default="")
    # Shown on the partnership's public archive page (with neutral personal fields).
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    # Filters within the partnership: regions, branches, employers, service_groups, ...
    audience: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    audience_size: Mapped[int] = mapped_column(Integer, default=0)
    # Why a service topic (which reaches members who stopped campaigns) was chosen.
    service_reason: Mapped[str] = mapped_column(String(500), default="", server_default="")
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    created_by: Mapped[str] = mapped_column(String(254), default="")
    approved_by: Mapped[str | None] = mapped_column(String(254))
    scheduled_for: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    fanned_out_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    partnership: Mapped[Partnership] = relationship()
    topic: Mapped[Topic] = relationship()
    template: Mapped[MessageTemplate | None] = relationship()


class BulletinTransition(db.Model):  # type: ignore[name-defined]
    """Who moved a bulletin from one status to another, and when."""

    __tablename__ = "bulletin_transitions"
    id: Mapped[int] = mapped_column(primary_key=True)
    bulletin_id: Mapped[int] = mapped_column(
        ForeignKey("bulletins.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(254), default="system")
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    note: Mapped[str] = mapped_column(String(300), default="")
