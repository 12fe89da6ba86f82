"""socialdesk's contract: the event envelope, every event of the flow, the topic registry.

This package imports nothing else of ours. Every service speaks to every other only
through the events defined here, on the topics named in :mod:`socialdesk_schemas.topics`.

Usage::

    from socialdesk_schemas import TOPICS, MessageReceived, decode_event, topic_for_event
    event = decode_event(raw_bytes)
    topic = topic_for_event(event)
"""

from socialdesk_schemas._codec import UnknownEventType, decode_event, encode_event, peek_event_type
from socialdesk_schemas._envelope import Event, new_event_id, utc_now
from socialdesk_schemas._events import (
    LADDER,
    AgentReplied,
    Attachment,
    Author,
    Category,
    Channel,
    Kind,
    Level,
    MessageClassified,
    MessageReceived,
    NotificationDelivered,
    NotificationFailed,
    Platform,
    Priority,
    Queue,
    ReplyRequested,
    Sentiment,
    SlaBreached,
    SlaMetric,
    SlaWarning,
    SpikeDetected,
    TicketAssigned,
    TicketDismissed,
    TicketEscalated,
    TicketQueued,
    TicketResolved,
    TicketRoutedToMarketing,
    TrendDetected,
)
from socialdesk_schemas.topics import ALL_EVENT_TYPES, TOPICS, Topic, dead_letter_topic, topic_for_event

__all__ = [
    "ALL_EVENT_TYPES",
    "LADDER",
    "TOPICS",
    "AgentReplied",
    "Attachment",
    "Author",
    "Category",
    "Channel",
    "Event",
    "Kind",
    "Level",
    "MessageClassified",
    "MessageReceived",
    "NotificationDelivered",
    "NotificationFailed",
    "Platform",
    "Priority",
    "Queue",
    "ReplyRequested",
    "Sentiment",
    "SlaBreached",
    "SlaMetric",
    "SlaWarning",
    "SpikeDetected",
    "TicketAssigned",
    "TicketDismissed",
    "TicketEscalated",
    "TicketQueued",
    "TicketResolved",
    "TicketRoutedToMarketing",
    "Topic",
    "TrendDetected",
    "UnknownEventType",
    "dead_letter_topic",
    "decode_event",
    "encode_event",
    "new_event_id",
    "peek_event_type",
    "topic_for_event",
    "utc_now",
]
