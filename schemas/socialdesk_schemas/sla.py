"""SLA events beyond warning, breach and escalation (issue 12): when a clock is armed or
stopped, so the desk can sort by due time and show each clock's state without reading
sla-monitor's store.

Written by sla-monitor only. Add an event here as a frozen model with an explicit
``event_type``, then add it to the tuple of the topic that carries it; the registry
(:mod:`socialdesk_schemas.topics`) and the codec pick it up from there.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime

from socialdesk_schemas._envelope import Event
from socialdesk_schemas._events import Platform, SlaMetric

#: A follow-up promise is a clock too (seed 001), beside the three SLA metrics.
Clock = SlaMetric | Literal["follow_up"]


class SlaClockArmed(Event):
    """A clock started (or restarted, or moved: a pause ended, a hot topic tightened it)."""

    event_type: Literal["SlaClockArmed"] = "SlaClockArmed"
    brand: str
    clock: Clock
    due_at: AwareDatetime
    warn_at: AwareDatetime | None = None
    armed_at: AwareDatetime


class SlaClockStopped(Event):
    """A clock stopped: met in time, met late, paused, or cancelled (resolved, dismissed)."""

    event_type: Literal["SlaClockStopped"] = "SlaClockStopped"
    brand: str
    clock: Clock
    outcome: Literal["met", "met_late", "paused", "cancelled"]
    stopped_at: AwareDatetime


class FollowUpDue(Event):
    """A follow-up an agent promised is due and not kept yet (no reply since the promise,
    ticket still open): the owner is reminded; if it stays unkept, the ladder follows
    (``TicketEscalated``) as for a breach."""

    event_type: Literal["FollowUpDue"] = "FollowUpDue"
    brand: str
    platform: Platform
    agent_id: str | None
    due_at: AwareDatetime
    promised_at: AwareDatetime


SLA_TOPIC_EVENTS: tuple[type[Event], ...] = (SlaClockArmed, SlaClockStopped, FollowUpDue)

__all__ = ["SLA_TOPIC_EVENTS", "Clock", "FollowUpDue", "SlaClockArmed", "SlaClockStopped"]
