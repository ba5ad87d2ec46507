"""Delivery receipts from gateways: forward-only, idempotent status moves.

A receipt for an unknown id changes nothing; a replayed or late receipt cannot move
a delivery backwards (a late "sent" never overwrites "delivered").
"""

from __future__ import annotations

from sqlalchemy import or_, select, update

from commsvc import tracking
from commsvc.extensions import db
from commsvc.models import Delivery, DeliveryAttempt
from commsvc.models.base import utcnow
from commsvc.statuses import DeliveryStatus, delivery_sources

RECEIPT_STATUSES = {
    "delivered": DeliveryStatus.DELIVERED,
    "failed": DeliveryStatus.PERMANENT_FAILURE,
}


def apply_sms_receipt(
    provider_id: str | None, reference: str | None, status: str, error: str | None
) -> bool:
    """Apply a status callback; True if a delivery moved."""
    target = RECEIPT_STATUSES.get(status)
    if target is None:
        return False
    conditions = []
    if provider_id:
        conditions.append(Delivery.provider_id == provider_id)
    if reference and reference.isdigit():
        conditions.append(Delivery.id == int(reference))
    if not conditions:
        return False
    delivery = db.session.scalar(
        select(Delivery).where(Delivery.channel == "sms", or_(*conditions)).limit(1)
    )
    if delivery is None or delivery.status not in delivery_sources(target):
        return False
    now = utcnow()
    values: dict[str, object] = {"status": target, "updated_at": now}
    if target == DeliveryStatus.DELIVERED:
        values["delivered_at"] = now
    else:
        values["last_error"] = (error or "the gateway reported a failure")[:500]
    moved = db.session.execute(
        update(Delivery)
        .where(Delivery.id == delivery.id, Delivery.status == delivery.status)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if moved:
        db.session.add(
            DeliveryAttempt(
                delivery_id=delivery.id,
                outcome=str(target),
                provider=delivery.provider,
                reason=error,
            )
        )
    db.session.commit()
    if moved:
        tracking.record_moves(delivery.bulletin_id, [(delivery.status, target)])
    return bool(moved)
