"""Operations endpoints: /healthz for load balancers and monitors, /metrics for
Prometheus. Neither needs a login and neither shows personal data."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import redis
from flask import Blueprint, Response, jsonify
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from commsvc import metrics, redis_store
from commsvc.extensions import db
from commsvc.models import Bulletin

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz() -> Any:
    """200 when the database, Redis and at least one worker answer; 503 says which not."""
    checks: dict[str, dict[str, Any]] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = {"ok": True}
    except SQLAlchemyError as error:
        db.session.rollback()
        checks["database"] = {"ok": False, "detail": type(error).__name__}
    try:
        redis_store.client().ping()
        checks["redis"] = {"ok": True}
        workers = metrics.alive_workers()
        checks["workers"] = {"ok": bool(workers), "alive": workers}
    except redis.RedisError as error:
        checks["redis"] = {"ok": False, "detail": type(error).__name__}
        checks["workers"] = {"ok": False, "detail": "unknown while Redis is down"}
    healthy = all(check["ok"] for check in checks.values())
    return jsonify(status="ok" if healthy else "unhealthy", checks=checks), (
        200 if healthy else 503
    )


@bp.get("/metrics")
def prometheus_metrics() -> Any:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector())
    return Response(
        generate_latest(registry),
        mimetype=CONTENT_TYPE_LATEST.split(";")[0],
        headers={"Content-Type": CONTENT_TYPE_LATEST},
    )


class _Collector:
    """Reads the shared numbers at scrape time, so every web process answers the same."""

    def collect(self) -> Iterable[Metric]:
        messages = CounterMetricFamily(
            "commsvc_messages",
            "Messages handed to gateways, by channel, provider and outcome",
            labels=["channel", "provider", "outcome"],
        )
        latency = HistogramMetricFamily(
            "commsvc_send_latency_seconds",
            "Seconds from a delivery's fan-out to its acceptance by the gateway",
            labels=["channel"],
        )
        depth = GaugeMetricFamily(
            "commsvc_queue_depth", "Tasks waiting in each Celery queue", labels=["queue"]
        )
        workers = GaugeMetricFamily("commsvc_workers_alive", "Workers with a fresh heartbeat")
        up = GaugeMetricFamily("commsvc_redis_up", "1 when Redis answered this scrape")
        try:
            for (channel, provider, outcome), n in sorted(metrics.messages().items()):
                messages.add_metric([channel, provider, outcome], n)
            for channel, (buckets, total) in metrics.latency().items():
                latency.add_metric([channel], buckets, total)
            for queue, n in sorted(metrics.queue_depths().items()):
                depth.add_metric([queue], n)
            workers.add_metric([], len(metrics.alive_workers()))
            up.add_metric([], 1)
        except redis.RedisError:
            up.add_metric([], 0)
        bulletins = GaugeMetricFamily("commsvc_bulletins", "Bulletins by status", labels=["status"])
        for status, n in db.session.execute(
            select(Bulletin.status, func.count()).group_by(Bulletin.status)
        ).all():
            bulletins.add_metric([status], n)
        yield from (messages, latency, depth, workers, up, bulletins)
