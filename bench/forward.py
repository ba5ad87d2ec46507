"""A TCP forwarder: the services on loopback, offered on the drill hosts' links too.

PostgreSQL, Redis and the sinks listen on 127.0.0.1. A worker host in a namespace
reaches them at its link's machine address; this forwards each such connection to
the same port on loopback. It listens only on the addresses it is given (the drill's
own veth ends), never on every interface. A cut link stalls the connections through
it exactly as a real partition would: no reset, just silence.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Iterable

CHUNK = 65536


class Forwarder:
    """Forward (address, port) -> (127.0.0.1, port) for every address and port given."""

    def __init__(self, addresses: Iterable[str], ports: Iterable[int]) -> None:
        self.addresses = list(addresses)
        self.ports = list(ports)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._servers: list[asyncio.base_events.Server] = []

    def start(self) -> Forwarder:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(timeout=10)
        return self

    def stop(self) -> None:
        async def close() -> None:
            for server in self._servers:
                server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    async def _listen(self) -> None:
        for address in self.addresses:
            for port in self.ports:
                server = await asyncio.start_server(self._handler(port), address, port)
                self._servers.append(server)

    def _handler(
        self, port: int
    ) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await self._connect(reader, writer, port)

        return handle

    async def _connect(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, port: int
    ) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(
            _pump(reader, upstream_writer), _pump(upstream_reader, writer), return_exceptions=True
        )


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    finally:
        with contextlib.suppress(Exception):
            writer.close()
