"""A bulletin's question: checking it, storing it, recording and closing answers.

A question is a consultation (default) or an event RSVP, with 2 to 6 choices and a
close. One answer per member per question: answering again replaces the choice, and
nothing is recorded once the question has closed (at `closes_at`, or earlier when an
organiser closes it). Who answered what is never listed here or anywhere else; only
the counts in `results.py` and the member's own export show answers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from commsvc.errors import Conflict, ValidationError
from commsvc.extensions import db
from commsvc.models import Answer, Bulletin, Delivery, Member, Question
from commsvc.models.base import utcnow
from commsvc.models.question import KINDS
from commsvc.services.accounts import audit
from commsvc.services.accounts.actors import Actor, ensure_can_write
from commsvc.services.members import preferences
from commsvc.statuses import DeliveryStatus

TEXT_LIMIT = 1000
CHOICE_LIMIT = 60
PLACE_LIMIT = 300
MIN_CHOICES, MAX_CHOICES = 2, 6
# A member "got" a question when one of its deliveries reached the gateway.
RECEIVED = (DeliveryStatus.SENT, DeliveryStatus.DELIVERED)


class QuestionClosed(Conflict):
    code = "question_closed"


def clean_question(raw: Any) -> dict[str, Any] | None:
    """Validate the API's optional `question` object; None when there is none."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ValidationError("question must be an object {text, choices, closes_at}")
    unknown = set(raw) - {"text", "choices", "closes_at", "kind", "event"}
    if unknown:
        raise ValidationError(f"unknown question fields: {', '.join(sorted(unknown))}")
    text = raw.get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > TEXT_LIMIT:
        raise ValidationError(f"question.text is required, at most {TEXT_LIMIT} characters")
    choices = raw.get("choices")
    if (
        not isinstance(choices, list)
        or not MIN_CHOICES <= len(choices) <= MAX_CHOICES
        or not all(isinstance(c, str) and c.strip() for c in choices)
    ):
        raise ValidationError(
            f"question.choices must be a list of {MIN_CHOICES} to {MAX_CHOICES} words"
        )
    choices = [" ".join(c.split()) for c in choices]
    if any(len(c) > CHOICE_LIMIT for c in choices):
        raise ValidationError(f"each question choice must be at most {CHOICE_LIMIT} characters")
    if len({c.casefold() for c in choices}) != len(choices):
        raise ValidationError("question.choices must all be different")
    if any(c.isdigit() for c in choices):
        raise ValidationError("a question choice cannot be a number (members reply with numbers)")
    keywords = [c for c in choices if c.upper() in preferences.STOP_WORDS | preferences.START_WORDS]
    if keywords:
        raise ValidationError(
            f"a question choice cannot be {keywords[0]!r}: that reply stops or starts texts"
        )
    closes_at = parse_moment(raw.get("closes_at"), "question.closes_at")
    if closes_at <= utcnow():
        raise ValidationError("question.closes_at must be in the future")
    kind = raw.get("kind", "consultation")
    if kind not in KINDS:
        raise ValidationError("question.kind must be consultation or rsvp")
    event = raw.get("event")
    event_at, place = None, ""
    if kind == "rsvp":
        if not isinstance(event, dict) or not isinstance(event.get("place"), str):
            raise ValidationError("an rsvp question needs event: {at (ISO 8601), place}")
        event_at = parse_moment(event.get("at"), "question.event.at")
        place = event["place"].strip()
        if not place or len(place) > PLACE_LIMIT:
            raise ValidationError(
                f"question.event.place is required, at most {PLACE_LIMIT} characters"
            )
    elif event is not None:
        raise ValidationError("question.event is only for kind rsvp")
    return {
        "text": text.strip(),
        "choices": choices,
        "closes_at": closes_at,
        "kind": kind,
        "event_at": event_at,
        "event_place": place,
    }


def parse_moment(value: Any, field: str) -> datetime:
    """An ISO 8601 date and time as naive UTC (a time without a zone is taken as UTC)."""
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be an ISO 8601 date and time")
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            f"{field} must be an ISO 8601 date and time, e.g. 2026-12-01T17:00:00Z"
        ) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def attach(bulletin: Bulletin, cleaned: dict[str, Any]) -> Question:
    question = Question(bulletin_id=bulletin.id, **cleaned)
    db.session.add(question)
    return question


def question_for(bulletin_id: int) -> Question | None:
    return db.session.scalar(select(Question).where(Question.bulletin_id == bulletin_id))


def question_json(question: Question | None) -> dict[str, Any] | None:
    if question is None:
        return None
    return {
        "text": question.text,
        "choices": question.choices,
        "kind": question.kind,
        "event": {"at": _iso(question.event_at), "place": question.event_place}
        if question.kind == "rsvp"
        else None,
        "closes_at": _iso(question.closes_at),
        "closed_early_at": _iso(question.closed_early_at),
        "open": question.is_open(),
    }


def record_answer(question: Question, member: Member, choice: int, channel: str) -> Answer:
    """The member's answer; a later one replaces it. Refused once the question has closed."""
    if not 0 <= choice < len(question.choices):
        raise ValidationError("Choose one of the answers.")
    now = utcnow()
    if not question.is_open(now):
        raise QuestionClosed("This question has closed; answers are no longer counted.")
    answer = current_answer(question, member)
    if answer is None:
        answer = Answer(question_id=question.id, member_id=member.id)
        db.session.add(answer)
    answer.choice, answer.channel, answer.answered_at = choice, channel, now
    db.session.commit()
    return answer


def current_answer(question: Question, member: Member) -> Answer | None:
    return db.session.scalar(
        select(Answer).where(Answer.question_id == question.id, Answer.member_id == member.id)
    )


def close_early(actor: Actor, bulletin: Bulletin) -> Question:
    """Stop counting answers now; closing twice or after the close changes nothing."""
    ensure_can_write(actor)
    question = question_for(bulletin.id)
    if question is None:
        raise ValidationError(f"Bulletin {bulletin.id} has no question.")
    if question.is_open():
        question.closed_early_at = utcnow()
        audit.record(actor.label, "question.close", f"bulletin {bulletin.id}")
        db.session.commit()
    return question


def answer_by_sms(number: str, body: str) -> bool:
    """An inbound text ("1", "2" or a choice's word) answers each member with that number
    on their most recent open question sent to them by SMS. False when it answers nothing."""
    reply = " ".join(body.split()).rstrip(".!").casefold()
    if not reply:
        return False
    answered = False
    for member in db.session.scalars(
        select(Member).where(Member.mobile == number, Member.erased_at.is_(None))
    ):
        question = _latest_open_sms_question(member.id)
        if question is None:
            continue
        choice = _choice_in_reply(question, reply)
        if choice is None:
            continue
        record_answer(question, member, choice, "sms")
        answered = True
    return answered


def _latest_open_sms_question(member_id: int) -> Question | None:
    now = utcnow()
    return db.session.scalar(
        select(Question)
        .join(Delivery, Delivery.bulletin_id == Question.bulletin_id)
        .where(
            Delivery.member_id == member_id,
            Delivery.channel == "sms",
            Delivery.status.in_([str(s) for s in RECEIVED]),
            Question.closes_at > now,
            (Question.closed_early_at.is_(None)) | (Question.closed_early_at > now),
        )
        .order_by(Delivery.sent_at.desc().nulls_last(), Delivery.id.desc())
        .limit(1)
    )


def _choice_in_reply(question: Question, reply: str) -> int | None:
    if reply.isdigit():
        number = int(reply)
        return number - 1 if 1 <= number <= len(question.choices) else None
    for index, choice in enumerate(question.choices):
        if choice.casefold() == reply:
            return index
    return None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() + "Z" if value is not None else None
