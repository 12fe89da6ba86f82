"""The desk's read model, fed by other services' events (the desk never reads another
service's store): customer messages and their edits and deletions, replies typed in a
platform's own inbox, SLA clocks, warnings, breaches, escalations and due follow-ups,
reply delivery states, incident groups and spikes. Each also leaves a line in the
ticket's history."""

from __future__ import annotations

import functools
import uuid
from typing import Any

from socialdesk_assigner.domain.desk import escalate
from socialdesk_assigner.domain.views import history_rows
from socialdesk_assigner.handlers import clocks
from socialdesk_assigner.handlers.inbox import on_own_message
from socialdesk_assigner.handlers.words import apply_late_words
from socialdesk_assigner.presence import Roster
from socialdesk_assigner.store import DeskStore, ReadModelStore, TicketStore
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_runtime.db import UnitOfWork
from socialdesk_schemas import (
    Author,
    Event,
    MessageReceived,
    NotificationDelivered,
    NotificationFailed,
    SlaBreached,
    SlaWarning,
    SpikeDetected,
    TicketEscalated,
    TrendDetected,
)
from socialdesk_schemas.outbound import DeliveryFailed, DeliverySucceeded, ReplyStatusChanged
from socialdesk_schemas.platforms import (
    CustomerLinked,
    CustomerUnlinked,
    MessageAuthorIdentified,
    MessageDeleted,
    MessageEdited,
    OwnMessageSeen,
)
from socialdesk_schemas.sla import FollowUpDue, SlaClockArmed, SlaClockStopped

__all__ = ["ReadModelHandlers"]


class ReadModelHandlers:
    """Handlers that keep the desk's own copy of what other services report."""

    def __init__(self, *, config: SocialdeskConfig, clock: Clock, roster: Roster) -> None:
        self._config = config
        self._clock = clock
        self._roster = roster

    def table(self) -> dict[type[Event], Any]:
        from socialdesk_runtime.consumer import Batch

        # Batch handlers: a run of one type is a statement per table. The two left per
        # event (a reply typed in a platform's inbox, an escalation) are rare and lock a ticket.
        return {
            MessageReceived: Batch(self.on_received),
            MessageEdited: Batch(self.on_edited),
            MessageAuthorIdentified: Batch(self.on_author_identified),
            MessageDeleted: Batch(self.on_deleted),
            OwnMessageSeen: functools.partial(on_own_message, clock=self._clock),
            CustomerLinked: self.on_linked,
            CustomerUnlinked: self.on_unlinked,
            SlaClockArmed: Batch(clocks.on_clock_armed),
            SlaClockStopped: Batch(clocks.on_clock_stopped),
            SlaWarning: Batch(clocks.on_warning),
            SlaBreached: Batch(clocks.on_breached),
            FollowUpDue: Batch(clocks.on_follow_up_due),
            TicketEscalated: self.on_escalated,
            DeliverySucceeded: Batch(self.on_delivered),
            DeliveryFailed: Batch(self.on_delivery_failed),
            ReplyStatusChanged: Batch(self.on_status_changed),
            NotificationDelivered: Batch(self.on_notifications),
            NotificationFailed: Batch(self.on_notifications),
            TrendDetected: Batch(self.on_trends),
            SpikeDetected: Batch(self.on_spikes),
        }

    # -- conversation --

    async def on_received(self, events: list[MessageReceived], uow: UnitOfWork) -> None:
        read = ReadModelStore(uow)
        await read.add_messages(
            [
                {
                    "message_id": e.message_id,
                    "ticket_id": e.ticket_id,
                    "direction": "customer",
                    "platform": e.platform,
                    "kind": e.kind,
                    "platform_message_id": e.platform_message_id,
                    "author_id": e.author.platform_user_id,
                    "author_name": e.author.display_name or e.author.handle,
                    "text": e.text,
                    "original_text": None,
                    "at": e.received_at,
                    "edited_at": None,
                    "deleted_at": None,
                    "attachments": [a.model_dump(mode="json") for a in e.attachments] or None,
                }
                for e in events
            ]
        )
        latest: dict[tuple[uuid.UUID, str], dict[str, Any]] = {}
        for e in events:
            latest[(e.customer_id, e.platform)] = {
                "customer_id": e.customer_id,
                "platform": e.platform,
                "platform_user_id": e.author.platform_user_id,
                "handle": e.author.handle,
                "display_name": e.author.display_name,
                "followers": e.author.followers,
                "last_seen_at": e.received_at,
            }
        await read.upsert_customers([latest[k] for k in sorted(latest, key=str)])
        await apply_late_words(events, uow, config=self._config, clock=self._clock, roster=self._roster)

    async def on_linked(self, event: CustomerLinked, uow: UnitOfWork) -> None:
        """Identities linked into one profile: the desk shows them as one customer."""
        await ReadModelStore(uow).link_customers(event.profile_id, event.customer_ids, event.occurred_at)

    async def on_unlinked(self, event: CustomerUnlinked, uow: UnitOfWork) -> None:
        await ReadModelStore(uow).unlink_customer(event.profile_id, event.customer_id)

    async def on_edited(self, events: list[MessageEdited], uow: UnitOfWork) -> None:
        read = ReadModelStore(uow)
        await read.edit_messages(
            [{"b_id": e.message_id, "b_text": e.text, "b_at": e.edited_at} for e in events]
        )
        # A later read of the platform named who wrote a message that came without its author
        # (decision 0204). Still applied: an ingest before MessageAuthorIdentified said it only
        # here. On a placeholder linked to the person it writes the author's id for a moment:
        # the MessageAuthorIdentified of the same read, right after on the ticket's partition,
        # sets the id the customer is known by.
        await read.name_authors(
            [
                _naming(e, e.author, e.customer_id, e.author.platform_user_id)
                for e in events
                if e.author and e.customer_id
            ]
        )
        await DeskStore(uow).add_history(history_rows(events))

    async def on_author_identified(self, events: list[MessageAuthorIdentified], uow: UnitOfWork) -> None:
        """A later read named who wrote a message that came without its author (decision 0204):
        the message shows that person; its customer takes their handle and name and the id it
        is known by (``customer_platform_user_id``: its own placeholder id when linked to the
        person who has the author's id, so a profile lists no identity twice). Nothing is
        edited, and no history line: the desk shows no identity change there (as links)."""
        await ReadModelStore(uow).name_authors(
            [_naming(e, e.author, e.customer_id, e.customer_platform_user_id) for e in events]
        )

    async def on_deleted(self, events: list[MessageDeleted], uow: UnitOfWork) -> None:
        await ReadModelStore(uow).delete_messages(
            [{"b_id": e.message_id, "b_at": e.deleted_at} for e in events]
        )
        await DeskStore(uow).add_history(history_rows(events))

    # -- escalation --

    async def on_escalated(self, event: TicketEscalated, uow: UnitOfWork) -> None:
        """Up the ladder: the next rung's agent gets the ticket (or watches it, per policy)."""
        store = TicketStore(uow)
        ticket = await store.ticket(event.ticket_id, lock=True)
        await DeskStore(uow).add_history(history_rows([event]))
        if ticket is None:
            return
        to = self._roster.known(event.to_agent_id)
        step = escalate(ticket, event, to, policy=self._config.desk.escalation, now=self._clock.now())
        await store.save([step.ticket])
        for emitted in step.events:
            uow.emit(emitted)
        await DeskStore(uow).add_history(history_rows(step.events))

    # -- deliveries --

    async def on_delivered(self, events: list[DeliverySucceeded], uow: UnitOfWork) -> None:
        await ReadModelStore(uow).reply_status(
            [
                {
                    "b_reply_id": e.reply_id,
                    "b_status": "sent",
                    "b_at": e.sent_at,
                    "b_pmid": e.platform_message_id,
                    "b_reason": None,
                }
                for e in events
            ]
        )

    async def on_delivery_failed(self, events: list[DeliveryFailed], uow: UnitOfWork) -> None:
        await ReadModelStore(uow).reply_status(
            [
                {
                    "b_reply_id": e.reply_id,
                    "b_status": "failed",
                    "b_at": e.failed_at,
                    "b_pmid": None,
                    "b_reason": f"{e.reason}: {e.detail}" if e.detail else e.reason,
                }
                for e in events
            ]
        )
        await DeskStore(uow).add_history(history_rows(events))

    async def on_status_changed(self, events: list[ReplyStatusChanged], uow: UnitOfWork) -> None:
        await ReadModelStore(uow).reply_status(
            [
                {
                    "b_reply_id": e.reply_id,
                    "b_status": e.status,
                    "b_at": e.at,
                    "b_pmid": None,
                    "b_reason": None
                    if e.platform_error_code is None
                    else f"platform error {e.platform_error_code}",
                }
                for e in events
            ]
        )

    async def on_notifications(
        self, events: list[NotificationDelivered | NotificationFailed], uow: UnitOfWork
    ) -> None:
        """Slack pages (a line in the history each), and replies the notifier only wrote to
        its local sink (no platform credentials: the customer did not get it) or gave up on."""
        by_request: list[dict[str, Any]] = []
        pages: list[dict[str, Any]] = []
        for event in events:
            failed = isinstance(event, NotificationFailed)
            if event.source_event_type == "ReplyRequested":
                by_request.append(
                    {
                        "b_request": event.source_event_id,
                        "b_status": "failed" if failed else "local",
                        "b_at": event.occurred_at,
                        "b_reason": event.error
                        if isinstance(event, NotificationFailed)
                        else f"{event.channel}: {event.destination}",
                    }
                )
                continue
            where = f"{event.channel}:{event.destination} for {event.source_event_type}"
            detail = f"{where}: {event.error}" if isinstance(event, NotificationFailed) else where
            pages.append(
                {
                    "ticket_id": event.ticket_id,
                    "at": event.occurred_at,
                    "kind": event.event_type,
                    "actor": None,
                    "detail": detail[:1000],
                }
            )
        await ReadModelStore(uow).reply_status_by_request(by_request)
        await DeskStore(uow).add_history(pages)

    async def on_spikes(self, events: list[SpikeDetected], uow: UnitOfWork) -> None:
        await ReadModelStore(uow).add_spikes(
            [
                {
                    "event_id": e.event_id,
                    "brand": e.brand,
                    "severity": e.severity,
                    "volume": e.volume,
                    "baseline_volume": e.baseline_volume,
                    "negative_share": e.negative_share,
                    "at": e.occurred_at,
                }
                for e in events
            ]
        )

    async def on_trends(self, events: list[TrendDetected], uow: UnitOfWork) -> None:
        groups: dict[tuple[str, str], dict[str, Any]] = {}
        for e in events:  # one row per group: the largest volume, the latest sample and time
            seen = groups.get((e.brand, e.group_id))
            groups[(e.brand, e.group_id)] = {
                "brand": e.brand,
                "group_id": e.group_id,
                "volume": max(e.volume, seen["volume"]) if seen else e.volume,
                "sample_text": e.sample_text or (seen["sample_text"] if seen else None),
                "updated_at": e.occurred_at,
            }
        await ReadModelStore(uow).upsert_groups(list(groups.values()))


def _naming(
    e: MessageEdited | MessageAuthorIdentified, author: Author, customer_id: uuid.UUID, known_as: str
) -> dict[str, Any]:
    """A row for ``name_authors``: ``e``'s message shows ``author``; its customer (on ``e``'s
    platform) is known by ``known_as`` and takes the author's handle and name."""
    return {
        "b_id": e.message_id,
        "b_author": author.platform_user_id,
        "b_author_name": author.display_name or author.handle,
        "b_customer": customer_id,
        "b_platform": e.platform,
        "b_user": known_as,
        "b_handle": author.handle,
        "b_name": author.display_name,
    }
