"""Keep the embedded broker up: a dead one is started again, topics first.

The supervisor restarts services; the broker is the launcher's. Tansu keeps everything in
memory, so a restarted broker is empty: it gets a new cluster id and every topic of the
registry before anyone can produce to it, and each service's outbox relay, seeing the new
cluster id, publishes its retained events again (consumers dedupe by inbox).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from socialdesk_runtime.embedded import EmbeddedKafka

__all__ = ["keep_broker_up"]

_log = logging.getLogger("socialdesk_runtime.stack")


async def keep_broker_up(kafka: EmbeddedKafka, stop: asyncio.Event, *, every_s: float = 0.5) -> None:
    """Watch ``kafka`` until ``stop``; restart it whenever it died."""
    restarts = 0
    while not stop.is_set():
        if not kafka.is_running():
            _log.error(
                "the embedded broker died (its memory storage with it); starting it again on %s, "
                "topics first; services will re-publish what it had acknowledged",
                kafka.bootstrap_servers,
            )
            try:
                await asyncio.to_thread(kafka.restart)
                restarts += 1
                _log.warning("embedded broker back on %s (restart #%d)", kafka.bootstrap_servers, restarts)
            except Exception:
                _log.exception("embedded broker did not come back; trying again")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every_s)
