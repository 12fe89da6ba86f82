"""Bytes on the wire ⇄ events. JSON (UTF-8), one event per Kafka record."""

from __future__ import annotations

from typing import Any

import orjson

from socialdesk_schemas._envelope import Event
from socialdesk_schemas.topics import ALL_EVENT_TYPES

_BY_TYPE: dict[str, type[Event]] = {cls.model_fields["event_type"].default: cls for cls in ALL_EVENT_TYPES}


class UnknownEventType(ValueError):
    """The record is an event of a type this build does not know (ignore it, count it)."""

    def __init__(self, event_type: object) -> None:
        super().__init__(f"unknown event_type {event_type!r}")
        self.event_type = event_type


def encode_event(event: Event) -> bytes:
    """Serialise an event for a Kafka record value."""
    return orjson.dumps(event.model_dump(mode="json"))


def peek_event_type(payload: dict[str, Any]) -> str:
    """The declared type of a decoded JSON object, or raise ``ValueError``."""
    event_type = payload.get("event_type")
    if not isinstance(event_type, str):
        raise ValueError("record has no string event_type")
    return event_type


def decode_event(raw: bytes) -> Event:
    """Parse a record value into its event class.

    Raises ``UnknownEventType`` for a well-formed event of a type we do not know, and
    ``ValueError`` (including pydantic's ``ValidationError``) for anything malformed.
    """
    try:
        payload = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"record is not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise ValueError("record is not a JSON object")
    cls = _BY_TYPE.get(peek_event_type(payload))
    if cls is None:
        raise UnknownEventType(payload.get("event_type"))
    return cls.model_validate(payload)
