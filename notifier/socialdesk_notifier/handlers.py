"""Consumer side: one handler per consumed event type, each turning its event into a
delivery owed (idempotent per source event and destination). Slack alerts about tickets
are the Slack concern's (``slack_handlers``); replies and platform facts are here.

Nothing is sent here: the batch transaction only records what must go out, so a Slack
outage never blocks the partition and a redelivered event adds no second row. The
delivery worker sends.
"""

from __future__ import annotations

from dataclasses import dataclass

from socialdesk_notifier import domain
from socialdesk_notifier.domain.receipts import apply_receipt, reply_id_of_key
from socialdesk_notifier.domain.replies import text_sha
from socialdesk_notifier.store import ConversationStore, DeliveryStore
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_runtime.consumer import Batch, HandlerTable
from socialdesk_runtime.db import UnitOfWork
from socialdesk_schemas import Event, MessageReceived, ReplyRequested
from socialdesk_schemas.platforms import ChannelHealthChanged, OwnMessageSeen, PlatformDeliveryReported

__all__ = ["Handlers"]


@dataclass(frozen=True)
class Handlers:
    """Usage: ``ServiceParts(handlers=Handlers(config=config, clock=clock).table(), ...)``."""

    config: SocialdeskConfig
    clock: Clock

    def table(self) -> HandlerTable:
        return {
            ReplyRequested: self.on_reply_requested,
            # ingest's facts about conversations: windows, echoes of our sends, receipts.
            MessageReceived: Batch(self.on_messages_received),
            OwnMessageSeen: self.on_own_message_seen,
            PlatformDeliveryReported: self.on_delivery_reported,
            ChannelHealthChanged: self.on_channel_health_changed,
        }

    async def on_reply_requested(self, event: ReplyRequested, uow: UnitOfWork) -> None:
        await self._owe(uow, event, domain.reply(event))

    async def on_messages_received(self, events: list[MessageReceived], uow: UnitOfWork) -> None:
        """A customer's message (re)opens their messaging window with the brand."""
        await ConversationStore(uow).touch_contacts(
            [(e.brand, e.platform, e.author.platform_user_id, e.sent_at or e.received_at) for e in events]
        )

    async def on_own_message_seen(self, event: OwnMessageSeen, uow: UnitOfWork) -> None:
        """Our message came back: what settles a send whose answer was lost."""
        await ConversationStore(uow).record_echo(
            brand=event.brand,
            platform=event.platform,
            platform_message_id=event.platform_message_id,
            delivery_key=event.delivery_key,
            recipient=event.recipient_platform_user_id,
            text_sha=text_sha(event.text),
            seen_at=event.sent_at or event.occurred_at,
        )

    async def on_delivery_reported(self, event: PlatformDeliveryReported, uow: UnitOfWork) -> None:
        store = ConversationStore(uow)
        reply_id = reply_id_of_key(event.delivery_key)
        if reply_id is not None and event.platform_message_ids:
            # WhatsApp echoes nothing of our sends but statuses carrying the key we attached
            # (biz_opaque_callback_data): as good as an echo for a send whose answer was lost.
            await store.record_echo(
                brand=event.brand,
                platform=event.platform,
                platform_message_id=event.platform_message_ids[0],
                delivery_key=event.delivery_key,
                recipient=event.recipient_platform_user_id,
                text_sha="",
                seen_at=event.reported_at or event.occurred_at,
            )
        parts = await store.sent_replies(
            brand=event.brand,
            platform=event.platform,
            ids=event.platform_message_ids,
            reply_ids=[reply_id] if reply_id else [],
            recipient=event.recipient_platform_user_id,
            watermark=event.watermark,
        )
        changes = apply_receipt(event, parts, now=self.clock.now())
        for message_id, status in changes.updates:
            await store.set_status(event.platform, message_id, status)
        for outcome in changes.events:
            uow.emit(outcome)

    async def on_channel_health_changed(self, event: ChannelHealthChanged, uow: UnitOfWork) -> None:
        """ingest found an account that stopped (or works again): the brand is warned in Slack."""
        await self._owe(uow, event, domain.channel_health(event, self.config))

    async def _owe(self, uow: UnitOfWork, event: Event, notification: domain.Notification) -> None:
        await DeliveryStore(uow).enqueue(event, notification, now=self.clock.now())
