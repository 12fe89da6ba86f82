"""Platform facts ingest publishes beyond MessageReceived (issue 8): edits and deletions of
customer messages, our own messages seen coming back (echoes, replies typed in a
platform's inbox), delivery receipts and statuses, customer identity links, channel health.

Written by ingest only. Add an event here as a frozen model with an explicit
``event_type``, then add it to the tuple of the topic that carries it; the registry
(:mod:`socialdesk_schemas.topics`) and the codec pick it up from there.
"""

from __future__ import annotations

from socialdesk_schemas._envelope import Event

MESSAGES_TOPIC_EVENTS: tuple[type[Event], ...] = ()

__all__ = ["MESSAGES_TOPIC_EVENTS"]
