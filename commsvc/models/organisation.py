"""Regions, branches, employers, partnerships and topics: the union's map."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from commsvc.extensions import db

PARTNERSHIP_KINDS = (
    "section_31_partnership",
    "care_trust",
    "childrens_trust",
    "joint_working_group",
    "other",
)
SERVICE_GROUPS = ("health", "local_government")
TOPIC_KINDS = ("campaign", "service")

partnership_employers = Table(
    "partnership_employers",
    db.metadata,
    Column(
        "partnership_id",
        Integer,
        ForeignKey("partnerships.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "employer_id", Integer, ForeignKey("employers.id", ondelete="CASCADE"), primary_key=True
    ),
)


class Region(db.Model):  # type: ignore[name-defined]
    __tablename__ = "regions"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)


class Branch(db.Model):  # type: ignore[name-defined]
    __tablename__ = "branches"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), unique=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    region: Mapped[Region] = relationship()


class Employer(db.Model):  # type: ignore[name-defined]
    __tablename__ = "employers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)


class Partnership(db.Model):  # type: ignore[name-defined]
    __tablename__ = "partnerships"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    name_cy: Mapped[str] = mapped_column(String(200), default="")  # the Welsh form, if any
    kind: Mapped[str] = mapped_column(String(40), default="other")
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    # Two-person approval: the approver of a bulletin cannot be its author.
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    # Above this many members the organiser types the number to confirm a send.
    confirm_above: Mapped[int] = mapped_column(Integer, default=500, server_default="500")
    region: Mapped[Region] = relationship()
    employers: Mapped[list[Employer]] = relationship(secondary=partnership_employers)


class Topic(db.Model):  # type: ignore[name-defined]
    __tablename__ = "topics"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    name_cy: Mapped[str] = mapped_column(String(120), default="")  # the Welsh form, if any
    # "service" topics (ballots, AGM notices) reach members who stopped campaigns.
    kind: Mapped[str] = mapped_column(String(20), default="campaign")


class Branding(db.Model):  # type: ignore[name-defined]
    """How the union presents itself: nationally (no region), or a region's own."""

    __tablename__ = "branding"
    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), unique=True)
    union_name: Mapped[str] = mapped_column(String(120), default="")
    sender_name: Mapped[str] = mapped_column(String(120), default="")
    footer_address: Mapped[str] = mapped_column(String(300), default="")
    colour: Mapped[str] = mapped_column(String(7), default="")
