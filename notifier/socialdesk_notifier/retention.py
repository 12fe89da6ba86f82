"""Retention: the notifier forgets, every ``NOTIFIER_RETENTION_INTERVAL_SECONDS``, what is
older than ``NOTIFIER_RETENTION_SECONDS`` and will never be needed again.

- deliveries sent, failed or folded into a digest (a failed one can no longer be
  re-driven after that), except the parents of Slack threads still kept;
- Slack threads, ticket facts and clicks of tickets resolved that long ago;
- Freshdesk operations done; our own outbound message ids (echo matching);
- pacing lanes nobody asked a slot of for a day (soft state, whatever the window).

Never pending or in-flight work, never an open ticket's thread. The window is at least
the inbox's (the runtime's ``INBOX_RETENTION_SECONDS``): an event still recognised as
processed is never re-handled against a forgotten delivery.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from socialdesk_notifier.retention_store import RetentionStore
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.workers import PeriodicWorker

__all__ = ["RetentionWorker"]

log = logging.getLogger(__name__)


class RetentionWorker(PeriodicWorker):
    name = "notifier retention"

    def __init__(
        self, engine: AsyncEngine, clock: Clock, *, keep_seconds: float, interval_seconds: float
    ) -> None:
        super().__init__(interval_seconds)
        self._store = RetentionStore(engine)
        self._clock = clock
        self._keep = timedelta(seconds=keep_seconds)

    async def run_once(self) -> dict[str, int]:
        counts = await self._store.prune(self._clock.now() - self._keep)
        if any(counts.values()):
            log.info("retention: forgot %s", ", ".join(f"{n} {what}" for what, n in counts.items() if n))
        return counts
