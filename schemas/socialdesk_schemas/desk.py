"""Events of the agents' desk (issue 9): the ticket's work state beyond routing (pending on
the customer, reopened, follow-up promised, handed over, notes, approvals).

Written by assigner only. Add an event here as a frozen model with an explicit
``event_type``, then add it to the tuple of the topic that carries it; the registry
(:mod:`socialdesk_schemas.topics`) and the codec pick it up from there.
"""

from __future__ import annotations

from socialdesk_schemas._envelope import Event

ASSIGNMENTS_TOPIC_EVENTS: tuple[type[Event], ...] = ()
ACTIVITY_TOPIC_EVENTS: tuple[type[Event], ...] = ()
REPLIES_TOPIC_EVENTS: tuple[type[Event], ...] = ()

__all__ = ["ACTIVITY_TOPIC_EVENTS", "ASSIGNMENTS_TOPIC_EVENTS", "REPLIES_TOPIC_EVENTS"]
