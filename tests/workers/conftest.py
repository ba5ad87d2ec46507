"""A tiny HTTP server on loopback that speaks whatever wire format a test gives it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import pytest

from commsvc import embedded_redis
from commsvc.sinks.http_json import JsonServer, Request


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
    servers: list[JsonServer] = []

    def start(reply: Callable[[Received], Reply]) -> LoopbackServer:
        state = LoopbackServer(reply, port=embedded_redis.free_port())

        def answer(request: Request) -> Reply:
            received = Received("POST", request.path, request.headers, request.body)
            state.received.append(received)
            return state.reply(received)

        server = JsonServer(state.port, answer, name="loopback")
        server.start()
        servers.append(server)
        return state

    yield start
    for server in servers:
        server.stop()
