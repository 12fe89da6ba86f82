"""Re-extract stored webhook deliveries received since a time (``socialdesk replay``).

Idempotent: extraction is exactly once by key (message ids, fact keys), so replaying a
delivery already extracted changes nothing, and one that was set aside, or whose account
was configured only afterwards, is extracted now. Chunks of deliveries are extracted in
their own transactions, oldest first; the running ingest's relay publishes what they emit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from socialdesk_ingest.domain.platforms import AccountIndex
from socialdesk_ingest.extraction import extract_deliveries
from socialdesk_ingest.handlers import Linking
from socialdesk_ingest.store.webhooks import count_deliveries_since, deliveries_since
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_runtime.db import UnitOfWorkFactory

__all__ = ["Replayed", "replay"]


@dataclass(frozen=True, slots=True)
class Replayed:
    deliveries: int
    messages: int
    facts: int
    failed: int


async def replay(
    engine: AsyncEngine,
    *,
    since: datetime,
    config: SocialdeskConfig,
    clock: Clock,
    idle_seconds: float,
    on_total: Callable[[int], None] = lambda _: None,
    on_progress: Callable[[int], None] = lambda _: None,
    chunk: int = 200,
) -> Replayed:
    uow_factory = UnitOfWorkFactory(engine, service="ingest")
    accounts = AccountIndex.from_config(config)
    async with uow_factory() as uow:
        on_total(await count_deliveries_since(uow, since))
    after_id, deliveries, messages, facts, failed = 0, 0, 0, 0, 0
    while True:
        async with uow_factory() as uow:
            rows = await deliveries_since(uow, since, after_id=after_id, limit=chunk)
            if not rows:
                return Replayed(deliveries, messages, facts, failed)
            for row in rows:
                # One savepoint per delivery: a poison body is reported, the rest replayed.
                mark = uow.emitted
                try:
                    async with uow.conn.begin_nested():
                        got = await extract_deliveries(
                            [row],
                            uow,
                            accounts=accounts,
                            now=clock.now(),
                            idle_seconds=idle_seconds,
                            linking=Linking.from_config(config),
                        )
                except Exception:
                    uow.discard_since(mark)
                    failed += 1
                    continue
                messages += got.messages
                facts += sum(got.facts.values())
            await uow.commit()
        deliveries += len(rows)
        after_id = rows[-1].id
        on_progress(len(rows))
