"""The Freshdesk connector's SQL: the ticket mirror, the ops log, inbound webhooks.

Usage::

    async with uow_factory() as uow:
        await FreshdeskStore(uow).enqueue([(event, ticket_id, brand, plan)], now=clock.now())
        await uow.commit()
"""

from __future__ import annotations

import uuid
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, func, or_, select, update
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.sql.elements import ColumnElement

from socialdesk_notifier.bulk import any_of, columns_of, json_texts, unnest_insert
from socialdesk_notifier.freshdesk.domain.ops import Mirror, Op, OpPlan
from socialdesk_notifier.freshdesk.domain.outcomes import Decision, Done, Failed, Paused, Retry
from socialdesk_notifier.freshdesk.store_inbound import InboundStore
from socialdesk_notifier.freshdesk.tables import freshdesk_ops, freshdesk_tickets

__all__ = ["FreshdeskStore", "Owed"]

PENDING, SENDING, DONE, FAILED = "pending", "sending", "done", "failed"
_OP_COLUMNS = [freshdesk_ops.c[f.name] for f in fields(Op)]
_MIRROR_COLUMNS = [freshdesk_tickets.c[f.name] for f in fields(Mirror)]

#: (source event id, ticket id, brand, plan)
Owed = tuple[uuid.UUID, uuid.UUID, str, OpPlan]


_OPENED_COLUMNS = (
    ("ticket_id", "uuid"),
    ("brand", "text"),
    ("platform", "text"),
    ("kind", "text"),
    ("customer_platform_user_id", "text"),
    ("customer_name", "text"),
    ("first_text", "text"),
    ("opened_at", "timestamptz"),
)
_OPENED = unnest_insert(
    "freshdesk_tickets",
    _OPENED_COLUMNS,
    "ON CONFLICT (ticket_id) DO UPDATE SET first_text = EXCLUDED.first_text, "
    "customer_name = EXCLUDED.customer_name, opened_at = EXCLUDED.opened_at "
    "WHERE freshdesk_tickets.first_text = ''",
)
_CLASSIFIED_COLUMNS = (
    *(c for c in _OPENED_COLUMNS if c[0] != "customer_name"),
    ("queue", "text"),
    ("category", "text"),
    ("priority", "text"),
    ("incident_group", "text"),
    ("state", "text"),
    ("fd_priority", "integer"),
    ("fd_tags", "json"),
)
_CLASSIFIED = unnest_insert(
    "freshdesk_tickets",
    _CLASSIFIED_COLUMNS,
    "ON CONFLICT (ticket_id) DO UPDATE SET queue = EXCLUDED.queue, category = EXCLUDED.category, "
    "priority = EXCLUDED.priority, incident_group = EXCLUDED.incident_group, "
    "state = CASE WHEN freshdesk_tickets.state = 'open' THEN EXCLUDED.state ELSE freshdesk_tickets.state END, "
    "fd_priority = COALESCE(freshdesk_tickets.fd_priority, EXCLUDED.fd_priority), "
    "fd_tags = COALESCE(freshdesk_tickets.fd_tags, EXCLUDED.fd_tags)",
)
_ENQUEUE = unnest_insert(
    "freshdesk_ops",
    (
        ("idempotency_key", "text"),
        ("ticket_id", "uuid"),
        ("brand", "text"),
        ("kind", "text"),
        ("payload", "json"),
        ("status", "text"),
        ("next_attempt_at", "timestamptz"),
        ("created_at", "timestamptz"),
    ),
    "ON CONFLICT (idempotency_key) DO NOTHING",
)


def _mirror(row: Any) -> Mirror:
    return Mirror(**row._mapping)


class FreshdeskStore(InboundStore):
    """The mirror and the ops log (and, inherited, what came back from Freshdesk)."""

    # --- the mirror ------------------------------------------------------------------------

    async def opened(self, rows: list[dict[str, Any]]) -> None:
        """Tickets opened (first messages): their text and requester, kept for the create.

        One row per ticket (the caller keeps the first); one statement of constant text."""
        if rows:
            await self._uow.conn.execute(_OPENED, columns_of(rows, _OPENED_COLUMNS))

    async def classified(self, rows: list[dict[str, Any]]) -> None:
        """Classifications of first messages (a row made here waits for its text).

        One row per ticket (the caller keeps the last); one statement of constant text."""
        if rows:
            await self._uow.conn.execute(_CLASSIFIED, columns_of(rows, _CLASSIFIED_COLUMNS))

    async def mirror(self, ticket_id: uuid.UUID, *, lock: bool = False) -> Mirror | None:
        query = select(*_MIRROR_COLUMNS).where(freshdesk_tickets.c.ticket_id == ticket_id)
        row = (await self._uow.conn.execute(query.with_for_update() if lock else query)).first()
        return None if row is None else _mirror(row)

    async def mirrors(self, ticket_ids: set[uuid.UUID], *, lock: bool = False) -> dict[uuid.UUID, Mirror]:
        if not ticket_ids:
            return {}
        query = select(*_MIRROR_COLUMNS).where(any_of(freshdesk_tickets.c.ticket_id, ticket_ids))
        rows = await self._uow.conn.execute(
            query.order_by(freshdesk_tickets.c.ticket_id).with_for_update() if lock else query
        )
        return {row.ticket_id: _mirror(row) for row in rows}

    async def decide_many(self, values: dict[uuid.UUID, dict[str, Any]]) -> None:
        """Several tickets' decided values, one statement per set of columns."""
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for ticket_id, row in values.items():
            by_columns.setdefault(tuple(sorted(row)), []).append(
                {"tid": ticket_id, **{f"v_{k}": v for k, v in row.items()}}
            )
        for columns, rows in by_columns.items():
            await self._uow.conn.execute(
                update(freshdesk_tickets)
                .where(freshdesk_tickets.c.ticket_id == bindparam("tid"))
                .values({c: bindparam(f"v_{c}") for c in columns}),
                rows,
            )

    async def resolved(self, ticket_ids: list[uuid.UUID]) -> None:
        if ticket_ids:
            await self._uow.conn.execute(
                update(freshdesk_tickets)
                .where(any_of(freshdesk_tickets.c.ticket_id, ticket_ids))
                .values(state="resolved")
            )

    async def by_fd_ticket(self, brand: str, fd_ticket_id: int) -> Mirror | None:
        row = (
            await self._uow.conn.execute(
                select(*_MIRROR_COLUMNS).where(
                    freshdesk_tickets.c.brand == brand, freshdesk_tickets.c.fd_ticket_id == fd_ticket_id
                )
            )
        ).first()
        return None if row is None else _mirror(row)

    async def decided(self, ticket_id: uuid.UUID, **values: Any) -> None:
        """What we have decided to set in Freshdesk (priority, tags) or our own state."""
        await self._uow.conn.execute(
            update(freshdesk_tickets).where(freshdesk_tickets.c.ticket_id == ticket_id).values(**values)
        )

    async def open_tickets(self, brand: str, *, unsynced: bool, limit: int = 100_000) -> list[Mirror]:
        """Open tickets of a brand (for the backfill: those with no create owed yet)."""
        query = select(*_MIRROR_COLUMNS).where(
            freshdesk_tickets.c.brand == brand,
            freshdesk_tickets.c.state == "open",
            freshdesk_tickets.c.queue.is_not(None),
            freshdesk_tickets.c.queue != "ignore",
        )
        if unsynced:
            has_create = select(freshdesk_ops.c.id).where(
                freshdesk_ops.c.ticket_id == freshdesk_tickets.c.ticket_id, freshdesk_ops.c.kind == "create"
            )
            query = query.where(~has_create.exists())
        rows = await self._uow.conn.execute(query.order_by(freshdesk_tickets.c.opened_at).limit(limit))
        return [_mirror(r) for r in rows]

    async def synced(self, brand: str) -> list[Mirror]:
        rows = await self._uow.conn.execute(
            select(*_MIRROR_COLUMNS)
            .where(freshdesk_tickets.c.brand == brand, freshdesk_tickets.c.fd_ticket_id.is_not(None))
            .order_by(freshdesk_tickets.c.opened_at)
        )
        return [_mirror(r) for r in rows]

    # --- the ops log -------------------------------------------------------------------------

    async def enqueue(self, owed: list[Owed], *, now: datetime) -> None:
        """Operations owed, in this order; a redelivered source event adds nothing (unique key)."""
        if not owed:
            return
        await self._uow.conn.execute(
            _ENQUEUE,
            {
                "idempotency_key": [plan.key(source) for source, _, _, plan in owed],
                "ticket_id": [ticket_id for _, ticket_id, _, _ in owed],
                "brand": [brand for _, _, brand, _ in owed],
                "kind": [plan.kind for _, _, _, plan in owed],
                "payload": json_texts(plan.payload for _, _, _, plan in owed),
                "status": [PENDING] * len(owed),
                "next_attempt_at": [now] * len(owed),
                "created_at": [now] * len(owed),
            },
        )

    async def claim(
        self, *, now: datetime, lease_until: datetime, limit: int, paused: list[str]
    ) -> list[tuple[Op, Mirror]]:
        """Lease the due head of up to ``limit`` tickets: strictly one op per ticket at a time,
        the create before anything else, the rest in the order they were owed."""
        o, t = freshdesk_ops, freshdesk_tickets
        ready = or_(
            and_(o.c.kind == "create", t.c.first_text != ""),
            and_(o.c.kind != "create", t.c.fd_ticket_id.is_not(None)),
        )
        heads = (
            select(o.c.id)
            .select_from(o.join(t, t.c.ticket_id == o.c.ticket_id))
            .where(o.c.status.in_([PENDING, SENDING]), ready)
            .ext(distinct_on(o.c.ticket_id))
            .order_by(o.c.ticket_id, o.c.kind != "create", o.c.id)
        )
        due = (
            select(o.c.id)
            .where(
                o.c.id.in_(heads.scalar_subquery()),
                or_(
                    (o.c.status == PENDING) & (o.c.next_attempt_at <= now),
                    (o.c.status == SENDING) & (o.c.lease_until <= now),
                ),
            )
            .order_by(o.c.next_attempt_at, o.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        if paused:
            due = due.where(o.c.brand.not_in(paused))
        abandoned = case((o.c.status == SENDING, o.c.lease_until), else_=None)
        rows = await self._uow.conn.execute(
            update(o)
            .where(o.c.id.in_(due.scalar_subquery()))
            .values(
                status=SENDING,
                attempts=o.c.attempts + 1,
                lease_until=lease_until,
                ambiguous_since=func.coalesce(o.c.ambiguous_since, abandoned),
            )
            .returning(*_OP_COLUMNS)
        )
        ops = [Op(**r._mapping) for r in rows]
        if not ops:
            return []
        mirrors = await self._uow.conn.execute(
            select(*_MIRROR_COLUMNS).where(any_of(t.c.ticket_id, [op.ticket_id for op in ops]))
        )
        by_ticket = {m.ticket_id: _mirror(m) for m in mirrors}
        return [(op, by_ticket[op.ticket_id]) for op in ops]

    @staticmethod
    def _mine(op: Op) -> ColumnElement[bool]:
        """Still leased by the claim that returned ``op`` (a lease that ran out may have been
        claimed again: then that claim records the outcome, not this one)."""
        return and_(
            freshdesk_ops.c.id == op.id,
            freshdesk_ops.c.status == SENDING,
            freshdesk_ops.c.lease_until == op.lease_until,
        )

    async def release(self, op: Op, *, not_before: datetime, throttled: bool = False) -> bool:
        """Back to pending, not counted as an attempt (our pacing, a pause, a 429)."""
        result = await self._uow.conn.execute(
            update(freshdesk_ops)
            .where(self._mine(op))
            .values(
                status=PENDING,
                attempts=freshdesk_ops.c.attempts - 1,
                throttles=freshdesk_ops.c.throttles + (1 if throttled else 0),
                lease_until=None,
                next_attempt_at=not_before,
            )
        )
        return bool(result.rowcount)

    async def record(self, op: Op, decision: Decision, *, now: datetime) -> bool:
        """Write one attempt's outcome; False when the lease was lost meanwhile."""
        values: dict[str, Any]
        if isinstance(decision, Done):
            values = {
                "status": DONE,
                "external_ref": decision.ref,
                "done_at": decision.at,
                "last_error": None,
            }
        elif isinstance(decision, Failed):
            values = {"status": FAILED, "last_error": decision.error, "done_at": now}
        elif isinstance(decision, Retry):
            values = {
                "status": PENDING,
                "last_error": decision.error,
                "next_attempt_at": decision.not_before,
                "ambiguous_since": func.coalesce(freshdesk_ops.c.ambiguous_since, now)
                if decision.ambiguous
                else freshdesk_ops.c.ambiguous_since,
            }
        else:
            assert isinstance(decision, Paused)
            values = {"status": PENDING, "last_error": decision.error, "next_attempt_at": decision.until}
            values["attempts"] = freshdesk_ops.c.attempts - 1
        result = await self._uow.conn.execute(
            update(freshdesk_ops).where(self._mine(op)).values(lease_until=None, **values)
        )
        return bool(result.rowcount)

    async def following_updates(self, op: Op, *, limit: int = 20) -> list[Op]:
        """The pending updates right behind ``op`` in its ticket's order (one PUT can carry
        them all: Freshdesk applies the fields of an update together)."""
        rows = await self._uow.conn.execute(
            select(*_OP_COLUMNS, freshdesk_ops.c.status)
            .where(
                freshdesk_ops.c.ticket_id == op.ticket_id,
                freshdesk_ops.c.id > op.id,
                freshdesk_ops.c.status.in_([PENDING, SENDING]),
            )
            .order_by(freshdesk_ops.c.id)
            .limit(limit)
        )
        out: list[Op] = []
        for row in rows:
            mapping = dict(row._mapping)
            if mapping.pop("status") != PENDING or mapping["kind"] != "update":
                break
            out.append(Op(**mapping))
        return out

    async def done_with(self, ids: list[int], *, ref: str | None, at: datetime) -> None:
        """Updates carried by another op's PUT are done with it."""
        if ids:
            await self._uow.conn.execute(
                update(freshdesk_ops)
                .where(freshdesk_ops.c.id.in_(ids), freshdesk_ops.c.status == PENDING)
                .values(status=DONE, external_ref=ref, done_at=at, last_error=None)
            )

    async def created(self, ticket_id: uuid.UUID, *, fd_ticket_id: int, requester_id: int | None) -> None:
        await self._uow.conn.execute(
            update(freshdesk_tickets)
            .where(freshdesk_tickets.c.ticket_id == ticket_id)
            .values(fd_ticket_id=fd_ticket_id, fd_requester_id=requester_id, fd_status=2)
        )

    async def ops(self, ticket_id: uuid.UUID) -> list[dict[str, Any]]:
        rows = await self._uow.conn.execute(
            select(freshdesk_ops).where(freshdesk_ops.c.ticket_id == ticket_id).order_by(freshdesk_ops.c.id)
        )
        return [dict(r._mapping) for r in rows]

    async def backlog(self) -> dict[str, int]:
        """Unfinished and failed ops by status (for the CLI and the metric)."""
        rows = await self._uow.conn.execute(
            select(freshdesk_ops.c.status, func.count()).group_by(freshdesk_ops.c.status)
        )
        return {str(status): int(n) for status, n in rows}
