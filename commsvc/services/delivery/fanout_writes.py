"""Writing a fan-out's delivery rows: the audience in chunks, one INSERT … SELECT each.

Each chunk is one statement per channel, the member's choices deciding queued or
skipped in SQL: no member row travels to Python and back. The first chunk is one batch
and chunks grow from there, so the first message leaves while the rest of a large
audience is still being written, and memory stays bounded at any size. On PostgreSQL
the chunks after the first are written by WRITERS threads, each with a connection of
its own: a fan-out of 100,000 is then bound by the database's cores, not by one
statement at a time. Each committed chunk's new rows are handed on (`fanout` sorts them
into batches). Deliveries carry no foreign keys (migration fanout_0003): the per-row
checks cost more than the inserts, and the rows are only ever written here, from a
join on the bulletin and its members, neither of which is ever deleted.

A first run inserts plainly; a run that finds rows already there (an earlier run died
part-way, or another is writing the same bulletin at this moment) inserts with ON
CONFLICT DO NOTHING, which probes the unique index before every row and costs a fresh
fan-out about a fifth of its time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import DateTime, func, literal, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from commsvc.extensions import db
from commsvc.models import Bulletin, Delivery, Member, TopicPreference
from commsvc.models.base import utcnow
from commsvc.services.bulletins import audience
from commsvc.statuses import DeliveryStatus

MAX_CHUNK_MEMBERS = 20_000  # members per INSERT … SELECT, once past the first batch
CHUNK_GROWTH = 4
ANALYZE_AFTER_DELIVERIES = 10_000  # fewer: a misplanned claim costs less than ANALYZE
WRITERS = 2  # threads writing chunks at once on PostgreSQL: one per core where it was measured

Committed = Callable[[list["NewRows"]], None]  # told of each chunk once it is committed


def write_all(bulletin: Bulletin, fresh: bool, committed: Committed) -> None:
    """Write every chunk of the bulletin's audience, the first alone (one batch, so the
    first message can leave at once), telling `committed` of each as it commits.

    Not `fresh`: an earlier run wrote some rows; only what is missing is inserted."""
    target = _Target.of(bulletin)
    ranges = _member_ranges(target)
    committed(_write_chunk(target, next(ranges), fresh))
    if db.engine.dialect.name == "postgresql":
        _write_in_parallel(target, ranges, fresh, committed)
    else:  # SQLite has one writer at a time
        for bounds in ranges:
            committed(_write_chunk(target, bounds, fresh))


def refresh_statistics(about: int) -> None:
    """Tell PostgreSQL about a large fan-out's new rows at once (autovacuum may be off,
    and is a minute late at best). Its statistics said the new bulletin has no queued
    deliveries, so every batch's claim, `id IN (…500 ids)`, was planned as a scan of
    the bulletin's queued rows instead of 500 primary-key lookups: 350 ms a batch at
    1,000,000 members, a third of the send's rate. ANALYZE samples a fixed number of
    rows, a fraction of a second at any size. (`_write_in_parallel` also runs it once
    part-way, for the batches claimed while a large fan-out is still writing.)"""
    if about < ANALYZE_AFTER_DELIVERIES or db.engine.dialect.name != "postgresql":
        return
    db.session.execute(text("ANALYZE deliveries"))
    db.session.commit()


@dataclass(frozen=True)
class _Target:
    """What the inserts need of the bulletin, read once, so that writer threads (each
    with a session of its own) never touch the fan-out's ORM object."""

    id: int
    channels: list[str]
    topic_id: int
    topic_kind: str
    partnership_id: int
    audience: dict[str, list[str]]

    @classmethod
    def of(cls, bulletin: Bulletin) -> _Target:
        return cls(
            bulletin.id,
            list(bulletin.channels),
            bulletin.topic_id,
            bulletin.topic.kind,
            bulletin.partnership_id,
            dict(bulletin.audience or {}),
        )


def _write_chunk(target: _Target, bounds: tuple[int, int | None], fresh: bool) -> list[NewRows]:
    """One chunk on every channel, committed in the transaction its bounds were found
    in (by `_member_ranges`, in this thread: JIT is off for it)."""
    low, high = bounds
    created = [_insert_chunk(target, channel, low, high, fresh) for channel in target.channels]
    db.session.commit()
    return created


def _write_in_parallel(
    target: _Target, ranges: Iterator[tuple[int, int | None]], fresh: bool, committed: Committed
) -> None:
    """The chunks after the first, by WRITERS threads each with its own connection: a
    fan-out is the database's work, one statement at a time keeps one core busy, and a
    large one is written while the workers have not yet got going. The chunks are
    disjoint ranges of members, each committed on its own, as in one thread."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    lock = threading.Lock()
    errors: list[BaseException] = []
    written = [0]  # rows, under the lock: statistics are refreshed once part-way

    def write() -> None:
        with app.app_context():
            try:
                while not errors:
                    with lock:  # the ranges come from one generator, one at a time
                        bounds = next(ranges, None)
                    if bounds is None:
                        return
                    created = _write_chunk(target, bounds, fresh)
                    committed(created)
                    with lock:
                        before = written[0]
                        written[0] = after = before + _rows(created)
                    if before < ANALYZE_AFTER_DELIVERIES <= after:  # one thread, once
                        refresh_statistics(after)
            except BaseException as error:  # raised below, in the fan-out's own thread
                errors.append(error)
                db.session.rollback()

    writers = [threading.Thread(target=write, daemon=True) for _ in range(WRITERS)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    if errors:
        raise errors[0]


def _rows(created: list[NewRows]) -> int:
    return sum(sum(new.counts.values()) for new in created)


def _member_ranges(target: _Target) -> Iterator[tuple[int, int | None]]:
    """(after, up to) member-id bounds of successive chunks; None: the rest.

    The first chunk is one batch of the audience, so the first message leaves at once.
    Later chunks are counted in member rows, audience or not (on the primary key alone:
    finding the audience's own bounds would read the audience a second time), and grow
    to MAX_CHUNK_MEMBERS, which bounds the memory and the length of each transaction."""
    audience_of = audience.audience_condition(target.partnership_id, target.audience)
    chunk = min(current_app.config["COMMSVC_BATCH_SIZE"], MAX_CHUNK_MEMBERS)
    low = 0
    while True:
        _no_jit()
        in_chunk = [audience_of, Member.id > low] if low == 0 else [Member.id > low]
        high = db.session.scalar(
            select(Member.id).where(*in_chunk).order_by(Member.id).offset(chunk - 1).limit(1)
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
    target: _Target, channel: str, low: int, high: int | None, fresh: bool
) -> NewRows:
    """One INSERT … SELECT for the members with an address on `channel` in (low, high]:
    the member's choices decide queued or skipped in SQL (`audience.choice_status_sql`);
    the suppression list is checked when each message is built, as for every message.
    Rows that exist already are left alone. Returns what it wrote.

    `fresh`: no row of this bulletin was there when the run began, so the plain insert
    is tried first; if another run wrote one meanwhile, the unique constraint stops it,
    and the chunk goes again leaving the other run's rows alone."""
    status, reason = audience.choice_status_sql(channel, target.topic_kind)
    now = utcnow()
    in_chunk = [Member.id > low] if high is None else [Member.id > low, Member.id <= high]
    rows = (
        select(
            literal(target.id),
            Member.id,
            literal(channel),
            status,
            reason,
            literal(0),
            literal(now, DateTime),
            literal(now, DateTime),
        )
        .select_from(Member)
        .outerjoin(TopicPreference, audience.topic_choice(target.topic_id))
        .where(
            audience.audience_condition(target.partnership_id, target.audience),
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
    insert = dialect.insert(Delivery.__table__).from_select(columns, rows)
    if fresh:
        try:
            with db.session.begin_nested():  # a savepoint: only this statement is undone
                return _new_rows(insert, channel)
        except IntegrityError:
            pass  # another run of this fan-out got there first: skip what it wrote
    careful = insert.on_conflict_do_nothing(index_elements=["bulletin_id", "member_id", "channel"])
    return _new_rows(careful, channel)


@dataclass
class NewRows:
    """What one chunk's insert wrote on one channel: the ids of its queued rows, in
    order, and how many rows it wrote in each status."""

    channel: str
    queued: list[int]
    counts: dict[str, int]


def _new_rows(insert: Any, channel: str) -> NewRows:
    """Run the insert. On PostgreSQL the database sorts and counts the new rows and
    sends back one array of queued ids: a hundred thousand rows each made into a
    Python tuple would cost the fan-out more than writing them."""
    returned = insert.returning(Delivery.id, Delivery.status)
    if db.engine.dialect.name == "postgresql":
        new = returned.cte("new_rows")
        grouped = select(
            new.c.status,
            func.count(),
            func.array_agg(postgresql.aggregate_order_by(new.c.id, new.c.id)),
        ).group_by(new.c.status)
        rows = db.session.execute(grouped).tuples().all()
        queued: list[int] = next(
            (ids for status, _n, ids in rows if status == DeliveryStatus.QUEUED), []
        )
        return NewRows(channel, list(queued), {status: n for status, n, _ids in rows})
    pairs = db.session.execute(returned).tuples().all()
    counts: dict[str, int] = {}
    for _id, status in pairs:
        counts[status] = counts.get(status, 0) + 1
    return NewRows(
        channel, sorted(i for i, status in pairs if status == DeliveryStatus.QUEUED), counts
    )
