"""Acknowledgement first: when the extraction worker may run during a burst of webhooks. Pure.

Platforms time the acknowledgement, not the extraction (decision 0201), and both share
one process and two cores with the pipeline behind. So while deliveries keep arriving
(the last one less than ``quiet`` seconds ago) extraction waits, but never longer than
``max_lag`` seconds after the oldest delivery not yet extracted. Once that lag is
reached, extraction runs without waiting again until it has caught up: under a sustained
flood the backlog is extracted continuously (throughput-bound), never one batch per lag.
Time is passed in (monotonic seconds).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["AckFirst", "next_claim"]


@dataclass(slots=True)
class AckFirst:
    quiet: float
    max_lag: float
    last_stored: float = -math.inf
    #: When the oldest delivery not yet extracted was stored (``None``: nothing waits).
    oldest_waiting: float | None = None

    def stored(self, now: float) -> None:
        """A delivery was committed."""
        self.last_stored = now
        if self.oldest_waiting is None:
            self.oldest_waiting = now

    def wait(self, now: float, *, acknowledging: bool = False) -> float:
        """Seconds to hold extraction back from ``now`` (0: extract now).

        ``acknowledging``: deliveries are being received or stored right now; on a busy
        machine the gap between two commits can exceed ``quiet`` in the middle of a
        burst, but a burst with a request in flight is not over."""
        if self.oldest_waiting is None:
            return 0.0
        lag_left = self.max_lag - (now - self.oldest_waiting)
        if lag_left <= 0:
            return 0.0
        quiet_left = self.quiet if acknowledging else self.quiet - (now - self.last_stored)
        return max(0.0, min(quiet_left, lag_left))

    def caught_up(self, claimed_at: float) -> None:
        """A round that started claiming at ``claimed_at`` found nothing pending. A delivery
        stored since then waits, counted from ``claimed_at`` (never later than it arrived)."""
        self.oldest_waiting = claimed_at if self.last_stored > claimed_at else None


def next_claim(claimed: int, limit: int, *, base: int, most: int) -> int:
    """How many deliveries the next extraction round claims, after one that claimed
    ``claimed`` of ``limit``: a full round means a backlog, so the next takes twice as
    many (up to ``most``: bigger, fewer transactions cost less per delivery); a round
    that was not full means caught up, back to ``base`` (small batches, short locks)."""
    if claimed < limit:
        return base
    return max(base, min(most, limit * 2))
