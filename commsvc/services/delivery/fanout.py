"""Fan-out: one delivery row per audience member and channel, then batch tasks.

Idempotent by construction: rows are inserted with ON CONFLICT DO NOTHING on the
unique (bulletin, member, channel), and batches are made from the rows still queued.
Running it again after a crash or a resume finishes the job and sends nobody twice
(the batch claim is the second guard).

Batches are enqueued as their rows are committed, chunk by chunk, so the first
message leaves while the rest of a large audience is still being written; the
counters are kept by adding each chunk's new rows, not by a recount at the end.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import datetime

from flask import current_app
from sqlalchemy import and_, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.sql.elements import ColumnElement

from commsvc import queueing, tracking
from commsvc.extensions import db
from commsvc.models import Bulletin, Delivery
from commsvc.models.base import utcnow
from commsvc.queueing import SEND_TASK_FOR_CHANNEL
from commsvc.services.bulletins import audience
from commsvc.statuses import DeliveryStatus

INSERT_CHUNK = 1000


def fan_out(bulletin_id: int) -> int:
    """Create the deliveries of a sending bulletin and enqueue its batches; returns batches."""
    bulletin = db.session.get(Bulletin, bulletin_id)
    if bulletin is None or bulletin.status != "sending":
        return 0
    if bulletin.fanned_out_at is None:
        interrupted = _has_deliveries(bulletin_id)  # an earlier run died part-way
        tracking.rebuild(bulletin_id)
        batches = _create_deliveries(bulletin, enqueue=not interrupted)
        bulletin.fanned_out_at = utcnow()
        db.session.commit()
        if interrupted:  # its rows may never have reached a batch: queue all that wait
            batches = enqueue_queued(bulletin_id, bulletin.channels)
    else:  # a resume: queue what is still waiting
        batches = enqueue_queued(bulletin_id, bulletin.channels)
    from commsvc.services.delivery.claims import finish_if_done

    # Batches may all have finished before fanned_out_at was set; then nobody else will.
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


def _create_deliveries(bulletin: Bulletin, enqueue: bool) -> int:
    """Insert rows chunk by chunk, enqueueing full batches of new queued rows as we go."""
    # Without enqueueing, batches never fill: the caller queues from the database.
    size = current_app.config["COMMSVC_BATCH_SIZE"] if enqueue else sys.maxsize
    pending: dict[str, list[int]] = {channel: [] for channel in bulletin.channels}
    batches = 0
    rows: list[Row] = []
    chunks = audience.stream_audience(bulletin.partnership_id, bulletin.audience, bulletin.topic_id)
    for chunk in chunks:
        rows.extend(_rows_for(bulletin, chunk))
        if len(rows) >= INSERT_CHUNK:
            batches += _insert_and_enqueue(bulletin.id, rows, pending, size)
            rows = []
    if rows:
        batches += _insert_and_enqueue(bulletin.id, rows, pending, size)
    for channel, ids in pending.items():  # the last, partial batch of each channel
        if ids and enqueue:
            queueing.enqueue(SEND_TASK_FOR_CHANNEL[channel], bulletin.id, ids)
            batches += 1
    return batches


Row = tuple[int, str, str, str | None]  # member id, channel, first status, why not sent


def _rows_for(bulletin: Bulletin, chunk: list[audience.AudienceMember]) -> list[Row]:
    rows: list[Row] = []
    topic_kind = bulletin.topic.kind
    for channel in bulletin.channels:
        verdicts = audience.decide_chunk(chunk, channel, topic_kind)
        rows.extend(
            (member_id, channel, str(v.status), v.reason) for member_id, v in verdicts.items()
        )
    return rows


def _insert_and_enqueue(
    bulletin_id: int, rows: list[Row], pending: dict[str, list[int]], size: int
) -> int:
    """Commit one chunk of rows, count them, and enqueue every batch now full."""
    created = _insert_rows(bulletin_id, rows)
    db.session.commit()
    tracking.record_moves(bulletin_id, [(None, status) for _id, _channel, status in created])
    batches = 0
    for delivery_id, channel, status in sorted(created):
        if status != DeliveryStatus.QUEUED:
            continue
        pending[channel].append(delivery_id)
        if len(pending[channel]) >= size:
            queueing.enqueue(SEND_TASK_FOR_CHANNEL[channel], bulletin_id, pending[channel])
            pending[channel] = []
            batches += 1
    return batches


# PostgreSQL gets each column as one array: three parameters instead of seven per row,
# which spares the driver parsing a statement with thousands of placeholders.
_UNNEST_INSERT = text(
    "INSERT INTO deliveries (bulletin_id, member_id, channel, status, last_error, attempts,"
    " created_at, updated_at)"
    " SELECT :bulletin_id, member_id, channel, status, reason, 0, :now, :now"
    " FROM unnest(CAST(:member_ids AS INTEGER[]), CAST(:channels AS VARCHAR[]),"
    " CAST(:statuses AS VARCHAR[]), CAST(:reasons AS VARCHAR[]))"
    " AS t(member_id, channel, status, reason)"
    " ON CONFLICT (bulletin_id, member_id, channel) DO NOTHING"
    " RETURNING id, channel, status"
)


def _insert_rows(bulletin_id: int, rows: list[Row]) -> list[tuple[int, str, str]]:
    """Insert new rows, skipping existing ones; returns (id, channel, status) of the new."""
    now = utcnow()
    if db.engine.dialect.name == "postgresql":
        member_ids, channels, statuses, reasons = zip(*rows, strict=True)
        params = {
            "bulletin_id": bulletin_id,
            "now": now,
            "member_ids": list(member_ids),
            "channels": list(channels),
            "statuses": list(statuses),
            "reasons": list(reasons),
        }
        return [tuple(r) for r in db.session.execute(_UNNEST_INSERT, params)]
    insert = (
        sqlite.insert(Delivery.__table__)
        .on_conflict_do_nothing(index_elements=["bulletin_id", "member_id", "channel"])
        .returning(Delivery.id, Delivery.channel, Delivery.status)
    )
    values = [
        {
            "bulletin_id": bulletin_id,
            "member_id": member_id,
            "channel": channel,
            "status": status,
            "last_error": reason,
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
        }
        for member_id, channel, status, reason in rows
    ]
    return [tuple(r) for r in db.session.execute(insert, values)]  # type: ignore[misc]


def _has_deliveries(bulletin_id: int) -> bool:
    first = select(Delivery.id).where(Delivery.bulletin_id == bulletin_id).limit(1)
    return db.session.scalar(first) is not None


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
