"""A fast local SMS gateway for the benchmarks, speaking DESIGN.md's generic protocol.

Lighter than commsvc's capture sink (commsvc/sinks/sms.py), which validates and keeps
whole messages: this one only records each reference, and can fail every n-th
request for the drills. Both answer through commsvc/sinks/http_json.py.
"""

from __future__ import annotations

import itertools
import json
import threading
import time

from commsvc.sinks.http_json import JsonServer, Request


class FastSmsGateway:
    def __init__(self, port: int, fail_every: int = 0) -> None:
        self.port = port
        self.fail_every = fail_every
        self.references: list[str] = []
        self.received_at: dict[str, float] = {}  # reference -> time.time() of its first arrival
        self._requests = itertools.count(1)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server = JsonServer(port, self.answer, name="fast-sms-gateway")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/send"

    def start(self) -> FastSmsGateway:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def answer(self, request: Request) -> tuple[int, bytes]:
        with self._lock:
            number = next(self._requests)
            if self.fail_every and number % self.fail_every == 0:
                return 500, b'{"error": "simulated failure"}'
        try:
            reference = json.loads(request.body)["reference"]
        except (ValueError, KeyError, TypeError):
            return 400, b'{"error": "reference is required"}'
        with self._lock:
            self.references.append(str(reference))
            self.received_at.setdefault(str(reference), time.time())
            provider_id = next(self._ids)
        return 200, b'{"id": "fast-%d"}' % provider_id
