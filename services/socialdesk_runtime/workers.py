"""What every background loop of a service shares: being woken, and being stopped."""

from __future__ import annotations

import asyncio
import contextlib

__all__ = ["LoopControl"]


class LoopControl:
    """A loop's doorbell: ``notify`` wakes it early, ``stop`` ends it, ``pause`` waits.

    Usage::

        control = LoopControl()
        while not control.stopping:
            do_work()
            await control.pause(seconds)   # returns early on notify() or stop()
    """

    def __init__(self) -> None:
        self._wake = asyncio.Event()
        self.stopping = False

    def notify(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self.stopping = True
        self._wake.set()

    async def pause(self, seconds: float) -> None:
        """Sleep up to ``seconds``; a notification during the work before counts too."""
        if seconds > 0 and not self._wake.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        self._wake.clear()
