"""The intake's decisions for a batch of offered messages.

Who may offer (:func:`api_key_matches`), which messages to store (:func:`first_copies`:
platforms retry and resend), the customers' profiles (:func:`latest_profiles`), the event
to publish for each stored one (:func:`message_received`) and the answer for each offered
one (:func:`outcomes`).
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from socialdesk_ingest.domain.conversations import Placement
from socialdesk_ingest.domain.incoming import CustomerKey, IncomingAuthor, IncomingMessage, MessageKey
from socialdesk_schemas import Attachment, Author, MessageReceived

__all__ = [
    "Accepted",
    "StoredMessage",
    "api_key_matches",
    "author_of",
    "first_copies",
    "latest_profiles",
    "message_received",
    "outcomes",
]

PRODUCER = "ingest"


def api_key_matches(offered: str, keys: Iterable[str]) -> bool:
    """Whether ``offered`` is one of ``keys``, compared in constant time against every key."""
    if not offered:
        return False
    # No early exit on the first match: the time taken does not tell which key matched.
    return sum(hmac.compare_digest(offered.encode(), k.encode()) for k in keys) > 0


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A message already stored: what a resend of it is answered with."""

    message_id: uuid.UUID
    ticket_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class Accepted:
    """The answer for one offered message."""

    message_id: uuid.UUID
    ticket_id: uuid.UUID
    duplicate: bool
    opens_ticket: bool


def first_copies(messages: Sequence[IncomingMessage], stored: Collection[MessageKey]) -> list[int]:
    """Positions of the messages to store: not stored before, and first of their copies here."""
    seen: set[MessageKey] = set()
    fresh: list[int] = []
    for i, msg in enumerate(messages):
        key = msg.key
        if key not in stored and key not in seen:
            seen.add(key)
            fresh.append(i)
    return fresh


def latest_profiles(messages: Iterable[IncomingMessage]) -> dict[CustomerKey, IncomingAuthor]:
    """Each customer's profile as the batch last showed it (the newest profile wins)."""
    return {m.customer_key: m.author for m in messages}


def message_received(msg: IncomingMessage, placement: Placement, *, now: datetime) -> MessageReceived:
    """The event for a stored message (``opens_ticket`` on the first of its ticket)."""
    return MessageReceived(
        producer=PRODUCER,
        occurred_at=now,
        ticket_id=placement.ticket_id,
        correlation_id=placement.message_id,
        message_id=placement.message_id,
        conversation_id=placement.conversation_id,
        customer_id=placement.customer_id,
        brand=msg.brand,
        platform=msg.platform,
        kind=msg.kind,
        platform_message_id=msg.platform_message_id,
        author=author_of(msg.author),
        text=msg.text,
        received_at=now,
        sent_at=msg.sent_at,
        opens_ticket=placement.opens_ticket,
        in_reply_to=msg.in_reply_to,
        attachments=[_attachment(*a) for a in msg.attachments[:20]],
    )


def author_of(author: IncomingAuthor) -> Author:
    """An author as the events name them."""
    return Author(
        platform_user_id=author.platform_user_id,
        handle=author.handle,
        display_name=author.display_name,
        followers=author.followers,
    )


def _attachment(kind: str, media_id: str | None, url: str | None) -> Attachment:
    """An attachment the event can carry: what does not fit is left out, never the message."""
    return Attachment(
        type=(kind or "file")[:40],
        id=media_id if media_id and len(media_id) <= 256 else None,
        url=url if url and len(url) <= 4096 else None,
    )


def outcomes(
    messages: Sequence[IncomingMessage],
    stored: Mapping[MessageKey, StoredMessage],
    placed: Mapping[MessageKey, Placement],
) -> list[Accepted]:
    """The answer for each offered message, in order.

    A message stored before, or a later copy of one placed in this batch, is a duplicate
    and answers with the stored message's ids.
    """
    answered: set[MessageKey] = set()
    out: list[Accepted] = []
    for m in messages:
        key = m.key
        if key in stored:
            s = stored[key]
            out.append(Accepted(s.message_id, s.ticket_id, duplicate=True, opens_ticket=False))
        else:
            p = placed[key]
            first = key not in answered
            answered.add(key)
            out.append(
                Accepted(
                    p.message_id, p.ticket_id, duplicate=not first, opens_ticket=first and p.opens_ticket
                )
            )
    return out
