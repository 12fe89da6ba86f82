"""The extraction worker: stored webhook deliveries → messages and facts, in the background.

Woken by every webhook commit (and polling as a fallback, so a delivery stored by another
replica or left by a crash is picked up); each round claims the oldest pending
deliveries with ``FOR UPDATE SKIP LOCKED`` and extracts them in one transaction.
A batch that fails is retried delivery by delivery; a delivery that keeps failing
(``max_attempts``) is set aside with its error (counted, kept for ``socialdesk replay``)
so one poison body cannot stall the others. With the database away the round waits.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from datetime import timedelta

from socialdesk_ingest.domain.ack_first import AckFirst, next_claim
from socialdesk_ingest.domain.platforms import AccountIndex
from socialdesk_ingest.extraction import Enricher, Extracted, extract_deliveries, no_enrichment
from socialdesk_ingest.handlers import Linking
from socialdesk_ingest.metrics import IngestMetrics
from socialdesk_ingest.store.webhooks import PendingDelivery, WebhookStore
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.db import UnitOfWork, UnitOfWorkFactory
from socialdesk_runtime.errors import is_transient
from socialdesk_runtime.workers import LoopControl

__all__ = ["ExtractionWorker"]

log = logging.getLogger(__name__)


class ExtractionWorker:
    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        accounts: AccountIndex,
        metrics: IngestMetrics,
        idle_seconds: float,
        batch_size: int = 100,
        max_batch_size: int | None = None,
        poll_seconds: float = 1.0,
        max_attempts: int = 5,
        retention_seconds: float | None = None,
        enricher: Enricher = no_enrichment,
        quiet_seconds: float = 0.05,
        max_lag_seconds: float = 0.0,
        linking: Linking | None = None,
        acknowledging: Callable[[], bool] = lambda: False,
    ) -> None:
        """``acknowledging()`` says webhook deliveries are being stored right now (the
        group commit's queue is not empty): extraction holds back while it lasts, within
        ``max_lag_seconds``. With a backlog the rounds claim more, up to
        ``max_batch_size`` deliveries (default ``batch_size``: fixed)."""
        self._uow_factory = uow_factory
        self._clock = clock
        self._accounts = accounts
        self._metrics = metrics
        self._idle = idle_seconds
        self._batch = batch_size
        self._most = max(batch_size, max_batch_size or batch_size)
        self._claim = batch_size
        self._poll = poll_seconds
        self._max_attempts = max_attempts
        self._retention = retention_seconds
        self._enricher = enricher
        self._linking = linking
        self._pace = AckFirst(quiet=quiet_seconds, max_lag=max_lag_seconds)
        self.acknowledging = acknowledging
        self._last_forget = -math.inf
        self._control = LoopControl()

    def notify(self) -> None:
        """A delivery was stored (called after each webhook commit)."""
        self._pace.stored(time.monotonic())
        self._control.notify()

    def stop(self) -> None:
        self._control.stop()

    async def run(self) -> None:
        while not self._control.stopping:
            try:
                await self._drain()
                await self._forget_old()
            except Exception as exc:
                if not is_transient(exc):
                    log.exception("extraction round failed")
                else:
                    log.warning("extraction waits for the database: %s", exc)
            await self._control.pause(self._poll)

    async def _drain(self) -> None:
        """Extract until nothing is pending, acknowledgements first (:class:`AckFirst`):
        while a burst lasts, wait for a quiet moment, at most ``max_lag_seconds`` after the
        oldest delivery waiting; once overdue, extract until caught up."""
        held = False
        while not self._control.stopping:
            wait = self._pace.wait(time.monotonic(), acknowledging=self.acknowledging())
            if wait > 0:
                if not held:
                    held = True  # the backlog a burst leaves while acknowledgements go first
                    async with self._uow_factory() as uow:
                        self._metrics.deliveries_pending.set(await WebhookStore(uow).pending_count())
                await asyncio.sleep(wait)
                continue
            claimed_at = time.monotonic()
            if not await self.run_once():
                self._pace.caught_up(claimed_at)
                return

    async def run_once(self) -> int:
        """Extract one batch of pending deliveries; how many were handled (0: none waiting)."""
        async with self._uow_factory() as uow:
            limit = self._claim
            pending = await WebhookStore(uow).claim_pending(limit)
            self._claim = next_claim(len(pending), limit, base=self._batch, most=self._most)
            if not pending:
                self._metrics.deliveries_pending.set(0)
                return 0
            mark = uow.emitted
            try:
                async with uow.conn.begin_nested():
                    result = await self._extract(pending, uow)
            except Exception as exc:
                uow.discard_since(mark)
                if is_transient(exc):
                    raise
                log.warning("extraction of %d deliveries failed (%r); one by one", len(pending), exc)
                result = Extracted()
                for delivery in pending:
                    await self._one(delivery, uow, result)
            await uow.commit()
        self._count(result)
        return len(pending)

    async def _extract(self, pending: list[PendingDelivery], uow: UnitOfWork) -> Extracted:
        return await extract_deliveries(
            pending,
            uow,
            accounts=self._accounts,
            now=self._clock.now(),
            idle_seconds=self._idle,
            enricher=self._enricher,
            linking=self._linking,
        )

    async def _one(self, delivery: PendingDelivery, uow: UnitOfWork, into: Extracted) -> None:
        mark = uow.emitted
        try:
            async with uow.conn.begin_nested():
                got = await self._extract([delivery], uow)
        except Exception as exc:
            uow.discard_since(mark)
            if is_transient(exc):
                raise
            hooks = WebhookStore(uow)
            error = f"{type(exc).__name__}: {exc}"[:2000]
            if delivery.attempts + 1 >= self._max_attempts:
                log.error(
                    "delivery %d set aside after %d attempts: %s", delivery.id, delivery.attempts + 1, error
                )
                await hooks.mark_extracted([delivery.id], at=self._clock.now(), error=error)
                self._metrics.extraction_failures.labels(outcome="set_aside").inc()
            else:
                await hooks.count_attempt([delivery.id], error=error)
                self._metrics.extraction_failures.labels(outcome="retried").inc()
            return
        into.messages += got.messages
        into.duplicates += got.duplicates
        into.facts.update(got.facts)
        into.not_ticketed.update(got.not_ticketed)
        into.whatsapp_failed.update(got.whatsapp_failed)
        into.to_enrich.extend(got.to_enrich)

    def _count(self, result: Extracted) -> None:
        m = self._metrics
        if result.messages:
            m.webhook_items.labels(kind="message").inc(result.messages)
        if result.duplicates:
            m.webhook_items.labels(kind="duplicate").inc(result.duplicates)
        for kind, n in result.facts.items():
            m.webhook_items.labels(kind=kind).inc(n)
        for (platform, reason), n in result.not_ticketed.items():
            m.webhook_not_ticketed.labels(platform=platform, reason=reason).inc(n)
        for code, n in result.whatsapp_failed.items():
            m.whatsapp_failed.labels(error_code=code).inc(n)

    async def _forget_old(self) -> None:
        now = time.monotonic()
        if self._retention is None or now - self._last_forget < 60:
            return
        self._last_forget = now
        cutoff = self._clock.now() - timedelta(seconds=self._retention)
        async with self._uow_factory() as uow:
            await WebhookStore(uow).forget_before(cutoff)
            await uow.commit()
