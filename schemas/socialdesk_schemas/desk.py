"""Events of the agents' desk (issue 9): the ticket's work state beyond routing (pending on
the customer, reopened, follow-up promised, internal notes).

Written by assigner only. Add an event here as a frozen model with an explicit
``event_type``, then add it to the tuple of the topic that carries it; the registry
(:mod:`socialdesk_schemas.topics`) and the codec pick it up from there.
"""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import AwareDatetime, Field

from socialdesk_schemas._envelope import Event
from socialdesk_schemas._events import Platform, Priority


class TicketPending(Event):
    """The ticket waits on the customer: the resolution clock pauses until they write."""

    event_type: Literal["TicketPending"] = "TicketPending"
    brand: str
    platform: Platform
    agent_id: str
    pending_at: AwareDatetime
    reason: str = ""


class TicketReopened(Event):
    """A resolved or pending ticket is open again (by an agent, or the customer wrote back):
    its clocks are armed again."""

    event_type: Literal["TicketReopened"] = "TicketReopened"
    brand: str
    platform: Platform
    priority: Priority
    agent_id: str | None
    reopened_at: AwareDatetime
    reason: Literal["customer_wrote", "agent"] = "agent"


class TicketPriorityRaised(Event):
    """A ticket not answered yet became more urgent (a keyword rule on words that arrived
    after it was routed): its running clocks take the tighter target, from the same start."""

    event_type: Literal["TicketPriorityRaised"] = "TicketPriorityRaised"
    brand: str
    platform: Platform
    priority: Priority
    previous_priority: Priority
    agent_id: str | None
    raised_at: AwareDatetime
    reason: str = ""


class FollowUpPromised(Event):
    """An agent promised the customer a follow-up by ``due_at`` (seed 001): a timer."""

    event_type: Literal["FollowUpPromised"] = "FollowUpPromised"
    follow_up_id: uuid.UUID
    brand: str
    platform: Platform
    agent_id: str
    due_at: AwareDatetime
    note: str = Field(default="", max_length=2000)


class InternalNoteAdded(Event):
    """An agent wrote an internal note on a ticket; never sent to the customer."""

    event_type: Literal["InternalNoteAdded"] = "InternalNoteAdded"
    note_id: uuid.UUID
    brand: str
    agent_id: str
    text: str
    added_at: AwareDatetime


class OwnershipRefused(Event):
    """Slack's Take ownership (an ``OwnershipRequested``) changed nothing: the ticket is
    resolved or not a customer-service ticket, the agent does not work for its brand or
    lacks the level, or the desk does not know the ticket or the agent. ``reason`` is
    written for the person who pressed the button (the notifier may show it to them)."""

    event_type: Literal["OwnershipRefused"] = "OwnershipRefused"
    brand: str
    agent_id: str
    slack_user_id: str
    request_event_id: uuid.UUID
    reason: str = Field(max_length=500)
    refused_at: AwareDatetime


ASSIGNMENTS_TOPIC_EVENTS: tuple[type[Event], ...] = (
    TicketPending,
    TicketReopened,
    OwnershipRefused,
    TicketPriorityRaised,
)
ACTIVITY_TOPIC_EVENTS: tuple[type[Event], ...] = (FollowUpPromised, InternalNoteAdded)
REPLIES_TOPIC_EVENTS: tuple[type[Event], ...] = ()

__all__ = [
    "ACTIVITY_TOPIC_EVENTS",
    "ASSIGNMENTS_TOPIC_EVENTS",
    "REPLIES_TOPIC_EVENTS",
    "FollowUpPromised",
    "InternalNoteAdded",
    "OwnershipRefused",
    "TicketPending",
    "TicketPriorityRaised",
    "TicketReopened",
]
