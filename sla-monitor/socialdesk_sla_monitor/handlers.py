"""One handler per consumed event type: load through the store, decide in the domain, save.

Assignments and replies arrive in volume and are handled in batches (a few statements
per batch, whatever its size); resolutions and hot topics are rare and handled one by one.
A commit wakes the scheduler (bootstrap wires it), which fires what became due.
"""

from __future__ import annotations

from collections.abc import Sequence

from socialdesk_runtime.config import SlaPolicy, SocialdeskConfig
from socialdesk_runtime.db import UnitOfWork
from socialdesk_schemas import AgentReplied, TicketAssigned, TicketQueued, TicketResolved, TrendDetected
from socialdesk_sla_monitor import domain
from socialdesk_sla_monitor.metrics import SlaMetrics
from socialdesk_sla_monitor.store import TimerStore

__all__ = [
    "on_agent_replied",
    "on_ticket_assigned",
    "on_ticket_queued",
    "on_ticket_resolved",
    "on_trend_detected",
]


async def _arm(
    events: Sequence[TicketAssigned | TicketQueued], uow: UnitOfWork, config: SocialdeskConfig
) -> None:
    store = TimerStore(uow)
    hot = await store.hot_among(e.group_id for e in events if e.group_id is not None)
    armed = {t.ticket_id: t for t in domain.arm_many(events, config=config, hot_groups=hot)}
    stored = await store.arm(list(armed.values()))
    completed = [m for t in stored if (m := domain.merge_armed(t, armed[t.ticket_id])) is not None]
    await store.save(completed)


async def on_ticket_assigned(
    events: list[TicketAssigned], uow: UnitOfWork, *, config: SocialdeskConfig
) -> None:
    """Arm first-response timers for assigned tickets, or record their new owner."""
    await _arm(events, uow, config)


async def on_ticket_queued(events: list[TicketQueued], uow: UnitOfWork, *, config: SocialdeskConfig) -> None:
    """Arm first-response timers for tickets waiting in a queue with no owner yet."""
    await _arm(events, uow, config)


async def on_agent_replied(events: list[AgentReplied], uow: UnitOfWork, *, metrics: SlaMetrics) -> None:
    """Agents answered: the clocks a reply stops are met (late or not) and escalation stops."""
    store = TimerStore(uow)
    replies = domain.first_replies(events)
    for metric in domain.STOPPED_BY_REPLY:
        found = await store.lock(replies, metric)
        await store.add(
            [domain.reply_placeholder(reply, metric) for t, reply in replies.items() if t not in found]
        )
        stopped = [
            s for t, timer in found.items() if (s := domain.stop(timer, replies[t].replied_at)) is not None
        ]
        await store.save([s.timer for s in stopped])
        for s in stopped:
            metrics.met.labels(metric=metric, outcome="in_time" if s.in_time else "late").inc()


async def on_ticket_resolved(event: TicketResolved, uow: UnitOfWork) -> None:
    """A resolved ticket needs no more reminders, whatever its clocks' state."""
    store = TimerStore(uow)
    live = await store.live_of(event.ticket_id)
    await store.save([c for t in live if (c := domain.cancel(t, event.resolved_at)) is not None])


async def on_trend_detected(
    event: TrendDetected, uow: UnitOfWork, *, policy: SlaPolicy, metrics: SlaMetrics
) -> None:
    """A group of posts about one incident is rising: its tickets get a tighter SLA.

    Live timers of the group are tightened once, and tickets that join the group later are
    armed tight (the hot group is remembered).
    """
    store = TimerStore(uow)
    await store.record_hot_group(
        group_id=event.group_id, brand=event.brand, detected_at=event.occurred_at, volume=event.volume
    )
    live = await store.armed_in_group(event.group_id)
    tightened = [
        n
        for t in live
        if (n := domain.tighten(t, factor=policy.hot_topic_factor, now=event.occurred_at)) is not None
    ]
    await store.save(tightened)
    metrics.hot_topic_tightened.inc(len(tightened))
