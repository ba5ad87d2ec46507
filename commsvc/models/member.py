"""Members, their topic preferences and the consent record behind every change."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from commsvc.extensions import db
from commsvc.models.base import utcnow
from commsvc.models.organisation import Branch, Employer, Partnership, Region

member_partnerships = Table(
    "member_partnerships",
    db.metadata,
    Column("member_id", Integer, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "partnership_id",
        Integer,
        ForeignKey("partnerships.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


def new_public_id() -> str:
    return secrets.token_urlsafe(16)


class Member(db.Model):  # type: ignore[name-defined]
    __tablename__ = "members"
    id: Mapped[int] = mapped_column(primary_key=True)
    membership_number: Mapped[str] = mapped_column(String(40), unique=True)
    # Signed member links carry this, never the id or an address.
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    mobile: Mapped[str | None] = mapped_column(String(20), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), index=True)
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("employers.id"), index=True)
    service_group: Mapped[str] = mapped_column(String(20), index=True)
    workplace: Mapped[str] = mapped_column(String(200), default="")
    job_title: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(5), default="en")
    # Channel choices; a channel also needs an address to be used.
    email_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    sms_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Topics with no TopicPreference row follow this default.
    all_topics: Mapped[bool] = mapped_column(Boolean, default=True)
    # "Stop everything": campaign topics stop; service messages still arrive.
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    erased_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    region: Mapped[Region] = relationship()
    branch: Mapped[Branch | None] = relationship()
    employer: Mapped[Employer | None] = relationship()
    partnerships: Mapped[list[Partnership]] = relationship(secondary=member_partnerships)
    topic_preferences: Mapped[list[TopicPreference]] = relationship(
        back_populates="member", cascade="all, delete-orphan"
    )

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class TopicPreference(db.Model):  # type: ignore[name-defined]
    __tablename__ = "topic_preferences"
    __table_args__ = (UniqueConstraint("member_id", "topic_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"), index=True)
    subscribed: Mapped[bool] = mapped_column(Boolean)
    member: Mapped[Member] = relationship(back_populates="topic_preferences")


class ConsentRecord(db.Model):  # type: ignore[name-defined]
    """What a member (or an import on their behalf) chose, when, how, under which wording."""

    __tablename__ = "consent_records"
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    source: Mapped[str] = mapped_column(String(30))  # import, preference_centre, api, sms_keyword
    wording_version: Mapped[str] = mapped_column(String(20), default="2026-1")
    change: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
