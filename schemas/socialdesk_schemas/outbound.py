"""What the notifier reports of what it sent outward (issues 10 and 11): replies delivered to
customers or failed, Slack actions people took.

Written by notifier only. Add an event here as a frozen model with an explicit
``event_type``, then add it to the tuple of the topic that carries it; the registry
(:mod:`socialdesk_schemas.topics`) and the codec pick it up from there.
"""

from __future__ import annotations

from socialdesk_schemas._envelope import Event

DELIVERIES_TOPIC_EVENTS: tuple[type[Event], ...] = ()

__all__ = ["DELIVERIES_TOPIC_EVENTS"]
