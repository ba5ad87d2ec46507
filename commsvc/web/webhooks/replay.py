"""Refusing replayed callbacks, for those whose effect a replay could undo (an inbound
START replayed after the member's STOP would text them again).

A sender that gives X-Timestamp signs it with the body: a callback older or newer than
WINDOW_SECONDS is refused, and one seen within the window is remembered in Redis
until the window has passed, so it is accepted once. A callback without a timestamp
(the original scheme, kept for existing gateways) is remembered the same way, which
stops an immediate replay but not one made after the window: such gateways should
send X-Timestamp. If Redis is unreachable the check is skipped (the timestamp window
still holds) rather than refusing every member's STOP.
"""

from __future__ import annotations

import contextlib
import hashlib
import time

import redis

from commsvc import redis_store

WINDOW_SECONDS = 300
_KEY = "commsvc:webhook-seen:{}"


def is_fresh(timestamp: str, now: float | None = None) -> bool:
    """Within the window either side of now (clocks differ a little)."""
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        return False
    moment = now if now is not None else time.time()
    return abs(moment - int(timestamp)) <= WINDOW_SECONDS


def first_sighting(signature: str) -> bool:
    """Remember this signature for the window; False if it was already remembered."""
    try:
        added = redis_store.client().set(_key(signature), "1", nx=True, ex=2 * WINDOW_SECONDS)
    except redis.RedisError:
        return True
    return bool(added)


def forget(signature: str) -> None:
    """The callback was not applied (an error): a retry must get through."""
    with contextlib.suppress(redis.RedisError):
        redis_store.client().delete(_key(signature))


def _key(signature: str) -> str:
    digest = hashlib.sha256(signature.encode("utf-8", "surrogatepass")).hexdigest()
    return _KEY.format(digest)
