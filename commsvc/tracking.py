"""Live per-bulletin counters in Redis, so the status endpoint reads in O(1).

Redis may be lost: the database is the truth. Counts missing from Redis are
rebuilt from one GROUP BY, and the stuck sweep rebuilds the counts of bulletins in
flight now and then, so a counter that drifted (a worker killed between its commit
and its increment) heals itself.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping

import redis
from flask import current_app
from sqlalchemy import func, select

from commsvc import redis_store
from commsvc.extensions import db
from commsvc.models import Delivery

_WAITING = ("pending", "queued", "sending")
_COUNTS_KEY = "commsvc:bulletin:{id}:counts"
_STATE_KEY = "commsvc:bulletin:{id}:state"
_COUNTS_TTL_SECONDS = 7 * 24 * 3600
_REBUILD_ATTEMPTS = 5


def record_moves(bulletin_id: int, moves: Iterable[tuple[str | None, str]]) -> None:
    """Apply status moves (from, to) to the counters; from=None for a new delivery."""
    deltas: dict[str, int] = {}
    for source, target in moves:
        if source:
            deltas[source] = deltas.get(source, 0) - 1
        deltas[target] = deltas.get(target, 0) + 1
    _add(bulletin_id, deltas)


def record_created(bulletin_id: int, created: Mapping[str, int]) -> None:
    """Count new deliveries, given as {status: how many} (a fan-out's chunk)."""
    _add(bulletin_id, created)


def _add(bulletin_id: int, deltas: Mapping[str, int]) -> None:
    key = _COUNTS_KEY.format(id=bulletin_id)
    try:
        if not redis_store.client().exists(key):
            # Counting from nothing would be wrong; the next reader rebuilds from the DB.
            return
        pipe = redis_store.client().pipeline(transaction=False)
        for status, delta in deltas.items():
            if delta:
                pipe.hincrby(key, status, delta)
        pipe.execute()
    except redis.RedisError:
        current_app.logger.warning(
            "redis unavailable; counts for bulletin %s will be rebuilt", bulletin_id
        )


def counts(bulletin_id: int, finished: bool = False) -> dict[str, int]:
    """The per-status counts of a bulletin, from Redis, rebuilt from the database if lost
    or visibly wrong: a negative count, or work still waiting on a finished bulletin
    (a batch's late increments can land after the final rebuild)."""
    key = _COUNTS_KEY.format(id=bulletin_id)
    try:
        cached = redis_store.client().hgetall(key)
    except redis.RedisError:
        return counts_from_database(bulletin_id)
    if not cached:
        return rebuild(bulletin_id)
    found = {str(status): int(n) for status, n in cached.items() if int(n) and status != "_"}
    waiting = any(found.get(status) for status in _WAITING)
    if any(n < 0 for n in found.values()) or (finished and waiting):
        return rebuild(bulletin_id)
    return found


def rebuild(bulletin_id: int) -> dict[str, int]:
    """Replace a bulletin's counters with a fresh count from the database.

    A receipt or a batch can move a delivery between the count and the write; its
    increment would land on the old hash and then be overwritten, leaving a count
    that is stale for good (a finished bulletin showing `sent` where the receipts said
    `delivered`). WATCH makes such a write fail, and the count is taken again."""
    key = _COUNTS_KEY.format(id=bulletin_id)
    try:
        with redis_store.client().pipeline() as pipe:
            for _ in range(_REBUILD_ATTEMPTS):
                try:
                    pipe.watch(key)
                    fresh = counts_from_database(bulletin_id)
                    pipe.multi()
                    pipe.delete(key)
                    # "_" keeps the hash alive even when a bulletin has no deliveries yet.
                    mapping: dict[str, int] = {"_": 0, **fresh}
                    pipe.hset(key, mapping=mapping)  # type: ignore[arg-type]
                    pipe.expire(key, _COUNTS_TTL_SECONDS)
                    pipe.execute()
                    return fresh
                except redis.WatchError:
                    continue
            # Still moving under us: leave no counters, so the next reader counts afresh.
            pipe.reset()
            redis_store.client().delete(key)
    except redis.RedisError:
        pass
    return counts_from_database(bulletin_id)


def counts_from_database(bulletin_id: int) -> dict[str, int]:
    rows = db.session.execute(
        select(Delivery.status, func.count())
        .where(Delivery.bulletin_id == bulletin_id)
        .group_by(Delivery.status)
    ).all()
    return {status: int(n) for status, n in rows}


def set_state(bulletin_id: int, status: str) -> None:
    """Publish a bulletin's status so batches can check for a pause cheaply."""
    with contextlib.suppress(redis.RedisError):
        redis_store.client().set(_STATE_KEY.format(id=bulletin_id), status, ex=_COUNTS_TTL_SECONDS)


def get_state(bulletin_id: int) -> str | None:
    try:
        value = redis_store.client().get(_STATE_KEY.format(id=bulletin_id))
    except redis.RedisError:
        return None
    return str(value) if value else None
