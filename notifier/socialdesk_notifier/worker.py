"""The delivery worker: claims due deliveries, sends them, records the outcome.

At most once per idempotency key, as far as the outside allows: a row is leased before
the send; if the process dies after the send and before recording it, the lease runs
out and the next claimant asks the sender whether the key already went out (for Slack:
the message metadata in ``conversations.history``) before sending again.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update

from socialdesk_notifier.metrics import NotifierMetrics
from socialdesk_notifier.senders import Sender
from socialdesk_notifier.tables import deliveries
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.db import UnitOfWorkFactory
from socialdesk_runtime.workers import LoopControl
from socialdesk_schemas import NotificationDelivered, NotificationFailed

log = logging.getLogger(__name__)
PRODUCER = "notifier"


def backoff_seconds(attempts: int) -> float:
    """1, 2, 4 … capped at 5 minutes between attempts of one delivery."""
    return float(min(300, 2 ** max(0, attempts - 1)))


class DeliveryWorker:
    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        senders: Mapping[str, Sender],
        fallback: Sender,
        clock: Clock,
        metrics: NotifierMetrics,
        lease_seconds: float = 30.0,
        max_attempts: int = 8,
        poll_seconds: float = 0.5,
        batch: int = 20,
    ) -> None:
        self._uow_factory = uow_factory
        self._senders = senders
        self._fallback = fallback
        self._clock = clock
        self._metrics = metrics
        self._lease = timedelta(seconds=lease_seconds)
        self._max_attempts = max_attempts
        self._poll = poll_seconds
        self._batch = batch
        self._control = LoopControl()
        self.notify = self._control.notify
        self.stop = self._control.stop

    async def run(self) -> None:
        while not self._control.stopping:
            try:
                handled = await self.run_once()
            except Exception:
                log.exception("delivery worker: round failed; retrying")
                handled = 0
            if handled < self._batch:
                await self._control.pause(self._poll)

    def _sender(self, channel: str) -> Sender:
        return self._senders.get(channel, self._fallback)

    async def run_once(self) -> int:
        claimed = await self._claim()
        if claimed:
            await asyncio.gather(*(self._deliver(row) for row in claimed))
        return len(claimed)

    async def _claim(self) -> list[Any]:
        now = self._clock.now()
        async with self._uow_factory.quiet() as uow:
            due = (
                select(deliveries.c.id)
                .where(
                    or_(
                        (deliveries.c.status == "pending") & (deliveries.c.next_attempt_at <= now),
                        (deliveries.c.status == "sending") & (deliveries.c.lease_until <= now),
                    )
                )
                .order_by(deliveries.c.next_attempt_at)
                .limit(self._batch)
                .with_for_update(skip_locked=True)
            )
            rows = (
                await uow.conn.execute(
                    update(deliveries)
                    .where(deliveries.c.id.in_(due.scalar_subquery()))
                    .values(
                        status="sending", attempts=deliveries.c.attempts + 1, lease_until=now + self._lease
                    )
                    .returning(deliveries)
                )
            ).all()
            if rows:  # an idle worker writes nothing
                await uow.commit()
        return list(rows)

    async def _deliver(self, row: Any) -> None:
        sender = self._sender(row.channel)
        channel = sender.channel
        # attempts was incremented by the claim: > 1 means an earlier attempt may have sent.
        if row.attempts > 1:
            try:
                found = await sender.find_sent(
                    destination=row.destination,
                    idempotency_key=row.idempotency_key,
                    since_epoch=row.created_at.timestamp() - 5,
                )
            except Exception as exc:
                log.warning("delivery %s: could not check for an earlier send: %s", row.id, exc)
                await self._retry(row, f"lookup failed: {exc}")
                return
            if found is not None:
                self._metrics.recovered.labels(channel=channel).inc()
                await self._sent(row, channel, found)
                return
        started = self._clock.now()
        if row.lease_until is not None and row.lease_until - started < self._lease / 2:
            # Waited too long for our turn: a send (10 s client timeout) could outlive the
            # lease and overlap another worker's reclaim, so leave it to the next claim.
            log.warning("delivery %s: lease ran out before sending; leaving it to the next claim", row.id)
            return
        result = await sender.send(
            destination=row.destination, payload=row.payload, idempotency_key=row.idempotency_key
        )
        self._metrics.delivery_seconds.labels(channel=channel).observe(
            (self._clock.now() - started).total_seconds()
        )
        if result.ok:
            await self._sent(row, channel, result.external_ref)
        elif result.permanent or row.attempts >= self._max_attempts:
            await self._failed(row, channel, result.error or "unknown error", retryable=not result.permanent)
        else:
            await self._retry(row, result.error or "unknown error", after=result.retry_after)

    async def _sent(self, row: Any, channel: str, ref: str | None) -> None:
        now = self._clock.now()
        async with self._uow_factory.quiet() as uow:
            await uow.conn.execute(
                update(deliveries)
                .where(deliveries.c.id == row.id)
                .values(status="sent", external_ref=ref, sent_at=now, lease_until=None, last_error=None)
            )
            uow.emit(
                NotificationDelivered(
                    **_envelope(row, now),
                    source_event_id=row.source_event_id,
                    source_event_type=row.source_event_type,
                    channel=channel,
                    destination=row.destination,
                    external_ref=ref,
                    attempts=row.attempts,
                    delivered_at=now,
                )
            )
            await uow.commit()
        self._metrics.deliveries.labels(channel=channel, outcome="sent").inc()

    async def _failed(self, row: Any, channel: str, error: str, *, retryable: bool) -> None:
        now = self._clock.now()
        async with self._uow_factory.quiet() as uow:
            await uow.conn.execute(
                update(deliveries)
                .where(deliveries.c.id == row.id)
                .values(status="failed", last_error=error[:2000], lease_until=None)
            )
            uow.emit(
                NotificationFailed(
                    **_envelope(row, now),
                    source_event_id=row.source_event_id,
                    source_event_type=row.source_event_type,
                    channel=channel,
                    destination=row.destination,
                    error=error[:2000],
                    retryable=retryable,
                    attempts=row.attempts,
                )
            )
            await uow.commit()
        log.error("delivery %s to %s %s failed for good: %s", row.id, channel, row.destination, error)
        self._metrics.deliveries.labels(channel=channel, outcome="failed").inc()

    async def _retry(self, row: Any, error: str, *, after: float | None = None) -> None:
        now = self._clock.now()
        delay = after if after is not None else backoff_seconds(row.attempts)
        async with self._uow_factory.quiet() as uow:
            await uow.conn.execute(
                update(deliveries)
                .where(deliveries.c.id == row.id)
                .values(
                    status="pending",
                    last_error=error[:2000],
                    lease_until=None,
                    next_attempt_at=now + timedelta(seconds=delay),
                )
            )
            await uow.commit()
        log.warning("delivery %s will be retried: %s", row.id, error)
        self._metrics.deliveries.labels(channel=row.channel, outcome="retry").inc()


def _envelope(row: Any, now: datetime) -> dict[str, Any]:
    return {
        "producer": PRODUCER,
        "occurred_at": now,
        "ticket_id": row.ticket_id,
        "correlation_id": row.correlation_id,
        "causation_id": row.source_event_id if isinstance(row.source_event_id, uuid.UUID) else None,
    }
