"""The SQL of the notifier's retention (:mod:`socialdesk_notifier.retention`).

Each kind of row is deleted in chunks of ``CHUNK`` (short transactions, no long locks on
tables the delivery worker uses every half second). Pacing lanes are soft state on the
database's clock: one idle for ``LANE_IDLE_SECONDS`` goes whatever the retention window (its
recipients' slots are long past, and a throttle that old says nothing of today's limit).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, exists, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncEngine

from socialdesk_notifier.domain.delivery import FAILED, SENT
from socialdesk_notifier.freshdesk.tables import freshdesk_ops
from socialdesk_notifier.pacing_tables import pacing_lanes
from socialdesk_notifier.slack_store import DIGESTED
from socialdesk_notifier.slack_tables import slack_clicks, slack_threads, slack_tickets
from socialdesk_notifier.tables import deliveries, own_messages

__all__ = ["CHUNK", "LANE_IDLE_SECONDS", "RetentionStore"]

CHUNK = 2_000
#: A pacing lane nobody asked for a slot this long (on the database's clock) is forgotten.
LANE_IDLE_SECONDS = 86_400.0
#: Deliveries that will never be claimed again.
FINAL = (SENT, FAILED, DIGESTED)


class RetentionStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def prune(self, cutoff: datetime) -> dict[str, int]:
        """Forget what is older than ``cutoff`` and will not be needed again; how many rows of each."""
        old_resolved = select(slack_tickets.c.ticket_id).where(
            slack_tickets.c.state == "resolved", slack_tickets.c.updated_at < cutoff
        )
        counts = {
            "slack_threads": await self._chunks(
                slack_threads,
                slack_threads.c.ticket_id,
                slack_threads.c.ticket_id.in_(old_resolved.scalar_subquery()),
            ),
            # A thread's parent stays while the thread does (a late event still replies under it).
            "deliveries": await self._chunks(
                deliveries,
                deliveries.c.id,
                deliveries.c.status.in_(FINAL),
                deliveries.c.created_at < cutoff,
                ~exists().where(slack_threads.c.parent_delivery_id == deliveries.c.id),
            ),
            "slack_clicks": await self._chunks(
                slack_clicks, slack_clicks.c.click_id, slack_clicks.c.at < cutoff
            ),
            "freshdesk_ops": await self._chunks(
                freshdesk_ops,
                freshdesk_ops.c.id,
                freshdesk_ops.c.status == "done",
                freshdesk_ops.c.done_at < cutoff,
            ),
            "own_messages": await self._chunks(
                own_messages, own_messages.c.id, own_messages.c.seen_at < cutoff
            ),
            "pacing_lanes": await self._chunks(
                pacing_lanes,
                pacing_lanes.c.lane,
                func.greatest(
                    pacing_lanes.c.asked_at,
                    pacing_lanes.c.next_at,
                    func.coalesce(pacing_lanes.c.cut_at, pacing_lanes.c.asked_at),
                )
                < literal_column("CAST(extract(epoch FROM statement_timestamp()) AS float8)")
                - LANE_IDLE_SECONDS,
            ),
        }
        # A ticket's facts go with its last thread (a resolved ticket never threaded has none left).
        counts["slack_tickets"] = await self._chunks(
            slack_tickets,
            slack_tickets.c.ticket_id,
            slack_tickets.c.state == "resolved",
            slack_tickets.c.updated_at < cutoff,
            ~exists().where(slack_threads.c.ticket_id == slack_tickets.c.ticket_id),
        )
        return counts

    async def _chunks(self, table: Table, key: Any, *where: Any) -> int:
        total = 0
        while True:
            chunk = select(key).where(and_(*where)).limit(CHUNK).scalar_subquery()
            async with self._engine.begin() as conn:
                # The conditions again on the rows deleted: one taken up meanwhile (a lane
                # just reserved, a delivery re-driven) is re-checked under its lock and kept.
                result = await conn.execute(table.delete().where(key.in_(chunk), *where))
            total += result.rowcount
            if result.rowcount < CHUNK:
                return total
