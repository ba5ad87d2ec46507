"""A tiny HTTP server on loopback that speaks whatever wire format a test gives it."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

from commsvc import embedded_redis


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


Reply = tuple[int, Any]


@dataclass
class LoopbackServer:
    """Answers each request with `reply(received)`; keeps every request it got."""

    reply: Callable[[Received], Reply]
    received: list[Received] = field(default_factory=list)
    port: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def loopback() -> Iterator[Callable[[Callable[[Received], Reply]], LoopbackServer]]:
    servers: list[ThreadingHTTPServer] = []

    def start(reply: Callable[[Received], Reply]) -> LoopbackServer:
        state = LoopbackServer(reply, port=embedded_redis.free_port())

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as two writes

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                received = Received(
                    "POST", self.path, dict(self.headers.items()), self.rfile.read(length)
                )
                state.received.append(received)
                status, body = state.reply(received)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        server = ThreadingHTTPServer(("127.0.0.1", state.port), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return state

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
