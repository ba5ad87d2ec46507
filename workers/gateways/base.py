"""The gateway interface: send messages, report one outcome per message.

An outcome is data, not an exception. `send` is a generator: it sends the next
message only when asked for the next result, so the caller can record each
acceptance before another message leaves. The caller's record may still be on its
way to the database: `ready` waits for it. The gateway calls it before each HTTP
request; an OverlappingAdapter (SMTP) calls it itself at the last moment before the
provider could accept the message (after the 354 that invites the data), so the two
round trips overlap and still no message is accepted before the one before it is
recorded. Likewise `meanwhile` lets the message after next be built while the provider
works on this one, and `upcoming` hands an adapter the next one, built already, so
SMTP can write its envelope with this message's data: one write and one reply a
message instead of two each, on both sides.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Protocol, TypeVar

import requests
from urllib3.exceptions import NameResolutionError, NewConnectionError

from commsvc.envelopes import EmailEnvelope


class Outcome(Enum):
    ACCEPTED = "accepted"
    TEMPORARY = "temporary"  # try again later
    PERMANENT = "permanent"  # never retry; record the reason
    # The provider said "too many": not a failure of the message. It waits for the
    # rate limit and goes again, and no attempt is counted against it.
    THROTTLED = "throttled"
    # The message left but its answer never came (a read timeout, or the connection
    # dropped after the data): the provider may have accepted it. Never sent again
    # automatically, nor failed over to another provider; recorded as a temporary
    # failure with no retry, its reason saying the outcome is unknown.
    UNCONFIRMED = "unconfirmed"
    # The caller's `still_wanted` said no after the rate wait: never handed to a
    # provider. The caller has already recorded why (an opt-out, a suppression).
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class Result:
    delivery_id: int
    outcome: Outcome
    provider_id: str | None = None
    reason: str | None = None
    provider: str | None = None  # which provider answered (several may serve a channel)


@dataclass(frozen=True)
class SmsMessage:
    delivery_id: int
    to: str
    sender: str
    body: str


Ready = Callable[[], None]  # blocks until the previous acceptance is recorded
# Work to do while the provider handles this message (building the next one). An
# adapter calls it once the message has left, before it reads the reply.
Meanwhile = Callable[[], None]
# Asked after the rate wait, just before a message goes to the adapter: is it still to
# be sent? A plain callable, so gateways know nothing of members or their choices.
StillWanted = Callable[[int], bool]
# The batch's next message, if it is built already, or None. An adapter may announce it
# to the provider ahead (SMTP: its envelope written with this message's data); nothing
# the provider can accept, and the routing still decides whether and where it goes.
Upcoming = Callable[[], object]


def no_wait() -> None:
    """`ready` for callers with nothing to wait for (tests, test sends)."""


def nothing_upcoming() -> None:
    """`upcoming` for callers that send one message at a time."""


def always_wanted(delivery_id: int) -> bool:
    """`still_wanted` for callers whose messages cannot be withdrawn (test sends)."""
    return True


M_contra = TypeVar("M_contra", EmailEnvelope, SmsMessage, contravariant=True)


class Adapter(Protocol[M_contra]):
    """One provider's wire format: send one message, say what became of it."""

    def send_one(self, message: M_contra) -> Result: ...

    def close(self) -> None: ...


class OverlappingAdapter(Protocol[M_contra]):
    """An adapter whose protocol has a moment worth overlapping (SMTP: between the
    354 and the data, and while the reply is on its way). It calls `ready` and
    `meanwhile` itself, and may announce the `upcoming` message; for any other adapter
    the gateway calls `ready` first."""

    overlaps: bool

    def send_one(
        self,
        message: M_contra,
        ready: Ready = no_wait,
        meanwhile: Meanwhile = no_wait,
        upcoming: Upcoming = nothing_upcoming,
    ) -> Result: ...

    def close(self) -> None: ...


class Gateway(Protocol[M_contra]):
    name: str

    def send(
        self,
        messages: Iterable[M_contra],
        ready: Ready = no_wait,
        still_wanted: StillWanted = always_wanted,
    ) -> Iterator[Result]: ...

    def close(self) -> None: ...


def by_http_status(delivery_id: int, status: int, text: str, who: str) -> Result:
    """The outcome of a non-2xx answer: 429 throttled; 5xx, 401, 403 and 408 temporary
    (the provider or our credentials, not the member's address); other 4xx permanent."""
    reason = f"{who} answered {status}: {text[:200]}"
    if status == 429:
        return Result(delivery_id, Outcome.THROTTLED, reason=reason)
    if status >= 500 or status in (401, 403, 408):
        return Result(delivery_id, Outcome.TEMPORARY, reason=reason)
    return Result(delivery_id, Outcome.PERMANENT, reason=reason)


def unreachable(delivery_id: int, who: str, error: Exception) -> Result:
    """The outcome of a request that raised: temporary if it never reached the provider
    (no connection), UNCONFIRMED if it may have (sent, then no answer)."""
    if _never_sent(error):
        return Result(
            delivery_id, Outcome.TEMPORARY, reason=f"{who} unreachable: {type(error).__name__}"
        )
    return Result(
        delivery_id,
        Outcome.UNCONFIRMED,
        reason=f"outcome unknown: {who} did not answer after the request was sent "
        f"({type(error).__name__}); not resent automatically",
    )


def _never_sent(error: Exception) -> bool:
    """Whether a requests error happened before the request could reach the provider:
    no connection made, or a URL that could not be used. Anything else (a read timeout,
    a connection dropped while waiting for the answer) may have been accepted."""
    if isinstance(error, requests.ConnectTimeout | requests.exceptions.InvalidURL):
        return True
    if isinstance(error, requests.exceptions.MissingSchema | requests.exceptions.InvalidSchema):
        return True
    if isinstance(error, requests.ConnectionError) and not isinstance(error, requests.Timeout):
        cause = error.args[0] if error.args else None
        reason = getattr(cause, "reason", cause)
        return isinstance(reason, NewConnectionError | NameResolutionError)
    return False
