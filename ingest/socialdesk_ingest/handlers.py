"""Accepting messages: load through the store, decide in the domain, save, emit.

ingest consumes no events; its one handler takes the messages offered at intake.
Written for a batch (the intake groups concurrent requests into one transaction, see
:mod:`socialdesk_ingest.batching`): a handful of statements per batch rather than per
message. A batch of one is the same code path.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

import stamina

from socialdesk_ingest import domain
from socialdesk_ingest.domain import Accepted, IncomingAuthor, IncomingMessage, Placement
from socialdesk_ingest.store import ConcurrentDuplicate, IngestStore
from socialdesk_ingest.store.customers import CustomerStore, same_phone_links
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_runtime.db import UnitOfWork, UnitOfWorkFactory
from socialdesk_runtime.errors import is_transient
from socialdesk_schemas.platforms import CustomerLinked

__all__ = [
    "Linking",
    "Offer",
    "accept_batch",
    "accept_offers",
    "identify_author",
    "link_customers",
    "place_messages",
    "store_deliveries",
]


@dataclass(frozen=True, slots=True)
class Linking:
    """One customer across channels: the window a linked customer's open ticket is joined
    within, and whether the same-phone rule links customers."""

    window_seconds: float
    same_phone: bool = True

    @classmethod
    def from_config(cls, config: SocialdeskConfig) -> Linking:
        return cls(config.platforms.link_window_seconds, config.platforms.link_same_phone)


@dataclass(frozen=True, slots=True)
class Offer:
    """One message offered at intake, with the bytes it arrived as (kept for audit)."""

    message: IncomingMessage
    raw_body: bytes
    source: str = "intake"


async def accept_batch(
    offers: list[Offer],
    uow: UnitOfWork,
    *,
    clock: Clock,
    idle_seconds: float,
    linking: Linking | None = None,
) -> list[Accepted]:
    """Store messages and emit their events; the answers in offer order. The caller commits.

    Duplicates (already stored, or twice in the batch) come back ``duplicate=True`` and
    emit nothing. Raises :class:`~socialdesk_ingest.store.ConcurrentDuplicate` if another
    transaction stored one of the messages meanwhile (the caller rolls back and retries).
    """
    store = IngestStore(uow)
    now = clock.now()
    offered = [o.message for o in offers]
    stored = await store.stored_messages({m.key for m in offered})
    fresh = [offers[i] for i in domain.first_copies(offered, stored)]
    if not fresh:
        return domain.outcomes(offered, stored, {})
    batch = [o.message for o in fresh]
    raw_ids = await store.add_raw_deliveries([(o.source, o.raw_body) for o in fresh], extracted_at=now)
    placements = await place_messages(
        batch, list(raw_ids), uow, now=now, idle_seconds=idle_seconds, linking=linking
    )
    return domain.outcomes(offered, stored, {m.key: p for m, p in zip(batch, placements, strict=True)})


async def place_messages(
    batch: list[IncomingMessage],
    raw_ids: list[int | None],
    uow: UnitOfWork,
    *,
    now: datetime,
    idle_seconds: float,
    enrich: Collection[IncomingMessage] = (),
    linking: Linking | None = None,
) -> list[Placement]:
    """Thread fresh messages (none stored before, no copies) into tickets, store them and
    emit ``MessageReceived`` for each: the path every source shares."""
    store = IngestStore(uow)
    customer_ids = await store.upsert_customers(domain.latest_profiles(batch), seen_at=now)
    # Create the missing conversations first, then lock all of them.
    new = domain.new_conversations(batch, customer_ids, now=now)
    opened = await store.create_conversations(new.values())
    conversations = await store.lock_conversations(new.keys())
    # Only a message that gives a phone number can make two customers share one (a phone
    # stored earlier was matched when it was given), and only customers in a profile can
    # have a linked ticket: a batch without either skips those two round trips.
    phoned = {customer_ids[m.customer_key] for m in batch if m.author.phone}
    linked_now = bool(linking and linking.same_phone and await _link_same_phone(uow, phoned, now=now))
    linked = (
        await CustomerStore(uow).linked_open_tickets(
            set(customer_ids.values()), since=now - timedelta(seconds=linking.window_seconds)
        )
        if linking is not None and (linked_now or store.in_profiles)
        else {}
    )
    placed = domain.thread(
        batch, conversations, opened, customer_ids, now=now, idle_seconds=idle_seconds, linked=linked
    )
    await store.save_conversations(placed.changed)
    await store.add_messages(
        list(zip(batch, placed.placements, raw_ids, strict=True)), received_at=now, enrich=enrich
    )
    for msg, placement in zip(batch, placed.placements, strict=True):
        uow.emit(domain.message_received(msg, placement, now=now))
    return placed.placements


async def accept_offers(
    offers: list[Offer],
    *,
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    idle_seconds: float,
    linking: Linking | None = None,
) -> list[Accepted]:
    """:func:`accept_batch` in a transaction of its own, committed.

    Run again from the start when another transaction stored one of the messages
    meanwhile (the second run answers it as a duplicate) or the database blipped.
    """
    # Bounded in time: with the database away the caller answers 503 within seconds
    # (the platform retries) rather than holding the request and the queue behind it.
    async for attempt in stamina.retry_context(on=_retry, attempts=5, timeout=3.0, wait_initial=0.05):
        with attempt:
            async with uow_factory() as uow:
                results = await accept_batch(
                    offers,
                    uow,
                    clock=clock,
                    idle_seconds=idle_seconds,
                    linking=linking,
                )
                await uow.commit()
                return results
    raise AssertionError("unreachable")  # pragma: no cover


async def store_deliveries(
    deliveries: list[tuple[str, bytes]],
    *,
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    on_commit: Callable[[], None] = lambda: None,
) -> list[int]:
    """Keep webhook deliveries (source, raw body) for the extraction worker; their ids.

    Committed before it returns: a platform is answered 200 only after this. Bounded in
    time, so with the database away the caller answers 503 and the platform retries.
    """
    async for attempt in stamina.retry_context(on=is_transient, attempts=3, timeout=3.0, wait_initial=0.05):
        with attempt:
            ids = await IngestStore.keep_raw_deliveries(uow_factory.engine, deliveries)
            on_commit()
            return ids
    raise AssertionError("unreachable")  # pragma: no cover


async def link_customers(
    uow: UnitOfWork,
    ids: Collection[uuid.UUID],
    profile: uuid.UUID,
    *,
    linked_by: str,
    now: datetime,
    reason: str | None = None,
) -> list[uuid.UUID]:
    """Put customers (and whoever is linked to them) into ``profile`` and say so
    (``CustomerLinked``, keyed by the profile); every member of the profile after."""
    members = await CustomerStore(uow).link(ids, profile)
    uow.emit(
        CustomerLinked(
            producer="ingest",
            occurred_at=now,
            ticket_id=profile,
            correlation_id=profile,
            profile_id=profile,
            customer_ids=members,
            linked_by=linked_by,
            reason=reason,
        )
    )
    return members


async def identify_author(
    uow: UnitOfWork,
    customer_id: uuid.UUID,
    author: IncomingAuthor,
    *,
    brand: str,
    platform: str,
    now: datetime,
) -> bool:
    """A later read named who wrote a message kept under a placeholder customer: that
    customer becomes the person (decision 0204). Someone we already knew by that id is
    linked to it, so their tickets and later messages are one customer's: then (``True``)
    the placeholder keeps its own id, taking the person's handle and name only. An
    ``author`` with the placeholder's own id (a username only) names it and links no one."""
    store = CustomerStore(uow)
    other = await store.identify(customer_id, brand=brand, platform=platform, author=author)
    if other is None or other == customer_id:
        return False
    profile = (await store.existing([other]))[other]
    await link_customers(uow, [other, customer_id], profile, linked_by="rule:enrichment", now=now)
    return True


async def _link_same_phone(uow: UnitOfWork, customer_ids: set[uuid.UUID], *, now: datetime) -> bool:
    """The configured rule: a customer with another's phone number joins their profile.
    Whether anyone was linked."""
    links = await same_phone_links(uow, customer_ids)
    for customer, profile in links:
        await link_customers(uow, [profile, customer], profile, linked_by="rule:same_phone", now=now)
    return bool(links)


def _retry(exc: Exception) -> bool:
    return isinstance(exc, ConcurrentDuplicate) or is_transient(exc)
