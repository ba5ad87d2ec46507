"""Operational numbers that every process writes to Redis and /metrics reads: messages
sent and failed per channel and provider, send latency, and worker heartbeats.

Workers may run on many machines, so in-process Prometheus counters would each see a
slice; Redis hashes add them up. The numbers are gathered from Celery's task signals:
after each send batch, one query reads the outcomes that batch recorded, so the
sending code stays unaware of monitoring. Losing Redis loses these counts (Prometheus
sees a counter reset), never a delivery.
"""

from __future__ import annotations

import bisect
import logging
import socket
import threading
from collections import Counter, defaultdict
from typing import Any

import redis
from celery import signals
from flask import Flask
from sqlalchemy import select

from commsvc import liveness, logs, redis_store
from commsvc.extensions import db
from commsvc.models import Delivery, id_lists
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
_state: dict[str, Any] = {"app": None, "started": {}, "stop": threading.Event()}


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


def count_batch(bulletin_id: int, delivery_ids: list[int], since: Any) -> dict[str, int]:
    """Add the outcomes a batch recorded since `since` to the counters; return them."""
    rows = db.session.execute(
        select(
            Delivery.id,
            Delivery.channel,
            Delivery.provider,
            Delivery.status,
            Delivery.created_at,
            Delivery.sent_at,
            Delivery.last_error,
        ).where(
            id_lists.among(Delivery.id, delivery_ids),
            Delivery.updated_at >= since,
            Delivery.status.in_(list(OUTCOMES)),
        )
    ).all()
    totals: Counter[str] = Counter()
    message_counts: Counter[tuple[str, str | None, str]] = Counter()
    first_buckets: Counter[tuple[str, int]] = Counter()  # (channel, first bucket it fits)
    latency_sums: defaultdict[str, float] = defaultdict(float)
    for delivery_id, channel, provider, status, created_at, sent_at, reason in rows:
        outcome = OUTCOMES[DeliveryStatus(status)]
        totals[outcome] += 1
        message_counts[(channel, provider, outcome)] += 1
        if outcome == "sent" and sent_at is not None:
            seconds = max((sent_at - created_at).total_seconds(), 0.0)
            first_buckets[(channel, bisect.bisect_left(LATENCY_BUCKETS, seconds))] += 1
            latency_sums[f"{channel}|sum"] += seconds
        else:
            log.warning(
                "delivery %s",
                outcome.replace("_", " "),
                extra={"delivery_id": delivery_id, "bulletin_id": bulletin_id, "reason": reason},
            )
    # Added up here, so a batch costs one round trip of a few commands, not several a message.
    messages: Counter[str] = Counter()
    for (channel, provider, outcome), count in message_counts.items():
        messages[f"{channel}|{_provider_kind(provider)}|{outcome}"] += count
    latency_counts: Counter[str] = Counter()
    for (channel, first), count in first_buckets.items():
        for field in _latency_fields(channel, first):
            latency_counts[field] += count
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
    _state["started"][task_id] = utcnow()
    ids: dict[str, Any] = {"task": task.name, "task_id": task_id}
    if args and isinstance(args[0], int):
        ids["bulletin_id"] = args[0]
    if task.name in SEND_TASKS and len(args) > 1:
        ids["delivery_ids"] = list(args[1])
    logs.bind(**ids)


def _task_finished(task_id: str = "", task: Any = None, args: Any = (), **_: Any) -> None:
    started = _state["started"].pop(task_id, None)
    try:
        app = _state["app"]
        if task is None or task.name not in SEND_TASKS or started is None or app is None:
            return
        with app.app_context():
            totals = count_batch(args[0], list(args[1]), started)
            log.info("batch finished", extra={"outcomes": totals})
    except Exception:  # monitoring must never fail a task
        log.exception("could not record the metrics of a batch")
    finally:
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
