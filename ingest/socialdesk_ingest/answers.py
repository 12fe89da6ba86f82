"""Our public replies and the answers to them, at extraction (decisions 0202, 0203, 0204).

- :func:`our_replies`: our public replies in a batch, each with the message it answers;
- :func:`answered_tickets`: the ticket each of our replies is filed on, the one of the
  message it answers (the ticket that stored it), never its conversation's current one.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from socialdesk_ingest.domain.platforms import BrandFact, OwnMessage
from socialdesk_ingest.store.webhooks import WebhookStore

__all__ = ["Key", "answered_tickets", "our_replies"]

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
