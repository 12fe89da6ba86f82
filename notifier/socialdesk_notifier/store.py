"""The delivery log, through a unit of work: the notifier's only SQL.

Usage::

    async with uow_factory() as uow:
        await DeliveryStore(uow).enqueue(event, notification, now=clock.now())
        await uow.commit()
"""

from __future__ import annotations

import uuid
from dataclasses import fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.sql.elements import ColumnElement

from socialdesk_notifier.domain import Decision, Delivery, Failed, Notification, Sent
from socialdesk_notifier.domain.delivery import FAILED, PENDING, SENDING, SENT
from socialdesk_notifier.tables import contacts, deliveries, own_messages, reply_messages
from socialdesk_runtime.db import UnitOfWork
from socialdesk_schemas import Event

__all__ = ["ConversationStore", "DeliveryStore"]

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
        # A lease that ran out means its worker died, maybe after the send: ambiguous since then.
        abandoned = case((deliveries.c.status == SENDING, deliveries.c.lease_until), else_=None)
        rows = await self._uow.conn.execute(
            update(deliveries)
            .where(deliveries.c.id.in_(due.scalar_subquery()))
            .values(
                status=SENDING,
                attempts=deliveries.c.attempts + 1,
                lease_until=lease_until,
                ambiguous_since=func.coalesce(deliveries.c.ambiguous_since, abandoned),
            )
            .returning(*_DELIVERY_COLUMNS)
        )
        return [Delivery(**row._mapping) for row in rows]

    async def record(self, delivery: Delivery, decision: Decision) -> None:
        """Write what the domain decided about one attempt (and, for a sent reply, the
        platform message ids its receipts will name)."""
        values: dict[str, Any]
        if isinstance(decision, Sent):
            values = {
                "status": SENT,
                "external_ref": decision.external_ref,
                "sent_at": decision.at,
                "last_error": None,
                "ambiguous_since": None,
            }
            if decision.refs:
                values["part_refs"] = list(decision.refs)
        elif isinstance(decision, Failed):
            values = {"status": FAILED, "last_error": decision.error, "failure_reason": decision.reason}
        else:
            values = {
                "status": PENDING,
                "last_error": decision.error,
                "next_attempt_at": decision.not_before,
                "ambiguous_since": (delivery.ambiguous_since or decision.at or decision.not_before)
                if decision.ambiguous
                else None,
                "throttles": deliveries.c.throttles + (1 if decision.throttled else 0),
            }
        await self._uow.conn.execute(
            update(deliveries).where(deliveries.c.id == delivery.id).values(lease_until=None, **values)
        )
        if isinstance(decision, Sent) and delivery.is_reply:
            refs = list(decision.refs) or ([decision.external_ref] if decision.external_ref else [])
            await self._remember_reply_parts(delivery, refs, decision.at)

    async def pull_forward(self, channel: str, *, now: datetime, beyond: float = 60.0) -> int:
        """Deliveries of ``channel`` waiting more than ``beyond`` seconds (a back-off grown
        through an outage, not a platform's Retry-After) become due now; returns how many."""
        result = await self._uow.conn.execute(
            update(deliveries)
            .where(
                (deliveries.c.channel == channel)
                & (deliveries.c.status == PENDING)
                & (deliveries.c.next_attempt_at > now + timedelta(seconds=beyond))
            )
            .values(next_attempt_at=now)
        )
        return int(result.rowcount or 0)

    async def save_parts(self, delivery_id: uuid.UUID, refs: list[str]) -> None:
        """The parts of a reply sent so far (committed at once: a crash will not resend them)."""
        await self._uow.conn.execute(
            update(deliveries).where(deliveries.c.id == delivery_id).values(part_refs=refs)
        )

    async def part_refs(self, delivery_id: uuid.UUID) -> list[str]:
        row = await self._uow.conn.execute(
            select(deliveries.c.part_refs).where(deliveries.c.id == delivery_id)
        )
        refs = row.scalar_one_or_none()
        return [str(r) for r in refs or []]

    async def _remember_reply_parts(self, delivery: Delivery, refs: list[str], at: datetime) -> None:
        if not refs:
            return
        payload = delivery.payload
        rows = [
            {
                "platform": delivery.channel,
                "platform_message_id": ref,
                "reply_id": uuid.UUID(str(payload["reply_id"])),
                "delivery_id": delivery.id,
                "brand": str(payload["brand"]),
                "ticket_id": delivery.ticket_id,
                "correlation_id": delivery.correlation_id,
                "recipient": delivery.destination,
                "sent_at": at,
                "status": "sent",
            }
            for ref in refs
        ]
        await self._uow.conn.execute(pg_insert(reply_messages).values(rows).on_conflict_do_nothing())

    # --- re-drive (the operator's command) ------------------------------------------------

    async def failed(self, *, since: datetime | None, limit: int = 1000) -> list[dict[str, Any]]:
        query = (
            select(
                deliveries.c.id,
                deliveries.c.channel,
                deliveries.c.source_event_type,
                deliveries.c.failure_reason,
                deliveries.c.last_error,
                deliveries.c.created_at,
            )
            .where(deliveries.c.status == FAILED)
            .order_by(deliveries.c.created_at)
            .limit(limit)
        )
        if since is not None:
            query = query.where(deliveries.c.created_at >= since)
        return [dict(row._mapping) for row in await self._uow.conn.execute(query)]

    async def redrive(self, ids: list[uuid.UUID], *, now: datetime, force: bool) -> int:
        """Failed deliveries back to pending, their age counted from now.

        Without ``force`` an ambiguous one still looks for an earlier send first; with it,
        a person has decided it did not go out (e.g. a channel whose history we cannot read).
        """
        values: dict[str, Any] = {
            "status": PENDING,
            "next_attempt_at": now,
            "requeued_at": now,
            "failure_reason": None,
            "throttles": 0,
        }
        if force:
            values["ambiguous_since"] = None
        result = await self._uow.conn.execute(
            update(deliveries)
            .where(deliveries.c.id.in_(ids), deliveries.c.status == FAILED)
            .values(**values)
            .returning(deliveries.c.id)
        )
        return len(result.all())


class ConversationStore:
    """What the notifier learns of conversations from ingest's events: the customers' last
    messages (windows), our messages seen coming back (echoes) and receipts of sent replies."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def touch_contacts(self, seen: list[tuple[str, str, str, datetime]]) -> None:
        """(brand, platform, user, at) of customer messages; a later one never goes back."""
        latest: dict[tuple[str, str, str], datetime] = {}
        for brand, platform, user, at in seen:
            key = (brand, platform, user)
            latest[key] = max(at, latest.get(key, at))
        if not latest:
            return
        # Hot path (every customer message): one statement of constant text, its rows as one
        # array per column. A multi-row VALUES is a new statement per batch size, compiled
        # by SQLAlchemy and prepared and planned by PostgreSQL each time.
        from sqlalchemy import text  # kept inside: this method is all of this file one owner edits

        await self._uow.conn.execute(
            text(
                "INSERT INTO contacts (brand, platform, platform_user_id, last_message_at) "
                "SELECT * FROM unnest(CAST(:brands AS text[]), CAST(:platforms AS text[]), "
                "CAST(:users AS text[]), CAST(:ats AS timestamptz[])) "
                "ON CONFLICT (brand, platform, platform_user_id) DO UPDATE SET last_message_at = "
                "greatest(contacts.last_message_at, EXCLUDED.last_message_at)"
            ),
            {
                "brands": [b for b, _, _ in latest],
                "platforms": [p for _, p, _ in latest],
                "users": [u for _, _, u in latest],
                "ats": list(latest.values()),
            },
        )

    async def last_message_at(self, brand: str, platform: str, user: str) -> datetime | None:
        row = await self._uow.conn.execute(
            select(contacts.c.last_message_at).where(
                contacts.c.brand == brand,
                contacts.c.platform == platform,
                contacts.c.platform_user_id == user,
            )
        )
        value: datetime | None = row.scalar_one_or_none()
        return value

    async def record_echo(
        self,
        *,
        brand: str,
        platform: str,
        platform_message_id: str,
        delivery_key: str | None,
        recipient: str | None,
        text_sha: str,
        seen_at: datetime,
    ) -> None:
        await self._uow.conn.execute(
            pg_insert(own_messages).values(
                brand=brand,
                platform=platform,
                platform_message_id=platform_message_id,
                delivery_key=delivery_key,
                recipient=recipient,
                text_sha=text_sha,
                seen_at=seen_at,
            )
        )

    async def find_echo(
        self, *, brand: str, platform: str, key: str, recipient: str, text_sha: str, since: datetime
    ) -> str | None:
        """Our message seen coming back: by the key we attached, else by recipient and text."""
        by_key = select(own_messages.c.platform_message_id).where(own_messages.c.delivery_key == key)
        found = (await self._uow.conn.execute(by_key.limit(1))).scalar_one_or_none()
        if found is not None:
            return str(found)
        by_text = select(own_messages.c.platform_message_id).where(
            own_messages.c.brand == brand,
            own_messages.c.platform == platform,
            own_messages.c.text_sha == text_sha,
            own_messages.c.seen_at >= since,
            or_(own_messages.c.recipient.is_(None), own_messages.c.recipient == recipient),
            own_messages.c.platform_message_id.not_in(select(reply_messages.c.platform_message_id)),
        )
        found = (await self._uow.conn.execute(by_text.limit(1))).scalar_one_or_none()
        return None if found is None else str(found)

    async def recorded_replies(self, *, platform: str, ids: list[str]) -> frozenset[str]:
        """Which of ``ids`` are recorded as sent by a delivery already (not another's to claim)."""
        if not ids:
            return frozenset()
        rows = await self._uow.conn.execute(
            select(reply_messages.c.platform_message_id).where(
                reply_messages.c.platform == platform, reply_messages.c.platform_message_id.in_(ids)
            )
        )
        return frozenset(str(r) for r in rows.scalars())

    async def sent_replies(
        self,
        *,
        brand: str,
        platform: str,
        ids: list[str],
        reply_ids: list[uuid.UUID],
        recipient: str | None,
        watermark: datetime | None,
    ) -> list[dict[str, Any]]:
        """Sent reply parts named by a receipt: by message id, by our key, or up to a watermark."""
        conditions: list[ColumnElement[bool]] = [reply_messages.c.platform_message_id.in_(ids)] if ids else []
        if reply_ids:
            conditions.append(reply_messages.c.reply_id.in_(reply_ids))
        if watermark is not None and recipient:
            conditions.append(
                (reply_messages.c.recipient == recipient) & (reply_messages.c.sent_at <= watermark)
            )
        if not conditions:
            return []
        rows = await self._uow.conn.execute(
            select(reply_messages)
            .where(reply_messages.c.brand == brand, reply_messages.c.platform == platform, or_(*conditions))
            .with_for_update()
        )
        return [dict(row._mapping) for row in rows]

    async def set_status(self, platform: str, platform_message_id: str, status: str) -> None:
        await self._uow.conn.execute(
            update(reply_messages)
            .where(
                reply_messages.c.platform == platform,
                reply_messages.c.platform_message_id == platform_message_id,
            )
            .values(status=status)
        )
