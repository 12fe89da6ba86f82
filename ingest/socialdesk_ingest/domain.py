"""ingest's rules on plain data: an incoming message, its threading, and what to publish.

No I/O and no clock here: the caller passes ``now`` (and, in tests, an id source). A
source (the generic intake API today, the platforms' webhooks later) builds an
:class:`IncomingMessage`; the handler then asks, for a batch of them:

1. :func:`first_copies`: which to store (platforms retry and resend);
2. :func:`latest_profiles` and :func:`new_conversations`: the customers and the
   conversations the batch would create;
3. :func:`thread`: which conversation and ticket each message joins or opens;
4. :func:`message_received` and :func:`outcomes`: the event to publish and the answer
   to give for each message.

Usage::

    fresh = [batch[i] for i in first_copies(batch, stored)]
    threading = thread(fresh, conversations, opened, customer_ids, now=now, idle_seconds=86400)
    events = [message_received(m, p, now=now) for m, p in zip(fresh, threading.placements)]
"""

from __future__ import annotations

import dataclasses
import hmac
import re
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from socialdesk_schemas import Author, Kind, MessageReceived, Platform

__all__ = [
    "MAX_TEXT_CHARS",
    "Accepted",
    "Conversation",
    "ConversationKey",
    "CustomerKey",
    "IncomingAuthor",
    "IncomingMessage",
    "MessageKey",
    "Placement",
    "StoredMessage",
    "Threading",
    "api_key_matches",
    "clean_text",
    "first_copies",
    "is_idle",
    "latest_profiles",
    "message_received",
    "new_conversations",
    "outcomes",
    "thread",
    "thread_key",
]

PRODUCER = "ingest"
MAX_TEXT_CHARS = 64_000

MessageKey = tuple[str, str, str]
"""(brand, platform, platform_message_id): a message's identity; a second one is a resend."""
CustomerKey = tuple[str, str, str]
"""(brand, platform, platform_user_id): one customer as one platform knows them."""
ConversationKey = tuple[str, str, str]
"""(brand, platform, :func:`thread_key`): one conversation."""

NewId = Callable[[], uuid.UUID]

_SURROGATES = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: str) -> str:
    """Text as PostgreSQL and every consumer can hold it.

    Platforms send lone UTF-16 surrogates (a split emoji) and control characters; a NUL
    cannot be stored in PostgreSQL text at all. Replace rather than refuse: the customer's
    message must not be lost over one broken character.
    """
    value = _SURROGATES.sub("\ufffd", value)
    return _CONTROL.sub("", value)


def _clean(value: str | None) -> str | None:
    return None if value is None else clean_text(value)


@dataclass(frozen=True, slots=True)
class IncomingAuthor:
    """Who wrote an incoming message; text fields are cleaned on construction."""

    platform_user_id: str
    handle: str | None = None
    display_name: str | None = None
    followers: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "platform_user_id", clean_text(self.platform_user_id))
        object.__setattr__(self, "handle", _clean(self.handle))
        object.__setattr__(self, "display_name", _clean(self.display_name))


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """One customer message from any source, normalised on construction.

    The brand id is trimmed and lower-cased and every text field is :func:`clean_text`-ed,
    so a source's parser cannot forget to.
    """

    brand: str
    platform: Platform
    kind: Kind
    platform_message_id: str
    author: IncomingAuthor
    text: str
    sent_at: datetime | None = None
    in_reply_to: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "brand", self.brand.strip().lower())
        object.__setattr__(self, "platform_message_id", clean_text(self.platform_message_id))
        object.__setattr__(self, "text", clean_text(self.text))
        object.__setattr__(self, "in_reply_to", _clean(self.in_reply_to))

    @property
    def key(self) -> MessageKey:
        return (self.brand, self.platform, self.platform_message_id)

    @property
    def customer_key(self) -> CustomerKey:
        return (self.brand, self.platform, self.author.platform_user_id)

    @property
    def conversation_key(self) -> ConversationKey:
        return (self.brand, self.platform, thread_key(self))


def thread_key(msg: IncomingMessage) -> str:
    """Which conversation of its brand and platform a message belongs to.

    A DM thread is the customer's private channel with the brand account; public comments
    and mentions by one author are one public conversation. Replies to a post by different
    authors are different conversations: each author is a different customer to answer.
    """
    scope = "dm" if msg.kind == "dm" else "public"
    return f"{scope}:{msg.author.platform_user_id}"


def is_idle(last_message_at: datetime, now: datetime, idle_seconds: float) -> bool:
    """A conversation silent for longer than the idle limit opens a new ticket."""
    return (now - last_message_at).total_seconds() > idle_seconds


def api_key_matches(offered: str, keys: Iterable[str]) -> bool:
    """Whether ``offered`` is one of ``keys``, compared in constant time against every key."""
    if not offered:
        return False
    # No early exit on the first match: the time taken does not tell which key matched.
    return sum(hmac.compare_digest(offered.encode(), k.encode()) for k in keys) > 0


# --- duplicates ---------------------------------------------------------------------------


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


# --- threading ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Conversation:
    """A conversation and the ticket its next message joins (unless it has gone idle)."""

    key: ConversationKey
    id: uuid.UUID
    customer_id: uuid.UUID
    ticket_id: uuid.UUID
    ticket_opened_at: datetime
    last_message_at: datetime


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a fresh message goes: its new id, its conversation, ticket and customer."""

    message_id: uuid.UUID
    conversation_id: uuid.UUID
    ticket_id: uuid.UUID
    customer_id: uuid.UUID
    opens_ticket: bool


@dataclass(frozen=True, slots=True)
class Threading:
    placements: list[Placement]
    """One per message, in order."""
    changed: list[Conversation]
    """Conversations whose state differs from what was given (to save)."""


def latest_profiles(messages: Iterable[IncomingMessage]) -> dict[CustomerKey, IncomingAuthor]:
    """Each customer's profile as the batch last showed it (the newest profile wins)."""
    return {m.customer_key: m.author for m in messages}


def new_conversations(
    messages: Iterable[IncomingMessage],
    customer_ids: Mapping[CustomerKey, uuid.UUID],
    *,
    now: datetime,
    new_id: NewId = uuid.uuid4,
) -> dict[ConversationKey, Conversation]:
    """The conversation each thread opens if it has none yet, with its first ticket."""
    out: dict[ConversationKey, Conversation] = {}
    for m in messages:
        key = m.conversation_key
        if key not in out:
            out[key] = Conversation(
                key=key,
                id=new_id(),
                customer_id=customer_ids[m.customer_key],
                ticket_id=new_id(),
                ticket_opened_at=now,
                last_message_at=now,
            )
    return out


def thread(
    messages: Sequence[IncomingMessage],
    conversations: Mapping[ConversationKey, Conversation],
    opened: Collection[ConversationKey],
    customer_ids: Mapping[CustomerKey, uuid.UUID],
    *,
    now: datetime,
    idle_seconds: float,
    new_id: NewId = uuid.uuid4,
) -> Threading:
    """Place each message in its conversation, in order.

    ``conversations`` holds every message's conversation; ``opened`` names those that
    this batch created. The first message of a created conversation opens its ticket; a
    message to a conversation idle for longer than ``idle_seconds`` opens a new ticket
    there; any other message joins the conversation's current ticket.
    """
    state = dict(conversations)
    first_of_new = set(opened)
    placements: list[Placement] = []
    for m in messages:
        key = m.conversation_key
        conv = state[key]
        if key in first_of_new:
            first_of_new.discard(key)
            opens = True
        elif is_idle(conv.last_message_at, now, idle_seconds):
            conv = dataclasses.replace(conv, ticket_id=new_id(), ticket_opened_at=now)
            opens = True
        else:
            opens = False
        state[key] = conv = dataclasses.replace(conv, last_message_at=now)
        placements.append(
            Placement(
                message_id=new_id(),
                conversation_id=conv.id,
                ticket_id=conv.ticket_id,
                customer_id=customer_ids[m.customer_key],
                opens_ticket=opens,
            )
        )
    changed = [c for key, c in state.items() if c != conversations[key]]
    return Threading(placements, changed)


# --- what to publish and answer -----------------------------------------------------------


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
        author=Author(
            platform_user_id=msg.author.platform_user_id,
            handle=msg.author.handle,
            display_name=msg.author.display_name,
            followers=msg.author.followers,
        ),
        text=msg.text,
        received_at=now,
        sent_at=msg.sent_at,
        opens_ticket=placement.opens_ticket,
        in_reply_to=msg.in_reply_to,
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
