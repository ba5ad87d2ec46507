"""The numbers an organiser sees before sending: who gets it, on which channel, and
who is left out by their own choice (skipped) or by the suppression list.

The choice counts are one aggregate query. Suppressions are stored as hashes that
SQL cannot compute on every database, so only the addresses that would be sent to
are streamed in keyset pages and checked against the list a page at a time:
memory stays bounded whatever the audience size. The rules are `audience.decide`'s.
The same pages count the mobile numbers that cannot receive texts (`members.mobiles`,
the rule the send path applies), so an organiser hears of them before sending.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, case, func, not_, or_, select
from sqlalchemy.sql.elements import ColumnElement

from commsvc.extensions import db
from commsvc.models import Member, Topic, TopicPreference
from commsvc.services.bulletins import audience
from commsvc.services.members import mobiles, suppression


@dataclass
class ChannelCounts:
    will_receive: int = 0
    skipped: int = 0
    suppressed: int = 0
    no_address: int = 0
    unusable: int = 0  # a mobile that cannot receive texts (a landline): never sent


@dataclass
class AudiencePreview:
    audience_size: int = 0
    reached: int = 0  # members who get it on at least one channel
    channels: dict[str, ChannelCounts] = field(default_factory=dict)

    @property
    def skipped(self) -> int:
        return sum(c.skipped for c in self.channels.values())

    @property
    def suppressed(self) -> int:
        return sum(c.suppressed for c in self.channels.values())

    @property
    def unusable_mobiles(self) -> int:
        texts = self.channels.get("sms")
        return texts.unusable if texts else 0

    @property
    def warnings(self) -> list[str]:
        """What an organiser must see before sending, as the confirmation states it."""
        n = self.unusable_mobiles
        if not n:
            return []
        who = "1 member has" if n == 1 else f"{n:,} members have"
        them = "their number" if n == 1 else "their numbers"
        return [
            f"{who} a mobile number that cannot receive texts (a landline, say): "
            f"no text will go to {'it' if n == 1 else 'them'}. Correct {them} with a "
            "member import (the import report names each one)."
        ]

    def as_json(self) -> dict[str, Any]:
        return {
            "audience_size": self.audience_size,
            "reached": self.reached,
            "not_reached": self.audience_size - self.reached,
            # Only a text can go to a number that cannot take it: email has no `unusable`.
            "channels": {
                name: {k: v for k, v in vars(c).items() if k != "unusable" or name == "sms"}
                for name, c in self.channels.items()
            },
            "excluded": {"skipped": self.skipped, "suppressed": self.suppressed},
            "unusable_mobiles": self.unusable_mobiles,
        }


def audience_preview(
    partnership_id: int, filters: dict[str, list[str]], topic_id: int, channels: list[str]
) -> AudiencePreview:
    """Count what fan-out would decide for this audience, topic and channels."""
    topic = db.session.get(Topic, topic_id)
    kind = topic.kind if topic is not None else ""
    wants = {c: audience.wants_sql(c, kind) for c in channels}
    columns: list[Any] = [func.count()]
    for channel in channels:
        columns += [
            _count(wants[channel]),
            _count(and_(audience.has_address_sql(channel), not_(wants[channel]))),
            _count(not_(audience.has_address_sql(channel))),
        ]
    totals = db.session.execute(
        _audience(select(*columns), partnership_id, filters, topic_id)
    ).one()
    preview = AudiencePreview(audience_size=int(totals[0]))
    for n, channel in enumerate(channels):
        wanting, skipped, no_address = (int(v or 0) for v in totals[1 + 3 * n : 4 + 3 * n])
        preview.channels[channel] = ChannelCounts(
            will_receive=wanting, skipped=skipped, no_address=no_address
        )
    if wants:
        addresses = [
            case((want, audience.address_column(c)), else_=None) for c, want in wants.items()
        ]
        query = _audience(select(Member.id, *addresses), partnership_id, filters, topic_id)
        _count_blocked(preview, query.where(or_(*wants.values())), list(wants))
    return preview


def _count_blocked(preview: AudiencePreview, query: Any, channels: list[str]) -> None:
    """Page through the members who would be sent to; check their addresses in bulk
    against the suppression list, and each mobile against the rule for texts."""
    query = query.order_by(Member.id)
    last_id = 0
    while True:
        rows = db.session.execute(
            query.where(Member.id > last_id).limit(audience.STREAM_CHUNK)
        ).all()
        if not rows:
            return
        blocked = {
            channel: suppression.suppressed_among(channel, [r[n] for r in rows if r[n]])
            for n, channel in enumerate(channels, start=1)
        }
        for row in rows:
            reached = False
            for n, channel in enumerate(channels, start=1):
                if not row[n]:
                    continue
                if row[n] in blocked[channel]:
                    preview.channels[channel].suppressed += 1
                    preview.channels[channel].will_receive -= 1
                elif channel == "sms" and not mobiles.is_usable_mobile(row[n]):
                    preview.channels[channel].unusable += 1
                    preview.channels[channel].will_receive -= 1
                else:
                    reached = True
            preview.reached += reached
        last_id = rows[-1][0]


def _audience(query: Any, partnership_id: int, filters: dict[str, list[str]], topic_id: int) -> Any:
    return (
        query.select_from(Member)
        .outerjoin(TopicPreference, audience.topic_choice(topic_id))
        .where(audience.audience_condition(partnership_id, filters))
    )


def _count(condition: ColumnElement[bool]) -> Any:
    return func.sum(case((condition, 1), else_=0))
