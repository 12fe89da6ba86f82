"""Pacing of platform sends: never faster than a platform allows, per sending account and
per recipient, and slower after the platform said "too fast".

Each account has a rate (sends per second) that halves when the platform throttles it
and creeps back up (by a tenth per clean send) to the configured ceiling; a throttle
also holds the account (or one recipient, for WhatsApp's pair limit) until the back-off
ends, so the deliveries queued behind it wait here instead of collecting more 429s.

Usage::

    pacer = Pacer(rate_per_second=20, recipient_interval=1.0)
    wait = pacer.reserve("730011223344556", "6123456789012345", max_wait=5)
    if wait is None: ...      # too long: reschedule the delivery instead of holding its lease
    await asyncio.sleep(wait); ...send...
    pacer.throttled("730011223344556", None, hold_seconds=4)   # after a 613

A hand-written slot scheduler rather than a token-bucket library: what it needs beyond a
bucket (holds after a throttle, adaptive rates, refusing waits longer than a lease) is
most of its code either way. Single process: each replica paces its own sends.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Pacer"]


@dataclass
class _Lane:
    rate: float
    next_at: float = 0.0
    #: When the rate was last cut: throttles answered to sends already in flight then
    #: (a burst of 429s for one overload) cut it once, not once each.
    cut_at: float = float("-inf")


class Pacer:
    def __init__(
        self,
        *,
        rate_per_second: float,
        recipient_interval: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ceiling = rate_per_second
        self._recipient_interval = recipient_interval
        self._now = monotonic
        self._accounts: dict[str, _Lane] = {}
        self._recipients: dict[tuple[str, str], float] = {}

    def _lane(self, account: str) -> _Lane:
        lane = self._accounts.get(account)
        if lane is None:
            lane = self._accounts[account] = _Lane(self._ceiling)
        return lane

    def reserve(self, account: str, recipient: str | None, *, max_wait: float) -> float | None:
        """Seconds to wait before this send; ``None`` (nothing reserved) if over ``max_wait``."""
        now = self._now()
        lane = self._lane(account)
        at = max(now, lane.next_at)
        key = (account, recipient or "")
        if recipient is not None:
            at = max(at, self._recipients.get(key, 0.0))
        wait = at - now
        if wait > max_wait:
            return None
        lane.next_at = at + 1.0 / lane.rate
        if recipient is not None:
            self._recipients[key] = at + self._recipient_interval
        if len(self._recipients) > 50_000:  # forget recipients whose slot has passed
            self._recipients = {k: v for k, v in self._recipients.items() if v > now}
        return wait

    def wait_needed(self, account: str, recipient: str | None) -> float:
        """How long until a send to ``recipient`` from ``account`` could start (nothing reserved)."""
        at = self._lane(account).next_at
        if recipient is not None:
            at = max(at, self._recipients.get((account, recipient), 0.0))
        return max(0.0, at - self._now())

    def sent(self, account: str) -> None:
        lane = self._lane(account)
        lane.rate = min(self._ceiling, lane.rate * 1.1)

    def throttled(
        self, account: str, recipient: str | None, *, hold_seconds: float, explicit: bool = False
    ) -> None:
        """A throttle: hold the recipient (or the account) ``hold_seconds``. ``explicit``: the
        platform said when its window resets (X): waiting for it is enough, the rate is
        not cut; otherwise the rate is halved, at most once a second."""
        now = self._now()
        until = now + hold_seconds
        if recipient is not None:
            key = (account, recipient)
            self._recipients[key] = max(self._recipients.get(key, 0.0), until)
            return
        lane = self._lane(account)
        if not explicit and now - lane.cut_at >= 1.0:
            lane.rate = max(self._ceiling / 64, lane.rate / 2)
            lane.cut_at = now
        lane.next_at = max(lane.next_at, until)

    def hold(self, account: str, seconds: float) -> None:
        """No send for ``account`` for ``seconds`` (the platform said its budget is spent)."""
        lane = self._lane(account)
        lane.next_at = max(lane.next_at, self._now() + seconds)

    def rate(self, account: str) -> float:
        return self._lane(account).rate
