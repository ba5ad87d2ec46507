"""Delivery receipts and email events from gateways: forward-only, idempotent status moves.

A receipt for an unknown id changes nothing; a replayed or late receipt cannot move
a delivery backwards (a late "sent" never overwrites "delivered"). The words of each
provider (Twilio's "undelivered", Vonage's "rejected", …) are mapped here to
commsvc's statuses; words that say "still on its way" change nothing.
A hard bounce or a complaint also puts the address on the suppression list.
"""

from __future__ import annotations

import time

from sqlalchemy import or_, select, update

from commsvc import tracking
from commsvc.extensions import db
from commsvc.models import Delivery, DeliveryAttempt, Member
from commsvc.models.base import utcnow
from commsvc.services.members import suppression
from commsvc.statuses import DeliveryStatus, delivery_sources

RECEIPT_STATUSES = {
    "delivered": DeliveryStatus.DELIVERED,
    "failed": DeliveryStatus.PERMANENT_FAILURE,
    # Twilio
    "undelivered": DeliveryStatus.PERMANENT_FAILURE,
    # Vonage
    "rejected": DeliveryStatus.PERMANENT_FAILURE,
    "expired": DeliveryStatus.PERMANENT_FAILURE,
}
EMAIL_EVENTS = ("bounce", "complaint", "delivered")
EARLY_RECEIPT_WAIT_SECONDS = 3.0


def apply_sms_receipt(
    provider_id: str | None, reference: str | None, status: str, error: str | None
) -> bool:
    """Apply a status callback; True if a delivery moved."""
    target = RECEIPT_STATUSES.get(status.strip().lower())
    delivery = _find("sms", provider_id, reference)
    if target is None or delivery is None:
        return False
    return _move(delivery, target, error or "the gateway reported a failure")


def apply_email_event(
    provider_id: str | None, reference: str | None, event: str, hard: bool, reason: str | None
) -> bool:
    """Apply a bounce, complaint or delivery report; True if anything changed.

    A hard bounce moves the delivery to `bounced`; a hard bounce or a complaint adds
    the address to the suppression list (a complaint leaves the status: the member
    did receive it). A soft bounce changes nothing: the mail server retries itself.
    """
    delivery = _find("email", provider_id, reference)
    if delivery is None or event not in EMAIL_EVENTS:
        return False
    if event == "delivered":
        return _move(delivery, DeliveryStatus.DELIVERED, None)
    if event == "bounce" and not hard:
        return False
    address = db.session.scalar(select(Member.email).where(Member.id == delivery.member_id))
    newly_suppressed = bool(address) and not suppression.is_suppressed("email", str(address))
    if newly_suppressed:
        suppression.suppress("email", str(address), "hard_bounce" if event == "bounce" else event)
        db.session.commit()
    if event == "bounce":
        moved = _move(delivery, DeliveryStatus.BOUNCED, reason or "hard bounce")
        return moved or newly_suppressed
    if newly_suppressed:
        db.session.add(
            DeliveryAttempt(
                delivery_id=delivery.id,
                outcome="complaint",
                provider=delivery.provider,
                reason=(reason or "the member marked it as spam")[:500],
            )
        )
        db.session.commit()
    return newly_suppressed


def _wait_while_sending(delivery: Delivery) -> None:
    """A fast provider's receipt can arrive before the worker has committed the
    acceptance it answers (a few milliseconds): wait for it, a bounded while."""
    deadline = time.monotonic() + EARLY_RECEIPT_WAIT_SECONDS
    while delivery.status == DeliveryStatus.SENDING and time.monotonic() < deadline:
        time.sleep(0.05)
        db.session.commit()  # end the read transaction, to see the worker's commit
        db.session.refresh(delivery)


def _find(channel: str, provider_id: str | None, reference: str | None) -> Delivery | None:
    conditions = []
    if provider_id:
        conditions.append(Delivery.provider_id == provider_id)
    # isdigit() alone takes '²' (which int() refuses) and numbers no id column holds.
    if reference and reference.isascii() and reference.isdigit() and len(reference) <= 9:
        conditions.append(Delivery.id == int(reference))
    if not conditions:
        return None
    return db.session.scalar(
        select(Delivery).where(Delivery.channel == channel, or_(*conditions)).limit(1)
    )


def _move(delivery: Delivery, target: DeliveryStatus, error: str | None) -> bool:
    """Move forward if allowed, conditionally on the status just read; record the event."""
    _wait_while_sending(delivery)
    if delivery.status not in delivery_sources(target):
        return False
    now = utcnow()
    values: dict[str, object] = {"status": target, "updated_at": now}
    if target == DeliveryStatus.DELIVERED:
        values["delivered_at"] = now
    else:
        values["last_error"] = (error or "")[:500]
    source = delivery.status
    moved = db.session.execute(
        update(Delivery)
        .where(Delivery.id == delivery.id, Delivery.status == source)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if moved:
        db.session.add(
            DeliveryAttempt(
                delivery_id=delivery.id,
                outcome=str(target),
                provider=delivery.provider,
                reason=error[:500] if error else None,
            )
        )
    db.session.commit()
    if moved:
        tracking.record_moves(delivery.bulletin_id, [(source, target)])
    return bool(moved)
