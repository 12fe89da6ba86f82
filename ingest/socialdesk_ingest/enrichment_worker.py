"""Enrichment of id-only messages (Instagram mentions, Facebook post mentions) and of
comments whose author Meta withheld.

At extraction, :func:`make_enricher` reads each such message from the Graph API before it
is ticketed. When that read fails the message is ticketed with what is known, and
:class:`EnrichmentWorker` tries again later (30 s, doubling, at most hourly, 20 tries);
when a later read succeeds the stored text is completed, a placeholder customer becomes the
person the read names (decision 0204), and the desk is told: ``MessageEdited`` for the
words, ``MessageAuthorIdentified`` for the author.

The worker reads with no transaction open (the due messages are leased first), then
writes each outcome in a short transaction of its own: nothing waits on a Graph read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from socialdesk_ingest.domain import IncomingAuthor, IncomingMessage, MessageKey, author_of
from socialdesk_ingest.domain.platforms import AccountIndex
from socialdesk_ingest.domain.platforms.enrichment import (
    Enrichment,
    by_own_account,
    identified_author,
    retry_delay,
)
from socialdesk_ingest.extraction import Enricher
from socialdesk_ingest.graph import GraphReader, GraphUnavailable
from socialdesk_ingest.handlers import identify_author
from socialdesk_ingest.metrics import IngestMetrics
from socialdesk_ingest.store.enrichment import DueEnrichment, EnrichmentStore
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.db import UnitOfWork, UnitOfWorkFactory
from socialdesk_runtime.workers import PeriodicWorker
from socialdesk_schemas.platforms import MessageAuthorIdentified, MessageEdited

__all__ = ["LEASE_SECONDS", "MAX_ATTEMPTS", "EnrichmentWorker", "make_enricher"]

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 20
#: How long claimed messages are another replica's to leave alone: longer than a round's reads.
LEASE_SECONDS = 300.0


def make_enricher(reader: GraphReader, metrics: IngestMetrics) -> Enricher:
    async def enrich(msgs: list[IncomingMessage]) -> dict[MessageKey, Enrichment]:
        found: dict[MessageKey, Enrichment] = {}
        for msg in msgs:
            try:
                got = await reader.enrich(msg)
            except GraphUnavailable as exc:
                log.warning("enrichment of a %s %s failed: %s", msg.platform, msg.kind, exc)
                metrics.enrichments.labels(outcome="failed").inc()
                continue
            metrics.enrichments.labels(outcome="enriched" if got else "not_possible").inc()
            if got is not None:
                found[msg.key] = got
        return found

    return enrich


@dataclass(frozen=True, slots=True)
class _Read:
    row: DueEnrichment
    found: Enrichment | None
    error: str | None = None


class EnrichmentWorker(PeriodicWorker):
    name = "enrichment"

    def __init__(
        self,
        *,
        reader: GraphReader,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        metrics: IngestMetrics,
        accounts: AccountIndex,
        poll_seconds: float = 10.0,
        batch_size: int = 20,
    ) -> None:
        """``accounts``: our own accounts, whom a read never makes a customer."""
        self._reader = reader
        self._uow_factory = uow_factory
        self._clock = clock
        self._metrics = metrics
        self._accounts = accounts
        super().__init__(poll_seconds)
        self._batch = batch_size

    async def run_once(self) -> int:
        """Try the due messages once; how many were tried."""
        now = self._clock.now()
        lease = now + timedelta(seconds=LEASE_SECONDS)
        async with self._uow_factory() as uow:
            due = await EnrichmentStore(uow).claim(now, self._batch, until=lease)
            await uow.commit()
        # Read with no transaction open: nothing (a new message of the person, an edit of
        # the message) waits for Graph's answers.
        reads = [await self._read(row) for row in due]
        for read in reads:
            async with self._uow_factory() as uow:
                if await self._settle(read, uow, leased=lease, now=now):
                    await uow.commit()
        return len(due)

    async def _read(self, row: DueEnrichment) -> _Read:
        try:
            return _Read(row, await self._reader.enrich(_message(row)))
        except GraphUnavailable as exc:
            return _Read(row, None, str(exc))

    async def _settle(self, read: _Read, uow: UnitOfWork, *, leased: datetime, now: datetime) -> bool:
        """Write one read's outcome; ``False`` when the message is no longer ours to settle
        (another replica did, after our lease ran out): the caller then commits nothing."""
        row, found, store = read.row, read.found, EnrichmentStore(uow)
        if read.error is not None:
            attempts = row.attempts + 1
            give_up = attempts >= MAX_ATTEMPTS
            next_at = None if give_up else now + timedelta(seconds=retry_delay(attempts))
            if not await store.failed(row.id, leased=leased, attempts=attempts, next_at=next_at):
                return False
            self._metrics.enrichments.labels(outcome="gave_up" if give_up else "failed").inc()
            log.warning(
                "enrichment retry %d of a %s %s failed: %s", attempts, row.platform, row.kind, read.error
            )
            return True
        own = self._accounts.accounts_of(row.brand, row.platform)
        author = identified_author(row.author_id, found, own=own)
        known_as = row.author_id
        if author is not None:
            # The customer rows first, then the message's: the order extraction locks them in.
            linked = await identify_author(
                uow, row.customer_id, author, brand=row.brand, platform=row.platform, now=now
            )
            known_as = row.author_id if linked else author.platform_user_id
        text = found.text if found is not None and found.text else None
        words = await store.done(row, leased=leased, text=text, at=now)
        if words is None:
            return False
        if by_own_account(found, own):
            # Meta withheld ``from`` of our own comment or post: ticketed already, it stays as
            # it is (its words completed), but our account is never made its customer.
            log.warning("enrichment: %s %s %s was written by our own account", row.platform, row.kind, row.id)
        self._metrics.enrichments.labels(outcome=_outcome(found, own)).inc()
        # The words the read completed: written (no edit came since the claim), and new.
        completed = text if text is not None and words == text and text != row.text else None
        _tell_the_desk(uow, row, completed, author, known_as, now=now)
        return True


def _outcome(found: Enrichment | None, own: frozenset[str]) -> str:
    if found is None:
        return "not_possible"
    return "own_account" if by_own_account(found, own) else "enriched"


def _tell_the_desk(
    uow: UnitOfWork,
    row: DueEnrichment,
    text: str | None,
    author: IncomingAuthor | None,
    known_as: str,
    *,
    now: datetime,
) -> None:
    """New words as ``MessageEdited`` (naming the author too, as desks before
    ``MessageAuthorIdentified`` expect), the author as ``MessageAuthorIdentified``: a read
    that changed no word is never an edit."""
    named = None if author is None else author_of(author)
    about: dict[str, Any] = {
        "producer": "ingest",
        "occurred_at": now,
        "ticket_id": row.ticket_id,
        "correlation_id": row.id,
        "message_id": row.id,
        "brand": row.brand,
        "platform": row.platform,
        "platform_message_id": row.platform_message_id,
    }
    if text is not None:
        customer = None if named is None else row.customer_id
        uow.emit(MessageEdited(**about, text=text, edited_at=now, author=named, customer_id=customer))
    if named is not None:
        uow.emit(
            MessageAuthorIdentified(
                **about,
                author=named,
                customer_id=row.customer_id,
                customer_platform_user_id=known_as,
                identified_at=now,
            )
        )


def _message(row: DueEnrichment) -> IncomingMessage:
    return IncomingMessage(
        brand=row.brand,
        platform=row.platform,  # type: ignore[arg-type]  # stored from a Platform
        kind=row.kind,  # type: ignore[arg-type]  # stored from a Kind
        platform_message_id=row.platform_message_id,
        author=IncomingAuthor("unknown"),
        text=row.text,
        in_reply_to=row.in_reply_to,
    )
