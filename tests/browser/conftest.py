"""Browser fixtures: Debian's Chromium driven by Playwright, and the app served on a
loopback port. Both are always stopped.

Without /usr/bin/chromium the browser tests are skipped, unless
COMMSVC_REQUIRE_BROWSER=1 (CI), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from commsvc import create_app, embedded_redis
from commsvc.extensions import db
from tests.conftest import start_worker, stop_process

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def chromium(_chromium_process: Any) -> Iterator[Any]:
    """The browser, with no page or cookie left from an earlier test: each test's pages
    live in contexts of their own (`new_page` makes one), closed when it ends."""
    yield _chromium_process
    for context in _chromium_process.contexts:
        context.close()


@pytest.fixture(scope="session")
def _chromium_process() -> Iterator[Any]:
    """One Chromium per session (per xdist worker): launching it is a few seconds a test."""
    if not CHROMIUM.exists():
        if os.environ.get("COMMSVC_REQUIRE_BROWSER") == "1":
            pytest.fail(f"COMMSVC_REQUIRE_BROWSER=1 but there is no browser at {CHROMIUM}")
        pytest.skip(f"no browser at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def live_server(env: dict[str, str], app: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The app on a free loopback port; links in messages sent from now on point at it."""
    port = embedded_redis.free_port()
    url = f"http://127.0.0.1:{port}"
    env["COMMSVC_PUBLIC_URL"] = url
    monkeypatch.setenv("COMMSVC_PUBLIC_URL", url)
    served = create_app()
    server = make_server("127.0.0.1", port, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield url
    server.shutdown()
    thread.join(timeout=10)
    with served.app_context():
        db.engine.dispose()


SERVER_START_SECONDS = 60


@pytest.fixture
def gunicorn_server(
    env: dict[str, str], app: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """The app as production serves it (`commsvc web`: gunicorn), on a free loopback port.
    Streamed responses, redirects and headers behave here as they do for organisers."""
    port = embedded_redis.free_port()
    url = f"http://127.0.0.1:{port}"
    env["COMMSVC_PUBLIC_URL"] = url
    monkeypatch.setenv("COMMSVC_PUBLIC_URL", url)
    command = [sys.executable, "-m", "commsvc", "web", "--host", "127.0.0.1"]
    process = subprocess.Popen(
        [*command, "--port", str(port), "--workers", "1"],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + SERVER_START_SECONDS
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/login", timeout=2):
                break
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if time.monotonic() > deadline:
                stop_process(process)
                raise RuntimeError("gunicorn did not start") from None
            time.sleep(0.2)
    yield url
    stop_process(process)


@pytest.fixture
def gunicorn_worker(gunicorn_server: str, env: dict[str, str]) -> Iterator[Any]:
    """A real worker started after gunicorn, so links in what it sends point there."""
    process = start_worker(env)
    yield process
    stop_process(process)


@pytest.fixture
def linked_worker(live_server: str, env: dict[str, str]) -> Iterator[Any]:
    """A real worker started after the live server, so its links point at that server."""
    process = start_worker(env)
    yield process
    stop_process(process)
