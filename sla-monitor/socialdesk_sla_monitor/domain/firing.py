"""What the scheduler emits for a due timer: a warning, a breach and its escalation, a climb."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime, timedelta
from typing import TypedDict

from socialdesk_runtime.config import SlaPolicy, SocialdeskConfig
from socialdesk_schemas import LADDER, Level, Platform, Priority, SlaBreached, SlaWarning, TicketEscalated
from socialdesk_sla_monitor.domain.follow_ups import remind
from socialdesk_sla_monitor.domain.policy import (
    breach_from,
    escalation_target,
    on_call,
    start_level,
    target_seconds,
)
from socialdesk_sla_monitor.domain.timers import FOLLOW_UP, PRODUCER, Fired, Timer, sla_metric

__all__ = ["acknowledge", "breach", "climb", "warn"]


class _Envelope(TypedDict):
    producer: str
    occurred_at: datetime
    ticket_id: uuid.UUID
    correlation_id: uuid.UUID
    brand: str
    platform: Platform
    priority: Priority


def _envelope(timer: Timer, now: datetime) -> _Envelope:
    return {
        "producer": PRODUCER,
        "occurred_at": now,
        "ticket_id": timer.ticket_id,
        "correlation_id": timer.correlation_id,
        "brand": timer.brand,
        "platform": timer.platform,
        "priority": timer.priority,
    }


def _due(timer: Timer) -> datetime:
    if timer.deadline is None:
        raise ValueError(f"timer {timer.ticket_id}/{timer.metric} is live without a deadline")
    return timer.deadline


def warn(timer: Timer, now: datetime) -> Fired:
    """The warning share of the target has elapsed: warn the owner, once.

    Past the deadline already (the scheduler was late), the breach says more than a
    warning would: the timer is marked warned and nothing is emitted.
    """
    deadline = _due(timer)
    warned = dataclasses.replace(timer, warned=True)
    if deadline <= now:
        return Fired(warned)
    warning = SlaWarning(
        **_envelope(timer, now),
        metric=sla_metric(timer),
        deadline=deadline,
        agent_id=timer.agent_id,
        remaining_seconds=(deadline - now).total_seconds(),
    )
    return Fired(warned, (warning,))


def _next_escalation(timer: Timer, level: Level, now: datetime, policy: SlaPolicy) -> datetime | None:
    """Still unanswered ``rung_delay_seconds`` after an escalation (unset: one target
    period of the clock): one rung further (none above the top)."""
    if level == LADDER[-1]:
        return None
    period = policy.ladder.rung_delay_seconds or timer.target_seconds
    if period is None:
        period = target_seconds(policy, sla_metric(timer), timer.priority, timer.platform)
    return now + timedelta(seconds=period)


def breach(timer: Timer, now: datetime, config: SocialdeskConfig) -> Fired:
    """The deadline passed unanswered: report the breach once and escalate up the ladder.

    Safety, legal or crisis tickets may start higher (``sla.ladder.start_at``). A
    follow-up promise due and not kept reminds its owner first (:func:`remind`).
    """
    if timer.metric == FOLLOW_UP:
        return remind(timer, now, config)
    deadline = _due(timer)
    to_level, to_agent = escalation_target(config, timer.brand, breach_from(timer.agent_level))
    start = start_level(config, timer.brand, to_level, category=timer.category, hot=timer.hot)
    if start != to_level:
        to_level, to_agent = start, on_call(config.agents, timer.brand, start)
    breached = dataclasses.replace(
        timer,
        state="breached",
        escalation_level=to_level,
        next_escalation_at=_next_escalation(timer, to_level, now, config.sla),
    )
    env = _envelope(timer, now)
    return Fired(
        breached,
        (
            SlaBreached(
                **env,
                metric=sla_metric(timer),
                deadline=deadline,
                breached_at=now,
                agent_id=timer.agent_id,
            ),
            TicketEscalated(
                **env,
                from_level=timer.agent_level,
                to_level=to_level,
                to_agent_id=to_agent.id if to_agent else None,
                reason=f"{timer.metric} SLA breached",
                deadline=deadline,
            ),
        ),
    )


def climb(timer: Timer, now: datetime, config: SocialdeskConfig) -> Fired:
    """Still unanswered a whole SLA period after the last escalation: one rung up.

    At the top of the brand's ladder there is nowhere further: the climb stops quietly.
    """
    current = timer.escalation_level
    to_level, to_agent = escalation_target(config, timer.brand, current)
    top = to_level == current
    climbed = dataclasses.replace(
        timer,
        escalation_level=to_level,
        next_escalation_at=None if top else _next_escalation(timer, to_level, now, config.sla),
    )
    if top:
        return Fired(climbed)
    escalated = TicketEscalated(
        **_envelope(timer, now),
        from_level=current,
        to_level=to_level,
        to_agent_id=to_agent.id if to_agent else None,
        reason=(
            f"follow-up promised for {timer.deadline:%Y-%m-%d %H:%M} UTC not kept"
            if timer.metric == FOLLOW_UP and timer.deadline is not None
            else f"{timer.metric} still unanswered after escalation to {current}"
        ),
        deadline=timer.deadline,
    )
    return Fired(climbed, (escalated,))


def acknowledge(timer: Timer, at: datetime) -> Timer | None:
    """Someone acknowledged the escalation (Slack's Acknowledge button, issue 11): the
    climb stops where it is; the clock stays breached until answered or resolved.
    The notifier publishes the click as ``EscalationAcknowledged``."""
    if timer.state != "breached" or timer.next_escalation_at is None or at < (timer.started_at or at):
        return None
    return dataclasses.replace(timer, next_escalation_at=None)
