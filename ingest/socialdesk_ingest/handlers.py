"""Accepting messages: store them, thread them into conversations and tickets, emit events.

Written for a batch (the intake groups concurrent requests into one transaction, see
:mod:`socialdesk_ingest.batching`): a handful of statements per batch rather than per
message. A batch of one is the same code path.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from socialdesk_ingest.model import IntakeMessage, is_idle, thread_key
from socialdesk_ingest.tables import conversations, customers, messages, raw_deliveries
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.db import UnitOfWork
from socialdesk_schemas import Author, MessageReceived

PRODUCER = "ingest"


@dataclass(frozen=True, slots=True)
class Accepted:
    message_id: uuid.UUID
    ticket_id: uuid.UUID
    duplicate: bool
    opens_ticket: bool


@dataclass(frozen=True, slots=True)
class Offer:
    """One message offered at intake, with the bytes it arrived as (kept for audit)."""

    msg: IntakeMessage
    raw_body: bytes
    source: str = "intake"


class ConcurrentDuplicate(Exception):
    """Another transaction stored one of these messages meanwhile: run the batch again."""


def _message_key(msg: IntakeMessage) -> tuple[str, str, str]:
    return (msg.brand, msg.platform, msg.platform_message_id)


async def accept_batch(
    offers: list[Offer], uow: UnitOfWork, *, clock: Clock, idle_seconds: float
) -> list[Accepted]:
    """Store messages and emit their events, in offer order; the caller commits.

    Duplicates (already stored, or twice in the batch) come back ``duplicate=True`` and
    emit nothing. Raises :class:`ConcurrentDuplicate` if another transaction stored one of
    the messages between our look-up and our insert (the caller rolls back and retries).
    """
    conn = uow.conn
    now = clock.now()
    keys = [_message_key(o.msg) for o in offers]
    known = {
        (r.brand, r.platform, r.platform_message_id): Accepted(
            r.id, r.ticket_id, duplicate=True, opens_ticket=False
        )
        for r in await conn.execute(
            select(
                messages.c.id,
                messages.c.ticket_id,
                messages.c.brand,
                messages.c.platform,
                messages.c.platform_message_id,
            ).where(
                tuple_(messages.c.brand, messages.c.platform, messages.c.platform_message_id).in_(
                    list(set(keys))
                )
            )
        )
    }
    fresh: list[Offer] = []
    seen: set[tuple[str, str, str]] = set()
    for offer, key in zip(offers, keys, strict=True):
        if key not in known and key not in seen:
            seen.add(key)
            fresh.append(offer)
    if not fresh:
        return [known[k] for k in keys]

    # Customers: one upsert, the newest profile wins.
    profiles: dict[tuple[str, str, str], dict[str, Any]] = {}
    for o in fresh:
        m = o.msg
        profiles[(m.brand, m.platform, m.author.platform_user_id)] = {
            "id": uuid.uuid4(),
            "brand": m.brand,
            "platform": m.platform,
            "platform_user_id": m.author.platform_user_id,
            "handle": m.author.handle,
            "display_name": m.author.display_name,
            "followers": m.author.followers,
            "first_seen_at": now,
            "last_seen_at": now,
        }
    stmt = pg_insert(customers)
    customer_ids = {
        (r.brand, r.platform, r.platform_user_id): r.id
        for r in await conn.execute(
            stmt.on_conflict_do_update(
                constraint="customers_identity_key",
                set_={
                    "last_seen_at": stmt.excluded.last_seen_at,
                    "followers": stmt.excluded.followers,
                    "handle": stmt.excluded.handle,
                    "display_name": stmt.excluded.display_name,
                },
            ).returning(
                customers.c.id, customers.c.brand, customers.c.platform, customers.c.platform_user_id
            ),
            list(profiles.values()),
        )
    }

    # Conversations: create the missing ones, then lock all (in id order: no deadlock
    # between replicas) so messages of one thread serialise here.
    threads: dict[tuple[str, str, str], dict[str, Any]] = {}
    for o in fresh:
        m = o.msg
        key = (m.brand, m.platform, thread_key(m))
        threads.setdefault(
            key,
            {
                "id": uuid.uuid4(),
                "brand": m.brand,
                "platform": m.platform,
                "thread_key": key[2],
                "customer_id": customer_ids[(m.brand, m.platform, m.author.platform_user_id)],
                "ticket_id": uuid.uuid4(),
                "ticket_opened_at": now,
                "last_message_at": now,
            },
        )
    opened = {
        (r.brand, r.platform, r.thread_key)
        for r in await conn.execute(
            pg_insert(conversations)
            .on_conflict_do_nothing(constraint="conversations_thread_key")
            .returning(conversations.c.brand, conversations.c.platform, conversations.c.thread_key),
            list(threads.values()),
        )
    }
    convs = {
        (r.brand, r.platform, r.thread_key): dict(r._mapping)
        for r in await conn.execute(
            select(conversations)
            .where(
                tuple_(conversations.c.brand, conversations.c.platform, conversations.c.thread_key).in_(
                    list(threads)
                )
            )
            .order_by(conversations.c.id)
            .with_for_update()
        )
    }

    raw_ids = [
        r.id
        for r in await conn.execute(
            pg_insert(raw_deliveries).returning(raw_deliveries.c.id, sort_by_parameter_order=True),
            [{"source": o.source, "body": o.raw_body} for o in fresh],
        )
    ]

    results: dict[tuple[str, str, str], Accepted] = {}
    rows: list[dict[str, Any]] = []
    touched: dict[tuple[str, str, str], dict[str, Any]] = {}
    for offer, raw_id in zip(fresh, raw_ids, strict=True):
        m = offer.msg
        tkey = (m.brand, m.platform, thread_key(m))
        conv = convs[tkey]
        if tkey in opened:
            opened.discard(tkey)  # only the thread's first message opens its ticket
            opens = True
        elif is_idle(conv["last_message_at"], now, idle_seconds):
            conv["ticket_id"], conv["ticket_opened_at"], opens = uuid.uuid4(), now, True
            touched[tkey] = conv
        else:
            opens = False
            touched[tkey] = conv
        conv["last_message_at"] = now
        message_id = uuid.uuid4()
        customer_id = customer_ids[(m.brand, m.platform, m.author.platform_user_id)]
        rows.append(
            {
                "id": message_id,
                "brand": m.brand,
                "platform": m.platform,
                "kind": m.kind,
                "platform_message_id": m.platform_message_id,
                "conversation_id": conv["id"],
                "ticket_id": conv["ticket_id"],
                "customer_id": customer_id,
                "text": m.text,
                "received_at": now,
                "sent_at": m.sent_at,
                "raw_delivery_id": raw_id,
            }
        )
        results[_message_key(m)] = Accepted(
            message_id, conv["ticket_id"], duplicate=False, opens_ticket=opens
        )
        uow.emit(_received(m, message_id, conv, customer_id, now, opens))

    if touched:
        await conn.execute(
            update(conversations)
            .where(conversations.c.id == bindparam("cid"))
            .values(
                ticket_id=bindparam("b_ticket"),
                ticket_opened_at=bindparam("b_opened"),
                last_message_at=bindparam("b_last"),
            ),
            [
                {
                    "cid": c["id"],
                    "b_ticket": c["ticket_id"],
                    "b_opened": c["ticket_opened_at"],
                    "b_last": c["last_message_at"],
                }
                for c in touched.values()
            ],
        )
    inserted = (
        await conn.execute(
            pg_insert(messages)
            .on_conflict_do_nothing(constraint="messages_platform_id_key")
            .returning(messages.c.id),
            rows,
        )
    ).all()
    if len(inserted) != len(rows):
        raise ConcurrentDuplicate(
            f"{len(rows) - len(inserted)} message(s) stored meanwhile by another transaction"
        )

    out: list[Accepted] = []
    for key in keys:
        if key in known:
            out.append(known[key])
        else:
            first = results[key]
            out.append(first)
            # A second copy in the same batch is a duplicate of the first.
            results[key] = Accepted(first.message_id, first.ticket_id, duplicate=True, opens_ticket=False)
    return out


def _received(
    m: IntakeMessage,
    message_id: uuid.UUID,
    conv: dict[str, Any],
    customer_id: uuid.UUID,
    now: datetime,
    opens: bool,
) -> MessageReceived:
    return MessageReceived(
        producer=PRODUCER,
        occurred_at=now,
        ticket_id=conv["ticket_id"],
        correlation_id=message_id,
        message_id=message_id,
        conversation_id=conv["id"],
        customer_id=customer_id,
        brand=m.brand,
        platform=m.platform,
        kind=m.kind,
        platform_message_id=m.platform_message_id,
        author=Author(
            platform_user_id=m.author.platform_user_id,
            handle=m.author.handle,
            display_name=m.author.display_name,
            followers=m.author.followers,
        ),
        text=m.text,
        received_at=now,
        sent_at=m.sent_at,
        opens_ticket=opens,
        in_reply_to=m.in_reply_to,
    )
