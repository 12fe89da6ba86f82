"""Events for the runtime's tests (unit and integration), with random ids each time."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from aiokafka import ConsumerRecord

from socialdesk_schemas import MessageReceived

__all__ = ["consumer_records", "received"]


def received(ticket_id: uuid.UUID | None = None, text: str = "hello") -> MessageReceived:
    """A customer's direct message on X to OurBus, as ingest publishes it."""
    now = datetime(2026, 1, 1, 9, tzinfo=UTC)
    return MessageReceived(
        producer="ingest",
        occurred_at=now,
        ticket_id=ticket_id or uuid.uuid4(),
        correlation_id=uuid.uuid4(),
        message_id=uuid.uuid4(),
        conversation_id=uuid.uuid4(),
        customer_id=uuid.uuid4(),
        brand="ourbus",
        platform="x",
        kind="dm",
        platform_message_id=uuid.uuid4().hex,
        author={"platform_user_id": "u"},
        text=text,
        received_at=now,
    )


def consumer_records(
    values: list[bytes], *, topic: str = "ticket.messages", first_offset: int = 0
) -> list[ConsumerRecord[bytes, bytes]]:
    """Record values as one partition's consecutive records, as a consumer's batch holds them."""
    return [
        ConsumerRecord(
            topic=topic,
            partition=0,
            offset=offset,
            timestamp=0,
            timestamp_type=0,
            key=b"k",
            value=value,
            checksum=None,
            serialized_key_size=1,
            serialized_value_size=len(value),
            headers=(),
        )
        for offset, value in enumerate(values, start=first_offset)
    ]
