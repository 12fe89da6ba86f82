"""MessageClassified → a ticket routed to an owner, marketing, or dismissed."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from socialdesk_assigner.routing import WORKING_LEVELS, pick_agent
from socialdesk_assigner.tables import rr_cursor, tickets
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_runtime.db import UnitOfWork
from socialdesk_schemas import (
    MessageClassified,
    TicketAssigned,
    TicketDismissed,
    TicketQueued,
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
    if existing is not None:
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
