"""The desk's read model, fed by other services' events: conversations (customer messages,
edits, deletions, replies typed in a platform's inbox), classifications, customers, SLA
clocks, reply delivery states and incident groups. Written in batches (``executemany``)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, delete, exists, func, select, update
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.dialects.postgresql import insert as pg_insert

from socialdesk_assigner.domain.inbox import InboxReply
from socialdesk_assigner.store.deliveries import ReplyDeliveries
from socialdesk_assigner.tables import (
    classifications,
    customer_links,
    customers,
    desk_messages,
    incident_groups,
    sla_clocks,
    spikes,
    tickets,
)
from socialdesk_runtime.db import UnitOfWork

__all__ = ["INBOX", "ReadModelStore"]

#: ``desk_messages.direction`` of a message a person typed in a platform's own inbox.
INBOX = "agent_inbox"
#: Clock states that still count for the queue's due time.
RUNNING = ("armed", "warned", "breached")


class ReadModelStore(ReplyDeliveries):
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    # -- conversation --

    async def add_messages(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            await self._uow.conn.execute(
                pg_insert(desk_messages).on_conflict_do_nothing(index_elements=["message_id"]), list(rows)
            )

    async def add_message(self, row: dict[str, Any]) -> bool:
        """One message; ``False`` if its ``message_id`` was recorded before (read again)."""
        inserted = await self._uow.conn.execute(
            pg_insert(desk_messages)
            .values(row)
            .on_conflict_do_nothing(index_elements=["message_id"])
            .returning(desk_messages.c.message_id)
        )
        return inserted.first() is not None

    async def inbox_replies(self, ticket_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, list[InboxReply]]:
        """The messages typed in a platform's inbox filed on each of ``ticket_ids``, in time order."""
        if not ticket_ids:
            return {}
        rows = await self._uow.conn.execute(
            select(
                desk_messages.c.ticket_id,
                desk_messages.c.platform,
                desk_messages.c.platform_message_id,
                desk_messages.c.at,
                desk_messages.c.counted_at,
            )
            .where(desk_messages.c.ticket_id.in_(list(ticket_ids)), desk_messages.c.direction == INBOX)
            .order_by(desk_messages.c.ticket_id, desk_messages.c.at)
        )
        found: dict[uuid.UUID, list[InboxReply]] = {}
        for r in rows:
            found.setdefault(r.ticket_id, []).append(
                InboxReply(r.platform, r.platform_message_id, r.at, counted=r.counted_at is not None)
            )
        return found

    async def mark_inbox_counted(self, counted: Sequence[tuple[uuid.UUID, str]], at: datetime) -> None:
        """The inbox messages (ticket, platform message id) just counted as their ticket's reply."""
        if counted:
            await self._uow.conn.execute(
                update(desk_messages)
                .where(
                    desk_messages.c.ticket_id == bindparam("b_ticket"),
                    desk_messages.c.platform_message_id == bindparam("b_pmid"),
                    desk_messages.c.direction == INBOX,
                    desk_messages.c.counted_at.is_(None),
                )
                .values(counted_at=at),
                [{"b_ticket": t, "b_pmid": p} for t, p in counted],
            )

    async def texts(self, message_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
        """The customer's words of each message, where ingest's record has arrived."""
        if not message_ids:
            return {}
        rows = await self._uow.conn.execute(
            select(desk_messages.c.message_id, desk_messages.c.text).where(
                desk_messages.c.message_id.in_(list(message_ids))
            )
        )
        return {r.message_id: r.text for r in rows}

    async def opening_texts(self, ticket_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
        """The words of each ticket's first customer message (keyword rules read them)."""
        if not ticket_ids:
            return {}
        rows = await self._uow.conn.execute(
            select(desk_messages.c.ticket_id, desk_messages.c.text)
            .where(desk_messages.c.ticket_id.in_(list(ticket_ids)), desk_messages.c.direction == "customer")
            .ext(distinct_on(desk_messages.c.ticket_id))
            .order_by(desk_messages.c.ticket_id, desk_messages.c.at)
        )
        return {r.ticket_id: r.text for r in rows}

    async def edit_messages(self, rows: Sequence[dict[str, Any]]) -> None:
        """Edits (``b_id``, ``b_text``, ``b_at``) in record order: the first keeps the original.
        One that leaves the words as they were (a late read naming the author only) marks nothing."""
        if rows:
            await self._uow.conn.execute(
                update(desk_messages)
                .where(
                    desk_messages.c.message_id == bindparam("b_id"),
                    desk_messages.c.text.is_distinct_from(bindparam("b_text")),
                )
                .values(
                    original_text=func.coalesce(desk_messages.c.original_text, desk_messages.c.text),
                    text=bindparam("b_text"),
                    edited_at=bindparam("b_at"),
                ),
                list(rows),
            )

    async def name_authors(self, rows: Sequence[dict[str, Any]]) -> None:
        """Authors a later read of the platform named, a row each: the message (``b_id``) shows
        its author (``b_author``, ``b_author_name``); its customer (``b_customer`` on
        ``b_platform``) is known by ``b_user`` and takes the author's handle and name
        (``b_handle``, ``b_name``; kept where the read gave none). Applied again, it changes nothing."""
        if not rows:
            return
        await self._uow.conn.execute(
            update(desk_messages)
            .where(desk_messages.c.message_id == bindparam("b_id"))
            .values(
                author_id=bindparam("b_author"),
                author_name=func.coalesce(bindparam("b_author_name"), desk_messages.c.author_name),
            ),
            list(rows),
        )
        await self._uow.conn.execute(
            update(customers)
            .where(
                customers.c.customer_id == bindparam("b_customer"),
                customers.c.platform == bindparam("b_platform"),
            )
            .values(
                platform_user_id=bindparam("b_user"),
                handle=func.coalesce(bindparam("b_handle"), customers.c.handle),
                display_name=func.coalesce(bindparam("b_name"), customers.c.display_name),
            ),
            list(rows),
        )

    async def delete_messages(self, rows: Sequence[dict[str, Any]]) -> None:
        """Deletions (``b_id``, ``b_at``): the message stays, marked deleted."""
        if rows:
            await self._uow.conn.execute(
                update(desk_messages)
                .where(desk_messages.c.message_id == bindparam("b_id"))
                .values(deleted_at=bindparam("b_at")),
                list(rows),
            )

    async def add_classifications(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            await self._uow.conn.execute(
                pg_insert(classifications).on_conflict_do_nothing(index_elements=["message_id"]), list(rows)
            )

    async def upsert_customers(self, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        stmt = pg_insert(customers)
        await self._uow.conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["customer_id", "platform"],
                set_={
                    "platform_user_id": stmt.excluded.platform_user_id,
                    "handle": func.coalesce(stmt.excluded.handle, customers.c.handle),
                    "display_name": func.coalesce(stmt.excluded.display_name, customers.c.display_name),
                    "followers": func.coalesce(stmt.excluded.followers, customers.c.followers),
                    "last_seen_at": func.greatest(stmt.excluded.last_seen_at, customers.c.last_seen_at),
                },
            ),
            list(rows),
        )

    async def link_customers(
        self, profile_id: uuid.UUID, customer_ids: Sequence[uuid.UUID], at: datetime
    ) -> None:
        """``customer_ids`` are the whole profile now: those left out of it are unlinked."""
        await self._uow.conn.execute(
            delete(customer_links).where(
                customer_links.c.profile_id == profile_id,
                customer_links.c.customer_id.not_in(list(customer_ids)),
            )
        )
        stmt = pg_insert(customer_links)
        await self._uow.conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["customer_id"],
                set_={"profile_id": stmt.excluded.profile_id, "linked_at": stmt.excluded.linked_at},
            ),
            [
                {"customer_id": c, "profile_id": profile_id, "linked_at": at}
                for c in dict.fromkeys(customer_ids)
            ],
        )

    async def unlink_customer(self, profile_id: uuid.UUID, customer_id: uuid.UUID) -> None:
        await self._uow.conn.execute(
            delete(customer_links).where(
                customer_links.c.profile_id == profile_id, customer_links.c.customer_id == customer_id
            )
        )

    # -- SLA clocks --

    async def set_clocks(self, rows: Sequence[dict[str, Any]]) -> None:
        """Upsert clocks: rows with the same keys, one per (ticket_id, clock); the columns a
        row names are set, the others kept (or left empty on a clock not seen before)."""
        if not rows:
            return
        stmt = pg_insert(sla_clocks)
        columns = [name for name in rows[0] if name not in ("ticket_id", "clock")]
        await self._uow.conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["ticket_id", "clock"], set_={name: stmt.excluded[name] for name in columns}
            ),
            list(rows),
        )

    async def refresh_due(self, ticket_ids: Collection[uuid.UUID]) -> None:
        """Recompute each ticket's queue due time and SLA state from its running clocks."""
        if not ticket_ids:
            return
        running = sla_clocks.c.state.in_(RUNNING)
        due = (
            select(func.min(sla_clocks.c.due_at))
            .where(sla_clocks.c.ticket_id == tickets.c.ticket_id, running)
            .scalar_subquery()
        )

        def having(state: str) -> Any:
            return exists().where(sla_clocks.c.ticket_id == tickets.c.ticket_id, sla_clocks.c.state == state)

        await self._uow.conn.execute(
            update(tickets)
            .where(tickets.c.ticket_id.in_(list(ticket_ids)))
            .values(
                sla_due_at=due,
                sla_state=case((having("breached"), "breached"), (having("warned"), "warned"), else_=None),
            )
        )

    # -- incident groups and spikes --

    async def add_spikes(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            await self._uow.conn.execute(
                pg_insert(spikes).on_conflict_do_nothing(index_elements=["event_id"]), list(rows)
            )

    async def upsert_groups(self, rows: Sequence[dict[str, Any]]) -> None:
        """Groups (``brand``, ``group_id``, ``volume``, ``sample_text``, ``updated_at``), one
        row per group: the volume only grows, a sample is kept until a new one comes."""
        if not rows:
            return
        stmt = pg_insert(incident_groups)
        await self._uow.conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["brand", "group_id"],
                set_={
                    "volume": func.greatest(stmt.excluded.volume, incident_groups.c.volume),
                    "sample_text": func.coalesce(stmt.excluded.sample_text, incident_groups.c.sample_text),
                    "updated_at": stmt.excluded.updated_at,
                },
            ),
            list(rows),
        )
