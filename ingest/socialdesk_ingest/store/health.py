"""The repository's channel health: the last state of each channel."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from socialdesk_ingest.tables import channel_health
from socialdesk_runtime.db import UnitOfWork

__all__ = ["HealthStore"]


class HealthStore:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def last(self, brand: str, platform: str, account_id: str) -> tuple[bool, str | None] | None:
        """(healthy, problem) as last recorded, locked; ``None`` if never checked."""
        row = (
            await self._uow.conn.execute(
                select(channel_health.c.healthy, channel_health.c.problem)
                .where(
                    channel_health.c.brand == brand,
                    channel_health.c.platform == platform,
                    channel_health.c.account_id == account_id,
                )
                .with_for_update()
            )
        ).first()
        return None if row is None else (bool(row.healthy), row.problem)

    async def record(
        self,
        brand: str,
        platform: str,
        account_id: str,
        *,
        healthy: bool,
        problem: str | None,
        at: datetime,
        changed: bool,
    ) -> None:
        stmt = pg_insert(channel_health).values(
            brand=brand,
            platform=platform,
            account_id=account_id,
            healthy=healthy,
            problem=problem,
            changed_at=at,
            checked_at=at,
        )
        update = {"healthy": healthy, "problem": problem, "checked_at": at}
        if changed:
            update["changed_at"] = at
        await self._uow.conn.execute(
            stmt.on_conflict_do_update(constraint="channel_health_pkey", set_=update)
        )
