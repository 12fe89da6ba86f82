"""SLA events beyond warning, breach and escalation (issue 12): clocks, pauses, follow-ups.

Written by sla-monitor only. Add an event here as a frozen model with an explicit
``event_type``, then add it to the tuple of the topic that carries it; the registry
(:mod:`socialdesk_schemas.topics`) and the codec pick it up from there.
"""

from __future__ import annotations

from socialdesk_schemas._envelope import Event

SLA_TOPIC_EVENTS: tuple[type[Event], ...] = ()

__all__ = ["SLA_TOPIC_EVENTS"]
