"""A batch's members as it last read them: who still gets the message, in memory.

The batch reads its recipients once when it starts (`recipients.load`) and rechecks
the rest of the batch at each pause check (`recipients.recheck`, one query whatever the
batch size). Between those reads a message may be built and then wait a second or
more for its provider's rate-limit slot, or be built ahead (the gateway's Lookahead)
while the one before it goes out: an opt-out landing in that window must still stop
it. So the gateway asks, just before it hands a message to the provider, whether it is
still wanted; the answer comes from here, and the rest of the batch is read again
first if the last read is older than `max_age` (a fraction of a second). One query per
`max_age` at most, never one per message.
"""

from __future__ import annotations

import time

from commsvc.services.delivery import recipients


class BatchMembers:
    """The recipients of one batch (ids in sending order) and their latest verdicts."""

    def __init__(
        self,
        ids: list[int],
        channel: str,
        topic_id: int,
        topic_kind: str,
        max_age: float,
    ) -> None:
        self.ids = ids
        self.channel, self.topic_id, self.topic_kind = channel, topic_id, topic_kind
        self.max_age = max_age
        self._position = {delivery_id: n for n, delivery_id in enumerate(ids)}
        self.loaded = recipients.load(ids, channel, topic_id, topic_kind)
        self._verdicts: recipients.Verdicts | None = None
        self._read_at = time.monotonic()
        self._answered = -1  # position of the last delivery `still_wanted` answered for

    def refresh_if_stale(self) -> None:
        """Read the choices of every delivery not yet answered for again, unless the
        last read is younger than `max_age` (what already went needs no answer)."""
        if time.monotonic() - self._read_at < self.max_age:
            return
        rest = self.ids[self._answered + 1 :]
        self._verdicts = recipients.recheck(rest, self.channel, self.topic_id, self.topic_kind)
        self._read_at = time.monotonic()

    def still_wanted(self, delivery_id: int) -> recipients.Recipient | None:
        """The recipient of a message about to go, as read at most `max_age` ago (None:
        not one of this batch's). Later reads skip it and everything before it."""
        self.refresh_if_stale()
        self._answered = max(self._answered, self._position.get(delivery_id, -1))
        return self.now(delivery_id)

    def now(self, delivery_id: int) -> recipients.Recipient | None:
        """This delivery's recipient as last read (None: not one of this batch's)."""
        recipient = self.loaded.get(delivery_id)
        return recipient.now(self._verdicts) if recipient is not None else None
