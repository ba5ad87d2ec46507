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
from sqlalchemy.sql.elements import ColumnElement

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
MAX_ID_MATCHES = 10  # deliveries sharing one provider id: only a reference can choose
MAX_REFERENCE_DIGITS = 9  # any longer is no id an INTEGER column holds


def apply_sms_receipt(
    provider_id: str | None,
    reference: str | None,
    status: str,
    error: str | None,
    provider_kind: str | None = None,
) -> bool:
    """Apply a status callback; True if a delivery moved.

    `provider_kind` (twilio, vonage, sms_generic) is the provider whose callback this
    is, when the endpoint knows it: its ids are only matched on its own deliveries."""
    target = RECEIPT_STATUSES.get(status.strip().lower())
    if target is None:
        return False
    delivery = _find("sms", provider_kind, provider_id, reference)
    if delivery is None:
        return False
    if target == DeliveryStatus.DELIVERED:
        return _move(delivery, target, None)  # a success carries no failure reason
    return _move(delivery, target, error or "the gateway reported a failure")


def apply_email_event(
    provider_id: str | None,
    reference: str | None,
    event: str,
    hard: bool,
    reason: str | None,
    provider_kind: str | None = None,
) -> bool:
    """Apply a bounce, complaint or delivery report; True if anything changed.

    A hard bounce moves the delivery to `bounced`; a hard bounce or a complaint adds
    the address to the suppression list (a complaint leaves the status: the member
    did receive it). A soft bounce changes nothing: the mail server retries itself.
    """
    delivery = _find("email", provider_kind, provider_id, reference)
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


def _find(
    channel: str, provider_kind: str | None, provider_id: str | None, reference: str | None
) -> Delivery | None:
    """The one delivery a receipt is about, or None when that is not certain.

    The provider's own id comes first, among that provider's deliveries on that
    channel (ids are unique per provider, not across them); when two deliveries carry
    it, the reference must say which. The reference alone (our delivery id, echoed
    back) is a checked fallback: the delivery must be on that channel and must not
    carry another provider or another provider id.
    """
    reference_id = _delivery_id(reference)
    if provider_id:
        query = select(Delivery).where(
            Delivery.channel == channel, Delivery.provider_id == provider_id
        )
        if provider_kind:
            query = query.where(_of_kind(provider_kind))
        matches = list(db.session.scalars(query.order_by(Delivery.id).limit(MAX_ID_MATCHES)))
        if len(matches) > 1:
            matches = [d for d in matches if d.id == reference_id]
        if len(matches) == 1:
            return matches[0]
        if matches or reference_id is None:
            return None
    if reference_id is None:
        return None
    delivery = db.session.get(Delivery, reference_id)
    if delivery is None or delivery.channel != channel:
        return None
    if provider_id and delivery.provider_id not in (None, provider_id):
        return None
    if provider_kind and delivery.provider and not _is_kind(delivery.provider, provider_kind):
        return None
    return delivery


def _delivery_id(reference: str | None) -> int | None:
    """Our delivery id in a receipt's reference; None for anything that is not one
    (isdigit() alone takes '²', which int() refuses)."""
    text = (reference or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > MAX_REFERENCE_DIGITS:
        return None
    return int(text)


def _of_kind(kind: str) -> ColumnElement[bool]:
    """Deliveries recorded by a provider of this kind ("twilio", or "twilio-2" when the
    configuration names several twilio accounts), or by none (rows from before
    providers were recorded)."""
    return or_(
        Delivery.provider.is_(None),
        Delivery.provider == kind,
        Delivery.provider.like(f"{kind}-%"),
    )


def _is_kind(provider: str, kind: str) -> bool:
    return provider == kind or provider.startswith(f"{kind}-")


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
