"""The timers repository: the only SQL of sla-monitor.

Timers go in and out as :class:`~socialdesk_sla_monitor.domain.Timer` values, keyed by
``(ticket_id, metric)``. Every write takes a list and is one statement whose rows travel
as one array per column (unnest), and look-ups by many tickets bind one array (``= ANY``):
a consumed batch of N events costs a few statements, not N times a few, and each
statement's text is the same whatever N, so it is compiled and prepared once.

Usage::

    async with uow_factory() as uow:
        store = TimerStore(uow)
        timers = await store.lock([ticket_id], "first_response")
        await store.save([...])
        await uow.commit()
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    Row,
    String,
    Uuid,
    any_,
    bindparam,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert

from socialdesk_runtime.db import UnitOfWork
from socialdesk_schemas.sla import Clock
from socialdesk_sla_monitor.domain import LIVE, Timer
from socialdesk_sla_monitor.tables import hot_groups, ticket_facts, timers

__all__ = ["TimerStore"]

_KEYS = ("ticket_id", "metric")
_FIELDS = tuple(f.name for f in dataclasses.fields(Timer))
_MUTABLE = tuple(name for name in _FIELDS if name not in _KEYS)

_PG_ARRAY = {
    Uuid: "uuid[]",
    String: "text[]",
    DateTime: "timestamptz[]",
    Boolean: "boolean[]",
    Float: "float8[]",
}


def _array_type(name: str) -> str:
    column_type = type(timers.c[name].type)
    return next(pg for py, pg in _PG_ARRAY.items() if issubclass(column_type, py))


# One UPDATE for any number of timers, its rows passed as one array per column: a
# thousand changed timers cost one statement, not a thousand (an executemany sends
# each row on its own).
_SAVE = text(
    "UPDATE timers AS t SET "
    + ", ".join(f"{name} = v.{name}" for name in _MUTABLE)
    + " FROM unnest("
    + ", ".join(f"CAST(:{name} AS {_array_type(name)})" for name in _FIELDS)
    + ") AS v("
    + ", ".join(_FIELDS)
    + ") WHERE t.ticket_id = v.ticket_id AND t.metric = v.metric"
)


_UUIDS = ARRAY(Uuid)
_TEXTS = ARRAY(String)
_COLS = ", ".join(_FIELDS)
_UNNEST_TIMERS = (
    "SELECT * FROM unnest(" + ", ".join(f"CAST(:{name} AS {_array_type(name)})" for name in _FIELDS) + ")"
)
# Inserts of any number of timers in one statement of constant text (rows as one array
# per column): an executemany is rendered as a multi-row VALUES, a new statement text,
# compiled and prepared again, for every batch size.
_ARM = text(
    f"INSERT INTO timers ({_COLS}) {_UNNEST_TIMERS} ON CONFLICT (ticket_id, metric) DO UPDATE "
    f"SET agent_id = EXCLUDED.agent_id, agent_level = EXCLUDED.agent_level RETURNING {_COLS}"
)
_PUT = text(
    f"INSERT INTO timers ({_COLS}) {_UNNEST_TIMERS} ON CONFLICT (ticket_id, metric) DO UPDATE SET "
    + ", ".join(f"{name} = EXCLUDED.{name}" for name in _MUTABLE)
)
_ADD = text(f"INSERT INTO timers ({_COLS}) {_UNNEST_TIMERS} ON CONFLICT DO NOTHING")
_RECORD_FACTS = text(
    "INSERT INTO ticket_facts (ticket_id, kind, category) SELECT * FROM unnest("
    "CAST(:ticket_ids AS uuid[]), CAST(:kinds AS text[]), CAST(:categories AS text[])) "
    "ON CONFLICT DO NOTHING"
)


def _columns(rows: Sequence[Timer]) -> dict[str, list[Any]]:
    """Timers as one list per column, the parameters of the statements above."""
    return {name: [getattr(t, name) for t in rows] for name in _FIELDS}


def _any_of(column: Any, values: list[Any], array: Any) -> Any:
    """``column = ANY(:array)``: one statement text whatever the number of values (an
    ``IN`` list is a new statement, compiled and prepared again, for every length)."""
    return column == any_(bindparam(None, values, type_=array))


# The scheduler's states are written into its statements, not bound: the partial indexes
# (``WHERE state = 'armed'``...) serve only a statement whose predicate proves theirs,
# which a parameter of a prepared statement's generic plan never does.
_ARMED = timers.c.state == literal_column("'armed'")
_BREACHED = timers.c.state == literal_column("'breached'")


#: The table's columns in the order of :class:`Timer`'s fields: a row is a Timer's arguments.
_COLUMNS = tuple(timers.c[name] for name in _FIELDS)
_ARM_RETURNING = _ARM.columns(*_COLUMNS)


def _timer(row: Row[Any]) -> Timer:
    # Positional: building a dict per row was the scheduler's costliest line at volume.
    return Timer(*cast(tuple[Any, ...], row))


class TimerStore:
    """Timers and hot topics in the unit of work's transaction."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._conn = uow.conn

    # -- the consumer side --

    async def hot_among(self, groups: Iterable[str]) -> set[str]:
        """Which of these incident groups are already hot topics."""
        wanted = sorted(set(groups))
        if not wanted:
            return set()
        result = await self._conn.execute(
            select(hot_groups.c.group_id).where(_any_of(hot_groups.c.group_id, wanted, _TEXTS))
        )
        return set(result.scalars().all())

    async def arm(self, armed: Sequence[Timer]) -> list[Timer]:
        """Insert new timers; one that exists already only takes the new owner.

        Returns every timer as stored after the statement, so the caller can see which
        ones existed before (a reply's placeholder, an already live timer).
        """
        if not armed:
            return []
        result = await self._conn.execute(_ARM_RETURNING, _columns(armed))
        return [_timer(row) for row in result]

    async def put(self, timers_: Sequence[Timer]) -> None:
        """Insert timers, or replace the stored ones of the same ``(ticket_id, metric)``."""
        if not timers_:
            return
        # One row per key (the last one wins, as it would statement after statement).
        latest = {(t.ticket_id, t.metric): t for t in timers_}
        await self._conn.execute(_PUT, _columns(list(latest.values())))

    async def clocks_of(self, ticket_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, dict[Clock, Timer]]:
        """Every clock of these tickets, locked (in key order: no deadlocks)."""
        wanted = sorted(set(ticket_ids))
        if not wanted:
            return {}
        result = await self._conn.execute(
            select(*_COLUMNS)
            .where(_any_of(timers.c.ticket_id, wanted, _UUIDS))
            .order_by(timers.c.ticket_id, timers.c.metric)
            .with_for_update()
        )
        found: dict[uuid.UUID, dict[Clock, Timer]] = {}
        for timer in map(_timer, result):
            found.setdefault(timer.ticket_id, {})[timer.metric] = timer
        return found

    async def record_facts(self, facts: Sequence[tuple[uuid.UUID, str, str]]) -> None:
        """Remember what tickets are about, ``(ticket_id, kind, category)``; the first word stays."""
        if facts:
            await self._conn.execute(
                _RECORD_FACTS,
                {
                    "ticket_ids": [t for t, _, _ in facts],
                    "kinds": [k for _, k, _ in facts],
                    "categories": [c for _, _, c in facts],
                },
            )

    async def facts_of(self, ticket_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, tuple[str, str]]:
        """What these tickets are about, as far as known: ``ticket_id → (kind, category)``."""
        wanted = sorted(set(ticket_ids))
        if not wanted:
            return {}
        result = await self._conn.execute(
            select(ticket_facts).where(_any_of(ticket_facts.c.ticket_id, wanted, _UUIDS))
        )
        return {row.ticket_id: (row.kind, row.category) for row in result}

    async def add(self, new: Sequence[Timer]) -> None:
        """Insert timers that do not exist yet (one that does is left alone)."""
        if new:
            await self._conn.execute(_ADD, _columns(new))

    async def lock(self, ticket_ids: Iterable[uuid.UUID], metric: Clock) -> dict[uuid.UUID, Timer]:
        """The tickets' timers of ``metric``, locked for this transaction (in key order: no deadlocks)."""
        wanted = sorted(set(ticket_ids))
        if not wanted:
            return {}
        result = await self._conn.execute(
            select(*_COLUMNS)
            .where(_any_of(timers.c.ticket_id, wanted, _UUIDS), timers.c.metric == metric)
            .order_by(timers.c.ticket_id)
            .with_for_update()
        )
        return {t.ticket_id: t for t in map(_timer, result)}

    async def live_of(self, ticket_id: uuid.UUID) -> list[Timer]:
        """Every live timer of one ticket (all its clocks), locked."""
        result = await self._conn.execute(
            select(*_COLUMNS)
            .where(timers.c.ticket_id == ticket_id, timers.c.state.in_(LIVE))
            .order_by(timers.c.metric)
            .with_for_update()
        )
        return [_timer(row) for row in result]

    async def record_hot_group(
        self, *, group_id: str, brand: str, detected_at: datetime, volume: int
    ) -> None:
        """Remember a hot topic (its latest volume), so tickets joining it later are armed tight."""
        await self._conn.execute(
            pg_insert(hot_groups)
            .values(group_id=group_id, brand=brand, detected_at=detected_at, volume=volume)
            .on_conflict_do_update(index_elements=["group_id"], set_={"volume": volume})
        )

    async def armed_in_group(self, group_id: str) -> list[Timer]:
        """The group's armed timers not tightened yet, locked."""
        result = await self._conn.execute(
            select(*_COLUMNS)
            .where(timers.c.group_id == group_id, timers.c.state == "armed", timers.c.hot.is_(False))
            .order_by(timers.c.ticket_id, timers.c.metric)
            .with_for_update()
        )
        return [_timer(row) for row in result]

    async def save(self, changed: Sequence[Timer]) -> None:
        """Write changed timers back, in one statement."""
        if changed:
            await self._conn.execute(_SAVE, {name: [getattr(t, name) for t in changed] for name in _FIELDS})

    # -- the scheduler side --

    async def _lock_due(self, due: Any, *conditions: Any, limit: int) -> list[Timer]:
        """A batch of due timers, earliest first, locked; rows another replica holds are
        skipped, not waited for."""
        result = await self._conn.execute(
            select(*_COLUMNS).where(*conditions).order_by(due).limit(limit).with_for_update(skip_locked=True)
        )
        return [_timer(row) for row in result]

    async def due_warnings(self, now: datetime, *, limit: int) -> list[Timer]:
        return await self._lock_due(
            timers.c.warn_at,
            _ARMED,
            ~timers.c.warned,
            timers.c.warn_at <= now,
            limit=limit,
        )

    async def due_deadlines(self, now: datetime, *, limit: int) -> list[Timer]:
        return await self._lock_due(timers.c.deadline, _ARMED, timers.c.deadline <= now, limit=limit)

    async def due_escalations(self, now: datetime, *, limit: int) -> list[Timer]:
        return await self._lock_due(
            timers.c.next_escalation_at,
            _BREACHED,
            timers.c.next_escalation_at <= now,
            limit=limit,
        )

    async def next_due(self, *, grace: timedelta = timedelta(0)) -> datetime | None:
        """The earliest warning, deadline (judged ``grace`` after it) or escalation still ahead.

        Three ``ORDER BY … LIMIT 1`` look-ups, each answered by its partial index, rather
        than one aggregate over every live timer (millions at a 2 h SLA under load).
        """
        questions = (
            select(timers.c.warn_at).where(_ARMED, ~timers.c.warned).order_by(timers.c.warn_at).limit(1),
            select(timers.c.deadline).where(_ARMED).order_by(timers.c.deadline).limit(1),
            select(timers.c.next_escalation_at)
            .where(_BREACHED, timers.c.next_escalation_at.is_not(None))
            .order_by(timers.c.next_escalation_at)
            .limit(1),
        )
        warn_at, deadline, escalation = [(await self._conn.execute(q)).scalar() for q in questions]
        if deadline is not None:
            deadline += grace
        found = [d for d in (warn_at, deadline, escalation) if d is not None]
        return min(found) if found else None

    async def count_armed(self) -> dict[str, int]:
        """Armed timers by clock (paused ones included)."""
        result = await self._conn.execute(
            select(timers.c.metric, func.count()).where(timers.c.state == "armed").group_by(timers.c.metric)
        )
        return {metric: int(n) for metric, n in result.all()}

    async def oldest_overdue(self, now: datetime) -> datetime | None:
        """The earliest deadline already passed among live timers not yet answered."""
        result = await self._conn.execute(
            select(timers.c.deadline)
            .where(timers.c.state == "armed", timers.c.deadline <= now)
            .order_by(timers.c.deadline)
            .limit(1)
        )
        oldest = result.scalar()
        breached = await self._conn.execute(
            select(timers.c.deadline).where(timers.c.state == "breached").order_by(timers.c.deadline).limit(1)
        )
        candidates = [d for d in (oldest, breached.scalar()) if d is not None]
        return min(candidates) if candidates else None
