"""A bulletin's question (a consultation or an event RSVP) and members' answers to it.

One answer row per member per question: answering again replaces the choice, so a
changed answer counts once. Answers are special-category data (union membership and
views): nothing outside `services/bulletins/questions.py`, `results.py` and the
member's own export reads them row by row.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from commsvc.extensions import db
from commsvc.models.base import utcnow

KINDS = ("consultation", "rsvp")


class Question(db.Model):  # type: ignore[name-defined]
    __tablename__ = "questions"
    id: Mapped[int] = mapped_column(primary_key=True)
    bulletin_id: Mapped[int] = mapped_column(
        ForeignKey("bulletins.id", ondelete="CASCADE"), unique=True
    )
    text: Mapped[str] = mapped_column(Text)
    choices: Mapped[list[str]] = mapped_column(JSON, default=list)
    kind: Mapped[str] = mapped_column(String(20), default="consultation")
    event_at: Mapped[datetime | None] = mapped_column(DateTime)
    event_place: Mapped[str] = mapped_column(String(300), default="")
    closes_at: Mapped[datetime] = mapped_column(DateTime)
    closed_early_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    @property
    def closed_at(self) -> datetime:
        """When answers stopped (or will stop) counting."""
        if self.closed_early_at is not None and self.closed_early_at < self.closes_at:
            return self.closed_early_at
        return self.closes_at

    def is_open(self, now: datetime | None = None) -> bool:
        return (now or utcnow()) < self.closed_at


class Answer(db.Model):  # type: ignore[name-defined]
    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("question_id", "member_id", name="uq_answer_once"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    # The index into Question.choices.
    choice: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(10))
    answered_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
