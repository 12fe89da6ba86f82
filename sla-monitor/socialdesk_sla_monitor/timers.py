"""Arming, stopping and firing SLA timers.

Handlers (consumer side) arm a first-response timer when a CX ticket is assigned or
queued, and stop it when an agent replies (whichever arrives first: the two come on
different topics). The :class:`SlaScheduler` fires what is due at its due time, not on
a five-minute poll: it sleeps exactly until the next warning, deadline or escalation.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from socialdesk_runtime.clock import Clock
from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_runtime.db import UnitOfWork, UnitOfWorkFactory
from socialdesk_runtime.workers import LoopControl
from socialdesk_schemas import (
    AgentReplied,
    SlaBreached,
    SlaWarning,
    TicketAssigned,
    TicketEscalated,
    TicketQueued,
    TicketResolved,
    TrendDetected,
)
from socialdesk_sla_monitor.metrics import SlaMetrics
from socialdesk_sla_monitor.tables import hot_groups, timers

log = logging.getLogger(__name__)

PRODUCER = "sla-monitor"
FIRST_RESPONSE = "first_response"
_RANK = {"L1": 1, "L2": 2, "L3": 3, "L4": 4, "TMT": 5}


async def arm_first_response(
    event: TicketAssigned | TicketQueued, uow: UnitOfWork, *, config: SocialdeskConfig, metrics: SlaMetrics
) -> None:
    await arm_batch([event], uow, config=config, metrics=metrics)


async def arm_batch(
    events: list[TicketAssigned] | list[TicketQueued],
    uow: UnitOfWork,
    *,
    config: SocialdeskConfig,
    metrics: SlaMetrics,
) -> None:
    """Arm (or re-own) first-response timers; the SLA runs from intake.

    A ticket of an incident group that is already a hot topic gets the tightened target
    at once (seed 001: adjust the SLA for the day's hot topics). One look-up, one upsert
    and at most one update for the whole batch.
    """
    groups = sorted({e.group_id for e in events if e.group_id is not None})
    hot_now: set[str] = set()
    if groups:
        hot_now = set(
            (await uow.conn.execute(select(hot_groups.c.group_id).where(hot_groups.c.group_id.in_(groups))))
            .scalars()
            .all()
        )
    rows: dict[object, dict[str, Any]] = {}
    for event in events:
        agent_id = event.agent_id if isinstance(event, TicketAssigned) else None
        agent_level = event.agent_level if isinstance(event, TicketAssigned) else None
        if event.ticket_id in rows:  # re-owned within the batch: the newest owner stands
            rows[event.ticket_id].update(agent_id=agent_id, agent_level=agent_level)
            continue
        hot = event.group_id in hot_now
        seconds = config.sla.first_response_for(event.priority, event.platform, hot_topic=hot)
        rows[event.ticket_id] = {
            "ticket_id": event.ticket_id,
            "metric": FIRST_RESPONSE,
            "correlation_id": event.correlation_id,
            "brand": event.brand,
            "platform": event.platform,
            "priority": event.priority,
            "agent_id": agent_id,
            "agent_level": agent_level,
            "state": "armed",
            "started_at": event.received_at,
            "deadline": event.received_at + timedelta(seconds=seconds),
            "warn_at": event.received_at + timedelta(seconds=seconds * config.sla.warn_at_fraction),
            "group_id": event.group_id,
            "hot": hot,
        }
    stmt = pg_insert(timers)
    # Already answered (the reply overtook the assignment) or already armed: keep the
    # state, only record the current owner.
    result = await uow.conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["ticket_id", "metric"],
            set_={"agent_id": stmt.excluded.agent_id, "agent_level": stmt.excluded.agent_level},
        ).returning(timers.c.ticket_id, timers.c.state, timers.c.deadline),
        list(rows.values()),
    )
    placeholders = [r.ticket_id for r in result if r.state == "met" and r.deadline is None]
    if placeholders:
        # The placeholders replies left: now the deadline is known, record whether it was met.
        await uow.conn.execute(
            update(timers)
            .where(timers.c.ticket_id == bindparam("tid"), timers.c.metric == FIRST_RESPONSE)
            .values(
                deadline=bindparam("deadline"),
                warn_at=bindparam("warn"),
                started_at=bindparam("started"),
                brand=bindparam("b_brand"),
            ),
            [
                {
                    "tid": t,
                    "deadline": rows[t]["deadline"],
                    "warn": rows[t]["warn_at"],
                    "started": rows[t]["started_at"],
                    "b_brand": rows[t]["brand"],
                }
                for t in placeholders
            ],
        )


async def stop_on_reply(event: AgentReplied, uow: UnitOfWork, *, metrics: SlaMetrics) -> None:
    await stop_batch([event], uow, metrics=metrics)


async def stop_batch(events: list[AgentReplied], uow: UnitOfWork, *, metrics: SlaMetrics) -> None:
    """Agents answered: first-response timers are met (late or not) and escalation stops."""
    first: dict[object, AgentReplied] = {}
    for event in events:
        if event.ticket_id not in first or event.replied_at < first[event.ticket_id].replied_at:
            first[event.ticket_id] = event
    previous = {
        row.ticket_id: row
        for row in await uow.conn.execute(
            select(timers.c.ticket_id, timers.c.state, timers.c.deadline)
            .where(timers.c.ticket_id.in_(list(first)), timers.c.metric == FIRST_RESPONSE)
            .order_by(timers.c.ticket_id)
            .with_for_update()
        )
    }
    missing = [e for t, e in first.items() if t not in previous]
    if missing:
        # The reply overtook the assignment: leave a "met" placeholder the arming will find.
        await uow.conn.execute(
            pg_insert(timers).on_conflict_do_nothing(),
            [
                {
                    "ticket_id": e.ticket_id,
                    "metric": FIRST_RESPONSE,
                    "correlation_id": e.correlation_id,
                    "brand": e.brand,
                    "platform": e.platform,
                    "priority": "medium",
                    "agent_id": e.agent_id,
                    "state": "met",
                    "stopped_at": e.replied_at,
                }
                for e in missing
            ],
        )
    stopping = [e for t, e in first.items() if t in previous and previous[t].state in ("armed", "breached")]
    if stopping:
        await uow.conn.execute(
            update(timers)
            .where(timers.c.ticket_id == bindparam("tid"), timers.c.metric == FIRST_RESPONSE)
            .values(state="met", stopped_at=bindparam("at"), next_escalation_at=None),
            [{"tid": e.ticket_id, "at": e.replied_at} for e in stopping],
        )
    for e in stopping:
        deadline = previous[e.ticket_id].deadline
        in_time = deadline is not None and e.replied_at <= deadline
        metrics.met.labels(metric=FIRST_RESPONSE, outcome="in_time" if in_time else "late").inc()


async def stop_on_resolve(event: TicketResolved, uow: UnitOfWork, *, metrics: SlaMetrics) -> None:
    """A resolved ticket needs no more reminders, whatever its timers' state."""
    await uow.conn.execute(
        update(timers)
        .where(timers.c.ticket_id == event.ticket_id, timers.c.state.in_(("armed", "breached")))
        .values(state="cancelled", stopped_at=event.resolved_at, next_escalation_at=None)
    )


async def tighten_hot_topic(
    event: TrendDetected, uow: UnitOfWork, *, config: SocialdeskConfig, metrics: SlaMetrics
) -> None:
    """A group of posts about one incident is rising: its tickets get a tighter SLA.

    Live timers of the group are shortened once (by the policy's ``hot_topic_factor``,
    measured from intake, never earlier than now), and tickets that join the group later
    are armed tight. The scheduler is woken by the commit and fires what became due.
    """
    await uow.conn.execute(
        pg_insert(hot_groups)
        .values(
            group_id=event.group_id, brand=event.brand, detected_at=event.occurred_at, volume=event.volume
        )
        .on_conflict_do_update(index_elements=["group_id"], set_={"volume": event.volume})
    )
    factor = config.sla.hot_topic_factor
    tightened = (
        await uow.conn.execute(
            update(timers)
            .where(timers.c.group_id == event.group_id, timers.c.state == "armed", timers.c.hot.is_(False))
            .values(
                hot=True,
                deadline=func.greatest(_scaled(timers.c.deadline, factor), event.occurred_at),
                warn_at=func.greatest(_scaled(timers.c.warn_at, factor), event.occurred_at),
            )
            .returning(timers.c.ticket_id)
        )
    ).all()
    metrics.hot_topic_tightened.inc(len(tightened))


def _scaled(due: Any, factor: float) -> Any:
    """``started_at + (due - started_at) * factor`` in SQL, in seconds."""
    elapsed = func.extract("epoch", due - timers.c.started_at) * factor
    return timers.c.started_at + func.make_interval(0, 0, 0, 0, 0, 0, elapsed)


def _escalate_from(level: str | None) -> str:
    """A breach goes to the brand lead at least: L1/L2 (or no owner) escalate to L3."""
    if level is None or _RANK.get(level, 0) < _RANK["L2"]:
        return "L2"
    return level


class SlaScheduler:
    """Fires warnings, breaches and further escalations at their due time."""

    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        config: SocialdeskConfig,
        clock: Clock,
        metrics: SlaMetrics,
        max_idle_seconds: float = 1.0,
        batch: int = 500,
        ready: asyncio.Event | None = None,
    ) -> None:
        self._ready = ready
        self._uow_factory = uow_factory
        self._config = config
        self._clock = clock
        self._metrics = metrics
        self._max_idle = max_idle_seconds
        self._batch = batch
        # notify(): a timer may have been armed, re-plan the next wake-up.
        self._control = LoopControl()
        self.notify = self._control.notify
        self.stop = self._control.stop

    async def run(self) -> None:
        if self._ready is not None and not self._ready.is_set():
            # A reply may be waiting unread: judging deadlines before the consumer caught
            # up would page a lead for a ticket that was answered in time.
            log.info("sla scheduler: waiting for the consumer to catch up before firing")
            await self._ready.wait()
        gauge_due = 0.0
        while not self._control.stopping:
            loop_now = asyncio.get_running_loop().time()
            if loop_now >= gauge_due:
                await self.refresh_gauge()
                gauge_due = loop_now + 5.0
            try:
                next_due = await self.fire_due()
            except Exception:
                log.exception("sla scheduler: firing failed; retrying")
                next_due = None
            wait = self._max_idle
            if next_due is not None:
                wait = min(wait, max(0.0, (next_due - self._clock.now()).total_seconds()))
            await self._control.pause(wait)

    async def refresh_gauge(self) -> None:
        async with self._uow_factory() as uow:
            n = (
                await uow.conn.execute(
                    select(func.count()).select_from(timers).where(timers.c.state == "armed")
                )
            ).scalar_one()
        self._metrics.timers_armed.set(n)

    async def fire_due(self) -> datetime | None:
        """Emit everything due now, in one transaction; return when the next thing is due.

        Commits only when something fired: an idle scheduler writes nothing. Its own
        commits do not wake it (a quiet unit of work); the consumer's commits do.
        """
        now = self._clock.now()
        async with self._uow_factory.quiet() as uow:
            fired = await self._warn(uow, now)
            fired += await self._breach(uow, now)
            fired += await self._re_escalate(uow, now)
            next_due = await self._next_due(uow)
            if fired:
                await uow.commit()
        return next_due

    def _envelope(self, row: Any, now: datetime) -> dict[str, Any]:
        return {
            "producer": PRODUCER,
            "occurred_at": now,
            "ticket_id": row.ticket_id,
            "correlation_id": row.correlation_id,
            "brand": row.brand,
            "platform": row.platform,
            "priority": row.priority,
        }

    async def _due(self, uow: UnitOfWork, due: Any, *conditions: Any) -> list[Any]:
        """Lock a batch of timers that are due, earliest first; rows another replica holds
        are skipped, not waited for."""
        result = await uow.conn.execute(
            select(timers)
            .where(*conditions)
            .order_by(due)
            .limit(self._batch)
            .with_for_update(skip_locked=True)
        )
        return list(result.all())

    async def _warn(self, uow: UnitOfWork, now: datetime) -> int:
        rows = await self._due(
            uow,
            timers.c.warn_at,
            timers.c.state == "armed",
            timers.c.warned.is_(False),
            timers.c.warn_at <= now,
        )
        for row in rows:
            await uow.conn.execute(
                update(timers)
                .where(timers.c.ticket_id == row.ticket_id, timers.c.metric == row.metric)
                .values(warned=True)
            )
            if row.deadline <= now:
                continue  # the breach below says more than a warning would
            uow.emit(
                SlaWarning(
                    **self._envelope(row, now),
                    metric=row.metric,
                    deadline=row.deadline,
                    agent_id=row.agent_id,
                    remaining_seconds=(row.deadline - now).total_seconds(),
                )
            )
            self._metrics.warnings.labels(metric=row.metric, priority=row.priority).inc()
            self._metrics.fire_lateness_seconds.observe((now - row.warn_at).total_seconds())
        return len(rows)

    async def _breach(self, uow: UnitOfWork, now: datetime) -> int:
        rows = await self._due(uow, timers.c.deadline, timers.c.state == "armed", timers.c.deadline <= now)
        for row in rows:
            to_level, to_agent = self._config.escalation_target(row.brand, _escalate_from(row.agent_level))
            interval = self._config.sla.target_for(row.metric, row.priority, row.platform)
            await uow.conn.execute(
                update(timers)
                .where(timers.c.ticket_id == row.ticket_id, timers.c.metric == row.metric)
                .values(
                    state="breached",
                    escalation_level=to_level,
                    next_escalation_at=None if to_level == "TMT" else now + timedelta(seconds=interval),
                )
            )
            env = self._envelope(row, now)
            uow.emit(
                SlaBreached(
                    **env, metric=row.metric, deadline=row.deadline, breached_at=now, agent_id=row.agent_id
                )
            )
            uow.emit(
                TicketEscalated(
                    **env,
                    from_level=row.agent_level,
                    to_level=to_level,
                    to_agent_id=to_agent.id if to_agent else None,
                    reason=f"{row.metric} SLA breached",
                    deadline=row.deadline,
                )
            )
            self._metrics.breaches.labels(metric=row.metric, priority=row.priority).inc()
            self._metrics.escalations.labels(to_level=to_level).inc()
            self._metrics.fire_lateness_seconds.observe((now - row.deadline).total_seconds())
        return len(rows)

    async def _re_escalate(self, uow: UnitOfWork, now: datetime) -> int:
        """Still unanswered a whole SLA period after the last escalation: one rung up."""
        rows = await self._due(
            uow, timers.c.next_escalation_at, timers.c.state == "breached", timers.c.next_escalation_at <= now
        )
        for row in rows:
            to_level, to_agent = self._config.escalation_target(row.brand, row.escalation_level)
            interval = self._config.sla.target_for(row.metric, row.priority, row.platform)
            top = to_level == row.escalation_level or to_level == "TMT"
            await uow.conn.execute(
                update(timers)
                .where(timers.c.ticket_id == row.ticket_id, timers.c.metric == row.metric)
                .values(
                    escalation_level=to_level,
                    next_escalation_at=None if top else now + timedelta(seconds=interval),
                )
            )
            if to_level == row.escalation_level:
                continue
            uow.emit(
                TicketEscalated(
                    **self._envelope(row, now),
                    from_level=row.escalation_level,
                    to_level=to_level,
                    to_agent_id=to_agent.id if to_agent else None,
                    reason=f"{row.metric} still unanswered after escalation to {row.escalation_level}",
                    deadline=row.deadline,
                )
            )
            self._metrics.escalations.labels(to_level=to_level).inc()
        return len(rows)

    async def _next_due(self, uow: UnitOfWork) -> datetime | None:
        """The earliest warning, deadline or escalation still ahead.

        Three ``ORDER BY … LIMIT 1`` look-ups, each answered by its partial index, rather
        than one aggregate over every live timer (millions at a 2 h SLA under load).
        """
        questions = (
            select(timers.c.warn_at.label("due"))
            .where(timers.c.state == "armed", timers.c.warned.is_(False))
            .order_by(timers.c.warn_at)
            .limit(1),
            select(timers.c.deadline.label("due"))
            .where(timers.c.state == "armed")
            .order_by(timers.c.deadline)
            .limit(1),
            select(timers.c.next_escalation_at.label("due"))
            .where(timers.c.state == "breached", timers.c.next_escalation_at.is_not(None))
            .order_by(timers.c.next_escalation_at)
            .limit(1),
        )
        dues = [(await uow.conn.execute(q)).scalar() for q in questions]
        found = [d for d in dues if d is not None]
        return min(found) if found else None
