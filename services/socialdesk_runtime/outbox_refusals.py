"""Outbox rows the broker refuses for good: which errors say so, and where such a row goes.

A record can be refused for what it is: larger than the producer's ``max_request_size``
(aiokafka raises ``MessageSizeTooLargeError`` from ``send()`` itself, before any future) or
the broker's ``message.max.bytes`` (MESSAGE_TOO_LARGE), corrupt or invalid, a timestamp out
of range. Sending it again fails the same way for ever, and as the relay publishes in id
order it would hold back every later event of the service. The contract for poison is the
dead-letter topic and moving on, so such a row is parked, after two steps:

- it is confirmed first: refused inside a batch, the row is sent again *alone* (nothing
  else in flight), since a batch can be refused for the batch (RECORD_LIST_TOO_LARGE, a
  broker with a small limit). Accepted alone, it is simply published;
- refused alone too, in one transaction on the relay's lock connection it moves to
  ``outbox_refused`` (payload and error kept there), leaves ``outbox``, and a dead letter
  describing it is written to the outbox behind everything pending, so it goes out in
  order. The dead letter carries no payload: the payload is what was too big.

Errors of infrastructure (:func:`~socialdesk_runtime.errors.is_transient`) and of
configuration (authorization, an unknown topic) are not the record's fault: on those the
relay keeps holding, as before, until someone fixes the cause.

``socialdesk outbox refused`` lists parked rows; ``socialdesk outbox retry`` puts them back
at the end of the queue (say after the broker's limit was raised).
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    BrokerResponseError,
    CorruptRecordException,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
)
from aiokafka.structs import RecordMetadata
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from socialdesk_runtime.metrics import RuntimeMetrics
from socialdesk_schemas import dead_letter_topic

__all__ = [
    "REFUSED_REASON",
    "RefusedRow",
    "count_refused",
    "is_refused_record",
    "list_refused",
    "park",
    "retry_refused",
    "send_in_order",
    "settle_refused",
]

log = logging.getLogger(__name__)

#: The ``reason`` of the dead letter a parked row leaves (the consumer's are ``malformed``
#: and ``handler``).
REFUSED_REASON = "refused_by_broker"

_REFUSED_TYPES = (
    MessageSizeTooLargeError,  # 10 MESSAGE_TOO_LARGE, and the client's own size check
    CorruptRecordException,  # 2 CORRUPT_MESSAGE (InvalidMessageError is the same class)
    RecordListTooLargeError,  # 18 RECORD_LIST_TOO_LARGE
    # Not INVALID_TIMESTAMP (32): the producer stamps records with this host's clock, so it
    # says the clock is off against the broker's limits, not that the row is bad: hold.
)
# The same refusals by Kafka error code, for a client that maps a code to another class.
# INVALID_RECORD (87) has no class in aiokafka 0.14: it arrives as UnknownError (code -1)
# and so keeps holding, like any error the relay cannot read.
_REFUSED_ERRNOS = frozenset({2, 10, 18, 87})

_PARK = text(
    "WITH gone AS (DELETE FROM outbox WHERE id = :id "
    "RETURNING id, topic, key, value, event_id, created_at) "
    "INSERT INTO outbox_refused (id, topic, key, value, event_id, created_at, refused_at, error) "
    "SELECT id, topic, key, value, event_id, created_at, :now, :error FROM gone "
    "RETURNING id, topic, key, event_id, octet_length(value) AS size_bytes"
)
_DEAD_LETTER = text("INSERT INTO outbox (topic, key, value) VALUES (:topic, :key, :value)")


class OutboxRow(Protocol):
    """What the relay selected of one outbox row."""

    @property
    def id(self) -> int: ...
    @property
    def topic(self) -> str: ...
    @property
    def key(self) -> str: ...
    @property
    def value(self) -> bytes: ...


def is_refused_record(exc: BaseException) -> bool:
    """True when the broker, or aiokafka before it, refuses this record (or its batch) for
    what it is: the same record would be refused again, however long the relay waits.

    False for anything else: a broker or network away (transient), a topic not there or
    not ours to write (configuration); those are fixed outside, so the relay holds.

    Usage::

        if is_refused_record(error):
            ...  # send the row alone; park it if refused again
    """
    if isinstance(exc, _REFUSED_TYPES):
        return True
    return isinstance(exc, BrokerResponseError) and getattr(exc, "errno", None) in _REFUSED_ERRNOS


async def send_in_order(
    producer: AIOKafkaProducer, rows: Sequence[OutboxRow], *, one_by_one: bool = False
) -> list[RecordMetadata | BaseException]:
    """Send ``rows`` in order and wait for every answer: one result per row sent.

    A ``send()`` that raises ends the list with its exception and the rows after it are not
    sent, so the rows before it are still answered and the acknowledged prefix marked.

    ``one_by_one``: each row's answer is awaited before the next is sent (a round trip per
    row). For a broker that refuses the producer's record batches whose rows pass alone: a
    refused batch frees its partition and the producer sends the next one, so later events
    would land before the refused ones."""
    results: list[RecordMetadata | BaseException] = []
    futures: list[asyncio.Future[RecordMetadata]] = []
    refused: BaseException | None = None
    for row in rows:
        try:
            future = await producer.send(row.topic, key=row.key.encode(), value=row.value)
            if one_by_one:
                results.append(await future)
            else:
                futures.append(future)
        except Exception as exc:
            refused = exc
            break
    results += await asyncio.gather(*futures, return_exceptions=True)
    return results if refused is None else [*results, refused]


async def settle_refused(
    conn: AsyncConnection,
    producer: AIOKafkaProducer,
    row: OutboxRow,
    error: BaseException,
    *,
    service: str | None,
    metrics: RuntimeMetrics,
) -> RecordMetadata | None:
    """``row`` was refused (``error``) in a batch: send it alone to tell the record's fault
    from the batch's. Returns the broker's answer when it is accepted alone (the caller marks
    it published), None once parked; raises whatever is not a refusal (the relay holds).

    Nothing of the relay is in flight meanwhile: the batch's answers were all awaited."""
    await conn.commit()  # no transaction held open while the broker answers
    log.warning("outbox row %d refused in a batch (%s); sending it alone", row.id, error)
    try:
        return await (await producer.send(row.topic, key=row.key.encode(), value=row.value))
    except Exception as again:
        if not is_refused_record(again):
            raise
        await park(conn, row.id, again, service=service, now=datetime.now(UTC))
        metrics.outbox_refused_events.inc()
        metrics.outbox_refused_rows.set(await count_refused(conn))
        await conn.commit()
        return None


async def park(
    conn: AsyncConnection, outbox_id: int, error: BaseException, *, service: str | None, now: datetime
) -> None:
    """Move a refused row to ``outbox_refused`` and write its dead letter, in one transaction.

    Without a ``service`` there is no dead-letter topic to write to. A row that is itself a
    dead letter gets none either: one refused in turn would beget another, for ever."""
    message = "".join(traceback.format_exception_only(error)).strip()[:4000]
    parked = (await conn.execute(_PARK, {"id": outbox_id, "now": now, "error": message})).one()
    dead_letter = None if service is None else dead_letter_topic(service).name
    if dead_letter is not None and not parked.topic.startswith("deadletter."):
        value = {
            "service": service,
            "reason": REFUSED_REASON,
            "error": message,
            "source_topic": parked.topic,
            "event_id": None if parked.event_id is None else str(parked.event_id),
            "outbox_id": parked.id,
            "size_bytes": parked.size_bytes,
            "failed_at": now.isoformat(),
        }
        await conn.execute(
            _DEAD_LETTER, {"topic": dead_letter, "key": parked.key, "value": orjson.dumps(value)}
        )
    await conn.commit()
    log.error(
        "outbox row %d on %s (event %s, %d bytes) refused for good, sent alone too; parked in "
        "outbox_refused%s: %s",
        parked.id,
        parked.topic,
        parked.event_id,
        parked.size_bytes,
        f", dead letter on {dead_letter}" if dead_letter else "",
        message,
    )


async def count_refused(conn: AsyncConnection) -> int:
    """How many rows wait in ``outbox_refused`` (the alert's gauge: they stay until retried)."""
    return int((await conn.execute(text("SELECT count(*) FROM outbox_refused"))).scalar_one())


@dataclass(frozen=True)
class RefusedRow:
    """A parked row as ``socialdesk outbox refused`` lists it (its payload stays put)."""

    id: int
    topic: str
    event_id: str | None
    size_bytes: int
    refused_at: datetime
    error: str


async def list_refused(conn: AsyncConnection) -> list[RefusedRow]:
    """Every parked row of this database, oldest outbox id first."""
    rows = await conn.execute(
        text(
            "SELECT id, topic, event_id, octet_length(value) AS size_bytes, refused_at, error "
            "FROM outbox_refused ORDER BY id"
        )
    )
    return [
        RefusedRow(
            r.id,
            r.topic,
            None if r.event_id is None else str(r.event_id),
            r.size_bytes,
            r.refused_at,
            r.error,
        )
        for r in rows
    ]


async def retry_refused(conn: AsyncConnection, ids: Sequence[int] | None = None) -> list[int]:
    """Put parked rows (all, or those of ``ids``) back into the outbox as new rows, at the end
    of the queue, in their old order; returns their new outbox ids. Refused again, a row is
    parked again (under its new id) and holds nothing back. The caller commits."""
    where = ""
    params: dict[str, Any] = {}
    if ids is not None:
        where, params = "WHERE id = ANY(CAST(:ids AS bigint[]))", {"ids": list(ids)}
    result = await conn.execute(
        text(
            f"WITH back AS (DELETE FROM outbox_refused {where} "
            "RETURNING id, topic, key, value, event_id) "
            "INSERT INTO outbox (topic, key, value, event_id) "
            "SELECT topic, key, value, event_id FROM back ORDER BY id RETURNING id"
        ),
        params,
    )
    return sorted(int(r.id) for r in result)
