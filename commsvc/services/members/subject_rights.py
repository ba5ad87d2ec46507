"""A member's rights over their data: a copy of everything held (export) and erasure.

Erasure wipes personal data but keeps the member row, so delivery rows and the
counts built on them stay intact, and keeps hashed suppressions (keyed: see
`suppression`) so the erased addresses are never sent to again. Providers quote the
address in their failure texts ("550 5.1.1 <x@y>: no such user"), so the member's
deliveries' `last_error` and attempt reasons, which reports and CSV exports show,
are scrubbed of it too.
"""

from __future__ import annotations

import re
from typing import Any

import phonenumbers
from sqlalchemy import delete, select

from commsvc.extensions import db
from commsvc.models import (
    Answer,
    Bulletin,
    ConsentRecord,
    Delivery,
    DeliveryAttempt,
    Member,
    Question,
)
from commsvc.models.base import utcnow
from commsvc.services.accounts import audit
from commsvc.services.members import preferences, suppression
from commsvc.services.members.records import member_json


def export_member(member: Member) -> dict[str, Any]:
    """Profile, preferences, consent history, deliveries and answers, as JSON-ready data."""
    return {
        "profile": {
            **member_json(member),
            "language": member.language,
            "created_at": _iso(member.created_at),
            "updated_at": _iso(member.updated_at),
        },
        "preferences": {
            "email": member.email_enabled,
            "sms": member.sms_enabled,
            "stop_everything": member.opted_out,
            "topics": [
                {"name": t["name"], "kind": t["kind"], "subscribed": t["subscribed"]}
                for t in preferences.topic_choices(member)
            ],
        },
        "consent_history": [
            {
                "at": _iso(record.at),
                "source": record.source,
                "wording_version": record.wording_version,
                "change": record.change,
            }
            for record in consent_history(member)
        ],
        "deliveries": [
            {
                "bulletin": title,
                "channel": delivery.channel,
                "status": delivery.status,
                "sent_at": _iso(delivery.sent_at),
                "delivered_at": _iso(delivery.delivered_at),
            }
            for delivery, title in deliveries(member)
        ],
        # Only the member's own export shows what they answered; nothing else lists it.
        "answers": [
            {
                "bulletin": title,
                "question": question.text,
                "answer": question.choices[answer.choice]
                if 0 <= answer.choice < len(question.choices)
                else None,
                "channel": answer.channel,
                "answered_at": _iso(answer.answered_at),
            }
            for answer, question, title in answers(member)
        ],
    }


def consent_history(member: Member) -> list[ConsentRecord]:
    return list(
        db.session.scalars(
            select(ConsentRecord)
            .where(ConsentRecord.member_id == member.id)
            .order_by(ConsentRecord.at.desc(), ConsentRecord.id.desc())
        )
    )


def deliveries(member: Member, limit: int | None = None) -> list[tuple[Delivery, str]]:
    query = (
        select(Delivery, Bulletin.title)
        .join(Bulletin, Bulletin.id == Delivery.bulletin_id)
        .where(Delivery.member_id == member.id)
        .order_by(Delivery.id.desc())
        .limit(limit)
    )
    return [(row[0], row[1]) for row in db.session.execute(query)]


def answers(member: Member) -> list[tuple[Answer, Question, str]]:
    query = (
        select(Answer, Question, Bulletin.title)
        .join(Question, Question.id == Answer.question_id)
        .join(Bulletin, Bulletin.id == Question.bulletin_id)
        .where(Answer.member_id == member.id)
        .order_by(Answer.answered_at.desc(), Answer.id.desc())
    )
    return [(row[0], row[1], row[2]) for row in db.session.execute(query)]


def erase_member(member: Member, actor_label: str = "system") -> None:
    """Wipe personal data, keep hashed suppressions and the delivery counts."""
    if member.email:
        suppression.suppress("email", member.email, "erasure")
    if member.mobile:
        suppression.suppress("sms", member.mobile, "erasure")
    _scrub_delivery_texts(member)
    member.membership_number = f"erased-{member.public_id}"
    member.first_name = member.last_name = member.workplace = member.job_title = ""
    member.email = member.mobile = None
    member.email_enabled = member.sms_enabled = False
    member.opted_out = True
    member.erased_at = utcnow()
    member.partnerships = []
    member.topic_preferences = []
    db.session.execute(delete(ConsentRecord).where(ConsentRecord.member_id == member.id))
    # Answers go too: results then count one fewer respondent, never a member's view.
    db.session.execute(delete(Answer).where(Answer.member_id == member.id))
    audit.record(actor_label, "member.erase", f"member {member.id}")
    db.session.commit()


ERASED_ADDRESS = "[erased address]"


def _scrub_delivery_texts(member: Member) -> None:
    """Take the member's addresses out of their deliveries' failure texts."""
    pattern = _address_pattern(member.email, member.mobile)
    if pattern is None:
        return
    delivery_ids = select(Delivery.id).where(Delivery.member_id == member.id)
    for delivery in db.session.scalars(
        select(Delivery).where(Delivery.member_id == member.id, Delivery.last_error.is_not(None))
    ):
        delivery.last_error = pattern.sub(ERASED_ADDRESS, delivery.last_error or "")
    for attempt in db.session.scalars(
        select(DeliveryAttempt).where(
            DeliveryAttempt.delivery_id.in_(delivery_ids), DeliveryAttempt.reason.is_not(None)
        )
    ):
        attempt.reason = pattern.sub(ERASED_ADDRESS, attempt.reason or "")


def _address_pattern(email: str | None, mobile: str | None) -> re.Pattern[str] | None:
    """The member's email (any case) and mobile as providers write it: +447911123456,
    447911123456, 07911 123456, with or without spaces or dashes."""
    parts = []
    if email:
        parts.append(re.escape(email))
    if mobile:
        try:
            national = str(phonenumbers.parse(mobile, "GB").national_number)
            country = str(phonenumbers.parse(mobile, "GB").country_code)
        except phonenumbers.NumberParseException:
            national, country = mobile.lstrip("+"), ""
        digits = r"[\s.-]*".join(re.escape(d) for d in national)
        prefix = rf"(?:\+?\s*{country}\s*(?:\(0\))?|0)?" if country else r"\+?"
        parts.append(rf"(?<!\d){prefix}[\s.-]*{digits}(?!\d)")
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


def _iso(value: Any) -> str | None:
    return value.isoformat() + "Z" if value is not None else None
