"""Retention of the messaging tables, on a service database migrated as at start: published
outbox rows and processed inbox ids are forgotten after their windows, nothing sooner."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from sqlalchemy import func, select

from socialdesk_ingest.bootstrap import SPEC
from socialdesk_runtime.db import inbox_table, outbox_table
from socialdesk_runtime.metrics import RuntimeMetrics
from socialdesk_runtime.outbox import OutboxRelay
from tests.integration.runtime_helpers import CONNECTIONS_RETURNED
from tests.support import service_store

pytestmark = [pytest.mark.integration, *CONNECTIONS_RETURNED]

DAY = timedelta(days=1)


async def test_old_outbox_rows_and_inbox_ids_are_pruned_and_recent_or_pending_ones_kept(
    fresh_db: str,
) -> None:
    now = datetime.now(UTC)
    async with service_store(fresh_db, SPEC) as (engine, _):
        old_ids = [uuid.uuid4() for _ in range(3)]
        async with engine.begin() as conn:
            await conn.execute(
                inbox_table.insert(),
                [
                    {"event_id": i, "event_type": "MessageReceived", "processed_at": now - 31 * DAY}
                    for i in old_ids
                ]
                + [{"event_id": uuid.uuid4(), "event_type": "MessageReceived", "processed_at": now - DAY}],
            )
            row = {"topic": "ticket.messages", "key": "k", "value": b"{}", "created_at": now - 40 * DAY}
            await conn.execute(
                outbox_table.insert(),
                [
                    {**row, "published_at": now - 8 * DAY},
                    {**row, "published_at": now - 8 * DAY},
                    {**row, "published_at": now - timedelta(hours=1)},
                    {**row, "published_at": None},  # never published: kept whatever its age
                ],
            )
        relay = OutboxRelay(
            engine,
            cast(Any, None),  # pruning never produces
            RuntimeMetrics.create("retention-test"),
            retention_seconds=7 * DAY.total_seconds(),
            inbox_retention_seconds=30 * DAY.total_seconds(),
        )
        try:
            assert await relay.prune(now) == (2, 3)
            assert await relay.prune(now) == (0, 0), "nothing more is old enough"
        finally:
            await relay.close()
        async with engine.connect() as conn:
            kept = (await conn.execute(select(inbox_table.c.event_id))).scalars().all()
            assert not set(kept) & set(old_ids) and len(kept) == 1
            pending = await conn.scalar(
                select(func.count()).select_from(outbox_table).where(outbox_table.c.published_at.is_(None))
            )
            assert (await conn.scalar(select(func.count()).select_from(outbox_table)), pending) == (2, 1)
