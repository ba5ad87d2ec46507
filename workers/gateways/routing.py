"""Several providers behind one gateway: weights, failover, shared rate limits.

For each message: pick a provider at random by weight, where a provider's weight
shrinks with its recent failures (kept in Redis, so every worker sees them); wait
for its token bucket and a concurrency slot; send. A temporary failure moves the
message on to another provider not yet tried for it (failover); a throttling reply
slows that provider's bucket and the message goes again after the wait. Only when
the wait runs out is the message handed back as THROTTLED, for a later batch.

Failover is only for messages that cannot have been accepted: a refused connection, a
connect timeout, a 5xx. A request that left and got no answer (a read timeout, a
connection dropped while waiting) is UNCONFIRMED: the provider may have accepted it,
so it is never tried on another provider (the member could get it twice); it counts as
a failure against the provider's weight and is recorded as such.
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, cast

from commsvc.providers import Provider
from workers import ratelimit
from workers.gateways.base import (
    Adapter,
    Meanwhile,
    Outcome,
    OverlappingAdapter,
    Ready,
    Result,
    no_wait,
)

MAX_WAIT_SECONDS = 30.0  # for a token or a slot, per message
MAX_THROTTLED_TRIES = 8


@dataclass
class Route:
    provider: Provider
    adapter: Adapter[Any]
    limiter: ratelimit.Limiter


class Lookahead:
    """The messages of a batch, the next one built while the provider handles this one.

    `fetch` is the adapters' `meanwhile`: it builds the next message (render, links,
    MIME) while the current one's reply is on its way. An error while building is
    kept and raised by `take`, after the current message's result has been handed on,
    so it can never cost that message its recorded outcome.
    """

    END: Any = object()
    _EMPTY: Any = object()

    def __init__(self, messages: Iterable[Any]) -> None:
        self._messages = iter(messages)
        self._next: Any = self._EMPTY
        self._error: Exception | None = None

    def fetch(self) -> None:
        if self._next is self._EMPTY and self._error is None:
            try:
                self._next = next(self._messages, self.END)
            except Exception as error:  # raised by `take`, in its turn
                self._error = error

    def take(self) -> Any:
        self.fetch()
        if self._error is not None:
            raise self._error
        message, self._next = self._next, self._EMPTY
        return message


class RoutedGateway:
    """The Gateway the send tasks use: a generator of one Result per message."""

    def __init__(self, channel: str, routes: list[Route]) -> None:
        self.name = channel
        self.routes = routes

    def send(self, messages: Iterable[Any], ready: Ready = no_wait) -> Iterator[Result]:
        upcoming = Lookahead(messages)
        while (message := upcoming.take()) is not Lookahead.END:
            yield self.send_one(message, ready, upcoming.fetch)

    def send_one(
        self, message: Any, ready: Ready = no_wait, meanwhile: Meanwhile = no_wait
    ) -> Result:
        deadline = time.monotonic() + MAX_WAIT_SECONDS
        tried: set[str] = set()
        throttled = 0
        result = Result(message.delivery_id, Outcome.TEMPORARY, reason="no provider left to try")
        while (route := self._choose(tried)) is not None:
            result = self._try(route, message, deadline, ready, meanwhile)
            if result.outcome is Outcome.THROTTLED:
                route.limiter.throttled()
                throttled += 1
                if throttled >= MAX_THROTTLED_TRIES or time.monotonic() > deadline:
                    return result
                continue
            if result.outcome is Outcome.TEMPORARY:
                route.limiter.failed()
                tried.add(route.provider.name)
                continue
            if result.outcome is Outcome.UNCONFIRMED:  # may be accepted: no failover
                route.limiter.failed()
                return result
            if result.outcome is Outcome.ACCEPTED:
                route.limiter.succeeded()
            return result
        return result

    def close(self) -> None:
        for route in self.routes:
            route.limiter.release()
            route.adapter.close()

    def _try(
        self, route: Route, message: Any, deadline: float, ready: Ready, meanwhile: Meanwhile
    ) -> Result:
        name = route.provider.name
        if not route.limiter.acquire(deadline):
            return Result(
                message.delivery_id,
                Outcome.THROTTLED,
                reason="rate or concurrency limit",
                provider=name,
            )
        if getattr(route.adapter, "overlaps", False):
            overlapping = cast("OverlappingAdapter[Any]", route.adapter)
            result = overlapping.send_one(message, ready, meanwhile)
        else:  # one synchronous request: nothing to overlap with
            ready()
            result = route.adapter.send_one(message)
        return dataclasses.replace(result, provider=name)

    def _choose(self, tried: set[str]) -> Route | None:
        candidates = [r for r in self.routes if r.provider.name not in tried]
        if len(candidates) <= 1:
            return candidates[0] if candidates else None
        client = candidates[0].limiter.client
        failures = ratelimit.recent_failures(client, [r.provider.name for r in candidates])
        weights = [
            r.provider.weight / (1 + f) ** 2 for r, f in zip(candidates, failures, strict=True)
        ]
        return random.choices(candidates, weights=weights)[0]
