"""The repository's messages awaiting a Graph API read (enrichment, decision 0204)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, select, update

from socialdesk_ingest.tables import customers, messages
from socialdesk_runtime.db import UnitOfWork

__all__ = ["DueEnrichment", "EnrichmentStore"]


@dataclass(frozen=True, slots=True)
class DueEnrichment:
    id: uuid.UUID
    ticket_id: uuid.UUID
    brand: str
    platform: str
    kind: str
    platform_message_id: str
    in_reply_to: str | None
    text: str
    attempts: int
    customer_id: uuid.UUID
    author_id: str
    """The platform user id its customer is known by (a placeholder when the author was withheld)."""


class EnrichmentStore:
    """Messages that arrived with ids only and wait for a Graph API read.

    A read is made with no transaction open: :meth:`claim` leases the due messages (their
    next try moves to the lease's end, so another replica leaves them alone) and commits;
    :meth:`done` and :meth:`failed` then write a read's outcome only while the lease they
    name is still the message's (once, whoever else tried it meanwhile)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def claim(self, now: datetime, limit: int, *, until: datetime) -> list[DueEnrichment]:
        """The due messages, oldest first, leased ``until`` then."""
        rows = (
            await self._uow.conn.execute(
                select(
                    messages.c.id,
                    messages.c.ticket_id,
                    messages.c.brand,
                    messages.c.platform,
                    messages.c.kind,
                    messages.c.platform_message_id,
                    messages.c.in_reply_to,
                    messages.c.text,
                    messages.c.enrich_attempts,
                    messages.c.customer_id,
                    customers.c.platform_user_id,
                )
                .join(customers, customers.c.id == messages.c.customer_id)
                .where(messages.c.needs_enrichment, messages.c.next_enrich_at <= now)
                .order_by(messages.c.next_enrich_at)
                .limit(limit)
                .with_for_update(of=messages, skip_locked=True)
            )
        ).all()
        if rows:
            await self._uow.conn.execute(
                update(messages).where(messages.c.id.in_([r.id for r in rows])).values(next_enrich_at=until)
            )
        return [
            DueEnrichment(
                r.id,
                r.ticket_id,
                r.brand,
                r.platform,
                r.kind,
                r.platform_message_id,
                r.in_reply_to,
                r.text,
                r.enrich_attempts,
                r.customer_id,
                r.platform_user_id,
            )
            for r in rows
        ]

    async def done(
        self, row: DueEnrichment, *, leased: datetime, text: str | None, at: datetime
    ) -> str | None:
        """The read of ``row`` succeeded: its words become ``text`` (when the read gave any)
        unless they changed since the claim (an edit extracted meanwhile is newer than the
        read). The message's words after; ``None`` if the lease is no longer ours (nothing
        written)."""
        values: dict[str, object] = {"needs_enrichment": False, "next_enrich_at": None}
        if text is not None:
            unchanged = messages.c.text == row.text
            values.update(
                text=case((unchanged, text), else_=messages.c.text),
                edited_at=case((unchanged, at), else_=messages.c.edited_at),
            )
        return await self._settle(row.id, leased, values)

    async def failed(
        self, message_id: uuid.UUID, *, leased: datetime, attempts: int, next_at: datetime | None
    ) -> bool:
        """Count a failed read; ``next_at=None`` gives up (the message keeps what it had).
        ``False`` if the lease is no longer ours (nothing written)."""
        values = {
            "enrich_attempts": attempts,
            "next_enrich_at": next_at,
            "needs_enrichment": next_at is not None,
        }
        return await self._settle(message_id, leased, values) is not None

    async def _settle(
        self, message_id: uuid.UUID, leased: datetime, values: Mapping[str, object]
    ) -> str | None:
        """Write ``values`` while the lease is ours; the message's words after (``None``: not ours)."""
        words: str | None = (
            await self._uow.conn.execute(
                update(messages)
                .where(
                    messages.c.id == message_id,
                    messages.c.needs_enrichment,
                    messages.c.next_enrich_at == leased,
                )
                .values(**values)
                .returning(messages.c.text)
            )
        ).scalar_one_or_none()
        return words
