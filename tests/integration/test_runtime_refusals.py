"""A record the broker refuses for good no longer holds back the events after it.

On the real broker and a service database migrated as at start: a row over the producer's
``max_request_size`` (1 MiB; aiokafka refuses it in ``send()``) is sent alone, refused again,
parked in ``outbox_refused`` with a dead letter on the service's dead-letter topic, and the
rows after it are published in order. ``socialdesk outbox retry`` puts it back at the end
of the queue; refused again, it is parked again and still blocks nothing.

That the relay still holds on a broker away: test_runtime's dead-broker test; on a missing
topic: test_runtime_broker_loss.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from socialdesk_ingest.bootstrap import SPEC
from socialdesk_runtime.cli import app
from socialdesk_runtime.db import UnitOfWorkFactory, outbox_refused_table, outbox_table
from socialdesk_runtime.embedded import EmbeddedKafka
from socialdesk_runtime.kafka import make_producer
from socialdesk_runtime.metrics import RuntimeMetrics
from socialdesk_runtime.outbox import OutboxRelay
from socialdesk_runtime.outbox_refusals import send_in_order
from socialdesk_runtime.tests.events import received
from socialdesk_schemas import TOPICS, MessageReceived, dead_letter_topic
from tests.integration.runtime_helpers import CONNECTIONS_RETURNED
from tests.integration.test_runtime import _json_or_none, _texts_of, drain
from tests.support import service_store

pytestmark = [pytest.mark.integration, *CONNECTIONS_RETURNED]

BIG_TEXT = "x" * (1024 * 1024 + 50_000)  # over aiokafka's default max_request_size of 1 MiB


@pytest.fixture
async def engine(fresh_db: str) -> AsyncIterator[AsyncEngine]:
    async with service_store(fresh_db, SPEC) as (eng, _):
        yield eng


@pytest.fixture
async def producer(kafka: EmbeddedKafka) -> AsyncIterator[AIOKafkaProducer]:
    prod = make_producer(kafka.bootstrap_servers, client_id="refusals-test")
    await prod.start()
    yield prod
    await prod.stop()


async def _emit(engine: AsyncEngine, *events: MessageReceived) -> None:
    async with UnitOfWorkFactory(engine)() as uow:
        for e in events:
            uow.emit(e)
        await uow.commit()


async def _publish_all(relay: OutboxRelay) -> None:
    """Publish batches until none is left (a refusal ends a batch early; bounded anyway)."""
    for _ in range(10):
        if await relay.publish_pending() == 0:
            return
    raise AssertionError("the relay still had rows after 10 batches")


async def _refused(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as conn:
        return list(await conn.execute(select(outbox_refused_table).order_by(outbox_refused_table.c.id)))


async def _outbox(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as conn:
        return list(await conn.execute(select(outbox_table).order_by(outbox_table.c.id)))


async def _cli(*args: str) -> Any:
    return await asyncio.to_thread(CliRunner().invoke, app, ["outbox", *args])


def _dead_letters_of(event_id: uuid.UUID, values: list[bytes]) -> list[dict[str, object]]:
    return [d for d in map(_json_or_none, values) if d and d.get("event_id") == str(event_id)]


async def test_a_record_too_large_is_parked_with_a_dead_letter_and_later_events_go_on(
    kafka: EmbeddedKafka, engine: AsyncEngine, producer: AIOKafkaProducer, fresh_db: str
) -> None:
    ticket = uuid.uuid4()
    big = received(ticket_id=ticket, text=BIG_TEXT)
    await _emit(engine, received(ticket_id=ticket, text="A"), big, received(ticket_id=ticket, text="C"))
    big_id = next(r.id for r in await _outbox(engine) if r.event_id == big.event_id)
    metrics = RuntimeMetrics.create(f"r{uuid.uuid4().hex[:6]}")
    relay = OutboxRelay(engine, producer, metrics, service="ingest")
    try:
        await _publish_all(relay)
    finally:
        await relay.close()

    values = await drain(kafka, TOPICS.messages.name, until=lambda got: len(_texts_of(ticket, got)) >= 2)
    assert _texts_of(ticket, values) == ["A", "C"], "the events around the refused one, in order"
    (parked,) = await _refused(engine)
    assert (parked.id, parked.event_id, parked.topic) == (big_id, big.event_id, TOPICS.messages.name)
    assert orjson.loads(parked.value)["text"] == BIG_TEXT, "the payload is kept for a retry"
    assert "MessageSizeTooLargeError" in parked.error
    outbox = await _outbox(engine)
    assert big.event_id not in {r.event_id for r in outbox}
    assert all(r.published_at is not None for r in outbox), "nothing held back"
    assert metrics.outbox_refused_events._value.get() == 1
    assert metrics.outbox_refused_rows._value.get() == 1, "the alert's gauge: one row waits"

    dlq = dead_letter_topic("ingest").name
    values = await drain(kafka, dlq, until=lambda got: bool(_dead_letters_of(big.event_id, got)))
    (letter,) = _dead_letters_of(big.event_id, values)
    assert letter["reason"] == "refused_by_broker"
    assert letter["service"] == "ingest"
    assert (letter["source_topic"], letter["outbox_id"]) == (TOPICS.messages.name, big_id)
    assert letter["size_bytes"] == len(parked.value) > 1024 * 1024
    assert "MessageSizeTooLargeError" in letter["error"]
    assert "payload" not in letter, "the dead letter describes the record, it does not carry it"

    listed = await _cli("refused", "--service", "ingest", "--database-url", fresh_db)
    assert listed.exit_code == 0, listed.output
    assert "ingest: 1 refused" in listed.output
    assert (
        f"id {big_id}  {TOPICS.messages.name}  event {big.event_id}  {len(parked.value)} bytes"
        in listed.output
    )

    # The operator retries it (say the limit was raised): back at the end of the queue,
    # behind D. This broker still refuses it: parked again, and D is not held back.
    await _emit(engine, received(ticket_id=ticket, text="D"))
    retried = await _cli("retry", "--service", "ingest", "--database-url", fresh_db, "--id", str(big_id))
    assert retried.exit_code == 0, retried.output
    assert "ingest: 1 refused rows back in the outbox" in retried.output
    assert await _refused(engine) == []
    back = [r for r in await _outbox(engine) if r.published_at is None]
    assert [r.event_id for r in back][-1] == big.event_id, "retried rows go to the end of the queue"
    relay = OutboxRelay(engine, producer, metrics, service="ingest")
    try:
        await relay.prune(datetime.now(UTC))
        assert metrics.outbox_refused_rows._value.get() == 0, "retried: the alert clears"
        await _publish_all(relay)
    finally:
        await relay.close()
    assert metrics.outbox_refused_rows._value.get() == 1
    (again,) = await _refused(engine)
    assert again.event_id == big.event_id and again.id > big_id, "parked again under its new outbox id"
    assert metrics.outbox_refused_events._value.get() == 2
    values = await drain(kafka, TOPICS.messages.name, until=lambda got: len(_texts_of(ticket, got)) >= 3)
    assert _texts_of(ticket, values) == ["A", "C", "D"]


async def test_retry_of_an_id_that_is_not_parked_fails_and_says_so(fresh_db: str) -> None:
    async with service_store(fresh_db, SPEC):
        pass  # migrated: an empty outbox_refused
    unknown = await _cli("retry", "--service", "ingest", "--database-url", fresh_db, "--id", "7")
    assert unknown.exit_code == 1
    assert "ingest: 0 refused rows back in the outbox" in unknown.output
    assert "1 of the given ids are not refused rows" in unknown.output


@pytest.mark.parametrize("one_by_one", [False, True])
async def test_send_in_order_answers_the_prefix_then_the_refusal_and_sends_nothing_after_it(
    producer: AIOKafkaProducer, one_by_one: bool
) -> None:
    """Both ways a relay sends a batch (pipelined, or one row's answer awaited before the
    next is sent, after a batch refusal): the rows before a refused one are answered by the
    real broker, the refusal is the last result, the rows after it are not sent."""
    topic = TOPICS.messages.name

    class Row:
        def __init__(self, id: int, value: bytes) -> None:
            self.id, self.topic, self.key, self.value = id, topic, f"k{uuid.uuid4()}", value

    rows = [Row(1, b"{}"), Row(2, b"{}"), Row(3, BIG_TEXT.encode()), Row(4, b"{}")]
    results = await send_in_order(producer, rows, one_by_one=one_by_one)
    assert len(results) == 3
    assert [getattr(r, "topic", None) for r in results[:2]] == [topic, topic]
    assert type(results[2]).__name__ == "MessageSizeTooLargeError"
