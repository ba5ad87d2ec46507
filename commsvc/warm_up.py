"""A started process pays its one-time costs before its first request, not during it.

A web process that had just started answered its first API requests 100-200 ms slower
than once warm (measured through gunicorn with two worker processes: the first `POST
/bulletins` 159-215 ms, the first send to reach the other process 162-241 ms, against
11-40 ms once warm). Most of that was the ORM configuring its mappers on first use,
the first database connection (the dialect asks the server about itself), and the
broker's transport and result backend imported and connected on the first enqueue.
An organiser's first click after a restart should not pay it.

Nothing here writes anything, and nothing stops a process from starting: a failure
(Redis not up yet) is logged and left to the first request, which reports it as
before (`/healthz` says which part is down).
"""

from __future__ import annotations

import logging
import threading

from flask import Flask
from sqlalchemy import Engine, text
from sqlalchemy.orm import configure_mappers

from commsvc import redis_store
from commsvc.extensions import db

log = logging.getLogger(__name__)
# A database host that does not answer can hold a connection attempt for minutes:
# start-up waits this long for it, then goes on while it carries on alone.
DATABASE_WAIT_SECONDS = 5.0


def configure_models() -> None:
    """The ORM's mapper set-up, done once; before a fork, every child inherits it."""
    configure_mappers()


def warm_up(app: Flask) -> None:
    """Configure the models and connect to the database, Redis and the broker, in
    this process (after any fork: connections are never shared between processes)."""
    configure_models()
    with app.app_context():
        database = threading.Thread(
            target=_connect_database, args=(db.engine,), name="warm-up", daemon=True
        )
        database.start()
        try:
            redis_store.client().ping()
            celery_app = app.extensions["celery"]
            celery_app.backend  # noqa: B018 (resolving it imports the backend's class)
            with celery_app.producer_or_acquire() as producer:
                producer.connection.ensure_connection(max_retries=1)
        except Exception as error:  # the first request meets it and says what is wrong
            log.warning("not warmed up: %s (left to the first request)", error)
        database.join(DATABASE_WAIT_SECONDS)


def _connect_database(engine: Engine) -> None:
    """One connection into the pool, its dialect set up; a failure is only logged."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:
        log.warning("not warmed up: %s (left to the first request)", error)
