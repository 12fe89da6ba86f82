"""Events the notifier consumes → operations owed to Freshdesk (nothing is sent here).

The batch transaction records what must go out, in the ticket's order, keyed by source
event and role: a Freshdesk outage never blocks a partition and a redelivered event adds
nothing. The mirror of open tickets is kept for every brand (one statement per batch), so
a backfill after the connector is switched on knows what is open.

Usage::

    table = combine(slack_handlers.table(), FreshdeskHandlers(config=cfg, clock=clock).table())
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from socialdesk_notifier.freshdesk.domain import plans
from socialdesk_notifier.freshdesk.domain.ops import OPEN, Mirror, OpPlan, ticket_tags
from socialdesk_notifier.freshdesk.store import FreshdeskStore, Owed
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_runtime.config.freshdesk import FreshdeskBrand
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
from socialdesk_schemas.desk import InternalNoteAdded, TicketPriorityRaised, TicketReopened

__all__ = ["FreshdeskHandlers"]

#: Events that raise Freshdesk's priority.
Raising = TicketEscalated | TicketPriorityRaised


@dataclass(frozen=True)
class FreshdeskHandlers:
    config: SocialdeskConfig
    clock: Clock

    def table(self) -> HandlerTable:
        return {
            MessageReceived: Batch(self.on_messages),
            MessageClassified: Batch(self.on_classified),
            TicketAssigned: Batch(self.on_assigned),
            ReplyRequested: Batch(self.on_replies),
            InternalNoteAdded: Batch(self.on_notes),
            TicketEscalated: Batch(self.on_escalated),
            TicketPriorityRaised: Batch(self.on_priority_raised),
            SlaBreached: Batch(self.on_breached),
            TicketResolved: Batch(self.on_resolved),
            TicketReopened: Batch(self.on_reopened),
        }

    def _on(self, brand: str) -> bool:
        return self.config.freshdesk.enabled(brand) is not None

    @staticmethod
    def _owed(event: Event, brand: str, plans_: list[OpPlan]) -> list[Owed]:
        return [(event.event_id, event.ticket_id, brand, p) for p in plans_]

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

    async def on_assigned(self, events: list[TicketAssigned], uow: UnitOfWork) -> None:
        owed: list[Owed] = []
        for e in events:
            account = self.config.freshdesk.enabled(e.brand)
            if account is not None:
                owed.extend(self._owed(e, e.brand, plans.plans_for_assigned(e, account)))
        await FreshdeskStore(uow).enqueue(owed, now=self.clock.now())

    async def on_replies(self, events: list[ReplyRequested], uow: UnitOfWork) -> None:
        """Our replies as public notes, except those that came from Freshdesk (not noted back)."""
        store = FreshdeskStore(uow)
        ours = [e for e in events if self._on(e.brand)]
        came_back = await store.inbound_replies([e.reply_id for e in ours])
        owed = [
            o
            for e in ours
            if e.reply_id not in came_back
            for o in self._owed(e, e.brand, plans.plans_for_reply(e))
        ]
        await store.enqueue(owed, now=self.clock.now())

    async def on_notes(self, events: list[InternalNoteAdded], uow: UnitOfWork) -> None:
        """Desk notes as private notes, except those that came from Freshdesk (not noted back)."""
        store = FreshdeskStore(uow)
        ours = [e for e in events if self._on(e.brand)]
        came_back = await store.inbound_replies([e.note_id for e in ours])
        owed = [
            o
            for e in ours
            if e.note_id not in came_back
            for o in self._owed(e, e.brand, plans.plans_for_note(e))
        ]
        await store.enqueue(owed, now=self.clock.now())

    async def on_escalated(self, events: list[TicketEscalated], uow: UnitOfWork) -> None:
        """A note, and the priority one step up (decided in record order within the batch)."""
        await self._raise(events, plans.plans_for_escalation, uow)

    async def on_priority_raised(self, events: list[TicketPriorityRaised], uow: UnitOfWork) -> None:
        """A note, and the mapped priority of the more urgent ticket."""
        await self._raise(events, plans.plans_for_priority_raised, uow)

    async def _raise(
        self,
        events: Sequence[Raising],
        plan: Callable[[Any, Mirror | None, FreshdeskBrand], tuple[list[OpPlan], int]],
        uow: UnitOfWork,
    ) -> None:
        store = FreshdeskStore(uow)
        ours = [e for e in events if self._on(e.brand)]
        mirrors = await store.mirrors({e.ticket_id for e in ours}, lock=True)
        owed: list[Owed] = []
        decided: dict[uuid.UUID, dict[str, object]] = {}
        for e in ours:
            account = self.config.freshdesk.brands[e.brand]
            mirror = mirrors.get(e.ticket_id)
            raised, priority = plan(e, mirror, account)
            owed.extend(self._owed(e, e.brand, raised))
            if mirror is not None:
                mirrors[e.ticket_id] = replace(mirror, fd_priority=priority)
                decided[e.ticket_id] = {"fd_priority": priority}
        await store.decide_many(decided)
        await store.enqueue(owed, now=self.clock.now())

    async def on_breached(self, events: list[SlaBreached], uow: UnitOfWork) -> None:
        store = FreshdeskStore(uow)
        ours = [e for e in events if self._on(e.brand)]
        mirrors = await store.mirrors({e.ticket_id for e in ours}, lock=True)
        owed: list[Owed] = []
        decided: dict[uuid.UUID, dict[str, object]] = {}
        for e in ours:
            mirror = mirrors.get(e.ticket_id)
            breach, tags = plans.plans_for_breach(e, mirror)
            owed.extend(self._owed(e, e.brand, breach))
            if mirror is not None and tags is not None and breach:
                mirrors[e.ticket_id] = replace(mirror, fd_tags=tags)
                decided[e.ticket_id] = {"fd_tags": tags}
        await store.decide_many(decided)
        await store.enqueue(owed, now=self.clock.now())

    async def on_resolved(self, events: list[TicketResolved], uow: UnitOfWork) -> None:
        store = FreshdeskStore(uow)
        mirrors = await store.mirrors({e.ticket_id for e in events})
        # A resolve an agent undid in Freshdesk since (it travels on another topic than the
        # desk's reopen): stale, neither recorded nor sent.
        stale: set[uuid.UUID] = set()
        for e in events:
            m = mirrors.get(e.ticket_id)
            if (
                m is not None
                and m.fd_ticket_id is not None
                and await store.reopened_there_since(e.brand, m.fd_ticket_id, e.resolved_at)
            ):
                stale.add(e.event_id)
        await store.resolved([e.ticket_id for e in events if e.event_id not in stale])
        owed = [
            o
            for e in events
            if self._on(e.brand) and e.event_id not in stale
            for o in self._owed(e, e.brand, plans.plans_for_resolved(e, mirrors.get(e.ticket_id)))
        ]
        await store.enqueue(owed, now=self.clock.now())

    async def on_reopened(self, events: list[TicketReopened], uow: UnitOfWork) -> None:
        """Open again in Freshdesk (unless it was reopened there), and a later resolve made
        in Freshdesk is news again."""
        store = FreshdeskStore(uow)
        mirrors = await store.mirrors({e.ticket_id for e in events}, lock=True)
        owed: list[Owed] = []
        for e in events:
            mirror = mirrors.get(e.ticket_id)
            if mirror is None:
                continue
            there = mirror.fd_ticket_id is not None and await store.take_reopened_there(
                e.brand, mirror.fd_ticket_id, e.event_id
            )
            # Reopened in Freshdesk: the desk followed, Freshdesk is owed nothing.
            reopen = plans.plans_for_reopened(e, mirror) if self._on(e.brand) and not there else []
            owed.extend(self._owed(e, e.brand, reopen))
            if mirror.fd_ticket_id is not None and not there:
                await store.forget_statuses(e.brand, mirror.fd_ticket_id)
            # Decided now (a second reopen in this batch owes nothing more); the worker
            # records Freshdesk's status once the update is done.
            mirrors[e.ticket_id] = replace(
                mirror, state="open", fd_status=OPEN if reopen else mirror.fd_status
            )
            await store.decided(e.ticket_id, state="open")
        await store.enqueue(owed, now=self.clock.now())
