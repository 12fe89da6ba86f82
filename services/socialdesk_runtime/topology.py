"""Which topics a service reads and writes, derived from its handler table and the registry.

Plain functions over the contract's topic registry (no I/O), used at start by
:func:`socialdesk_runtime.service.run_service` and at emit time by the unit of work:

- the topics a service consumes are the registry topics that carry the event types of its
  handler table, so nobody lists topic names by hand;
- a topic has a single writer, so a service that would publish an event to a topic it
  does not own is refused (at start for its declared ``emits``, and at ``emit`` time).

Usage::

    topics = consumed_topics({MessageReceived: handle})  # (TOPICS.messages,)
    problems = foreign_writes("classifier", [MessageClassified, TicketAssigned])
    check_writer("classifier", event)  # raises NotTheWriterError
"""

from __future__ import annotations

from collections.abc import Iterable

from socialdesk_schemas import TOPICS, Event, Topic, topic_for_event

__all__ = ["NotTheWriterError", "check_writer", "consumed_topics", "foreign_writes", "wiring_problems"]


class NotTheWriterError(ValueError):
    """A service tried to publish to a topic whose single writer is another service."""


def consumed_topics(event_types: Iterable[type[Event]]) -> tuple[Topic, ...]:
    """The registry topics carrying any of ``event_types``, in registry order, each once.

    ``LookupError`` if a type is carried by no topic: a handler for it could never run.
    """
    wanted = {topic_for_event(event_type).name for event_type in event_types}
    return tuple(topic for topic in TOPICS.all() if topic.name in wanted)


def foreign_writes(service: str, event_types: Iterable[type[Event]]) -> list[str]:
    """One line per emitted type whose topic is written by another service (empty: all fine)."""
    problems = []
    for event_type in event_types:
        topic = topic_for_event(event_type)
        if topic.writer != service:
            problems.append(
                f"{service} emits {event_type.__name__} to {topic.name}, "
                f"whose single writer is {topic.writer}"
            )
    return problems


def check_writer(service: str, event: Event) -> Topic:
    """The topic ``event`` goes to, if ``service`` is its writer; else :class:`NotTheWriterError`."""
    topic = topic_for_event(event)
    if topic.writer != service:
        raise NotTheWriterError(
            f"{service} may not publish {type(event).__name__}: {topic.name} is written only by {topic.writer}"
        )
    return topic


def wiring_problems(service: str, handled: Iterable[type[Event]], emits: Iterable[type[Event]]) -> list[str]:
    """Why a service must not start: a handled type no topic carries, or a foreign write."""
    problems = []
    for event_type in handled:
        try:
            topic_for_event(event_type)
        except LookupError:
            problems.append(f"{service} handles {event_type.__name__}, which no topic carries")
    return problems + foreign_writes(service, emits)
