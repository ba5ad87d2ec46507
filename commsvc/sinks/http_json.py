"""A small threaded HTTP server on loopback that answers POSTs with JSON: the base of
the SMS capture sink, the benchmark's fast gateway and the tests' provider stand-ins.

Each reply leaves in one write (headers buffered with the body, Nagle off): written
in two, a kept-alive client's delayed ACK holds every reply back about 40 ms.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_BODY_BYTES = 64 * 1024


class Request:
    """What a handler is given: the path, the headers and the raw body."""

    def __init__(self, path: str, headers: dict[str, str], body: bytes) -> None:
        self.path = path
        self.headers = headers
        self.body = body


Answer = Callable[[Request], tuple[int, Any]]  # -> (status, JSON-able body or bytes)


class JsonServer:
    """Serve `answer` on 127.0.0.1:`port` in a background thread until `stop`."""

    def __init__(self, port: int, answer: Answer, name: str = "http-json") -> None:
        self.port = port
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(answer))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name=name)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _handler_for(answer: Answer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True
        wbufsize = 64 * 1024  # headers and body leave together, at the flush

        def do_POST(self) -> None:  # noqa: N802 (the http.server API)
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                self._reply(413, {"error": "body too large"})
                return
            request = Request(self.path, dict(self.headers.items()), self.rfile.read(length))
            self._reply(*answer(request))

        def _reply(self, status: int, body: Any) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            with contextlib.suppress(OSError):  # the client gave up waiting (a hang)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

    return Handler
