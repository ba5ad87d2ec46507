"""Bulletin and delivery statuses, and the moves allowed between them.

This is the only place that says which status may follow which. Code that changes
a status either calls `check_*_move` for one object, or uses `delivery_sources(to)`
in a conditional UPDATE (`WHERE status IN (...)`), so a late or repeated event can
never move a delivery backwards.
"""

from __future__ import annotations

from enum import StrEnum

from commsvc.errors import IllegalMove


class BulletinStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    PAUSED = "paused"
    SENT = "sent"
    CANCELLED = "cancelled"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    TEMPORARY_FAILURE = "temporary_failure"
    PERMANENT_FAILURE = "permanent_failure"
    BOUNCED = "bounced"
    SUPPRESSED = "suppressed"
    SKIPPED = "skipped"


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


B = BulletinStatus
BULLETIN_MOVES: dict[BulletinStatus, frozenset[BulletinStatus]] = {
    B.DRAFT: frozenset({B.APPROVED, B.SCHEDULED, B.SENDING, B.CANCELLED}),
    B.APPROVED: frozenset({B.DRAFT, B.SCHEDULED, B.SENDING, B.CANCELLED}),
    B.SCHEDULED: frozenset({B.DRAFT, B.SENDING, B.CANCELLED}),
    B.SENDING: frozenset({B.PAUSED, B.SENT, B.CANCELLED}),
    B.PAUSED: frozenset({B.SENDING, B.CANCELLED}),
    B.SENT: frozenset(),
    B.CANCELLED: frozenset(),
}

D = DeliveryStatus
DELIVERY_MOVES: dict[DeliveryStatus, frozenset[DeliveryStatus]] = {
    D.PENDING: frozenset({D.QUEUED, D.SKIPPED, D.SUPPRESSED}),
    D.QUEUED: frozenset({D.SENDING, D.SKIPPED, D.SUPPRESSED}),
    D.SENDING: frozenset(
        {D.SENT, D.TEMPORARY_FAILURE, D.PERMANENT_FAILURE, D.QUEUED, D.SUPPRESSED, D.SKIPPED}
    ),
    # A temporary failure is claimed again for its retry, or given up on.
    D.TEMPORARY_FAILURE: frozenset({D.SENDING, D.SKIPPED, D.PERMANENT_FAILURE}),
    # Receipts move forward only: a late "sent" never overwrites "delivered".
    D.SENT: frozenset({D.DELIVERED, D.PERMANENT_FAILURE, D.BOUNCED}),
    D.DELIVERED: frozenset({D.BOUNCED}),
    D.PERMANENT_FAILURE: frozenset(),
    D.BOUNCED: frozenset(),
    D.SUPPRESSED: frozenset(),
    D.SKIPPED: frozenset(),
}

# Deliveries in these statuses still have work ahead of them.
UNFINISHED_DELIVERY = frozenset({D.PENDING, D.QUEUED, D.SENDING})
# A bulletin in these statuses may have deliveries claimed and sent.
BULLETIN_SENDABLE = frozenset({B.SENDING})


def check_bulletin_move(current: str, to: BulletinStatus) -> None:
    if to not in BULLETIN_MOVES[BulletinStatus(current)]:
        raise IllegalMove(f"A bulletin that is {current} cannot become {to}.")


def check_delivery_move(current: str, to: DeliveryStatus) -> None:
    if to not in DELIVERY_MOVES[DeliveryStatus(current)]:
        raise IllegalMove(f"A delivery that is {current} cannot become {to}.")


def delivery_sources(to: DeliveryStatus) -> list[str]:
    """The statuses a delivery may be in for a move to `to`, for a conditional UPDATE."""
    return [str(s) for s, targets in DELIVERY_MOVES.items() if to in targets]
