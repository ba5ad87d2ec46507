"""An HTTP SMS gateway speaking the generic JSON protocol of DESIGN.md.

It answers `{"id": ...}` for each accepted message and keeps it. For fault tests it
can answer with a chosen status for a share of requests (`fail_every`), hang past
the client's timeout on a share (`hang_every`, keeping nothing), answer 429 to
requests beyond `burst_limit` a second, and be slow (`delay`).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import itertools
import json
import queue
import random
import threading
import time
from pathlib import Path
from typing import Any

from commsvc.sinks.http_json import JsonServer, Request


class SmsSink:
    def __init__(self, port: int, folder: Path | None = None) -> None:
        self.port = port
        self.folder = folder
        self.messages: list[dict[str, Any]] = []
        self.requests = 0
        self.fail_every = 0  # answer `fail_status` to every n-th request; 0: never
        self.fail_status = 500
        self.reject_numbers: dict[str, int] = {}  # number -> 4xx status to answer
        self.hang_every = 0  # hang `hang_seconds` then answer 503 on every n-th request
        self.hang_seconds = 2.0
        # Or by chance, each request on its own (seeded, so a run can be repeated):
        self.fail_rate = 0.0  # share of requests answered `fail_status`
        self.hang_rate = 0.0  # share of requests that hang
        self._chance = random.Random(5)
        self.burst_limit = 0  # answer 429 beyond this many requests in one second; 0: no limit
        self.throttled = 0  # how many 429s it answered
        self._window = (0, 0)  # (second, requests in it)
        self.delay = 0.0  # seconds to wait before each answer, to make a send take a while
        # When set, each accepted message is followed by a signed "delivered" receipt.
        self.callback_url: str | None = None
        self.callback_secret = ""
        self._receipts: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._ids = itertools.count(1)
        self._receipts_started = False
        self._lock = threading.Lock()
        self._server = JsonServer(port, self._answer_request, name="sms-sink")
        if folder:
            folder.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/send"

    def start(self) -> SmsSink:
        self._server.start()
        if self.callback_url:
            self.start_receipts()
        return self

    def start_receipts(self) -> None:
        """Start sending receipts to `callback_url` (set after `start`, e.g. in tests)."""
        if not self._receipts_started:
            self._receipts_started = True
            threading.Thread(target=self._send_receipts, daemon=True, name="sms-receipts").start()

    def stop(self) -> None:
        self._receipts.put(None)
        self._server.stop()

    def _answer_request(self, request: Request) -> tuple[int, dict[str, Any]]:
        if request.path != "/send":
            return 404, {"error": "no such path: messages go to /send"}
        try:
            payload = json.loads(request.body or b"null")
        except ValueError:
            return 400, {"error": "body is not JSON"}
        return self.answer(payload)

    def answer(self, payload: Any) -> tuple[int, dict[str, Any]]:
        if self.delay:
            time.sleep(self.delay)
        with self._lock:
            self.requests += 1
            second = int(time.monotonic())
            in_window = self._window[1] + 1 if self._window[0] == second else 1
            self._window = (second, in_window)
            if self.burst_limit and in_window > self.burst_limit:
                self.throttled += 1
                return 429, {"error": "too many requests"}
            draw = self._chance.random()
            hang = (self.hang_every and self.requests % self.hang_every == 0) or (
                draw < self.hang_rate
            )
            fail = (self.fail_every and self.requests % self.fail_every == 0) or (
                self.hang_rate <= draw < self.hang_rate + self.fail_rate
            )
            if fail and not hang:
                return self.fail_status, {"error": "simulated failure"}
        if hang:
            time.sleep(self.hang_seconds)
            return 503, {"error": "simulated timeout"}
        if not isinstance(payload, dict) or not all(
            isinstance(payload.get(k), str) for k in ("to", "from", "body", "reference")
        ):
            return 400, {"error": "to, from, body and reference are required"}
        status = self.reject_numbers.get(payload["to"])
        if status:
            return status, {"error": "number rejected"}
        with self._lock:
            provider_id = f"sms-{next(self._ids)}"
            record = {**payload, "id": provider_id}
            self.messages.append(record)
            if self.folder:
                with open(self.folder / "sms.jsonl", "a", encoding="utf-8") as handle:
                    handle.write(json.dumps(record) + "\n")
        if self.callback_url:
            self._receipts.put(
                {"id": provider_id, "reference": payload["reference"], "status": "delivered"}
            )
        return 200, {"id": provider_id}

    def _send_receipts(self) -> None:
        import requests

        while (receipt := self._receipts.get()) is not None:
            body = json.dumps(receipt).encode()
            signature = hmac.new(self.callback_secret.encode(), body, hashlib.sha256).hexdigest()
            headers = {"Content-Type": "application/json", "X-Signature": signature}
            # A demo receipt lost is a delivery left at "sent".
            with contextlib.suppress(requests.RequestException):
                requests.post(str(self.callback_url), data=body, timeout=5, headers=headers)
