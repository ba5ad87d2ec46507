"""A member's own choices: topics, channels, stop everything, SMS keywords.

Every change writes a consent record (when, how, which wording), and a member's
own choice is never overwritten by a later import.
"""

from __future__ import annotations

from typing import Any

import phonenumbers
from sqlalchemy import select

from commsvc.extensions import db
from commsvc.models import ConsentRecord, Member, Topic, TopicPreference
from commsvc.services.members import suppression

LANGUAGES = ("en", "cy")
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "CANCEL", "OPTOUT"}
START_WORDS = {"START", "UNSTOP", "SUBSCRIBE"}
WORDING_VERSION = "2026-1"


def member_by_public_id(public_id: str) -> Member | None:
    member = db.session.scalar(select(Member).where(Member.public_id == public_id))
    return member if member is not None and member.erased_at is None else None


def topic_choices(member: Member) -> list[dict[str, Any]]:
    """Every topic with whether this member gets it, for the preference page."""
    explicit = {p.topic_id: p.subscribed for p in member.topic_preferences}
    topics = db.session.scalars(select(Topic).order_by(Topic.kind.desc(), Topic.name)).all()
    return [
        {
            "id": t.id,
            "name": t.name,
            "kind": t.kind,
            "subscribed": explicit.get(t.id, member.all_topics),
        }
        for t in topics
    ]


def update_choices(
    member: Member,
    topics_on: set[int],
    email: bool,
    sms: bool,
    stop_everything: bool,
    source: str,
    language: str | None = None,
) -> None:
    """Apply a member's answers from the preference page (service topics are not theirs
    to choose: `audience.decide` sends them whatever a stored choice says)."""
    if language in LANGUAGES:
        member.language = language
    choices = topic_choices(member)
    by_topic = {p.topic_id: p for p in member.topic_preferences}
    for choice in choices:
        if choice["kind"] == "service":  # always sent: not the member's to turn off
            continue
        wanted = choice["id"] in topics_on
        if choice["subscribed"] != wanted or choice["id"] not in by_topic:
            pref = by_topic.get(choice["id"])
            if pref is None:
                member.topic_preferences.append(
                    TopicPreference(topic_id=choice["id"], subscribed=wanted)
                )
            else:
                pref.subscribed = wanted
    member.email_enabled = email and bool(member.email)
    member.sms_enabled = sms and bool(member.mobile)
    member.opted_out = stop_everything
    _record(
        member,
        source,
        {
            "topics_on": sorted(topics_on),
            "email": email,
            "sms": sms,
            "stop_everything": stop_everything,
        },
    )
    db.session.commit()


def set_texts(member: Member, on: bool, source: str) -> None:
    """Texts off (or back on) at the member's word, as the preference page would; the
    link a text ends with uses it when members cannot reply STOP."""
    member.sms_enabled = on and bool(member.mobile)
    _record(member, source, {"sms": member.sms_enabled})
    db.session.commit()


def unsubscribe_topic(member: Member, topic_id: int, source: str) -> None:
    pref = next((p for p in member.topic_preferences if p.topic_id == topic_id), None)
    if pref is None:
        member.topic_preferences.append(TopicPreference(topic_id=topic_id, subscribed=False))
    else:
        pref.subscribed = False
    _record(member, source, {"topic_off": topic_id})
    db.session.commit()


def resubscribe_topic(member: Member, topic_id: int, source: str) -> None:
    """Undo an unsubscribe: the topic is on again, recorded like any other choice."""
    pref = next((p for p in member.topic_preferences if p.topic_id == topic_id), None)
    if pref is None:
        member.topic_preferences.append(TopicPreference(topic_id=topic_id, subscribed=True))
    else:
        pref.subscribed = True
    _record(member, source, {"topic_on": topic_id})
    db.session.commit()


def is_subscribed(member: Member, topic_id: int) -> bool:
    pref = next((p for p in member.topic_preferences if p.topic_id == topic_id), None)
    return member.all_topics if pref is None else pref.subscribed


def stop_campaigns(member: Member, source: str, detail: dict[str, Any]) -> None:
    """ "Stop everything" on the member's behalf (a spam complaint): campaign topics stop,
    service messages still arrive; recorded like any other choice."""
    member.opted_out = True
    _record(member, source, {"stop_everything": True, **detail})
    db.session.commit()


def apply_sms_keyword(number: str, body: str) -> str | None:
    """STOP turns SMS off and suppresses the number; START turns it back on.

    The number is matched in E.164, as members' mobiles are stored, whatever form
    the gateway reports it in ("07911 123456", "447911123456", "+44 7911 123456").
    """
    word = "".join(body.split()).upper().rstrip(".!")
    if word not in STOP_WORDS | START_WORDS:
        return None
    number = e164(number)
    members = db.session.scalars(select(Member).where(Member.mobile == number)).all()
    if word in STOP_WORDS:
        suppression.suppress("sms", number, "stop")
        for member in members:
            member.sms_enabled = False
            _record(member, "sms_keyword", {"sms": False, "keyword": word})
        db.session.commit()
        return "stop"
    suppression.unsuppress("sms", number, reasons=["stop"])
    for member in members:
        member.sms_enabled = True
        _record(member, "sms_keyword", {"sms": True, "keyword": word})
    db.session.commit()
    return "start"


def e164(number: str) -> str:
    """A phone number in E.164 (UK numbers may come without their country code)."""
    raw = number.strip()
    if raw.isdigit() and raw.startswith("44"):
        raw = "+" + raw
    try:
        parsed = phonenumbers.parse(raw, "GB")
    except phonenumbers.NumberParseException:
        return raw
    if not phonenumbers.is_possible_number(parsed):
        return raw
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _record(member: Member, source: str, change: dict[str, Any]) -> None:
    db.session.add(
        ConsentRecord(
            member_id=member.id, source=source, wording_version=WORDING_VERSION, change=change
        )
    )
