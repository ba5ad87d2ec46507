"""The database side of sending: claim deliveries, record outcomes, finish bulletins.

A delivery is sent only after a conditional UPDATE moved it to `sending` (so two
workers holding the same batch cannot both send it), and its acceptance by the
gateway is committed before the next message goes out, so a crash can re-send at
most the one message that was in flight.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Connection, String, and_, bindparam, exists, func, or_, select, update
from sqlalchemy.orm import Session

from commsvc import liveness, tracking
from commsvc.extensions import db
from commsvc.models import Bulletin, Delivery, DeliveryAttempt, id_lists
from commsvc.models.base import utcnow
from commsvc.statuses import BulletinStatus, DeliveryStatus, delivery_sources

RETRY_BASE_SECONDS = 10
RETRY_CAP_SECONDS = 300


@dataclass(frozen=True)
class Failure:
    delivery_id: int
    permanent: bool
    reason: str
    provider: str | None = None
    claim_token: str | None = None  # recorded only while the row is still under it


def claim(
    bulletin_id: int,
    delivery_ids: list[int],
    claimed_at: datetime | None = None,
    token: str | None = None,
) -> dict[int, int]:
    """Move the given deliveries to `sending` if still waiting; return {id: attempts}.

    `claimed_at` doubles as the claim's clock: `renew_claim` and `release` only act
    on rows that still carry it, so a batch never sends or releases a delivery that the
    stuck sweep has meanwhile handed to another worker. `token` (commsvc.liveness)
    names the worker holding the claim, so beat can take back a dead worker's claims;
    recording an outcome with the token does nothing once the claim was taken back.
    """
    if not delivery_ids:
        return {}
    now = claimed_at or utcnow()
    claimable = or_(
        Delivery.status == DeliveryStatus.QUEUED,
        # A retry only once it is due: duplicate batch tasks (a resume, a sweep, a
        # redelivery) must not spend the attempts within a second.
        and_(Delivery.status == DeliveryStatus.TEMPORARY_FAILURE, Delivery.retry_at <= now),
    )
    result = db.session.execute(
        update(Delivery)
        .where(
            id_lists.among(Delivery.id, delivery_ids),
            Delivery.bulletin_id == bulletin_id,
            claimable,
            Delivery.status.in_(delivery_sources(DeliveryStatus.SENDING)),
        )
        .values(
            status=DeliveryStatus.SENDING,
            claimed_at=now,
            claimed_by=token or liveness.new_claim_token(),
            updated_at=now,
            attempts=Delivery.attempts + 1,
        )
        .returning(Delivery.id, Delivery.attempts)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return {row[0]: row[1] for row in result}


_TOKEN = bindparam("token", type_=String)
_ACCEPT = (
    update(Delivery)
    .where(
        Delivery.id == bindparam("delivery_id"),
        Delivery.status == DeliveryStatus.SENDING,
        or_(_TOKEN.is_(None), Delivery.claimed_by == _TOKEN),
    )
    .values(
        status=DeliveryStatus.SENT,
        provider=bindparam("provider"),
        provider_id=bindparam("provider_id"),
        sent_at=bindparam("now"),
        updated_at=bindparam("now"),
        retry_at=None,
        last_error=None,
    )
)


def record_accepted_on(
    connection: Connection | Session,
    delivery_id: int,
    provider: str,
    provider_id: str | None,
    token: str | None = None,
    *,
    now: datetime | None = None,
) -> bool:
    """Mark a claimed delivery sent (at `now`, default this moment); False if it was not
    `sending` (never twice), or, given the claim's token, if the claim was taken back
    (see `claim`).

    Batches go through services/delivery/acceptance.py; this is the one statement."""
    values = {
        "delivery_id": delivery_id,
        "provider": provider,
        "provider_id": provider_id,
        "token": token,
    }
    result = connection.execute(_ACCEPT, {**values, "now": now or utcnow()})
    return bool(result.rowcount)  # type: ignore[attr-defined]


def record_accepted(delivery_id: int, provider: str, provider_id: str | None) -> bool:
    """Commit a gateway's acceptance at once: this is what makes a resend impossible."""
    accepted = record_accepted_on(db.session(), delivery_id, provider, provider_id)
    db.session.commit()
    return accepted


def record_failure(
    failure: Failure, attempts: int, max_attempts: int, max_age_seconds: float | None = None
) -> str:
    """Record a failed attempt; return the new status.

    A temporary failure gets a `retry_at` while it is under both bounds: fewer than
    `max_attempts` tries, and younger than `max_age_seconds` (since its row was made).
    Past either bound it stays `temporary_failure` for good, with the last reason.
    """
    now = utcnow()
    retry_at = None
    if failure.permanent:
        status = DeliveryStatus.PERMANENT_FAILURE
    else:
        status = DeliveryStatus.TEMPORARY_FAILURE
        if attempts < max_attempts and not _too_old(failure.delivery_id, max_age_seconds):
            retry_at = now + timedelta(seconds=retry_delay(attempts))
    ours = [Delivery.claimed_by == failure.claim_token] if failure.claim_token else []
    result = db.session.execute(
        update(Delivery)
        .where(Delivery.id == failure.delivery_id, Delivery.status == DeliveryStatus.SENDING, *ours)
        .values(
            status=status,
            last_error=failure.reason[:500],
            retry_at=retry_at,
            provider=failure.provider,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if ours and not result.rowcount:  # type: ignore[attr-defined]
        db.session.commit()  # the claim was taken back: its new holder records the outcome
        return str(DeliveryStatus.SENDING)
    db.session.add(
        DeliveryAttempt(
            delivery_id=failure.delivery_id,
            outcome=str(status),
            provider=failure.provider,
            reason=failure.reason[:500],
        )
    )
    db.session.commit()
    return str(status)


def withhold(delivery_id: int, status: DeliveryStatus, reason: str) -> bool:
    """A claimed delivery the member no longer gets (an opt-out or a suppression that
    arrived after fan-out): `skipped` or `suppressed` with the reason, nothing sent, so
    the attempt is not counted. False if it was no longer `sending`."""
    now = utcnow()
    moved = db.session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status == DeliveryStatus.SENDING)
        .values(
            status=status,
            last_error=reason[:500],
            retry_at=None,
            attempts=Delivery.attempts - 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if moved:
        db.session.add(
            DeliveryAttempt(delivery_id=delivery_id, outcome=str(status), reason=reason[:500])
        )
    db.session.commit()
    return bool(moved)


def will_retry(delivery_id: int) -> bool:
    """Whether a temporary failure has a retry ahead of it (see record_failure)."""
    return (
        db.session.scalar(select(Delivery.retry_at).where(Delivery.id == delivery_id)) is not None
    )


def latest_retry_at(delivery_ids: list[int]) -> datetime | None:
    """When the last of these temporary failures falls due for its retry."""
    return db.session.scalar(
        select(func.max(Delivery.retry_at)).where(id_lists.among(Delivery.id, delivery_ids))
    )


def renew_claim(delivery_ids: list[int], claimed_at: datetime) -> tuple[datetime, set[int]]:
    """Renew a batch's claim on those of its deliveries still under it; return the new
    claim and which deliveries it holds (the stuck sweep may have taken some back)."""
    now = utcnow()
    if not delivery_ids:
        return now, set()
    db.session.execute(
        update(Delivery)
        .where(
            id_lists.among(Delivery.id, delivery_ids),
            Delivery.status == DeliveryStatus.SENDING,
            Delivery.claimed_at == claimed_at,
        )
        .values(claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    held = db.session.scalars(
        select(Delivery.id).where(
            id_lists.among(Delivery.id, delivery_ids),
            Delivery.status == DeliveryStatus.SENDING,
            Delivery.claimed_at == now,
        )
    )
    return now, set(held)


def release(delivery_ids: list[int], claimed_at: datetime | None = None) -> None:
    """Give back claimed deliveries that were not attempted (a pause mid-batch, or a
    provider that throttled us): back to `queued`, the attempt not counted. With
    `claimed_at`, only rows still under that claim (see `claim`)."""
    if not delivery_ids:
        return
    ours = [Delivery.claimed_at == claimed_at] if claimed_at is not None else []
    db.session.execute(
        update(Delivery)
        .where(
            id_lists.among(Delivery.id, delivery_ids),
            Delivery.status == DeliveryStatus.SENDING,
            *ours,
        )
        .values(status=DeliveryStatus.QUEUED, attempts=Delivery.attempts - 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def retry_delay(attempts: int) -> float:
    """Exponential backoff with jitter, capped well below the visibility timeout.

    The base is COMMSVC_RETRY_BASE_SECONDS; the n-th retry waits between half and
    all of base * 2**(n-1), so workers retrying together spread out.
    """
    base = float(current_app.config.get("COMMSVC_RETRY_BASE_SECONDS", RETRY_BASE_SECONDS))
    ceiling = min(RETRY_CAP_SECONDS, base * 2 ** max(attempts - 1, 0))
    return random.uniform(ceiling / 2, ceiling)


def _too_old(delivery_id: int, max_age_seconds: float | None) -> bool:
    if max_age_seconds is None:
        return False
    created = db.session.scalar(select(Delivery.created_at).where(Delivery.id == delivery_id))
    return created is not None and utcnow() - created > timedelta(seconds=max_age_seconds)


def finish_if_done(bulletin_id: int, *, after_moves: bool = False) -> bool:
    """Mark a sending bulletin `sent` once no delivery has work ahead of it.

    The bulletin is read afresh, not from the session: a batch that loaded it before
    its fan-out ended would otherwise see it never fanned out, while the fan-out's own
    check saw that batch still sending, and neither would finish it.

    `after_moves`: the caller (a batch's end) has just counted its moves into the live
    counters. If another batch finished the bulletin meanwhile, that finish recounted
    from the database, which already held these outcomes, so they were counted twice
    (a retry counted sent twice and its earlier failure taken off twice); count again.
    """
    state = db.session.execute(
        select(Bulletin.status, Bulletin.fanned_out_at).where(Bulletin.id == bulletin_id)
    ).first()
    if state is not None and after_moves and state.status == BulletinStatus.SENT:
        tracking.rebuild(bulletin_id)
        return False
    if state is None or state.status != BulletinStatus.SENDING or state.fanned_out_at is None:
        return False
    unfinished = db.session.scalar(
        select(
            exists().where(
                Delivery.bulletin_id == bulletin_id,
                or_(
                    Delivery.status.in_(
                        [DeliveryStatus.PENDING, DeliveryStatus.QUEUED, DeliveryStatus.SENDING]
                    ),
                    and_(
                        Delivery.status == DeliveryStatus.TEMPORARY_FAILURE,
                        Delivery.retry_at.is_not(None),
                    ),
                ),
            )
        )
    )
    if unfinished:
        return False
    from commsvc.services.bulletins.lifecycle import mark_sent

    # mark_sent rebuilds the counters: what a lost Redis or a killed worker left adrift
    # is exact from here on.
    return mark_sent(bulletin_id)
