"""Fan-out: one delivery row per audience member and channel, then batch tasks.

Idempotent by construction: rows are inserted with ON CONFLICT DO NOTHING on the
unique (bulletin, member, channel), and batches are made from the rows still queued.
Running it again after a crash or a resume finishes the job and sends nobody twice
(the batch claim is the second guard).

Each chunk of the audience is one INSERT … SELECT per channel, the member's choices
deciding queued or skipped in SQL: no member row travels to Python and back. The
first chunk is one batch and chunks grow from there, so the first message leaves
while the rest of a large audience is still being written, and memory stays bounded
at any size; the counters are kept by adding each chunk's new rows, not by a recount.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from flask import current_app
from sqlalchemy import DateTime, and_, literal, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

from commsvc import queueing, tracking
from commsvc.extensions import db
from commsvc.models import Bulletin, Delivery, Member, TopicPreference
from commsvc.models.base import utcnow
from commsvc.queueing import SEND_TASK_FOR_CHANNEL
from commsvc.services.bulletins import audience
from commsvc.statuses import DeliveryStatus

MAX_CHUNK_MEMBERS = 20_000  # members per INSERT … SELECT, once past the first batch
CHUNK_GROWTH = 4


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
    """Insert rows chunk by chunk, enqueueing full batches of new queued rows as we go
    (without `enqueue`, the caller queues from the database afterwards)."""
    size = current_app.config["COMMSVC_BATCH_SIZE"]
    pending: dict[str, list[int]] = {channel: [] for channel in bulletin.channels}
    batches = 0
    for low, high in _member_ranges(bulletin):  # each range's transaction has JIT off
        created: list[tuple[int, str, str]] = []
        for channel in bulletin.channels:
            created += _insert_chunk(bulletin, channel, low, high)
        db.session.commit()
        tracking.record_moves(bulletin.id, [(None, status) for _id, _channel, status in created])
        if enqueue:
            batches += _enqueue_full(bulletin.id, created, pending, size)
    for channel, ids in pending.items():  # the last, partial batch of each channel
        if ids:
            queueing.enqueue(SEND_TASK_FOR_CHANNEL[channel], bulletin.id, ids)
            batches += 1
    return batches


def _member_ranges(bulletin: Bulletin) -> Iterator[tuple[int, int | None]]:
    """(after, up to) member-id bounds of successive chunks of the audience; None: the rest.

    The first chunk is one batch, so the first message leaves at once; chunks then grow
    to MAX_CHUNK_MEMBERS, which bounds the memory and the length of each transaction."""
    audience_of = audience.audience_condition(bulletin.partnership_id, bulletin.audience)
    chunk = min(current_app.config["COMMSVC_BATCH_SIZE"], MAX_CHUNK_MEMBERS)
    low = 0
    while True:
        _no_jit()
        high = db.session.scalar(
            select(Member.id)
            .where(audience_of, Member.id > low)
            .order_by(Member.id)
            .offset(chunk - 1)
            .limit(1)
        )
        yield low, high
        if high is None:
            return
        low = high
        chunk = min(chunk * CHUNK_GROWTH, MAX_CHUNK_MEMBERS)


def _no_jit() -> None:
    """PostgreSQL would JIT-compile these big-looking statements, at about 70 ms each,
    more than the work itself; off for this transaction only."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL jit = off"))


def _insert_chunk(
    bulletin: Bulletin, channel: str, low: int, high: int | None
) -> list[tuple[int, str, str]]:
    """One INSERT … SELECT for the members with an address on `channel` in (low, high]:
    the member's choices decide queued or skipped in SQL (`audience.choice_status_sql`);
    the suppression list is checked when each message is built, as for every message.
    Rows that exist already are left alone. Returns (id, channel, status) of the new."""
    status, reason = audience.choice_status_sql(channel, bulletin.topic.kind)
    now = utcnow()
    in_chunk = [Member.id > low] if high is None else [Member.id > low, Member.id <= high]
    rows = (
        select(
            literal(bulletin.id),
            Member.id,
            literal(channel),
            status,
            reason,
            literal(0),
            literal(now, DateTime),
            literal(now, DateTime),
        )
        .select_from(Member)
        .outerjoin(TopicPreference, audience.topic_choice(bulletin.topic_id))
        .where(
            audience.audience_condition(bulletin.partnership_id, bulletin.audience),
            audience.has_address_sql(channel),
            *in_chunk,
        )
    )
    columns = [
        "bulletin_id",
        "member_id",
        "channel",
        "status",
        "last_error",
        "attempts",
        "created_at",
        "updated_at",
    ]
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    insert = (
        dialect.insert(Delivery.__table__)
        .from_select(columns, rows)
        .on_conflict_do_nothing(index_elements=["bulletin_id", "member_id", "channel"])
        .returning(Delivery.id, Delivery.channel, Delivery.status)
    )
    return [(r[0], r[1], r[2]) for r in db.session.execute(insert)]


def _enqueue_full(
    bulletin_id: int, created: list[tuple[int, str, str]], pending: dict[str, list[int]], size: int
) -> int:
    """Add new queued rows to their channel's batch; enqueue every batch now full."""
    full: dict[str, list[tuple[int, list[int]]]] = {channel: [] for channel in pending}
    for delivery_id, channel, status in sorted(created):
        if status != DeliveryStatus.QUEUED:
            continue
        pending[channel].append(delivery_id)
        if len(pending[channel]) >= size:
            full[channel].append((bulletin_id, pending[channel]))
            pending[channel] = []
    for channel, batches in full.items():
        queueing.enqueue_each(SEND_TASK_FOR_CHANNEL[channel], batches)
    return sum(len(batches) for batches in full.values())


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
