"""Timers: one SLA clock of one ticket, and how events arm, stop, cancel and tighten it."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, cast

from socialdesk_runtime.config import BusinessCalendar
from socialdesk_runtime.config.types import TWENTY_FOUR_SEVEN, SlaMetric
from socialdesk_schemas import (
    AgentReplied,
    Event,
    Kind,
    Level,
    Platform,
    Priority,
)
from socialdesk_schemas._events import Category  # not re-exported by the package yet
from socialdesk_schemas.sla import Clock, SlaClockArmed, SlaClockStopped
from socialdesk_sla_monitor.domain.calendar import due_after, open_seconds

__all__ = [
    "FIRST_RESPONSE",
    "FOLLOW_UP",
    "LIVE",
    "NEXT_RESPONSE",
    "PRODUCER",
    "RESOLUTION",
    "STOPPED_BY_REPLY",
    "Fired",
    "StopOutcome",
    "Stopped",
    "Timer",
    "TimerState",
    "cancel",
    "clock_armed",
    "clock_completed",
    "clock_stopped",
    "first_replies",
    "new_episode",
    "park",
    "pause",
    "reply_placeholder",
    "resume",
    "sla_metric",
    "stop",
    "tighten",
]


PRODUCER = "sla-monitor"
FIRST_RESPONSE: SlaMetric = "first_response"
NEXT_RESPONSE: SlaMetric = "next_response"
RESOLUTION: SlaMetric = "resolution"
#: A promised follow-up (seed 001) is a clock too: kept by the next reply.
FOLLOW_UP: Clock = "follow_up"
#: The clocks an agent's reply meets (resolution runs on until the ticket is resolved).
STOPPED_BY_REPLY: tuple[Clock, ...] = (FIRST_RESPONSE, NEXT_RESPONSE, FOLLOW_UP)
StopOutcome = Literal["met", "met_late", "paused", "cancelled"]

#: armed → met (answered, in time or late) | breached (escalating) → met ; any live → cancelled;
#: parked: the scheduler could not decide it (poison), set aside so others still fire.
TimerState = Literal["armed", "met", "breached", "cancelled", "parked"]
#: States in which a timer still warns, breaches or escalates.
LIVE: tuple[TimerState, ...] = ("armed", "breached")


@dataclass(frozen=True, slots=True)
class Timer:
    """One SLA clock of one ticket, as stored (one row of the ``timers`` table)."""

    ticket_id: uuid.UUID
    metric: Clock
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
    #: The hours this clock counts (``"24/7"`` or a calendar name) and its target in them.
    calendar: str = TWENTY_FOUR_SEVEN
    target_seconds: float | None = None
    #: Paused while the ticket waits on the customer, with the open time it had left.
    paused_at: datetime | None = None
    remaining_seconds: float | None = None
    kind: Kind | None = None
    category: Category | None = None


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


# --- stopping ---------------------------------------------------------------------------


def first_replies(events: Iterable[AgentReplied]) -> dict[uuid.UUID, AgentReplied]:
    """The earliest reply of each ticket in a batch (the one that met the SLA, if any)."""
    first: dict[uuid.UUID, AgentReplied] = {}
    for event in events:
        if event.ticket_id not in first or event.replied_at < first[event.ticket_id].replied_at:
            first[event.ticket_id] = event
    return first


def sla_metric(timer: Timer) -> SlaMetric:
    """The SLA metric a response clock measures (a follow-up is not one: ``ValueError``)."""
    if timer.metric == FOLLOW_UP:
        raise ValueError(f"timer {timer.ticket_id}/follow_up is a promise, not an SLA metric")
    return cast(SlaMetric, timer.metric)


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


def new_episode(stored: Timer, started_at: datetime | None) -> bool:
    """Whether a clock starting at ``started_at`` is a new episode of the ticket (it was
    reopened, or the customer wrote again), not the same one re-owned: a reassignment or
    a claim keeps the intake time."""
    return started_at is not None and stored.started_at is not None and started_at > stored.started_at


def _before_start(timer: Timer, at: datetime) -> bool:
    return timer.started_at is not None and at < timer.started_at


def stop(timer: Timer, at: datetime) -> Stopped | None:
    """A response at ``at`` meets a live timer (late or not) and ends its escalation.

    A response made before the clock started (an earlier episode's, read late) meets
    nothing. Whether it was in time is judged by when it was made, not when it was read.
    """
    if timer.state not in LIVE or _before_start(timer, at):
        return None
    if timer.paused_at is not None:  # a paused clock had open time left, or none
        in_time = (timer.remaining_seconds or 0.0) > 0
    else:
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


def tighten(
    timer: Timer,
    *,
    factor: float,
    now: datetime,
    calendar: BusinessCalendar | None = None,
    warn_fraction: float = 0.75,
) -> Timer | None:
    """A live timer of a group that became a hot topic is shortened once.

    Its warning and deadline are scaled by ``factor`` from the start, never earlier than
    ``now`` (a timer tightened past its due time fires at once, not in the past).
    """
    if timer.state != "armed" or timer.hot or timer.started_at is None or timer.paused_at is not None:
        return None
    start = timer.started_at
    if timer.target_seconds is not None:
        # Counted in the clock's own hours: the tighter target from the same start.
        target = timer.target_seconds * factor
        deadline = max(due_after(calendar, start, target), now)
        warn_at = (
            None if timer.warn_at is None else max(due_after(calendar, start, target * warn_fraction), now)
        )
        return dataclasses.replace(timer, hot=True, target_seconds=target, deadline=deadline, warn_at=warn_at)

    def scaled(due: datetime | None) -> datetime | None:
        return None if due is None else max(start + (due - start) * factor, now)

    return dataclasses.replace(
        timer, hot=True, deadline=scaled(timer.deadline), warn_at=scaled(timer.warn_at)
    )


# --- pausing ----------------------------------------------------------------------------


def pause(timer: Timer, at: datetime, calendar: BusinessCalendar | None) -> Timer | None:
    """The ticket waits on the customer: an armed clock stops and keeps the open time it
    had left (none if it was already past due: it breaches as it would have)."""
    if timer.state != "armed" or timer.paused_at is not None or timer.deadline is None:
        return None
    if _before_start(timer, at) or at >= timer.deadline:
        return None
    left = open_seconds(calendar, at, timer.deadline)
    return dataclasses.replace(timer, paused_at=at, remaining_seconds=left, deadline=None, warn_at=None)


def resume(
    timer: Timer, at: datetime, calendar: BusinessCalendar | None, *, warn_fraction: float
) -> Timer | None:
    """The customer wrote: a paused clock runs again with the open time it had left, and
    warns when ``1 - warn_fraction`` of its target is left (unless it warned already)."""
    if timer.state != "armed" or timer.paused_at is None:
        return None
    start = max(at, timer.paused_at)
    left = timer.remaining_seconds or 0.0
    warn_at = None
    if not timer.warned and timer.target_seconds is not None:
        warn_left = left - timer.target_seconds * (1 - warn_fraction)
        if warn_left > 0:
            warn_at = due_after(calendar, start, warn_left)
    return dataclasses.replace(
        timer,
        paused_at=None,
        remaining_seconds=None,
        deadline=due_after(calendar, start, left),
        warn_at=warn_at,
    )


# --- what the desk is told --------------------------------------------------------------


def clock_armed(timer: Timer, now: datetime) -> SlaClockArmed | None:
    """The desk sorts its queue by due time: a clock armed, moved or resumed."""
    if timer.deadline is None or timer.state != "armed":
        return None
    return _armed(timer, timer.deadline, None if timer.warned else timer.warn_at, now)


def _armed(timer: Timer, due_at: datetime, warn_at: datetime | None, now: datetime) -> SlaClockArmed:
    return SlaClockArmed(
        producer=PRODUCER,
        occurred_at=now,
        ticket_id=timer.ticket_id,
        correlation_id=timer.correlation_id,
        brand=timer.brand,
        clock=timer.metric,
        due_at=due_at,
        warn_at=warn_at,
        armed_at=timer.started_at if timer.started_at is not None else now,
    )


def clock_stopped(timer: Timer, outcome: StopOutcome, now: datetime) -> SlaClockStopped:
    """A clock stopped: met in time or late, paused, cancelled."""
    return SlaClockStopped(
        producer=PRODUCER,
        occurred_at=now,
        ticket_id=timer.ticket_id,
        correlation_id=timer.correlation_id,
        brand=timer.brand,
        clock=timer.metric,
        outcome=outcome,
        stopped_at=timer.stopped_at or timer.paused_at or now,
    )


def clock_completed(
    stored: Timer, merged: Timer, now: datetime
) -> tuple[SlaClockArmed, SlaClockStopped] | None:
    """A reply's placeholder (``stored``) that learnt its deadline from the arming (``merged``).

    The desk saw this clock neither armed (it was met before it was armed) nor stopped (a
    placeholder has no deadline to judge by): it is told both now, in that order, with
    whether the reply came in time. Anything else: ``None``.
    """
    if stored.state != "met" or stored.deadline is not None:
        return None
    if merged.state != "met" or merged.deadline is None or merged.stopped_at is None:
        return None
    armed = _armed(merged, merged.deadline, None, now)
    outcome: StopOutcome = "met" if merged.stopped_at <= merged.deadline else "met_late"
    return armed, clock_stopped(merged, outcome, now)
