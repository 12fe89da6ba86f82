"""Events the notifier consumes → operations owed to Freshdesk (nothing is sent here).

The batch transaction records what must go out, in the ticket's order, keyed by source
event and role: a Freshdesk outage never blocks a partition and a redelivered event adds
nothing. The mirror of open tickets is kept for every brand (one statement per batch), so
a backfill after the connector is switched on knows what is open.

Usage::

    table = combine(slack_handlers.table(), FreshdeskHandlers(config=cfg, clock=clock).table())
"""

from __future__ import annotations

from dataclasses import dataclass

from socialdesk_notifier.freshdesk.domain import plans
from socialdesk_notifier.freshdesk.domain.ops import OpPlan, ticket_tags
from socialdesk_notifier.freshdesk.store import FreshdeskStore, Owed
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_runtime.consumer import Batch, HandlerTable
from socialdesk_runtime.db import UnitOfWork
from socialdesk_schemas import (
    Event,
    MessageClassified,
    MessageReceived,
    ReplyRequested,
    SlaBreached,
    TicketAssigned,
    TicketEscalated,
    TicketResolved,
)
from socialdesk_schemas.desk import InternalNoteAdded

__all__ = ["FreshdeskHandlers"]


@dataclass(frozen=True)
class FreshdeskHandlers:
    config: SocialdeskConfig
    clock: Clock

    def table(self) -> HandlerTable:
        return {
            MessageReceived: Batch(self.on_messages),
            MessageClassified: Batch(self.on_classified),
            TicketAssigned: self.on_assigned,
            ReplyRequested: self.on_reply,
            InternalNoteAdded: self.on_note,
            TicketEscalated: self.on_escalated,
            SlaBreached: self.on_breached,
            TicketResolved: self.on_resolved,
        }

    def _on(self, brand: str) -> bool:
        return self.config.freshdesk.enabled(brand) is not None

    async def _owe(self, uow: UnitOfWork, event: Event, brand: str, owed: list[OpPlan]) -> None:
        if owed and self._on(brand):
            await FreshdeskStore(uow).enqueue(
                [(event.event_id, event.ticket_id, brand, p) for p in owed], now=self.clock.now()
            )

    async def on_messages(self, events: list[MessageReceived], uow: UnitOfWork) -> None:
        store = FreshdeskStore(uow)
        opened: dict[object, dict[str, object]] = {}
        owed: list[Owed] = []
        for e in events:
            if e.opens_ticket:
                opened.setdefault(
                    e.ticket_id,
                    {
                        "ticket_id": e.ticket_id,
                        "brand": e.brand,
                        "platform": e.platform,
                        "kind": e.kind,
                        "customer_platform_user_id": e.author.platform_user_id,
                        "customer_name": e.author.display_name or e.author.handle,
                        "first_text": e.text or "(no text)",
                        "opened_at": e.sent_at or e.received_at,
                    },
                )
            elif self._on(e.brand):
                owed.extend((e.event_id, e.ticket_id, e.brand, p) for p in plans.plans_for_later_message(e))
        await store.opened(list(opened.values()))
        await store.enqueue(owed, now=self.clock.now())

    async def on_classified(self, events: list[MessageClassified], uow: UnitOfWork) -> None:
        store = FreshdeskStore(uow)
        rows: dict[object, dict[str, object]] = {}
        owed: list[Owed] = []
        for e in events:
            if not e.opens_ticket:
                continue
            account = self.config.freshdesk.enabled(e.brand)
            rows[e.ticket_id] = {
                "ticket_id": e.ticket_id,
                "brand": e.brand,
                "platform": e.platform,
                "kind": e.kind,
                "customer_platform_user_id": e.author_platform_user_id,
                "first_text": "",
                "opened_at": e.received_at,
                "queue": e.queue,
                "category": e.category,
                "priority": e.priority,
                "incident_group": e.group_id,
                "state": "dismissed" if e.queue == "ignore" else "open",
                "fd_priority": account.priorities[e.priority] if account else None,
                "fd_tags": ticket_tags(e, account) if account else None,
            }
            if account is not None:
                owed.extend(
                    (e.event_id, e.ticket_id, e.brand, p) for p in plans.plans_for_classified(e, account)
                )
        await store.classified(list(rows.values()))
        await store.enqueue(owed, now=self.clock.now())

    async def on_assigned(self, event: TicketAssigned, uow: UnitOfWork) -> None:
        account = self.config.freshdesk.enabled(event.brand)
        if account is not None:
            await self._owe(uow, event, event.brand, plans.plans_for_assigned(event, account))

    async def on_reply(self, event: ReplyRequested, uow: UnitOfWork) -> None:
        if not self._on(event.brand) or await FreshdeskStore(uow).inbound_reply(event.reply_id):
            return  # an agent's reply in Freshdesk is there already: not noted back
        await self._owe(uow, event, event.brand, plans.plans_for_reply(event))

    async def on_note(self, event: InternalNoteAdded, uow: UnitOfWork) -> None:
        await self._owe(uow, event, event.brand, plans.plans_for_note(event))

    async def on_escalated(self, event: TicketEscalated, uow: UnitOfWork) -> None:
        account = self.config.freshdesk.enabled(event.brand)
        if account is None:
            return
        store = FreshdeskStore(uow)
        mirror = await store.mirror(event.ticket_id, lock=True)
        owed, priority = plans.plans_for_escalation(event, mirror, account)
        if mirror is not None:
            await store.decided(event.ticket_id, fd_priority=priority)
        await self._owe(uow, event, event.brand, owed)

    async def on_breached(self, event: SlaBreached, uow: UnitOfWork) -> None:
        if not self._on(event.brand):
            return
        store = FreshdeskStore(uow)
        mirror = await store.mirror(event.ticket_id, lock=True)
        owed, tags = plans.plans_for_breach(event, mirror)
        if tags is not None and owed:
            await store.decided(event.ticket_id, fd_tags=tags)
        await self._owe(uow, event, event.brand, owed)

    async def on_resolved(self, event: TicketResolved, uow: UnitOfWork) -> None:
        await FreshdeskStore(uow).decided(event.ticket_id, state="resolved")
        await self._owe(uow, event, event.brand, plans.plans_for_resolved(event))
