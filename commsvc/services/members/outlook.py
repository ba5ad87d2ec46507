"""What a member will get: per topic, the channels a bulletin would reach them on.

The preference page shows this, so it must be what sending does: each answer comes
from `audience.decide`, the very function fan-out calls, with the member's stored
choices and the suppression list. Nothing here decides on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from commsvc.extensions import db
from commsvc.models import Member, Topic
from commsvc.services.bulletins import audience
from commsvc.services.members import suppression
from commsvc.statuses import DeliveryStatus


@dataclass(frozen=True)
class TopicOutlook:
    id: int
    name: str
    kind: str
    subscribed: bool
    channels: tuple[str, ...]  # where a bulletin on this topic would reach the member
    name_cy: str = ""

    def name_in(self, language: str) -> str:
        return self.name_cy if language == "cy" and self.name_cy else self.name


@dataclass(frozen=True)
class Outlook:
    topics: list[TopicOutlook]
    blocked: tuple[str, ...]  # channels whose address is on the suppression list

    @property
    def campaign(self) -> list[TopicOutlook]:
        return [t for t in self.topics if t.kind != audience.SERVICE]

    @property
    def service(self) -> list[TopicOutlook]:
        return [t for t in self.topics if t.kind == audience.SERVICE]

    @property
    def service_channels(self) -> tuple[str, ...]:
        """Service topics all follow one rule, so they share their channels."""
        return self.service[0].channels if self.service else ()

    def service_names(self, language: str) -> list[str]:
        return [t.name_in(language) for t in self.service]

    @property
    def gets_campaigns(self) -> bool:
        return any(t.channels for t in self.campaign)

    @property
    def gets_anything(self) -> bool:
        return any(t.channels for t in self.topics)


def member_outlook(member: Member) -> Outlook:
    """Every topic with where this member would get it, decided as sending decides."""
    explicit = {p.topic_id: p.subscribed for p in member.topic_preferences}
    topics = db.session.scalars(select(Topic).order_by(Topic.kind.desc(), Topic.name)).all()
    blocked = tuple(
        c
        for c in audience.CHANNELS
        if (address := _address(member, c)) and suppression.is_suppressed(c, address)
    )
    found = []
    for topic in topics:
        subscribed = explicit.get(topic.id, member.all_topics)
        as_sent = audience.AudienceMember(
            id=member.id,
            public_id=member.public_id,
            email=member.email,
            mobile=member.mobile,
            email_enabled=member.email_enabled,
            sms_enabled=member.sms_enabled,
            opted_out=member.opted_out,
            subscribed=subscribed,
        )
        channels = tuple(
            c
            for c in audience.CHANNELS
            if audience.address_for(as_sent, c)
            and audience.decide(as_sent, c, topic.kind, c in blocked) == DeliveryStatus.QUEUED
        )
        found.append(
            TopicOutlook(topic.id, topic.name, topic.kind, subscribed, channels, topic.name_cy)
        )
    return Outlook(found, blocked)


def masked_email(address: str | None) -> str:
    """Enough of an address for its owner to recognise it, not enough to harvest it."""
    if not address or "@" not in address:
        return ""
    local, domain = address.rsplit("@", 1)
    return f"{local[0]}{'•' * 3}@{domain}"


def masked_mobile(number: str | None) -> str:
    if not number:
        return ""
    return f"{'•' * 4} {number[-3:]}"


def _address(member: Member, channel: str) -> str | None:
    return member.email if channel == "email" else member.mobile
