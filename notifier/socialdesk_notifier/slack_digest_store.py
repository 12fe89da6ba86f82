"""The SQL of Slack digests (:mod:`socialdesk_notifier.slack_digest`): which channels are
flooded, the alert posts waiting there, and the digest that folds them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, update

from socialdesk_notifier.bulk import any_of
from socialdesk_notifier.domain.delivery import PENDING
from socialdesk_notifier.slack_store import DIGESTED, DIGESTIBLE, SlackStore
from socialdesk_notifier.tables import deliveries

__all__ = ["DigestStore"]


class DigestStore(SlackStore):
    async def enqueue_digest(
        self, *, key: str, like: dict[str, Any], channel: str, payload: dict[str, Any], now: datetime
    ) -> None:
        """A digest post owed to ``channel``, filed under the oldest alert it folds (``like``)."""
        await self._insert(
            [
                {
                    "id": uuid.uuid4(),
                    "idempotency_key": key,
                    "source_event_id": like["source_event_id"],
                    "source_event_type": "SlackDigest",
                    "ticket_id": like["ticket_id"],
                    "correlation_id": like["correlation_id"],
                    "channel": "slack",
                    "destination": channel,
                    "payload": payload,
                    "status": PENDING,
                    "next_attempt_at": now,
                    "created_at": now,
                }
            ]
        )

    async def flooded_channels(self, *, since: datetime, threshold: int) -> list[str]:
        """Channels with more than ``threshold`` Slack posts waiting, created since ``since``."""
        rows = await self._uow.conn.execute(
            select(deliveries.c.destination)
            .where(
                deliveries.c.status == PENDING,
                deliveries.c.channel == "slack",
                deliveries.c.created_at >= since,
                deliveries.c.payload["kind"].as_string().in_(DIGESTIBLE),
            )
            .group_by(deliveries.c.destination)
            .having(func.count() > threshold)
        )
        return [r.destination for r in rows]

    async def waiting_posts(self, channel: str, *, since: datetime) -> list[dict[str, Any]]:
        """The channel's waiting alert posts, locked (skipping those a worker holds)."""
        rows = await self._uow.conn.execute(
            select(
                deliveries.c.id,
                deliveries.c.idempotency_key,
                deliveries.c.ticket_id,
                deliveries.c.correlation_id,
                deliveries.c.source_event_id,
                deliveries.c.payload,
                deliveries.c.created_at,
            )
            .where(
                and_(
                    deliveries.c.status == PENDING,
                    deliveries.c.channel == "slack",
                    deliveries.c.destination == channel,
                    deliveries.c.created_at >= since,
                    deliveries.c.payload["kind"].as_string().in_(DIGESTIBLE),
                )
            )
            .order_by(deliveries.c.created_at)
            .with_for_update(skip_locked=True)
        )
        return [dict(r._mapping) for r in rows]

    async def fold(self, ids: Sequence[uuid.UUID], digest_key: str) -> None:
        """These deliveries went out inside a digest: settled, never posted alone."""
        await self._uow.conn.execute(
            update(deliveries)
            .where(any_of(deliveries.c.id, ids), deliveries.c.status == PENDING)
            .values(status=DIGESTED, external_ref=digest_key[:128], lease_until=None)
        )
