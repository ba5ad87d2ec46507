"""Beat's quick repairs: a fan-out whose task was lost, the claims of a dead worker.

The stuck sweep (sweeps.requeue_stuck) waits COMMSVC_STUCK_AFTER_SECONDS (ten minutes)
before it takes anything back, because it cannot tell a slow worker from a dead one.
These two can, so a bulletin recovers in about a minute:

- A `sending` bulletin that has not fanned out (`fanned_out_at` NULL) and whose fan-out
  has written nothing for COMMSVC_FANOUT_LOST_AFTER_SECONDS lost its task (Redis was
  flushed or restarted before a worker took it). Its fan-out is queued again: fan-out
  is idempotent (the unique (bulletin, member, channel) row), so a fan-out that was only
  slow to start costs a second run that finds nothing new to do. A short-lived Redis
  key keeps the sweep from queueing it again every time it runs; losing Redis loses the
  key too, which is the case it is for.
- A delivery `sending` under a claim whose worker's heartbeat has stopped for
  COMMSVC_WORKER_DEAD_AFTER_SECONDS, and whose claim is that old too (a live worker
  renews it well within that), is taken back to `queued` and queued again. The claim's
  token fences it: the old worker, if it comes back, neither sends nor records it
  (claims.renew_claim, claims.record_accepted_on). The message that was in flight when
  the worker died may go twice, as promised; nothing else.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update

from commsvc import liveness, queueing, redis_store
from commsvc.extensions import db
from commsvc.models import Bulletin, BulletinTransition, Delivery
from commsvc.models.base import utcnow
from commsvc.queueing import TaskNames
from commsvc.services.delivery import lock_waits
from commsvc.statuses import BulletinStatus, DeliveryStatus

FANOUT_REQUEUED_KEY = "commsvc:fanout:requeued:{bulletin_id}"


def requeue_lost_fanouts() -> list[int]:
    """Queue the fan-out again of every sending bulletin whose fan-out seems lost."""
    lost_after = int(current_app.config["COMMSVC_FANOUT_LOST_AFTER_SECONDS"])
    cutoff = utcnow() - timedelta(seconds=lost_after)
    waiting = db.session.scalars(
        select(Bulletin.id).where(
            Bulletin.status == BulletinStatus.SENDING, Bulletin.fanned_out_at.is_(None)
        )
    ).all()
    requeued = []
    for bulletin_id in waiting:
        if _last_activity(bulletin_id) > cutoff:
            continue  # just started, or its fan-out is writing rows
        key = FANOUT_REQUEUED_KEY.format(bulletin_id=bulletin_id)
        if not redis_store.client().set(key, utcnow().isoformat(), nx=True, ex=lost_after):
            continue  # queued again a moment ago
        queueing.enqueue(TaskNames.FANOUT_BULLETIN, bulletin_id)
        requeued.append(bulletin_id)
    return requeued


def take_back_dead_claims() -> set[int]:
    """Give back to `queued` what silent workers hold; return the bulletins touched."""
    dead_after = int(current_app.config["COMMSVC_WORKER_DEAD_AFTER_SECONDS"])
    cutoff = utcnow() - timedelta(seconds=dead_after)
    old_claims = db.session.execute(
        select(Delivery.claimed_by, Delivery.bulletin_id)
        .where(
            Delivery.status == DeliveryStatus.SENDING,
            Delivery.claimed_at < cutoff,
            Delivery.claimed_by.is_not(None),
        )
        .group_by(Delivery.claimed_by, Delivery.bulletin_id)
    ).all()
    holders = {liveness.holder_of(token) for token, _bulletin in old_claims if token}
    silent = liveness.silent(holders, dead_after)
    touched: set[int] = set()
    for token, bulletin_id in old_claims:
        if not token or liveness.holder_of(token) not in silent:
            continue
        with lock_waits.skipped_if_locked(f"taking back bulletin {bulletin_id}'s claims"):
            result = db.session.execute(
                update(Delivery)
                .where(
                    Delivery.bulletin_id == bulletin_id,
                    Delivery.status == DeliveryStatus.SENDING,
                    Delivery.claimed_by == token,
                    Delivery.claimed_at < cutoff,
                )
                .values(status=DeliveryStatus.QUEUED, claimed_by=None, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            db.session.commit()
            if result.rowcount:  # type: ignore[attr-defined]
                touched.add(bulletin_id)
    return touched


def _last_activity(bulletin_id: int) -> datetime:
    """When the bulletin last started sending, or its fan-out last wrote a row."""
    started = db.session.scalar(
        select(func.max(BulletinTransition.at)).where(
            BulletinTransition.bulletin_id == bulletin_id,
            BulletinTransition.to_status == BulletinStatus.SENDING,
        )
    )
    newest_row = db.session.scalar(
        select(func.max(Delivery.created_at)).where(Delivery.bulletin_id == bulletin_id)
    )
    moments = [m for m in (started, newest_row) if m is not None]
    return max(moments) if moments else datetime.min
