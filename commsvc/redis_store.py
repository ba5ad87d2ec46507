"""The process's one Redis connection: live counters, rate limits, metrics, heartbeats.

It knows nothing of what is stored; `tracking`, `metrics` and the workers' rate
limiter each own their keys. Gateways take it from here, so they need no domain module.
"""

from __future__ import annotations

import redis
from flask import Flask, current_app


def init_app(app: Flask) -> None:
    app.extensions["commsvc_redis"] = redis.Redis.from_url(
        app.config["COMMSVC_REDIS_URL"],
        socket_timeout=5,
        socket_connect_timeout=5,
        decode_responses=True,
        health_check_interval=30,
    )


def client() -> redis.Redis:
    client: redis.Redis = current_app.extensions["commsvc_redis"]
    return client
