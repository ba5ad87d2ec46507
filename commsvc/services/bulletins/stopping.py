"""What taking back, cancelling or resuming a bulletin will do, said exactly first.

Whatever changes what reaches members asks before it acts: the bulletin page's buttons
only open a page built from `consequence()` ("The bulletin 'Pay offer' will not be sent
to 1,234 members at 9:00am (GMT) on Tuesday 3 December 2026. It goes back to draft;
you can schedule it again."), and `carry_out()` acts only when the bulletin is still
in the status that page described. Pausing stays one step: it is the brake, it sends
nothing and is undone by resuming.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select

from commsvc.errors import Conflict, NotFound
from commsvc.extensions import db
from commsvc.models import Bulletin, Delivery
from commsvc.services.accounts.actors import Actor
from commsvc.services.bulletins import audience_preview, lifecycle
from commsvc.statuses import BulletinStatus, DeliveryStatus
from commsvc.uk_time import for_people

ASKED_FIRST = ("unschedule", "cancel", "resume")
# Deliveries nothing has been handed over for yet: what a cancel stops, a resume sends.
WAITING = (DeliveryStatus.PENDING, DeliveryStatus.QUEUED, DeliveryStatus.TEMPORARY_FAILURE)
_DONE: dict[str, Callable[[Actor, Bulletin], None]] = {
    "unschedule": lifecycle.unschedule,
    "cancel": lifecycle.cancel,
    "resume": lifecycle.resume,
}


@dataclass(frozen=True)
class Consequence:
    """One action on one bulletin, as the confirmation page states it."""

    action: str
    status: str  # the bulletin's status the statement was made for
    heading: str
    sentences: tuple[str, ...]
    button: str


def consequence(bulletin: Bulletin, action: str) -> Consequence:
    """What `action` would do to this bulletin now, in numbers; NotFound when the
    action is not one that asks first, Conflict when the status does not allow it."""
    if action not in ASKED_FIRST:
        raise NotFound("There is no such action.")
    status = BulletinStatus(bulletin.status)
    title = f"The bulletin \u2018{bulletin.title}\u2019"
    members = ""
    if status == BulletinStatus.SCHEDULED:
        members = _scheduled_audience(bulletin)
    if action == "unschedule" and status == BulletinStatus.SCHEDULED:
        again = " It will need approving again." if bulletin.partnership.requires_approval else ""
        return Consequence(
            action,
            status,
            "Cancel the scheduled send?",
            (
                f"{title} will not be sent to {members} at {_when(bulletin)}.",
                "It goes back to draft; you can change it and schedule it again." + again,
            ),
            "Cancel the scheduled send",
        )
    if action == "cancel" and status == BulletinStatus.SCHEDULED:
        return Consequence(
            action,
            status,
            "Cancel this bulletin for good?",
            (
                f"{title} will not be sent to {members} at {_when(bulletin)}.",
                "It cannot be sent, changed or scheduled again. To change it and send it "
                "later, cancel only the scheduled send instead.",
            ),
            "Cancel the bulletin for good",
        )
    if action == "cancel" and status in (BulletinStatus.DRAFT, BulletinStatus.APPROVED):
        return Consequence(
            action,
            status,
            "Cancel this draft for good?",
            (
                f"{title} has not been sent to anyone and now never will be.",
                "It cannot be changed or sent again.",
            ),
            "Cancel the draft for good",
        )
    waiting, waiting_members = _waiting(bulletin.id)
    if action == "cancel" and status in (BulletinStatus.SENDING, BulletinStatus.PAUSED):
        return Consequence(
            action,
            status,
            "Stop sending this bulletin for good?",
            (
                f"{_plural(waiting, 'message')} to {_plural(waiting_members, 'member')} "
                f"not sent yet will not be sent.",
                f"{_plural(_handed_over(bulletin.id), 'message')} already handed over "
                "cannot be taken back. A cancelled bulletin cannot be resumed.",
            ),
            f"Do not send the remaining {_plural(waiting, 'message')}",
        )
    if action == "resume" and status == BulletinStatus.PAUSED:
        return Consequence(
            action,
            status,
            "Resume sending?",
            (
                f"{title} goes out again now: {_plural(waiting, 'message')} to "
                f"{_plural(waiting_members, 'member')} not sent yet will be sent.",
                "You can pause it again while it sends.",
            ),
            f"Resume: send {_plural(waiting, 'message')}",
        )
    raise Conflict(f"This bulletin is {bulletin.status}; that cannot be done now.")


def carry_out(actor: Actor, bulletin: Bulletin, action: str, status_seen: str) -> Consequence:
    """Do what the confirmation page said, only if the bulletin has not moved since."""
    stated = consequence(bulletin, action)
    if status_seen != stated.status:
        raise Conflict(
            f"The bulletin is now {bulletin.status}, not {status_seen or 'what you saw'}. "
            "Check what would happen again."
        )
    _DONE[action](actor, bulletin)
    return stated


def _scheduled_audience(bulletin: Bulletin) -> str:
    """ "6 members (4 emails and 4 text messages)", counted as the send would now."""
    counted = audience_preview.audience_preview(
        bulletin.partnership_id, bulletin.audience, bulletin.topic_id, list(bulletin.channels)
    )
    parts = []
    if "email" in counted.channels:
        parts.append(_plural(counted.channels["email"].will_receive, "email"))
    if "sms" in counted.channels:
        parts.append(_plural(counted.channels["sms"].will_receive, "text message"))
    messages = f" ({' and '.join(parts)})" if parts else ""
    return _plural(counted.reached, "member") + messages


def _when(bulletin: Bulletin) -> str:
    return for_people(bulletin.scheduled_for) if bulletin.scheduled_for else "the scheduled time"


def _waiting(bulletin_id: int) -> tuple[int, int]:
    """(messages, members) not handed over yet."""
    row = db.session.execute(
        select(func.count(), func.count(func.distinct(Delivery.member_id))).where(
            Delivery.bulletin_id == bulletin_id, Delivery.status.in_([str(s) for s in WAITING])
        )
    ).one()
    return int(row[0]), int(row[1])


def _handed_over(bulletin_id: int) -> int:
    return int(
        db.session.scalar(
            select(func.count()).where(
                Delivery.bulletin_id == bulletin_id,
                Delivery.status.in_(
                    [
                        str(DeliveryStatus.SENDING),
                        str(DeliveryStatus.SENT),
                        str(DeliveryStatus.DELIVERED),
                        str(DeliveryStatus.BOUNCED),
                    ]
                ),
            )
        )
        or 0
    )


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word if n == 1 else word + 's'}"
