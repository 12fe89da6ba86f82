"""Routing: ``MessageClassified`` handled a whole consumed batch at once. What routing needs
is read in a few queries, every message is routed in memory in record order (the domain
keeps the rotation current), and the results are written in a few statements."""

from __future__ import annotations

import uuid
from datetime import datetime

from socialdesk_assigner.domain import Rotation, Ticket, route
from socialdesk_assigner.domain.inbox import answered_before_routing
from socialdesk_assigner.domain.routing import agents_for, reopened_since
from socialdesk_assigner.domain.ticket import AUTO_REPLY_AGENT
from socialdesk_assigner.domain.views import history_rows
from socialdesk_assigner.metrics import AssignerMetrics
from socialdesk_assigner.presence import Roster
from socialdesk_assigner.store import DeskStore, ReadModelStore, TicketStore
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_runtime.db import UnitOfWork
from socialdesk_schemas import (
    Event,
    MessageClassified,
    ReplyRequested,
)

__all__ = ["on_message_classified", "rotation_for"]


async def rotation_for(
    store: TicketStore,
    config: SocialdeskConfig,
    roster: Roster,
    brands: set[str],
    now: datetime,
    *,
    customers: set[tuple[str, uuid.UUID]] | None = None,
    excluding: list[uuid.UUID] | None = None,
) -> Rotation:
    """What routing reads for a batch: presence, every team member's open load, each
    customer's last owner, the brands' round-robin cursors (held until commit)."""
    # every agent of the batch's brands (specialists too); an unknown brand is a KeyError
    team = {a.id for b in sorted(brands) for a in agents_for(config, b, online_only=False)}
    state = await store.routing_state(team, brands, customers or set(), excluding=excluding or [])
    return Rotation(
        config,
        load=state.load,
        last_owner=state.last_owner,
        cursor=state.cursor,
        online=roster.available(state.presence, now),
    )


async def on_message_classified(
    messages: list[MessageClassified],
    uow: UnitOfWork,
    *,
    config: SocialdeskConfig,
    clock: Clock,
    metrics: AssignerMetrics,
    roster: Roster,
) -> None:
    """Route each message's ticket: to an owner, the queue, marketing, dismissed or answered."""
    now = clock.now()
    store = TicketStore(uow)
    ids = list(dict.fromkeys(m.ticket_id for m in messages))  # record order, no repeats
    brands = {m.brand for m in messages}
    stored = await store.lock_tickets(ids)
    rotation = await rotation_for(
        store,
        config,
        roster,
        brands,
        now,
        customers={(m.brand, m.customer_id) for m in messages if m.queue == "cx"},
        excluding=ids,
    )
    current: dict[uuid.UUID, Ticket] = dict(stored)
    emitted: list[Event] = []
    # keyword rules read the customer's words, when ingest's record of them came first
    texts = (
        await ReadModelStore(uow).texts([m.message_id for m in messages])
        if config.routing.keyword_rules
        else {}
    )
    opened: dict[uuid.UUID, datetime] = {}  # tickets this batch opened or reopened: since when
    for message in messages:
        before = current.get(message.ticket_id)
        step = route(before, message, rotation=rotation, config=config, now=now, texts=texts)
        current[message.ticket_id] = step.ticket
        if before is None:
            opened[message.ticket_id] = message.received_at
        elif before.status == "resolved":  # counted from the reopening, never before the resolve
            opened[message.ticket_id] = reopened_since(before, message)
        for event in step.events:
            uow.emit(event)
        emitted.extend(step.events)
        metrics.messages_routed.labels(step.transition).inc()
    # A reply typed in the platform's inbox that reached the desk before its ticket was routed
    # (the classifier lagged) counts now, as it would have on arrival (decision 0305). Its
    # history line ("ReplyTypedInPlatformInbox") was written when it arrived. One counted
    # before (then the ticket was resolved and reopened) is never counted again.
    counted: list[tuple[uuid.UUID, str]] = []
    for ticket_id, typed in (await ReadModelStore(uow).inbox_replies(list(opened))).items():
        step, taken = answered_before_routing(current[ticket_id], typed, opened_at=opened[ticket_id], now=now)
        current[ticket_id] = step.ticket
        counted.extend((ticket_id, r.platform_message_id) for r in taken)
        for event in step.events:
            uow.emit(event)
    await ReadModelStore(uow).mark_inbox_counted(counted, now)
    touched = [current[i] for i in ids]
    await store.add(t for t in touched if t.ticket_id not in stored)
    await store.save(t for t in touched if t.ticket_id in stored)
    await store.save_cursors({b: rotation.cursor[b] for b in rotation.moved})
    await ReadModelStore(uow).add_classifications(
        [
            {
                "message_id": m.message_id,
                "ticket_id": m.ticket_id,
                "queue": m.queue,
                "category": m.category,
                "priority": m.priority,
                "sentiment": m.sentiment,
                "language": m.language,
                "reasons": list(m.reasons),
                "confidence": dict(m.confidence),
                "auto_reply": m.auto_reply,
                "classifier_version": m.classifier_version,
                "at": now,
            }
            for m in messages
        ]
    )
    await DeskStore(uow).add_history(history_rows(emitted, now))
    # saved replies sent automatically belong to the conversation too
    await store.add_replies(
        [
            {
                "reply_id": event.reply_id,
                "ticket_id": event.ticket_id,
                "agent_id": AUTO_REPLY_AGENT,
                "text": event.text,
                "created_at": now,
                "status": "requested",
                "status_at": now,
                "template_key": event.template_key,
                "request_event_id": event.event_id,
                "origin": "auto_reply",
            }
            for event in emitted
            if isinstance(event, ReplyRequested) and event.origin == "auto_reply"
        ]
    )
