"""A fast local SMS gateway for the benchmarks, speaking DESIGN.md's generic protocol.

commsvc's own sink (commsvc/sinks/sms.py) writes headers and body in two writes, so
over a kept-alive connection each reply waits for the client's delayed ACK (about
40 ms): right for tests, useless for measuring. This one answers in one write with
Nagle off, records each reference, and can fail every n-th request for the drills.
"""

from __future__ import annotations

import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FastSmsGateway:
    def __init__(self, port: int, fail_every: int = 0) -> None:
        self.port = port
        self.fail_every = fail_every
        self.references: list[str] = []
        self._requests = itertools.count(1)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/send"

    def start(self) -> FastSmsGateway:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def answer(self, body: bytes) -> tuple[int, bytes]:
        with self._lock:
            number = next(self._requests)
            if self.fail_every and number % self.fail_every == 0:
                return 500, b'{"error": "simulated failure"}'
        try:
            reference = json.loads(body)["reference"]
        except (ValueError, KeyError, TypeError):
            return 400, b'{"error": "reference is required"}'
        with self._lock:
            self.references.append(str(reference))
            provider_id = next(self._ids)
        return 200, b'{"id": "fast-%d"}' % provider_id


def _handler_for(gateway: FastSmsGateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True
        wbufsize = 64 * 1024  # headers and body leave in one write, at the flush

        def do_POST(self) -> None:  # noqa: N802 (the http.server API)
            length = int(self.headers.get("Content-Length") or 0)
            status, data = gateway.answer(self.rfile.read(length))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

    return Handler
