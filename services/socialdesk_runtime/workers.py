"""What every background loop of a service shares: being woken, and being stopped."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from socialdesk_runtime.errors import is_transient

__all__ = ["LoopControl", "PeriodicWorker"]

log = logging.getLogger(__name__)


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


class PeriodicWorker:
    """A worker doing one round (:meth:`run_once`) every ``interval_seconds`` until stopped.

    A failed round is logged (a transient one as a warning) and the next still comes::

        class Pruner(PeriodicWorker):
            name = "pruner"

            async def run_once(self) -> object:
                ...
    """

    name = "periodic worker"
    #: Wait one interval before the first round (a poller that gives webhooks their chance first).
    pause_first = False

    def __init__(self, interval_seconds: float) -> None:
        self._interval = interval_seconds
        self._control = LoopControl()

    def stop(self) -> None:
        self._control.stop()

    async def run(self) -> None:
        if self.pause_first:
            await self._control.pause(self._interval)
        while not self._control.stopping:
            try:
                await self.run_once()
            except Exception as exc:
                if is_transient(exc):
                    log.warning("%s: round failed (%s); next in %.0f s", self.name, exc, self._interval)
                else:
                    log.exception("%s: round failed", self.name)
            await self._control.pause(self._interval)

    async def run_once(self) -> object:
        raise NotImplementedError
