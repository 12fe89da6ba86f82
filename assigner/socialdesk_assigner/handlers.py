"""MessageClassified → a ticket routed to an owner, marketing, or dismissed."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from socialdesk_assigner.routing import WORKING_LEVELS, pick_agent
from socialdesk_assigner.tables import rr_cursor, tickets
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_runtime.db import UnitOfWork
from socialdesk_schemas import (
    MessageClassified,
    ReplyRequested,
    TicketAssigned,
    TicketDismissed,
    TicketQueued,
    TicketResolved,
    TicketRoutedToMarketing,
)

PRODUCER = "assigner"

_STATUS_BY_QUEUE = {"marketing": "marketing", "ignore": "dismissed"}


async def route_classified(
    event: MessageClassified, uow: UnitOfWork, *, config: SocialdeskConfig, clock: Clock
) -> None:
    conn = uow.conn
    now = clock.now()
    existing = (
        await conn.execute(
            select(tickets.c.status).where(tickets.c.ticket_id == event.ticket_id).with_for_update()
        )
    ).first()
    if existing is not None and existing.status != "resolved":
        # A follow-up message on a ticket already routed: the ticket keeps its owner.
        await conn.execute(
            update(tickets)
            .where(tickets.c.ticket_id == event.ticket_id)
            .values(
                message_count=tickets.c.message_count + 1,
                last_platform_message_id=event.platform_message_id,
            )
        )
        return
    if existing is not None:
        # The customer wrote again on a resolved ticket (an auto-reply did not settle it,
        # or the problem came back): it is reopened and routed like a new one.
        await conn.execute(
            update(tickets)
            .where(tickets.c.ticket_id == event.ticket_id)
            .values(
                status="open",
                agent_id=None,
                resolved_at=None,
                queue=event.queue,
                category=event.category,
                priority=event.priority,
                message_count=tickets.c.message_count + 1,
                last_platform_message_id=event.platform_message_id,
            )
        )
    else:
        await conn.execute(
            pg_insert(tickets).values(
                ticket_id=event.ticket_id,
                brand=event.brand,
                platform=event.platform,
                kind=event.kind,
                queue=event.queue,
                category=event.category,
                priority=event.priority,
                status=_STATUS_BY_QUEUE.get(event.queue, "open"),
                customer_id=event.customer_id,
                correlation_id=event.correlation_id,
                recipient_platform_user_id=event.author_platform_user_id,
                last_platform_message_id=event.platform_message_id,
                received_at=event.received_at,
            )
        )
    common = {"producer": PRODUCER, "occurred_at": now, "brand": event.brand, "platform": event.platform}
    if event.queue == "marketing":
        uow.emit(
            event.caused(TicketRoutedToMarketing, category=event.category, priority=event.priority, **common)
        )
        return
    if event.queue == "ignore":
        uow.emit(
            event.caused(
                TicketDismissed,
                category=event.category,
                reason="; ".join(event.reasons)[:500] or "classified as noise",
                **common,
            )
        )
        return

    if (
        event.auto_reply is not None
        and existing is None
        and await _auto_reply(event, uow, config=config, now=now)
    ):
        return

    candidates = config.agents_for(event.brand, levels=list(WORKING_LEVELS), online_only=True)
    ids = [a.id for a in candidates]
    load = {
        row.agent_id: row.n
        for row in await conn.execute(
            select(tickets.c.agent_id, func.count().label("n"))
            .where(tickets.c.agent_id.in_(ids), tickets.c.status == "assigned")
            .group_by(tickets.c.agent_id)
        )
    }
    previous = (
        await conn.execute(
            select(tickets.c.agent_id)
            .where(
                tickets.c.brand == event.brand,
                tickets.c.customer_id == event.customer_id,
                tickets.c.agent_id.is_not(None),
                tickets.c.ticket_id != event.ticket_id,
            )
            .order_by(tickets.c.received_at.desc())
            .limit(1)
        )
    ).scalar()
    cursor = (
        await conn.execute(
            select(rr_cursor.c.last_agent_id).where(rr_cursor.c.brand == event.brand).with_for_update()
        )
    ).scalar()
    pick = pick_agent(candidates, last_agent_id=cursor, open_load=load, previous_owner_id=previous)
    if pick is None:
        uow.emit(
            event.caused(
                TicketQueued,
                queue="cx",
                priority=event.priority,
                received_at=event.received_at,
                reason="no eligible agent online with capacity",
                group_id=event.group_id,
                **common,
            )
        )
        return
    await conn.execute(
        update(tickets)
        .where(tickets.c.ticket_id == event.ticket_id)
        .values(status="assigned", agent_id=pick.agent.id)
    )
    if pick.reason == "round_robin":
        await conn.execute(
            pg_insert(rr_cursor)
            .values(brand=event.brand, last_agent_id=pick.agent.id)
            .on_conflict_do_update(index_elements=["brand"], set_={"last_agent_id": pick.agent.id})
        )
    uow.emit(
        event.caused(
            TicketAssigned,
            agent_id=pick.agent.id,
            agent_level=pick.agent.level,
            priority=event.priority,
            received_at=event.received_at,
            reason=pick.reason,
            group_id=event.group_id,
            **common,
        )
    )


AUTO_REPLY_AGENT = "auto-reply"


async def _auto_reply(
    event: MessageClassified, uow: UnitOfWork, *, config: SocialdeskConfig, now: datetime
) -> bool:
    """Answer a plain FAQ with its saved reply and resolve the ticket; False if none fits.

    The classifier only proposes a key for a plain question a saved answer fully
    resolves (never a complaint, anger, safety or legal). A key with no saved reply for
    the brand in the configuration goes to an agent instead.
    """
    try:
        saved = config.saved_reply(event.auto_reply or "", brand_id=event.brand)
    except KeyError:
        return False
    text = saved.text_for(event.language, fallback=config.brand(event.brand).default_language)
    await uow.conn.execute(
        update(tickets)
        .where(tickets.c.ticket_id == event.ticket_id)
        .values(
            status="resolved",
            agent_id=None,
            first_response_at=now,
            resolved_at=now,
            root_cause=f"auto_reply:{event.auto_reply}",
        )
    )
    uow.emit(
        event.caused(
            ReplyRequested,
            producer=PRODUCER,
            occurred_at=now,
            reply_id=uuid.uuid5(event.message_id, "auto-reply"),
            brand=event.brand,
            platform=event.platform,
            kind=event.kind,
            recipient_platform_user_id=event.author_platform_user_id,
            in_reply_to_platform_message_id=event.platform_message_id,
            text=text,
            origin="auto_reply",
            template_key=event.auto_reply,
        )
    )
    uow.emit(
        event.caused(
            TicketResolved,
            producer=PRODUCER,
            occurred_at=now,
            brand=event.brand,
            agent_id=AUTO_REPLY_AGENT,
            root_cause=f"auto_reply:{event.auto_reply}",
            resolved_at=now,
        )
    )
    return True
