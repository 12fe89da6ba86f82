"""Accepting a message: store it, thread it into a conversation and ticket, emit the event."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select, update
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


async def find_duplicate(uow: UnitOfWork, msg: IntakeMessage) -> Accepted | None:
    row = (
        await uow.conn.execute(
            select(messages.c.id, messages.c.ticket_id).where(
                messages.c.brand == msg.brand,
                messages.c.platform == msg.platform,
                messages.c.platform_message_id == msg.platform_message_id,
            )
        )
    ).first()
    if row is None:
        return None
    return Accepted(message_id=row.id, ticket_id=row.ticket_id, duplicate=True, opens_ticket=False)


async def accept_message(
    msg: IntakeMessage,
    uow: UnitOfWork,
    *,
    clock: Clock,
    raw_body: bytes,
    source: str,
    idle_seconds: float,
) -> Accepted:
    """Store a message and emit ``MessageReceived``; a known platform id changes nothing.

    The caller commits. Returns ``duplicate=True`` (and emits nothing) for a redelivery.
    """
    existing = await find_duplicate(uow, msg)
    if existing is not None:
        return existing
    now = clock.now()
    conn = uow.conn

    customer_id = (
        await conn.execute(
            pg_insert(customers)
            .values(
                id=uuid.uuid4(),
                brand=msg.brand,
                platform=msg.platform,
                platform_user_id=msg.author.platform_user_id,
                handle=msg.author.handle,
                display_name=msg.author.display_name,
                followers=msg.author.followers,
                first_seen_at=now,
                last_seen_at=now,
            )
            .on_conflict_do_update(
                constraint="customers_identity_key",
                set_={
                    "last_seen_at": now,
                    "followers": msg.author.followers,
                    "handle": msg.author.handle,
                    "display_name": msg.author.display_name,
                },
            )
            .returning(customers.c.id)
        )
    ).scalar_one()

    key = thread_key(msg)
    opened = (
        await conn.execute(
            pg_insert(conversations)
            .values(
                id=uuid.uuid4(),
                brand=msg.brand,
                platform=msg.platform,
                thread_key=key,
                customer_id=customer_id,
                ticket_id=uuid.uuid4(),
                ticket_opened_at=now,
                last_message_at=now,
            )
            .on_conflict_do_nothing(constraint="conversations_thread_key")
            .returning(conversations.c.id)
        )
    ).first()
    # Lock the conversation row so two messages of one thread serialise here.
    conv = (
        await conn.execute(
            select(conversations)
            .where(
                conversations.c.brand == msg.brand,
                conversations.c.platform == msg.platform,
                conversations.c.thread_key == key,
            )
            .with_for_update()
        )
    ).one()
    opens_ticket = opened is not None
    ticket_id = conv.ticket_id
    if not opens_ticket:
        values: dict[str, object] = {"last_message_at": now}
        if is_idle(conv.last_message_at, now, idle_seconds):
            ticket_id, opens_ticket = uuid.uuid4(), True
            values.update(ticket_id=ticket_id, ticket_opened_at=now)
        await conn.execute(update(conversations).where(conversations.c.id == conv.id).values(**values))

    raw_id = (
        await conn.execute(
            raw_deliveries.insert().values(source=source, body=raw_body).returning(raw_deliveries.c.id)
        )
    ).scalar_one()
    message_id = uuid.uuid4()
    inserted = (
        await conn.execute(
            pg_insert(messages)
            .values(
                id=message_id,
                brand=msg.brand,
                platform=msg.platform,
                kind=msg.kind,
                platform_message_id=msg.platform_message_id,
                conversation_id=conv.id,
                ticket_id=ticket_id,
                customer_id=customer_id,
                text=msg.text,
                received_at=now,
                sent_at=msg.sent_at,
                raw_delivery_id=raw_id,
            )
            .on_conflict_do_nothing(constraint="messages_platform_id_key")
            .returning(messages.c.id)
        )
    ).first()
    if inserted is None:
        # A concurrent delivery of the same message won the race: undo ours entirely.
        await uow.rollback()
        found = await find_duplicate(uow, msg)
        if found is None:  # pragma: no cover - the conflicting row must be visible now
            raise RuntimeError("duplicate message vanished")
        return found

    uow.emit(
        MessageReceived(
            producer=PRODUCER,
            occurred_at=now,
            ticket_id=ticket_id,
            correlation_id=message_id,
            message_id=message_id,
            conversation_id=conv.id,
            customer_id=customer_id,
            brand=msg.brand,
            platform=msg.platform,
            kind=msg.kind,
            platform_message_id=msg.platform_message_id,
            author=Author(
                platform_user_id=msg.author.platform_user_id,
                handle=msg.author.handle,
                display_name=msg.author.display_name,
                followers=msg.author.followers,
            ),
            text=msg.text,
            received_at=now,
            sent_at=msg.sent_at,
            opens_ticket=opens_ticket,
            in_reply_to=msg.in_reply_to,
        )
    )
    return Accepted(message_id=message_id, ticket_id=ticket_id, duplicate=False, opens_ticket=opens_ticket)
