"""Periodic repairs run by beat: start due schedules, re-queue stuck deliveries.

The quick repairs, a lost fan-out and a dead worker's claims (about a minute), are
in `recovery`; this sweep runs them first.

These make the database the truth: a schedule lives in a column, not in a broker
ETA, and a delivery stranded by a killed worker or a restarted Redis is found by
its status and age and queued again. Both are safe to run twice at once: starting
a bulletin is a conditional status move, and sending starts with a claim.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update

from commsvc import queueing, tracking
from commsvc.extensions import db
from commsvc.models import Bulletin, Delivery
from commsvc.models.base import utcnow
from commsvc.services.bulletins import lifecycle
from commsvc.services.delivery import claims, fanout, lock_waits, recovery
from commsvc.statuses import BulletinStatus, DeliveryStatus

LATE_AFTER = timedelta(minutes=2)


def start_due_bulletins() -> int:
    """Start every scheduled bulletin whose time has come (late ones too, noted as late),
    and finish off cancelled ones (deliveries released after the cancel become skipped).
    A row held by a frozen worker delays none of it (see `lock_waits`)."""
    with lock_waits.bounded():
        with lock_waits.skipped_if_locked("finishing cancelled bulletins"):
            lifecycle.skip_cancelled_leftovers()
        now = utcnow()
        started = 0
        due = db.session.execute(
            select(Bulletin.id, Bulletin.scheduled_for).where(
                Bulletin.status == BulletinStatus.SCHEDULED, Bulletin.scheduled_for <= now
            )
        ).all()
        for bulletin_id, scheduled_for in due:
            late = now - (scheduled_for or now)
            note = (
                f"started {int(late.total_seconds() // 60)} minutes late"
                if late > LATE_AFTER
                else "started on schedule"
            )
            with lock_waits.skipped_if_locked(f"starting bulletin {bulletin_id}"):
                if lifecycle.start_scheduled(bulletin_id, note):
                    started += 1
        return started


def requeue_stuck() -> int:
    """Queue again what was left in `sending`, `queued` or a due retry past the timeout,
    a lost fan-out, and what a dead worker held (see `recovery`). A bulletin whose rows
    a frozen worker holds is left for the next sweep; the others go on (`lock_waits`)."""
    with lock_waits.bounded():
        requeued = len(recovery.requeue_lost_fanouts())
        taken_back = recovery.take_back_dead_claims()
        cutoff = utcnow() - timedelta(seconds=current_app.config["COMMSVC_STUCK_AFTER_SECONDS"])
        sending_ids = db.session.scalars(
            select(Bulletin.id).where(Bulletin.status == BulletinStatus.SENDING)
        ).all()
        # Rows queued long ago are lost only if no batch waits for them in the broker: a
        # national send held to a provider's rate outlasts the timeout with its batches all
        # still in line, and queueing them all again would only double the line.
        backlogged = [c for c, q in queueing.QUEUE_FOR_CHANNEL.items() if queueing.backlog(q)]
        for bulletin_id in sending_ids:
            with lock_waits.skipped_if_locked(f"re-queueing bulletin {bulletin_id}"):
                requeued += _requeue(bulletin_id, cutoff, backlogged, bulletin_id in taken_back)
        return requeued


def _requeue(bulletin_id: int, cutoff: datetime, backlogged: list[str], taken_back: bool) -> int:
    """One sending bulletin's part of `requeue_stuck`; how many batches it queued."""
    # In `sending` past the timeout: the worker died before recording an outcome.
    # Acceptance is committed the moment a gateway accepts, so these were not sent.
    result = db.session.execute(
        update(Delivery)
        .where(
            Delivery.bulletin_id == bulletin_id,
            Delivery.status == DeliveryStatus.SENDING,
            Delivery.claimed_at < cutoff,
        )
        .values(status=DeliveryStatus.QUEUED, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    stale = db.session.scalar(
        select(Delivery.id)
        .where(
            Delivery.bulletin_id == bulletin_id,
            or_(
                and_(
                    Delivery.status == DeliveryStatus.QUEUED,
                    Delivery.updated_at < cutoff,
                    Delivery.channel.not_in(backlogged),
                ),
                and_(
                    Delivery.status == DeliveryStatus.TEMPORARY_FAILURE,
                    Delivery.retry_at < cutoff,
                ),
            ),
        )
        .limit(1)
    )
    bulletin = db.session.get(Bulletin, bulletin_id)
    requeued = 0
    if result.rowcount or stale is not None or taken_back:  # type: ignore[attr-defined]
        assert bulletin is not None
        _touch_queued(bulletin_id)
        requeued += fanout.enqueue_queued(bulletin_id, bulletin.channels)
        requeued += fanout.enqueue_retries(bulletin_id, bulletin.channels, cutoff)
    tracking.rebuild(bulletin_id)
    claims.finish_if_done(bulletin_id)
    return requeued


def _touch_queued(bulletin_id: int) -> None:
    """Restart the clock on re-queued deliveries so the next sweep does not queue them again."""
    db.session.execute(
        update(Delivery)
        .where(Delivery.bulletin_id == bulletin_id, Delivery.status == DeliveryStatus.QUEUED)
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
