"""Follow-up promises (seed 001): an agent promised the customer news by a time.

A promise is a timer of clock ``follow_up``, due at the promised time. A reply from the
desk after the promise keeps it (met); resolving the ticket cancels it. Due and not kept,
the owner is reminded (``FollowUpDue``); still not kept one rung delay later, it climbs
the brand's ladder like a breach (to the brand lead first, or one above the owner).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_runtime.config.types import TWENTY_FOUR_SEVEN
from socialdesk_schemas import Priority
from socialdesk_schemas.desk import FollowUpPromised
from socialdesk_schemas.sla import FollowUpDue
from socialdesk_sla_monitor.domain.policy import breach_from
from socialdesk_sla_monitor.domain.timers import FOLLOW_UP, PRODUCER, Fired, Timer

__all__ = ["promise", "remind"]


def promise(event: FollowUpPromised, config: SocialdeskConfig, *, priority: Priority = "medium") -> Timer:
    """The timer of a promise, due when promised, owned by the agent who promised.

    ``priority`` is the ticket's when a clock of it is known (labels and the ladder's
    messages); the promise itself does not carry it.
    """
    config.brand(event.brand)
    try:
        level = config.agent(event.agent_id).level
    except KeyError:  # an agent gone from the file: the ladder starts from the bottom
        level = None
    return Timer(
        ticket_id=event.ticket_id,
        metric=FOLLOW_UP,
        correlation_id=event.correlation_id,
        brand=event.brand,
        platform=event.platform,
        priority=priority,
        state="armed",
        agent_id=event.agent_id,
        agent_level=level,
        started_at=event.occurred_at,
        deadline=event.due_at,
        warned=True,  # the promise is the reminder's own deadline: no early warning
        calendar=TWENTY_FOUR_SEVEN,  # promised to the customer for a wall-clock time
        target_seconds=max((event.due_at - event.occurred_at).total_seconds(), 0.0),
    )


def remind(timer: Timer, now: datetime, config: SocialdeskConfig) -> Fired:
    """Due and not kept: remind the owner, and plan the climb if it stays unkept."""
    if timer.deadline is None or timer.started_at is None:
        raise ValueError(f"follow-up {timer.ticket_id} is live without its due time")
    delay = config.sla.ladder.rung_delay_seconds or config.sla.next_response_seconds
    reminded = dataclasses.replace(
        timer,
        state="breached",
        # The climb starts where a breach does: the brand lead answers for promises too.
        escalation_level=breach_from(timer.agent_level),
        next_escalation_at=now + timedelta(seconds=delay),
    )
    due = FollowUpDue(
        producer=PRODUCER,
        occurred_at=now,
        ticket_id=timer.ticket_id,
        correlation_id=timer.correlation_id,
        brand=timer.brand,
        platform=timer.platform,
        agent_id=timer.agent_id,
        due_at=timer.deadline,
        promised_at=timer.started_at,
    )
    return Fired(reminded, (due,))
