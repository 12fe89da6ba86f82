"""A message of our account coming back through a webhook (``OwnMessageSeen``): the echo of
a reply the desk sent, or a reply a person typed in the platform's own inbox, which stops
the clocks a desk reply stops (decision 0305)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from socialdesk_assigner.domain.inbox import answered_in_inbox, counted, echo_of
from socialdesk_assigner.store import DeskStore, ReadModelStore, TicketStore
from socialdesk_assigner.store.readmodel import INBOX
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.db import UnitOfWork
from socialdesk_schemas.platforms import OwnMessageSeen

__all__ = ["on_own_message"]

_INBOX_NS = uuid.UUID("0f3c5bb8-9d7e-4a57-8f0e-7b8f2a1d6c44")


async def on_own_message(event: OwnMessageSeen, uow: UnitOfWork, *, clock: Clock) -> None:
    """A message of our account came back through a webhook: the echo of a reply the desk
    sent marks that reply sent; one a person typed in the platform's own inbox is the
    brand's reply on the ticket, which stops the clocks a desk reply stops (decision 0305)."""
    at = event.sent_at or event.occurred_at
    read = ReadModelStore(uow)
    if not event.typed_in_platform_inbox:
        reply_id = _uuid_or_none(event.delivery_key)
        if reply_id is not None:
            await read.reply_status([sent(reply_id, at, event.platform_message_id)])
        return
    mine = echo_of(
        await read.replies_an_echo_may_be(event.ticket_id, event.platform_message_id),
        platform_message_id=event.platform_message_id,
        text=event.text,
        at=at,
    )
    if mine is not None:  # ours coming back: marked sent, never shown (or counted) twice
        await read.reply_status([sent(mine.reply_id, at, event.platform_message_id)])
        return
    store = TicketStore(uow)
    ticket = await store.ticket(event.ticket_id, lock=True)
    # A ticket not routed yet (its classification lags) counts it when it is (routing).
    step = (
        None
        if ticket is None
        else answered_in_inbox(
            ticket,
            platform=event.platform,
            platform_message_id=event.platform_message_id,
            at=at,
            now=clock.now(),
            cause=event,
        )
    )
    filed = await read.add_message(
        {
            "message_id": uuid.uuid5(_INBOX_NS, f"{event.ticket_id}:{event.platform_message_id}"),
            "ticket_id": event.ticket_id,
            "direction": INBOX,
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
            # counted now, or by the routing (re)opening its ticket, once (0305 addendum)
            "counted_at": clock.now() if step is not None and counted(step) else None,
        }
    )
    if not filed:
        return  # read before (a replay, a second webhook of it): it counted then
    if ticket is not None and step is not None:
        if step.ticket != ticket:
            await store.save([step.ticket])
        for emitted in step.events:
            uow.emit(emitted)
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


def sent(reply_id: uuid.UUID, at: datetime, platform_message_id: str) -> dict[str, Any]:
    """A reply's row for ``reply_status``: sent at ``at`` as ``platform_message_id``."""
    return {
        "b_reply_id": reply_id,
        "b_status": "sent",
        "b_at": at,
        "b_pmid": platform_message_id,
        "b_reason": None,
    }


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
