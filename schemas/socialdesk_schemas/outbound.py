"""What the notifier reports of replies it sent to customers (issue 10): sent with the
platform's message id, failed with the platform's reason, and later delivered or read
when the platform's receipt (through ingest) is matched to the delivery.

Written by notifier only. Add an event here as a frozen model with an explicit
``event_type``, then add it to the tuple of the topic that carries it; the registry
(:mod:`socialdesk_schemas.topics`) and the codec pick it up from there.
"""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import AwareDatetime, Field

from socialdesk_schemas._envelope import Event
from socialdesk_schemas._events import Platform


class DeliverySucceeded(Event):
    """A reply reached the platform, which gave it ``platform_message_id``."""

    event_type: Literal["DeliverySucceeded"] = "DeliverySucceeded"
    reply_id: uuid.UUID
    brand: str
    platform: Platform
    platform_message_id: str | None
    parts: int = 1
    sent_at: AwareDatetime


class DeliveryFailed(Event):
    """A reply could not be delivered, and will not be retried."""

    event_type: Literal["DeliveryFailed"] = "DeliveryFailed"
    reply_id: uuid.UUID
    brand: str
    platform: Platform
    reason: str
    """window_closed, no_account, empty_text, too_long, invalid_recipient, permission,
    token_expired, throttled_too_long, platform_error, ..."""
    platform_error_code: int | None = None
    detail: str = ""
    failed_at: AwareDatetime


class ReplyStatusChanged(Event):
    """The platform reported a sent reply as delivered, read or (late) failed."""

    event_type: Literal["ReplyStatusChanged"] = "ReplyStatusChanged"
    reply_id: uuid.UUID
    brand: str
    platform: Platform
    status: Literal["delivered", "read", "failed"]
    at: AwareDatetime
    platform_error_code: int | None = None


class EscalationAcknowledged(Event):
    """Someone pressed Acknowledge on a Slack escalation (issue 11): the SLA climb stops
    where it is (sla-monitor); the clock stays breached until answered or resolved."""

    event_type: Literal["EscalationAcknowledged"] = "EscalationAcknowledged"
    brand: str
    agent_id: str
    """The roster agent mapped from the Slack user who clicked (config agent.slack_user_id)."""
    slack_user_id: str
    acknowledged_at: AwareDatetime


class OwnershipRequested(Event):
    """Someone pressed Take ownership on a Slack message (issue 11): the assigner should
    assign the ticket to ``agent_id`` if it is still open and the agent's level allows it."""

    event_type: Literal["OwnershipRequested"] = "OwnershipRequested"
    brand: str
    agent_id: str
    slack_user_id: str
    requested_at: AwareDatetime


class HelpdeskReplyReceived(Event):
    """An agent answered the customer in the helpdesk (Freshdesk, issue 13): the assigner
    sends it on the customer's platform exactly as a desk reply (never by the helpdesk's
    e-mail), and it counts as the agent's response for the SLA clocks."""

    event_type: Literal["HelpdeskReplyReceived"] = "HelpdeskReplyReceived"
    brand: str
    helpdesk: Literal["freshdesk"] = "freshdesk"
    helpdesk_ticket_id: str
    reply_id: uuid.UUID
    """Stable per helpdesk reply: the ``ReplyRequested`` the assigner makes of it carries it."""
    agent_id: str | None
    """Our agent mapped from the helpdesk agent (config freshdesk.brands.*.agents), if any."""
    helpdesk_agent: str | None = None
    text: str = Field(min_length=1)
    replied_at: AwareDatetime


class HelpdeskTicketResolved(Event):
    """An agent resolved (or closed) the ticket in the helpdesk (issue 13): the assigner
    resolves it as a desk resolve would."""

    event_type: Literal["HelpdeskTicketResolved"] = "HelpdeskTicketResolved"
    brand: str
    helpdesk: Literal["freshdesk"] = "freshdesk"
    helpdesk_ticket_id: str
    agent_id: str | None
    helpdesk_agent: str | None = None
    root_cause: str | None = None
    resolved_at: AwareDatetime


class HelpdeskNoteReceived(Event):
    """An agent wrote a private note on the ticket in the helpdesk: the desk shows it as an
    internal note (never sent to the customer). The connector does not note it back."""

    event_type: Literal["HelpdeskNoteReceived"] = "HelpdeskNoteReceived"
    brand: str
    helpdesk: Literal["freshdesk"] = "freshdesk"
    helpdesk_ticket_id: str
    note_id: uuid.UUID
    """Stable per helpdesk note: the ``InternalNoteAdded`` the assigner makes of it carries it."""
    agent_id: str | None
    helpdesk_agent: str | None = None
    text: str = Field(min_length=1)
    added_at: AwareDatetime


class HelpdeskTicketReopened(Event):
    """An agent set a ticket resolved or closed here back to Open or Pending in the helpdesk:
    the assigner reopens it as a desk reopen would (its clocks re-arm)."""

    event_type: Literal["HelpdeskTicketReopened"] = "HelpdeskTicketReopened"
    brand: str
    helpdesk: Literal["freshdesk"] = "freshdesk"
    helpdesk_ticket_id: str
    agent_id: str | None
    helpdesk_agent: str | None = None
    reopened_at: AwareDatetime


class HelpdeskConnectorHealthChanged(Event):
    """A brand's helpdesk connector stopped (a wrong API key, a deleted group) or works
    again (issue 13). Keyed by a stable id per brand and helpdesk, not a ticket's."""

    event_type: Literal["HelpdeskConnectorHealthChanged"] = "HelpdeskConnectorHealthChanged"
    brand: str
    helpdesk: Literal["freshdesk"] = "freshdesk"
    healthy: bool
    problem: Literal["auth", "group"] | None = None
    detail: str = ""
    retry_at: AwareDatetime | None = None
    changed_at: AwareDatetime


DELIVERIES_TOPIC_EVENTS: tuple[type[Event], ...] = (
    DeliverySucceeded,
    DeliveryFailed,
    ReplyStatusChanged,
    EscalationAcknowledged,
    OwnershipRequested,
    HelpdeskReplyReceived,
    HelpdeskTicketResolved,
    HelpdeskConnectorHealthChanged,
    HelpdeskNoteReceived,
    HelpdeskTicketReopened,
)

__all__ = [
    "DELIVERIES_TOPIC_EVENTS",
    "DeliveryFailed",
    "DeliverySucceeded",
    "EscalationAcknowledged",
    "HelpdeskConnectorHealthChanged",
    "HelpdeskNoteReceived",
    "HelpdeskReplyReceived",
    "HelpdeskTicketReopened",
    "HelpdeskTicketResolved",
    "OwnershipRequested",
    "ReplyStatusChanged",
]
