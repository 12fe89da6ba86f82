"""What the desk's pages look up for one viewer, within the brands they see: a ticket by
its short id, and how many replies wait for approval (the cockpit lists only the oldest)."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import func, select

from socialdesk_assigner.tables import replies, tickets
from socialdesk_runtime.db import UnitOfWork

__all__ = ["DeskLookup"]


class DeskLookup:
    """Reads that take the viewer's brands (``None``: every brand, as for TMT)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def ticket_ids_starting(
        self, prefix: str, *, brands: Collection[str] | None, limit: int = 2
    ) -> list[uuid.UUID]:
        """Ticket ids of ``brands`` whose hex digits start with ``prefix`` (the short ids the
        desk shows): another brand's ticket neither makes a prefix ambiguous nor is found.
        A range on the primary key, so no scan."""
        digits = prefix.replace("-", "").lower()
        if not 1 <= len(digits) <= 32 or any(c not in "0123456789abcdef" for c in digits):
            return []
        if brands is not None and not brands:
            return []
        low, high = uuid.UUID(digits.ljust(32, "0")), uuid.UUID(digits.ljust(32, "f"))
        stmt = (
            select(tickets.c.ticket_id)
            .where(tickets.c.ticket_id.between(low, high))
            .order_by(tickets.c.ticket_id)
            .limit(limit)
        )
        if brands is not None:
            stmt = stmt.where(tickets.c.brand.in_(sorted(brands)))
        return [row.ticket_id for row in await self._uow.conn.execute(stmt)]

    async def held_count(self, brands: Collection[str] | None) -> int:
        """How many replies of ``brands`` wait for approval."""
        stmt = (
            select(func.count())
            .select_from(replies.join(tickets, tickets.c.ticket_id == replies.c.ticket_id))
            .where(replies.c.status == "pending_approval")
        )
        if brands is not None:
            stmt = stmt.where(tickets.c.brand.in_(sorted(brands)))
        return int((await self._uow.conn.execute(stmt)).scalar_one())
