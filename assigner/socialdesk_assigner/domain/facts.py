"""The events a ticket's transitions emit, built from the ticket (one builder per event
that more than one transition emits)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from socialdesk_runtime.config import Agent
from socialdesk_schemas import Event, ReplyRequested, TicketAssigned, TicketResolved
from socialdesk_schemas.desk import TicketPriorityRaised, TicketReopened

if TYPE_CHECKING:
    from socialdesk_assigner.domain.ticket import AssignReason, Ticket

__all__ = [
    "PRODUCER",
    "assigned",
    "envelope",
    "handed",
    "priority_raised",
    "reopened",
    "reply_requested",
    "resolved",
]

PRODUCER = "assigner"


def envelope(ticket: Ticket, now: datetime, cause: Event | None = None) -> dict[str, Any]:
    """The envelope of an event about ``ticket``: caused by ``cause``, or by a person (``None``)."""
    return {
        "producer": PRODUCER,
        "occurred_at": now,
        "ticket_id": ticket.ticket_id,
        "correlation_id": ticket.correlation_id if cause is None else cause.correlation_id,
        "causation_id": None if cause is None else cause.event_id,
    }


def assigned(
    ticket: Ticket,
    envelope: dict[str, Any],
    agent: Agent,
    *,
    reason: AssignReason,
    received_at: datetime,
    group_id: str | None = None,
    previous_agent_id: str | None = None,
) -> TicketAssigned:
    return TicketAssigned(
        **envelope,
        brand=ticket.brand,
        platform=ticket.platform,
        agent_id=agent.id,
        agent_level=agent.level,
        priority=ticket.priority,
        received_at=received_at,
        reason=reason,
        group_id=group_id,
        previous_agent_id=previous_agent_id,
    )


def handed(
    before: Ticket,
    after: Ticket,
    to: Agent,
    now: datetime,
    *,
    reason: AssignReason,
    cause: Event | None = None,
) -> TicketAssigned:
    """``before`` is now ``to``'s (``after``): from the same intake, in the same incident group."""
    return assigned(
        after,
        envelope(after, now, cause),
        to,
        reason=reason,
        received_at=before.received_at,
        group_id=before.group_id,
        previous_agent_id=before.agent_id,
    )


def priority_raised(
    before: Ticket, after: Ticket, envelope: dict[str, Any], *, reason: str
) -> TicketPriorityRaised:
    """``before`` became more urgent (``after``): its clocks take the tighter target."""
    return TicketPriorityRaised(
        **envelope,
        brand=after.brand,
        platform=after.platform,
        priority=after.priority,
        previous_priority=before.priority,
        agent_id=after.agent_id,
        raised_at=envelope["occurred_at"],
        reason=reason,
    )


def reopened(
    ticket: Ticket,
    envelope: dict[str, Any],
    reason: Literal["customer_wrote", "agent"],
    *,
    at: datetime | None = None,
) -> TicketReopened:
    """``at``: when the new episode starts (its clocks' start); the event's time if not said."""
    return TicketReopened(
        **envelope,
        brand=ticket.brand,
        platform=ticket.platform,
        priority=ticket.priority,
        agent_id=ticket.agent_id,
        reopened_at=envelope["occurred_at"] if at is None else at,
        reason=reason,
    )


def reply_requested(
    ticket: Ticket,
    envelope: dict[str, Any],
    *,
    reply_id: uuid.UUID,
    text: str,
    origin: Literal["agent", "auto_reply"],
    agent_id: str | None = None,
    template_key: str | None = None,
) -> ReplyRequested:
    """Send ``text`` to the customer, in reply to their latest message."""
    return ReplyRequested(
        **envelope,
        reply_id=reply_id,
        brand=ticket.brand,
        platform=ticket.platform,
        kind=ticket.kind,
        recipient_platform_user_id=ticket.recipient_platform_user_id,
        in_reply_to_platform_message_id=ticket.last_platform_message_id,
        text=text,
        origin=origin,
        agent_id=agent_id,
        template_key=template_key,
    )


def resolved(ticket: Ticket, envelope: dict[str, Any], *, agent_id: str, root_cause: str) -> TicketResolved:
    return TicketResolved(
        **envelope,
        brand=ticket.brand,
        agent_id=agent_id,
        root_cause=root_cause,
        resolved_at=envelope["occurred_at"],
    )
