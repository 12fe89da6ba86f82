"""The desk's read model, fed by other services' events (the desk never reads another
service's store): customer messages and their edits and deletions, replies typed in a
platform's own inbox, SLA clocks, warnings, breaches, escalations and due follow-ups,
reply delivery states, incident groups and spikes. Each also leaves a line in the
ticket's history."""

from __future__ import annotations

import uuid
from typing import Any

from socialdesk_assigner.domain.desk import escalate
from socialdesk_assigner.domain.views import history_rows
from socialdesk_assigner.presence import Roster
from socialdesk_assigner.store import DeskStore, ReadModelStore, TicketStore
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_runtime.db import UnitOfWork
from socialdesk_schemas import (
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
from socialdesk_schemas.platforms import MessageDeleted, MessageEdited, OwnMessageSeen
from socialdesk_schemas.sla import FollowUpDue, SlaClockArmed, SlaClockStopped

__all__ = ["ReadModelHandlers"]

_INBOX_NS = uuid.UUID("0f3c5bb8-9d7e-4a57-8f0e-7b8f2a1d6c44")


class ReadModelHandlers:
    """Handlers that keep the desk's own copy of what other services report."""

    def __init__(self, *, config: SocialdeskConfig, clock: Clock, roster: Roster) -> None:
        self._config = config
        self._clock = clock
        self._roster = roster

    def table(self) -> dict[type[Event], Any]:
        from socialdesk_runtime.consumer import Batch

        return {
            MessageReceived: Batch(self.on_received),
            MessageEdited: self.on_edited,
            MessageDeleted: self.on_deleted,
            OwnMessageSeen: self.on_own_message,
            SlaClockArmed: self.on_clock_armed,
            SlaClockStopped: self.on_clock_stopped,
            SlaWarning: self.on_warning,
            SlaBreached: self.on_breached,
            FollowUpDue: self.on_follow_up_due,
            TicketEscalated: self.on_escalated,
            DeliverySucceeded: Batch(self.on_delivered),
            DeliveryFailed: Batch(self.on_delivery_failed),
            ReplyStatusChanged: Batch(self.on_status_changed),
            NotificationDelivered: self.on_notification,
            NotificationFailed: self.on_notification,
            TrendDetected: self.on_trend,
            SpikeDetected: self.on_spike,
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

    async def on_edited(self, event: MessageEdited, uow: UnitOfWork) -> None:
        await ReadModelStore(uow).edit_message(event.message_id, text=event.text, at=event.edited_at)
        await DeskStore(uow).add_history(history_rows([event]))

    async def on_deleted(self, event: MessageDeleted, uow: UnitOfWork) -> None:
        await ReadModelStore(uow).delete_message(event.message_id, at=event.deleted_at)
        await DeskStore(uow).add_history(history_rows([event]))

    async def on_own_message(self, event: OwnMessageSeen, uow: UnitOfWork) -> None:
        """A reply a person typed in the platform's own inbox is an agent reply on the ticket;
        the echo of one we sent marks that reply sent."""
        at = event.sent_at or event.occurred_at
        if not event.typed_in_platform_inbox:
            reply_id = _uuid_or_none(event.delivery_key)
            if reply_id is not None:
                await ReadModelStore(uow).reply_status(
                    [
                        {
                            "b_reply_id": reply_id,
                            "b_status": "sent",
                            "b_at": at,
                            "b_pmid": event.platform_message_id,
                            "b_reason": None,
                        }
                    ]
                )
            return
        await ReadModelStore(uow).add_messages(
            [
                {
                    "message_id": uuid.uuid5(_INBOX_NS, f"{event.ticket_id}:{event.platform_message_id}"),
                    "ticket_id": event.ticket_id,
                    "direction": "agent_inbox",
                    "platform": event.platform,
                    "kind": event.kind,
                    "platform_message_id": event.platform_message_id,
                    "author_id": None,
                    "author_name": f"{event.platform} inbox",
                    "text": event.text,
                    "original_text": None,
                    "at": at,
                    "edited_at": None,
                    "deleted_at": None,
                }
            ]
        )
        store = TicketStore(uow)
        ticket = await store.ticket(event.ticket_id, lock=True)
        if ticket is not None and ticket.first_response_at is None:
            from dataclasses import replace

            await store.save([replace(ticket, first_response_at=at, last_activity_at=at)])
        await DeskStore(uow).add_history(
            [
                {
                    "ticket_id": event.ticket_id,
                    "at": at,
                    "kind": "ReplyTypedInPlatformInbox",
                    "actor": None,
                    "detail": event.platform,
                }
            ]
        )

    # -- SLA --

    async def on_clock_armed(self, event: SlaClockArmed, uow: UnitOfWork) -> None:
        read = ReadModelStore(uow)
        await read.set_clock(
            event.ticket_id,
            event.clock,
            state="armed",
            due_at=event.due_at,
            warn_at=event.warn_at,
            armed_at=event.armed_at,
            warned_at=None,
            breached_at=None,
            stopped_at=None,
        )
        await read.refresh_due([event.ticket_id])

    async def on_clock_stopped(self, event: SlaClockStopped, uow: UnitOfWork) -> None:
        read = ReadModelStore(uow)
        await read.set_clock(event.ticket_id, event.clock, state=event.outcome, stopped_at=event.stopped_at)
        await read.refresh_due([event.ticket_id])
        await DeskStore(uow).add_history(history_rows([event]))

    async def on_warning(self, event: SlaWarning, uow: UnitOfWork) -> None:
        read = ReadModelStore(uow)
        await read.set_clock(
            event.ticket_id, event.metric, state="warned", due_at=event.deadline, warned_at=event.occurred_at
        )
        await read.refresh_due([event.ticket_id])
        await DeskStore(uow).add_history(history_rows([event]))

    async def on_breached(self, event: SlaBreached, uow: UnitOfWork) -> None:
        read = ReadModelStore(uow)
        await read.set_clock(
            event.ticket_id,
            event.metric,
            state="breached",
            due_at=event.deadline,
            breached_at=event.breached_at,
        )
        await read.refresh_due([event.ticket_id])
        await DeskStore(uow).add_history(history_rows([event]))

    async def on_follow_up_due(self, event: FollowUpDue, uow: UnitOfWork) -> None:
        """A promised follow-up is due and not kept: the ticket's history says so."""
        await DeskStore(uow).add_history(history_rows([event]))

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

    async def on_notification(
        self, event: NotificationDelivered | NotificationFailed, uow: UnitOfWork
    ) -> None:
        """Slack pages (a line in the history), and replies the notifier only wrote to its
        local sink (no platform credentials: the customer did not get it) or gave up on."""
        if event.source_event_type == "ReplyRequested":
            failed = isinstance(event, NotificationFailed)
            reason = (
                event.error
                if isinstance(event, NotificationFailed)
                else f"{event.channel}: {event.destination}"
            )
            await ReadModelStore(uow).reply_status_by_request(
                event.source_event_id,
                status="failed" if failed else "local",
                at=event.occurred_at,
                reason=reason,
            )
            return
        where = f"{event.channel}:{event.destination} for {event.source_event_type}"
        detail = where if isinstance(event, NotificationDelivered) else f"{where}: {event.error}"
        await DeskStore(uow).add_history(
            [
                {
                    "ticket_id": event.ticket_id,
                    "at": event.occurred_at,
                    "kind": event.event_type,
                    "actor": None,
                    "detail": detail[:1000],
                }
            ]
        )

    async def on_spike(self, event: SpikeDetected, uow: UnitOfWork) -> None:
        await ReadModelStore(uow).add_spike(
            event_id=event.event_id,
            brand=event.brand,
            severity=event.severity,
            volume=event.volume,
            baseline_volume=event.baseline_volume,
            negative_share=event.negative_share,
            at=event.occurred_at,
        )

    async def on_trend(self, event: TrendDetected, uow: UnitOfWork) -> None:
        await ReadModelStore(uow).upsert_group(
            brand=event.brand,
            group_id=event.group_id,
            volume=event.volume,
            sample=event.sample_text,
            at=event.occurred_at,
        )


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
