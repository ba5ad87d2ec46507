"""Several providers behind one gateway: weights, failover, shared rate limits.

For each message: pick a provider at random by weight, where a provider's weight
shrinks with its recent failures (kept in Redis, so every worker sees them); wait
for its token bucket and a concurrency slot; send. A temporary failure moves the
message on to another provider not yet tried for it (failover); a throttling reply
slows that provider's bucket and the message goes again after the wait. Only when
the wait runs out is the message handed back as THROTTLED, for a later batch.

A message may wait a second or more for its token (a slow provider rate), and was
built before that wait: after it, and just before the adapter gets the message, the
caller's `still_wanted` is asked whether the member still gets it (an opt-out may
have landed meanwhile). If not, the message is WITHDRAWN, never sent.

Failover is only for messages that cannot have been accepted: a refused connection, a
connect timeout, a 5xx. A request that left and got no answer (a read timeout, a
connection dropped while waiting) is UNCONFIRMED: the provider may have accepted it,
so it is never tried on another provider (the member could get it twice); it counts as
a failure against the provider's weight and is recorded as such.
"""

from __future__ import annotations

import collections
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
    StillWanted,
    Upcoming,
    always_wanted,
    no_wait,
    nothing_upcoming,
)

MAX_WAIT_SECONDS = 30.0  # for a token or a slot, per message
MAX_THROTTLED_TRIES = 8


@dataclass
class Route:
    provider: Provider
    adapter: Adapter[Any]
    limiter: ratelimit.Limiter


class Lookahead:
    """The messages of a batch, built ahead while the provider handles the one before.

    `fetch` is the adapters' `meanwhile`: it builds (render, links, MIME) until the
    next two messages are ready, one per call once under way, so `peek` can hand an
    adapter the next message while the current one goes (SMTP announces its envelope
    with the current one's data). An error while building is kept and raised by `take`
    once the messages built before it have been taken, so it can never cost those
    their sending or the current message its recorded outcome.
    """

    END: Any = object()
    DEPTH = 2

    def __init__(self, messages: Iterable[Any]) -> None:
        self._messages = iter(messages)
        self._built: collections.deque[Any] = collections.deque()
        self._error: Exception | None = None

    def fetch(self) -> None:
        while len(self._built) < self.DEPTH and self._error is None:
            if self._built and self._built[-1] is self.END:
                return
            try:
                self._built.append(next(self._messages, self.END))
            except Exception as error:  # raised by `take`, in its turn
                self._error = error

    def take(self) -> Any:
        if not self._built:
            self.fetch()
            if not self._built:  # building the very next message failed
                assert self._error is not None
                raise self._error
        return self._built.popleft()

    def peek(self) -> Any:
        """The next message if it is built already, else None (never the end)."""
        if self._built and self._built[0] is not self.END:
            return self._built[0]
        return None


class RoutedGateway:
    """The Gateway the send tasks use: a generator of one Result per message."""

    def __init__(self, channel: str, routes: list[Route]) -> None:
        self.name = channel
        self.routes = routes

    def send(
        self,
        messages: Iterable[Any],
        ready: Ready = no_wait,
        still_wanted: StillWanted = always_wanted,
    ) -> Iterator[Result]:
        ahead = Lookahead(messages)
        # With several providers the next message may go to another one: announcing it
        # to this one would only cost a reconnection.
        peek = ahead.peek if len(self.routes) == 1 else nothing_upcoming
        while (message := ahead.take()) is not Lookahead.END:
            yield self.send_one(message, ready, ahead.fetch, still_wanted, peek)

    def send_one(
        self,
        message: Any,
        ready: Ready = no_wait,
        meanwhile: Meanwhile = no_wait,
        still_wanted: StillWanted = always_wanted,
        upcoming: Upcoming = nothing_upcoming,
    ) -> Result:
        deadline = time.monotonic() + MAX_WAIT_SECONDS
        tried: set[str] = set()
        throttled = 0
        result = Result(message.delivery_id, Outcome.TEMPORARY, reason="no provider left to try")
        while (route := self._choose(tried)) is not None:
            result = self._try(route, message, deadline, ready, meanwhile, still_wanted, upcoming)
            if result.outcome is Outcome.WITHDRAWN:
                return result
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
        self,
        route: Route,
        message: Any,
        deadline: float,
        ready: Ready,
        meanwhile: Meanwhile,
        still_wanted: StillWanted,
        upcoming: Upcoming,
    ) -> Result:
        name = route.provider.name
        if not route.limiter.acquire(deadline):
            return Result(
                message.delivery_id,
                Outcome.THROTTLED,
                reason="rate or concurrency limit",
                provider=name,
            )
        if not still_wanted(message.delivery_id):  # decided while it waited for its token
            return Result(message.delivery_id, Outcome.WITHDRAWN, provider=name)
        if getattr(route.adapter, "overlaps", False):
            overlapping = cast("OverlappingAdapter[Any]", route.adapter)
            result = overlapping.send_one(message, ready, meanwhile, upcoming)
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
