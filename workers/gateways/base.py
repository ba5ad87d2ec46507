"""The gateway interface: send messages, report one outcome per message.

An outcome is data, not an exception. `send` is a generator: it sends the next
message only when asked for the next result, so the caller can commit each
acceptance before another message leaves.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Protocol, TypeVar

from commsvc.services.email_message import EmailEnvelope


class Outcome(Enum):
    ACCEPTED = "accepted"
    TEMPORARY = "temporary"  # try again later
    PERMANENT = "permanent"  # never retry; record the reason


@dataclass(frozen=True)
class Result:
    delivery_id: int
    outcome: Outcome
    provider_id: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class SmsMessage:
    delivery_id: int
    to: str
    sender: str
    body: str


M_contra = TypeVar("M_contra", EmailEnvelope, SmsMessage, contravariant=True)


class Gateway(Protocol[M_contra]):
    name: str

    def send(self, messages: Iterable[M_contra]) -> Iterator[Result]: ...

    def close(self) -> None: ...
