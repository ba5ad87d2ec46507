"""What pressing Send will do, said exactly, and the checks made before it is done.

Nothing is sent from a single click: the check page leads here, this module states
"Send 150 emails and 120 text messages to 180 members of …", and only a second,
deliberate step with that statement in front of the organiser sends. The fingerprint
ties the confirmation to what was shown: if the bulletin changed in between (another
organiser edited it), the send is refused and the organiser checks again.

Times are entered and shown in UK time (`commsvc/uk_time.py`) and stored in naive
UTC, like every other time in the database.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

from commsvc.errors import Conflict, ValidationError
from commsvc.models import Bulletin
from commsvc.services.accounts.actors import Actor
from commsvc.services.bulletins import audience_preview, composing, lifecycle
from commsvc.uk_time import for_people

SENDABLE = ("draft", "approved")


@dataclass(frozen=True)
class SendPlan:
    """One send, as the confirmation page states it."""

    bulletin: Bulletin
    emails: int
    texts: int
    members: int
    scheduled_for: datetime | None  # naive UTC; None: now
    warnings: list[str] = field(default_factory=list)

    @property
    def needs_typed_count(self) -> bool:
        return self.members > self.bulletin.partnership.confirm_above

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.bulletin, self.scheduled_for)

    @property
    def what(self) -> str:
        """ "150 emails and 120 text messages"; a channel with nobody is left out."""
        parts = []
        if "email" in self.bulletin.channels:
            parts.append(_plural(self.emails, "email", "emails"))
        if "sms" in self.bulletin.channels:
            parts.append(_plural(self.texts, "text message", "text messages"))
        return " and ".join(parts)

    @property
    def sentence(self) -> str:
        whom = _plural(self.members, "member", "members")
        said = f"{self.what} to {whom} of {self.bulletin.partnership.name}"
        if self.scheduled_for is None:
            return f"Send {said} now"
        return f"Send {said} at {for_people(self.scheduled_for)}"


def plan(bulletin: Bulletin, scheduled_for: datetime | None) -> SendPlan:
    """Count, per channel, what fan-out would send now for this bulletin."""
    if bulletin.status not in SENDABLE:
        raise Conflict(f"This bulletin is {bulletin.status}; it cannot be sent from here.")
    if needs_approval(bulletin):
        raise ValidationError(
            f"{bulletin.partnership.name} asks for a second organiser to approve a bulletin "
            "before it is sent. Ask another organiser to approve it."
        )
    counted = audience_preview.audience_preview(
        bulletin.partnership_id, bulletin.audience, bulletin.topic_id, list(bulletin.channels)
    )
    return SendPlan(
        bulletin=bulletin,
        emails=counted.channels["email"].will_receive if "email" in counted.channels else 0,
        texts=counted.channels["sms"].will_receive if "sms" in counted.channels else 0,
        members=counted.reached,
        scheduled_for=scheduled_for,
        warnings=composing.warnings(bulletin) + counted.warnings,
    )


def needs_approval(bulletin: Bulletin) -> bool:
    return bulletin.partnership.requires_approval and not bulletin.approved_by


def send_confirmed(
    actor: Actor,
    bulletin: Bulletin,
    scheduled_for: datetime | None,
    shown: str,
    typed_count: str,
    acknowledged: set[str],
) -> SendPlan:
    """Send (or schedule) what the confirmation page showed, and nothing else."""
    if shown != fingerprint(bulletin, scheduled_for):
        raise Conflict("The bulletin changed after you checked it. Check it again before sending.")
    planned = plan(bulletin, scheduled_for)
    if planned.members == 0:
        raise ValidationError("Nobody in this audience would get the bulletin.")
    missing = [n for n in range(len(planned.warnings)) if str(n) not in acknowledged]
    if missing:
        raise ValidationError(
            "Confirm that you have read each warning.", field=f"acknowledge-{missing[0]}"
        )
    if planned.needs_typed_count and typed_count.strip().replace(",", "") != str(planned.members):
        raise ValidationError(
            f"Type the number of members ({planned.members:,}) to confirm.",
            field="typed_count",
        )
    lifecycle.send(actor, bulletin, scheduled_for)
    return planned


def fingerprint(bulletin: Bulletin, scheduled_for: datetime | None) -> str:
    """What the organiser saw: the words, the audience, the topic and the time."""
    seen = [
        bulletin.id,
        bulletin.status,
        bulletin.title,
        bulletin.topic_id,
        sorted(bulletin.channels),
        bulletin.subject,
        bulletin.email_body,
        bulletin.sms_body,
        bulletin.audience,
        scheduled_for.isoformat() if scheduled_for else None,
    ]
    return hashlib.sha256(json.dumps(seen, sort_keys=True).encode()).hexdigest()[:32]


def _plural(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"
