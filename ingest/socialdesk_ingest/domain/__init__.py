"""ingest's rules on plain data: an incoming message, its threading, and what to publish.

No I/O and no clock here: the caller passes ``now`` (and, in tests, an id source).
A source (the generic intake API today, the platforms' webhooks next) builds an
:class:`IncomingMessage` (:mod:`.incoming`); for a batch of them the handler asks:

1. :func:`first_copies`: which to store (platforms retry and resend);
2. :func:`latest_profiles` and :func:`new_conversations`: the customers and the
   conversations the batch would create;
3. :func:`thread` (:mod:`.conversations`): which conversation and ticket each message joins
   or opens;
4. :func:`message_received` and :func:`outcomes` (:mod:`.intake`): the event to publish
   and the answer to give for each message.

Usage::

    fresh = [batch[i] for i in first_copies(batch, stored)]
    placed = thread(fresh, conversations, opened, customer_ids, now=now, idle_seconds=86400)
    events = [message_received(m, p, now=now) for m, p in zip(fresh, placed.placements)]
"""

from socialdesk_ingest.domain.conversations import (
    Conversation,
    ConversationKey,
    LinkedTicket,
    Placement,
    Threading,
    conversation_key,
    is_idle,
    new_conversations,
    per_author_root,
    thread,
    thread_key,
)
from socialdesk_ingest.domain.incoming import (
    MAX_TEXT_CHARS,
    CustomerKey,
    IncomingAuthor,
    IncomingMessage,
    MessageKey,
    clean_text,
    cleaned,
)
from socialdesk_ingest.domain.intake import (
    Accepted,
    StoredMessage,
    api_key_matches,
    author_of,
    first_copies,
    latest_profiles,
    message_received,
    outcomes,
)

__all__ = [
    "MAX_TEXT_CHARS",
    "Accepted",
    "Conversation",
    "ConversationKey",
    "CustomerKey",
    "IncomingAuthor",
    "IncomingMessage",
    "LinkedTicket",
    "MessageKey",
    "Placement",
    "StoredMessage",
    "Threading",
    "api_key_matches",
    "author_of",
    "clean_text",
    "cleaned",
    "conversation_key",
    "first_copies",
    "is_idle",
    "latest_profiles",
    "message_received",
    "new_conversations",
    "outcomes",
    "per_author_root",
    "thread",
    "thread_key",
]
