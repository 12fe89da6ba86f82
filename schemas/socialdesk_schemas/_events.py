"""Every event of the flow. One class per fact; fields only, no behaviour.

Versioning: each class carries ``SCHEMA_VERSION``. A backward-compatible change (a new
optional field) keeps the version; anything else is a new version and a new JSON Schema
file, and the compatibility test in ``tests/contract`` says which.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from socialdesk_schemas._envelope import Event

Platform = Literal["facebook", "instagram", "messenger", "whatsapp", "x", "generic"]
Kind = Literal["dm", "comment", "mention"]
Queue = Literal["cx", "marketing", "ignore"]
Category = Literal[
    "complaint", "query", "request", "praise", "safety", "legal", "promo", "spam", "other", "unknown"
]
Priority = Literal["critical", "high", "medium", "low"]
Sentiment = Literal["negative", "neutral", "positive"]
Level = Literal["L1", "L2", "L3", "L4", "TMT"]
LADDER: tuple[Level, ...] = ("L1", "L2", "L3", "L4", "TMT")
"""The escalation ladder, lowest rung first: L1 Specialist, L2 Strategist, L3 brand lead,
L4 brand manager, TMT (top management). The one definition every service ranks levels by."""
SlaMetric = Literal["first_response", "next_response", "resolution"]
Channel = Literal["slack", "local", "facebook", "instagram", "messenger", "whatsapp", "x"]


class Author(BaseModel):
    """Who wrote a message, as the platform names them."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    platform_user_id: str = Field(min_length=1, max_length=256)
    handle: str | None = Field(default=None, max_length=256)
    display_name: str | None = Field(default=None, max_length=256)
    followers: int | None = Field(default=None, ge=0)


class Attachment(BaseModel):
    """What a customer sent besides words: an image, a video, a story, a file. ``url`` is
    where the platform serves it (Meta's CDN links expire after a while); ``id`` the
    platform's media id where it gives one (WhatsApp: fetched with the account's token)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    type: str = Field(min_length=1, max_length=40)
    url: str | None = Field(default=None, max_length=4096)
    id: str | None = Field(default=None, max_length=256)


# --- ingest → ticket.messages -------------------------------------------------------


class MessageReceived(Event):
    """A customer message was accepted at intake and stored (the first one opens a ticket)."""

    event_type: Literal["MessageReceived"] = "MessageReceived"
    message_id: uuid.UUID
    conversation_id: uuid.UUID
    customer_id: uuid.UUID
    brand: str
    platform: Platform
    kind: Kind
    platform_message_id: str
    author: Author
    text: str
    received_at: AwareDatetime
    sent_at: AwareDatetime | None = None
    opens_ticket: bool = True
    in_reply_to: str | None = None
    attachments: list[Attachment] = Field(default_factory=list, max_length=20)


# --- classifier → ticket.classified, signals.trends ----------------------------------


class MessageClassified(Event):
    """The classifier decided what a message is and who should own it."""

    event_type: Literal["MessageClassified"] = "MessageClassified"
    message_id: uuid.UUID
    conversation_id: uuid.UUID
    customer_id: uuid.UUID
    brand: str
    platform: Platform
    kind: Kind
    received_at: AwareDatetime
    opens_ticket: bool = True
    platform_message_id: str
    author_platform_user_id: str
    author_followers: int | None = None
    queue: Queue
    category: Category
    priority: Priority
    sentiment: Sentiment
    language: str
    auto_reply: str | None = None
    group_id: str | None = None
    # The incident group's summary when ``group_id`` is set (issue 14; optional).
    group_type: str | None = None
    group_place: str | None = None
    group_first_seen: AwareDatetime | None = None
    group_last_seen: AwareDatetime | None = None
    group_size: int | None = Field(default=None, ge=1)
    confidence: dict[str, float] = Field(default_factory=dict)
    reasons: list[str] = Field(default_factory=list)
    classifier_version: str = "rules-1"


class TrendDetected(Event):
    """A group of similar posts about one incident is rising (a hot topic)."""

    event_type: Literal["TrendDetected"] = "TrendDetected"
    brand: str
    group_id: str
    volume: int = Field(ge=1)
    window_seconds: int = Field(ge=1)
    sample_text: str | None = None
    # The incident's summary (issue 14; optional): what happened, where, since when.
    group_type: str | None = None
    group_place: str | None = None
    group_first_seen: AwareDatetime | None = None
    group_last_seen: AwareDatetime | None = None
    group_size: int | None = Field(default=None, ge=1)


class SpikeDetected(Event):
    """A brand's volume or negative share deviates substantially from its learned baseline."""

    event_type: Literal["SpikeDetected"] = "SpikeDetected"
    brand: str
    severity: Literal["minor", "major", "critical"]
    volume: int = Field(ge=0)
    baseline_volume: float = Field(ge=0)
    negative_share: float = Field(ge=0, le=1)
    baseline_negative_share: float = Field(ge=0, le=1)
    window_seconds: int = Field(ge=1)
    score: float


# --- assigner → ticket.assignments, ticket.activity, outbound.replies ------------------


class TicketAssigned(Event):
    """A CX ticket got an owner."""

    event_type: Literal["TicketAssigned"] = "TicketAssigned"
    brand: str
    platform: Platform
    agent_id: str
    agent_level: Level
    priority: Priority
    received_at: AwareDatetime
    reason: Literal["round_robin", "same_customer", "escalation", "reassigned", "claimed"] = "round_robin"
    previous_agent_id: str | None = None
    group_id: str | None = None


class TicketQueued(Event):
    """A CX ticket waits in a queue with no owner (nobody eligible is online)."""

    event_type: Literal["TicketQueued"] = "TicketQueued"
    brand: str
    platform: Platform
    queue: Queue
    priority: Priority
    received_at: AwareDatetime
    reason: str
    group_id: str | None = None


class TicketDismissed(Event):
    """A message was judged noise (spam, unrelated); kept and restorable, not worked."""

    event_type: Literal["TicketDismissed"] = "TicketDismissed"
    brand: str
    platform: Platform
    category: Category
    reason: str


class TicketRoutedToMarketing(Event):
    """A message belongs to the marketing team (no CX SLA)."""

    event_type: Literal["TicketRoutedToMarketing"] = "TicketRoutedToMarketing"
    brand: str
    platform: Platform
    category: Category
    priority: Priority


class AgentReplied(Event):
    """The brand answered the customer: an agent on the desk (or in the helpdesk), or a
    person who typed the reply in the platform's own inbox. The SLA clocks a reply meets
    stop on it."""

    event_type: Literal["AgentReplied"] = "AgentReplied"
    reply_id: uuid.UUID
    brand: str
    platform: Platform
    agent_id: str
    """A roster agent's id; ``inbox:<platform>`` (``inbox:facebook``) for a reply typed in
    that platform's own inbox, whose author the platform does not name."""
    replied_at: AwareDatetime
    is_first_response: bool


class TicketResolved(Event):
    """An agent closed the ticket with a root cause."""

    event_type: Literal["TicketResolved"] = "TicketResolved"
    brand: str
    agent_id: str
    root_cause: str
    resolved_at: AwareDatetime


class ReplyRequested(Event):
    """Text should be sent to the customer on the platform they wrote from."""

    event_type: Literal["ReplyRequested"] = "ReplyRequested"
    reply_id: uuid.UUID
    brand: str
    platform: Platform
    kind: Kind
    recipient_platform_user_id: str
    in_reply_to_platform_message_id: str | None = None
    text: str = Field(min_length=1)
    origin: Literal["agent", "auto_reply"]
    agent_id: str | None = None
    template_key: str | None = None


# --- sla-monitor → sla.events -------------------------------------------------------------


class SlaWarning(Event):
    """A ticket's SLA deadline is close and nobody has met it yet."""

    event_type: Literal["SlaWarning"] = "SlaWarning"
    brand: str
    platform: Platform
    metric: SlaMetric
    priority: Priority
    deadline: AwareDatetime
    agent_id: str | None
    remaining_seconds: float


class SlaBreached(Event):
    """A ticket's SLA deadline passed unmet."""

    event_type: Literal["SlaBreached"] = "SlaBreached"
    brand: str
    platform: Platform
    metric: SlaMetric
    priority: Priority
    deadline: AwareDatetime
    breached_at: AwareDatetime
    agent_id: str | None


class TicketEscalated(Event):
    """A ticket moved up the escalation ladder and the next level must act."""

    event_type: Literal["TicketEscalated"] = "TicketEscalated"
    brand: str
    platform: Platform
    priority: Priority
    from_level: Level | None
    to_level: Level
    to_agent_id: str | None
    reason: str
    deadline: AwareDatetime | None = None


# --- notifier → outbound.deliveries ---------------------------------------------------------


class NotificationDelivered(Event):
    """Something was delivered outward (Slack, a platform send API, or the local sink)."""

    event_type: Literal["NotificationDelivered"] = "NotificationDelivered"
    source_event_id: uuid.UUID
    source_event_type: str
    channel: Channel
    destination: str
    external_ref: str | None = None
    attempts: int = Field(ge=1)
    delivered_at: AwareDatetime


class NotificationFailed(Event):
    """A delivery was given up on (a permanent error, or retries exhausted)."""

    event_type: Literal["NotificationFailed"] = "NotificationFailed"
    source_event_id: uuid.UUID
    source_event_type: str
    channel: Channel
    destination: str
    error: str
    retryable: bool
    attempts: int = Field(ge=1)


__all__ = ["Author", "datetime"]
