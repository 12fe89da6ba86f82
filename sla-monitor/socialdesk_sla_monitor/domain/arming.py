"""Arming: which clocks a ticket's events start, due when, by the policy and calendar.

An opening (a ticket assigned or queued, or reopened because the customer wrote) starts the
first-response and the resolution clock; an agent's reopening only the resolution clock (no
customer is waiting for an answer); a customer message after an answer starts the
next-response clock.
Targets come from :func:`~socialdesk_sla_monitor.domain.policy.target_seconds` with what
is known of the ticket (:class:`Facts`), and are counted in the hours of its calendar.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_runtime.config.types import SlaMetric
from socialdesk_schemas import Kind, Level, MessageReceived, Priority, TicketAssigned, TicketQueued
from socialdesk_schemas._events import Category  # not re-exported by the package yet
from socialdesk_schemas.desk import TicketReopened
from socialdesk_schemas.sla import Clock
from socialdesk_sla_monitor.domain.calendar import due_after
from socialdesk_sla_monitor.domain.policy import Facts, calendar_for, calendar_named, target_seconds
from socialdesk_sla_monitor.domain.timers import (
    FIRST_RESPONSE,
    LIVE,
    NEXT_RESPONSE,
    RESOLUTION,
    Timer,
    new_episode,
    sla_metric,
)

__all__ = [
    "OPENING_CLOCKS",
    "Opening",
    "arm",
    "arm_many",
    "arm_next_response",
    "first_response_met",
    "merge_armed",
    "opening",
    "reprioritize",
    "retarget",
]

#: The clocks an opening starts.
OPENING_CLOCKS: tuple[SlaMetric, ...] = (FIRST_RESPONSE, RESOLUTION)

Opened = TicketAssigned | TicketQueued | TicketReopened


@dataclass(frozen=True, slots=True)
class Opening:
    """A ticket that needs answering from ``started_at``, and who owns it."""

    ticket_id: uuid.UUID
    correlation_id: uuid.UUID
    facts: Facts
    started_at: datetime
    agent_id: str | None = None
    agent_level: Level | None = None
    group_id: str | None = None
    #: The clocks it starts.
    clocks: tuple[SlaMetric, ...] = OPENING_CLOCKS


def first_response_met(clocks: Mapping[Clock, Timer]) -> bool:
    """Whether a ticket's first response was ever met, from its stored clocks (a ticket with
    none stored: assume so)."""
    first = clocks.get(FIRST_RESPONSE)
    return first is None or first.state == "met"


def _level_of(config: SocialdeskConfig, agent_id: str | None) -> Level | None:
    if agent_id is None:
        return None
    try:
        return config.agent(agent_id).level
    except KeyError:  # an agent gone from the file still owns the ticket; the level is unknown
        return None


def opening(
    event: Opened,
    config: SocialdeskConfig,
    about: tuple[Kind, Category] | None = None,
    *,
    answered: bool = True,
) -> Opening:
    """The opening an assignment, a queueing or a reopening is.

    ``about`` adds what the classification said (kind, category) when it was read.
    ``answered``: whether the ticket's first response was ever met; an agent reopening a
    ticket nobody answered owes the customer a first response still.
    A brand the configuration does not know is refused (``KeyError``: the runtime
    dead-letters that event): its breach could never be escalated.
    """
    config.brand(event.brand)
    known = Facts(
        brand=event.brand,
        platform=event.platform,
        priority=event.priority,
        kind=about[0] if about else None,
        category=about[1] if about else None,
    )
    if isinstance(event, TicketReopened):
        return Opening(
            event.ticket_id,
            event.correlation_id,
            known,
            event.reopened_at,
            agent_id=event.agent_id,
            agent_level=_level_of(config, event.agent_id),
            clocks=OPENING_CLOCKS if event.reason == "customer_wrote" or not answered else (RESOLUTION,),
        )
    owner = event if isinstance(event, TicketAssigned) else None
    return Opening(
        event.ticket_id,
        event.correlation_id,
        known,
        event.received_at,
        agent_id=owner.agent_id if owner else None,
        agent_level=owner.agent_level if owner else None,
        group_id=event.group_id,
    )


def arm(
    opened: Opening,
    *,
    metric: SlaMetric,
    config: SocialdeskConfig,
    hot: bool,
    started_at: datetime | None = None,
) -> Timer:
    """A new live timer of ``metric``, due by the policy after its target in open hours.

    A ticket of an incident group that is already a hot topic is armed tight at once
    (seed 001: adjust the SLA for the day's hot topics).
    """
    facts = opened.facts
    start = opened.started_at if started_at is None else started_at
    policy = config.sla
    seconds = target_seconds(policy, metric, facts.priority, facts.platform, hot_topic=hot, facts=facts)
    calendar_name = calendar_for(config, facts)
    calendar = calendar_named(config, calendar_name)
    return Timer(
        ticket_id=opened.ticket_id,
        metric=metric,
        correlation_id=opened.correlation_id,
        brand=facts.brand,
        platform=facts.platform,
        priority=facts.priority,
        state="armed",
        agent_id=opened.agent_id,
        agent_level=opened.agent_level,
        started_at=start,
        deadline=due_after(calendar, start, seconds),
        warn_at=due_after(calendar, start, seconds * policy.warn_at_fraction),
        group_id=opened.group_id,
        hot=hot,
        calendar=calendar_name,
        target_seconds=seconds,
        kind=facts.kind,
        category=facts.category,
    )


def arm_many(openings: Sequence[Opening], *, config: SocialdeskConfig, hot_groups: set[str]) -> list[Timer]:
    """The opening clocks of a batch of openings.

    A ticket re-owned within the batch keeps its clocks with the newest owner; one
    reopened within the batch (a later start) is armed from the later opening.
    """
    latest: dict[uuid.UUID, Opening] = {}
    for opened in openings:
        known = latest.get(opened.ticket_id)
        if known is not None and opened.started_at <= known.started_at:
            opened = dataclasses.replace(known, agent_id=opened.agent_id, agent_level=opened.agent_level)
        latest[opened.ticket_id] = opened
    return [
        arm(opened, metric=metric, config=config, hot=opened.group_id in hot_groups)
        for opened in latest.values()
        for metric in opened.clocks
    ]


def merge_armed(stored: Timer, armed: Timer) -> Timer | None:
    """What arming changes on a timer that already existed (beyond its owner).

    A clock that starts later than the stored one is a reopened ticket's new episode:
    it replaces the stored timer, whatever its state (issue 7.2: a reopened ticket got
    no new timer). Otherwise a live or finished timer keeps its state, and the
    placeholder a reply left when it overtook the assignment (met, no deadline yet)
    learns its deadline now, so whether it was met in time is on record. ``None``:
    nothing more to save.
    """
    if new_episode(stored, armed.started_at):
        return armed
    if stored.state != "met" or stored.deadline is not None:
        return None
    return dataclasses.replace(
        stored,
        deadline=armed.deadline,
        warn_at=armed.warn_at,
        started_at=armed.started_at,
        brand=armed.brand,
        calendar=armed.calendar,
        target_seconds=armed.target_seconds,
    )


def arm_next_response(
    message: MessageReceived, clocks: Mapping[Clock, Timer], config: SocialdeskConfig
) -> Timer | None:
    """A customer message after an answer starts the next-response clock.

    ``clocks`` are the ticket's stored timers. Nothing starts before the ticket was
    answered at least once (the first-response clock runs), while an earlier message
    still waits for its answer (the next-response clock runs), for a message older than
    the last answer, or for a ticket this service never armed (not a CX ticket).
    """
    answered = [
        t
        for metric in (FIRST_RESPONSE, NEXT_RESPONSE)
        if (t := clocks.get(metric)) is not None and t.state == "met" and t.stopped_at is not None
    ]
    waiting = clocks.get(NEXT_RESPONSE)
    if not answered or (waiting is not None and waiting.state in LIVE):
        return None
    if message.received_at < max(t.stopped_at for t in answered if t.stopped_at is not None):
        return None
    base = clocks.get(FIRST_RESPONSE) or answered[0]
    facts = Facts(base.brand, base.platform, base.priority, base.kind, base.category)
    opened = Opening(
        base.ticket_id,
        message.correlation_id,
        facts,
        message.received_at,
        agent_id=base.agent_id,
        agent_level=base.agent_level,
        group_id=base.group_id,
    )
    return arm(opened, metric=NEXT_RESPONSE, config=config, hot=base.hot)


def retarget(timer: Timer, about: tuple[Kind, Category], config: SocialdeskConfig) -> Timer | None:
    """What the ticket is about was read after its clock was armed (the classification
    and the assignment travel on different topics): the clock takes the target and the
    calendar its policy gives, from the same start. ``None`` for a clock that is not
    running, or that knew already."""
    if timer.state != "armed" or timer.paused_at is not None or timer.started_at is None:
        return None
    if timer.category is not None or timer.metric not in (FIRST_RESPONSE, NEXT_RESPONSE, RESOLUTION):
        return None
    metric = sla_metric(timer)
    facts = Facts(timer.brand, timer.platform, timer.priority, about[0], about[1])
    seconds = target_seconds(
        config.sla, metric, timer.priority, timer.platform, hot_topic=timer.hot, facts=facts
    )
    calendar_name = calendar_for(config, facts)
    calendar = calendar_named(config, calendar_name)
    start = timer.started_at
    return dataclasses.replace(
        timer,
        kind=about[0],
        category=about[1],
        calendar=calendar_name,
        target_seconds=seconds,
        deadline=due_after(calendar, start, seconds),
        warn_at=None if timer.warned else due_after(calendar, start, seconds * config.sla.warn_at_fraction),
    )


#: Most urgent first.
_URGENCY: dict[str, int] = {"critical": 3, "high": 2, "medium": 1, "low": 0}


def reprioritize(timer: Timer, priority: Priority, config: SocialdeskConfig, now: datetime) -> Timer | None:
    """The ticket became more urgent: a running clock takes the target of the new priority,
    from the same start, never later than it was due, never in the past (a clock already
    past its new target fires at once). A breached clock only carries the new priority
    (its pages say so). ``None``: not more urgent, or not a running response clock."""
    if _URGENCY[priority] <= _URGENCY[timer.priority] or timer.state not in LIVE:
        return None
    if timer.metric not in (FIRST_RESPONSE, NEXT_RESPONSE, RESOLUTION):
        return None
    raised = dataclasses.replace(timer, priority=priority)
    if timer.state != "armed" or timer.paused_at is not None or timer.started_at is None:
        return raised
    metric = sla_metric(timer)
    facts = Facts(timer.brand, timer.platform, priority, timer.kind, timer.category)
    seconds = target_seconds(config.sla, metric, priority, timer.platform, hot_topic=timer.hot, facts=facts)
    calendar = calendar_named(config, timer.calendar)
    start = timer.started_at

    def sooner(current: datetime | None, fraction: float) -> datetime | None:
        if current is None:
            return None
        return min(current, max(due_after(calendar, start, seconds * fraction), now))

    return dataclasses.replace(
        raised,
        target_seconds=min(seconds, timer.target_seconds) if timer.target_seconds is not None else seconds,
        deadline=sooner(timer.deadline, 1.0),
        warn_at=None if timer.warned else sooner(timer.warn_at, config.sla.warn_at_fraction),
    )
