"""The pacing SQL (decision 0403): lanes shared by every notifier replica on one database.

:meth:`PacingStore.reserve` is the hot path: one ``INSERT ... ON CONFLICT DO UPDATE ...
RETURNING`` that computes the slot of :func:`socialdesk_notifier.domain.pacing.reserve`
on the lane's row under its row lock and moves the lane past it, so two replicas never
get the same slot, in one round trip (run it in an autocommit unit of work). Times are
the database's clock (seconds since the epoch), one clock for all replicas; a test may
pass its own ``now``.

The rare paths (a throttle, a hold, a clean send while a cut rate recovers) lock the
row, apply the domain's functions to it and write it back: :meth:`locked` then :meth:`save`.

Usage::

    async with uow_factory.autocommit() as uow:
        turn = await PacingStore(uow).reserve("slack:post:C0OBL1", pace, max_wait=3.0)
    async with uow_factory.quiet() as uow:
        store = PacingStore(uow)
        lane, now = await store.locked("account:7300112233")
        await store.save("account:7300112233", throttled(lane, pace, now=now, hold=4.0))
        await uow.commit()
"""

from __future__ import annotations

import math
from typing import Any, Final

from sqlalchemy import Row, select, text, update

from socialdesk_notifier.domain.pacing import Lane, Pace, Turn
from socialdesk_notifier.pacing_tables import pacing_lanes
from socialdesk_runtime.db import UnitOfWork

__all__ = ["PacingStore"]

_DB_NOW = "CAST(extract(epoch FROM statement_timestamp()) AS float8)"

# The slot of domain.pacing.reserve, on the row as it is under the lock (``l``) and the
# request's time (``EXCLUDED.asked_at``, stable within the statement).
_SLOT = (
    "greatest(EXCLUDED.asked_at, l.next_at - CAST(:ahead AS float8), "
    "coalesce(CAST(l.recipients ->> CAST(:recipient AS text) AS float8), EXCLUDED.asked_at))"
)
_GRANTED = f"({_SLOT} - EXCLUDED.asked_at <= CAST(:max_wait AS float8))"
# least() skips NULL: a rate never cut is the ceiling.
_SPACING = "1.0 / least(l.rate, CAST(:ceiling AS float8))"
# Only slots still ahead are kept, so an account's row stays as small as its recent sends.
_AHEAD = (
    "(SELECT coalesce(jsonb_object_agg(r.key, r.value), '{}'::jsonb) "
    "FROM jsonb_each(l.recipients) AS r WHERE CAST(r.value AS float8) > EXCLUDED.asked_at)"
)

#: One statement, one round trip: a new lane grants at once; an existing one is locked,
#: offered its slot, and moved past it only when the slot is within max_wait.
_RESERVE: Final = text(
    f"""
    INSERT INTO pacing_lanes AS l (lane, next_at, recipients, asked_at, offered_at)
    SELECT CAST(:lane AS text), a.now + 1.0 / CAST(:ceiling AS float8),
           CASE WHEN CAST(:recipient AS text) IS NULL THEN '{{}}'::jsonb
                ELSE jsonb_build_object(CAST(:recipient AS text), a.now + CAST(:recipient_interval AS float8))
           END,
           a.now, a.now
    FROM (SELECT coalesce(CAST(:now AS float8), {_DB_NOW}) AS now) AS a
    ON CONFLICT (lane) DO UPDATE SET
        asked_at = EXCLUDED.asked_at,
        offered_at = {_SLOT},
        next_at = CASE WHEN {_GRANTED} THEN greatest(l.next_at, {_SLOT}) + {_SPACING} ELSE l.next_at END,
        recipients = CASE WHEN {_GRANTED} AND CAST(:recipient AS text) IS NOT NULL
                          THEN {_AHEAD} || jsonb_build_object(
                              CAST(:recipient AS text), {_SLOT} + CAST(:recipient_interval AS float8))
                          ELSE l.recipients END
    RETURNING offered_at - asked_at AS wait,
              offered_at - asked_at <= CAST(:max_wait AS float8) AS granted,
              least(rate, CAST(:ceiling AS float8)) AS rate
    """
)


#: A lane first seen by a throttle or a hold: nothing reserved on it yet.
_NEW_LANE: Final = text(
    "INSERT INTO pacing_lanes (lane, next_at, asked_at, offered_at) "
    "VALUES (:lane, '-Infinity', 0, 0) ON CONFLICT (lane) DO NOTHING"
)


_STATE = (pacing_lanes.c.next_at, pacing_lanes.c.rate, pacing_lanes.c.cut_at, pacing_lanes.c.recipients)


def _lane(row: Row[*tuple[Any, ...]]) -> Lane:
    return Lane(
        next_at=row.next_at,
        rate=row.rate,
        cut_at=-math.inf if row.cut_at is None else row.cut_at,
        recipients={str(k): float(v) for k, v in (row.recipients or {}).items()},
    )


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


class PacingStore:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def reserve(
        self,
        lane: str,
        pace: Pace,
        *,
        max_wait: float,
        recipient: str | None = None,
        ahead: float = 0.0,
        now: float | None = None,
    ) -> Turn:
        """The next slot of ``lane`` (see :func:`socialdesk_notifier.domain.pacing.reserve`),
        atomically across replicas; ``now`` defaults to the database's clock."""
        row = (
            await self._uow.conn.execute(
                _RESERVE,
                {
                    "lane": lane,
                    "ceiling": pace.ceiling,
                    "recipient_interval": pace.recipient_interval,
                    "recipient": recipient,
                    "ahead": ahead,
                    "max_wait": max_wait,
                    "now": now,
                },
            )
        ).one()
        return Turn(granted=bool(row.granted), wait=float(row.wait), rate=float(row.rate))

    async def locked(self, lane: str) -> tuple[Lane, float]:
        """The lane's state, locked until the unit of work ends, and the database's clock
        once the lock is held (a lane never reserved is a new one)."""
        await self._uow.conn.execute(_NEW_LANE, {"lane": lane})
        row = (
            await self._uow.conn.execute(
                select(*_STATE, text("CAST(extract(epoch FROM clock_timestamp()) AS float8) AS now"))
                .where(pacing_lanes.c.lane == lane)
                .with_for_update()
            )
        ).one()
        return _lane(row), float(row.now)

    async def lane(self, lane: str) -> Lane | None:
        """The lane's state as it is now (no lock; ``None``: never used)."""
        row = (await self._uow.conn.execute(select(*_STATE).where(pacing_lanes.c.lane == lane))).one_or_none()
        return None if row is None else _lane(row)

    async def save(self, lane: str, state: Lane) -> None:
        """Write back a lane read with :meth:`locked` (in the same unit of work)."""
        await self._uow.conn.execute(
            update(pacing_lanes)
            .where(pacing_lanes.c.lane == lane)
            .values(
                next_at=state.next_at,
                rate=state.rate,
                cut_at=_finite(state.cut_at),
                recipients=dict(state.recipients),
            )
        )
