"""The outbox relay: publishes committed outbox rows to Kafka, in order, at least once.

Rows are published in id order and deleted only after the broker acknowledged them, so a
crash between the two re-publishes a few rows (consumers' inboxes drop the duplicates)
and loses none. Only one relay per database publishes at a time (an advisory lock), so
several replicas of a service never interleave one ticket's events.
"""

from __future__ import annotations

import asyncio
import logging
import time
import zlib

from aiokafka import AIOKafkaProducer
from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from socialdesk_runtime.db import outbox_table
from socialdesk_runtime.errors import is_transient
from socialdesk_runtime.metrics import RuntimeMetrics
from socialdesk_runtime.workers import LoopControl

__all__ = ["OutboxRelay"]

log = logging.getLogger(__name__)
_LOCK_KEY = zlib.crc32(b"socialdesk-outbox-relay")


class OutboxRelay:
    """Publish pending outbox rows; woken at once by a commit, and by a timer for leftovers."""

    def __init__(
        self,
        engine: AsyncEngine,
        producer: AIOKafkaProducer,
        metrics: RuntimeMetrics,
        *,
        batch_size: int = 500,
        poll_seconds: float = 0.25,
    ) -> None:
        self._engine = engine
        self._producer = producer
        self._metrics = metrics
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._control = LoopControl()
        self.notify = self._control.notify  # something committed: publish now, not at the poll
        self._lock_conn: AsyncConnection | None = None

    async def run(self) -> None:
        """Run until :meth:`stop`; then publish what is left and return."""
        while not self._control.stopping:
            try:
                if not await self._hold_lock():
                    await self._sleep(self._poll_seconds * 4)
                    continue
                published = await self.publish_pending()
                if published < self._batch_size:
                    await self._sleep(self._poll_seconds)
            except Exception as exc:
                if not is_transient(exc):
                    log.exception("outbox relay failed; retrying")
                else:
                    log.warning("outbox relay: %s; retrying", exc)
                await self._release_lock()
                await self._sleep(1.0)
        # Drain: a clean shutdown leaves nothing committed-but-unpublished behind.
        try:
            if await self._hold_lock():
                while await self.publish_pending() > 0:
                    pass
        except Exception:
            log.exception("outbox relay: final drain failed; rows stay for the next start")
        finally:
            await self._release_lock()

    def stop(self) -> None:
        self._control.stop()

    async def _sleep(self, seconds: float) -> None:
        await self._control.pause(seconds)

    async def _hold_lock(self) -> bool:
        if self._lock_conn is not None:
            return True
        conn = await self._engine.connect()
        got = (await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _LOCK_KEY})).scalar()
        await conn.commit()
        if got:
            self._lock_conn = conn
            return True
        await conn.close()
        return False

    async def _release_lock(self) -> None:
        conn, self._lock_conn = self._lock_conn, None
        if conn is not None:
            try:
                await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_KEY})
                await conn.commit()
            except Exception:
                log.debug("outbox relay: unlock failed (connection gone?)", exc_info=True)
            finally:
                await conn.close()

    async def publish_pending(self) -> int:
        """Publish one batch of pending rows; return how many."""
        started = time.perf_counter()
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(outbox_table.c.id, outbox_table.c.topic, outbox_table.c.key, outbox_table.c.value)
                    .order_by(outbox_table.c.id)
                    .limit(self._batch_size)
                )
            ).all()
            if not rows:
                self._metrics.outbox_pending_events.set(0)
                return 0
            futures = [
                await self._producer.send(row.topic, key=row.key.encode(), value=row.value) for row in rows
            ]
            results = await asyncio.gather(*futures, return_exceptions=True)
            # Delete only the prefix that was acknowledged: a failed row and everything
            # after it stay, so they are retried in order (never a later event first).
            failed = next((i for i, r in enumerate(results) if isinstance(r, BaseException)), None)
            done = rows if failed is None else rows[:failed]
            if done:
                await conn.execute(delete(outbox_table).where(outbox_table.c.id.in_([r.id for r in done])))
                await conn.commit()
            if failed is not None:
                self._metrics.outbox_publish_failures.inc()
                error = results[failed]
                assert isinstance(error, BaseException)
                raise error
            if len(rows) == self._batch_size:
                pending = (await conn.execute(select(func.count()).select_from(outbox_table))).scalar_one()
                self._metrics.outbox_pending_events.set(pending)
            else:
                self._metrics.outbox_pending_events.set(0)
        self._metrics.outbox_published_events.inc(len(rows))  # whole batch acknowledged
        self._metrics.outbox_publish_seconds.observe(time.perf_counter() - started)
        return len(rows)
