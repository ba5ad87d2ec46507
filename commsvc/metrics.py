"""Operational numbers that every process writes to Redis and /metrics reads: messages
sent and failed per channel and provider, send latency, and worker heartbeats.

Workers may run on many machines, so in-process Prometheus counters would each see a
slice; Redis hashes add them up. A send batch hands over the outcomes it recorded when
it ends (`count_batch`), added up into one round trip of a few commands: the batch
knows them already, and reading them back cost each batch a query and a few
milliseconds before its worker could take the next. Losing Redis loses these counts
(Prometheus sees a counter reset), never a delivery.
"""

from __future__ import annotations

import bisect
import logging
import socket
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis
from celery import signals
from flask import Flask

from commsvc import liveness, logs, redis_store
from commsvc.models.base import utcnow
from commsvc.queueing import Queues, TaskNames
from commsvc.statuses import DeliveryStatus

log = logging.getLogger(__name__)
MESSAGES_KEY = "commsvc:metrics:messages"  # "channel|provider|outcome" -> n
LATENCY_KEY = "commsvc:metrics:latency"  # "channel|le" -> n, "channel|sum", "channel|count"
HEARTBEAT_KEY = liveness.HEARTBEAT_KEY  # one per worker, named "nodename/pid" (liveness)
HEARTBEAT_EVERY_SECONDS = 10
HEARTBEAT_TTL_SECONDS = 35
# From fan-out to the gateway's acceptance: seconds for a small bulletin, an hour for a
# very large one behind a rate limit.
LATENCY_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0)
SEND_TASKS = {TaskNames.SEND_EMAIL_BATCH, TaskNames.SEND_SMS_BATCH}
OUTCOMES = {
    DeliveryStatus.SENT: "sent",
    DeliveryStatus.TEMPORARY_FAILURE: "temporary_failure",
    DeliveryStatus.PERMANENT_FAILURE: "permanent_failure",
}
_state: dict[str, Any] = {"app": None, "stop": threading.Event()}


def init_app(app: Flask) -> None:
    """Remember the app and hook Celery's signals once per process (they fire only in
    a worker)."""
    _state["app"] = app
    signals.task_prerun.connect(_task_started, weak=False, dispatch_uid="commsvc.prerun")
    signals.task_postrun.connect(_task_finished, weak=False, dispatch_uid="commsvc.postrun")
    signals.celeryd_init.connect(_name_worker, weak=False, dispatch_uid="commsvc.name")
    signals.worker_ready.connect(_start_heartbeat, weak=False, dispatch_uid="commsvc.ready")
    signals.worker_shutdown.connect(_stop_heartbeat, weak=False, dispatch_uid="commsvc.stop")
    signals.setup_logging.connect(_setup_logging, weak=False, dispatch_uid="commsvc.logging")


@dataclass(frozen=True)
class Recorded:
    """One outcome a batch recorded: what the counters and the log need of it."""

    delivery_id: int
    provider: str | None
    status: str  # one of OUTCOMES
    reason: str | None = None
    created_at: datetime | None = None  # the delivery's, for a message sent
    sent_at: datetime | None = None


def count_batch(bulletin_id: int, channel: str, recorded: Iterable[Recorded]) -> dict[str, int]:
    """Add the outcomes a batch recorded to the counters; return them by outcome."""
    totals: Counter[str] = Counter()
    by_provider: Counter[tuple[str | None, str]] = Counter()  # (provider, outcome)
    first_buckets: Counter[int] = Counter()  # the first latency bucket each fits
    latency_sum = 0.0
    for outcome_of in recorded:
        outcome = OUTCOMES[DeliveryStatus(outcome_of.status)]
        totals[outcome] += 1
        by_provider[(outcome_of.provider, outcome)] += 1
        if outcome != "sent":
            log.warning(
                "delivery %s",
                outcome.replace("_", " "),
                extra={
                    "delivery_id": outcome_of.delivery_id,
                    "bulletin_id": bulletin_id,
                    "reason": outcome_of.reason,
                },
            )
        elif outcome_of.sent_at is not None and outcome_of.created_at is not None:
            seconds = max((outcome_of.sent_at - outcome_of.created_at).total_seconds(), 0.0)
            first_buckets[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
            latency_sum += seconds
    if not totals:
        return {}
    # Added up here, so a batch costs one round trip of a few commands, not several a message.
    messages: Counter[str] = Counter()
    for (provider, outcome), count in by_provider.items():
        messages[f"{channel}|{_provider_kind(provider)}|{outcome}"] += count
    latency_counts: Counter[str] = Counter()
    for first, count in first_buckets.items():
        for field in _latency_fields(channel, first):
            latency_counts[field] += count
    latency_sums = {f"{channel}|sum": latency_sum} if first_buckets else {}
    pipe = redis_store.client().pipeline(transaction=False)
    for field, count in messages.items():
        pipe.hincrby(MESSAGES_KEY, field, count)
    for field, count in latency_counts.items():
        pipe.hincrby(LATENCY_KEY, field, count)
    for field, total in latency_sums.items():
        pipe.hincrbyfloat(LATENCY_KEY, field, total)
    try:
        pipe.execute()
    except redis.RedisError:
        log.warning("redis unavailable; send metrics of this batch are lost")
    return dict(totals)


def messages() -> dict[tuple[str, str, str], int]:
    raw = redis_store.client().hgetall(MESSAGES_KEY)
    found = {}
    for name, value in raw.items():
        channel, provider, outcome = str(name).split("|", 2)
        found[(channel, provider, outcome)] = int(value)
    return found


def latency() -> dict[str, tuple[list[tuple[str, float]], float]]:
    """Per channel: cumulative (le, count) buckets and the sum of seconds."""
    raw = {str(k): float(v) for k, v in redis_store.client().hgetall(LATENCY_KEY).items()}
    channels = {name.split("|", 1)[0] for name in raw}
    found = {}
    for channel in sorted(channels):
        buckets = [(_le(b), raw.get(f"{channel}|{_le(b)}", 0.0)) for b in LATENCY_BUCKETS]
        buckets.append(("+Inf", raw.get(f"{channel}|count", 0.0)))
        found[channel] = (buckets, raw.get(f"{channel}|sum", 0.0))
    return found


def queue_depths() -> dict[str, int]:
    """Messages waiting per Celery queue (the Redis transport keeps one list per queue
    and priority)."""
    client = redis_store.client()
    pipe = client.pipeline(transaction=False)
    names = [
        (queue, f"{queue}{suffix}")
        for queue in Queues.ALL
        for suffix in ("", "\x06\x163", "\x06\x166", "\x06\x169")
    ]
    for _queue, key in names:
        pipe.llen(key)
    depths = dict.fromkeys(Queues.ALL, 0)
    for (queue, _key), length in zip(names, pipe.execute(), strict=True):
        depths[queue] += int(length)
    return depths


def alive_workers() -> list[str]:
    """Hosts whose heartbeat is fresh."""
    client = redis_store.client()
    prefix = HEARTBEAT_KEY.format(host="")
    hosts = [str(k)[len(prefix) :] for k in client.scan_iter(match=prefix + "*", count=100)]
    return sorted(hosts)[:100]


def beat(host: str) -> None:
    redis_store.client().set(
        HEARTBEAT_KEY.format(host=host), utcnow().isoformat() + "Z", ex=HEARTBEAT_TTL_SECONDS
    )


def _latency_fields(channel: str, first: int) -> list[str]:
    """The histogram fields an observation adds one to: each bucket from the first it fits
    (an index into LATENCY_BUCKETS), and the count. Worked out per batch, not per message."""
    fields = [f"{channel}|{_le(bucket)}" for bucket in LATENCY_BUCKETS[first:]]
    return [*fields, f"{channel}|count"]


def _provider_kind(provider: str | None) -> str:
    """ "smtp:host:port#0" -> "smtp": one series per kind of provider, not per endpoint."""
    return (provider or "none").split(":", 1)[0] or "none"


def _le(bucket: float) -> str:
    return f"{bucket:g}"


def _task_started(task_id: str = "", task: Any = None, args: Any = (), **_: Any) -> None:
    if task is None:
        return
    ids: dict[str, Any] = {"task": task.name, "task_id": task_id}
    if args and isinstance(args[0], int):
        ids["bulletin_id"] = args[0]
    if task.name in SEND_TASKS and len(args) > 1:
        ids["delivery_ids"] = list(args[1])
    logs.bind(**ids)


def _task_finished(**_: Any) -> None:
    logs.clear()


def _start_heartbeat(sender: Any = None, **_: Any) -> None:
    app = _state["app"]
    if app is None:
        return
    host = liveness.identity() or liveness.set_identity(
        getattr(sender, "hostname", None) or socket.gethostname()
    )
    _state["stop"].clear()

    # Often enough that a live worker never looks silent to beat (liveness.silent).
    dead_after = float(app.config.get("COMMSVC_WORKER_DEAD_AFTER_SECONDS", 60))
    every = min(HEARTBEAT_EVERY_SECONDS, dead_after / 3)

    def run() -> None:
        while True:
            try:
                with app.app_context():
                    beat(host)
            except redis.RedisError:
                log.warning("could not write the worker heartbeat")
            if _state["stop"].wait(every):
                return

    threading.Thread(target=run, name="commsvc-heartbeat", daemon=True).start()
    _state["host"] = host


def _name_worker(sender: Any = None, **_: Any) -> None:
    """Before the pool forks: its processes inherit the name their claims carry."""
    liveness.set_identity(str(sender or socket.gethostname()))


def _stop_heartbeat(**_: Any) -> None:
    _state["stop"].set()
    app, host = _state["app"], _state.get("host")
    if app is not None and host:
        try:
            with app.app_context():
                redis_store.client().delete(HEARTBEAT_KEY.format(host=host))
        except redis.RedisError:
            pass


def _setup_logging(loglevel: Any = None, **_: Any) -> None:
    """Celery asks before configuring logging; answering keeps our JSON format."""
    logs.configure()
    logging.getLogger().setLevel(loglevel or logging.INFO)
