"""Which worker holds a claim, and whether that worker is still alive.

Each worker process names itself "nodename/pid" (the pid of its main process) when
Celery starts it, before the pool forks, so every pool process carries the same name
as the heartbeat the main process publishes (commsvc.metrics). Each batch claim gets
a token, that name plus a nonce, stored on the claimed rows (`deliveries.claimed_by`):
beat's sweep finds the claims of a worker whose heartbeat has stopped and takes them
back, and every statement that records an outcome for a claimed row requires the
token, so a worker that comes back after its claims were taken records nothing.

Claims taken outside a worker (tests, benchmarks) carry a token with no worker name:
only the stuck sweep (COMMSVC_STUCK_AFTER_SECONDS) ever takes those back.
"""

from __future__ import annotations

import os
import secrets
from datetime import datetime, timedelta

from commsvc import redis_store
from commsvc.models.base import utcnow

HEARTBEAT_KEY = "commsvc:worker:heartbeat:{host}"  # written by commsvc.metrics
_SEPARATOR = "#"
_state: dict[str, str | None] = {"identity": None}


def set_identity(nodename: str) -> str:
    """Name this worker; called once in the main process, inherited by the pool."""
    identity = f"{nodename}/{os.getpid()}"
    _state["identity"] = identity
    return identity


def identity() -> str | None:
    return _state["identity"]


def new_claim_token() -> str:
    """A token unique to one batch claim, naming the worker that takes it."""
    return f"{identity() or ''}{_SEPARATOR}{secrets.token_hex(6)}"


def holder_of(token: str) -> str:
    """The worker named in a claim token; "" for a claim taken outside a worker."""
    return token.split(_SEPARATOR, 1)[0]


def silent(holders: set[str], dead_after_seconds: float) -> set[str]:
    """The workers among `holders` whose heartbeat is missing or older than the limit.

    A heartbeat lives HEARTBEAT_TTL_SECONDS in Redis; a missing one is silent. A lost
    Redis loses every heartbeat for a moment, which is why the caller also requires the
    claim itself to be that old (live workers renew their claims well within it)."""
    names = sorted(h for h in holders if h)
    if not names:
        return set()
    pipe = redis_store.client().pipeline(transaction=False)
    for name in names:
        pipe.get(HEARTBEAT_KEY.format(host=name))
    limit = utcnow() - timedelta(seconds=dead_after_seconds)
    return {
        name
        for name, beat in zip(names, pipe.execute(), strict=True)
        if beat is None or _parsed(str(beat)) < limit
    }


def _parsed(beat: str) -> datetime:
    try:
        return datetime.fromisoformat(beat.rstrip("Z"))
    except ValueError:
        return datetime.min
