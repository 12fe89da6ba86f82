"""Extracting stored webhook deliveries: parse, plan, thread, store, emit (one transaction).

The webhook routes only verify and store the raw body (decision 0201); this handler,
driven by :class:`~socialdesk_ingest.extraction_worker.ExtractionWorker`, turns a batch
of stored deliveries into messages and facts, exactly once:

- customer messages go through the intake's own threading (:func:`place_messages`),
  deduplicated against every message already stored, whatever delivery brought it;
- own messages, receipts, statuses, edits and deletions are published as facts, each
  once (``platform_facts`` remembers their keys), keyed by the ticket of their
  conversation (or a stable id for a recipient we have no conversation with);
- everything else is counted by reason and creates nothing.
"""

from __future__ import annotations

import dataclasses
import json
import re
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from socialdesk_ingest import domain
from socialdesk_ingest.answers import Key, answered_tickets, our_replies, parent_threads
from socialdesk_ingest.domain import IncomingMessage, MessageKey
from socialdesk_ingest.domain.platforms import (
    AccountIndex,
    BrandFact,
    DeliveryFact,
    MessageChanged,
    OwnMessage,
    Parsed,
    delivery_reported,
    fact_key,
    own_message_seen,
    parse_meta,
    parse_x,
    plan,
    recipient_ticket,
)
from socialdesk_ingest.domain.platforms.enrichment import Enrichment, as_own, by_own_account, enriched
from socialdesk_ingest.handlers import Linking, place_messages
from socialdesk_ingest.store import IngestStore
from socialdesk_ingest.store.webhooks import OURS, PendingDelivery, StoredChange, WebhookStore
from socialdesk_runtime.db import UnitOfWork
from socialdesk_schemas.platforms import MessageDeleted, MessageEdited

__all__ = ["Enricher", "Extracted", "extract_deliveries", "no_enrichment", "parse_delivery"]

Enricher = Callable[[list[IncomingMessage]], Awaitable[dict[MessageKey, Enrichment]]]


async def no_enrichment(_: list[IncomingMessage]) -> dict[MessageKey, Enrichment]:
    return {}


PRODUCER = "ingest"


@dataclass(slots=True)
class Extracted:
    """What one batch produced, for the metrics (counted once committed)."""

    messages: int = 0
    duplicates: int = 0
    facts: Counter[str] = field(default_factory=Counter)
    not_ticketed: Counter[tuple[str, str]] = field(default_factory=Counter)
    whatsapp_failed: Counter[str] = field(default_factory=Counter)
    to_enrich: list[IncomingMessage] = field(default_factory=list)


#: A JSON escape of a UTF-16 surrogate or a control character (what ``cleaned`` removes).
_SUSPECT = re.compile(rb"\\u(?:[dD][89a-fA-F]|00[01]|007[fF])")


def parse_delivery(source: str, body: bytes) -> Parsed:
    """The items of one stored delivery (its body was checked to be JSON at intake). A body
    with half an emoji or a control character escaped in it is cleaned whole first."""
    data = json.loads(body)
    if _SUSPECT.search(body):
        data = domain.cleaned(data)
    return parse_x(data) if source in ("x", "x_poll") else parse_meta(data)  # meta, meta_poll


async def extract_deliveries(
    deliveries: Sequence[PendingDelivery],
    uow: UnitOfWork,
    *,
    accounts: AccountIndex,
    now: datetime,
    idle_seconds: float,
    enricher: Enricher = no_enrichment,
    linking: Linking | None = None,
) -> Extracted:
    """Extract deliveries in this unit of work and mark them extracted. The caller commits.

    ``enricher`` reads what id-only messages lack (author, text) before they are
    ticketed; it returns only what it found, and never raises."""
    out = Extracted()
    store, hooks = IngestStore(uow), WebhookStore(uow)
    customer: list[tuple[IncomingMessage, int]] = []
    facts: list[BrandFact] = []
    enrich: list[IncomingMessage] = []
    for delivery in deliveries:
        p = plan(parse_delivery(delivery.source, delivery.body).items, accounts)
        customer.extend((m, delivery.id) for m in p.customer)
        facts.extend(p.facts)
        enrich.extend(p.enrich)
        out.not_ticketed.update(p.not_ticketed)

    facts += await _messages(
        customer,
        enrich,
        enricher,
        store,
        hooks,
        uow,
        out,
        now=now,
        idle_seconds=idle_seconds,
        linking=linking,
        ours=our_replies(facts),
        accounts=accounts,
    )
    await _facts(facts, hooks, uow, out, now=now)
    await hooks.mark_extracted([d.id for d in deliveries], at=now)
    return out


async def _messages(
    customer: list[tuple[IncomingMessage, int]],
    enrich: list[IncomingMessage],
    enricher: Enricher,
    store: IngestStore,
    hooks: WebhookStore,
    uow: UnitOfWork,
    out: Extracted,
    *,
    now: datetime,
    idle_seconds: float,
    linking: Linking | None,
    ours: dict[Key, str],
    accounts: AccountIndex,
) -> list[BrandFact]:
    """``ours``: our public replies in the same batch, (brand, platform, id) → the message
    each answers; an answer to one of them is threaded like an answer to that message (the
    replies' facts are recorded after the customer messages). Returns the messages a read
    showed to be our own (facts, like our replies)."""
    if not customer:
        return []
    batch = [m for m, _ in customer]
    stored = await store.stored_messages({m.key for m in batch})
    fresh_at = domain.first_copies(batch, stored)
    out.duplicates += len(batch) - len(fresh_at)
    if not fresh_at:
        return []
    fresh = await _known_by(hooks, [customer[i] for i in fresh_at], now=now)
    # A reply joins the thread of the message it answers when that one is stored ...
    parents = await parent_threads([m for m, _ in fresh], ours, hooks)
    # ... or in this batch, earlier (a reply to a reply, or to our reply to it, arriving together).
    roots: dict[Key, str] = {
        k: t.removeprefix("thread:") for k, t in parents.items() if t.startswith("thread:")
    }
    joined: list[tuple[IncomingMessage, int]] = []
    for m, raw_id in fresh:
        asked = (m.brand, m.platform, m.in_reply_to or "")
        root = (
            roots.get(asked) or roots.get((m.brand, m.platform, ours.get(asked, "")))
            if m.kind != "dm"
            else None
        )
        if root is not None:
            m = dataclasses.replace(m, thread_root=root)
        elif (
            m.kind != "dm"
            and m.in_reply_to
            and m.thread_root == m.in_reply_to
            and (
                parents.get((m.brand, m.platform, m.in_reply_to)) == OURS
                or (m.platform == "x" and m.in_reply_to_author != m.author.platform_user_id)
            )
        ):
            # An answer to one of our own messages in no conversation (an announcement), or
            # on X to someone else's tweet we do not know: each author is their own
            # conversation under it. A reply to one's own tweet, and on Facebook and
            # Instagram an unknown parent (most likely a customer's comment not seen yet:
            # webhooks are not ordered), keep the parent's thread.
            m = dataclasses.replace(m, thread_root=domain.per_author_root(m))
        if m.thread_root:
            roots[(m.brand, m.platform, m.platform_message_id)] = m.thread_root
        joined.append((m, raw_id))
    wanted = {e.key for e in enrich}
    found = await enricher([m for m, _ in joined if m.key in wanted]) if wanted else {}
    # Delivered without its author and read as written by our own account: ours (decision 0204).
    own = {
        m.key: m
        for m, _ in joined
        if by_own_account(found.get(m.key), accounts.accounts_of(m.brand, m.platform))
    }
    joined = [
        (enriched(m, found[m.key]) if m.key in found else m, raw_id)
        for m, raw_id in joined
        if m.key not in own
    ]
    facts = _own_facts(own.values(), found, out)
    # What could not be read now is ticketed with what is known and read again later.
    to_enrich = [m for m, _ in joined if m.key in wanted and m.key not in found]
    if not joined:
        return facts
    await place_messages(
        [m for m, _ in joined],
        [raw_id for _, raw_id in joined],
        uow,
        now=now,
        idle_seconds=idle_seconds,
        enrich=to_enrich,
        linking=linking,
    )
    out.messages += len(joined)
    out.to_enrich.extend(to_enrich)
    return facts


def _own_facts(
    msgs: Iterable[IncomingMessage], found: dict[MessageKey, Enrichment], out: Extracted
) -> list[BrandFact]:
    """Messages a read showed to be our own, as the webhook would have said had it named us:
    our comment answering a message (a fact, filed on that message's ticket), or our own
    post or mention (counted, not ticketed)."""
    facts: list[BrandFact] = []
    for m in msgs:
        author = found[m.key].author
        assert author is not None  # by_own_account
        item = as_own(m, found[m.key], author.platform_user_id)
        if isinstance(item, OwnMessage):
            facts.append(BrandFact(m.brand, item))
        else:
            out.not_ticketed[(item.platform, item.reason)] += 1
    return facts


def _hidden(platform: str, user_id: str | None) -> bool:
    """A WhatsApp user named by their business-scoped id, not a phone number."""
    return platform == "whatsapp" and bool(user_id) and not (user_id or "").isdigit()


async def _known_by(
    hooks: WebhookStore, msgs: list[tuple[IncomingMessage, int]], *, now: datetime
) -> list[tuple[IncomingMessage, int]]:
    """Messages with their authors named as they are known: a WhatsApp user who once wrote
    with their phone and business-scoped id, and now hides the phone, is still that phone's
    customer (decision 0203). Remembers the aliases the batch shows."""
    seen = {
        (m.brand, m.platform, m.author.alias): m.author.platform_user_id for m, _ in msgs if m.author.alias
    }
    await hooks.remember_aliases([(b, p, a, u) for (b, p, a), u in seen.items()], at=now)
    hidden = {
        (m.brand, m.platform, m.author.platform_user_id)
        for m, _ in msgs
        if _hidden(m.platform, m.author.platform_user_id)
    }
    known: dict[tuple[str, str, str], str] = await hooks.known_as(hidden)
    known.update((k, v) for k, v in seen.items() if k in hidden)
    out = []
    for m, raw_id in msgs:
        user = known.get((m.brand, m.platform, m.author.platform_user_id))
        if user is not None:
            author = dataclasses.replace(
                m.author, platform_user_id=user, alias=m.author.platform_user_id, phone=user
            )
            m = dataclasses.replace(m, author=author)
        out.append((m, raw_id))
    return out


def _dm_thread(fact: BrandFact, recipient: str | None) -> tuple[str, str, str]:
    return (fact.brand, fact.item.platform, f"dm:{recipient or ''}")


@dataclass(frozen=True, slots=True)
class _Keyed:
    fact: BrandFact
    key: str
    ticket_id: uuid.UUID
    change: StoredChange | None = None

    @property
    def ident(self) -> tuple[str, str, str]:
        return (self.fact.brand, self.fact.item.platform, self.key)


async def _facts(
    facts: list[BrandFact], hooks: WebhookStore, uow: UnitOfWork, out: Extracted, *, now: datetime
) -> None:
    if not facts:
        return
    # A receipt or echo naming a WhatsApp user by their business-scoped id: the user they are known as.
    known = await hooks.known_as(
        {
            (f.brand, f.item.platform, f.item.recipient_id or "")
            for f in facts
            if not isinstance(f.item, MessageChanged) and _hidden(f.item.platform, f.item.recipient_id)
        }
    )

    def recipient(f: BrandFact) -> str | None:
        assert not isinstance(f.item, MessageChanged)
        return known.get((f.brand, f.item.platform, f.item.recipient_id or ""), f.item.recipient_id)

    tickets = await hooks.tickets_of(
        {_dm_thread(f, recipient(f)) for f in facts if not isinstance(f.item, MessageChanged)}
    )
    answered = await answered_tickets(facts, hooks)
    keyed: list[_Keyed] = []
    for f in facts:
        item = f.item
        if isinstance(item, MessageChanged):
            # An edit or deletion belongs to the ticket of the message it changes.
            changed = await hooks.change_message(
                f.brand,
                item.platform,
                item.platform_message_id,
                text=item.text,
                at=item.at or now,
                deleted=item.change == "deleted",
            )
            if changed is None:
                out.not_ticketed[(item.platform, "change_of_unknown_message")] += 1
            else:
                keyed.append(_Keyed(f, fact_key(f), changed.ticket_id, changed))
            continue
        ticket = (
            (
                answered.get((f.brand, item.platform, item.platform_message_id))
                if isinstance(item, OwnMessage)
                else None
            )
            or tickets.get(_dm_thread(f, recipient(f)))
            or recipient_ticket(f.brand, item.platform, recipient(f))
        )
        keyed.append(_Keyed(f, fact_key(f), ticket))
    new = await hooks.record_facts(
        [(k.fact.brand, k.fact.item.platform, k.key, k.ticket_id) for k in keyed], seen_at=now
    )
    emitted: set[tuple[str, str, str]] = set()
    for k in keyed:
        if k.ident not in new or k.ident in emitted:
            out.not_ticketed[(k.fact.item.platform, "duplicate")] += 1
            continue
        emitted.add(k.ident)
        item = k.fact.item
        if isinstance(item, OwnMessage):
            uow.emit(own_message_seen(k.fact, item, ticket_id=k.ticket_id, now=now))
            out.facts["own_message"] += 1
        elif isinstance(item, DeliveryFact):
            uow.emit(delivery_reported(k.fact, item, ticket_id=k.ticket_id, now=now))
            out.facts[f"receipt_{item.status}"] += 1
            if item.platform == "whatsapp" and item.status == "failed":
                out.whatsapp_failed[str(item.error_code or "none")] += 1
        elif k.change is not None:
            uow.emit(_change_event(k.fact.brand, item, k.change, now=now))
            out.facts[f"message_{item.change}"] += 1


def _change_event(
    brand: str, item: MessageChanged, changed: StoredChange, *, now: datetime
) -> MessageEdited | MessageDeleted:
    at = item.at or now
    if item.change == "deleted":
        return MessageDeleted(
            producer=PRODUCER,
            occurred_at=now,
            ticket_id=changed.ticket_id,
            correlation_id=changed.message_id,
            message_id=changed.message_id,
            brand=brand,
            platform=item.platform,
            platform_message_id=item.platform_message_id,
            deleted_at=at,
        )
    return MessageEdited(
        producer=PRODUCER,
        occurred_at=now,
        ticket_id=changed.ticket_id,
        correlation_id=changed.message_id,
        message_id=changed.message_id,
        brand=brand,
        platform=item.platform,
        platform_message_id=item.platform_message_id,
        text=item.text or "",
        edited_at=at,
    )
