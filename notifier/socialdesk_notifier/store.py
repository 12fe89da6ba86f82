"""The delivery log, through a unit of work: the notifier's only SQL.

Usage::

    async with uow_factory() as uow:
        await DeliveryStore(uow).enqueue(event, notification, now=clock.now())
        await uow.commit()
"""

from __future__ import annotations

import uuid
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from socialdesk_notifier.domain import Decision, Delivery, Failed, Notification, Sent
from socialdesk_notifier.domain.delivery import FAILED, PENDING, SENDING, SENT
from socialdesk_notifier.tables import deliveries
from socialdesk_runtime.db import UnitOfWork
from socialdesk_schemas import Event

__all__ = ["DeliveryStore"]

_DELIVERY_COLUMNS = [deliveries.c[f.name] for f in fields(Delivery)]


class DeliveryStore:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def enqueue(self, source: Event, notification: Notification, *, now: datetime) -> None:
        """Record a delivery owed; a redelivered source event adds nothing."""
        await self._uow.conn.execute(
            pg_insert(deliveries)
            .values(
                id=uuid.uuid4(),
                idempotency_key=notification.idempotency_key(source.event_id),
                source_event_id=source.event_id,
                source_event_type=source.event_type,
                ticket_id=source.ticket_id,
                correlation_id=source.correlation_id,
                channel=notification.channel,
                destination=notification.destination,
                payload=notification.payload,
                status=PENDING,
                next_attempt_at=now,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
        )

    async def claim(self, *, now: datetime, lease_until: datetime, limit: int) -> list[Delivery]:
        """Lease up to ``limit`` due deliveries: pending ones whose time came, and leased
        ones whose lease ran out (their worker died); each claim counts an attempt."""
        due = (
            select(deliveries.c.id)
            .where(
                or_(
                    (deliveries.c.status == PENDING) & (deliveries.c.next_attempt_at <= now),
                    (deliveries.c.status == SENDING) & (deliveries.c.lease_until <= now),
                )
            )
            .order_by(deliveries.c.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = await self._uow.conn.execute(
            update(deliveries)
            .where(deliveries.c.id.in_(due.scalar_subquery()))
            .values(status=SENDING, attempts=deliveries.c.attempts + 1, lease_until=lease_until)
            .returning(*_DELIVERY_COLUMNS)
        )
        return [Delivery(**row._mapping) for row in rows]

    async def record(self, delivery_id: uuid.UUID, decision: Decision) -> None:
        """Write what the domain decided about one attempt."""
        values: dict[str, Any]
        if isinstance(decision, Sent):
            values = {
                "status": SENT,
                "external_ref": decision.external_ref,
                "sent_at": decision.at,
                "last_error": None,
            }
        elif isinstance(decision, Failed):
            values = {"status": FAILED, "last_error": decision.error}
        else:
            values = {"status": PENDING, "last_error": decision.error, "next_attempt_at": decision.not_before}
        await self._uow.conn.execute(
            update(deliveries).where(deliveries.c.id == delivery_id).values(lease_until=None, **values)
        )
