"""What the desk's routes read and write besides tickets: the ticket page (conversation,
customer, group, notes, history), the queue, notes, history, follow-ups, presence,
held replies and idempotency keys."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Uuid, and_, any_, delete, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.dialects.postgresql import insert as pg_insert

from socialdesk_assigner.domain import Ticket
from socialdesk_assigner.domain.views import OPEN_STATES, PRIORITY_ORDER, QueueScope
from socialdesk_assigner.store.tickets import _SELECT, as_ticket
from socialdesk_assigner.tables import (
    customers,
    desk_messages,
    follow_ups,
    history,
    idempotency,
    incident_groups,
    notes,
    presence,
    replies,
    tickets,
    tickets_with_trends,
)
from socialdesk_runtime.db import UnitOfWork

__all__ = ["DeskStore", "QueueFilters"]

QueueFilters = dict[str, Any]
_EXCERPT = 200  # characters of the latest message the queue page gets
_PRIORITY_RANK = func.array_position(func.string_to_array(",".join(PRIORITY_ORDER), ","), tickets.c.priority)


def _plain(row: Any) -> dict[str, Any]:
    return dict(row._mapping)


def _queue_select(scope: QueueScope, filters: QueueFilters, limit: int) -> Any:
    stmt = _SELECT.add_columns(tickets.c.sla_due_at, tickets.c.sla_state)
    status = filters.get("status")
    stmt = stmt.where(tickets.c.status.in_([status] if status else list(OPEN_STATES)))
    stmt = stmt.where(tickets.c.queue == "cx")
    if scope.brands is not None:
        stmt = stmt.where(tickets.c.brand.in_(sorted(scope.brands)))
    if scope.owner_or_unowned is not None:
        stmt = stmt.where(
            or_(
                tickets.c.agent_id == scope.owner_or_unowned,
                tickets.c.agent_id.is_(None),
                literal(scope.owner_or_unowned) == any_(tickets.c.watchers),
            )
        )
    for name in ("brand", "platform", "priority", "category", "group_id"):
        if filters.get(name):
            stmt = stmt.where(tickets.c[name] == filters[name])
    owner = filters.get("owner")
    if owner == "none":
        stmt = stmt.where(tickets.c.agent_id.is_(None))
    elif owner:
        stmt = stmt.where(tickets.c.agent_id == owner)
    if filters.get("escalated") is not None:
        esc = tickets.c.escalation_level.is_not(None)
        stmt = stmt.where(esc if filters["escalated"] else ~esc)
    return stmt.order_by(
        tickets.c.sla_due_at.asc().nulls_last(), _PRIORITY_RANK, tickets.c.received_at
    ).limit(limit)


class DeskStore:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    # -- the queue --

    async def queue(
        self, scope: QueueScope, filters: QueueFilters, *, limit: int
    ) -> list[tuple[Ticket, Any]]:
        """Open tickets in ``scope`` matching ``filters``, most urgent first: the earliest SLA
        due time (none: last), then priority, then oldest."""
        rows = await self._uow.conn.execute(_queue_select(scope, filters, limit))
        return [(as_ticket(r), {"sla_due_at": r.sla_due_at, "sla_state": r.sla_state}) for r in rows]

    async def queue_page(
        self, scope: QueueScope, filters: QueueFilters, *, limit: int
    ) -> list[tuple[Ticket, Any]]:
        """:meth:`queue` with what the desk's queue page shows of each ticket besides: the
        customer's name on the ticket's platform and the start of their latest message that
        is not deleted. One statement (two index lookups per row), never a query per row."""
        m, c = desk_messages, customers
        latest = select(func.left(m.c.text, _EXCERPT)).where(
            m.c.ticket_id == tickets.c.ticket_id, m.c.direction == "customer", m.c.deleted_at.is_(None)
        )
        name = select(func.coalesce(c.c.display_name, c.c.handle)).where(
            c.c.customer_id == tickets.c.customer_id
        )
        latest = latest.order_by(m.c.at.desc()).limit(1)
        name = name.order_by((c.c.platform == tickets.c.platform).desc()).limit(1)
        stmt = _queue_select(scope, filters, limit).add_columns(
            name.scalar_subquery().label("customer_name"), latest.scalar_subquery().label("latest_text")
        )
        return [
            (
                as_ticket(r),
                {
                    "sla_due_at": r.sla_due_at,
                    "sla_state": r.sla_state,
                    "customer_name": r.customer_name,
                    "latest_text": r.latest_text,
                },
            )
            for r in await self._uow.conn.execute(stmt)
        ]

    # -- the ticket page --

    async def conversation(self, ticket_id: uuid.UUID) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Customer messages (and replies typed in a platform's inbox), and our replies."""
        msgs = await self._uow.conn.execute(
            select(desk_messages).where(desk_messages.c.ticket_id == ticket_id).order_by(desk_messages.c.at)
        )
        sent = await self._uow.conn.execute(
            select(replies).where(replies.c.ticket_id == ticket_id).order_by(replies.c.created_at)
        )
        return [_plain(r) for r in msgs], [_plain(r) for r in sent]

    async def group_tickets(self, brand: str, group_id: str) -> list[Ticket]:
        rows = await self._uow.conn.execute(
            _SELECT.where(
                tickets.c.group_id == group_id, tickets.c.brand == brand, tickets.c.status.in_(OPEN_STATES)
            )
            .order_by(tickets.c.received_at)
            .with_for_update()
        )
        return [as_ticket(r) for r in rows]

    async def display_names(self, customer_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
        rows = await self._uow.conn.execute(
            select(customers.c.customer_id, customers.c.display_name, customers.c.handle).where(
                customers.c.customer_id.in_(list(customer_ids))
            )
        )
        return {r.customer_id: r.display_name or r.handle for r in rows if (r.display_name or r.handle)}

    # -- notes, history, follow-ups --

    async def add_note(self, **values: Any) -> bool:
        """False when a note with this id is there already (the same note delivered again)."""
        result = await self._uow.conn.execute(
            pg_insert(notes).values(**values).on_conflict_do_nothing(index_elements=["note_id"])
        )
        return bool(result.rowcount)

    async def add_history(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            await self._uow.conn.execute(history.insert(), list(rows))

    async def add_follow_up(self, **values: Any) -> None:
        await self._uow.conn.execute(
            pg_insert(follow_ups).values(**values).on_conflict_do_nothing(index_elements=["follow_up_id"])
        )

    # -- held replies --

    async def reply(self, reply_id: uuid.UUID, *, lock: bool = False) -> dict[str, Any] | None:
        stmt = select(replies).where(replies.c.reply_id == reply_id)
        row = (await self._uow.conn.execute(stmt.with_for_update() if lock else stmt)).first()
        return None if row is None else _plain(row)

    async def reply_states(self, reply_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
        """The status of each of ``reply_ids`` already recorded (absent: never made)."""
        if not reply_ids:
            return {}
        rows = await self._uow.conn.execute(
            select(replies.c.reply_id, replies.c.status).where(replies.c.reply_id.in_(list(reply_ids)))
        )
        return {r.reply_id: r.status for r in rows}

    async def review_reply(self, reply_id: uuid.UUID, *, status: str, at: datetime, **values: Any) -> None:
        await self._uow.conn.execute(
            update(replies)
            .where(replies.c.reply_id == reply_id)
            .values(status=status, status_at=at, **values)
        )

    async def held_replies(self, brands: Collection[str] | None) -> list[dict[str, Any]]:
        stmt = (
            select(replies, tickets.c.brand, tickets.c.category)
            .join(tickets, tickets.c.ticket_id == replies.c.ticket_id)
            .where(replies.c.status == "pending_approval")
            .order_by(replies.c.created_at)
            .limit(200)
        )
        if brands is not None:
            stmt = stmt.where(tickets.c.brand.in_(sorted(brands)))
        return [_plain(r) for r in await self._uow.conn.execute(stmt)]

    # -- presence --

    async def presence(self) -> dict[str, str]:
        rows = await self._uow.conn.execute(select(presence.c.agent_id, presence.c.status))
        return {r.agent_id: r.status for r in rows}

    async def set_presence(self, agent_id: str, status: str, at: datetime) -> None:
        stmt = pg_insert(presence).values(agent_id=agent_id, status=status, since=at)
        await self._uow.conn.execute(
            stmt.on_conflict_do_update(index_elements=["agent_id"], set_={"status": status, "since": at})
        )

    async def open_tickets_of(self, agent_id: str) -> list[Ticket]:
        rows = await self._uow.conn.execute(
            _SELECT.where(tickets.c.agent_id == agent_id, tickets.c.status.in_(("assigned", "pending")))
            .order_by(tickets.c.received_at)
            .with_for_update()
        )
        return [as_ticket(r) for r in rows]

    async def unowned(self, brands: Collection[str], *, limit: int) -> list[Ticket]:
        """The oldest unowned CX tickets of ``brands``, most urgent first, locked (skip locked)."""
        rows = await self._uow.conn.execute(
            _SELECT.where(
                tickets.c.brand.in_(sorted(brands)),
                tickets.c.status == "open",
                tickets.c.agent_id.is_(None),
                tickets.c.queue == "cx",
            )
            .order_by(tickets.c.sla_due_at.asc().nulls_last(), _PRIORITY_RANK, tickets.c.received_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [as_ticket(r) for r in rows]

    async def idle(self, *, before: datetime, limit: int) -> list[Ticket]:
        rows = await self._uow.conn.execute(
            _SELECT.where(
                tickets.c.status == "assigned",
                tickets.c.queue == "cx",
                and_(tickets.c.last_activity_at.is_not(None), tickets.c.last_activity_at < before),
            )
            .order_by(tickets.c.last_activity_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [as_ticket(r) for r in rows]

    # -- idempotency --

    async def remembered(self, agent_id: str, key: str) -> dict[str, Any] | None:
        """The answer given to ``key`` before; holds a lock on the key until the unit of work ends,
        so two concurrent requests with one key act once."""
        await self._uow.conn.execute(
            select(func.pg_advisory_xact_lock(func.hashtextextended(f"{agent_id}\x1f{key}", 0)))
        )
        row = (
            await self._uow.conn.execute(
                select(idempotency).where(idempotency.c.agent_id == agent_id, idempotency.c.key == key)
            )
        ).first()
        return None if row is None else _plain(row)

    async def forget_keys(self, *, before: datetime) -> int:
        """Drop idempotency keys older than ``before`` (a retry comes within minutes)."""
        done = await self._uow.conn.execute(delete(idempotency).where(idempotency.c.created_at < before))
        return int(done.rowcount or 0)

    async def remember(
        self, agent_id: str, key: str, *, fingerprint: str, status_code: int, body: Any, at: datetime
    ) -> None:
        await self._uow.conn.execute(
            pg_insert(idempotency)
            .values(
                agent_id=agent_id,
                key=key,
                fingerprint=fingerprint,
                status_code=status_code,
                body=body,
                created_at=at,
            )
            .on_conflict_do_nothing(index_elements=["agent_id", "key"])
        )

    # -- read-only views of the desk's pages --

    async def ticket_activity(self, ticket_id: uuid.UUID) -> dict[str, Any] | None:
        """What a ticket's open page must notice, cheaply (it asks every few seconds): the
        owner and state, the customer's messages (count, latest write, edit or deletion),
        our replies (count, latest delivery change) and the last line of its history."""
        m, r, h, t = desk_messages, replies, history, tickets

        def one(column: Any, *where: Any) -> Any:
            return select(column).where(*where).scalar_subquery()

        stmt = select(
            t.c.status,
            t.c.agent_id,
            t.c.escalation_level,
            t.c.priority,
            t.c.last_activity_at,
            one(func.count(), m.c.ticket_id == t.c.ticket_id, m.c.direction == "customer").label("messages"),
            one(
                func.max(func.greatest(m.c.at, m.c.edited_at, m.c.deleted_at)), m.c.ticket_id == t.c.ticket_id
            ).label("messages_at"),
            one(func.count(), r.c.ticket_id == t.c.ticket_id).label("replies"),
            one(func.max(func.greatest(r.c.created_at, r.c.status_at)), r.c.ticket_id == t.c.ticket_id).label(
                "replies_at"
            ),
            one(func.max(h.c.id), h.c.ticket_id == t.c.ticket_id).label("history"),
        ).where(t.c.ticket_id == ticket_id)
        row = (await self._uow.conn.execute(stmt)).first()
        return None if row is None else _plain(row)

    async def ticket_ids_starting(self, prefix: str, *, limit: int = 2) -> list[uuid.UUID]:
        """Ticket ids whose hex digits start with ``prefix`` (the short ids the desk shows);
        a range on the primary key, so no scan."""
        digits = prefix.replace("-", "").lower()
        if not 1 <= len(digits) <= 32 or any(c not in "0123456789abcdef" for c in digits):
            return []
        low, high = uuid.UUID(digits.ljust(32, "0")), uuid.UUID(digits.ljust(32, "f"))
        rows = await self._uow.conn.execute(
            select(tickets.c.ticket_id)
            .where(tickets.c.ticket_id.between(low, high))
            .order_by(tickets.c.ticket_id)
            .limit(limit)
        )
        return [row.ticket_id for row in rows]

    async def held_with_reason(
        self, brands: Collection[str] | None, *, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Replies waiting for approval, oldest first, each with why it was held (the history
        line written with it: same ticket, author and instant)."""
        reason = (
            select(history.c.detail)
            .where(
                history.c.ticket_id == replies.c.ticket_id,
                history.c.kind == "ReplyHeldForApproval",
                history.c.actor == replies.c.agent_id,
                history.c.at == replies.c.created_at,
            )
            .order_by(history.c.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        shown = ("reply_id", "ticket_id", "agent_id", "text", "created_at")
        stmt = (
            select(
                *(replies.c[n] for n in shown), tickets.c.brand, tickets.c.platform, reason.label("reason")
            )
            .join(tickets, tickets.c.ticket_id == replies.c.ticket_id)
            .where(replies.c.status == "pending_approval")
            .order_by(replies.c.created_at)
            .limit(limit)
        )
        if brands is not None:
            stmt = stmt.where(tickets.c.brand.in_(sorted(brands)))
        return [_plain(r) for r in await self._uow.conn.execute(stmt)]

    async def busy_groups(
        self, brands: Collection[str] | None, *, least: int = 2, limit: int = 10
    ) -> list[dict[str, Any]]:
        """Incident groups with at least ``least`` open tickets in the desk's queue, the
        biggest first: each with its oldest open ticket and the trend's volume and sample
        when the classifier reported one (else ``None``)."""
        count = func.count()
        oldest = func.array_agg(
            aggregate_order_by(tickets.c.ticket_id, tickets.c.received_at), type_=ARRAY(Uuid)
        )
        trend = (func.max(incident_groups.c.volume), func.max(incident_groups.c.sample_text))
        stmt = (
            select(tickets.c.brand, tickets.c.group_id, count.label("open_tickets"))
            .add_columns(oldest[1].label("oldest_ticket_id"), func.min(tickets.c.received_at).label("since"))
            .add_columns(trend[0].label("volume"), trend[1].label("sample_text"))
            .select_from(tickets_with_trends)
            .where(
                tickets.c.group_id.is_not(None), tickets.c.status.in_(OPEN_STATES), tickets.c.queue == "cx"
            )
            .group_by(tickets.c.brand, tickets.c.group_id)
            .having(count >= least)
            .order_by(count.desc(), func.min(tickets.c.received_at))
            .limit(limit)
        )
        if brands is not None:
            stmt = stmt.where(tickets.c.brand.in_(sorted(brands)))
        return [_plain(r) for r in await self._uow.conn.execute(stmt)]
