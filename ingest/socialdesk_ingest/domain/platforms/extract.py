"""From parsed items to what ingest does with them: a plan per batch of deliveries.

:func:`plan` resolves each item's brand from its account id and sorts the items into
customer messages (threaded into tickets by the intake's handler), own messages, delivery
facts and changes (published as facts, never a ticket), and counted reasons for the rest
(unknown account, dashboard test, reaction, item missing fields...). Pure: the handler
loads what the plan needs, and the fact builders here turn stored rows into events.
"""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from socialdesk_ingest.domain.incoming import IncomingAuthor, IncomingMessage
from socialdesk_ingest.domain.platforms.accounts import AccountIndex
from socialdesk_ingest.domain.platforms.items import (
    CustomerMessage,
    DeliveryFact,
    Ignored,
    Item,
    MessageChanged,
    OwnMessage,
    Skipped,
)
from socialdesk_schemas import Platform
from socialdesk_schemas.platforms import OwnMessageSeen, PlatformDeliveryReported

__all__ = [
    "OWN_FACT",
    "BrandFact",
    "Plan",
    "delivery_reported",
    "fact_key",
    "own_message_seen",
    "plan",
    "reason_label",
    "recipient_ticket",
]

PRODUCER = "ingest"
_TICKETS = uuid.UUID("6f1c3a52-9a0e-4c51-8a47-3c1f0f0d2b71")

#: Bounded label values for the "not ticketed" metric; anything else counts as ``other``.
_REASONS = frozenset(
    {
        "unknown_account",
        "dashboard_test",
        "unknown_object",
        "unknown_field",
        "unknown_event",
        "no_events",
        "reaction",
        "favorite",
        "follow",
        "block",
        "mute",
        "typing",
        "user_event",
        "retweet",
        "blocked_author",
        "own_post",
        "own_mention",
        "mention_in_own_feed",
        "own_read",
        "system",
        "missing_field",
        "malformed_item",
        "not_an_object",
        "entry_not_a_list",
        "entry_not_an_object",
        "change_of_unknown_message",
        "duplicate",
    }
)


def reason_label(reason: str) -> str:
    """A reason as a metric label: its kind without the platform's free text."""
    head = reason.split(":", 1)[0]
    return head if head in _REASONS else "other"


@dataclass(frozen=True, slots=True)
class BrandFact:
    """An item that is not a customer message, with the brand it belongs to."""

    brand: str
    item: OwnMessage | DeliveryFact | MessageChanged


@dataclass(slots=True)
class Plan:
    """What a batch of deliveries asks for, in delivery order within each list."""

    customer: list[IncomingMessage] = field(default_factory=list)
    enrich: list[IncomingMessage] = field(default_factory=list)
    """Customer messages that arrived with ids only (ticketed anyway, enriched later)."""
    facts: list[BrandFact] = field(default_factory=list)
    not_ticketed: list[tuple[str, str]] = field(default_factory=list)
    """(platform, reason label) of every item that creates nothing."""


def plan(items: Iterable[Item], accounts: AccountIndex) -> Plan:
    out = Plan()
    for item in items:
        if isinstance(item, Ignored | Skipped):
            out.not_ticketed.append((item.platform, reason_label(item.reason)))
            continue
        brand = accounts.brand(item.platform, item.account_id)
        if brand is None:
            out.not_ticketed.append((item.platform, "unknown_account"))
            continue
        if isinstance(item, OwnMessage) and item.platform == "x" and item.app_id in accounts.own_x_apps:
            # Sent through our own X app: the echo of a socialdesk reply.
            item = dataclasses.replace(item, typed_in_platform_inbox=False)
        if isinstance(item, CustomerMessage):
            msg = incoming(item, brand)
            out.customer.append(msg)
            if item.needs_enrichment:
                out.enrich.append(msg)
        else:
            out.facts.append(BrandFact(brand, item))
    return out


def incoming(item: CustomerMessage, brand: str) -> IncomingMessage:
    a = item.author
    return IncomingMessage(
        brand=brand,
        platform=item.platform,
        kind=item.kind,
        platform_message_id=item.platform_message_id,
        # A WhatsApp user id is their phone number (what the same-phone rule links by), unless
        # it is a business-scoped id (a user who withheld their number: letters and dots).
        author=IncomingAuthor(
            a.platform_user_id,
            a.handle,
            a.display_name,
            a.followers,
            phone=a.platform_user_id
            if item.platform == "whatsapp" and a.platform_user_id.isdigit()
            else None,
            alias=a.alias,
        ),
        text=item.text,
        sent_at=item.sent_at,
        in_reply_to=item.in_reply_to,
        thread_root=item.thread_root,
        attachments=tuple((att.type, att.id, att.url) for att in item.attachments),
        in_reply_to_author=item.in_reply_to_author,
    )


#: The fact key prefix of one of our own messages (what a reply to it is looked up by).
OWN_FACT = "own:"


def fact_key(fact: BrandFact) -> str:
    """The identity of a fact: a second delivery of it changes nothing.

    Keys after api-notes §4: ``mid`` for own messages; message id + status for receipts
    (a watermark receipt by recipient + watermark); id + change + new text for an edit.
    """
    item = fact.item
    if isinstance(item, OwnMessage):
        return f"{OWN_FACT}{item.platform_message_id}"
    if isinstance(item, DeliveryFact):
        ids = ",".join(item.platform_message_ids)
        if not ids:
            mark = item.watermark.isoformat() if item.watermark else ""
            ids = f"wm:{item.recipient_id}:{mark}"
        return _bounded(f"{item.status}:{ids}")
    text = item.text or ""
    return _bounded(f"{item.change}:{item.platform_message_id}:{text}")


def _bounded(key: str) -> str:
    if len(key) <= 500:
        return key
    return key[:400] + "#" + hashlib.sha256(key.encode()).hexdigest()


def recipient_ticket(brand: str, platform: Platform, recipient: str | None) -> uuid.UUID:
    """The ticket id for a fact about a recipient with no known conversation: stable."""
    return uuid.uuid5(_TICKETS, f"{brand}/{platform}/{recipient or ''}")


def own_message_seen(
    fact: BrandFact, item: OwnMessage, *, ticket_id: uuid.UUID, now: datetime
) -> OwnMessageSeen:
    return OwnMessageSeen(
        producer=PRODUCER,
        occurred_at=now,
        ticket_id=ticket_id,
        correlation_id=ticket_id,
        brand=fact.brand,
        platform=item.platform,
        kind=item.kind,
        platform_message_id=item.platform_message_id,
        recipient_platform_user_id=item.recipient_id,
        text=item.text,
        sent_at=item.sent_at,
        delivery_key=item.metadata,
        typed_in_platform_inbox=item.typed_in_platform_inbox,
    )


def delivery_reported(
    fact: BrandFact, item: DeliveryFact, *, ticket_id: uuid.UUID, now: datetime
) -> PlatformDeliveryReported:
    return PlatformDeliveryReported(
        producer=PRODUCER,
        occurred_at=now,
        ticket_id=ticket_id,
        correlation_id=ticket_id,
        brand=fact.brand,
        platform=item.platform,
        status=item.status,
        platform_message_ids=list(item.platform_message_ids),
        watermark=item.watermark,
        recipient_platform_user_id=item.recipient_id,
        reported_at=item.at,
        error_code=item.error_code,
        error_title=item.error_title,
        delivery_key=item.callback_data,
    )
