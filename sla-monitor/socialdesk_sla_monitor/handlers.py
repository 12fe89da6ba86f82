"""One handler per consumed event type: load through the store, decide in the domain, save.

Assignments, replies and customer messages arrive in volume and are handled in batches
(a few statements per batch, whatever its size); resolutions, pauses and hot topics are
rarer and handled one by one. Every clock armed, moved or stopped is told to the desk
(``SlaClockArmed`` / ``SlaClockStopped``), and every clock armed or moved to the
scheduler (``wake``): the commit wakes it if one is due before its planned wake-up.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import cast

from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_runtime.db import UnitOfWork
from socialdesk_schemas import (
    AgentReplied,
    Event,
    Kind,
    MessageClassified,
    MessageReceived,
    TicketAssigned,
    TicketQueued,
    TicketResolved,
    TrendDetected,
)
from socialdesk_schemas._events import Category  # not re-exported by the package yet
from socialdesk_schemas.desk import FollowUpPromised, TicketPending, TicketPriorityRaised, TicketReopened
from socialdesk_schemas.outbound import EscalationAcknowledged
from socialdesk_sla_monitor import domain
from socialdesk_sla_monitor.metrics import SlaMetrics
from socialdesk_sla_monitor.store import TimerStore

__all__ = [
    "on_agent_replied",
    "on_escalation_acknowledged",
    "on_follow_up_promised",
    "on_message_classified",
    "on_message_received",
    "on_ticket_assigned",
    "on_ticket_pending",
    "on_ticket_priority_raised",
    "on_ticket_queued",
    "on_ticket_reopened",
    "on_ticket_resolved",
    "on_trend_detected",
]


#: Told what a batch armed or moved, before its commit (the scheduler's ``armed``): the
#: commit wakes the scheduler only if one of them is due before its planned wake-up.
Wake = Callable[[Sequence[domain.Timer]], None]


def _tell_armed(uow: UnitOfWork, timers: Sequence[domain.Timer], now: datetime, wake: Wake) -> None:
    wake(timers)
    for timer in timers:
        if (event := domain.clock_armed(timer, now)) is not None:
            uow.emit(event)


def _tell_stopped(
    uow: UnitOfWork, stopped: Sequence[tuple[domain.Timer, domain.StopOutcome]], now: datetime
) -> None:
    for timer, outcome in stopped:
        uow.emit(domain.clock_stopped(timer, outcome, now))


async def _arm(
    events: Sequence[TicketAssigned | TicketQueued | TicketReopened],
    uow: UnitOfWork,
    config: SocialdeskConfig,
    wake: Wake,
) -> None:
    store = TimerStore(uow)
    known = await store.facts_of(e.ticket_id for e in events)
    by_agent = [e.ticket_id for e in events if isinstance(e, TicketReopened) and e.reason == "agent"]
    clocks = await store.clocks_of(by_agent) if by_agent else {}
    openings = [
        domain.opening(
            e,
            config,
            _about(known.get(e.ticket_id)),
            answered=domain.first_response_met(clocks.get(e.ticket_id, {})),
        )
        for e in events
    ]
    hot = await store.hot_among(o.group_id for o in openings if o.group_id is not None)
    armed = {(t.ticket_id, t.metric): t for t in domain.arm_many(openings, config=config, hot_groups=hot)}
    stored = await store.arm(list(armed.values()))
    changed: list[domain.Timer] = []
    told: list[domain.Timer] = []
    now = events[-1].occurred_at if events else datetime.min
    for timer in stored:
        fresh = armed[(timer.ticket_id, timer.metric)]
        merged = domain.merge_armed(timer, fresh)
        if merged is not None:
            changed.append(merged)
            told.append(merged)
            # A reply overtook the assignment: the desk learns the clock and its outcome now.
            for event in domain.clock_completed(timer, merged, now) or ():
                uow.emit(event)
        elif timer.state == "armed" and (timer.started_at, timer.deadline) == (
            fresh.started_at,
            fresh.deadline,
        ):
            told.append(timer)  # inserted now (or the same clock re-owned: the desk is told again)
    await store.save(changed)
    _tell_armed(uow, told, now, wake)


def _about(known: tuple[str, str] | None) -> tuple[Kind, Category] | None:
    """The stored kind and category (written from validated events) as the contract's types."""
    return None if known is None else (cast(Kind, known[0]), cast(Category, known[1]))


async def on_ticket_assigned(
    events: list[TicketAssigned], uow: UnitOfWork, *, config: SocialdeskConfig, wake: Wake
) -> None:
    """Arm the opening clocks of assigned tickets, or record their new owner."""
    await _arm(events, uow, config, wake)


async def on_ticket_queued(
    events: list[TicketQueued], uow: UnitOfWork, *, config: SocialdeskConfig, wake: Wake
) -> None:
    """Arm the opening clocks of tickets waiting in a queue with no owner yet."""
    await _arm(events, uow, config, wake)


async def on_ticket_reopened(
    event: TicketReopened, uow: UnitOfWork, *, config: SocialdeskConfig, wake: Wake
) -> None:
    """A reopened ticket's clocks are armed again, from the reopening."""
    await _arm([event], uow, config, wake)


async def on_message_classified(
    events: list[MessageClassified], uow: UnitOfWork, *, config: SocialdeskConfig, wake: Wake
) -> None:
    """Remember what each new ticket is about: policies match on its kind and category.

    Usually read before the ticket's assignment; when read after it, the running clocks
    take the target their policy gives.
    """
    store = TimerStore(uow)
    about = {e.ticket_id: (e.kind, e.category) for e in events if e.opens_ticket and e.queue == "cx"}
    await store.record_facts([(t, kind, category) for t, (kind, category) in about.items()])
    await _move(
        uow, about, lambda timer: domain.retarget(timer, about[timer.ticket_id], config), events, wake
    )


async def _move(
    uow: UnitOfWork,
    tickets: Iterable[uuid.UUID],
    change: Callable[[domain.Timer], domain.Timer | None],
    events: Sequence[Event],
    wake: Wake,
) -> None:
    """Each clock of ``tickets`` that ``change`` moves is saved, and the desk told."""
    store = TimerStore(uow)
    clocks = await store.clocks_of(tickets)
    moved = [m for timers in clocks.values() for timer in timers.values() if (m := change(timer)) is not None]
    await store.save(moved)
    _tell_armed(uow, moved, events[-1].occurred_at, wake)


async def on_agent_replied(events: list[AgentReplied], uow: UnitOfWork, *, metrics: SlaMetrics) -> None:
    """Agents answered: the response clocks a reply stops are met (late or not) and escalation stops."""
    store = TimerStore(uow)
    replies = domain.first_replies(events)
    for metric in domain.STOPPED_BY_REPLY:
        found = await store.lock(replies, metric)
        if metric == domain.FIRST_RESPONSE:
            # A reply may overtake the assignment (another topic): remembered until it arrives.
            await store.add(
                [domain.reply_placeholder(reply, metric) for t, reply in replies.items() if t not in found]
            )
        stopped = [
            s for t, timer in found.items() if (s := domain.stop(timer, replies[t].replied_at)) is not None
        ]
        await store.save([s.timer for s in stopped])
        for s in stopped:
            metrics.met.labels(metric=metric, outcome="in_time" if s.in_time else "late").inc()
        _tell_stopped(
            uow, [(s.timer, "met" if s.in_time else "met_late") for s in stopped], events[-1].occurred_at
        )


async def on_ticket_resolved(event: TicketResolved, uow: UnitOfWork, *, metrics: SlaMetrics) -> None:
    """A resolved ticket meets its resolution clock and needs no more reminders."""
    store = TimerStore(uow)
    changed: list[tuple[domain.Timer, domain.StopOutcome]] = []
    for timer in await store.live_of(event.ticket_id):
        if timer.metric == domain.RESOLUTION:
            if (met := domain.stop(timer, event.resolved_at)) is not None:
                changed.append((met.timer, "met" if met.in_time else "met_late"))
                metrics.met.labels(metric=timer.metric, outcome="in_time" if met.in_time else "late").inc()
        elif (cancelled := domain.cancel(timer, event.resolved_at)) is not None:
            changed.append((cancelled, "cancelled"))
    await store.save([t for t, _ in changed])
    _tell_stopped(uow, changed, event.occurred_at)


async def on_escalation_acknowledged(
    event: EscalationAcknowledged, uow: UnitOfWork, *, metrics: SlaMetrics
) -> None:
    """Someone pressed Acknowledge in Slack (issue 11): the breached clocks stop climbing.

    A rung that fired between the click and this read stays sent; none fires after it."""
    store = TimerStore(uow)
    stopped = [
        t
        for timer in await store.live_of(event.ticket_id)
        if (t := domain.acknowledge(timer, event.acknowledged_at))
    ]
    await store.save(stopped)
    metrics.acknowledged.labels(outcome="stopped" if stopped else "nothing").inc()


async def on_ticket_pending(event: TicketPending, uow: UnitOfWork, *, config: SocialdeskConfig) -> None:
    """The ticket waits on the customer: its resolution clock pauses until they write."""
    store = TimerStore(uow)
    clocks = (await store.clocks_of([event.ticket_id])).get(event.ticket_id, {})
    timer = clocks.get(domain.RESOLUTION)
    if timer is None:
        return
    paused = domain.pause(timer, event.pending_at, domain.calendar_named(config, timer.calendar))
    if paused is not None:
        await store.save([paused])
        _tell_stopped(uow, [(paused, "paused")], event.occurred_at)


async def on_ticket_priority_raised(
    events: list[TicketPriorityRaised], uow: UnitOfWork, *, config: SocialdeskConfig, wake: Wake
) -> None:
    """Tickets became more urgent: their running clocks take the tighter target."""
    raised = {e.ticket_id: e for e in events}

    def change(timer: domain.Timer) -> domain.Timer | None:
        event = raised[timer.ticket_id]
        return domain.reprioritize(timer, event.priority, config, event.raised_at)

    await _move(uow, raised, change, events, wake)


async def on_follow_up_promised(
    event: FollowUpPromised, uow: UnitOfWork, *, config: SocialdeskConfig, wake: Wake
) -> None:
    """An agent promised the customer a follow-up: a timer until the promised time.

    A later promise replaces an earlier one; an older promise read late changes nothing.
    """
    store = TimerStore(uow)
    clocks = (await store.clocks_of([event.ticket_id])).get(event.ticket_id, {})
    known = clocks.get(domain.FOLLOW_UP)
    if known is not None and known.started_at is not None and known.started_at >= event.occurred_at:
        return
    ticket = clocks.get(domain.FIRST_RESPONSE) or clocks.get(domain.RESOLUTION)
    timer = domain.promise(event, config, priority=ticket.priority if ticket else "medium")
    await store.put([timer])
    _tell_armed(uow, [timer], event.occurred_at, wake)


async def on_message_received(
    events: list[MessageReceived], uow: UnitOfWork, *, config: SocialdeskConfig, wake: Wake
) -> None:
    """A customer wrote: a paused resolution clock runs again, and a message after an
    answer starts the next-response clock."""
    store = TimerStore(uow)
    later = sorted((e for e in events if not e.opens_ticket), key=lambda e: e.received_at)
    all_clocks = await store.clocks_of(e.ticket_id for e in later)
    moved: dict[tuple[uuid.UUID, str], domain.Timer] = {}
    for message in later:
        clocks = all_clocks.get(message.ticket_id)
        if not clocks:
            continue  # not a ticket with clocks (marketing, dismissed, or not armed yet)
        resolution = clocks.get(domain.RESOLUTION)
        if resolution is not None and resolution.paused_at is not None:
            calendar = domain.calendar_named(config, resolution.calendar)
            resumed = domain.resume(
                resolution, message.received_at, calendar, warn_fraction=config.sla.warn_at_fraction
            )
            if resumed is not None:
                clocks[domain.RESOLUTION] = moved[(message.ticket_id, domain.RESOLUTION)] = resumed
        armed = domain.arm_next_response(message, clocks, config)
        if armed is not None:
            clocks[domain.NEXT_RESPONSE] = moved[(message.ticket_id, domain.NEXT_RESPONSE)] = armed
    await store.put(list(moved.values()))
    _tell_armed(uow, list(moved.values()), events[-1].occurred_at, wake)


async def on_trend_detected(
    event: TrendDetected, uow: UnitOfWork, *, config: SocialdeskConfig, metrics: SlaMetrics, wake: Wake
) -> None:
    """A group of posts about one incident is rising: its tickets get a tighter SLA.

    Live timers of the group are tightened once, and tickets that join the group later are
    armed tight (the hot group is remembered).
    """
    policy = config.sla
    store = TimerStore(uow)
    await store.record_hot_group(
        group_id=event.group_id, brand=event.brand, detected_at=event.occurred_at, volume=event.volume
    )
    live = await store.armed_in_group(event.group_id)
    tightened = [
        n
        for t in live
        if (
            n := domain.tighten(
                t,
                factor=policy.hot_topic_factor,
                now=event.occurred_at,
                calendar=domain.calendar_named(config, t.calendar),
                warn_fraction=policy.warn_at_fraction,
            )
        )
        is not None
    ]
    await store.save(tightened)
    metrics.hot_topic_tightened.inc(len(tightened))
    _tell_armed(uow, tightened, event.occurred_at, wake)
