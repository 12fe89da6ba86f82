"""The Slack concern's handlers (issue 11): keep each ticket's facts, owe its messages.

Every handler is batched: one upsert of the facts, one read of contexts and threads, one
insert of the deliveries owed, whatever the batch size. Nothing is sent here.

Usage::

    table = SlackHandlers(config=config, clock=clock, desk_url="http://127.0.0.1:8083").table()
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from socialdesk_notifier import domain
from socialdesk_notifier.domain import alerts
from socialdesk_notifier.domain.cards import TicketContext, agent_label
from socialdesk_notifier.slack_store import SlackStore
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_runtime.consumer import Batch, HandlerTable
from socialdesk_runtime.db import UnitOfWork
from socialdesk_schemas import (
    AgentReplied,
    Event,
    MessageClassified,
    MessageReceived,
    SlaWarning,
    SpikeDetected,
    TicketAssigned,
    TicketEscalated,
    TicketResolved,
    TicketRoutedToMarketing,
    TrendDetected,
)
from socialdesk_schemas.desk import OwnershipRefused, TicketPriorityRaised, TicketReopened
from socialdesk_schemas.sla import FollowUpDue

__all__ = ["SlackHandlers"]

Owed = list[tuple[Event, domain.Notification]]


#: Where a reply typed in a platform's own inbox was typed, by the platform its
#: ``AgentReplied.agent_id`` names (``inbox:<platform>``, decision 0305).
_INBOXES = {
    "facebook": "in the Facebook inbox",
    "messenger": "in the Messenger inbox",
    "instagram": "in the Instagram inbox",
    "whatsapp": "in the WhatsApp Business app",
    "x": "on X",
}


def _typed_in(agent_id: str) -> str | None:
    """ "in the Facebook inbox" for a reply typed there (``inbox:facebook``); ``None`` for a
    reply made on the desk (or in Freshdesk), whose agent id is a person's."""
    prefix, _, platform = agent_id.partition(":")
    if prefix != "inbox" or not platform:
        return None
    return _INBOXES.get(platform, f"in the {platform} inbox")


def _ctx(contexts: dict[Any, TicketContext], event: Any) -> TicketContext:
    return contexts.get(event.ticket_id) or TicketContext(
        ticket_id=event.ticket_id, brand=event.brand, correlation_id=event.correlation_id
    )


@dataclass(frozen=True)
class SlackHandlers:
    config: SocialdeskConfig
    clock: Clock
    desk_url: str

    def table(self) -> HandlerTable:
        return {
            MessageReceived: Batch(self.on_messages_received),
            MessageClassified: Batch(self.on_messages_classified),
            TicketAssigned: Batch(self.on_tickets_assigned),
            AgentReplied: Batch(self.on_agents_replied),
            TicketResolved: Batch(self.on_tickets_resolved),
            TicketReopened: Batch(self.on_tickets_reopened),
            TicketPriorityRaised: Batch(self.on_priority_raised),
            OwnershipRefused: Batch(self.on_ownership_refused),
            TicketEscalated: Batch(self.on_tickets_escalated),
            SlaWarning: Batch(self.on_sla_warnings),
            FollowUpDue: Batch(self.on_followups_due),
            TicketRoutedToMarketing: Batch(self.on_routed_to_marketing),
            SpikeDetected: Batch(self.on_spikes),
            TrendDetected: Batch(self.on_trends),
        }

    # --- facts only -----------------------------------------------------------------------

    async def on_messages_received(self, events: list[MessageReceived], uow: UnitOfWork) -> None:
        """The message that opened the ticket: who wrote, and what (first message wins)."""
        rows = [
            {
                "ticket_id": e.ticket_id,
                "brand": e.brand,
                "correlation_id": e.correlation_id,
                "platform": e.platform,
                "handle": (e.author.handle or e.author.display_name or e.author.platform_user_id)[:256],
                "excerpt": e.text[:1000],
            }
            for e in events
        ]
        await SlackStore(uow).upsert_facts(rows, now=self.clock.now())

    # --- facts, then messages -----------------------------------------------------------------

    async def on_messages_classified(self, events: list[MessageClassified], uow: UnitOfWork) -> None:
        """Category, priority and queue; a safety report pages the crisis channel."""
        store = SlackStore(uow)
        rows = [
            {
                "ticket_id": e.ticket_id,
                "brand": e.brand,
                "correlation_id": e.correlation_id,
                "platform": e.platform,
                "category": e.category,
                "priority": e.priority,
                "queue": e.queue,
            }
            for e in events
        ]
        await store.upsert_facts(rows, now=self.clock.now())
        safety = [e for e in events if e.category == "safety" and e.opens_ticket]
        if safety:
            contexts = await store.contexts(e.ticket_id for e in safety)
            owed: Owed = []
            for e in safety:
                owed += [(e, n) for n in alerts.safety_alerts(_ctx(contexts, e), **self._render())]
            await store.enqueue(owed, now=self.clock.now())

    async def on_tickets_assigned(self, events: list[TicketAssigned], uow: UnitOfWork) -> None:
        rows = [
            {
                "ticket_id": e.ticket_id,
                "brand": e.brand,
                "correlation_id": e.correlation_id,
                "platform": e.platform,
                "priority": e.priority,
                "owner_agent_id": e.agent_id,
            }
            for e in events
        ]

        def line(e: TicketAssigned) -> str | None:
            # An escalation's new owner is said by the escalation's own line (and the parent).
            if e.reason == "escalation" or (
                e.previous_agent_id is None and e.reason not in ("reassigned", "claimed")
            ):
                return None
            return f":bust_in_silhouette: Reassigned to {agent_label(self.config, e.agent_id)} ({e.reason})"

        await self._state_changes(events, rows, line, uow)

    async def on_agents_replied(self, events: list[AgentReplied], uow: UnitOfWork) -> None:
        rows = [{"ticket_id": e.ticket_id, "brand": e.brand, "state": "answered"} for e in events]

        def line(e: AgentReplied) -> str | None:
            if not e.is_first_response:
                return None
            typed_in = _typed_in(e.agent_id)
            if typed_in is not None:
                return f":speech_balloon: Answered {typed_in}, outside the desk"
            return f":speech_balloon: Answered by {agent_label(self.config, e.agent_id, mention=False)}"

        await self._state_changes(events, rows, line, uow)

    async def on_tickets_resolved(self, events: list[TicketResolved], uow: UnitOfWork) -> None:
        rows = [{"ticket_id": e.ticket_id, "brand": e.brand, "state": "resolved"} for e in events]
        await self._state_changes(
            events,
            rows,
            lambda e: f":white_check_mark: Resolved by {agent_label(self.config, e.agent_id, mention=False)}",
            uow,
        )

    async def on_tickets_reopened(self, events: list[TicketReopened], uow: UnitOfWork) -> None:
        rows = [{"ticket_id": e.ticket_id, "brand": e.brand, "state": "open"} for e in events]
        await self._state_changes(
            events, rows, lambda e: f":leftwards_arrow_with_hook: Reopened ({e.reason})", uow
        )

    async def on_priority_raised(self, events: list[TicketPriorityRaised], uow: UnitOfWork) -> None:
        """A ticket became more urgent: the parent shows the new priority, the thread says why."""
        rows = [{"ticket_id": e.ticket_id, "brand": e.brand, "priority": e.priority} for e in events]
        await self._state_changes(
            events,
            rows,
            lambda e: (
                f":rotating_light: Priority raised from {e.previous_priority} to {e.priority}"
                + (f" ({e.reason})" if e.reason else "")
            ),
            uow,
        )

    async def on_ownership_refused(self, events: list[OwnershipRefused], uow: UnitOfWork) -> None:
        """The assigner refused a Take ownership: the parent stops showing who took it, and
        the thread says why (the person who pressed it is mentioned)."""
        store = SlackStore(uow)
        now = self.clock.now()
        for e in events:
            await store.clear_claim(e.ticket_id, e.agent_id, now=now)
        threads = await store.threads(e.ticket_id for e in events)
        owed: Owed = []
        for e in events:
            line = f":no_entry: <@{e.slack_user_id}> could not take this ticket: {e.reason}"
            ctx = TicketContext(ticket_id=e.ticket_id, brand=e.brand)
            owed += [(e, n) for n in alerts.state_change(ctx, line, threads=threads.get(e.ticket_id, []))]
        await store.enqueue(owed, now=now)

    async def on_tickets_escalated(self, events: list[TicketEscalated], uow: UnitOfWork) -> None:
        rows = [{**_facts(e), "level": e.to_level} for e in events]
        await self._paged(events, rows, alerts.escalation_alerts, uow)

    async def on_sla_warnings(self, events: list[SlaWarning], uow: UnitOfWork) -> None:
        await self._paged(events, [_facts(e) for e in events], alerts.warning_alerts, uow)

    async def on_followups_due(self, events: list[FollowUpDue], uow: UnitOfWork) -> None:
        store = SlackStore(uow)
        rows = [
            {"ticket_id": e.ticket_id, "brand": e.brand, "correlation_id": e.correlation_id} for e in events
        ]
        await store.upsert_facts(rows, now=self.clock.now())
        contexts = await store.contexts(e.ticket_id for e in events)
        owed: Owed = []
        for e in events:
            owed += [(e, n) for n in alerts.followup_alerts(e, _ctx(contexts, e), **self._render())]
        await store.enqueue(owed, now=self.clock.now())

    async def on_routed_to_marketing(self, events: list[TicketRoutedToMarketing], uow: UnitOfWork) -> None:
        store = SlackStore(uow)
        rows = [
            {
                "ticket_id": e.ticket_id,
                "brand": e.brand,
                "correlation_id": e.correlation_id,
                "platform": e.platform,
                "category": e.category,
                "priority": e.priority,
                "queue": "marketing",
            }
            for e in events
        ]
        await store.upsert_facts(rows, now=self.clock.now())
        contexts = await store.contexts(e.ticket_id for e in events)
        owed: Owed = [(e, alerts.marketing_alert(_ctx(contexts, e), **self._render())) for e in events]
        await store.enqueue(owed, now=self.clock.now())

    async def on_spikes(self, events: list[SpikeDetected], uow: UnitOfWork) -> None:
        owed: Owed = [(e, alerts.crisis_page(e, self.config)) for e in events]
        await SlackStore(uow).enqueue(owed, now=self.clock.now())

    async def on_trends(self, events: list[TrendDetected], uow: UnitOfWork) -> None:
        owed: Owed = [(e, domain.trend(e, self.config)) for e in events]
        await SlackStore(uow).enqueue(owed, now=self.clock.now())

    # --- helpers ------------------------------------------------------------------------------

    async def _paged(
        self,
        events: Sequence[Any],
        rows: list[dict[str, Any]],
        page: Callable[..., list[domain.Notification]],
        uow: UnitOfWork,
    ) -> None:
        """Facts written; each event pages with the ticket's context, in its threads."""
        store = SlackStore(uow)
        await store.upsert_facts(rows, now=self.clock.now())
        contexts = await store.contexts(e.ticket_id for e in events)
        threads = await store.threads(e.ticket_id for e in events)
        owed: Owed = []
        for e in events:
            notes = page(e, _ctx(contexts, e), threads=threads.get(e.ticket_id, []), **self._render())
            owed += [(e, n) for n in notes]
        await store.enqueue(owed, now=self.clock.now())

    def _render(self) -> dict[str, Any]:
        return {"config": self.config, "now": self.clock.now(), "desk_url": self.desk_url}

    async def _state_changes(
        self,
        events: Sequence[Any],
        rows: list[dict[str, Any]],
        line: Callable[[Any], str | None],
        uow: UnitOfWork,
    ) -> None:
        """Facts written; every thread of each ticket gets its line (if any) and a parent update."""
        store = SlackStore(uow)
        await store.upsert_facts(rows, now=self.clock.now())
        threads = await store.threads(e.ticket_id for e in events)
        if not threads:
            return
        owed: Owed = []
        for e in events:
            channels = threads.get(e.ticket_id)
            if channels:
                ctx = TicketContext(ticket_id=e.ticket_id, brand=e.brand)
                owed += [(e, n) for n in alerts.state_change(ctx, line(e), threads=channels)]
        await store.enqueue(owed, now=self.clock.now())


def _facts(e: TicketEscalated | SlaWarning) -> dict[str, Any]:
    """What a page tells of its ticket (its deadline included)."""
    return {
        "ticket_id": e.ticket_id,
        "brand": e.brand,
        "correlation_id": e.correlation_id,
        "platform": e.platform,
        "priority": e.priority,
        "deadline": e.deadline,
    }
