"""The notifier's Slack SQL (issue 11): ticket facts, threads, clicks, digests.

Batched: each handler writes one statement per table per batch of events.

Usage::

    async with uow_factory() as uow:
        store = SlackStore(uow)
        await store.upsert_facts([{"ticket_id": t, "brand": "ourbus", "category": "complaint"}], now=now)
        contexts = await store.contexts([t])
"""

from __future__ import annotations

import dataclasses
import functools
import uuid
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import TextClause, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from socialdesk_notifier.bulk import any_of, columns_of, unnest_insert
from socialdesk_notifier.domain import Notification
from socialdesk_notifier.domain.cards import TicketContext
from socialdesk_notifier.domain.delivery import PENDING, SENDING
from socialdesk_notifier.domain.threads import ThreadRow
from socialdesk_notifier.slack_tables import slack_clicks, slack_threads, slack_tickets
from socialdesk_notifier.tables import deliveries
from socialdesk_runtime.db import UnitOfWork
from socialdesk_schemas import Event

__all__ = ["DIGESTED", "SlackStore"]

DIGESTED = "digested"
#: Kinds of Slack posts a flood folds into a digest: the channel-level ticket alerts.
#: Thread lines stay in their threads (they never clutter the channel); in a flood they
#: wait for the channel's turn.
DIGESTIBLE = ("breach", "escalation", "warning")
#: Columns that keep their first value (the message that opened the ticket).
_FIRST_WINS = frozenset({"handle", "excerpt", "platform", "correlation_id"})
_CONTEXT_FIELDS = [f.name for f in dataclasses.fields(TicketContext)]
_FACT_TYPES = {"ticket_id": "uuid", "correlation_id": "uuid", "deadline": "timestamptz"}
_UPDATED = ("updated_at", "timestamptz")
#: A reply after the resolution does not reopen it (only TicketReopened does).
_STATE = (
    "CASE WHEN slack_tickets.state = 'resolved' AND EXCLUDED.state = 'answered' "
    "THEN slack_tickets.state ELSE EXCLUDED.state END"
)

_DELIVERY_COLUMNS = (
    ("id", "uuid"),
    ("idempotency_key", "text"),
    ("source_event_id", "uuid"),
    ("source_event_type", "text"),
    ("ticket_id", "uuid"),
    ("correlation_id", "uuid"),
    ("channel", "text"),
    ("destination", "text"),
    ("payload", "json"),
    ("status", "text"),
    ("next_attempt_at", "timestamptz"),
    ("created_at", "timestamptz"),
)
_INSERT_DELIVERIES = unnest_insert(
    "deliveries", _DELIVERY_COLUMNS, "ON CONFLICT (idempotency_key) DO NOTHING"
)


@functools.cache
def _upsert_facts_sql(columns: tuple[tuple[str, str], ...]) -> TextClause:
    """The facts upsert for one set of columns (first-message columns kept if known)."""
    set_ = ", ".join(
        f"{name} = "
        + (
            f"COALESCE(slack_tickets.{name}, EXCLUDED.{name})"
            if name in _FIRST_WINS
            else _STATE
            if name == "state"
            else f"EXCLUDED.{name}"
        )
        for name, _ in columns
        if name != "ticket_id"
    )
    return unnest_insert("slack_tickets", columns, f"ON CONFLICT (ticket_id) DO UPDATE SET {set_}")


class SlackStore:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    # --- ticket facts -------------------------------------------------------------------

    async def upsert_facts(self, rows: Sequence[dict[str, Any]], *, now: datetime) -> None:
        """One statement: each row's columns set (first-message columns only if still unknown).

        Rows of one call carry the same keys; several rows of one ticket merge, later wins.
        """
        merged: dict[uuid.UUID, dict[str, Any]] = {}
        for row in rows:
            into = merged.setdefault(row["ticket_id"], {})
            for key, value in row.items():
                if key in _FIRST_WINS and into.get(key) is not None:
                    continue
                into[key] = value
        if not merged:
            return
        columns = (*((k, _FACT_TYPES.get(k, "text")) for k in next(iter(merged.values()))), _UPDATED)
        values = [{**r, "updated_at": now} for r in merged.values()]
        await self._uow.conn.execute(_upsert_facts_sql(columns), columns_of(values, columns))

    async def contexts(self, ticket_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, TicketContext]:
        ids = list(set(ticket_ids))
        if not ids:
            return {}
        rows = await self._uow.conn.execute(
            select(*(slack_tickets.c[name] for name in _CONTEXT_FIELDS)).where(
                any_of(slack_tickets.c.ticket_id, ids)
            )
        )
        return {row.ticket_id: TicketContext(**row._mapping) for row in rows}

    async def context(self, ticket_id: uuid.UUID, *, for_update: bool = False) -> TicketContext | None:
        query = select(*(slack_tickets.c[name] for name in _CONTEXT_FIELDS)).where(
            slack_tickets.c.ticket_id == ticket_id
        )
        if for_update:
            query = query.with_for_update()
        row = (await self._uow.conn.execute(query)).first()
        return None if row is None else TicketContext(**row._mapping)

    async def set_fields(self, ticket_id: uuid.UUID, *, now: datetime, **values: Any) -> None:
        await self._uow.conn.execute(
            update(slack_tickets)
            .where(slack_tickets.c.ticket_id == ticket_id)
            .values(updated_at=now, **values)
        )

    async def clear_claim(self, ticket_id: uuid.UUID, agent_id: str, *, now: datetime) -> None:
        """A refused Take ownership: the ticket no longer shows that agent as taking it."""
        await self._uow.conn.execute(
            update(slack_tickets)
            .where(slack_tickets.c.ticket_id == ticket_id, slack_tickets.c.claimed_by == agent_id)
            .values(claimed_by=None, updated_at=now)
        )

    # --- threads --------------------------------------------------------------------------

    async def threads(self, ticket_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
        """The channels where each ticket has a thread (posted or being posted)."""
        ids = list(set(ticket_ids))
        if not ids:
            return {}
        rows = await self._uow.conn.execute(
            select(slack_threads.c.ticket_id, slack_threads.c.channel)
            .where(any_of(slack_threads.c.ticket_id, ids))
            .order_by(slack_threads.c.created_at)
        )
        out: dict[uuid.UUID, list[str]] = {}
        for row in rows:
            out.setdefault(row.ticket_id, []).append(row.channel)
        return out

    async def thread_row(self, ticket_id: uuid.UUID, channel: str) -> ThreadRow | None:
        """The thread of a ticket in a channel, locked for this transaction."""
        row = (
            await self._uow.conn.execute(
                select(slack_threads.c.parent_delivery_id, slack_threads.c.parent_ts, deliveries.c.status)
                .select_from(
                    slack_threads.outerjoin(deliveries, deliveries.c.id == slack_threads.c.parent_delivery_id)
                )
                .where(slack_threads.c.ticket_id == ticket_id, slack_threads.c.channel == channel)
                .with_for_update(of=slack_threads)
            )
        ).first()
        if row is None:
            return None
        return ThreadRow(row.parent_delivery_id, row.parent_ts, row.status)

    async def claim_thread(
        self, ticket_id: uuid.UUID, channel: str, delivery_id: uuid.UUID, *, kind: str, now: datetime
    ) -> bool:
        """This delivery becomes the thread's parent; False if another one got there first."""
        result = await self._uow.conn.execute(
            pg_insert(slack_threads)
            .values(
                ticket_id=ticket_id,
                channel=channel,
                parent_delivery_id=delivery_id,
                kind=kind,
                created_at=now,
            )
            .on_conflict_do_nothing()
            .returning(slack_threads.c.ticket_id)
        )
        return result.first() is not None

    async def take_over_thread(self, ticket_id: uuid.UUID, channel: str, delivery_id: uuid.UUID) -> None:
        await self._uow.conn.execute(
            update(slack_threads)
            .where(slack_threads.c.ticket_id == ticket_id, slack_threads.c.channel == channel)
            .values(parent_delivery_id=delivery_id, parent_ts=None)
        )

    async def set_parent_ts(
        self, ticket_id: uuid.UUID, channel: str, delivery_id: uuid.UUID, ts: str
    ) -> None:
        """The parent's post is known: only the delivery the thread names may set it."""
        await self._uow.conn.execute(
            update(slack_threads)
            .where(
                slack_threads.c.ticket_id == ticket_id,
                slack_threads.c.channel == channel,
                slack_threads.c.parent_delivery_id == delivery_id,
            )
            .values(parent_ts=ts)
        )

    async def parent_of(self, ticket_id: uuid.UUID, channel: str) -> tuple[uuid.UUID, str | None] | None:
        """(parent delivery id, parent ts) of a ticket's thread in a channel."""
        row = (
            await self._uow.conn.execute(
                select(slack_threads.c.parent_delivery_id, slack_threads.c.parent_ts).where(
                    slack_threads.c.ticket_id == ticket_id, slack_threads.c.channel == channel
                )
            )
        ).first()
        return None if row is None else (row.parent_delivery_id, row.parent_ts)

    async def owed_updates(self, ticket_id: uuid.UUID, channel: str) -> set[uuid.UUID]:
        """The parent updates of this thread on record and not yet sent.

        Each was enqueued in the transaction that changed the state it is owed for, so a
        state read *after* this (a later statement sees at least as much) shows all of
        theirs: one render sent covers every one of them, exactly, whatever the clocks say.
        """
        rows = await self._uow.conn.execute(
            select(deliveries.c.id).where(
                deliveries.c.status.in_((PENDING, SENDING)),
                deliveries.c.ticket_id == ticket_id,
                deliveries.c.destination == channel,
                deliveries.c.payload["op"].as_string() == "update",
            )
        )
        return {row.id for row in rows}

    async def coalesce_updates(self, ids: Collection[uuid.UUID], *, keep: uuid.UUID) -> None:
        """Parent updates a sent render already covered (:meth:`owed_updates`) are redundant."""
        rest = [i for i in ids if i != keep]
        if not rest:
            return
        await self._uow.conn.execute(
            update(deliveries)
            .where(deliveries.c.status == PENDING, any_of(deliveries.c.id, rest))
            .values(status=DIGESTED, external_ref="coalesced")
        )

    async def parent(self, ticket_id: uuid.UUID, channel: str) -> tuple[str | None, str, str | None] | None:
        """(parent ts, thread kind, parent delivery status) of a ticket's thread in a channel."""
        row = (
            await self._uow.conn.execute(
                select(slack_threads.c.parent_ts, slack_threads.c.kind, deliveries.c.status)
                .select_from(
                    slack_threads.outerjoin(deliveries, deliveries.c.id == slack_threads.c.parent_delivery_id)
                )
                .where(slack_threads.c.ticket_id == ticket_id, slack_threads.c.channel == channel)
            )
        ).first()
        return None if row is None else (row.parent_ts, row.kind, row.status)

    # --- deliveries owed --------------------------------------------------------------------

    async def enqueue(self, owed: Sequence[tuple[Event, Notification]], *, now: datetime) -> None:
        """Deliveries owed for several events in one statement (a redelivered event adds none)."""
        rows: dict[str, dict[str, Any]] = {}
        for event, note in owed:
            key = note.idempotency_key(event.event_id)
            rows[key] = {
                "id": uuid.uuid4(),
                "idempotency_key": key,
                "source_event_id": event.event_id,
                "source_event_type": event.event_type,
                "ticket_id": event.ticket_id,
                "correlation_id": event.correlation_id,
                "channel": note.channel,
                "destination": note.destination,
                "payload": note.payload,
                "status": PENDING,
                "next_attempt_at": now,
                "created_at": now,
            }
        await self._insert(list(rows.values()))

    async def _insert(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self._uow.conn.execute(_INSERT_DELIVERIES, columns_of(rows, _DELIVERY_COLUMNS))

    # --- clicks -----------------------------------------------------------------------------

    async def record_click(
        self,
        click_id: str,
        *,
        ticket_id: uuid.UUID,
        action: str,
        slack_user_id: str,
        agent_id: str | None,
        outcome: str,
        at: datetime,
    ) -> bool:
        """False when this click was already acted on (a double click, Slack's retry)."""
        result = await self._uow.conn.execute(
            pg_insert(slack_clicks)
            .values(
                click_id=click_id,
                ticket_id=ticket_id,
                action=action,
                slack_user_id=slack_user_id,
                agent_id=agent_id,
                outcome=outcome,
                at=at,
            )
            .on_conflict_do_nothing()
            .returning(slack_clicks.c.click_id)
        )
        return result.first() is not None
