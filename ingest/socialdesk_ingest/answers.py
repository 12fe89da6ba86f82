"""Our public replies and the answers to them, at extraction (decisions 0202, 0203, 0204).

- :func:`our_replies`: our public replies in a batch, each with the message it answers;
- :func:`answered_tickets`: the ticket each of our replies is filed on, the one of the
  message it answers (the ticket that stored it), never its conversation's current one;
- :func:`parent_threads`: the threads customer replies join, including replies to one of
  our own replies in the same batch.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

from socialdesk_ingest.domain import IncomingMessage
from socialdesk_ingest.domain.platforms import BrandFact, OwnMessage
from socialdesk_ingest.store.webhooks import OURS, WebhookStore

__all__ = ["Key", "answered_tickets", "our_replies", "parent_threads"]

Key = tuple[str, str, str]
"""(brand, platform, platform message id)."""


def our_replies(facts: Sequence[BrandFact]) -> dict[Key, str]:
    """Our public replies among ``facts``: (brand, platform, id) → the message each answers."""
    return {
        (f.brand, f.item.platform, f.item.platform_message_id): f.item.in_reply_to
        for f in facts
        if isinstance(f.item, OwnMessage) and f.item.kind != "dm" and f.item.in_reply_to
    }


async def answered_tickets(facts: Sequence[BrandFact], hooks: WebhookStore) -> dict[Key, uuid.UUID]:
    """Our public replies (X, Facebook and Instagram comments), by (brand, platform, id) →
    the ticket of the message they answer: the ticket that stored a customer's message, or
    the one our own earlier reply was filed on (also earlier in this batch). One answering
    no message we know is left out (the caller's fallback).

    The desk settles the echo of a reply it sent (same id or words) instead of showing it
    twice, so a comment typed in Meta, which the webhook cannot tell apart, joins too (0204).
    """
    answers = our_replies(facts)
    if not answers:
        return {}
    tickets = await hooks.tickets_of_messages({(b, p, parent) for (b, p, _), parent in answers.items()})
    out: dict[Key, uuid.UUID] = {}
    for (brand, platform, reply), parent in answers.items():  # in delivery order
        ticket = tickets.get((brand, platform, parent)) or out.get((brand, platform, parent))
        if ticket is not None:
            out[(brand, platform, reply)] = ticket
    return out


async def parent_threads(
    fresh: Collection[IncomingMessage], ours: dict[Key, str], hooks: WebhookStore
) -> dict[Key, str]:
    """The messages the public replies among ``fresh`` answer, (brand, platform, id) → the
    thread key of their conversation (:meth:`WebhookStore.threads_of`), or :data:`OURS` for
    one of our own messages in no conversation.

    ``ours``: our public replies in the same batch (not recorded yet), each → the message it
    answers. One answering a message of the batch is left out (the caller threads it after
    that message); one answering nothing we know is an announcement (:data:`OURS`), as it is
    once recorded: people answering it are a conversation each, in one batch as in several
    (decision 0203)."""
    asked = {(m.brand, m.platform, m.in_reply_to) for m in fresh if m.kind != "dm" and m.in_reply_to}
    parents = await hooks.threads_of({(b, p, ours.get((b, p, i), i)) for b, p, i in asked})
    batch = {m.key for m in fresh}
    for key in asked & ours.keys():
        if key in parents:
            continue
        up = (key[0], key[1], ours[key])
        if up in parents:
            parents[key] = parents[up]
        elif up not in batch:
            parents[key] = OURS
    return parents
