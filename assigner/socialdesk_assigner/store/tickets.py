"""The assigner's repository: every SQL statement of the service, over one unit of work.

The consumer path reads a batch's state in a few queries and writes it back in a few
``executemany`` statements (one per kind of change), never per event: per-event round
trips would cap the assigner near 100 events/s on two cores (decision 0006).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Uuid, bindparam, cast, literal, null, select, tuple_, union_all, update
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.dialects.postgresql import insert as pg_insert

from socialdesk_assigner.domain import Ticket
from socialdesk_assigner.tables import agent_load, classifications, presence, replies, rr_cursor, tickets
from socialdesk_runtime.db import UnitOfWork

__all__ = ["RoutingState", "TicketStore", "as_ticket"]

_COLUMNS = tuple(f.name for f in fields(Ticket))
#: What a transition may change; the rest is fixed when the ticket opens.
_MUTABLE = (
    "queue",
    "category",
    "priority",
    "status",
    "agent_id",
    "last_platform_message_id",
    "first_response_at",
    "resolved_at",
    "root_cause",
    "message_count",
    "group_id",
    "language",
    "escalation_level",
    "watchers",
    "last_activity_at",
)
_UPDATE = (
    update(tickets)
    .where(tickets.c.ticket_id == bindparam("b_ticket_id"))
    .values({name: bindparam(f"b_{name}") for name in _MUTABLE})
)
_QUEUE_LIMIT = 200
_SELECT = select(*(tickets.c[name] for name in _COLUMNS))


def as_ticket(row: Any) -> Ticket:
    values = {name: row._mapping[name] for name in _COLUMNS}
    values["watchers"] = tuple(values["watchers"] or ())
    return Ticket(**values)


def _row(ticket: Ticket, prefix: str = "") -> dict[str, Any]:
    values = {f"{prefix}{name}": getattr(ticket, name) for name in _COLUMNS}
    values[f"{prefix}watchers"] = list(ticket.watchers)
    return values


@dataclass
class RoutingState:
    """What :meth:`TicketStore.routing_state` reads."""

    presence: dict[str, str] = field(default_factory=dict)
    load: dict[str, int] = field(default_factory=dict)
    cursor: dict[str, str] = field(default_factory=dict)
    last_owner: dict[tuple[str, uuid.UUID], str] = field(default_factory=dict)


class TicketStore:
    """Tickets, replies and round-robin cursors, read and written through ``uow``."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    # -- tickets --

    async def ticket(self, ticket_id: uuid.UUID, *, lock: bool = False) -> Ticket | None:
        """One ticket; ``lock`` holds it (``FOR UPDATE``) until the unit of work ends."""
        stmt = _SELECT.where(tickets.c.ticket_id == ticket_id)
        row = (await self._uow.conn.execute(stmt.with_for_update() if lock else stmt)).first()
        return None if row is None else as_ticket(row)

    async def lock_tickets(self, ticket_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Ticket]:
        """The tickets that exist among ``ticket_ids``, held until the unit of work ends."""
        rows = await self._uow.conn.execute(
            _SELECT.where(tickets.c.ticket_id.in_(list(ticket_ids))).with_for_update()
        )
        return {row.ticket_id: as_ticket(row) for row in rows}

    async def add(self, new: Iterable[Ticket]) -> None:
        rows = [_row(t) for t in new]
        if rows:
            await self._uow.conn.execute(pg_insert(tickets), rows)

    async def save(self, changed: Iterable[Ticket]) -> None:
        rows = []
        for t in changed:
            values = _row(t, "b_")
            rows.append(
                {"b_ticket_id": t.ticket_id, **{f"b_{name}": values[f"b_{name}"] for name in _MUTABLE}}
            )
        if rows:
            await self._uow.conn.execute(_UPDATE, rows)

    async def assigned_to(self, agent_id: str) -> list[Ticket]:
        """An agent's open work, oldest first."""
        rows = await self._uow.conn.execute(
            _SELECT.where(tickets.c.agent_id == agent_id, tickets.c.status.in_(("assigned", "pending")))
            .order_by(tickets.c.received_at)
            .limit(_QUEUE_LIMIT)
        )
        return [as_ticket(row) for row in rows]

    async def routed_before_words(self, message_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Ticket]:
        """Tickets already routed from one of ``message_ids`` (its classification came
        before its words) and not answered yet, held until the unit of work ends."""
        if not message_ids:
            return {}
        rows = await self._uow.conn.execute(
            select(classifications.c.message_id, *(tickets.c[name] for name in _COLUMNS))
            .join(tickets, tickets.c.ticket_id == classifications.c.ticket_id)
            .where(
                classifications.c.message_id.in_(list(message_ids)),
                tickets.c.status.in_(("open", "assigned")),
                tickets.c.first_response_at.is_(None),
            )
            .with_for_update(of=tickets)
        )
        return {row.message_id: as_ticket(row) for row in rows}

    # -- what routing needs --

    async def open_load(self, agent_ids: Collection[str]) -> dict[str, int]:
        """How many open (assigned or pending) tickets each of ``agent_ids`` holds (absent:
        none); the database keeps the count as tickets change (migration 0003)."""
        if not agent_ids:
            return {}
        rows = await self._uow.conn.execute(
            select(agent_load.c.agent_id, agent_load.c.open).where(
                agent_load.c.agent_id.in_(sorted(agent_ids))
            )
        )
        return {row.agent_id: row.open for row in rows if row.open > 0}

    async def routing_state(
        self,
        agent_ids: Collection[str],
        brands: Collection[str],
        customers: Collection[tuple[str, uuid.UUID]],
        *,
        excluding: Collection[uuid.UUID],
    ) -> RoutingState:
        """What routing reads for every batch, in one round trip: presence set at the desk
        (every agent), the open load of ``agent_ids``, the round-robin cursor of ``brands``
        (held until the unit of work ends) and each (brand, customer)'s latest owner among
        their other tickets."""
        cursors = (
            select(rr_cursor.c.brand, rr_cursor.c.last_agent_id)
            .where(rr_cursor.c.brand.in_(sorted(brands) or [""]))
            .order_by(rr_cursor.c.brand)
            .with_for_update()
            .cte("cursors")
        )
        parts = [
            select(
                literal("p").label("kind"),
                presence.c.agent_id.label("agent_id"),
                presence.c.status.label("status"),
                literal(0).label("n"),
                literal("").label("brand"),
                cast(null(), Uuid).label("customer_id"),
            ),
            select(
                literal("l"),
                agent_load.c.agent_id,
                literal(""),
                agent_load.c.open,
                literal(""),
                cast(null(), Uuid),
            ).where(agent_load.c.agent_id.in_(sorted(agent_ids) or [""])),
            select(
                literal("c"),
                cursors.c.last_agent_id,
                literal(""),
                literal(0),
                cursors.c.brand,
                cast(null(), Uuid),
            ),
        ]
        if customers:
            latest = (
                select(tickets.c.brand, tickets.c.customer_id, tickets.c.agent_id)
                .where(
                    tuple_(tickets.c.brand, tickets.c.customer_id).in_(list(customers)),
                    tickets.c.agent_id.is_not(None),
                    tickets.c.ticket_id.not_in(list(excluding)),
                )
                .ext(distinct_on(tickets.c.brand, tickets.c.customer_id))
                .order_by(tickets.c.brand, tickets.c.customer_id, tickets.c.received_at.desc())
                .subquery("latest")
            )
            parts.append(
                select(
                    literal("o"),
                    latest.c.agent_id,
                    literal(""),
                    literal(0),
                    latest.c.brand,
                    latest.c.customer_id,
                )
            )
        state = RoutingState()
        for row in await self._uow.conn.execute(union_all(*parts)):
            if row.kind == "p":
                state.presence[row.agent_id] = row.status
            elif row.kind == "l":
                if row.n > 0:
                    state.load[row.agent_id] = row.n
            elif row.kind == "c":
                state.cursor[row.brand] = row.agent_id
            else:
                state.last_owner[(row.brand, row.customer_id)] = row.agent_id
        return state

    async def last_owners(
        self, customers: Collection[tuple[str, uuid.UUID]], *, excluding: Collection[uuid.UUID]
    ) -> dict[tuple[str, uuid.UUID], str]:
        """The owner of each (brand, customer)'s latest owned ticket, other tickets left out."""
        if not customers:
            return {}
        latest = (
            select(tickets.c.brand, tickets.c.customer_id, tickets.c.agent_id)
            .where(
                tuple_(tickets.c.brand, tickets.c.customer_id).in_(list(customers)),
                tickets.c.agent_id.is_not(None),
                tickets.c.ticket_id.not_in(list(excluding)),
            )
            .ext(distinct_on(tickets.c.brand, tickets.c.customer_id))
            .order_by(tickets.c.brand, tickets.c.customer_id, tickets.c.received_at.desc())
        )
        return {(r.brand, r.customer_id): r.agent_id for r in await self._uow.conn.execute(latest)}

    async def lock_cursors(self, brands: Collection[str]) -> dict[str, str]:
        """The last agent round robin picked, per brand, held until the unit of work ends."""
        rows = await self._uow.conn.execute(
            select(rr_cursor.c.brand, rr_cursor.c.last_agent_id)
            .where(rr_cursor.c.brand.in_(sorted(brands)))
            .order_by(rr_cursor.c.brand)
            .with_for_update()
        )
        return {row.brand: row.last_agent_id for row in rows}

    async def save_cursors(self, cursors: Mapping[str, str]) -> None:
        if not cursors:
            return
        stmt = pg_insert(rr_cursor)
        await self._uow.conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["brand"], set_={"last_agent_id": stmt.excluded.last_agent_id}
            ),
            [{"brand": b, "last_agent_id": cursors[b]} for b in sorted(cursors)],
        )

    # -- replies --

    async def add_replies(self, rows: list[dict[str, Any]]) -> None:
        """Record replies (rows of the ``replies`` table) in one statement; those recorded
        before are left as they are."""
        if rows:
            await self._uow.conn.execute(
                pg_insert(replies).on_conflict_do_nothing(index_elements=["reply_id"]), rows
            )

    async def add_reply(
        self,
        *,
        reply_id: uuid.UUID,
        ticket_id: uuid.UUID,
        agent_id: str,
        text: str,
        at: datetime,
        status: str = "requested",
        template_key: str | None = None,
        request_event_id: uuid.UUID | None = None,
        origin: str = "agent",
    ) -> bool:
        """Record an agent's reply; ``False`` if this ``reply_id`` was recorded before."""
        values: dict[str, Any] = {
            "reply_id": reply_id,
            "ticket_id": ticket_id,
            "agent_id": agent_id,
            "text": text,
            "created_at": at,
            "status": status,
            "status_at": at,
            "template_key": template_key,
            "request_event_id": request_event_id,
            "origin": origin,
        }
        inserted = await self._uow.conn.execute(
            pg_insert(replies)
            .values(values)
            .on_conflict_do_nothing(index_elements=["reply_id"])
            .returning(replies.c.reply_id)
        )
        return inserted.first() is not None
