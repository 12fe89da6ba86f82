"""What came back from Freshdesk (webhooks), and what we made there, for recognising echoes."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select, text, update
from sqlalchemy.dialects.postgresql import Insert
from sqlalchemy.dialects.postgresql import insert as pg_insert

from socialdesk_notifier.bulk import any_of
from socialdesk_notifier.freshdesk.tables import freshdesk_inbound, freshdesk_ops
from socialdesk_runtime.db import UnitOfWork

__all__ = ["InboundStore"]


class InboundStore:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def our_note(self, brand: str, conversation_id: str) -> bool:
        """A note or reply the connector itself made (its id is in the ops log)."""
        row = await self._uow.conn.execute(
            select(freshdesk_ops.c.id)
            .where(
                freshdesk_ops.c.brand == brand,
                freshdesk_ops.c.external_ref == conversation_id,
                freshdesk_ops.c.kind == "note",
            )
            .limit(1)
        )
        return row.first() is not None

    async def our_note_bodies(self, ticket_id: uuid.UUID, *, private: bool | None = None) -> list[str]:
        """The bodies of the notes the connector wrote on this ticket (``private``: only those
        of that kind; ``None``: all)."""
        rows = await self._uow.conn.execute(
            select(freshdesk_ops.c.payload).where(
                freshdesk_ops.c.ticket_id == ticket_id, freshdesk_ops.c.kind == "note"
            )
        )
        return [
            str(p.get("body", ""))
            for (p,) in rows
            if isinstance(p, dict) and (private is None or bool(p.get("private", True)) == private)
        ]

    async def remember_inbound(
        self,
        key: str,
        *,
        brand: str,
        fd_ticket_id: int,
        ticket_id: uuid.UUID | None,
        ref: uuid.UUID | None,
        at: datetime,
    ) -> bool:
        """False when this webhook was handled before (Freshdesk retries, rules fire twice)."""
        result = await self._uow.conn.execute(
            _inbound_row(key, brand, fd_ticket_id, ticket_id, ref, at)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(freshdesk_inbound.c.key)
        )
        return result.first() is not None

    async def our_status_change(self, ticket_id: uuid.UUID, status: int, *, since: datetime) -> bool:
        """The connector is setting this status on the ticket, or set it since ``since``: a
        status webhook for it is the echo of our own update, whatever the mirror says now (the
        queue can drain faster than Freshdesk's webhooks arrive)."""
        row = await self._uow.conn.execute(
            select(freshdesk_ops.c.id)
            .where(
                freshdesk_ops.c.ticket_id == ticket_id,
                freshdesk_ops.c.kind == "update",
                freshdesk_ops.c.payload["status"].as_string() == str(status),
                (freshdesk_ops.c.status.in_(("pending", "sending"))) | (freshdesk_ops.c.done_at >= since),
            )
            .limit(1)
        )
        return row.first() is not None

    async def reopened_there(
        self, brand: str, fd_ticket_id: int, ticket_id: uuid.UUID, *, at: datetime
    ) -> None:
        """An agent reopened the ticket in Freshdesk: the desk's reopen that follows owes
        Freshdesk nothing, and a resolve decided before it is stale (one row per ticket)."""
        key = f"{brand}:{fd_ticket_id}:reopened-there"
        await self._uow.conn.execute(
            _inbound_row(key, brand, fd_ticket_id, ticket_id, None, at).on_conflict_do_update(
                index_elements=["key"], set_={"received_at": at, "event_id": None}
            )
        )

    async def take_reopened_there(self, brand: str, fd_ticket_id: int, event_id: uuid.UUID) -> bool:
        """True once for the desk's reopen that follows a reopen in Freshdesk (marks it taken)."""
        result = await self._uow.conn.execute(
            update(freshdesk_inbound)
            .where(
                freshdesk_inbound.c.key == f"{brand}:{fd_ticket_id}:reopened-there",
                freshdesk_inbound.c.event_id.is_(None),
            )
            .values(event_id=event_id)
        )
        return bool(result.rowcount)

    async def reopened_there_since(self, brand: str, fd_ticket_id: int, at: datetime) -> bool:
        """An agent reopened the ticket in Freshdesk after ``at``."""
        row = await self._uow.conn.execute(
            select(freshdesk_inbound.c.key).where(
                freshdesk_inbound.c.key == f"{brand}:{fd_ticket_id}:reopened-there",
                freshdesk_inbound.c.received_at > at,
            )
        )
        return row.first() is not None

    async def forget_statuses(self, brand: str, fd_ticket_id: int) -> None:
        """A reopened ticket may be resolved in Freshdesk again: that resolve is news, not
        the repeat of the first one."""
        await self._uow.conn.execute(
            delete(freshdesk_inbound).where(
                freshdesk_inbound.c.brand == brand,
                freshdesk_inbound.c.fd_ticket_id == fd_ticket_id,
                freshdesk_inbound.c.key.like(f"{brand}:{fd_ticket_id}:status:%"),
            )
        )

    async def inbound_replies(self, reply_ids: list[uuid.UUID]) -> set[uuid.UUID]:
        """Which of these replies came from Freshdesk (an agent answered there)."""
        if not reply_ids:
            return set()
        rows = await self._uow.conn.execute(
            select(freshdesk_inbound.c.event_id).where(any_of(freshdesk_inbound.c.event_id, reply_ids))
        )
        return {r for (r,) in rows}

    async def inbound_reply(self, reply_id: uuid.UUID) -> bool:
        """This reply came from Freshdesk (an agent answered there): not noted back."""
        row = await self._uow.conn.execute(
            select(text("1")).select_from(freshdesk_inbound).where(freshdesk_inbound.c.event_id == reply_id)
        )
        return row.first() is not None


def _inbound_row(
    key: str,
    brand: str,
    fd_ticket_id: int,
    ticket_id: uuid.UUID | None,
    event_id: uuid.UUID | None,
    at: datetime,
) -> Insert:
    """One ``freshdesk_inbound`` row to insert; the caller says what a conflict on its key does."""
    return pg_insert(freshdesk_inbound).values(
        key=key,
        brand=brand,
        fd_ticket_id=fd_ticket_id,
        ticket_id=ticket_id,
        event_id=event_id,
        received_at=at,
    )
