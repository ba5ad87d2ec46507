"""Fan-out: one delivery row per audience member and channel, then batch tasks.

Idempotent by construction: the unique (bulletin, member, channel) admits one row
each, and batches are made from the rows still queued. Running it again after a crash
or a resume finishes the job and sends nobody twice (the batch claim is the second
guard). The rows are written chunk by chunk (`fanout_writes`); while the database
writes the next chunk, a thread here counts each committed chunk's new rows into the
live counters (an addition, not a recount) and enqueues its full batches.
"""

from __future__ import annotations

import queue
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import and_, select
from sqlalchemy.sql.elements import ColumnElement

from commsvc import queueing, tracking
from commsvc.extensions import db
from commsvc.models import Bulletin, Delivery
from commsvc.models.base import utcnow
from commsvc.queueing import SEND_TASK_FOR_CHANNEL
from commsvc.services.delivery import fanout_writes
from commsvc.services.delivery.fanout_writes import NewRows
from commsvc.statuses import DeliveryStatus


def fan_out(bulletin_id: int) -> int:
    """Create the deliveries of a sending bulletin and enqueue its batches; returns batches."""
    bulletin = db.session.get(Bulletin, bulletin_id)
    if bulletin is None or bulletin.status != "sending":
        return 0
    if bulletin.fanned_out_at is None:
        interrupted = _has_deliveries(bulletin_id)  # an earlier run died part-way
        tracking.rebuild(bulletin_id)
        batches = _create_deliveries(bulletin, fresh=not interrupted)
        bulletin.fanned_out_at = utcnow()
        db.session.commit()
        fanout_writes.refresh_statistics(batches * current_app.config["COMMSVC_BATCH_SIZE"])
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


def _create_deliveries(bulletin: Bulletin, fresh: bool) -> int:
    """Insert rows chunk by chunk, enqueueing full batches of new queued rows as we go.

    Not `fresh` (an earlier run wrote some rows, which may never have reached a batch):
    insert what is missing and leave the queueing to the caller, from the database."""
    handing_on = _ChunkHandOn(bulletin.id, list(bulletin.channels), enqueue=fresh)
    try:
        fanout_writes.write_all(bulletin, fresh, handing_on.put)
    finally:
        batches = handing_on.finish()
    return batches


class _ChunkHandOn:
    """Counts and batches of each committed chunk, kept and enqueued by a thread while
    the database writes the next chunk: that Python side (the new rows sorted into
    batches, one broker message per batch, the live counters) is about a third of a
    fan-out's time, and would otherwise wait for the database and be waited for.

    Per chunk: its counters first, then its batches; `finish` waits for
    all of them (and enqueues the last, partial batches), so the bulletin is marked
    fanned out only once every batch is on the broker. A failure in the thread is
    raised by `finish`; the rows are committed, so a rerun batches them."""

    _END: Any = object()

    def __init__(self, bulletin_id: int, channels: list[str], enqueue: bool) -> None:
        self.bulletin_id = bulletin_id
        self.enqueue = enqueue
        self.size = current_app.config["COMMSVC_BATCH_SIZE"]
        self.pending: dict[str, list[int]] = {channel: [] for channel in channels}
        self.batches = 0
        self.error: BaseException | None = None
        self.chunks: queue.SimpleQueue[Any] = queue.SimpleQueue()
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self._run, args=(app,), daemon=True)
        self.thread.start()

    def put(self, created: list[NewRows]) -> None:
        if self.error is not None:
            raise self.error
        self.chunks.put(created)

    def finish(self) -> int:
        self.chunks.put(self._END)
        self.thread.join()
        if self.error is not None:
            raise self.error
        return self.batches

    def _run(self, app: Any) -> None:
        with app.app_context():
            try:
                while (created := self.chunks.get()) is not self._END:
                    new: Counter[str] = Counter()
                    for rows in created:
                        new.update(rows.counts)
                    tracking.record_created(self.bulletin_id, new)
                    if self.enqueue:
                        self.batches += _enqueue_full(
                            self.bulletin_id, created, self.pending, self.size
                        )
                if self.enqueue:
                    for channel, ids in self.pending.items():  # the last, partial batches
                        if ids:
                            queueing.enqueue(SEND_TASK_FOR_CHANNEL[channel], self.bulletin_id, ids)
                            self.batches += 1
            except BaseException as error:  # raised in the fan-out's own thread by finish
                self.error = error


def _enqueue_full(
    bulletin_id: int, created: list[NewRows], pending: dict[str, list[int]], size: int
) -> int:
    """Add new queued rows to their channel's batch; enqueue every batch now full."""
    full: dict[str, list[tuple[int, list[int]]]] = {channel: [] for channel in pending}
    for rows in created:
        waiting = pending[rows.channel] + rows.queued
        whole = len(waiting) - len(waiting) % size
        full[rows.channel] += [(bulletin_id, waiting[i : i + size]) for i in range(0, whole, size)]
        pending[rows.channel] = waiting[whole:]
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
