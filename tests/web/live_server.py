"""The real server (gunicorn through `commsvc web`) on a free loopback port, and one
way to speak to it or to Flask's test client alike, so a test can assert the same
answer from both.

tests/web/conftest.py makes both fixtures available to the web tests.
"""

from __future__ import annotations

import contextlib
import json as jsonlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from commsvc import embedded_redis, processes

START_TIMEOUT_SECONDS = 90


@dataclass
class Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return jsonlib.loads(self.body)


class Via:
    """Requests to the test client or to a live server, answered the same way."""

    def __init__(self, name: str, client: Any = None, base_url: str = "") -> None:
        self.name, self.client, self.base_url = name, client, base_url
        self.session = requests.Session()

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        json: Any = None,
        headers: dict[str, Any] | None = None,
        form: dict[str, Any] | None = None,
    ) -> Answer:
        if self.client is not None:
            response = self.client.open(
                path,
                method=method,
                data=form if form is not None else body,
                json=json,
                headers=headers,
                follow_redirects=False,
            )
            return Answer(response.status_code, response.headers, response.get_data())
        answer = self.session.request(
            method,
            self.base_url + path,
            data=form if form is not None else body,
            json=json,
            headers=headers,
            allow_redirects=False,
            timeout=60,
        )
        return Answer(answer.status_code, answer.headers, answer.content)

    def get(self, path: str, **kwargs: Any) -> Answer:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Answer:
        return self.request("POST", path, **kwargs)


@pytest.fixture(scope="module")
def live_server(
    base_env: dict[str, str], _schema: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """gunicorn serving the test database and Redis; the URL, e.g. http://127.0.0.1:PORT."""
    log = Path(tmp_path_factory.mktemp("gunicorn")) / "web.log"
    env = {
        **base_env,
        # Nothing is sent through these in the tests that use the live server.
        "COMMSVC_EMAIL_URL": "smtp://127.0.0.1:9",
        "COMMSVC_SMS_URL": "http://127.0.0.1:9/send",
    }
    with gunicorn(env, log) as url:
        yield url


@contextlib.contextmanager
def gunicorn(
    env: Mapping[str, str], log: Path, ready_path: str = "/login", ready_status: int = 200
) -> Iterator[str]:
    """`commsvc web` (one gunicorn worker) with these settings on a free loopback port,
    once `ready_path` answers `ready_status`; its output goes to `log`. Stopped after."""
    port = embedded_redis.free_port()
    command = [sys.executable, "-m", "commsvc", "web", "--host", "127.0.0.1"]
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, "--port", str(port), "--workers", "1"],
            env={**os.environ, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(process, url + ready_path, ready_status, log)
        yield url
    finally:
        processes.stop_process(process, timeout=20)


@pytest.fixture(params=["test_client", "gunicorn"])
def via(request: pytest.FixtureRequest, client: Any) -> Via:
    if request.param == "test_client":
        return Via("test_client", client=client)
    return Via("gunicorn", base_url=request.getfixturevalue("live_server"))


def _wait_until_serving(
    process: subprocess.Popen[bytes], ready_url: str, ready_status: int, log: Path
) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            if requests.get(ready_url, timeout=2).status_code == ready_status:
                return
        # A busy machine: the port is open before the worker has loaded the app, and
        # the first answer can take longer than the read timeout. Ask again.
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not start: {log.read_text(errors='replace')[-2000:]}")
