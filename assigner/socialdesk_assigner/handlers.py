"""The assigner's consumer handlers, one per consumed event type.

``MessageClassified`` is handled a whole consumed batch at once: what routing needs is
read in a few queries, every message is routed in memory in record order (the domain
keeps the rotation current), and the results are written in a few statements.
"""

from __future__ import annotations

import uuid

from socialdesk_assigner.domain import Rotation, Ticket, route, working_agents
from socialdesk_assigner.metrics import AssignerMetrics
from socialdesk_assigner.store import TicketStore
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_runtime.db import UnitOfWork
from socialdesk_schemas import MessageClassified

__all__ = ["on_message_classified"]


async def on_message_classified(
    messages: list[MessageClassified],
    uow: UnitOfWork,
    *,
    config: SocialdeskConfig,
    clock: Clock,
    metrics: AssignerMetrics,
) -> None:
    """Route each message's ticket: to an owner, the queue, marketing, dismissed or answered."""
    now = clock.now()
    store = TicketStore(uow)
    ids = list(dict.fromkeys(m.ticket_id for m in messages))  # record order, no repeats
    brands = {m.brand for m in messages}
    stored = await store.lock_tickets(ids)
    rotation = Rotation(
        config,
        load=await store.open_load({a.id for b in sorted(brands) for a in working_agents(config, b)}),
        last_owner=await store.last_owners(
            {(m.brand, m.customer_id) for m in messages if m.queue == "cx"}, excluding=ids
        ),
        cursor=await store.lock_cursors(brands),
    )
    current: dict[uuid.UUID, Ticket] = dict(stored)
    for message in messages:
        step = route(current.get(message.ticket_id), message, rotation=rotation, config=config, now=now)
        current[message.ticket_id] = step.ticket
        for event in step.events:
            uow.emit(event)
        metrics.messages_routed.labels(step.transition).inc()
    touched = [current[i] for i in ids]
    await store.add(t for t in touched if t.ticket_id not in stored)
    await store.save(t for t in touched if t.ticket_id in stored)
    await store.save_cursors({b: rotation.cursor[b] for b in rotation.moved})
