"""The topic registry: the only place a topic name is written.

Each topic has one writer service. Records are keyed by ``key`` (an envelope or event
field), so one ticket's events stay ordered on one partition.
"""

from __future__ import annotations

from dataclasses import dataclass

from socialdesk_schemas import desk, outbound, platforms, sla
from socialdesk_schemas._envelope import Event
from socialdesk_schemas._events import (
    AgentReplied,
    MessageClassified,
    MessageReceived,
    NotificationDelivered,
    NotificationFailed,
    ReplyRequested,
    SlaBreached,
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

SERVICES: tuple[str, ...] = ("ingest", "classifier", "assigner", "sla-monitor", "notifier")


@dataclass(frozen=True, slots=True)
class Topic:
    """A Kafka topic of the contract."""

    name: str
    key: str
    value_types: tuple[type[Event], ...]
    writer: str
    partitions: int = 6

    def carries(self, event: Event | type[Event]) -> bool:
        cls = event if isinstance(event, type) else type(event)
        return cls in self.value_types


@dataclass(frozen=True, slots=True)
class _Registry:
    messages: Topic
    classified: Topic
    trends: Topic
    assignments: Topic
    activity: Topic
    replies: Topic
    sla: Topic
    deliveries: Topic

    def all(self) -> tuple[Topic, ...]:
        return (
            self.messages,
            self.classified,
            self.trends,
            self.assignments,
            self.activity,
            self.replies,
            self.sla,
            self.deliveries,
        )


TOPICS = _Registry(
    messages=Topic(
        "ticket.messages", "ticket_id", (MessageReceived, *platforms.MESSAGES_TOPIC_EVENTS), writer="ingest"
    ),
    classified=Topic("ticket.classified", "ticket_id", (MessageClassified,), writer="classifier"),
    trends=Topic("signals.trends", "ticket_id", (TrendDetected, SpikeDetected), writer="classifier"),
    assignments=Topic(
        "ticket.assignments",
        "ticket_id",
        (
            TicketAssigned,
            TicketQueued,
            TicketDismissed,
            TicketRoutedToMarketing,
            *desk.ASSIGNMENTS_TOPIC_EVENTS,
        ),
        writer="assigner",
    ),
    activity=Topic(
        "ticket.activity",
        "ticket_id",
        (AgentReplied, TicketResolved, *desk.ACTIVITY_TOPIC_EVENTS),
        writer="assigner",
    ),
    replies=Topic(
        "outbound.replies", "ticket_id", (ReplyRequested, *desk.REPLIES_TOPIC_EVENTS), writer="assigner"
    ),
    sla=Topic(
        "sla.events",
        "ticket_id",
        (SlaWarning, SlaBreached, TicketEscalated, *sla.SLA_TOPIC_EVENTS),
        writer="sla-monitor",
    ),
    deliveries=Topic(
        "outbound.deliveries",
        "ticket_id",
        (NotificationDelivered, NotificationFailed, *outbound.DELIVERIES_TOPIC_EVENTS),
        writer="notifier",
    ),
)


def dead_letter_topic(service: str) -> Topic:
    """The dead-letter topic a service writes poison records to (it is its only writer)."""
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}")
    return Topic(f"deadletter.{service}", "ticket_id", (), writer=service, partitions=1)


def all_topics() -> tuple[Topic, ...]:
    """Every topic to create, dead-letter topics included."""
    return TOPICS.all() + tuple(dead_letter_topic(s) for s in SERVICES)


def topic_for_event(event: Event | type[Event]) -> Topic:
    """The one topic an event type is written to."""
    for topic in TOPICS.all():
        if topic.carries(event):
            return topic
    name = event.__name__ if isinstance(event, type) else type(event).__name__
    raise LookupError(f"no topic carries {name}")


#: Every event type of the contract, in registry order: what the codec decodes and the
#: export writes. An event exists on the wire only if a topic carries it.
ALL_EVENT_TYPES: tuple[type[Event], ...] = tuple(t for topic in TOPICS.all() for t in topic.value_types)
