"""Retained outbox rows: sent again when a broker lost them, forgotten after their window.

A published outbox row is kept (``published_at`` set) for the outbox retention, so a broker
that lost acknowledged records can be given them again (:func:`mark_for_republish`, by the
relay on its own or ``socialdesk republish`` by hand); the inbox keeps processed event ids
longer than that, so a republished event is still recognised as seen. Past their windows
both are pruned by the relay that holds the lock (:func:`prune_messaging`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from socialdesk_runtime.db import inbox_table, outbox_table

__all__ = ["mark_for_republish", "prune_messaging"]

_PRUNE_CHUNK = 5_000


async def mark_for_republish(
    conn: AsyncConnection, *, topics: set[str] | None = None, since: datetime | None = None
) -> int:
    """Mark retained, published rows unpublished again (all, of ``topics``, or since a time).

    The relay then sends them in id order before anything newer. Returns the row count.
    """
    stmt = update(outbox_table).where(outbox_table.c.published_at.is_not(None))
    if topics is not None:
        stmt = stmt.where(outbox_table.c.topic.in_(sorted(topics)))
    if since is not None:
        stmt = stmt.where(outbox_table.c.published_at >= since)
    result = await conn.execute(stmt.values(published_at=None))
    return int(result.rowcount)


async def prune_messaging(
    conn: AsyncConnection, now: datetime, *, outbox_retention: timedelta, inbox_retention: timedelta
) -> tuple[int, int]:
    """Delete outbox rows published, and inbox ids processed, longer ago than their retention
    (in chunks, one commit each); returns how many of each. Pending rows are never pruned."""
    published = outbox_table.c.published_at
    outbox = await _delete_chunks(
        conn,
        outbox_table,
        outbox_table.c.id,
        (published.is_not(None), published < now - outbox_retention),
        order_by=outbox_table.c.id,
    )
    inbox = await _delete_chunks(
        conn,
        inbox_table,
        inbox_table.c.event_id,
        (inbox_table.c.processed_at < now - inbox_retention,),
    )
    return outbox, inbox


async def _delete_chunks(
    conn: AsyncConnection, table: Table, key: Any, where: tuple[Any, ...], *, order_by: Any = None
) -> int:
    """Delete the rows matching ``where``, ``_PRUNE_CHUNK`` at a time (short transactions)."""
    total = 0
    while True:
        chunk = select(key).where(*where).limit(_PRUNE_CHUNK)
        if order_by is not None:
            chunk = chunk.order_by(order_by)
        result = await conn.execute(table.delete().where(key.in_(chunk.scalar_subquery())))
        await conn.commit()
        total += result.rowcount
        if result.rowcount < _PRUNE_CHUNK:
            return total
