"""Timers: one SLA clock of one ticket, and how events arm, stop, cancel and tighten it."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from socialdesk_runtime.config import SlaPolicy, SocialdeskConfig
from socialdesk_runtime.config.types import SlaMetric
from socialdesk_schemas import AgentReplied, Event, Level, Platform, Priority, TicketAssigned, TicketQueued
from socialdesk_sla_monitor.domain.policy import target_seconds

__all__ = [
    "FIRST_RESPONSE",
    "LIVE",
    "PRODUCER",
    "STOPPED_BY_REPLY",
    "Fired",
    "Stopped",
    "Timer",
    "TimerState",
    "arm",
    "arm_many",
    "cancel",
    "first_replies",
    "merge_armed",
    "park",
    "reply_placeholder",
    "stop",
    "tighten",
]


PRODUCER = "sla-monitor"
FIRST_RESPONSE: SlaMetric = "first_response"
#: The clocks an agent's reply meets (resolution runs on until the ticket is resolved).
STOPPED_BY_REPLY: tuple[SlaMetric, ...] = (FIRST_RESPONSE,)

#: armed → met (answered, in time or late) | breached (escalating) → met ; any live → cancelled;
#: parked: the scheduler could not decide it (poison), set aside so others still fire.
TimerState = Literal["armed", "met", "breached", "cancelled", "parked"]
#: States in which a timer still warns, breaches or escalates.
LIVE: tuple[TimerState, ...] = ("armed", "breached")


@dataclass(frozen=True, slots=True)
class Timer:
    """One SLA clock of one ticket, as stored (one row of the ``timers`` table)."""

    ticket_id: uuid.UUID
    metric: SlaMetric
    correlation_id: uuid.UUID
    brand: str
    platform: Platform
    priority: Priority
    state: TimerState
    agent_id: str | None = None
    agent_level: Level | None = None
    started_at: datetime | None = None
    deadline: datetime | None = None
    warn_at: datetime | None = None
    warned: bool = False
    escalation_level: Level | None = None
    next_escalation_at: datetime | None = None
    stopped_at: datetime | None = None
    group_id: str | None = None
    #: Tightened once because its incident group became a hot topic.
    hot: bool = False


@dataclass(frozen=True, slots=True)
class Fired:
    """What the scheduler decided for one due timer: its new state and what to emit."""

    timer: Timer
    events: tuple[Event, ...] = ()


@dataclass(frozen=True, slots=True)
class Stopped:
    """A live timer met by a reply, and whether the reply came in time."""

    timer: Timer
    in_time: bool


# --- arming -----------------------------------------------------------------------------


def arm(
    event: TicketAssigned | TicketQueued,
    *,
    metric: SlaMetric,
    started_at: datetime,
    policy: SlaPolicy,
    hot: bool,
) -> Timer:
    """A new live timer for the event's ticket, due by the policy from ``started_at``.

    A ticket of an incident group that is already a hot topic is armed tight at once
    (seed 001: adjust the SLA for the day's hot topics).
    """
    seconds = target_seconds(policy, metric, event.priority, event.platform, hot_topic=hot)
    owner = event if isinstance(event, TicketAssigned) else None
    return Timer(
        ticket_id=event.ticket_id,
        metric=metric,
        correlation_id=event.correlation_id,
        brand=event.brand,
        platform=event.platform,
        priority=event.priority,
        state="armed",
        agent_id=owner.agent_id if owner else None,
        agent_level=owner.agent_level if owner else None,
        started_at=started_at,
        deadline=started_at + timedelta(seconds=seconds),
        warn_at=started_at + timedelta(seconds=seconds * policy.warn_at_fraction),
        group_id=event.group_id,
        hot=hot,
    )


def arm_many(
    events: Sequence[TicketAssigned | TicketQueued], *, config: SocialdeskConfig, hot_groups: set[str]
) -> list[Timer]:
    """First-response timers for a batch of assignments; the SLA runs from intake.

    A ticket re-owned within the batch keeps its first timer with the newest owner. A
    ticket of a brand the configuration does not know is refused (``KeyError``: the
    runtime dead-letters that event): its breach could never be escalated, and would
    fail every pass of the scheduler instead.
    """
    timers: dict[uuid.UUID, Timer] = {}
    for event in events:
        config.brand(event.brand)
        known = timers.get(event.ticket_id)
        if known is not None and not _new_episode(known, event.received_at):
            owner = event if isinstance(event, TicketAssigned) else None
            timers[event.ticket_id] = dataclasses.replace(
                timers[event.ticket_id],
                agent_id=owner.agent_id if owner else None,
                agent_level=owner.agent_level if owner else None,
            )
            continue
        timers[event.ticket_id] = arm(
            event,
            metric=FIRST_RESPONSE,
            started_at=event.received_at,
            policy=config.sla,
            hot=event.group_id in hot_groups,
        )
    return list(timers.values())


def _new_episode(stored: Timer, started_at: datetime | None) -> bool:
    """Whether a clock starting at ``started_at`` is a new episode of the ticket (it was
    reopened), not the same one re-owned: a reassignment or claim keeps the intake time."""
    return started_at is not None and stored.started_at is not None and started_at > stored.started_at


def merge_armed(stored: Timer, armed: Timer) -> Timer | None:
    """What arming changes on a timer that already existed (beyond its owner).

    A clock that starts later than the stored one is a reopened ticket's new episode:
    it replaces the stored timer, whatever its state (issue 7.2: a reopened ticket got
    no new timer). Otherwise a live or finished timer keeps its state, and the
    placeholder a reply left when it overtook the assignment (met, no deadline yet)
    learns its deadline now, so whether it was met in time is on record. ``None``:
    nothing more to save.
    """
    if _new_episode(stored, armed.started_at):
        return armed
    if stored.state != "met" or stored.deadline is not None:
        return None
    return dataclasses.replace(
        stored,
        deadline=armed.deadline,
        warn_at=armed.warn_at,
        started_at=armed.started_at,
        brand=armed.brand,
    )


# --- stopping ---------------------------------------------------------------------------


def first_replies(events: Iterable[AgentReplied]) -> dict[uuid.UUID, AgentReplied]:
    """The earliest reply of each ticket in a batch (the one that met the SLA, if any)."""
    first: dict[uuid.UUID, AgentReplied] = {}
    for event in events:
        if event.ticket_id not in first or event.replied_at < first[event.ticket_id].replied_at:
            first[event.ticket_id] = event
    return first


def reply_placeholder(reply: AgentReplied, metric: SlaMetric) -> Timer:
    """A reply that overtook the assignment (they travel on different topics): a met
    timer without a deadline, which the arming will find and complete."""
    return Timer(
        ticket_id=reply.ticket_id,
        metric=metric,
        correlation_id=reply.correlation_id,
        brand=reply.brand,
        platform=reply.platform,
        priority="medium",  # unknown until the assignment arrives; a met timer never fires
        state="met",
        agent_id=reply.agent_id,
        stopped_at=reply.replied_at,
    )


def _before_start(timer: Timer, at: datetime) -> bool:
    return timer.started_at is not None and at < timer.started_at


def stop(timer: Timer, at: datetime) -> Stopped | None:
    """A response at ``at`` meets a live timer (late or not) and ends its escalation.

    A response made before the clock started (an earlier episode's, read late) meets
    nothing. Whether it was in time is judged by when it was made, not when it was read.
    """
    if timer.state not in LIVE or _before_start(timer, at):
        return None
    in_time = timer.deadline is not None and at <= timer.deadline
    met = dataclasses.replace(timer, state="met", stopped_at=at, next_escalation_at=None)
    return Stopped(met, in_time)


def cancel(timer: Timer, at: datetime) -> Timer | None:
    """A resolved ticket needs no more reminders: a live timer is cancelled.

    A resolution made before the clock started belongs to an earlier episode of a
    reopened ticket, read late (issue 7.7): it cancels nothing.
    """
    if timer.state not in LIVE or _before_start(timer, at):
        return None
    return dataclasses.replace(timer, state="cancelled", stopped_at=at, next_escalation_at=None)


def park(timer: Timer) -> Timer:
    """A timer the scheduler failed to decide is set aside, never picked again, so one bad
    row cannot stop every other breach (issue 7.5). It stays in the table for an operator."""
    return dataclasses.replace(timer, state="parked", next_escalation_at=None)


def tighten(timer: Timer, *, factor: float, now: datetime) -> Timer | None:
    """A live timer of a group that became a hot topic is shortened once.

    Its warning and deadline are scaled by ``factor`` from the start, never earlier than
    ``now`` (a timer tightened past its due time fires at once, not in the past).
    """
    if timer.state != "armed" or timer.hot or timer.started_at is None:
        return None
    start = timer.started_at

    def scaled(due: datetime | None) -> datetime | None:
        return None if due is None else max(start + (due - start) * factor, now)

    return dataclasses.replace(
        timer, hot=True, deadline=scaled(timer.deadline), warn_at=scaled(timer.warn_at)
    )
