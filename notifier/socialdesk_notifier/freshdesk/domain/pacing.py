"""Our share of a Freshdesk account's rate limits, as pure bookkeeping (time passed in).

Freshdesk counts requests per account per minute (every integration's, invalid ones
included) and caps some endpoints apart (ticket create). We keep a sliding window of our
own requests and creates and stay under ``share`` of the budget; every response's
``X-RateLimit-Total`` / ``X-RateLimit-Remaining`` correct the budget and, when the account
runs low because of others, slow us down; a 429's ``Retry-After`` holds every request.
A 429 on a create that our count did not predict means the create cap is lower than
configured: we take what we managed in that window as the cap from then on.

Usage::

    budget = RateBudget(window=60, share=0.5, total=200, create_cap=160)
    wait = budget.wait(now, create=True)     # 0.0: go (then budget.take(now, create=True))
    budget.observe(now, total=400, remaining=350)
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

__all__ = ["RateBudget"]


@dataclass
class RateBudget:
    window: float
    share: float
    total: int
    create_cap: int
    _sent: deque[float] = field(default_factory=deque)
    _creates: deque[float] = field(default_factory=deque)
    hold_until: float = 0.0
    remaining: int | None = None
    _remaining_at: float = 0.0
    learned_create_cap: int | None = None

    @property
    def allowed(self) -> int:
        """Our requests per window."""
        return max(1, math.floor(self.total * self.share))

    @property
    def creates_allowed(self) -> int:
        """Our creates per window: our share of the configured cap, or the cap a 429 taught."""
        if self.learned_create_cap is not None:
            return self.learned_create_cap
        return max(1, math.floor(self.create_cap * self.share))

    def _trim(self, now: float) -> None:
        for log in (self._sent, self._creates):
            while log and log[0] <= now - self.window:
                log.popleft()

    def wait(self, now: float, *, create: bool = False) -> float:
        """Seconds until a request (a create) may go; 0 when it may go now."""
        self._trim(now)
        waits = [self.hold_until - now]
        if len(self._sent) >= self.allowed:
            waits.append(self._sent[0] + self.window - now)
        if create and len(self._creates) >= self.creates_allowed:
            waits.append(self._creates[0] + self.window - now)
        reserve = self.total - self.allowed
        if self.remaining is not None and self.remaining <= reserve:
            # Others are using the account: leave them their share, at the average refill
            # rate, until a response says there is room again.
            short = reserve - self.remaining + 1
            waits.append(self._remaining_at + self.window * short / self.total - now)
        return max(0.0, *waits)

    def available(self, now: float) -> int:
        """How many requests could go right now."""
        if self.wait(now) > 0:
            return 0
        return self.allowed - len(self._sent)

    def take(self, now: float, *, create: bool = False) -> None:
        self._sent.append(now)
        if create:
            self._creates.append(now)
        if self.remaining is not None:
            self.remaining -= 1

    def observe(self, now: float, *, total: int | None, remaining: int | None) -> None:
        if total is not None and total > 0:
            self.total = total
        if remaining is not None:
            self.remaining = remaining
            self._remaining_at = now

    def throttled(self, now: float, retry_after: float, *, create: bool = False) -> None:
        """A 429: nothing goes before ``retry_after``; a create refused under our own count
        teaches the real create cap."""
        self.hold_until = max(self.hold_until, now + retry_after)
        if create:
            self._trim(now)
            self.learned_create_cap = max(1, len(self._creates) - 1)
