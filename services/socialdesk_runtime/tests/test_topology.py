"""Topics follow from the handler table; a topic has one writer, checked at start and at emit."""

from __future__ import annotations

import pytest

from socialdesk_runtime.db import UnitOfWork
from socialdesk_runtime.tests.events import received
from socialdesk_runtime.topology import (
    NotTheWriterError,
    check_writer,
    consumed_topics,
    foreign_writes,
    wiring_problems,
)
from socialdesk_schemas import (
    TOPICS,
    Event,
    MessageClassified,
    MessageReceived,
    SlaBreached,
    SpikeDetected,
    TicketAssigned,
    TicketResolved,
    TrendDetected,
)


class NotInTheRegistry(Event):
    event_type: str = "NotInTheRegistry"


def test_consumed_topics_are_the_registry_topics_of_the_handled_types() -> None:
    assert consumed_topics([MessageReceived]) == (TOPICS.messages,)
    # Two types of one topic give that topic once; order is the registry's, not the table's.
    assert consumed_topics([TicketResolved, TrendDetected, SpikeDetected, TicketAssigned]) == (
        TOPICS.trends,
        TOPICS.assignments,
        TOPICS.activity,
    )
    assert consumed_topics([]) == ()


def test_a_handled_type_no_topic_carries_is_a_wiring_problem() -> None:
    with pytest.raises(LookupError):
        consumed_topics([NotInTheRegistry])
    assert wiring_problems("assigner", [NotInTheRegistry], []) == [
        "assigner handles NotInTheRegistry, which no topic carries"
    ]


def test_emitting_to_a_topic_of_another_writer_is_refused() -> None:
    assert foreign_writes("classifier", [MessageClassified, TrendDetected]) == []
    assert foreign_writes("classifier", [MessageClassified, SlaBreached]) == [
        "classifier emits SlaBreached to sla.events, whose single writer is sla-monitor"
    ]
    assert wiring_problems("classifier", [MessageReceived], [SlaBreached]) == foreign_writes(
        "classifier", [SlaBreached]
    )


def test_check_writer_returns_the_topic_of_its_own_events() -> None:
    event = received()
    assert check_writer("ingest", event) == TOPICS.messages
    with pytest.raises(NotTheWriterError, match=r"ticket\.messages is written only by ingest"):
        check_writer("assigner", event)


def test_a_unit_of_work_that_knows_its_service_refuses_a_foreign_emit() -> None:
    # emit() only collects rows, so no database is needed to see the refusal.
    uow = UnitOfWork(engine=None, service="assigner")  # type: ignore[arg-type]  # emit touches no engine
    with pytest.raises(NotTheWriterError):
        uow.emit(received())
    assert uow.emitted == 0

    anonymous = UnitOfWork(engine=None)  # type: ignore[arg-type]  # as above
    anonymous.emit(received())  # no service given: no check (tests, tools)
    assert anonymous.emitted == 1
