"""Threading: which conversation a message belongs to, and which ticket it joins or opens."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from socialdesk_ingest.domain.incoming import CustomerKey, IncomingMessage

__all__ = [
    "Conversation",
    "ConversationKey",
    "LinkedTicket",
    "NewId",
    "Placement",
    "Threading",
    "conversation_key",
    "is_idle",
    "new_conversations",
    "per_author_root",
    "thread",
    "thread_key",
]

ConversationKey = tuple[str, str, str]
"""(brand, platform, :func:`thread_key`): one conversation."""

NewId = Callable[[], uuid.UUID]


def thread_key(msg: IncomingMessage) -> str:
    """Which conversation of its brand and platform a message belongs to.

    A DM thread is the customer's private channel with the brand account; public comments
    and mentions by one author are one public conversation. Replies to a post by different
    authors are different conversations: each author is a different customer to answer.
    A platform's public thread (a new top-level comment, or a reply in it) is one
    conversation: the top-level comment opens a ticket and its replies join it.
    """
    if msg.kind == "dm":
        return f"dm:{msg.author.platform_user_id}"
    if msg.thread_root:
        # A comment thread or a reply chain: one ticket for the thread, whoever writes.
        return f"thread:{msg.thread_root}"
    return f"public:{msg.author.platform_user_id}"


def per_author_root(msg: IncomingMessage) -> str:
    """The thread of one author's answers under a message that is no customer's we know:
    two customers answering our announcement are two conversations, not one."""
    return f"{msg.in_reply_to}~{msg.author.platform_user_id}"


def conversation_key(msg: IncomingMessage) -> ConversationKey:
    return (msg.brand, msg.platform, thread_key(msg))


def is_idle(last_message_at: datetime, now: datetime, idle_seconds: float) -> bool:
    """A conversation silent for longer than the idle limit opens a new ticket."""
    return (now - last_message_at).total_seconds() > idle_seconds


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
class LinkedTicket:
    """The open ticket of a customer linked to the author (same profile, another channel)."""

    ticket_id: uuid.UUID
    ticket_opened_at: datetime


@dataclass(frozen=True, slots=True)
class Threading:
    placements: list[Placement]
    """One per message, in order."""
    changed: list[Conversation]
    """Conversations whose state differs from what was given (to save)."""


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
        key = conversation_key(m)
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
    linked: Mapping[uuid.UUID, LinkedTicket] | None = None,
) -> Threading:
    """Place each message in its conversation, in order.

    ``conversations`` holds every message's conversation; ``opened`` names those that
    this batch created. The first message of a created conversation opens its ticket; a
    message to a conversation idle for longer than ``idle_seconds`` opens a new ticket
    there; any other message joins the conversation's current ticket. A message that
    would open a ticket joins instead the open ticket of a customer linked to its author
    (``linked``, by customer id: one customer across channels, seed 004).
    """
    state = dict(conversations)
    first_of_new = set(opened)
    placements: list[Placement] = []
    for m in messages:
        key = conversation_key(m)
        conv = state[key]
        if key in first_of_new:
            first_of_new.discard(key)
            opens = True
        elif is_idle(conv.last_message_at, now, idle_seconds):
            conv = dataclasses.replace(conv, ticket_id=new_id(), ticket_opened_at=now)
            opens = True
        else:
            opens = False
        link = (linked or {}).get(customer_ids[m.customer_key]) if opens else None
        if link is not None:
            conv = dataclasses.replace(conv, ticket_id=link.ticket_id, ticket_opened_at=link.ticket_opened_at)
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
