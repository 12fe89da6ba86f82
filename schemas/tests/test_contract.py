"""The contract: events, the codec, the topic registry, and the exported JSON Schema."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from socialdesk_schemas import (
    ALL_EVENT_TYPES,
    TOPICS,
    MessageReceived,
    TicketAssigned,
    UnknownEventType,
    decode_event,
    encode_event,
    topic_for_event,
)
from socialdesk_schemas.export import compatibility_problems, current_schemas, dumps, json_dir, schema_of
from socialdesk_schemas.topics import SERVICES, all_topics


def _received(**over: object) -> MessageReceived:
    fields: dict[str, object] = {
        "producer": "ingest",
        "occurred_at": datetime(2026, 1, 1, 9, tzinfo=UTC),
        "ticket_id": uuid.uuid4(),
        "correlation_id": uuid.uuid4(),
        "message_id": uuid.uuid4(),
        "conversation_id": uuid.uuid4(),
        "customer_id": uuid.uuid4(),
        "brand": "ourbus",
        "platform": "x",
        "kind": "dm",
        "platform_message_id": "m1",
        "author": {"platform_user_id": "u1", "followers": 10},
        "text": "¿Dónde está mi bus? 🚌",
        "received_at": datetime(2026, 1, 1, 9, tzinfo=UTC),
    }
    fields.update(over)
    return MessageReceived.model_validate(fields)


def test_codec_round_trips_every_field_including_non_ascii() -> None:
    event = _received()
    assert decode_event(encode_event(event)) == event


def test_events_are_frozen_facts() -> None:
    event = _received()
    with pytest.raises(ValidationError):
        event.brand = "rally"  # type: ignore[misc]


def test_occurred_at_is_normalised_to_utc_and_naive_times_are_refused() -> None:
    local = datetime(2026, 1, 1, 10, tzinfo=timezone(timedelta(hours=1)))
    assert _received(occurred_at=local).occurred_at == datetime(2026, 1, 1, 9, tzinfo=UTC)
    with pytest.raises(ValidationError):
        _received(occurred_at=datetime(2026, 1, 1, 9))


def test_consumers_ignore_fields_they_do_not_know() -> None:
    payload = json.loads(encode_event(_received()))
    payload["added_in_a_later_version"] = {"x": 1}
    decoded = decode_event(json.dumps(payload).encode())
    assert isinstance(decoded, MessageReceived)


def test_unknown_event_type_is_distinguished_from_malformed() -> None:
    with pytest.raises(UnknownEventType):
        decode_event(b'{"event_type": "SomethingNew", "event_id": "x"}')
    with pytest.raises(ValueError, match="not JSON"):
        decode_event(b"\xff\xfe not json")
    with pytest.raises(ValueError, match="validation error"):
        decode_event(b'{"event_type": "MessageReceived"}')
    with pytest.raises(ValueError, match="object"):
        decode_event(b"[1, 2]")


def test_caused_event_carries_correlation_and_causation() -> None:
    first = _received()
    nxt = first.caused(
        TicketAssigned,
        producer="assigner",
        occurred_at=first.occurred_at,
        brand="ourbus",
        platform="x",
        agent_id="a1",
        agent_level="L1",
        priority="high",
        received_at=first.received_at,
    )
    assert nxt.ticket_id == first.ticket_id
    assert nxt.correlation_id == first.correlation_id
    assert nxt.causation_id == first.event_id


def test_every_event_has_exactly_one_topic_and_every_topic_one_known_writer() -> None:
    for cls in ALL_EVENT_TYPES:
        carriers = [t for t in TOPICS.all() if t.carries(cls)]
        assert len(carriers) == 1, cls.__name__
        assert topic_for_event(cls) is carriers[0]
    names = [t.name for t in all_topics()]
    assert len(names) == len(set(names))
    assert {t.writer for t in all_topics()} <= set(SERVICES)


def test_event_types_are_explicit_and_unique() -> None:
    types = [cls.model_fields["event_type"].default for cls in ALL_EVENT_TYPES]
    assert len(types) == len(set(types))
    assert all(isinstance(t, str) and t for t in types)


def test_exported_json_schema_is_not_stale() -> None:
    """Change an event, then run `make schemas` and commit the export."""
    base = json_dir()
    stale = [
        name
        for name, schema in current_schemas().items()
        if not (base / name).exists() or (base / name).read_text() != dumps(schema)
    ]
    assert not stale, f"stale JSON Schema export, run `make schemas`: {stale}"


@pytest.mark.parametrize("cls", ALL_EVENT_TYPES, ids=lambda c: c.__name__)
def test_current_schema_is_backward_compatible_with_its_committed_version(cls: type) -> None:
    name = cls.model_fields["event_type"].default
    frozen = json_dir() / "history" / f"{name}.v{cls.SCHEMA_VERSION}.json"
    assert frozen.exists(), f"no committed history for {name} v{cls.SCHEMA_VERSION}: run `make schemas`"
    problems = compatibility_problems(json.loads(frozen.read_text()), schema_of(cls))
    assert not problems, f"{name} broke v{cls.SCHEMA_VERSION}: {problems}; bump SCHEMA_VERSION instead"


def test_compatibility_check_catches_breaking_changes() -> None:
    old = {
        "properties": {"a": {"type": "string"}, "b": {"enum": ["x", "y"]}, "c": {"type": "integer"}},
        "required": ["a"],
    }
    assert compatibility_problems(old, old) == []
    removed = {"properties": {"a": {"type": "string"}, "b": {"enum": ["x", "y"]}}, "required": ["a"]}
    assert compatibility_problems(old, removed) == ["c: removed"]
    narrowed = {**old, "properties": {**old["properties"], "b": {"enum": ["x"]}}}
    assert "b: no longer accepts ['enum:y']" in compatibility_problems(old, narrowed)
    required = {**old, "required": ["a", "c"]}
    assert compatibility_problems(old, required) == ["c: newly required"]
    widened = {
        **old,
        "properties": {**old["properties"], "c": {"anyOf": [{"type": "integer"}, {"type": "null"}]}},
    }
    assert compatibility_problems(old, widened) == []
