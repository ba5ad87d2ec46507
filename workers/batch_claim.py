"""A batch's hold on the deliveries it claimed, renewed as the batch goes.

Beat takes back a claim that looks abandoned: anybody's after
COMMSVC_STUCK_AFTER_SECONDS, a silent worker's after COMMSVC_WORKER_DEAD_AFTER_SECONDS
(services/delivery/recovery.py). The batch renews its claim well within both, checks it
before building each message, and checks it again just before the provider could
accept one (`check`, through the gateway's `ready`), so a worker that stalled long
enough to lose its claim (frozen, partitioned) sends nothing that was taken from it;
only the message that had already left before the stall can go twice.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

from commsvc.services.delivery import claims


@dataclass
class BatchClaim:
    """The batch's claim on its deliveries, renewed as the batch goes.

    `stuck_after` is the shorter of the two limits above. Before each message the
    claim is renewed if a quarter of that has passed, and only deliveries still under
    it are sent, so a slow batch never sends what the sweep handed to another worker;
    only a single send stalled that long can be in doubt (the in-flight message).
    """

    claimed_at: datetime
    ours: set[int]
    stuck_after: float
    renewed: float = field(default_factory=time.monotonic)
    attempted: set[int] = field(default_factory=set)  # built to be sent (or withheld)
    current: int | None = None  # the delivery last handed to the gateway

    def still_ours(self, delivery_id: int) -> bool:
        """Asked before a message is built: messages are built ahead of their turn."""
        self._renew_if_due()
        self.attempted.add(delivery_id)
        return delivery_id in self.ours

    def handing_over(self, delivery_id: int) -> None:
        """This message goes to the gateway now: the one `check` is about."""
        self.current = delivery_id

    def check(self) -> None:
        """Called by the gateway just before the provider could accept the current
        message: a message built before a long stall (a frozen or partitioned worker,
        whose claims beat took back meanwhile) must not leave. Costs nothing unless a
        renewal is due."""
        self._renew_if_due()
        if self.current is not None and self.current not in self.ours:
            raise ClaimLost(f"delivery {self.current} was taken back from this batch")

    def _renew_if_due(self) -> None:
        if time.monotonic() - self.renewed > self.stuck_after / 4:
            self.claimed_at, self.ours = claims.renew_claim(list(self.ours), self.claimed_at)
            self.renewed = time.monotonic()


class ClaimLost(RuntimeError):
    """This batch's claim was taken back (beat thought its worker dead): stop sending."""
