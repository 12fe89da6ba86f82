"""The repository's webhook side: raw deliveries awaiting extraction, facts already seen,
threads and tickets looked up for facts, edits and deletions of stored messages (the
messages awaiting a Graph read: :mod:`socialdesk_ingest.store.enrichment`)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Table, delete, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from socialdesk_ingest.domain.platforms.extract import OWN_FACT as OWN
from socialdesk_ingest.tables import (
    conversations,
    messages,
    platform_aliases,
    platform_facts,
    raw_deliveries,
)
from socialdesk_runtime.db import UnitOfWork

__all__ = ["OURS", "PendingDelivery", "StoredChange", "WebhookStore"]

WEBHOOK_SOURCES = ("meta", "x", "meta_poll", "x_poll")

_INSERT_FACTS = (
    pg_insert(platform_facts)
    .on_conflict_do_nothing(constraint="platform_facts_pkey")
    .returning(platform_facts.c.brand, platform_facts.c.platform, platform_facts.c.fact_key)
)


@dataclass(frozen=True, slots=True)
class PendingDelivery:
    id: int
    source: str
    body: bytes
    attempts: int


@dataclass(frozen=True, slots=True)
class StoredChange:
    message_id: uuid.UUID
    ticket_id: uuid.UUID


#: What :meth:`WebhookStore.threads_of` says of one of our own messages in no conversation.
OURS = "ours"


class WebhookStore:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def claim_pending(self, limit: int) -> list[PendingDelivery]:
        """The oldest deliveries not extracted yet, locked (another replica skips them)."""
        rows = await self._uow.conn.execute(
            select(
                raw_deliveries.c.id, raw_deliveries.c.source, raw_deliveries.c.body, raw_deliveries.c.attempts
            )
            .where(raw_deliveries.c.extracted_at.is_(None), raw_deliveries.c.source.in_(WEBHOOK_SOURCES))
            .order_by(raw_deliveries.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [PendingDelivery(r.id, r.source, r.body, r.attempts) for r in rows]

    async def mark_extracted(self, ids: Collection[int], *, at: datetime, error: str | None = None) -> None:
        if ids:
            await self._uow.conn.execute(
                update(raw_deliveries)
                .where(raw_deliveries.c.id.in_(list(ids)))
                .values(extracted_at=at, extract_error=error, attempts=raw_deliveries.c.attempts + 1)
            )

    async def count_attempt(self, ids: Collection[int], *, error: str) -> None:
        """A failed extraction: counted, left pending for the next round."""
        if ids:
            await self._uow.conn.execute(
                update(raw_deliveries)
                .where(raw_deliveries.c.id.in_(list(ids)))
                .values(attempts=raw_deliveries.c.attempts + 1, extract_error=error[:2000])
            )

    async def threads_of(self, keys: Collection[tuple[str, str, str]]) -> dict[tuple[str, str, str], str]:
        """(brand, platform, platform message id) → the thread key of its conversation: a
        customer's message's, or for one of our own messages the conversation of the ticket
        it was filed on (a customer answering our reply stays in that thread); one of ours
        filed in no conversation (an announcement) → :data:`OURS`."""
        if not keys:
            return {}
        rows = await self._uow.conn.execute(
            select(
                messages.c.brand,
                messages.c.platform,
                messages.c.platform_message_id,
                conversations.c.thread_key,
            )
            .join(conversations, conversations.c.id == messages.c.conversation_id)
            .where(
                tuple_(messages.c.brand, messages.c.platform, messages.c.platform_message_id).in_(list(keys))
            )
        )
        found = {(r.brand, r.platform, r.platform_message_id): r.thread_key for r in rows}
        own = {(b, p, f"{OWN}{pmid}"): (b, p, pmid) for b, p, pmid in keys if (b, p, pmid) not in found}
        if own:
            # The conversation of a customer message on the ticket ours was filed on: still
            # right after the conversation moved to a newer ticket (it went idle).
            conversation = (
                select(messages.c.conversation_id)
                .where(messages.c.ticket_id == platform_facts.c.ticket_id)
                .limit(1)
                .scalar_subquery()
            )
            rows = await self._uow.conn.execute(
                select(
                    platform_facts.c.brand,
                    platform_facts.c.platform,
                    platform_facts.c.fact_key,
                    conversations.c.thread_key,
                )
                .select_from(platform_facts)
                .outerjoin(conversations, conversations.c.id == conversation)
                .where(
                    tuple_(platform_facts.c.brand, platform_facts.c.platform, platform_facts.c.fact_key).in_(
                        list(own)
                    )
                )
            )
            found.update({own[(r.brand, r.platform, r.fact_key)]: r.thread_key or OURS for r in rows})
        return found

    async def tickets_of_messages(
        self, keys: Collection[tuple[str, str, str]]
    ) -> dict[tuple[str, str, str], uuid.UUID]:
        """(brand, platform, platform message id) → the ticket that message is on: the ticket
        that stored a customer's message, or the one one of our own messages was filed on.
        Never the conversation's current ticket: the message answered says which ticket an
        answer belongs to, even after its conversation moved on to a newer one (decision 0204)."""
        found = await self._by_key(messages, messages.c.platform_message_id, messages.c.ticket_id, keys)
        own = {(b, p, f"{OWN}{pmid}"): (b, p, pmid) for b, p, pmid in keys if (b, p, pmid) not in found}
        facts = await self._by_key(platform_facts, platform_facts.c.fact_key, platform_facts.c.ticket_id, own)
        found.update({own[k]: ticket for k, ticket in facts.items()})
        return found

    async def known_as(self, keys: Collection[tuple[str, str, str]]) -> dict[tuple[str, str, str], str]:
        """(brand, platform, alias) → the id that user is known by (see :meth:`remember_aliases`)."""
        return await self._by_key(
            platform_aliases, platform_aliases.c.alias, platform_aliases.c.platform_user_id, keys
        )

    async def remember_aliases(self, rows: Collection[tuple[str, str, str, str]], *, at: datetime) -> None:
        """(brand, platform, alias, platform user id): the alias now names that user."""
        if not rows:
            return
        latest = {(b, p, a): u for b, p, a, u in rows}  # one row per alias: one upsert
        stmt = pg_insert(platform_aliases)
        await self._uow.conn.execute(
            stmt.on_conflict_do_update(
                constraint="platform_aliases_pkey",
                set_={"platform_user_id": stmt.excluded.platform_user_id, "seen_at": stmt.excluded.seen_at},
            ),
            [
                {"brand": b, "platform": p, "alias": a, "platform_user_id": u, "seen_at": at}
                for (b, p, a), u in sorted(latest.items())
            ],
        )

    async def tickets_of(
        self, keys: Collection[tuple[str, str, str]]
    ) -> dict[tuple[str, str, str], uuid.UUID]:
        """(brand, platform, thread key) → the conversation's current ticket."""
        return await self._by_key(conversations, conversations.c.thread_key, conversations.c.ticket_id, keys)

    async def _by_key(
        self, table: Table, key: Column[Any], value: Column[Any], keys: Collection[tuple[str, str, str]]
    ) -> dict[tuple[str, str, str], Any]:
        """(brand, platform, ``key``) → ``value`` of ``table``'s rows so keyed, one statement."""
        if not keys:
            return {}
        rows = await self._uow.conn.execute(
            select(table.c.brand, table.c.platform, key, value).where(
                tuple_(table.c.brand, table.c.platform, key).in_(list(keys))
            )
        )
        return {(r[0], r[1], r[2]): r[3] for r in rows}

    async def record_facts(
        self, facts: Sequence[tuple[str, str, str, uuid.UUID]], *, seen_at: datetime
    ) -> set[tuple[str, str, str]]:
        """Remember (brand, platform, fact key, ticket); the keys not seen before."""
        if not facts:
            return set()
        rows = await self._uow.conn.execute(
            _INSERT_FACTS,
            [
                {"brand": b, "platform": p, "fact_key": k, "ticket_id": t, "seen_at": seen_at}
                for b, p, k, t in facts
            ],
        )
        return {(r.brand, r.platform, r.fact_key) for r in rows}

    async def change_message(
        self,
        brand: str,
        platform: str,
        platform_message_id: str,
        *,
        text: str | None,
        at: datetime,
        deleted: bool,
    ) -> StoredChange | None:
        """Record an edit (new text) or a deletion of a stored message; ``None`` if unknown."""
        values: dict[str, object] = {"deleted_at": at} if deleted else {"edited_at": at}
        if not deleted and text is not None:
            values["text"] = text
        row = (
            await self._uow.conn.execute(
                update(messages)
                .where(
                    messages.c.brand == brand,
                    messages.c.platform == platform,
                    messages.c.platform_message_id == platform_message_id,
                )
                .values(**values)
                .returning(messages.c.id, messages.c.ticket_id)
            )
        ).first()
        return None if row is None else StoredChange(row.id, row.ticket_id)

    async def reopen_since(self, since: datetime) -> int:
        """Mark webhook deliveries received since ``since`` for extraction again (replay)."""
        result = await self._uow.conn.execute(
            update(raw_deliveries)
            .where(raw_deliveries.c.received_at >= since, raw_deliveries.c.source.in_(WEBHOOK_SOURCES))
            .values(extracted_at=None, extract_error=None)
        )
        return int(result.rowcount or 0)

    async def pending_count(self) -> int:
        return int(
            (
                await self._uow.conn.execute(
                    select(func.count())
                    .select_from(raw_deliveries)
                    .where(raw_deliveries.c.extracted_at.is_(None))
                )
            ).scalar_one()
        )

    async def forget_before(self, cutoff: datetime) -> int:
        """Delete raw bodies older than the retention, once extracted; messages keep their rows."""
        result = await self._uow.conn.execute(
            delete(raw_deliveries).where(
                raw_deliveries.c.received_at < cutoff, raw_deliveries.c.extracted_at.is_not(None)
            )
        )
        return int(result.rowcount or 0)


async def deliveries_since(
    uow: UnitOfWork, since: datetime, *, after_id: int, limit: int
) -> list[PendingDelivery]:
    """Webhook deliveries received at or after ``since`` with id above ``after_id``, locked, oldest first."""
    rows = await uow.conn.execute(
        select(raw_deliveries.c.id, raw_deliveries.c.source, raw_deliveries.c.body, raw_deliveries.c.attempts)
        .where(
            raw_deliveries.c.received_at >= since,
            raw_deliveries.c.id > after_id,
            raw_deliveries.c.source.in_(WEBHOOK_SOURCES),
        )
        .order_by(raw_deliveries.c.id)
        .limit(limit)
        .with_for_update()
    )
    return [PendingDelivery(r.id, r.source, r.body, r.attempts) for r in rows]


async def count_deliveries_since(uow: UnitOfWork, since: datetime) -> int:
    return int(
        (
            await uow.conn.execute(
                select(func.count())
                .select_from(raw_deliveries)
                .where(raw_deliveries.c.received_at >= since, raw_deliveries.c.source.in_(WEBHOOK_SOURCES))
            )
        ).scalar_one()
    )
