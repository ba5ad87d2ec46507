"""Moving a bulletin through its lifecycle: approve, send, schedule, pause, resume, cancel.

Every move is checked against `statuses.BULLETIN_MOVES`, recorded with who and when,
and published to Redis so running batches notice a pause within a few messages.
Nothing else changes a bulletin's status.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from commsvc import queueing, tracking
from commsvc.errors import Forbidden, ValidationError
from commsvc.extensions import db
from commsvc.models import Bulletin, BulletinTransition, Delivery
from commsvc.models.base import utcnow
from commsvc.queueing import TaskNames
from commsvc.services.accounts import audit
from commsvc.services.accounts.actors import Actor, ensure_can_write
from commsvc.statuses import BulletinStatus, DeliveryStatus, check_bulletin_move, delivery_sources
from commsvc.uk_time import for_people


def move(bulletin: Bulletin, to: BulletinStatus, actor_label: str, note: str = "") -> None:
    """The one way a bulletin's status changes; the caller commits."""
    check_bulletin_move(bulletin.status, to)
    db.session.add(
        BulletinTransition(
            bulletin_id=bulletin.id,
            from_status=bulletin.status,
            to_status=str(to),
            actor=actor_label,
            note=note,
        )
    )
    bulletin.status = str(to)


def move_if(
    bulletin_id: int,
    from_status: BulletinStatus,
    to: BulletinStatus,
    actor_label: str,
    note: str = "",
) -> bool:
    """A conditional move for processes racing each other (two beats, two workers):
    exactly one of them wins; the others get False and do nothing."""
    check_bulletin_move(from_status, to)
    values: dict[str, object] = {"status": str(to)}
    if to == BulletinStatus.SENT:
        values["finished_at"] = utcnow()
    result = db.session.execute(
        update(Bulletin)
        .where(Bulletin.id == bulletin_id, Bulletin.status == from_status)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        db.session.rollback()
        return False
    db.session.add(
        BulletinTransition(
            bulletin_id=bulletin_id,
            from_status=str(from_status),
            to_status=str(to),
            actor=actor_label,
            note=note,
        )
    )
    db.session.commit()
    db.session.expire_all()
    tracking.set_state(bulletin_id, to)
    return True


def mark_sent(bulletin_id: int) -> bool:
    """sending -> sent, exactly once even when two workers finish the last batches together."""
    if not move_if(bulletin_id, BulletinStatus.SENDING, BulletinStatus.SENT, "system"):
        return False
    tracking.rebuild(bulletin_id)
    return True


def start_scheduled(bulletin_id: int, note: str) -> bool:
    """scheduled -> sending, by the beat sweep; safe with several sweeps running."""
    if not move_if(bulletin_id, BulletinStatus.SCHEDULED, BulletinStatus.SENDING, "schedule", note):
        return False
    bulletin = db.session.get(Bulletin, bulletin_id)
    if bulletin is not None:
        bulletin.started_at = bulletin.started_at or utcnow()
        db.session.commit()
    queueing.enqueue(TaskNames.FANOUT_BULLETIN, bulletin_id)
    return True


def approve(actor: Actor, bulletin: Bulletin) -> None:
    """draft -> approved. Where the partnership asks for two people, not by the author."""
    ensure_can_write(actor)
    if bulletin.partnership.requires_approval and actor.label == bulletin.created_by:
        raise Forbidden(
            "You wrote this bulletin; another organiser must approve it "
            f"({bulletin.partnership.name} asks for two people)."
        )
    move(bulletin, BulletinStatus.APPROVED, actor.label)
    bulletin.approved_by = actor.label
    audit.record(actor.label, "bulletin.approve", f"bulletin {bulletin.id}")
    db.session.commit()
    tracking.set_state(bulletin.id, bulletin.status)


def send(actor: Actor, bulletin: Bulletin, scheduled_for: datetime | None = None) -> None:
    """Send now, or schedule (a naive UTC time, in the future); a beat sweep picks
    schedules up from the database. A time that has passed is refused, never taken as
    "now": an organiser who typed last year's date did not mean to send at once."""
    ensure_can_write(actor)
    if scheduled_for is not None and scheduled_for <= utcnow():
        raise ValidationError(
            f"The time to send ({scheduled_for:%Y-%m-%d %H:%M} UTC) has passed. "
            "Choose a time in the future, or send now.",
            field="scheduled_for",
        )
    if bulletin.partnership.requires_approval and not bulletin.approved_by:
        raise ValidationError(
            "This partnership needs a second organiser to approve bulletins before they are sent."
        )
    if scheduled_for is not None:
        move(
            bulletin,
            BulletinStatus.SCHEDULED,
            actor.label,
            f"for {for_people(scheduled_for)}",  # the history organisers read: UK time
        )
        bulletin.scheduled_for = scheduled_for
        audit.record(
            actor.label,
            "bulletin.schedule",
            f"bulletin {bulletin.id}",
            scheduled_for=scheduled_for.isoformat() + "Z",
        )
        db.session.commit()
        tracking.set_state(bulletin.id, bulletin.status)
        return
    audit.record(actor.label, "bulletin.send", f"bulletin {bulletin.id}")
    start_sending(bulletin, actor.label)


def start_sending(bulletin: Bulletin, actor_label: str, note: str = "") -> None:
    move(bulletin, BulletinStatus.SENDING, actor_label, note)
    bulletin.started_at = bulletin.started_at or utcnow()
    db.session.commit()
    tracking.set_state(bulletin.id, bulletin.status)
    queueing.enqueue(TaskNames.FANOUT_BULLETIN, bulletin.id)


def unschedule(actor: Actor, bulletin: Bulletin) -> None:
    """scheduled -> draft: take a schedule back to change it (approval is needed again)."""
    ensure_can_write(actor)
    move(bulletin, BulletinStatus.DRAFT, actor.label, "schedule taken back")
    audit.record(actor.label, "bulletin.unschedule", f"bulletin {bulletin.id}")
    bulletin.scheduled_for = None
    bulletin.approved_by = None
    db.session.commit()
    tracking.set_state(bulletin.id, bulletin.status)


def history(bulletin_id: int) -> list[BulletinTransition]:
    """Every move of a bulletin, oldest first: who, when, and any note (e.g. late)."""
    return list(
        db.session.scalars(
            select(BulletinTransition)
            .where(BulletinTransition.bulletin_id == bulletin_id)
            .order_by(BulletinTransition.id)
        )
    )


def pause(actor: Actor, bulletin: Bulletin) -> None:
    ensure_can_write(actor)
    move(bulletin, BulletinStatus.PAUSED, actor.label)
    audit.record(actor.label, "bulletin.pause", f"bulletin {bulletin.id}")
    db.session.commit()
    tracking.set_state(bulletin.id, bulletin.status)


def resume(actor: Actor, bulletin: Bulletin) -> None:
    """Carry on: fan-out is idempotent and queues only deliveries not yet sent."""
    ensure_can_write(actor)
    audit.record(actor.label, "bulletin.resume", f"bulletin {bulletin.id}")
    start_sending(bulletin, actor.label, note="resumed")


def cancel(actor: Actor, bulletin: Bulletin) -> None:
    """Stop, and mark every delivery that was still waiting as skipped."""
    ensure_can_write(actor)
    move(bulletin, BulletinStatus.CANCELLED, actor.label)
    audit.record(actor.label, "bulletin.cancel", f"bulletin {bulletin.id}")
    _skip_waiting(bulletin.id)  # queued and temporary failures; a batch in flight
    # skips what it gives back itself (workers/sending.py)
    bulletin.finished_at = utcnow()
    db.session.commit()
    tracking.set_state(bulletin.id, bulletin.status)
    tracking.rebuild(bulletin.id)


def skip_cancelled_leftovers() -> int:
    """Skip what cancelled bulletins still hold: the beat sweep's safety net.

    A batch mid-send when a cancel lands releases its unsent deliveries to `queued`,
    and the message in flight may end `temporary_failure`, a moment later; the batch
    skips them itself, and this catches what a killed worker left behind, including
    rows it held in `sending` past the stuck timeout.
    """
    stuck_before = _stuck_before()
    bulletin_ids = db.session.scalars(
        select(Delivery.bulletin_id)
        .join(Bulletin, Bulletin.id == Delivery.bulletin_id)
        .where(Bulletin.status == BulletinStatus.CANCELLED, _leftover(stuck_before))
        .distinct()
    ).all()
    for bulletin_id in bulletin_ids:
        _skip_waiting(bulletin_id, stuck_before)
        db.session.commit()
        tracking.rebuild(bulletin_id)
    return len(bulletin_ids)


def skip_cancelled_leftovers_of(bulletin_id: int) -> None:
    """A batch of a cancelled bulletin ends: skip what waits, or would retry, for ever."""
    _skip_waiting(bulletin_id)
    db.session.commit()
    tracking.rebuild(bulletin_id)


def _stuck_before() -> datetime:
    return utcnow() - timedelta(seconds=current_app.config["COMMSVC_STUCK_AFTER_SECONDS"])


def _leftover(stuck_before: datetime | None = None) -> ColumnElement[bool]:
    """Deliveries of a cancelled bulletin with nothing ahead of them but waiting: queued,
    a temporary failure, or (given a cut-off) `sending` under a claim nobody renewed."""
    waiting = Delivery.status.in_(
        [DeliveryStatus.PENDING, DeliveryStatus.QUEUED, DeliveryStatus.TEMPORARY_FAILURE]
    )
    if stuck_before is None:
        return waiting
    stale = and_(Delivery.status == DeliveryStatus.SENDING, Delivery.claimed_at < stuck_before)
    return or_(waiting, stale)


def _skip_waiting(bulletin_id: int, stuck_before: datetime | None = None) -> None:
    db.session.execute(
        update(Delivery)
        .where(
            Delivery.bulletin_id == bulletin_id,
            _leftover(stuck_before),
            Delivery.status.in_(delivery_sources(DeliveryStatus.SKIPPED)),
        )
        .values(
            status=DeliveryStatus.SKIPPED,
            retry_at=None,
            last_error="bulletin cancelled",
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
