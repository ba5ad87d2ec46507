"""A batch's members as it last read them: who still gets the message, in memory.

The batch reads its recipients once when it starts (`recipients.load`) and rechecks
them as it goes (`recipients.recheck`, one query for many deliveries). Between those
reads a message may be built and then wait a second or more for its provider's
rate-limit slot, or be built ahead (the gateway's Lookahead) while the one before it
goes out: an opt-out landing in that window must still stop it. So the gateway asks,
just before it hands a message to the provider, whether it is still wanted; the answer
comes from a read younger than `wanted_max_age` that covered it: a fraction of a second
on a fast channel, none at all (a read per message) on a slow one (see sending.py).

A recheck reads a window of the deliveries about to go, not the whole rest of the
batch: about twice as many as went during the previous read's life, so a read is
rarely wasted on deliveries that will be read again before they go (a recheck costs
a suppression hash per address). One query per `max_age` at most in a steady batch,
never one per message.
"""

from __future__ import annotations

import time

from commsvc.services.delivery import recipients

MIN_WINDOW = 32  # deliveries a recheck reads at least


class BatchMembers:
    """The recipients of one batch (ids in sending order) and their latest verdicts."""

    def __init__(
        self,
        ids: list[int],
        channel: str,
        topic_id: int,
        topic_kind: str,
        max_age: float,
        wanted_max_age: float | None = None,
    ) -> None:
        self.ids = ids
        self.channel, self.topic_id, self.topic_kind = channel, topic_id, topic_kind
        self.max_age = max_age
        self.wanted_max_age = max_age if wanted_max_age is None else wanted_max_age
        self._position = {delivery_id: n for n, delivery_id in enumerate(ids)}
        self.loaded = recipients.load(ids, channel, topic_id, topic_kind)
        self._verdicts: recipients.Verdicts | None = None
        # The positions [_read_from, _read_to) the last read covered, and when.
        self._read_from, self._read_to = 0, len(ids)
        self._read_at = time.monotonic()
        self._answered = -1  # position of the last delivery `still_wanted` answered for

    def refresh_if_stale(self) -> None:
        """Read the next deliveries not yet answered for again, unless the last read
        is younger than `max_age` (what already went needs no answer)."""
        if time.monotonic() - self._read_at >= self.max_age:
            self._read(self._answered + 1)

    def still_wanted(self, delivery_id: int) -> recipients.Recipient | None:
        """The recipient of a message about to go, as read at most `wanted_max_age` ago
        (None: not one of this batch's). Later reads skip it and everything before it."""
        position = self._position.get(delivery_id)
        if position is None:
            return None
        age = time.monotonic() - self._read_at
        if not self._covers(position) or age >= self.wanted_max_age:
            self._read(max(self._answered + 1, position))
        self._answered = max(self._answered, position)
        return self.now(delivery_id)

    def now(self, delivery_id: int) -> recipients.Recipient | None:
        """This delivery's recipient as last read (None: not one of this batch's)."""
        recipient = self.loaded.get(delivery_id)
        if recipient is None:
            return None
        position = self._position[delivery_id]
        if not self._covers(position):  # outside the last read's window
            self._read(position)
        return recipient.now(self._verdicts)

    def _covers(self, position: int) -> bool:
        return self._read_from <= position < self._read_to

    def _read(self, start: int) -> None:
        went = max(start - self._read_from, 0)
        window = max(MIN_WINDOW, 2 * went)
        rest = self.ids[start : start + window]
        self._verdicts = recipients.recheck(rest, self.channel, self.topic_id, self.topic_kind)
        self._read_from, self._read_to = start, start + len(rest)
        self._read_at = time.monotonic()
