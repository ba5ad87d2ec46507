"""Fan-out: one delivery row per audience member and channel, then batch tasks.

Idempotent by construction: rows are inserted with ON CONFLICT DO NOTHING on the
unique (bulletin, member, channel), and batches are made from the rows still queued.
Running it again after a crash or a resume finishes the job and sends nobody twice
(the batch claim is the second guard).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import and_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

from commsvc import queueing, tracking
from commsvc.extensions import db
from commsvc.models import Bulletin, Delivery
from commsvc.models.base import utcnow
from commsvc.queueing import SEND_TASK_FOR_CHANNEL
from commsvc.services import audience, suppression
from commsvc.statuses import DeliveryStatus

INSERT_CHUNK = 1000


def fan_out(bulletin_id: int) -> int:
    """Create the deliveries of a sending bulletin and enqueue its batches; returns batches."""
    bulletin = db.session.get(Bulletin, bulletin_id)
    if bulletin is None or bulletin.status != "sending":
        return 0
    if bulletin.fanned_out_at is None:
        _create_deliveries(bulletin)
        bulletin.fanned_out_at = utcnow()
        db.session.commit()
        tracking.rebuild(bulletin_id)
    batches = enqueue_queued(bulletin_id, bulletin.channels)
    if batches == 0:
        from commsvc.services.sending import finish_if_done

        finish_if_done(bulletin_id)
    return batches


def enqueue_queued(bulletin_id: int, channels: list[str]) -> int:
    """Enqueue a batch task for every `batch_size` queued deliveries of each channel."""
    return _enqueue(bulletin_id, channels, Delivery.status == DeliveryStatus.QUEUED)


def enqueue_retries(bulletin_id: int, channels: list[str], due_before: datetime) -> int:
    """Enqueue retries whose own task was lost (a restarted Redis forgets countdowns)."""
    return _enqueue(
        bulletin_id,
        channels,
        and_(Delivery.status == DeliveryStatus.TEMPORARY_FAILURE, Delivery.retry_at < due_before),
    )


def _enqueue(bulletin_id: int, channels: list[str], condition: ColumnElement[bool]) -> int:
    size = current_app.config["COMMSVC_BATCH_SIZE"]
    batches = 0
    for channel in channels:
        for ids in _id_batches(bulletin_id, channel, condition, size):
            queueing.enqueue(SEND_TASK_FOR_CHANNEL[channel], bulletin_id, ids)
            batches += 1
    return batches


def _create_deliveries(bulletin: Bulletin) -> None:
    insert = _insert_ignoring_duplicates()
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for chunk in audience.stream_audience(
        bulletin.partnership_id, bulletin.audience, bulletin.topic_id
    ):
        for channel in bulletin.channels:
            addresses = [a for m in chunk if (a := audience.address_for(m, channel))]
            suppressed = suppression.suppressed_among(channel, addresses)
            for member in chunk:
                address = audience.address_for(member, channel)
                if not address:
                    continue
                status = audience.decide(
                    member, channel, bulletin.topic.kind, address in suppressed
                )
                rows.append(
                    {
                        "bulletin_id": bulletin.id,
                        "member_id": member.id,
                        "channel": channel,
                        "status": str(status),
                        "attempts": 0,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
        if len(rows) >= INSERT_CHUNK:
            db.session.execute(insert, rows)
            db.session.commit()
            rows = []
    if rows:
        db.session.execute(insert, rows)
        db.session.commit()


def _insert_ignoring_duplicates() -> Any:
    table = Delivery.__table__
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing(
        index_elements=["bulletin_id", "member_id", "channel"]
    )


def _id_batches(
    bulletin_id: int, channel: str, condition: ColumnElement[bool], size: int
) -> Iterator[list[int]]:
    last_id = 0
    while True:
        ids = list(
            db.session.scalars(
                select(Delivery.id)
                .where(
                    Delivery.bulletin_id == bulletin_id,
                    Delivery.channel == channel,
                    condition,
                    Delivery.id > last_id,
                )
                .order_by(Delivery.id)
                .limit(size)
            )
        )
        if not ids:
            return
        yield ids
        last_id = ids[-1]
