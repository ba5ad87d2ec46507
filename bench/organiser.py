"""What an organiser's system does over the REST API, timed as its user sees it: create
a bulletin, ask for it to be sent, and poll `GET /api/v1/bulletins/{id}` every 0.2 s
until the status reads `sent`.

Only HTTP here, as a client on another machine would have it: nothing reads the
database. It keeps one latency per poll (a few thousand floats for an hour's send),
never anything per member.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

POLL_EVERY_SECONDS = 0.2
REQUEST_TIMEOUT_SECONDS = 300  # creating a bulletin counts its audience: a million rows
_GIVEN_UP = ("cancelled", "paused")


@dataclass
class Watched:
    """One send as the organiser saw it."""

    requested_at: datetime  # naive UTC, as the database stores times
    seconds_to_sent: float  # from the send request to the first poll that read `sent`
    latencies_ms: list[float]  # of every status poll made during the send
    last: dict[str, Any] = field(default_factory=dict)  # the last status answer

    def latency_summary(self) -> dict[str, float | int | None]:
        """p50, p95 and max of the status endpoint's latency, and the number of polls."""
        ordered = sorted(self.latencies_ms)
        return {
            "polls": len(ordered),
            "p50_ms": _percentile(ordered, 50),
            "p95_ms": _percentile(ordered, 95),
            "max_ms": ordered[-1] if ordered else None,
        }


class Organiser:
    """An API key's view of commsvc at `base_url` (e.g. http://127.0.0.1:5000)."""

    def __init__(self, base_url: str, api_key: str) -> None:
        self.api = base_url.rstrip("/") + "/api/v1"
        self.headers = {"Authorization": f"Bearer {api_key}"}

    def create_bulletin(self, fields: dict[str, Any]) -> int:
        """`POST /bulletins`; returns the new bulletin's id."""
        response = requests.post(
            f"{self.api}/bulletins",
            json=fields,
            headers=self.headers,
            timeout=REQUEST_TIMEOUT_SECONDS,
        )
        _check(response, 201)
        return int(response.json()["id"])

    def send_and_watch(
        self,
        bulletin_id: int,
        timeout: float,
        on_tick: Callable[[dict[str, Any]], None] | None = None,
    ) -> Watched:
        """Send now, then poll the status every 0.2 s until it reads `sent`.

        `on_tick` gets the latest status answer about once a second, in this thread,
        while a client thread does the polling on its own clock.
        """
        requested_at = datetime.now(UTC).replace(tzinfo=None)
        started = time.monotonic()
        response = requests.post(
            f"{self.api}/bulletins/{bulletin_id}/send",
            json={},
            headers=self.headers,
            timeout=REQUEST_TIMEOUT_SECONDS,
        )
        _check(response, 202)
        poller = _StatusPoller(f"{self.api}/bulletins/{bulletin_id}", self.headers, timeout)
        poller.start()
        while poller.is_alive():
            poller.join(1.0)
            if on_tick and poller.last:
                on_tick(poller.last)
        if poller.error is not None:
            raise poller.error
        assert poller.sent_at is not None
        return Watched(
            requested_at=requested_at,
            seconds_to_sent=poller.sent_at - started,
            latencies_ms=poller.latencies_ms,
            last=poller.last,
        )


class _StatusPoller(threading.Thread):
    """Polls one bulletin's status every 0.2 s, start to start, until it reads `sent`;
    an answer slower than that is followed at once by the next poll (no catching up)."""

    def __init__(self, url: str, headers: dict[str, str], timeout: float) -> None:
        super().__init__(name="status-poller", daemon=True)
        self.url, self.headers, self.timeout = url, headers, timeout
        self.latencies_ms: list[float] = []
        self.last: dict[str, Any] = {}
        self.sent_at: float | None = None
        self.error: Exception | None = None

    def run(self) -> None:
        try:
            self._poll()
        except Exception as error:  # handed to the waiting thread, which raises it
            self.error = error

    def _poll(self) -> None:
        session = requests.Session()
        next_at = time.monotonic()
        deadline = next_at + self.timeout
        while time.monotonic() < deadline:
            asked = time.perf_counter()
            response = session.get(self.url, headers=self.headers, timeout=60)
            self.latencies_ms.append(1000 * (time.perf_counter() - asked))
            _check(response, 200)
            self.last = response.json()
            status = self.last["status"]
            if status == "sent":
                self.sent_at = time.monotonic()
                return
            if status in _GIVEN_UP:
                raise RuntimeError(f"the bulletin went {status} during the send: {self.last}")
            next_at = max(next_at + POLL_EVERY_SECONDS, time.monotonic())
            time.sleep(max(0.0, next_at - time.monotonic()))
        raise TimeoutError(f"not sent within {self.timeout:.0f} s: last status {self.last}")


def _check(response: requests.Response, expected: int) -> None:
    if response.status_code != expected:
        raise RuntimeError(
            f"{response.request.method} {response.url}: {response.status_code} {response.text}"
        )


def _percentile(ordered: list[float], percent: int) -> float | None:
    """Nearest-rank percentile of an already sorted list."""
    if not ordered:
        return None
    rank = max(1, -(-percent * len(ordered) // 100))  # ceil, without floats
    return ordered[rank - 1]
