"""Worker hosts on one machine: network namespaces joined to this one by veth pairs.

Each host is a namespace of its own (`ip netns`), with one veth pair to the machine:
the machine's end gets 10.213.<n>.1/30 and the host's end 10.213.<n>.2/30. Those are
addresses of namespaces the drill made itself; nothing else is ever addressed. A host
reaches the services only through its link, so cutting the link (`cut`) partitions it
from PostgreSQL, Redis and the gateways at once, as a switch failure would; `restore`
joins it again with its TCP connections still open.

Everything made here is removed by the same context manager, even after an error.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

SUBNET = "10.213"
IP_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Host:
    """One worker host: a namespace and the veth pair that is its only link."""

    index: int
    namespace: str

    @property
    def machine_address(self) -> str:
        """The machine's end of the link: where this host finds the services."""
        return f"{SUBNET}.{self.index}.1"

    @property
    def address(self) -> str:
        return f"{SUBNET}.{self.index}.2"

    @property
    def _machine_link(self) -> str:
        return f"{self.namespace[:9]}m{self.index}"

    def command(self, argv: Sequence[str]) -> list[str]:
        """`argv` as run inside this host."""
        return ["ip", "netns", "exec", self.namespace, *argv]

    def cut(self) -> None:
        """Partition the host: its link goes down (packets are dropped, nobody is told)."""
        _ip("link", "set", self._machine_link, "down")

    def restore(self) -> None:
        _ip("link", "set", self._machine_link, "up")


def can_make_namespaces() -> str | None:
    """None when namespaces can be made here; otherwise the reason they cannot."""
    name = f"cscheck{os.getpid()}"
    try:
        _ip("netns", "add", name)
    except (OSError, subprocess.CalledProcessError) as error:
        return f"network namespaces cannot be made here ({error})"
    _ip("netns", "del", name)
    return None


@contextlib.contextmanager
def hosts(count: int, prefix: str = "cs") -> Iterator[list[Host]]:
    """Make `count` hosts; remove every namespace and link afterwards."""
    tag = f"{prefix}{os.getpid() % 100000}"
    made: list[Host] = []
    try:
        for index in range(1, count + 1):
            host = Host(index, f"{tag}h{index}")
            _make(host)
            made.append(host)
        yield made
    finally:
        for host in made:
            with contextlib.suppress(subprocess.CalledProcessError, OSError):
                _ip("link", "del", host._machine_link)  # removes both ends
            with contextlib.suppress(subprocess.CalledProcessError, OSError):
                _ip("netns", "del", host.namespace)


def _make(host: Host) -> None:
    inner = f"{host.namespace[:9]}h{host.index}"
    _ip("netns", "add", host.namespace)
    _ip("link", "add", host._machine_link, "type", "veth", "peer", "name", inner)
    _ip("link", "set", inner, "netns", host.namespace)
    _ip("addr", "add", f"{host.machine_address}/30", "dev", host._machine_link)
    _ip("link", "set", host._machine_link, "up")
    _ip("-n", host.namespace, "addr", "add", f"{host.address}/30", "dev", inner)
    _ip("-n", host.namespace, "link", "set", inner, "up")
    _ip("-n", host.namespace, "link", "set", "lo", "up")


def _ip(*args: str) -> None:
    subprocess.run(
        ["ip", *args], check=True, capture_output=True, timeout=IP_TIMEOUT_SECONDS, text=True
    )
