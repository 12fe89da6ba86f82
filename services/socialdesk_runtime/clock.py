"""Injected time. Domain logic never calls ``datetime.now()``: it asks a ``Clock``."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["Clock", "FakeClock", "SystemClock"]


class Clock(Protocol):
    """What handlers and schedulers need of time."""

    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait (a fake clock returns at once when time is advanced)."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class FakeClock:
    """A clock tests move by hand; ``sleep`` yields until ``advance`` passes its deadline.

    Usage::

        clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))
        clock.advance(seconds=7200)
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
        self._changed = asyncio.Event()

    def now(self) -> datetime:
        return self._now

    def advance(self, *, seconds: float = 0.0) -> datetime:
        self._now += timedelta(seconds=seconds)
        self._changed.set()
        self._changed = asyncio.Event()
        return self._now

    async def sleep(self, seconds: float) -> None:
        target = self._now + timedelta(seconds=seconds)
        while self._now < target:
            await self._changed.wait()
